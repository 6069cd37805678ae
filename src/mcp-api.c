/*
 * The MCP tool call_api: janee makes the HTTP call with the lease's
 * token, so that the token never enters the agent's context (issue 15).
 *
 * This file turns the tool's arguments into a call and the answer into
 * its result; the checks, the lease kept for reuse, the send, the
 * scrubbing and the audit are api-call.c's, shared with janee proxy.
 * Order: the call is checked (api_call_start and the rest) before any
 * request; then this session's active lease for the same provider,
 * scopes and resources when there is one, else one obtained exactly as
 * request_token obtains it (mcp-lease.c).
 */
#include "common.h"

#include <strings.h>

#include <openssl/evp.h>

#include "api-call.h"
#include "broker.h"
#include "buf.h"
#include "mcp.h"
#include "util.h"

void
mcp_api_free(struct mcp *m)
{
	api_lease_free_all(&m->api_leases);
}

static struct api_ctx
api_ctx(struct mcp *m)
{
	struct api_ctx x;

	memset(&x, 0, sizeof(x));
	x.cfg = m->core->cfg;
	x.lg = m->core->lg;
	x.http = &m->core->broker.http;
	x.actor = "agent";
	x.client = m->client;
	x.tool = "call_api";
	return x;
}

/* The query object as "name=value&...", each part %XX-encoded. */
static int
query_string(const cJSON *query, struct buf *b, char *err, size_t n)
{
	const cJSON *e;
	int rc = 0, first = 1;

	if (query != NULL && !cJSON_IsObject(query)) {
		snprintf(err, n, "'query' must be an object of strings");
		return -1;
	}
	cJSON_ArrayForEach(e, query)
	{
		if (!cJSON_IsString(e)) {
			snprintf(err, n, "query '%.64s' must be a string",
			    e->string);
			return -1;
		}
		if (rc == 0 && !first)
			rc = buf_add(b, "&", 1);
		if (rc == 0)
			rc = api_urlencode(b, e->string);
		if (rc == 0)
			rc = buf_add(b, "=", 1);
		if (rc == 0)
			rc = api_urlencode(b, e->valuestring);
		first = 0;
	}
	if (rc != 0) {
		janee_err_clear();
		snprintf(err, n, "the path and query are too long");
		return -1;
	}
	return 0;
}

/* The lease's identity: the scopes and resources asked for. */
static int
lease_key(const cJSON *args, struct buf *key)
{
	static const char *const lists[] = { "scopes", "resources",
		"repositories" };
	const cJSON *v;
	size_t i;

	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(args, "scopes"))
	{
		if (buf_printf(key, "s:%s\n", v->valuestring) != 0)
			return -1;
	}
	/* "repositories" is the resources' other name (one of them). */
	for (i = 1; i < nitems(lists); i++)
		cJSON_ArrayForEach(
		    v, cJSON_GetObjectItemCaseSensitive(args, lists[i]))
		{
			if (buf_printf(key, "r:%s\n", v->valuestring) != 0)
				return -1;
		}
	return 0;
}

/*
 * Check a call against the provider's rules; 0 ready, -1 refused with
 * why in err (audited by api_call_refused when it names a method).
 */
static int
call_prepare(
    struct mcp *m, const cJSON *args, struct api_call *c, char *err, size_t n)
{
	const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(args, "headers");
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(args, "body");
	const cJSON *v;
	struct api_ctx x = api_ctx(m);
	const char *prov, *method, *path;
	struct buf q, key;
	int rc;

	v = cJSON_GetObjectItemCaseSensitive(args, "provider");
	prov = cJSON_IsString(v) ? v->valuestring : "";
	v = cJSON_GetObjectItemCaseSensitive(args, "method");
	method = cJSON_IsString(v) ? v->valuestring : "";
	v = cJSON_GetObjectItemCaseSensitive(args, "path");
	path = cJSON_IsString(v) ? v->valuestring : "";
	if (api_call_start(&x, c, prov, method, path, err, n) != 0)
		return -1;
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
		if (api_call_header(c, v->string, v->valuestring, err, n) != 0)
			return -1;
	}
	if (cJSON_IsString(body) &&
	    api_call_body(
		c, body->valuestring, strlen(body->valuestring), err, n) != 0)
		return -1;
	buf_init(&q, API_PATH_MAX * 4);
	buf_init(&key, 64 * 1024);
	rc = query_string(
	    cJSON_GetObjectItemCaseSensitive(args, "query"), &q, err, n);
	if (rc == 0 && lease_key(args, &key) != 0) {
		janee_err_clear();
		snprintf(err, n, "too many scopes or resources");
		rc = -1;
	}
	if (rc == 0)
		rc = api_call_finish(c, q.p, key.p, err, n);
	buf_free(&q);
	buf_free(&key);
	return rc;
}

