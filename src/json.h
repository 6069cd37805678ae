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

/*
 * Add v to object o as k (json_put) or to array a (json_push), checked:
 * 0, or JANEE_ERR_NOMEM with v freed when v is NULL (a failed create) or
 * cannot be added.  So a chain of them builds a whole answer or none.
 */
int json_put(cJSON *o, const char *k, cJSON *v) JANEE_WUR;
int json_push(cJSON *a, cJSON *v) JANEE_WUR;

#endif
