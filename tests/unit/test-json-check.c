/*
 * Unit tests: JSON that cJSON reads differently from a strict reader
 * (src/json-check.c): strings holding \u0000 or a raw control character,
 * and names given twice, each found with its place; and what must not be
 * mistaken for them.
 */
#include "common.h"

#include "json-check.h"

#include "t.h"

/* json_check_strings on text (parsed by cJSON first, as its caller does). */
static enum json_check
strings(const char *text, char *where, size_t wsz)
{
	cJSON *j = cJSON_ParseWithLength(text, strlen(text));

	T_ASSERT(j != NULL);
	cJSON_Delete(j);
	return json_check_strings(text, strlen(text), where, wsz);
}

static int
dups(const char *text, char *where, size_t wsz)
{
	cJSON *j = cJSON_ParseWithLength(text, strlen(text));
	int rc;

	T_ASSERT(j != NULL);
	rc = json_check_duplicates(j, where, wsz);
	cJSON_Delete(j);
	return rc;
}

/* Issue 12, finding 9: "request_token\u0000zzz" is request_token to cJSON. */
static void
nul_in_a_string_is_found_with_its_place(void)
{
	char w[96];

	T_EQ_INT(strings("{\"params\":{\"name\":\"request_token\\u0000zzz\"}}",
		     w, sizeof(w)),
	    JSON_CHECK_NUL);
	T_EQ_STR(w, "params.name");
	T_EQ_INT(strings("{\"method\":\"ping\\u0000\"}", w, sizeof(w)),
	    JSON_CHECK_NUL);
	T_EQ_STR(w, "method");
	T_EQ_INT(strings("{\"a\":{\"s\":[\"x\",1,{\"t\":[\"\\u0000\"]}]}}", w,
		     sizeof(w)),
	    JSON_CHECK_NUL);
	T_EQ_STR(w, "a.s[2].t[0]");
	T_EQ_INT(strings("[{\"id\":1},{\"id\":\"\\u0000\"}]", w, sizeof(w)),
	    JSON_CHECK_NUL);
	T_EQ_STR(w, "[1].id");
	T_EQ_INT(strings("\"\\u0000\"", w, sizeof(w)), JSON_CHECK_NUL);
	T_EQ_STR(w, "");
}

static void
nul_in_a_member_name_is_found(void)
{
	char w[96];

	T_EQ_INT(strings("{\"params\":{\"na\\u0000me\":1}}", w, sizeof(w)),
	    JSON_CHECK_NUL);
	T_EQ_STR(w, "params.na\\u0000me (a member name)");
}

/* Only a real escape counts: "\\u0000" is a backslash and "u0000". */
static void
escaped_backslash_is_not_a_nul(void)
{
	char w[96];

	T_EQ_INT(strings("{\"x\":\"\\\\u0000\"}", w, sizeof(w)), JSON_CHECK_OK);
	T_EQ_INT(
	    strings("{\"x\":\"\\\\\\\\u0000\"}", w, sizeof(w)), JSON_CHECK_OK);
	T_EQ_INT(strings("{\"x\":\"\\u0001\\u00000\\\"\"}", w, sizeof(w)),
	    JSON_CHECK_NUL);
	T_EQ_INT(
	    strings("{\"x\":\"\\u0100 \\u1000 \\\"u0000\\\"\"}", w, sizeof(w)),
	    JSON_CHECK_OK);
	/* Braces and quotes inside strings are text, not structure. */
	T_EQ_INT(
	    strings("{\"a\":\"}],{\\\"\",\"b\":[\"\\u0000\"]}", w, sizeof(w)),
	    JSON_CHECK_NUL);
	T_EQ_STR(w, "b[0]");
}

