/*
 * An RFC 4180 writer: CRLF line ends; a field holding a comma, quote, CR
 * or LF is quoted with quotes doubled, and so is one holding a semicolon
 * or a tab (separators of other readers).  Where a spreadsheet may start
 * a cell (the field's start, and after a comma, semicolon, tab, CR or LF,
 * past spaces), a formula character (=, +, -, @, tab or CR) gets an
 * apostrophe before it (OWASP's advice for CSV injection).  Rows go
 * straight to the stream: memory does not grow with the number of rows.
 */
#ifndef JANEE_CSV_H
#define JANEE_CSV_H

#include "common.h"

struct csv {
	FILE *fp;
	int nfields; /* in the current row */
	int err; /* a write failed */
};

void csv_init(struct csv *c, FILE *fp);
/* NULL writes an empty field. */
void csv_field(struct csv *c, const char *s);
void csv_field_int(struct csv *c, int64_t v);
void csv_end_row(struct csv *c);
/* Flush; JANEE_ERR_IO when any write failed. */
int csv_finish(struct csv *c) JANEE_WUR;

#endif
