/* The small public value types: secrets, string lists, tokens. */
#include "common.h"

#include "util.h"

struct janee_secret *
janee_secret_new(const void *p, size_t len)
{
	struct janee_secret *s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->data = malloc(len + 1)) == NULL) {
		free(s);
		janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (len > 0)
		memcpy(s->data, p, len);
	s->data[len] = '\0';
	s->len = len;
	return s;
}

void
janee_secret_free(struct janee_secret *s)
{
	if (s == NULL)
		return;
	janee_freezero(s->data, s->len + 1);
	free(s);
}

int
janee_strlist_add(struct janee_strlist *l, const char *s)
{
	char **nv;
	size_t ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 8;
		if ((nv = reallocarray(l->v, ncap, sizeof(*nv))) == NULL)
			return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		l->v = nv;
		l->cap = ncap;
	}
	if ((l->v[l->n] = janee_strdup(s)) == NULL)
		return JANEE_ERR_NOMEM;
	l->n++;
	return 0;
}

int
janee_strlist_has(const struct janee_strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

static int
strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
janee_strlist_normalize(struct janee_strlist *l)
{
	size_t i, j;

	if (l->n < 2)
		return;
	qsort(l->v, l->n, sizeof(*l->v), strp_cmp);
	for (i = 1, j = 1; i < l->n; i++) {
		if (strcmp(l->v[i], l->v[j - 1]) == 0)
			free(l->v[i]);
		else
			l->v[j++] = l->v[i];
	}
	l->n = j;
}

void
janee_strlist_free(struct janee_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int
janee_token_put(struct janee_token *t, const char *name,
    struct janee_secret *value, unsigned flags)
{
	struct janee_token_part *p;

	if (value == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if (t->nparts >= JANEE_TOKEN_MAX_PARTS ||
	    janee_token_get(t, name) != NULL) {
		janee_secret_free(value);
		return janee_err_set(JANEE_ERR_INTERNAL,
		    "a token cannot take part '%s' (twice, or too many parts)",
		    name);
	}
	p = &t->parts[t->nparts];
	if ((p->name = janee_strdup(name)) == NULL) {
		janee_secret_free(value);
		return JANEE_ERR_NOMEM;
	}
	p->value = value;
	p->flags = flags;
	t->nparts++;
	return 0;
}

const struct janee_secret *
janee_token_get(const struct janee_token *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->nparts; i++)
		if (strcmp(t->parts[i].name, name) == 0)
			return t->parts[i].value;
	return NULL;
}

void
janee_token_clear(struct janee_token *t)
{
	size_t i;

	for (i = 0; i < t->nparts; i++) {
		free(t->parts[i].name);
		janee_secret_free(t->parts[i].value);
	}
	free(t->token_type);
	janee_strlist_free(&t->granted);
	memset(t, 0, sizeof(*t));
}
