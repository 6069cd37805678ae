/* Unit tests: durations, times, ids, hex, buffers, lists, lazy libraries. */
#include "common.h"

#include <curl/curl.h>

#include "buf.h"
#include "lazylib.h"
#include "util.h"

#include "t.h"

static void
duration_parses_units_and_sums(void)
{
	int64_t s = 0;

	T_EQ_INT(janee_duration_parse("90s", &s), 0);
	T_EQ_INT(s, 90);
	T_EQ_INT(janee_duration_parse("5m", &s), 0);
	T_EQ_INT(s, 300);
	T_EQ_INT(janee_duration_parse("1h30m", &s), 0);
	T_EQ_INT(s, 5400);
	T_EQ_INT(janee_duration_parse("2d", &s), 0);
	T_EQ_INT(s, 172800);
	T_EQ_INT(janee_duration_parse("600", &s), 0);
	T_EQ_INT(s, 600);
}

static void
duration_rejects_malformed(void)
{
	static const char *const bad[] = { "", "0", "0s", "-5m", "5", "5x", "m",
		"1.5h", "5m ", " 5m", "99999999999999999999", "4000d", "1h-",
		"h1" };
	int64_t s = 7;
	size_t i;

	for (i = 0; i < nitems(bad); i++) {
		janee_err_clear();
		if (strcmp(bad[i], "5") == 0)
			continue; /* bare seconds are valid */
		T_ASSERT(janee_duration_parse(bad[i], &s) == JANEE_ERR_USAGE);
	}
	T_EQ_INT(s, 7);
	janee_err_clear();
}

static void
duration_format_is_shortest_exact(void)
{
	char b[32];

	janee_duration_fmt(90, b, sizeof(b));
	T_EQ_STR(b, "1m30s");
	janee_duration_fmt(3600, b, sizeof(b));
	T_EQ_STR(b, "1h");
	janee_duration_fmt(86400 + 61, b, sizeof(b));
	T_EQ_STR(b, "1d1m1s");
}

static void
time_format_and_parse_round_trip(void)
{
	char t[JANEE_TIME_LEN];
	int64_t ms = 0, now = 1790000000000LL;

	janee_time_fmt(1764324099123LL, t);
	T_EQ_STR(t, "2025-11-28T10:01:39.123Z");
	T_EQ_INT(janee_time_parse(t, now, &ms), 0);
	T_EQ_INT(ms, 1764324099123LL);
	T_EQ_INT(janee_time_parse("2025-11-28", now, &ms), 0);
	T_EQ_INT(ms, 1764288000000LL);
	T_EQ_INT(janee_time_parse("2025-11-28T12:01:39+02:00", now, &ms), 0);
	T_EQ_INT(ms, 1764324099000LL);
	T_EQ_INT(janee_time_parse("24h", now, &ms), 0);
	T_EQ_INT(ms, now - 86400000LL);
	janee_time_fmt(0, t);
	T_EQ_STR(t, "1970-01-01T00:00:00.000Z");
}

static void
time_parse_rejects_malformed(void)
{
	static const char *const bad[] = { "2025-13-01", "2025-02-30",
		"2025-11-28T25:00:00Z", "2025-11-28T10:00:00Q", "yesterday",
		"2025-1-1", "" };
	int64_t ms = 5;
	size_t i;

	for (i = 0; i < nitems(bad); i++) {
		janee_err_clear();
		T_ASSERT(janee_time_parse(bad[i], 0, &ms) != 0);
	}
	T_EQ_INT(ms, 5);
	janee_err_clear();
}

static void
lease_ids_are_random_and_well_formed(void)
{
	char a[JANEE_LEASE_ID_LEN], b[JANEE_LEASE_ID_LEN];

	T_EQ_INT(janee_lease_id_new(a), 0);
	T_EQ_INT(janee_lease_id_new(b), 0);
	T_EQ_INT(strlen(a), 30);
	T_ASSERT(strncmp(a, "lse_", 4) == 0);
	T_ASSERT(strcmp(a, b) != 0);
	T_ASSERT(janee_lease_id_valid(a));
	T_ASSERT(!janee_lease_id_valid("lse_short"));
	T_ASSERT(!janee_lease_id_valid("lse_AAAAAAAAAAAAAAAAAAAAAAAAAA"));
	T_ASSERT(!janee_lease_id_valid(NULL));
}

static void
parse_int_is_strict(void)
{
	int64_t v = 0;

	T_EQ_INT(janee_parse_int("42", 0, 100, &v), 0);
	T_EQ_INT(v, 42);
	T_ASSERT(janee_parse_int("42x", 0, 100, &v) != 0);
	T_ASSERT(janee_parse_int("", 0, 100, &v) != 0);
	T_ASSERT(janee_parse_int("101", 0, 100, &v) != 0);
	T_ASSERT(janee_parse_int(" 1", 0, 100, &v) != 0);
	T_ASSERT(
	    janee_parse_int("99999999999999999999", 0, INT64_MAX, &v) != 0);
}

static void
buf_grows_and_enforces_its_bound(void)
{
	struct buf b;
	int i;

	buf_init(&b, 100);
	for (i = 0; i < 10; i++)
		T_EQ_INT(buf_add(&b, "0123456789", 10), 0);
	T_EQ_INT(b.len, 100);
	T_EQ_INT(b.p[100], '\0');
	/* One byte past the bound fails and frees everything. */
	T_ASSERT(buf_add(&b, "x", 1) != 0);
	T_ASSERT(b.p == NULL);
	T_EQ_INT(b.len, 0);
	janee_err_clear();
	T_EQ_INT(buf_printf(&b, "%s-%d", "a", 7), 0);
	T_EQ_STR(b.p, "a-7");
	buf_free(&b);
}