/* RFC 8259 section 7: control characters in strings must be escaped. */
static void
raw_control_character_is_found(void)
{
	char w[96];

	T_EQ_INT(strings("{\"p\":{\"x\":\"a\tb\"}}", w, sizeof(w)),
	    JSON_CHECK_CONTROL);
	T_EQ_STR(w, "p.x");
	T_EQ_INT(strings("{\"x\":\"a\\tb\"}", w, sizeof(w)), JSON_CHECK_OK);
	/* White space between tokens is not in a string. */
	T_EQ_INT(strings("{\t\"x\" :\r\n 1}", w, sizeof(w)), JSON_CHECK_OK);
}

static void
place_is_cut_to_fit(void)
{
	char w[12];

	T_EQ_INT(
	    strings("{\"abcdefghijklmnop\":{\"q\":\"\\u0000\"}}", w, sizeof(w)),
	    JSON_CHECK_NUL);
	T_EQ_INT(strlen(w), sizeof(w) - 1);
	T_EQ_STR(w + sizeof(w) - 4, "...");
	T_EQ_INT(json_check_strings("\"\\u0000\"", 8, NULL, 0), JSON_CHECK_NUL);
}

/* Issue 12, finding 9: cJSON keeps both members; look-ups get the first. */
static void
duplicate_key_is_found_with_its_place(void)
{
	char w[96];

	T_EQ_INT(
	    dups("{\"params\":{\"name\":\"a\",\"name\":\"b\"}}", w, sizeof(w)),
	    JSON_CHECK_DUPLICATE);
	T_EQ_STR(w, "params.name");
	T_EQ_INT(dups("{\"id\":1,\"method\":\"x\",\"id\":2}", w, sizeof(w)),
	    JSON_CHECK_DUPLICATE);
	T_EQ_STR(w, "id");
	T_EQ_INT(
	    dups("[1,{\"a\":[{},{\"k\":1,\"j\":2,\"k\":3}]}]", w, sizeof(w)),
	    JSON_CHECK_DUPLICATE);
	T_EQ_STR(w, "[1].a[1].k");
}

/* Large objects take the sorted path: same answer. */
static void
duplicate_key_in_a_large_object_is_found(void)
{
	char text[4096], w[96];
	size_t len = 0;
	int i;

	len += (size_t)snprintf(text + len, sizeof(text) - len, "{\"o\":{");
	for (i = 0; i < 200; i++)
		len += (size_t)snprintf(
		    text + len, sizeof(text) - len, "\"k%d\":%d,", i, i);
	len += (size_t)snprintf(text + len, sizeof(text) - len, "\"k117\":0}}");
	T_EQ_INT(dups(text, w, sizeof(w)), JSON_CHECK_DUPLICATE);
	T_EQ_STR(w, "o.k117");
	/* Without the repeat: none. */
	len -= strlen(",\"k117\":0}}");
	snprintf(text + len, sizeof(text) - len, "}}");
	T_EQ_INT(dups(text, w, sizeof(w)), JSON_CHECK_OK);
}

static void
same_key_in_different_objects_is_no_duplicate(void)
{
	char w[96];

	T_EQ_INT(
	    dups(
		"{\"a\":{\"k\":1},\"b\":{\"k\":2},\"c\":[{\"k\":1},{\"k\":2}]}",
		w, sizeof(w)),
	    JSON_CHECK_OK);
	T_EQ_STR(w, "");
	/* Names differ by case: two names (JSON is case-sensitive). */
	T_EQ_INT(dups("{\"k\":1,\"K\":2}", w, sizeof(w)), JSON_CHECK_OK);
	T_EQ_INT(dups("[]", w, sizeof(w)), JSON_CHECK_OK);
	T_EQ_INT(dups("7", w, 0), JSON_CHECK_OK);
}

int
main(void)
{
	T_RUN(nul_in_a_string_is_found_with_its_place);
	T_RUN(nul_in_a_member_name_is_found);
	T_RUN(escaped_backslash_is_not_a_nul);
	T_RUN(raw_control_character_is_found);
	T_RUN(place_is_cut_to_fit);
	T_RUN(duplicate_key_is_found_with_its_place);
	T_RUN(duplicate_key_in_a_large_object_is_found);
	T_RUN(same_key_in_different_objects_is_no_duplicate);
	return t_done();
}
