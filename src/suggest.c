/* "Did you mean": nearest candidates by Damerau-Levenshtein distance. */
#include "common.h"

#include "buf.h"
#include "suggest.h"

#define MAX_WORD 64

int
janee_edit_distance(const char *a, const char *b)
{
	int d[MAX_WORD + 1][MAX_WORD + 1], cost, v;
	size_t la = strlen(a), lb = strlen(b), i, j;

	/* Long words are never slips of each other: too far apart. */
	if (la > MAX_WORD || lb > MAX_WORD)
		return strcmp(a, b) == 0 ? 0 : 255;
	for (i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			cost = a[i - 1] == b[j - 1] ? 0 : 1;
			v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			/* A swap of two neighbours is one slip, not two. */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb] < 255 ? d[la][lb] : 255;
}

/* How different a candidate may be and still be a slip for word. */
static int
distance_limit(const char *word, const char *cand)
{
	size_t lw = strlen(word), lc = strlen(cand);
	int limit = (int)((lw > lc ? lw : lc) / 3);

	return limit < 1 ? 1 : limit;
}

size_t
janee_nearest(const char *word, const char *const *cands, size_t n, size_t most,
    size_t *idx)
{
	size_t i, k, got = 0;
	int best, dist;

	if (word == NULL)
		return 0;
	/* The nearest first: each distance in turn, up to the limit. */
	for (best = 1; best < 256 && got < most; best++)
		for (i = 0; i < n && got < most; i++) {
			if (cands[i] == NULL || strcmp(cands[i], word) == 0)
				continue;
			/* A word cut short ("prov") is one slip. */
			dist = *word != '\0' &&
				strncmp(cands[i], word, strlen(word)) == 0
			    ? 1
			    : janee_edit_distance(word, cands[i]);
			if (dist != best ||
			    dist > distance_limit(word, cands[i]))
				continue;
			/* A duplicate candidate is named once. */
			for (k = 0; k < got && strcmp(cands[idx[k]], cands[i]);
			     k++)
				;
			if (k == got)
				idx[got++] = i;
		}
	return got;
}

int
janee_suggest(const char *word, const char *const *cands, size_t n, size_t most,
    struct buf *out)
{
	size_t idx[8], got, i;

	if (most > nitems(idx))
		most = nitems(idx);
	got = janee_nearest(word, cands, n, most, idx);
	for (i = 0; i < got; i++)
		if (buf_printf(out, "%s'%s'", i ? ", " : "", cands[idx[i]]) !=
		    0)
			return (int)i;
	return (int)got;
}

/* Lists up to this long are shown whole in a message. */
#define SHOW_WHOLE 12

int
janee_suggest_list(const char *word, const char *const *cands, size_t n,
    const char *what, struct buf *out)
{
	struct buf near;
	size_t i;
	int got, rc;

	if (n <= SHOW_WHOLE) {
		if (buf_printf(out, "%s: ", what) != 0)
			return JANEE_ERR_NOMEM;
		for (i = 0; i < n; i++)
			if (buf_printf(out, "%s%s", i ? ", " : "", cands[i]) !=
			    0)
				return JANEE_ERR_NOMEM;
		return 0;
	}
	buf_init(&near, 4096);
	got = janee_suggest(word, cands, n, 3, &near);
	rc = got > 0 ? buf_printf(out, "did you mean %s?", near.p)
		     : buf_addstr(out, "nothing close");
	buf_free(&near);
	if (rc != 0)
		return JANEE_ERR_NOMEM;
	if (buf_printf(out, " (%zu %s", n, what) != 0)
		return JANEE_ERR_NOMEM;
	return 1;
}