static void
strlist_normalizes_sorted_unique(void)
{
	struct janee_strlist l;

	memset(&l, 0, sizeof(l));
	T_EQ_INT(janee_strlist_add(&l, "write"), 0);
	T_EQ_INT(janee_strlist_add(&l, "read"), 0);
	T_EQ_INT(janee_strlist_add(&l, "write"), 0);
	janee_strlist_normalize(&l);
	T_EQ_INT(l.n, 2);
	T_EQ_STR(l.v[0], "read");
	T_EQ_STR(l.v[1], "write");
	T_ASSERT(janee_strlist_has(&l, "read"));
	T_ASSERT(!janee_strlist_has(&l, "admin"));
	janee_strlist_free(&l);
}

static void
first_error_message_wins(void)
{
	janee_err_clear();
	T_EQ_INT(
	    janee_err_set(JANEE_ERR_IO, "inner: %s", "disk"), JANEE_ERR_IO);
	janee_err_set(JANEE_ERR_IO, "outer");
	T_EQ_STR(janee_err_msg(JANEE_ERR_IO), "inner: disk");
	janee_err_clear();
	T_EQ_STR(janee_err_msg(JANEE_ERR_PERM), "unsafe permissions");
}

static void
err_wrap_adds_context_around_the_kept_message(void)
{
	int rc;

	janee_err_clear();
	rc = janee_err_set(JANEE_ERR_NETWORK, "connection refused");
	T_EQ_INT(janee_err_wrap(JANEE_ERR_CONFIG, "provider 'x': %s; retry",
		     janee_err_msg(rc)),
	    JANEE_ERR_CONFIG);
	T_EQ_STR(janee_err_msg(JANEE_ERR_CONFIG),
	    "provider 'x': connection refused; retry");
	/* Nothing kept: the code's text is wrapped. */
	janee_err_clear();
	janee_err_wrap(
	    JANEE_ERR_IO, "reading: %s", janee_err_msg(JANEE_ERR_IO));
	T_EQ_STR(janee_err_msg(JANEE_ERR_IO), "reading: input/output error");
	/* And what is wrapped stays the first message for set. */
	janee_err_set(JANEE_ERR_IO, "later");
	T_EQ_STR(janee_err_msg(JANEE_ERR_IO), "reading: input/output error");
	janee_err_clear();
}

static void
lazylib_missing_file_is_a_clear_lasting_error(void)
{
	static const char *const files[] = { "libjanee-no-such.so.9", NULL };
	static const char *const syms[] = { "strlen", NULL };
	void *addr[1];
	struct lazylib lib = { "libnothing", files, syms, addr, 0, "" };

	janee_err_clear();
	T_EQ_INT(lazylib_load(&lib), JANEE_ERR_UNSUPPORTED);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_UNSUPPORTED),
		     "cannot load libnothing (libjanee-no-such.so.9)") != NULL);
	janee_err_clear();
	/* Not tried again, and said again. */
	T_EQ_INT(lazylib_load(&lib), JANEE_ERR_UNSUPPORTED);
	T_ASSERT(
	    strstr(janee_err_msg(JANEE_ERR_UNSUPPORTED), "libnothing") != NULL);
	janee_err_clear();
}

static void
lazylib_missing_symbol_names_it(void)
{
	static const char *const files[] = { "libc.so.6", NULL };
	static const char *const syms[] = { "strlen", "janee_no_such_fn",
		NULL };
	void *addr[2];
	struct lazylib lib = { "libc", files, syms, addr, 0, "" };

	janee_err_clear();
	T_EQ_INT(lazylib_load(&lib), JANEE_ERR_UNSUPPORTED);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_UNSUPPORTED),
		     "libc has no janee_no_such_fn") != NULL);
	janee_err_clear();
}

static void
lazylib_tries_files_in_order_and_resolves(void)
{
	static const char *const files[] = { "libjanee-no-such.so.9",
		"libc.so.6", NULL };
	static const char *const syms[] = { "strlen", NULL };
	void *addr[1] = { NULL };
	struct lazylib lib = { "libc", files, syms, addr, 0, "" };
	size_t (*len)(const char *);

	T_EQ_INT(lazylib_load(&lib), 0);
	T_ASSERT(addr[0] != NULL);
	len = (size_t(*)(const char *))addr[0];
	T_EQ_INT(len("janee"), 5);
	T_EQ_INT(lazylib_load(&lib), 0);
}

static void
libcurl_opens_on_first_use(void)
{
	char *e;

	T_EQ_INT(janee_curl_load(), 0);
	e = curl_easy_escape(NULL, "a b&c", 0);
	T_ASSERT(e != NULL && strcmp(e, "a%20b%26c") == 0);
	curl_free(e);
}

int
main(void)
{
	T_RUN(duration_parses_units_and_sums);
	T_RUN(duration_rejects_malformed);
	T_RUN(duration_format_is_shortest_exact);
	T_RUN(time_format_and_parse_round_trip);
	T_RUN(time_parse_rejects_malformed);
	T_RUN(lease_ids_are_random_and_well_formed);
	T_RUN(parse_int_is_strict);
	T_RUN(buf_grows_and_enforces_its_bound);
	T_RUN(strlist_normalizes_sorted_unique);
	T_RUN(first_error_message_wins);
	T_RUN(err_wrap_adds_context_around_the_kept_message);
	T_RUN(lazylib_missing_file_is_a_clear_lasting_error);
	T_RUN(lazylib_missing_symbol_names_it);
	T_RUN(lazylib_tries_files_in_order_and_resolves);
	T_RUN(libcurl_opens_on_first_use);
	return t_done();
}
