/*
 * The MCP tool call_api: janee makes the HTTP call with the lease's
 * token, so that the token never enters the agent's context (issue 15).
 *
 * Order of checks, all before any request: the provider has "api" rules;
 * the method is one call_api sends; the path passes api_path_check (never
 * "fixed"); a deny rule does not match and an allow rule does; the
 * resource the rule matched, when the provider names one (its info's
 * api_resource_var: GitHub's {repo}), is on the allow-list; the request
 * headers are on the safe list.  Then the lease: this session's active
 * lease for the same provider, scopes and resources when there is one,
 * else one obtained exactly as request_token obtains it (mcp-lease.c).
 * The answer is capped, its headers filtered, and every secret of the
 * call replaced by "[redacted]" in the encodings the leak sweep knows.
 * One audit event per call ("api_call"): method, path, rule, status,
 * bytes, lease; never a body or a query.
 */
#include "common.h"

#include <strings.h>

#include <openssl/evp.h>

#include "api-rules.h"
#include "audit.h"
#include "broker.h"
#include "buf.h"
#include "janee/http.h"
#include "mcp.h"
#include "text.h"
#include "util.h"

#define REDACTED "[redacted]"
#define HEADER_VALUE_MAX 1024
#define BODY_MAX (1024 * 1024)

/* A lease of this session that call_api may use again. */
struct mcp_api_lease {
	char *provider;
	char *key; /* scopes and resources as asked */
	char lease_id[JANEE_LEASE_ID_LEN];
	struct janee_secret *token;
	/* What to redact: the token and the provider's other secrets,
	 * read once when the lease came (call_secrets). */
	struct janee_secret *secrets[8];
	size_t nsec;
	int64_t expires_ms;
	struct mcp_api_lease *next;
};

/* One call, checked and ready to send. */
struct api_call {
	struct prov *pv;
	const char *method, *path;
	char *url;
	char *key;
	struct janee_strlist headers; /* "Name: value" */
	const char *body;
	size_t body_len;
	struct api_match match;
};

static void
call_free(struct api_call *c)
{
	free(c->url);
	free(c->key);
	janee_strlist_free(&c->headers);
}

static void
lease_entry_free(struct mcp_api_lease *l)
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
mcp_api_free(struct mcp *m)
{
	struct mcp_api_lease *l;

	while ((l = m->api_leases) != NULL) {
		m->api_leases = l->next;
		lease_entry_free(l);
	}
}

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
static int
query_add(struct buf *b, const char *s)
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

