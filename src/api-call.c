/*
 * One API call with a lease's token, for call_api and janee proxy alike
 * (api-call.h): the checks, the lease kept for later calls, the send, the
 * scrubbing of the answer and its audit event.
 */
#include "common.h"

#include <strings.h>

#include <openssl/evp.h>

#include "api-call.h"
#include "audit.h"
#include "janee/http.h"
#include "lease.h"
#include "text.h"
#include "util.h"

#define REDACTED "[redacted]"
#define HEADER_VALUE_MAX 1024

/* --- checks -------------------------------------------------------- */

/* Headers an agent may never set: credentials, routing, hop-by-hop. */
static const char *const refused_headers[] = { "authorization", "cookie",
	"host", "proxy-authorization", "proxy-connection", "proxy-authenticate",
	"connection", "transfer-encoding", "content-length", "te", "upgrade",
	"forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip" };

static const char *const safe_headers[] = { "Accept", "Content-Type",
	"If-None-Match" };

static int
header_check(const struct api_rules *r, const char *name, const char *value,
    char *err, size_t n)
{
	size_t i;
	/* The provider's own token header too, if not Authorization. */
	int refused = strcasecmp(name, r->auth_header) == 0 ||
	    strncasecmp(name, "proxy-", 6) == 0;

	for (i = 0; i < nitems(refused_headers); i++)
		refused |= strcasecmp(name, refused_headers[i]) == 0;
	if (refused) {
		snprintf(err, n,
		    "header '%.64s' is refused: janee sets the credentials "
		    "and the connection",
		    name);
		return -1;
	}
	for (i = 0; i < nitems(safe_headers); i++)
		if (strcasecmp(name, safe_headers[i]) == 0)
			break;
	if (i == nitems(safe_headers) &&
	    (r->version_header == NULL ||
		strcasecmp(name, r->version_header) != 0)) {
		snprintf(err, n,
		    "header '%.64s' is not one call_api passes on (Accept, "
		    "Content-Type, If-None-Match%s%s)",
		    name, r->version_header ? ", " : "",
		    r->version_header ? r->version_header : "");
		return -1;
	}
	if (strlen(value) > HEADER_VALUE_MAX) {
		snprintf(err, n, "header '%s' is too long", name);
		return -1;
	}
	for (i = 0; value[i] != '\0'; i++)
		if ((unsigned char)value[i] < 0x20 ||
		    (unsigned char)value[i] == 0x7f) {
			snprintf(err, n,
			    "header '%s' holds a control character", name);
			return -1;
		}
	return 0;
}

/* RFC 3986 section 2.3 unreserved characters pass; the rest is %XX. */
int
api_urlencode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (; *s != '\0' && rc == 0; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			rc = buf_add(b, s, 1);
		else
			rc = buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
	return rc;
}

/* --- redaction ----------------------------------------------------- */

/*
 * Every spelling of a secret goes through replace_all, in one of two
 * modes: replace each whole occurrence in b, or (tail) find the longest
 * end of b that is the start of a spelling, which an answer cut at
 * max_response may end with: all of a secret but its last bytes, that no
 * whole-match replacement finds.
 */
struct scrub {
	struct buf *b;
	int tail;
	size_t cut; /* tail: how many bytes at the end begin a spelling */
};

/* Replace every occurrence of needle in b (binary-safe). */
static void
replace_all(struct scrub *sc, const char *needle, size_t nl)
{
	struct buf out, *b = sc->b;
	size_t i = 0, j;

	if (sc->tail) {
		for (j = nl > 0 ? nl - 1 : 0; j > sc->cut; j--)
			if (j <= b->len &&
			    memcmp(b->p + b->len - j, needle, j) == 0) {
				sc->cut = j;
				break;
			}
		return;
	}
	if (nl == 0 || b->p == NULL || b->len < nl)
		return;
	for (j = 0; j + nl <= b->len; j++)
		if (memcmp(b->p + j, needle, nl) == 0)
			break;
	if (j + nl > b->len)
		return;
	/* "[redacted]" is at most 2 bytes longer than a needle (>= 8). */
	buf_init(&out, b->len + b->len / 4 + 64);
	while (i < b->len) {
		if (i + nl <= b->len && memcmp(b->p + i, needle, nl) == 0) {
			if (buf_addstr(&out, REDACTED) != 0)
				break;
			i += nl;
		} else if (buf_add(&out, b->p + i++, 1) != 0)
			break;
	}
	janee_err_clear();
	buf_free(b);
	*b = out;
}

