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

static int
needs_quotes(const char *s)
{
	return strpbrk(s, ",\"\r\n") != NULL;
}

static int
is_formula(const char *s)
{
	return s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
}

void
csv_field(struct csv *c, const char *s)
{
	const char *p;
	int q;

	if (c->nfields++ > 0 && putc(',', c->fp) == EOF)
		c->err = 1;
	if (s == NULL || *s == '\0')
		return;
	q = needs_quotes(s);
	if (q && putc('"', c->fp) == EOF)
		c->err = 1;
	if (is_formula(s) && putc('\'', c->fp) == EOF)
		c->err = 1;
	if (!q) {
		if (fputs(s, c->fp) == EOF)
			c->err = 1;
		return;
	}
	for (p = s; *p != '\0'; p++) {
		if (*p == '"' && putc('"', c->fp) == EOF)
			c->err = 1;
		if (putc(*p, c->fp) == EOF)
			c->err = 1;
	}
	if (putc('"', c->fp) == EOF)
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
