/* RFC 4180 CSV writer with formula neutralization. */
#include "common.h"

#include "csv.h"

void
csv_init(struct csv *c, FILE *fp)
{
	c->fp = fp;
	c->nfields = 0;
	c->err = 0;
}

/*
 * Quoted: what RFC 4180 section 2 requires (comma, quote, CR, LF), and
 * the other separators a spreadsheet may split on (semicolon, tab), so
 * that a reader set to either keeps the field in one cell.
 */
static int
needs_quotes(const char *s)
{
	return strpbrk(s, ",\"\r\n;\t") != NULL;
}

/*
 * Where a spreadsheet may start a cell: the field's start, and after
 * every character some reader splits on (a reader that ignores the
 * quotes, or splits on ';' or tab).  A cell that starts, after spaces
 * that a reader may trim, with =, +, -, @, tab or CR runs as a formula
 * (OWASP, "CSV Injection"): it gets an apostrophe before that character.
 */
#define CSV_SPLIT ",;\t\r\n"
#define CSV_FORMULA "=+-@\t\r"

void
csv_field(struct csv *c, const char *s)
{
	const char *p;
	int q, cell_start = 1;

	if (c->nfields++ > 0 && putc(',', c->fp) == EOF)
		c->err = 1;
	if (s == NULL || *s == '\0')
		return;
	q = needs_quotes(s);
	if (q && putc('"', c->fp) == EOF)
		c->err = 1;
	for (p = s; *p != '\0'; p++) {
		if (cell_start && *p != ' ') {
			if (strchr(CSV_FORMULA, *p) != NULL &&
			    putc('\'', c->fp) == EOF)
				c->err = 1;
			cell_start = 0;
		}
		if (strchr(CSV_SPLIT, *p) != NULL)
			cell_start = 1;
		if (*p == '"' && putc('"', c->fp) == EOF)
			c->err = 1;
		if (putc(*p, c->fp) == EOF)
			c->err = 1;
	}
	if (q && putc('"', c->fp) == EOF)
		c->err = 1;
}

/*
 * Digits and a sign need no quotes, and a number is data, not a formula:
 * through csv_field a negative one would gain an apostrophe and stop
 * being a number.
 */
void
csv_field_int(struct csv *c, int64_t v)
{
	if (c->nfields++ > 0 && putc(',', c->fp) == EOF)
		c->err = 1;
	if (fprintf(c->fp, "%lld", (long long)v) < 0)
		c->err = 1;
}

void
csv_end_row(struct csv *c)
{
	if (fputs("\r\n", c->fp) == EOF)
		c->err = 1;
	c->nfields = 0;
}

int
csv_finish(struct csv *c)
{
	if (fflush(c->fp) != 0 || ferror(c->fp))
		c->err = 1;
	if (c->err)
		return janee_err_set(JANEE_ERR_IO, "cannot write CSV: %s",
		    strerror(errno ? errno : EIO));
	return 0;
}
