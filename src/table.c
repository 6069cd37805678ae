/* Tables and relative times for people (table.h). */
#include "common.h"

#include <unistd.h>

#include "table.h"
#include "text.h"
#include "util.h"

void
table_init(struct table *t, const char *const *head)
{
	memset(t, 0, sizeof(*t));
	t->colour_col = -1;
	while (t->ncols < TABLE_MAX_COLS && head[t->ncols] != NULL) {
		t->head[t->ncols] = head[t->ncols];
		t->width[t->ncols] = strlen(head[t->ncols]);
		t->ncols++;
	}
}

/* Characters, not bytes: a UTF-8 sequence is one column. */
static size_t
columns(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

int
table_add(struct table *t, const char *const *cells)
{
	char **grown;
	size_t i, w;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		if ((grown = reallocarray(
			 t->cells, t->cap * t->ncols, sizeof(*grown))) == NULL)
			return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		t->cells = grown;
	}
	for (i = 0; i < t->ncols; i++) {
		char *e = janee_text_escape(cells[i] ? cells[i] : "-");

		if (e == NULL) {
			while (i-- > 0)
				free(t->cells[t->nrows * t->ncols + i]);
			return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		}
		t->cells[t->nrows * t->ncols + i] = e;
		if ((w = columns(e)) > t->width[i])
			t->width[i] = w;
	}
	t->nrows++;
	return 0;
}

void
table_colour(struct table *t, size_t col, const char *(*pick)(const char *))
{
	if (col < t->ncols) {
		t->colour_col = (ssize_t)col;
		t->colour = pick;
	}
}

/* Whether fp shows colour: a terminal, and NO_COLOR unset or empty. */
static int
colour_on(FILE *fp)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(fileno(fp)) && (nc == NULL || *nc == '\0');
}

static void
put_row(const struct table *t, FILE *fp, const char *const *cells, int paint)
{
	const char *sgr;
	size_t i, w;

	for (i = 0; i < t->ncols; i++) {
		sgr = paint && (ssize_t)i == t->colour_col ? t->colour(cells[i])
							   : NULL;
		if (sgr != NULL)
			fprintf(fp, "\033[%sm%s\033[0m", sgr, cells[i]);
		else
			fputs(cells[i], fp);
		if (i + 1 == t->ncols)
			break;
		for (w = columns(cells[i]); w < t->width[i] + 2; w++)
			putc(' ', fp);
	}
	putc('\n', fp);
}

void
table_print(const struct table *t, FILE *fp, const char *empty)
{
	int paint = t->colour != NULL && colour_on(fp);
	size_t r;

	if (t->nrows == 0) {
		fprintf(fp, "%s\n", empty);
		return;
	}
	put_row(t, fp, t->head, 0);
	for (r = 0; r < t->nrows; r++)
		put_row(
		    t, fp, (const char *const *)&t->cells[r * t->ncols], paint);
}

void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

void
table_time_rel(int64_t ms, int64_t now_ms, char *buf, size_t n)
{
	int64_t d = ms - now_ms, s = (d < 0 ? -d : d) / 1000;
	char amount[32];

	if (s == 0) {
		snprintf(buf, n, "now");
		return;
	}
	if (s < 60)
		snprintf(amount, sizeof(amount), "%llds", (long long)s);
	else if (s < 3600)
		snprintf(amount, sizeof(amount), "%lldm", (long long)(s / 60));
	else if (s < 48 * 3600)
		snprintf(
		    amount, sizeof(amount), "%lldh", (long long)(s / 3600));
	else
		snprintf(
		    amount, sizeof(amount), "%lldd", (long long)(s / 86400));
	if (d > 0)
		snprintf(buf, n, "in %s", amount);
	else
		snprintf(buf, n, "%s ago", amount);
}