static void
redact_b64(struct scrub *sc, const unsigned char *v, size_t len, int url)
{
	unsigned char *in, *enc;
	size_t k, n, first, last, j;
	int el;

	if ((in = calloc(1, len + 3)) == NULL ||
	    (enc = calloc(1, (len + 3) / 3 * 4 + 8)) == NULL) {
		free(in);
		return;
	}
	/* The part of the encoding that depends on v alone, at each of
	 * the three alignments (as inside a Basic header). */
	for (k = 0; k < 3; k++) {
		memset(in, 0, k);
		memcpy(in + k, v, len);
		el = EVP_EncodeBlock(enc, in, (int)(k + len));
		while (el > 0 && enc[el - 1] == '=')
			el--;
		if (url)
			for (j = 0; j < (size_t)el; j++)
				enc[j] = enc[j] == '+' ? '-'
				    : enc[j] == '/'    ? '_'
						       : enc[j];
		n = (size_t)el;
		for (first = 0; first < n && (6 * first) / 8 < k; first++)
			;
		for (last = n;
		     last > first && (6 * (last - 1) + 5) / 8 >= k + len;
		     last--)
			;
		if (last > first && last - first >= 12)
			replace_all(sc, (char *)enc + first, last - first);
	}
	free(in);
	free(enc);
}

/* Every spelling of secret s that the leak sweep looks for. */
static void
redact_one(struct scrub *sc, const struct janee_secret *s)
{
	struct buf enc;
	cJSON *str;
	char *js;

	if (s == NULL || s->len < 8)
		return;
	replace_all(sc, (const char *)s->data, s->len);
	if ((str = cJSON_CreateString((const char *)s->data)) != NULL &&
	    (js = cJSON_PrintUnformatted(str)) != NULL) {
		replace_all(sc, js + 1, strlen(js) - 2);
		cJSON_free(js);
	}
	cJSON_Delete(str);
	buf_init(&enc, s->len * 3 + 16);
	if (api_urlencode(&enc, (const char *)s->data) == 0 && enc.p != NULL)
		replace_all(sc, enc.p, enc.len);
	buf_free(&enc);
	redact_b64(sc, s->data, s->len, 0);
	redact_b64(sc, s->data, s->len, 1);
}

/*
 * Redact every secret from b.  A body cut at max_response first loses
 * the longest end that begins a spelling of a secret: that end is the
 * start of a secret the cut split, or harmless bytes an answer that was
 * cut anyway can do without.  It is taken from the answer as received,
 * before any replacement, where a split secret is still in one piece.
 */
static void
redact(
    struct buf *b, struct janee_secret *const *secrets, size_t n, int truncated)
{
	struct scrub sc = { .b = b };
	size_t i;

	if (truncated && b->p != NULL) {
		sc.tail = 1;
		for (i = 0; i < n; i++)
			redact_one(&sc, secrets[i]);
		janee_wipe(b->p + b->len - sc.cut, sc.cut);
		b->len -= sc.cut;
		b->p[b->len] = '\0';
		sc.tail = 0;
	}
	for (i = 0; i < n; i++)
		redact_one(&sc, secrets[i]);
}

/*
 * The secrets of this call: the token's secret parts, what the
 * provider's stored login holds in credential fields (a refresh token),
 * and the client secret its configuration names.  Best effort: what cannot be read is
 * not in the answer either, since janee never sent it.
 */
static size_t
call_secrets(struct prov *pv, const struct janee_token *tok,
    struct janee_secret **out, size_t max)
{
	static const char *const fields[] = { "refresh_token", "access_token",
		"client_secret", "token", "id_token" };
	struct janee_secret *cred = NULL;
	const cJSON *f;
	cJSON *j;
	size_t n = 0, i;

