/*
 * Opening janee's own page in the person's browser (`janee approvals
 * --open`, the desktop notification's action).
 *
 * TODO(harden): a minimal stand-in for janee_open_url (src/subprocess.c
 * on the `harden` branch, not yet on main): when that lands, browser_open
 * becomes a call to it and this file goes.  Same rules meanwhile:
 * xdg-open (which honours $BROWSER), an environment from an allow-list
 * (never JANEE_*), stdin and output on /dev/null, no descriptor but 0, 1
 * and 2, default signals, a session of its own; not waited for.
 */
#ifndef JANEE_BROWSER_H
#define JANEE_BROWSER_H

#include "common.h"

/* url must be one of janee's own http://127.0.0.1 links. */
int browser_open(const char *url) JANEE_WUR;

#endif
