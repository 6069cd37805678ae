/* call_api's request rules and path check (see api-rules.h). */
#include "common.h"

#include <ctype.h>

#include "api-rules.h"
#include "text.h"
#include "util.h"

static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH",
	"DELETE" };

int
api_method_ok(const char *s)
{
	size_t i;

	for (i = 0; i < nitems(methods); i++)
		if (strcmp(s, methods[i]) == 0)
			return 1;
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
fail(char *err, size_t n, const char *what)
{
	snprintf(err, n, "the path is refused: %s", what);
	return -1;
}

/*
 * Code points some servers fold to '.', '/' or '\' (fullwidth forms,
 * one-dot leader, small full stop, division slash...): refused like the
 * characters they stand for.
 */
static int
lookalike(uint32_t cp)
{
	return cp == 0xff0e || cp == 0xff0f || cp == 0xff3c || cp == 0x2024 ||
	    cp == 0xfe52 || cp == 0x2215 || cp == 0x2044 || cp == 0x29f5 ||
	    cp == 0xfe68 || cp == 0x3002 || cp == 0xff61;
}

int
api_path_check(const char *path, char *err, size_t errn)
{
	const unsigned char *p = (const unsigned char *)path, *seg;
	unsigned char dec[API_PATH_MAX];
	size_t len = strlen(path), i, nd = 0, used;
	int hi, lo, c;
	uint32_t cp;

	if (len == 0 || path[0] != '/')
		return fail(err, errn, "it must start with '/'");
	if (len >= API_PATH_MAX)
		return fail(err, errn, "it is too long");
	for (i = 0; i < len; i++) {
		c = p[i];
		if (c < 0x20 || c == 0x7f)
			return fail(err, errn, "it holds a control byte");
		if (c >= 0x80)
			return fail(err, errn,
			    "it holds a raw non-ASCII byte; "
			    "percent-encode it");
		if (c == '\\')
			return fail(err, errn, "it holds a backslash");
		if (c == '?' || c == '#')
			return fail(err, errn,
			    "'?' and '#' do not belong in "
			    "it; pass the query in 'query'");
		if (c == ';')
			return fail(err, errn,
			    "it holds ';' (path parameters "
			    "are refused)");
		if (c == '/' && p[i + 1] == '/')
			return fail(err, errn, "it holds '//'");
		if (c != '%') {
			dec[nd++] = (unsigned char)c;
			continue;
		}
		if ((hi = hexval(p[i + 1])) < 0 || (lo = hexval(p[i + 2])) < 0)
			return fail(err, errn,
			    "it holds a '%' that is not a "
			    "percent-encoded byte");
		c = hi << 4 | lo;
		i += 2;
		/* RFC 3986 section 2.3: an unreserved character is never
		 * encoded by a well-behaved client; encoded separators are
		 * how traversal hides. */
		if (c == '.' || c == '/' || c == '\\' || c == '%')
			return fail(err, errn,
			    "it holds an encoded '.', '/', "
			    "'\\' or '%'");
		if (c < 0x20 || c == 0x7f)
			return fail(err, errn,
			    "it holds an encoded control "
			    "byte");
		/* The rules are matched against the path as sent, but the
		 * server decodes it: "%68ooks" would pass a deny rule
		 * naming "hooks" and reach it.  An unreserved character has
		 * one spelling (RFC 3986 section 2.3), and ';' is refused
		 * raw above, so their encodings are refused too. */
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '~')
			return fail(err, errn,
			    "it holds a percent-encoded letter, digit, '-', "
			    "'_' or '~'; send it as is");
		if (c == ';')
			return fail(err, errn,
			    "it holds an encoded ';' (path "
			    "parameters are refused)");
		/* Decoded bytes other than non-ASCII are checked as text
		 * below only for their UTF-8 form. */
		dec[nd++] = (unsigned char)(c >= 0x80 ? c : 'x');
	}
	/* Every encoded non-ASCII byte must form shortest-form UTF-8. */
	for (i = 0; i < nd; i += used) {
		/* Strict (RFC 3629 section 3): overlongs and surrogates are
		 * not UTF-8. */
		if ((used = janee_utf8_seq(dec + i, nd - i, &cp)) == 0)
			return fail(err, errn,
			    "it holds invalid or overlong "
			    "UTF-8");
		if (lookalike(cp))
			return fail(err, errn,
			    "it holds a character that "
			    "servers may read as '.', '/' or '\\'");
	}
	/* "." and ".." segments (RFC 3986 section 5.2.4), never removed. */
	for (seg = p + 1;; seg++) {
		const unsigned char *end =
		    (const unsigned char *)strchr((const char *)seg, '/');
		size_t sl =
		    end ? (size_t)(end - seg) : strlen((const char *)seg);

		if ((sl == 1 && seg[0] == '.') ||
		    (sl == 2 && seg[0] == '.' && seg[1] == '.'))
			return fail(
			    err, errn, "it holds a '.' or '..' segment");
		if (end == NULL)
			break;
		seg = end;
	}
	return 0;
}

