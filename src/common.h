/*
 * Included first by every janee source file: the system headers we use
 * everywhere, the public headers, then the banned-call list.
 */
#ifndef JANEE_COMMON_H
#define JANEE_COMMON_H

#include "autoconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "janee/error.h"
#include "janee/provider.h"

#define JANEE_WUR __attribute__((warn_unused_result))
#define nitems(a) (sizeof(a) / sizeof((a)[0]))

#include "banned.h"

#endif
