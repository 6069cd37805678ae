/* JSON that cJSON reads differently from a strict reader (json-check.h). */
#include "common.h"

#include "json-check.h"

/* A place in a JSON value, "params.arguments.scopes[1]", cut to fit. */
struct place {
	char *p;
	size_t sz, len;
};

static void place_add(struct place *pl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
place_add(struct place *pl, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (pl->sz == 0 || pl->len >= pl->sz - 1)
		return;
	va_start(ap, fmt);
	w = vsnprintf(pl->p + pl->len, pl->sz - pl->len, fmt, ap);
	va_end(ap);
	if (w < 0)
		w = 0;
	if ((size_t)w >= pl->sz - pl->len) {
		/* Cut: say so in the last bytes that fit. */
		pl->len = pl->sz - 1;
		if (pl->sz > 4)
			memcpy(pl->p + pl->sz - 4, "...", 3);
	} else
		pl->len += (size_t)w;
}

/* ".name" (or "name" first), as written in the text. */
static void
place_name(struct place *pl, const char *name, size_t len)
{
	place_add(pl, "%s%.*s", pl->len ? "." : "", (int)len, name);
}

struct frame {
	const char *key; /* the member being read, as written, or NULL */
	size_t keylen;
	size_t index; /* the element being read, in an array */
	char type; /* '{' or '[' */
	char want_key; /* in an object, before a name */
};

/*
 * The string whose opening quote is at p[0], up to n bytes: its length
 * to the closing quote (exclusive), and what it holds.  Escapes are a
 * backslash and one character, or \uXXXX (RFC 8259 section 7).
 */
static size_t
string_at(const char *p, size_t n, enum json_check *what)
{
	size_t j = 1;

	*what = JSON_CHECK_OK;
	while (j < n && p[j] != '"') {
		if (p[j] == '\\' && j + 1 < n) {
			if (p[j + 1] == 'u' && j + 5 < n &&
			    memcmp(p + j + 2, "0000", 4) == 0 &&
			    *what == JSON_CHECK_OK)
				*what = JSON_CHECK_NUL;
			j += p[j + 1] == 'u' ? 6 : 2;
			continue;
		}
		if ((unsigned char)p[j] < 0x20 && *what == JSON_CHECK_OK)
			*what = JSON_CHECK_CONTROL;
		j++;
	}
	return j > n ? n : j;
}

enum json_check
json_check_strings(const char *text, size_t n, char *path, size_t pathsz)
{
	struct frame st[CJSON_NESTING_LIMIT + 1], *top = NULL;
	struct place pl = { path, pathsz, 0 };
	enum json_check what;
	size_t i, k, len;
	int depth = 0, is_key;

	if (pathsz > 0)
		path[0] = '\0';
	for (i = 0; i < n; i++) {
		switch (text[i]) {
		case '{':
		case '[':
			if (depth == (int)nitems(st))
				return JSON_CHECK_DEEP;
			top = &st[depth++];
			top->type = text[i];
			top->want_key = text[i] == '{';
			top->key = NULL;
			top->keylen = 0;
			top->index = 0;
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			top = depth > 0 ? &st[depth - 1] : NULL;
			break;
		case ',':
			if (top != NULL && top->type == '[')
				top->index++;
			else if (top != NULL)
				top->want_key = 1;
			break;
		case ':':
			if (top != NULL)
				top->want_key = 0;
			break;
		case '"':
			len = string_at(text + i, n - i, &what);
			is_key =
			    top != NULL && top->type == '{' && top->want_key;
			if (is_key) {
				top->key = text + i + 1;
				top->keylen = len - 1;
			}
			if (what != JSON_CHECK_OK) {
				for (k = 0; k < (size_t)depth; k++) {
					if (st[k].type == '[')
						place_add(
						    &pl, "[%zu]", st[k].index);
					else if (st[k].key != NULL)
						place_name(&pl, st[k].key,
						    st[k].keylen);
				}
				if (is_key)
					place_add(&pl, " (a member name)");
				return what;
			}
			i += len;
			break;
		default:
			break; /* numbers, literals, white space */
		}
	}
	return JSON_CHECK_OK;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first name that o holds twice, or NULL; o has n members. */
static int
twice(const cJSON *o, int n, const char **dup)
{
	const cJSON *a, *b;
	const char **names;
	int i = 0;

	*dup = NULL;
	/* Small objects (JSON-RPC's) pairwise; large ones sorted. */
	if (n <= 16) {
		for (a = o->child; a != NULL && *dup == NULL; a = a->next)
			for (b = a->next; b != NULL; b = b->next)
				if (strcmp(a->string, b->string) == 0) {
					*dup = b->string;
					break;
				}
		return 0;
	}
	if ((names = calloc((size_t)n, sizeof(*names))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	for (a = o->child; a != NULL && i < n; a = a->next)
		names[i++] = a->string;
	qsort(names, (size_t)i, sizeof(*names), by_name);
	for (n = 1; n < i; n++)
		if (strcmp(names[n - 1], names[n]) == 0) {
			*dup = names[n];
			break;
		}
	free(names);
	return 0;
}

static int
dups_in(const cJSON *v, struct place *pl)
{
	const cJSON *c;
	const char *dup;
	size_t at = pl->len, i = 0;
	int rc;

	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return JSON_CHECK_OK;
	if (cJSON_IsObject(v)) {
		if ((rc = twice(v, cJSON_GetArraySize(v), &dup)) != 0)
			return rc;
		if (dup != NULL) {
			place_name(pl, dup, strlen(dup));
			return JSON_CHECK_DUPLICATE;
		}
	}
	for (c = v->child; c != NULL; c = c->next, i++) {
		if (cJSON_IsObject(v))
			place_name(pl, c->string, strlen(c->string));
		else
			place_add(pl, "[%zu]", i);
		if ((rc = dups_in(c, pl)) != JSON_CHECK_OK)
			return rc;
		pl->len = at;
		pl->p[at] = '\0';
	}
	return JSON_CHECK_OK;
}

int
json_check_duplicates(const cJSON *v, char *path, size_t pathsz)
{
	struct place pl = { path, pathsz, 0 };
	char none[1];

	/* The place is built as the walk goes: it needs a byte at least. */
	if (pathsz == 0) {
		pl.p = none;
		pl.sz = sizeof(none);
	}
	pl.p[0] = '\0';
	return dups_in(v, &pl);
}