	/* Every secret part of the token (most have one, "token"). */
	for (i = 0; i < tok->nparts && n < max; i++)
		if ((tok->parts[i].flags & JANEE_PART_SECRET) != 0 &&
		    (out[n] = janee_secret_new(tok->parts[i].value->data,
			 tok->parts[i].value->len)) != NULL)
			n++;
	if (pv->api->client_secret_ref != NULL && n < max &&
	    pv->ctx.secret_get(&pv->ctx, pv->api->client_secret_ref, &out[n]) ==
		0)
		n++;
	janee_err_clear();
	if (pv->ctx.cred_get != NULL &&
	    pv->ctx.cred_get(&pv->ctx, &cred) == 0 &&
	    (j = cJSON_ParseWithLength((const char *)cred->data, cred->len)) !=
		NULL) {
		for (i = 0; i < nitems(fields) && n < max; i++)
			if (cJSON_IsString(f = cJSON_GetObjectItemCaseSensitive(
					       j, fields[i])) &&
			    (out[n] = janee_secret_new(f->valuestring,
				 strlen(f->valuestring))) != NULL)
				n++;
		/* Wipe the parsed copy's strings before freeing it. */
		for (f = j->child; f != NULL; f = f->next)
			if (cJSON_IsString(f))
				janee_wipe(
				    f->valuestring, strlen(f->valuestring));
		cJSON_Delete(j);
	}
	janee_err_clear();
	janee_secret_free(cred);
	return n;
}

/* --- the call ------------------------------------------------------ */

/* Response headers never passed back: credentials and hop-by-hop. */
static const char *const dropped_headers[] = { "set-cookie", "set-cookie2",
	"www-authenticate", "proxy-authenticate", "connection",
	"transfer-encoding", "keep-alive" };

static int
header_dropped(const char *line)
{
	size_t nl = strcspn(line, ":"), i;

	for (i = 0; i < nitems(dropped_headers); i++)
		if (strlen(dropped_headers[i]) == nl &&
		    strncasecmp(line, dropped_headers[i], nl) == 0)
			return 1;
	return 0;
}

