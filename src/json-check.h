/*
 * JSON that cJSON accepts but reads differently from a strict reader (a
 * gateway, a filter in front of janee): cJSON ends a string at U+0000
 * ("request_token\u0000zzz" reads "request_token"), takes raw control
 * characters inside strings (RFC 8259 section 7 requires them escaped),
 * and keeps both members of a duplicate key, answering look-ups with the
 * first (RFC 8259 section 4: names SHOULD be unique; readers differ).
 * These find such text, so that a message is refused instead of being
 * read one way by janee and another way by its neighbours.
 */
#ifndef JANEE_JSON_CHECK_H
#define JANEE_JSON_CHECK_H

#include "common.h"

#include <cjson/cJSON.h>

enum json_check {
	JSON_CHECK_OK = 0,
	JSON_CHECK_NUL, /* a string holds \u0000 */
	JSON_CHECK_CONTROL, /* a string holds a raw control character */
	JSON_CHECK_DUPLICATE, /* an object has a name twice */
	JSON_CHECK_DEEP, /* nested deeper than cJSON allows */
};

/*
 * Look through the strings of text (n bytes), which cJSON has parsed as
 * one value (this only walks its tokens; it parses nothing cJSON did not
 * accept).  Returns JSON_CHECK_NUL or JSON_CHECK_CONTROL for the first
 * string with such a character, with its place in path: "params.name",
 * "[2].id", "params.arguments.scopes[1]"; a member name that holds it is
 * "params.arguments.<name>" with " (a member name)" after.  Names are as
 * written in text, cut to fit pathsz.
 */
enum json_check
json_check_strings(const char *text, size_t n, char *path, size_t pathsz);

/*
 * JSON_CHECK_DUPLICATE when an object anywhere in v has a member name
 * twice, with the place of the second in path ("params.name"); else
 * JSON_CHECK_OK.  Negative JANEE_ERR_NOMEM when memory runs out.
 */
int json_check_duplicates(const cJSON *v, char *path, size_t pathsz);

#endif
