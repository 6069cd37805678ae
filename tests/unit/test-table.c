/*
 * Unit tests: tables for people (src/table.c) sized to their content, with
 * agent text escaped before it is measured, and relative times.
 */
#include "common.h"

#include "table.h"

#include "t.h"

/* What table_print writes, as a string (the caller frees). */
static char *
printed(const struct table *t, const char *empty)
{
	char *s = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&s, &n);

	if (fp == NULL)
		return NULL;
	table_print(t, fp, empty);
	fclose(fp);
	return s;
}

static void
columns_are_as_wide_as_their_widest_cell(void)
{
	static const char *const head[] = { "ID", "STATE", "SCOPES", NULL };
	static const char *const r1[] = { "lse_a", "active", "read" };
	static const char *const r2[] = { "lse_bbbbbb", "ok", "read write" };
	struct table t;
	char *s;

	table_init(&t, head);
	T_EQ_INT(table_add(&t, r1), 0);
	T_EQ_INT(table_add(&t, r2), 0);
	s = printed(&t, "none");
	T_EQ_STR(s,
	    "ID          STATE   SCOPES\n"
	    "lse_a       active  read\n"
	    "lse_bbbbbb  ok      read write\n");
	free(s);
	table_free(&t);
}

static void
cells_are_escaped_before_they_are_measured(void)
{
	static const char *const head[] = { "A", "B", NULL };
	static const char *const r1[] = { "x\ny", "caf\xc3\xa9" };
	static const char *const r2[] = { NULL, "z" };
	struct table t;
	char *s;

	table_init(&t, head);
	T_EQ_INT(table_add(&t, r1), 0);
	T_EQ_INT(table_add(&t, r2), 0);
	s = printed(&t, "none");
	/* "x\ny" is four columns once escaped; NULL is "-"; é is one. */
	T_EQ_STR(s,
	    "A     B\n"
	    "x\\ny  caf\xc3\xa9\n"
	    "-     z\n");
	free(s);
	table_free(&t);
}

static void
an_empty_table_says_so_alone(void)
{
	static const char *const head[] = { "ID", NULL };
	struct table t;
	char *s;

	table_init(&t, head);
	s = printed(&t, "no leases");
	T_EQ_STR(s, "no leases\n");
	free(s);
	table_free(&t);
}

static void
times_are_said_relative_to_now(void)
{
	static const struct {
		int64_t d;
		const char *want;
	} cases[] = { { 0, "now" }, { 999, "now" }, { 45000, "in 45s" },
		{ -45000, "45s ago" }, { 599999, "in 9m" },
		{ 600000, "in 10m" }, { -3 * 3600000LL, "3h ago" },
		{ 47 * 3600000LL, "in 47h" }, { -49 * 3600000LL, "2d ago" } };
	char buf[32];
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		table_time_rel(1000000000000LL + cases[i].d, 1000000000000LL,
		    buf, sizeof(buf));
		T_EQ_STR(buf, cases[i].want);
	}
}

int
main(void)
{
	T_RUN(columns_are_as_wide_as_their_widest_cell);
	T_RUN(cells_are_escaped_before_they_are_measured);
	T_RUN(an_empty_table_says_so_alone);
	T_RUN(times_are_said_relative_to_now);
	return t_done();
}