static const char *
skip_method(const char *rule, const char **path)
{
	const char *sp = strchr(rule, ' ');

	*path = sp ? sp + 1 : NULL;
	return sp;
}

int
api_rule_check(const char *where, const char *rule)
{
	const char *path, *sp = skip_method(rule, &path), *p, *close;
	char method[16], test[API_PATH_MAX], err[160];
	size_t ml, i, n = 0, nvars = 0;

	if (sp == NULL || (ml = (size_t)(sp - rule)) == 0 ||
	    ml >= sizeof(method))
		goto bad;
	memcpy(method, rule, ml);
	method[ml] = '\0';
	if (strcmp(method, "*") != 0 && !api_method_ok(method))
		goto bad;
	/* The path with each {name} and * as a plain segment must pass the
	 * path check: a rule cannot name what no request may use. */
	for (p = path; *p != '\0' && n + 2 < sizeof(test); p++) {
		if (*p == '{') {
			if ((close = strchr(p, '}')) == NULL ||
			    close == p + 1 || p[-1] != '/' ||
			    (close[1] != '/' && close[1] != '\0'))
				goto bad;
			for (i = 1; p + i < close; i++)
				if (!islower((unsigned char)p[i]) &&
				    p[i] != '_')
					goto bad;
			/* No more than a match can hold (add_var). */
			if ((size_t)(close - p) > 31 || ++nvars > API_MAX_VARS)
				goto bad;
			test[n++] = 'v';
			p = close;
		} else if (*p == '*')
			test[n++] = 'v';
		else if (*p == '}')
			goto bad;
		else
			test[n++] = *p;
	}
	if (*p != '\0')
		goto bad;
	test[n] = '\0';
	if (api_path_check(test, err, sizeof(err)) != 0)
		return janee_err_set(
		    JANEE_ERR_CONFIG, "%s: rule '%s': %s", where, rule, err);
	return 0;
bad:
	return janee_err_set(JANEE_ERR_CONFIG,
	    "%s: rule '%s' is not \"METHOD /path\" (METHOD one of GET, HEAD, "
	    "POST, PUT, PATCH, DELETE or *; {name} a whole segment of "
	    "lowercase letters and '_', at most %d; * for the rest of a "
	    "segment)",
	    where, rule, API_MAX_VARS);
}

static int
add_var(
    struct api_match *m, const char *name, size_t nl, const char *v, size_t vl)
{
	if (m->nvars >= API_MAX_VARS || nl >= sizeof(m->vars[0].name) ||
	    vl >= sizeof(m->vars[0].value))
		return -1;
	memcpy(m->vars[m->nvars].name, name, nl);
	m->vars[m->nvars].name[nl] = '\0';
	memcpy(m->vars[m->nvars].value, v, vl);
	m->vars[m->nvars].value[vl] = '\0';
	m->nvars++;
	return 0;
}

