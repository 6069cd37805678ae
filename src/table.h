/*
 * What the CLI prints for people: tables sized to their content, and
 * times said relative to now ("in 9m", "3h ago").  Machine output
 * (--json) keeps RFC 3339 times and is not made here.
 */
#ifndef JANEE_TABLE_H
#define JANEE_TABLE_H

#include "common.h"

#define TABLE_MAX_COLS 8

struct table {
	size_t ncols;
	const char *head[TABLE_MAX_COLS];
	size_t width[TABLE_MAX_COLS]; /* in characters, escapes counted */
	char **cells; /* nrows * ncols, each escaped for the terminal */
	size_t nrows, cap;
	/* Colour for one column's cells (a state), chosen by their text. */
	ssize_t colour_col; /* -1: none */
	const char *(*colour)(const char *cell); /* an SGR code, or NULL */
};

/* A table with these column heads (NULL-ended, at most TABLE_MAX_COLS). */
void table_init(struct table *t, const char *const *head);
/*
 * Add a row of t->ncols cells; each may come from an agent or a server:
 * it is escaped (janee_text_escape) before it is measured.  NULL is "-".
 */
int table_add(struct table *t, const char *const *cells) JANEE_WUR;
/*
 * Colour column col's cells by pick(cell): an SGR parameter string such
 * as "32" (green), or NULL for none.  Only on a terminal, and never when
 * NO_COLOR is set (no-color.org).
 */
void table_colour(
    struct table *t, size_t col, const char *(*pick)(const char *cell));
/*
 * Print the heads and rows, each column as wide as its widest cell, the
 * last unpadded; with no row, print `empty` ("no leases") alone.
 */
void table_print(const struct table *t, FILE *fp, const char *empty);
void table_free(struct table *t);

/*
 * ms relative to now_ms, in the largest unit that fits, rounded down:
 * "in 9m", "3h ago", "in 45s", "now"; days past 48 hours ("2d ago").
 */
void table_time_rel(int64_t ms, int64_t now_ms, char *buf, size_t n);

#endif
