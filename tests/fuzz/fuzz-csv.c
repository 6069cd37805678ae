/*
 * libFuzzer: the CSV writer, round trip.  Fields from the input are
 * written with csv_field, then read back by a strict RFC 4180 reader
 * written here (test code): every field must come back as written, with
 * an apostrophe before each formula character where a cell may start
 * (the field's start and after , ; tab CR LF, past spaces).
 */
#include "common.h"

#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read one RFC 4180 field at *p; returns it (malloc'd) or NULL. */
static char *
read_field(const char **p, const char *end, int *row_end)
{
	char *out = malloc((size_t)(end - *p) + 1);
	size_t n = 0;

	if (out == NULL)
		abort();
	*row_end = 0;
	if (*p < end && **p == '"') {
		(*p)++;
		for (;;) {
			if (*p >= end)
				abort(); /* unterminated quote */
			if (**p == '"') {
				if (*p + 1 < end && (*p)[1] == '"') {
					out[n++] = '"';
					*p += 2;
					continue;
				}
				(*p)++;
				break;
			}
			out[n++] = *(*p)++;
		}
	} else {
		while (*p < end && **p != ',' && **p != '\r') {
			if (**p == '"' || **p == '\n')
				abort(); /* must have been quoted */
			out[n++] = *(*p)++;
		}
	}
	if (*p < end && **p == ',')
		(*p)++;
	else if (end - *p >= 2 && (*p)[0] == '\r' && (*p)[1] == '\n') {
		*p += 2;
		*row_end = 1;
	} else
		abort(); /* a field must end in a comma or CRLF */
	out[n] = '\0';
	return out;
}

/* What the writer must have made of s (independent of src/csv.c). */
static char *
neutralized(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *o = out;
	int start = 1;

	if (out == NULL)
		abort();
	for (; *s != '\0'; s++) {
		if (start && *s != ' ') {
			if (*s == '=' || *s == '+' || *s == '-' || *s == '@' ||
			    *s == '\t' || *s == '\r')
				*o++ = '\'';
			start = 0;
		}
		if (*s == ',' || *s == ';' || *s == '\t' || *s == '\r' ||
		    *s == '\n')
			start = 1;
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *fields[16], *buf = NULL, *got, *want;
	const char *p, *end;
	size_t nf = 0, i, start = 0, len = 0;
	struct csv c;
	FILE *fp;
	int row_end;

	/* Fields are the input split at NUL bytes (CSV holds text). */
	for (i = 0; i <= size && nf < nitems(fields); i++)
		if (i == size || data[i] == '\0') {
			if ((fields[nf] = malloc(i - start + 1)) == NULL)
				abort();
			memcpy(fields[nf], data + start, i - start);
			fields[nf][i - start] = '\0';
			nf++;
			start = i + 1;
		}
	if ((fp = open_memstream(&buf, &len)) == NULL)
		abort();
	csv_init(&c, fp);
	for (i = 0; i < nf; i++)
		csv_field(&c, fields[i]);
	csv_end_row(&c);
	if (csv_finish(&c) != 0)
		abort();
	fclose(fp);
	p = buf;
	end = buf + len;
	for (i = 0; i < nf; i++) {
		got = read_field(&p, end, &row_end);
		/* A formula comes back behind an apostrophe. */
		want = neutralized(fields[i]);
		if (strcmp(got, want) != 0)
			abort();
		free(want);
		if (row_end != (i == nf - 1))
			abort();
		free(got);
		free(fields[i]);
	}
	if (p != end)
		abort();
	free(buf);
	return 0;
}