int
api_is_text(const char *p, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		if (p[i] == '\0' ||
		    (n = janee_utf8_seq(
			 (const unsigned char *)p + i, len - i, NULL)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

static int
nomem(char *err, size_t n)
{
	janee_err_clear();
	snprintf(err, n, "out of memory");
	return -1;
}

int
api_call_start(const struct api_ctx *x, struct api_call *c,
    const char *provider, const char *method, const char *path, char *err,
    size_t n)
{
	struct api_rules *r;

	memset(c, 0, sizeof(*c));
	c->method = method;
	c->path = path;
	if ((c->pv = config_lookup(x->cfg, provider, 0,
		 "call list_providers to see which there are")) == NULL) {
		snprintf(err, n, "%s", janee_err_msg(JANEE_ERR_NOT_FOUND));
		janee_err_clear();
		return -1;
	}
	if ((r = c->pv->api) == NULL) {
		snprintf(err, n,
		    "provider '%s' has no \"api\" rules in config.json, so "
		    "%s may not use it; use request_token, or ask the "
		    "person to add rules",
		    provider, x->tool);
		return -1;
	}
	if (!api_method_ok(method)) {
		snprintf(err, n,
		    "method '%.16s' is not one of GET, HEAD, POST, PUT, "
		    "PATCH, DELETE",
		    method);
		return -1;
	}
	c->audit = 1;
	if (api_path_check(path, err, n) != 0)
		return -1;
	switch (api_decide(r, method, path, &c->match)) {
	case API_DENY:
		if (c->match.too_complex)
			snprintf(err, n,
			    "%s %s is denied: the rule '%s' cannot be checked "
			    "against it (a {name} segment of 256 bytes or "
			    "more, or a pattern that backtracks too much)",
			    method, path, c->match.rule);
		else
			snprintf(err, n, "%s %s is denied by the rule '%s'",
			    method, path, c->match.rule);
		return -1;
	case API_UNLISTED:
		snprintf(err, n,
		    "%s %s matches no \"allow\" rule of provider '%s'", method,
		    path, provider);
		return -1;
	case API_ALLOW:
		break;
	}
	return api_provider_check(
	    r, c->pv->impl->resource, &c->pv->pol.resources, &c->match, err, n);
}

int
api_call_header(struct api_call *c, const char *name, const char *value,
    char *err, size_t n)
{
	char *line;

	if (header_check(c->pv->api, name, value, err, n) != 0)
		return -1;
	c->has_type |= strcasecmp(name, "Content-Type") == 0;
	if ((line = janee_asprintf("%s: %s", name, value)) == NULL ||
	    janee_strlist_add(&c->headers, line) != 0) {
		free(line);
		return nomem(err, n);
	}
	free(line);
	return 0;
}

int
api_call_body(
    struct api_call *c, const char *body, size_t len, char *err, size_t n)
{
	if (len > API_BODY_MAX) {
		snprintf(err, n, "the body is larger than 1 MiB");
		return -1;
	}
	if (strcmp(c->method, "GET") == 0 || strcmp(c->method, "HEAD") == 0) {
		snprintf(err, n, "a %s request takes no body", c->method);
		return -1;
	}
	c->body = body;
	c->body_len = len;
	return 0;
}

/* A query as sent: visible ASCII, no fragment, well-formed %XX only. */
static int
query_check(const char *q, char *err, size_t n)
{
	static const char hex[] = "0123456789abcdefABCDEF";
	size_t i;

	for (i = 0; q[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)q[i];

		if (ch <= 0x20 || ch >= 0x7f || ch == '#' ||
		    (ch == '%' &&
			(q[i + 1] == '\0' || strchr(hex, q[i + 1]) == NULL ||
			    q[i + 2] == '\0' ||
			    strchr(hex, q[i + 2]) == NULL))) {
			snprintf(err, n,
			    "the query holds a byte that is not sent as is "
			    "(at offset %zu); encode it as %%XX",
			    i);
			return -1;
		}
	}
	return 0;
}

int
api_call_finish(
    struct api_call *c, const char *query, const char *key, char *err, size_t n)
{
	struct api_rules *r = c->pv->api;
	size_t i, j, nl;
	int set;

	/* The provider's defaults (GitHub's Accept and API version) for
	 * the names the caller did not set. */
	for (i = 0; i < r->default_headers.n; i++) {
		const char *d = r->default_headers.v[i];

		nl = strcspn(d, ":");
		for (set = 0, j = 0; j < c->headers.n; j++)
			set |= strcspn(c->headers.v[j], ":") == nl &&
			    strncasecmp(c->headers.v[j], d, nl) == 0;
		if (!set && janee_strlist_add(&c->headers, d) != 0)
			return nomem(err, n);
	}
	if (c->body != NULL && !c->has_type &&
	    janee_strlist_add(&c->headers, "Content-Type: application/json") !=
		0)
		return nomem(err, n);
	if (query != NULL && *query != '\0' && query_check(query, err, n) != 0)
		return -1;
	if (strlen(c->path) + (query ? strlen(query) : 0) > API_PATH_MAX * 4) {
		snprintf(err, n, "the path and query are too long");
		return -1;
	}
	if ((c->url = janee_asprintf("%s%s%s%s", r->base_url, c->path,
		 query && *query ? "?" : "", query ? query : "")) == NULL ||
	    (c->key = janee_strdup(key ? key : "")) == NULL)
		return nomem(err, n);
	return 0;
}

void
api_call_free(struct api_call *c)
{
	free(c->url);
	free(c->key);
	janee_strlist_free(&c->headers);
	memset(c, 0, sizeof(*c));
}

static void
audit_call(const struct api_ctx *x, const char *provider, const char *lease_id,
    const char *outcome, const char *detail)
{
	struct audit_event ev;
	int rc;

	memset(&ev, 0, sizeof(ev));
	ev.event = "api_call";
	ev.actor = x->actor;
	ev.client = x->client;
	ev.provider = provider;
	ev.lease_id = lease_id;
	ev.outcome = outcome;
	ev.detail = detail;
	if ((rc = audit_record(x->lg, &ev)) != 0) {
		fprintf(stderr, "janee: warning: cannot audit the call: %s\n",
		    janee_err_msg(rc));
		janee_err_clear();
	}
}

int
api_call_refused(
    const struct api_ctx *x, const struct api_call *c, const char *err)
{
	char detail[600];
	struct buf path;
	size_t i;

	if (c->audit && c->pv != NULL) {
		/* The path as sent may hold any byte (janee proxy): the
		 * audit gets it %XX-encoded past printable ASCII. */
		buf_init(&path, 1024);
		for (i = 0; c->path[i] != '\0' && i < 300; i++) {
			unsigned char ch = (unsigned char)c->path[i];

			if ((ch > 0x20 && ch < 0x7f
				    ? buf_add(&path, c->path + i, 1)
				    : buf_printf(&path, "%%%02X", ch)) != 0)
				break;
		}
		janee_err_clear();
		snprintf(detail, sizeof(detail), "%s %s refused: %s", c->method,
		    path.p ? path.p : "", err);
		buf_free(&path);
		audit_call(x, c->pv->name, NULL, "denied", detail);
	}
	return janee_err_set(JANEE_ERR_POLICY, "%s", err);
}

/* --- leases kept for later calls ------------------------------------ */

static void
lease_entry_free(struct api_lease *l)
{
	size_t i;

	free(l->provider);
	free(l->key);
	janee_secret_free(l->token);
	for (i = 0; i < l->nsec; i++)
		janee_secret_free(l->secrets[i]);
	free(l);
}

void
api_lease_free_all(struct api_lease **list)
{
	struct api_lease *l;

	while ((l = *list) != NULL) {
		*list = l->next;
		lease_entry_free(l);
	}
}

struct api_lease *
api_lease_find(
    const struct api_ctx *x, struct api_lease **list, const struct api_call *c)
{
	struct api_lease **pp, *l;
	struct lease row;
	int ok, rc;

	for (pp = list; (l = *pp) != NULL;) {
		if (strcmp(l->provider, c->pv->name) != 0 ||
		    strcmp(l->key, c->key) != 0) {
			pp = &l->next;
			continue;
		}
		/* The ledger says whether it still runs (revoked, expired). */
		rc = lease_load(x->lg, l->lease_id, &row);
		janee_err_clear();
		if (rc == 0) {
			ok = row.state == LEASE_ACTIVE &&
			    janee_now_ms() < row.expires_ms;
			lease_free(&row);
			if (ok)
				return l;
		} else if (rc != JANEE_ERR_NOT_FOUND) {
			/* Unread (a busy or failing ledger), not ended: not
			 * used, but kept, so that whoever kept it (janee
			 * proxy's stop) can still end it. */
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		lease_entry_free(l);
	}
	return NULL;
}

struct api_lease *
api_lease_keep(struct api_lease **list, struct prov *pv, const char *key,
    const struct broker_grant *g)
{
	const struct janee_secret *tok =
	    janee_token_get(&g->tok, prov_primary(pv)->name);
	struct api_lease *l;

	if (tok == NULL || (l = calloc(1, sizeof(*l))) == NULL) {
		janee_err_clear();
		return NULL;
	}
	l->nsec = call_secrets(pv, &g->tok, l->secrets, nitems(l->secrets));
	if ((l->provider = janee_strdup(pv->name)) == NULL ||
	    (l->key = janee_strdup(key)) == NULL ||
	    (l->token = janee_secret_new(tok->data, tok->len)) == NULL ||
	    l->nsec == 0) {
		lease_entry_free(l);
		janee_err_clear();
		return NULL;
	}
	memcpy(l->lease_id, g->lease_id, JANEE_LEASE_ID_LEN);
	l->expires_ms = g->expires_ms;
	l->next = *list;
	*list = l;
	return l;
}

/* --- send and scrub ------------------------------------------------- */

void
api_answer_free(struct api_answer *a)
{
	janee_strlist_free(&a->headers);
	if (a->body.p != NULL)
		janee_wipe(a->body.p, a->body.len);
	buf_free(&a->body);
	memset(a, 0, sizeof(*a));
}

int
api_call_send(const struct api_ctx *x, const struct api_call *c,
    const struct api_lease *l, struct api_answer *a)
{
	struct api_rules *r = c->pv->api;
	struct janee_http_req req;
	struct janee_http_resp resp;
	const char **hv = NULL;
	struct buf line;
	char what[160], detail[600];
	size_t i;
	int rc;

	memset(a, 0, sizeof(*a));
	memset(&resp, 0, sizeof(resp));
	if (*x->http == NULL && (*x->http = janee_http_new()) == NULL) {
		janee_err_clear();
		return janee_err_set(
		    JANEE_ERR_INTERNAL, "cannot start the HTTP client");
	}
	if ((hv = calloc(c->headers.n + 1, sizeof(*hv))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	for (i = 0; i < c->headers.n; i++)
		hv[i] = c->headers.v[i];
	snprintf(what, sizeof(what), "provider '%s' API", c->pv->name);
	memset(&req, 0, sizeof(req));
	req.method = c->method;
	req.url = c->url;
	req.what = what;
	req.ca_file = r->ca_file;
	req.headers = hv;
	req.body = c->body;
	req.body_len = c->body_len;
	req.bearer = l->token;
	req.bearer_header = r->auth_header;
	req.bearer_scheme = r->auth_scheme;
	req.no_retry = 1; /* the caller decides whether to send it again */
	req.secret_answer = 1; /* JANEE_DEBUG=http: sizes only */
	req.max_body = r->max_response;
	req.truncate = 1;
	req.timeout_ms = r->timeout_s * 1000;
	req.path_as_is = 1;
	req.want_headers = 1;
	rc = janee_http_do(*x->http, &req, &resp);
	free(hv);
	if (rc != 0) {
		/* The URL is the caller's own; the message names no secret,
		 * but is scrubbed like an answer all the same. */
		buf_init(&line, 64 * 1024);
		if (buf_addstr(&line, janee_err_msg(rc)) != 0)
			janee_err_clear();
		redact(&line, l->secrets, l->nsec, 0);
		janee_err_clear();
		snprintf(detail, sizeof(detail), "%s %s rule '%s': %s",
		    c->method, c->path, c->match.rule,
		    line.p ? line.p : "failed");
		audit_call(x, c->pv->name, l->lease_id, "error", detail);
		rc = janee_err_set(JANEE_ERR_NETWORK, "%s",
		    line.p ? line.p : "the call failed");
		buf_free(&line);
		goto out;
	}
	a->status = resp.status;
	a->truncated = resp.truncated;
	buf_init(&a->body, resp.len + 64);
	if (resp.len > 0 && buf_add(&a->body, resp.body, resp.len) != 0)
		janee_err_clear();
	redact(&a->body, l->secrets, l->nsec, resp.truncated);
	for (i = 0; i < resp.headers.n; i++) {
		if (strchr(resp.headers.v[i], ':') == NULL ||
		    header_dropped(resp.headers.v[i]))
			continue;
		buf_init(&line, 64 * 1024);
		if (buf_addstr(&line, resp.headers.v[i]) != 0)
			janee_err_clear();
		redact(&line, l->secrets, l->nsec, 0);
		if (line.p != NULL && api_is_text(line.p, line.len) &&
		    janee_strlist_add(&a->headers, line.p) != 0)
			janee_err_clear();
		buf_free(&line);
	}
	snprintf(detail, sizeof(detail),
	    "%s %s rule '%s': status %ld, %zu bytes%s", c->method, c->path,
	    c->match.rule, resp.status, resp.len,
	    resp.truncated ? " (truncated)" : "");
	audit_call(x, c->pv->name, l->lease_id,
	    resp.status < 400 ? "ok" : "error", detail);
out:
	janee_http_resp_free(&resp);
	return rc;
}