/* Match pattern p against path s (both from their first byte). */
static int
match_path(const char *p, const char *s, struct api_match *m)
{
	const char *close, *end;
	size_t nv = m->nvars;

	if (++m->steps > API_MATCH_MAX_STEPS) {
		m->too_complex = 1;
		return 0;
	}
	while (*p != '\0') {
		if (*p == '*') {
			/* Trailing: any rest, slashes included. */
			if (p[1] == '\0')
				return 1;
			/* Else the rest of this segment, any length. */
			for (end = s; *end != '\0' && *end != '/'; end++)
				;
			for (; end >= s; end--)
				if (match_path(p + 1, end, m))
					return 1;
			m->nvars = nv;
			return 0;
		}
		if (*p == '{') {
			close = strchr(p, '}');
			for (end = s; *end != '\0' && *end != '/'; end++)
				;
			if (close == NULL || end == s) {
				m->nvars = nv;
				return 0;
			}
			/* A value that does not fit leaves the rule
			 * unevaluated; "no match" would let a deny rule
			 * pass, so the call is denied (fail closed). */
			if (add_var(m, p + 1, (size_t)(close - p - 1), s,
				(size_t)(end - s)) != 0) {
				m->too_complex = 1;
				m->nvars = nv;
				return 0;
			}
			p = close + 1;
			s = end;
			continue;
		}
		if (*p != *s) {
			m->nvars = nv;
			return 0;
		}
		p++, s++;
	}
	if (*s != '\0')
		m->nvars = nv;
	return *s == '\0';
}

int
api_rule_match(
    const char *rule, const char *method, const char *path, struct api_match *m)
{
	const char *pat, *sp = skip_method(rule, &pat);

	m->nvars = 0;
	m->steps = 0;
	m->too_complex = 0;
	if (sp == NULL)
		return 0;
	if (!((sp - rule == 1 && rule[0] == '*') ||
		(strlen(method) == (size_t)(sp - rule) &&
		    strncmp(rule, method, (size_t)(sp - rule)) == 0)))
		return 0;
	return match_path(pat, path, m);
}

enum api_verdict
api_decide(const struct api_rules *r, const char *method, const char *path,
    struct api_match *m)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < r->deny.n; i++)
		if (api_rule_match(r->deny.v[i], method, path, m) ||
		    m->too_complex) {
			m->rule = r->deny.v[i];
			return API_DENY;
		}
	for (i = 0; i < r->allow.n; i++) {
		if (api_rule_match(r->allow.v[i], method, path, m) &&
		    !m->too_complex) {
			m->rule = r->allow.v[i];
			return API_ALLOW;
		}
		if (m->too_complex) {
			m->rule = r->allow.v[i];
			return API_DENY;
		}
	}
	m->nvars = 0;
	return API_UNLISTED;
}

const char *
api_match_var(const struct api_match *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nvars; i++)
		if (strcmp(m->vars[i].name, name) == 0)
			return m->vars[i].value;
	return NULL;
}

int
api_size_parse(const char *s, size_t *out)
{
	static const struct {
		const char *suffix;
		int64_t mult;
	} units[] = { { "", 1 }, { "B", 1 }, { "KiB", 1024 },
		{ "MiB", 1024 * 1024 }, { "KB", 1000 }, { "MB", 1000 * 1000 } };
	char num[24];
	size_t i, n = 0;
	int64_t v;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	if (janee_parse_int(num, 1, API_MAX_RESPONSE_LIMIT, &v) != 0) {
		janee_err_clear();
		return -1;
	}
	for (i = 0; i < nitems(units); i++)
		if (strcmp(s + n, units[i].suffix) == 0) {
			if (v > API_MAX_RESPONSE_LIMIT / units[i].mult)
				return -1;
			*out = (size_t)(v * units[i].mult);
			return 0;
		}
	return -1;
}

void
api_rules_free(struct api_rules *r)
{
	if (r == NULL)
		return;
	free(r->base_url);
	free(r->ca_file);
	free(r->version_header);
	free(r->resource_var);
	free(r->auth_header);
	free(r->auth_scheme);
	free(r->client_secret_ref);
	janee_strlist_free(&r->default_headers);
	janee_strlist_free(&r->allow);
	janee_strlist_free(&r->deny);
	free(r);
}
