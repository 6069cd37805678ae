/*
 * Small cJSON readers shared by the core and the providers, so that each
 * file does not grow its own.
 */
#ifndef JANEE_JSON_H
#define JANEE_JSON_H

#include "common.h"

#include <cjson/cJSON.h>

/* Member k of object o when it is a string, else NULL (o may be NULL). */
const char *json_str(const cJSON *o, const char *k);

#endif