/* The answer as call_api's structured result. */
static cJSON *
answer_json(const struct api_answer *a, const char *lease_id)
{
	cJSON *o = cJSON_CreateObject(), *h;
	char *b64, *ln, *colon, *val;
	size_t i;

	cJSON_AddNumberToObject(o, "status", (double)a->status);
	h = cJSON_AddObjectToObject(o, "headers");
	for (i = 0; i < a->headers.n; i++) {
		ln = a->headers.v[i];
		if ((colon = strchr(ln, ':')) == NULL)
			continue;
		*colon = '\0';
		for (val = colon + 1; *val == ' ' || *val == '\t'; val++)
			;
		/* A repeated header: the first only (RFC 9110 5.3). */
		if (cJSON_GetObjectItem(h, ln) == NULL)
			cJSON_AddStringToObject(h, ln, val);
		*colon = ':';
	}
	if (api_is_text(a->body.p, a->body.len)) {
		cJSON_AddStringToObject(o, "body", a->body.p ? a->body.p : "");
		cJSON_AddStringToObject(o, "body_encoding", "utf-8");
	} else {
		if ((b64 = calloc(1, (a->body.len + 2) / 3 * 4 + 1)) != NULL)
			EVP_EncodeBlock((unsigned char *)b64,
			    (unsigned char *)a->body.p, (int)a->body.len);
		cJSON_AddStringToObject(o, "body", b64 ? b64 : "");
		cJSON_AddStringToObject(o, "body_encoding", "base64");
		free(b64);
	}
	cJSON_AddBoolToObject(o, "truncated", a->truncated);
	cJSON_AddStringToObject(o, "lease_id", lease_id);
	return o;
}

static int
send_call(struct mcp *m, const struct api_call *c, const struct api_lease *l,
    cJSON **out)
{
	struct api_ctx x = api_ctx(m);
	struct api_answer a;
	int rc;

	*out = NULL;
	if ((rc = api_call_send(&x, c, l, &a)) != 0)
		return rc;
	*out = answer_json(&a, l->lease_id);
	api_answer_free(&a);
	return 0;
}

/* The lease came (now or after an approval): make the call. */
static int
api_granted(
    struct mcp *m, const cJSON *args, const struct broker_grant *g, cJSON **out)
{
	struct api_ctx x = api_ctx(m);
	struct api_lease *l;
	struct api_call c;
	char err[400];
	int rc;

	*out = NULL;
	/* Checked again: the configuration is the same, the answer too. */
	if (call_prepare(m, args, &c, err, sizeof(err)) != 0)
		rc = api_call_refused(&x, &c, err);
	else if ((l = api_lease_keep(&m->api_leases, c.pv, c.key, g)) == NULL)
		/* Never sent without what its answer must be scrubbed of. */
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	else
		rc = send_call(m, &c, l, out);
	api_call_free(&c);
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
	struct api_ctx x = api_ctx(m);
	struct api_lease *l;
	struct broker_req req;
	struct api_call c;
	char err[400];
	cJSON *r, *out = NULL;
	int rc;

	*pending = 0;
	if (stateless &&
	    cJSON_GetObjectItemCaseSensitive(params, "requestState") != NULL)
		return mcp_lease_resume(m, &call_api_tool, id, params, pending);
	if (call_prepare(m, args, &c, err, sizeof(err)) != 0) {
		rc = api_call_refused(&x, &c, err);
		api_call_free(&c);
		return mcp_tool_result(rc, NULL);
	}
	if ((l = api_lease_find(&x, &m->api_leases, &c)) != NULL) {
		rc = send_call(m, &c, l, &out);
		api_call_free(&c);
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
	api_call_free(&c);
	return r;
}