static int
build_url(struct api_call *c, const cJSON *query, char *err, size_t n)
{
	const cJSON *e;
	struct buf b;
	int rc, first = 1;

	buf_init(&b, API_PATH_MAX * 4);
	rc = buf_printf(&b, "%s%s", c->pv->api->base_url, c->path);
	cJSON_ArrayForEach(e, query)
	{
		if (!cJSON_IsString(e)) {
			snprintf(err, n, "query '%.64s' must be a string",
			    e->string);
			buf_free(&b);
			return -1;
		}
		if (rc == 0)
			rc = buf_add(&b, first ? "?" : "&", 1);
		if (rc == 0)
			rc = query_add(&b, e->string);
		if (rc == 0)
			rc = buf_add(&b, "=", 1);
		if (rc == 0)
			rc = query_add(&b, e->valuestring);
		first = 0;
	}
	if (rc != 0) {
		janee_err_clear();
		snprintf(err, n, "the path and query are too long");
		buf_free(&b);
		return -1;
	}
	c->url = janee_strdup(b.p);
	buf_free(&b);
	if (c->url == NULL) {
		snprintf(err, n, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * Check a call against the provider's rules; 0 ready, -1 refused with
 * why in err (and *audit set when it is worth an audit event: a call the
 * rules refused, not a typo in the arguments).
 */
static int
call_prepare(struct mcp *m, const cJSON *args, struct api_call *c, char *err,
    size_t n, int *audit)
{
	const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(args, "headers");
	const cJSON *query = cJSON_GetObjectItemCaseSensitive(args, "query");
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(args, "body");
	const cJSON *v;
	const char *prov = NULL;
	struct api_rules *r;
	struct buf key;
	char *line;
	size_t i;
	int has_type = 0;

	memset(c, 0, sizeof(*c));
	*audit = 0;
	v = cJSON_GetObjectItemCaseSensitive(args, "provider");
	prov = cJSON_IsString(v) ? v->valuestring : "";
	if ((c->pv = config_lookup(m->core->cfg, prov, 0,
		 "call list_providers to see which there are")) == NULL) {
		snprintf(err, n, "%s", janee_err_msg(JANEE_ERR_NOT_FOUND));
		janee_err_clear();
		return -1;
	}
	if ((r = c->pv->api) == NULL) {
		snprintf(err, n,
		    "provider '%s' has no \"api\" rules in config.json, so "
		    "call_api may not use it; use request_token, or ask the "
		    "person to add rules",
		    prov);
		return -1;
	}
	v = cJSON_GetObjectItemCaseSensitive(args, "method");
	c->method = cJSON_IsString(v) ? v->valuestring : "";
	v = cJSON_GetObjectItemCaseSensitive(args, "path");
	c->path = cJSON_IsString(v) ? v->valuestring : "";
	if (!api_method_ok(c->method)) {
		snprintf(err, n,
		    "method '%.16s' is not one of GET, HEAD, POST, PUT, "
		    "PATCH, DELETE",
		    c->method);
		return -1;
	}
	*audit = 1;
	if (api_path_check(c->path, err, n) != 0)
		return -1;
	switch (api_decide(r, c->method, c->path, &c->match)) {
	case API_DENY:
		snprintf(err, n, "%s %s is denied by the rule '%s'", c->method,
		    c->path, c->match.rule);
		return -1;
	case API_UNLISTED:
		snprintf(err, n,
		    "%s %s matches no \"allow\" rule of provider '%s'",
		    c->method, c->path, prov);
		return -1;
	case API_ALLOW:
		break;
	}
	if (api_provider_check(r, c->pv->impl->resource, &c->pv->pol.resources,
		&c->match, err, n) != 0)
		return -1;
	if (query != NULL && !cJSON_IsObject(query)) {
		snprintf(err, n, "'query' must be an object of strings");
		return -1;
	}
	if (hdrs != NULL && !cJSON_IsObject(hdrs)) {
		snprintf(err, n, "'headers' must be an object of strings");
		return -1;
	}
	cJSON_ArrayForEach(v, hdrs)
	{
		if (!cJSON_IsString(v)) {
			snprintf(err, n, "header '%.64s' must be a string",
			    v->string);
			return -1;
		}
		if (header_check(r, v->string, v->valuestring, err, n) != 0)
			return -1;
		has_type |= strcasecmp(v->string, "Content-Type") == 0;
		if ((line = janee_asprintf(
			 "%s: %s", v->string, v->valuestring)) == NULL ||
		    janee_strlist_add(&c->headers, line) != 0) {
			free(line);
			janee_err_clear();
			snprintf(err, n, "out of memory");
			return -1;
		}
		free(line);
	}
	/* The provider's defaults (GitHub's Accept and API version) for
	 * the names the agent did not set. */
	for (i = 0; i < r->default_headers.n; i++) {
		const char *d = r->default_headers.v[i];
		size_t nl = strcspn(d, ":");

		int set = 0;

		cJSON_ArrayForEach(v, hdrs) set |= strlen(v->string) == nl &&
		    strncasecmp(v->string, d, nl) == 0;
		if (!set && janee_strlist_add(&c->headers, d) != 0) {
			janee_err_clear();
			snprintf(err, n, "out of memory");
			return -1;
		}
	}
	if (cJSON_IsString(body)) {
		c->body = body->valuestring;
		c->body_len = strlen(body->valuestring);
		if (c->body_len > BODY_MAX) {
			snprintf(err, n, "'body' is larger than 1 MiB");
			return -1;
		}
		if (strcmp(c->method, "GET") == 0 ||
		    strcmp(c->method, "HEAD") == 0) {
			snprintf(
			    err, n, "a %s request takes no body", c->method);
			return -1;
		}
		if (!has_type &&
		    janee_strlist_add(
			&c->headers, "Content-Type: application/json") != 0) {
			janee_err_clear();
			snprintf(err, n, "out of memory");
			return -1;
		}
	}
	if (build_url(c, query, err, n) != 0)
		return -1;
	/* The lease's identity: what it was asked for. */
	buf_init(&key, 64 * 1024);
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(args, "scopes"))
	{
		if (buf_printf(&key, "s:%s\n", v->valuestring) != 0)
			break;
	}
	/* "repositories" is the resources' other name (one of them). */
	cJSON_ArrayForEach(
	    v, cJSON_GetObjectItemCaseSensitive(args, "resources"))
	{
		if (buf_printf(&key, "r:%s\n", v->valuestring) != 0)
			break;
	}
	cJSON_ArrayForEach(
	    v, cJSON_GetObjectItemCaseSensitive(args, "repositories"))
	{
		if (buf_printf(&key, "r:%s\n", v->valuestring) != 0)
			break;
	}
	c->key = janee_strdup(key.p ? key.p : "");
	buf_free(&key);
	janee_err_clear();
	if (c->key == NULL) {
		snprintf(err, n, "out of memory");
		return -1;
	}
	return 0;
}

/* --- redaction ----------------------------------------------------- */

/* Replace every occurrence of needle in b (binary-safe). */
static void
replace_all(struct buf *b, const char *needle, size_t nl)
{
	struct buf out;
	size_t i = 0, j;

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
redact_b64(struct buf *b, const unsigned char *v, size_t len, int url)
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
			replace_all(b, (char *)enc + first, last - first);
	}
	free(in);
	free(enc);
}

/* Every spelling of secret s that the leak sweep looks for. */
static void
redact_one(struct buf *b, const struct janee_secret *s)
{
	struct buf enc;
	cJSON *str;
	char *js;

	if (s == NULL || s->len < 8)
		return;
	replace_all(b, (const char *)s->data, s->len);
	if ((str = cJSON_CreateString((const char *)s->data)) != NULL &&
	    (js = cJSON_PrintUnformatted(str)) != NULL) {
		replace_all(b, js + 1, strlen(js) - 2);
		cJSON_free(js);
	}
	cJSON_Delete(str);
	buf_init(&enc, s->len * 3 + 16);
	if (query_add(&enc, (const char *)s->data) == 0 && enc.p != NULL)
		replace_all(b, enc.p, enc.len);
	buf_free(&enc);
	redact_b64(b, s->data, s->len, 0);
	redact_b64(b, s->data, s->len, 1);
}

static void
redact(struct buf *b, struct janee_secret *const *secrets, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		redact_one(b, secrets[i]);
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

static int
body_is_text(const struct buf *b)
{
	size_t i = 0, n;

	while (i < b->len) {
		if (b->p[i] == '\0' ||
		    (n = janee_utf8_seq((const unsigned char *)b->p + i,
			 b->len - i, NULL)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

static void
audit_call(struct mcp *m, const char *provider, const char *lease_id,
    const char *outcome, const char *detail)
{
	struct audit_event ev;
	int rc;

	memset(&ev, 0, sizeof(ev));
	ev.event = "api_call";
	ev.actor = "agent";
	ev.client = m->client;
	ev.provider = provider;
	ev.lease_id = lease_id;
	ev.outcome = outcome;
	ev.detail = detail;
	if ((rc = audit_record(m->core->lg, &ev)) != 0) {
		mcp_warn("cannot audit the call: %s", janee_err_msg(rc));
		janee_err_clear();
	}
}

/* Send c with token; the answer as call_api's result in *out. */
static int
call_send(struct mcp *m, struct api_call *c, const char *lease_id,
    const struct janee_secret *token, struct janee_secret *const *secrets,
    size_t nsec, cJSON **out)
{
	struct api_rules *r = c->pv->api;
	struct janee_http_req req;
	struct janee_http_resp resp;
	const char **hv = NULL;
	struct buf body, line;
	cJSON *o, *h;
	char what[160], detail[600], *b64;
	size_t i;
	int rc;

	*out = NULL;
	if (m->core->broker.http == NULL &&
	    (m->core->broker.http = janee_http_new()) == NULL) {
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
	req.bearer = token;
	req.bearer_header = r->auth_header;
	req.bearer_scheme = r->auth_scheme;
	req.no_retry = 1; /* the agent decides whether to send it again */
	req.secret_answer = 1; /* JANEE_DEBUG=http: sizes only */
	req.max_body = r->max_response;
	req.truncate = 1;
	req.timeout_ms = r->timeout_s * 1000;
	req.path_as_is = 1;
	req.want_headers = 1;
	rc = janee_http_do(m->core->broker.http, &req, &resp);
	free(hv);
	if (rc != 0) {
		/* The URL is the agent's own; the message names no secret,
		 * but is scrubbed like an answer all the same. */
		buf_init(&line, 64 * 1024);
		if (buf_addstr(&line, janee_err_msg(rc)) != 0)
			janee_err_clear();
		redact(&line, secrets, nsec);
		janee_err_clear();
		snprintf(detail, sizeof(detail), "%s %s rule '%s': %s",
		    c->method, c->path, c->match.rule,
		    line.p ? line.p : "failed");
		audit_call(m, c->pv->name, lease_id, "error", detail);
		rc = janee_err_set(JANEE_ERR_NETWORK, "%s",
		    line.p ? line.p : "the call failed");
		buf_free(&line);
		goto out;
	}
	buf_init(&body, resp.len + 64);
	if (resp.len > 0 && buf_add(&body, resp.body, resp.len) != 0)
		janee_err_clear();
	redact(&body, secrets, nsec);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "status", (double)resp.status);
	h = cJSON_AddObjectToObject(o, "headers");
	for (i = 0; i < resp.headers.n; i++) {
		char *ln = resp.headers.v[i], *colon = strchr(ln, ':'), *val;

		if (colon == NULL || header_dropped(ln))
			continue;
		*colon = '\0';
		for (val = colon + 1; *val == ' ' || *val == '\t'; val++)
			;
		buf_init(&line, 64 * 1024);
		if (buf_addstr(&line, val) != 0)
			janee_err_clear();
		redact(&line, secrets, nsec);
		/* A repeated header joins with ", " (RFC 9110 5.3). */
		if (cJSON_GetObjectItem(h, ln) == NULL && line.p != NULL &&
		    body_is_text(&line))
			cJSON_AddStringToObject(h, ln, line.p);
		buf_free(&line);
	}
	if (body_is_text(&body)) {
		cJSON_AddStringToObject(o, "body", body.p ? body.p : "");
		cJSON_AddStringToObject(o, "body_encoding", "utf-8");
	} else {
		if ((b64 = calloc(1, (body.len + 2) / 3 * 4 + 1)) != NULL)
			EVP_EncodeBlock((unsigned char *)b64,
			    (unsigned char *)body.p, (int)body.len);
		cJSON_AddStringToObject(o, "body", b64 ? b64 : "");
		cJSON_AddStringToObject(o, "body_encoding", "base64");
		free(b64);
	}
	cJSON_AddBoolToObject(o, "truncated", resp.truncated);
	cJSON_AddStringToObject(o, "lease_id", lease_id);
	snprintf(detail, sizeof(detail),
	    "%s %s rule '%s': status %ld, %zu bytes%s", c->method, c->path,
	    c->match.rule, resp.status, resp.len,
	    resp.truncated ? " (truncated)" : "");
	audit_call(m, c->pv->name, lease_id, resp.status < 400 ? "ok" : "error",
	    detail);
	if (body.p != NULL)
		janee_wipe(body.p, body.len);
	buf_free(&body);
	*out = o;
out:
	janee_http_resp_free(&resp);
	return rc;
}

/* This session's lease for the call, when one is still active. */
static struct mcp_api_lease *
reusable(struct mcp *m, const struct api_call *c)
{
	struct mcp_api_lease **pp, *l;
	struct lease row;
	int ok;

	for (pp = &m->api_leases; (l = *pp) != NULL;) {
		if (strcmp(l->provider, c->pv->name) != 0 ||
		    strcmp(l->key, c->key) != 0) {
			pp = &l->next;
			continue;
		}
		/* The ledger says whether it still runs (revoked, expired). */
		ok = lease_load(m->core->lg, l->lease_id, &row) == 0;
		janee_err_clear();
		if (ok) {
			ok = row.state == LEASE_ACTIVE &&
			    janee_now_ms() < row.expires_ms;
			lease_free(&row);
		}
		if (ok)
			return l;
		*pp = l->next;
		lease_entry_free(l);
	}
	return NULL;
}

/* Keep the lease for this session's later calls, with its secrets. */
static struct mcp_api_lease *
remember(struct mcp *m, const struct api_call *c, const struct broker_grant *g)
{
	const struct janee_secret *tok =
	    janee_token_get(&g->tok, prov_primary(c->pv)->name);
	struct mcp_api_lease *l;

	if (tok == NULL || (l = calloc(1, sizeof(*l))) == NULL) {
		janee_err_clear();
		return NULL;
	}
	l->nsec = call_secrets(c->pv, &g->tok, l->secrets, nitems(l->secrets));
	if ((l->provider = janee_strdup(c->pv->name)) == NULL ||
	    (l->key = janee_strdup(c->key)) == NULL ||
	    (l->token = janee_secret_new(tok->data, tok->len)) == NULL ||
	    l->nsec == 0) {
		lease_entry_free(l);
		janee_err_clear();
		return NULL;
	}
	memcpy(l->lease_id, g->lease_id, JANEE_LEASE_ID_LEN);
	l->expires_ms = g->expires_ms;
	l->next = m->api_leases;
	m->api_leases = l;
	return l;
}

/* A call refused before any request: audited once it names a method. */
static int
refused_call(
    struct mcp *m, const struct api_call *c, const char *err, int audit)
{
	char detail[600];

	if (audit) {
		snprintf(detail, sizeof(detail), "%s %.300s refused: %s",
		    c->method, c->path, err);
		audit_call(m, c->pv->name, NULL, "denied", detail);
	}
	return janee_err_set(JANEE_ERR_POLICY, "%s", err);
}

/* The lease came (now or after an approval): make the call. */
static int
api_granted(
    struct mcp *m, const cJSON *args, const struct broker_grant *g, cJSON **out)
{
	struct mcp_api_lease *l;
	struct api_call c;
	char err[400];
	int audit, rc;

	*out = NULL;
	/* Checked again: the configuration is the same, the answer too. */
	if (call_prepare(m, args, &c, err, sizeof(err), &audit) != 0)
		rc = refused_call(m, &c, err, audit);
	else if ((l = remember(m, &c, g)) == NULL)
		/* Never sent without what its answer must be scrubbed of. */
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	else
		rc = call_send(
		    m, &c, l->lease_id, l->token, l->secrets, l->nsec, out);
	call_free(&c);
	return rc;
}

static const struct mcp_lease_tool call_api_tool = {
	.name = "call_api",
	.granted = api_granted,
};

cJSON *
mcp_call_api(
    struct mcp *m, cJSON *id, const cJSON *params, int stateless, int *pending)
{
	const cJSON *args =
	    cJSON_GetObjectItemCaseSensitive(params, "arguments");
	struct mcp_api_lease *l;
	struct broker_req req;
	struct api_call c;
	char err[400];
	cJSON *r, *out = NULL;
	int audit, rc;

	*pending = 0;
	if (stateless &&
	    cJSON_GetObjectItemCaseSensitive(params, "requestState") != NULL)
		return mcp_lease_resume(m, &call_api_tool, id, params, pending);
	if (call_prepare(m, args, &c, err, sizeof(err), &audit) != 0) {
		rc = refused_call(m, &c, err, audit);
		call_free(&c);
		return mcp_tool_result(rc, NULL);
	}
	if ((l = reusable(m, &c)) != NULL) {
		rc = call_send(
		    m, &c, l->lease_id, l->token, l->secrets, l->nsec, &out);
		call_free(&c);
		return mcp_tool_result(rc, out);
	}
	memset(&req, 0, sizeof(req));
	req.provider = c.pv->name;
	if ((r = mcp_lease_args(args, &req)) == NULL)
		r = mcp_lease_obtain(
		    m, &call_api_tool, id, params, &req, stateless, pending);
	janee_err_clear();
	janee_strlist_free(&req.scopes);
	janee_strlist_free(&req.resources);
	call_free(&c);
	return r;
}
