/*
 * The MCP tools: request_token, call_api (mcp-api.c), list_providers,
 * list_leases, revoke_token.
 * Anything not in the table is refused.  request_token never starts a
 * login, and an agent cannot approve, widen or extend its own grant: the
 * lease comes through mcp-lease.c, where the broker decides how it is
 * approved (the policy, a person answering an elicitation, or a person
 * at a terminal running `janee approve`).
 */
#include "common.h"

#include "broker.h"
#include "credentials.h"
#include "mcp.h"
#include "util.h"

/* --- arguments ----------------------------------------------------- */

enum arg_type { ARG_STRING, ARG_INT, ARG_STRINGS, ARG_OBJECT };

struct arg {
	const char *name;
	enum arg_type type;
	int required;
};

/* Check args against a tool's input schema; a message when it fails. */
static int
check_args(const cJSON *args, const struct arg *spec, char *err, size_t n)
{
	const struct arg *a;
	const cJSON *v, *e;

	if (args != NULL && !cJSON_IsObject(args)) {
		snprintf(err, n, "'arguments' must be an object");
		return -1;
	}
	cJSON_ArrayForEach(v, args)
	{
		for (a = spec; a->name != NULL; a++)
			if (strcmp(a->name, v->string) == 0)
				break;
		if (a->name == NULL) {
			snprintf(err, n, "unknown argument '%.64s'", v->string);
			return -1;
		}
		switch (a->type) {
		case ARG_STRING:
			if (!cJSON_IsString(v)) {
				snprintf(
				    err, n, "'%s' must be a string", a->name);
				return -1;
			}
			break;
		case ARG_INT:
			if (!cJSON_IsNumber(v) ||
			    v->valuedouble != (double)(int64_t)v->valuedouble) {
				snprintf(
				    err, n, "'%s' must be an integer", a->name);
				return -1;
			}
			break;
		case ARG_OBJECT:
			if (!cJSON_IsObject(v)) {
				snprintf(
				    err, n, "'%s' must be an object", a->name);
				return -1;
			}
			break;
		case ARG_STRINGS:
			if (!cJSON_IsArray(v)) {
				snprintf(err, n,
				    "'%s' must be an array of "
				    "strings",
				    a->name);
				return -1;
			}
			cJSON_ArrayForEach(e, v) if (!cJSON_IsString(e))
			{
				snprintf(err, n,
				    "'%s' must be an array of "
				    "strings",
				    a->name);
				return -1;
			}
			break;
		}
	}
	for (a = spec; a->name != NULL; a++)
		if (a->required &&
		    cJSON_GetObjectItemCaseSensitive(args, a->name) == NULL) {
			snprintf(err, n, "missing argument '%s'", a->name);
			return -1;
		}
	return 0;
}

static const char *
arg_str(const cJSON *args, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
mcp_arg_strings(const cJSON *args, const char *k, struct janee_strlist *out)
{
	const cJSON *e;
	int rc = 0;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(args, k))
	{
		if (rc == 0)
			rc = janee_strlist_add(out, e->valuestring);
	}
	return rc;
}

/* request_token's result: the token, its lease and its bounds. */
static cJSON *
token_granted(struct mcp *m, const cJSON *args, const struct broker_grant *g)
{
	const char *provider = arg_str(args, "provider");
	char exp[JANEE_TIME_LEN];
	cJSON *o = cJSON_CreateObject();

	janee_time_fmt(g->expires_ms, exp);
	cJSON_AddStringToObject(o, "token", (const char *)g->tok.token->data);
	cJSON_AddStringToObject(
	    o, "token_type", g->tok.token_type ? g->tok.token_type : "bearer");
	cJSON_AddStringToObject(o, "lease_id", g->lease_id);
	cJSON_AddStringToObject(o, "provider", provider);
	cJSON_AddItemToObject(o, "scopes", cJSON_Parse(g->granted));
	cJSON_AddStringToObject(o, "expires_at", exp);
	cJSON_AddBoolToObject(o, "revocable", g->revocable);
	return mcp_tool_ok(o);
}

/* --- the tools ----------------------------------------------------- */

static const struct arg request_args[] = {
	{ "provider", ARG_STRING, 1 },
	{ "scopes", ARG_STRINGS, 0 },
	{ "repositories", ARG_STRINGS, 0 },
	{ "ttl_seconds", ARG_INT, 0 },
	{ "reason", ARG_STRING, 1 },
	{ "lease_id", ARG_STRING, 0 },
	{ NULL, 0, 0 },
};

static const struct mcp_lease_tool request_token_tool = {
	.name = "request_token",
	.granted = token_granted,
};

static cJSON *
request_token(
    struct mcp *m, cJSON *id, const cJSON *params, int stateless, int *pending)
{
	const cJSON *args =
	    cJSON_GetObjectItemCaseSensitive(params, "arguments");
	const cJSON *ttl =
	    cJSON_GetObjectItemCaseSensitive(args, "ttl_seconds");
	const char *prov = arg_str(args, "provider"), *lid;
	struct broker_req req;
	cJSON *r = NULL;

	*pending = 0;
	/* The stateless era's second round: the person's answer. */
	if (stateless &&
	    cJSON_GetObjectItemCaseSensitive(params, "requestState") != NULL)
		return mcp_lease_resume(m, &request_token_tool, params);
	/* Collect an approved lease of this session. */
	if ((lid = arg_str(args, "lease_id")) != NULL)
		return mcp_lease_collect(m, &request_token_tool, args, lid);
	if (config_lookup(m->c->cfg, prov, 0,
		"call list_providers to see which there are") == NULL) {
		r = mcp_tool_error("%s", janee_err_msg(JANEE_ERR_NOT_FOUND));
		janee_err_clear();
		return r;
	}
	memset(&req, 0, sizeof(req));
	req.provider = prov;
	req.reason = arg_str(args, "reason");
	req.ttl_s = cJSON_IsNumber(ttl) ? (int64_t)ttl->valuedouble : 0;
	if (req.ttl_s < 0 || (cJSON_IsNumber(ttl) && req.ttl_s == 0))
		r = mcp_tool_error("ttl_seconds must be at least 1");
	else if (mcp_arg_strings(args, "scopes", &req.scopes) != 0 ||
	    mcp_arg_strings(args, "repositories", &req.repositories) != 0)
		r = mcp_tool_error("out of memory");
	else
		r = mcp_lease_obtain(m, &request_token_tool, id, params, &req,
		    stateless, pending);
	janee_strlist_free(&req.scopes);
	janee_strlist_free(&req.repositories);
	return r;
}

static cJSON *
list_providers(struct mcp *m)
{
	struct cred_info ci;
	cJSON *o = cJSON_CreateObject(), *arr, *p, *a;
	char cmd[128];
	size_t i, j;

	arr = cJSON_AddArrayToObject(o, "providers");
	for (i = 0; i < m->c->cfg->n; i++) {
		const struct prov *pv = &m->c->cfg->provs[i];
		enum login_state st;

		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "name", pv->name);
		cJSON_AddStringToObject(p, "type", pv->impl->type);
		a = cJSON_AddArrayToObject(p, "scopes");
		for (j = 0; j < pv->pol.ceiling.n; j++)
			cJSON_AddItemToArray(
			    a, cJSON_CreateString(pv->pol.ceiling.v[j]));
		cJSON_AddNumberToObject(
		    p, "max_ttl_seconds", (double)pv->pol.max_ttl_s);
		cJSON_AddStringToObject(
		    p, "approval", approval_name(pv->pol.approval));
		st = login_state(m->c->lg, pv->name,
		    pv->impl->login != NULL && !pv->ctx.no_login, &ci);
		cred_info_free(&ci);
		cJSON_AddStringToObject(p, "login", login_state_name[st]);
		if (st == LOGIN_BROKEN || st == LOGIN_NOT_LOGGED_IN) {
			/* For the person: an agent never starts a login. */
			snprintf(cmd, sizeof(cmd), "janee login %s", pv->name);
			cJSON_AddStringToObject(p, "login_command", cmd);
		}
		cJSON_AddItemToArray(arr, p);
	}
	return mcp_tool_ok(o);
}

static int
lease_item(const struct lease *l, void *arg)
{
	cJSON *arr = arg, *o = cJSON_CreateObject();
	char t[JANEE_TIME_LEN];

	cJSON_AddStringToObject(o, "lease_id", l->id);
	cJSON_AddStringToObject(o, "provider", l->provider);
	cJSON_AddStringToObject(o, "state", lease_state_name(l->state));
	cJSON_AddItemToObject(
	    o, "scopes", cJSON_Parse(l->granted ? l->granted : l->requested));
	if (l->expires_ms) {
		janee_time_fmt(l->expires_ms, t);
		cJSON_AddStringToObject(o, "expires_at", t);
	}
	cJSON_AddItemToArray(arr, o);
	return 0;
}

static cJSON *
list_leases(struct mcp *m)
{
	struct lease_filter f = { .active_only = 1 };
	cJSON *o = cJSON_CreateObject(), *arr, *r;
	int rc;

	f.session = m->session;
	arr = cJSON_AddArrayToObject(o, "leases");
	if ((rc = lease_each(m->c->lg, &f, lease_item, arr)) != 0) {
		cJSON_Delete(o);
		r = mcp_tool_error("%s", janee_err_msg(rc));
		janee_err_clear();
		return r;
	}
	return mcp_tool_ok(o);
}

static cJSON *
revoke_token(struct mcp *m, const cJSON *args)
{
	const char *lid = arg_str(args, "lease_id");
	struct lease l;
	cJSON *o, *r;
	int rc;

	if (lease_load(m->c->lg, lid, &l) != 0 || l.session == NULL ||
	    strcmp(l.session, m->session) != 0) {
		if (l.id[0] != '\0')
			lease_free(&l);
		janee_err_clear();
		return mcp_tool_error(
		    "lease '%s' is not one of this session's; "
		    "list_leases shows them",
		    lid);
	}
	lease_free(&l);
	if ((rc = broker_end(&m->c->broker, lid, "revoked by the agent")) !=
	    0) {
		r = mcp_tool_error("%s", janee_err_msg(rc));
		janee_err_clear();
		return r;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "lease_id", lid);
	cJSON_AddStringToObject(o, "state", "revoked");
	return mcp_tool_ok(o);
}

static const struct arg call_api_args[] = {
	{ "provider", ARG_STRING, 1 },
	{ "method", ARG_STRING, 1 },
	{ "path", ARG_STRING, 1 },
	{ "query", ARG_OBJECT, 0 },
	{ "headers", ARG_OBJECT, 0 },
	{ "body", ARG_STRING, 0 },
	{ "scopes", ARG_STRINGS, 0 },
	{ "repositories", ARG_STRINGS, 0 },
	{ "ttl_seconds", ARG_INT, 0 },
	{ "reason", ARG_STRING, 1 },
	{ NULL, 0, 0 },
};

static const struct arg no_args[] = { { NULL, 0, 0 } };
static const struct arg revoke_args[] = { { "lease_id", ARG_STRING, 1 },
	{ NULL, 0, 0 } };

/* Tool metadata as JSON text: schemas, annotations. */
static const struct tool {
	const char *name;
	const struct arg *args;
	const char *json;
} tools[] = {
	{ "request_token", request_args,
	    "{\"name\":\"request_token\",\"title\":\"Request a short-lived "
	    "token\",\"description\":\"Ask janee for a token from a "
	    "provider, narrowed to the scopes (and, for GitHub, "
	    "repositories) you need, for ttl_seconds. A person may have to "
	    "approve; the reason is shown to them. Never starts a login: if "
	    "one is missing, the answer names the command the person should "
	    "run. When approval is pending, call again with lease_id to "
	    "collect.\",\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	    "\"provider\":{\"type\":\"string\",\"description\":\"a provider "
	    "name from list_providers\"},\"scopes\":{\"type\":\"array\","
	    "\"items\":{\"type\":\"string\"},\"description\":\"scopes to "
	    "grant; for GitHub permission:level such as issues:read\"},"
	    "\"repositories\":{\"type\":\"array\",\"items\":{\"type\":"
	    "\"string\"},\"description\":\"GitHub only: bare repository "
	    "names\"},\"ttl_seconds\":{\"type\":\"integer\",\"minimum\":1,"
	    "\"description\":\"lifetime; the provider's default when "
	    "absent\"},\"reason\":{\"type\":\"string\",\"description\":\"why, "
	    "in a sentence a person will read\"},\"lease_id\":{\"type\":"
	    "\"string\",\"description\":\"collect a lease that was pending "
	    "approval\"}},\"required\":[\"provider\",\"reason\"],"
	    "\"additionalProperties\":false},\"outputSchema\":{\"type\":"
	    "\"object\",\"properties\":{\"token\":{\"type\":\"string\"},"
	    "\"token_type\":{\"type\":\"string\"},\"lease_id\":{\"type\":"
	    "\"string\"},\"provider\":{\"type\":\"string\"},\"scopes\":{"
	    "\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
	    "\"expires_at\":{\"type\":\"string\"},\"revocable\":{\"type\":"
	    "\"boolean\"}},\"required\":[\"token\",\"token_type\",\"lease_id\","
	    "\"provider\",\"scopes\",\"expires_at\",\"revocable\"]},"
	    "\"annotations\":{\"title\":\"Request a token\",\"readOnlyHint\":"
	    "false,\"destructiveHint\":false,\"idempotentHint\":false,"
	    "\"openWorldHint\":true}}" },
	{ "call_api", call_api_args,
	    "{\"name\":\"call_api\",\"title\":\"Call a provider's API\","
	    "\"description\":\"janee makes one HTTP request to the "
	    "provider's API with a short-lived token that you never see, "
	    "within the provider's request rules (allow/deny by method and "
	    "path). The lease is obtained like request_token's (a person may "
	    "have to approve; the reason is shown to them) and reused by "
	    "later calls of this session with the same provider, scopes and "
	    "repositories until it ends. Paths with '..', '.', '//', encoded "
	    "separators or control characters are refused. Only Accept, "
	    "Content-Type, If-None-Match and the provider's API version "
	    "header may be set. The answer is size-capped; secrets in it "
	    "read [redacted]; a binary body is base64.\",\"inputSchema\":{"
	    "\"type\":\"object\",\"properties\":{\"provider\":{\"type\":"
	    "\"string\",\"description\":\"a provider name from "
	    "list_providers\"},\"method\":{\"type\":\"string\",\"enum\":["
	    "\"GET\",\"HEAD\",\"POST\",\"PUT\",\"PATCH\",\"DELETE\"]},"
	    "\"path\":{\"type\":\"string\",\"description\":\"the path "
	    "under the provider's API base URL, starting with '/', "
	    "percent-encoded, without query\"},\"query\":{\"type\":"
	    "\"object\",\"additionalProperties\":{\"type\":\"string\"},"
	    "\"description\":\"query parameters (janee encodes them)\"},"
	    "\"headers\":{\"type\":\"object\",\"additionalProperties\":{"
	    "\"type\":\"string\"}},\"body\":{\"type\":\"string\","
	    "\"description\":\"the request body (JSON unless Content-Type "
	    "says otherwise)\"},\"scopes\":{\"type\":\"array\",\"items\":"
	    "{\"type\":\"string\"}},\"repositories\":{\"type\":\"array\","
	    "\"items\":{\"type\":\"string\"},\"description\":\"GitHub "
	    "only: bare repository names\"},\"ttl_seconds\":{\"type\":"
	    "\"integer\",\"minimum\":1},\"reason\":{\"type\":\"string\","
	    "\"description\":\"why, in a sentence a person will read\"}},"
	    "\"required\":[\"provider\",\"method\",\"path\",\"reason\"],"
	    "\"additionalProperties\":false},\"outputSchema\":{\"type\":"
	    "\"object\",\"properties\":{\"status\":{\"type\":\"integer\"},"
	    "\"headers\":{\"type\":\"object\",\"additionalProperties\":{"
	    "\"type\":\"string\"}},\"body\":{\"type\":\"string\"},"
	    "\"body_encoding\":{\"type\":\"string\",\"enum\":[\"utf-8\","
	    "\"base64\"]},\"truncated\":{\"type\":\"boolean\"},"
	    "\"lease_id\":{\"type\":\"string\"}},\"required\":[\"status\","
	    "\"headers\",\"body\",\"body_encoding\",\"truncated\","
	    "\"lease_id\"]},\"annotations\":{\"title\":\"Call a provider's "
	    "API\",\"readOnlyHint\":false,\"destructiveHint\":true,"
	    "\"idempotentHint\":false,\"openWorldHint\":true}}" },
	{ "list_providers", no_args,
	    "{\"name\":\"list_providers\",\"title\":\"List providers\","
	    "\"description\":\"The providers janee can mint tokens from, the "
	    "scopes each may grant, its maximum lifetime, its approval mode, "
	    "and whether a person must log in first (with the command to "
	    "run).\",\"inputSchema\":{\"type\":\"object\",\"properties\":{},"
	    "\"additionalProperties\":false},\"outputSchema\":{\"type\":"
	    "\"object\",\"properties\":{\"providers\":{\"type\":\"array\","
	    "\"items\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":"
	    "\"string\"},\"type\":{\"type\":\"string\"},\"scopes\":{\"type\":"
	    "\"array\",\"items\":{\"type\":\"string\"}},\"max_ttl_seconds\":{"
	    "\"type\":\"integer\"},\"approval\":{\"type\":\"string\"},"
	    "\"login\":{\"type\":\"string\",\"enum\":[\"not_needed\","
	    "\"logged_in\",\"broken\",\"not_logged_in\",\"unknown\"]},"
	    "\"login_command\":{\"type\":"
	    "\"string\"}},\"required\":[\"name\",\"type\",\"scopes\","
	    "\"max_ttl_seconds\",\"approval\",\"login\"]}}},\"required\":["
	    "\"providers\"]},\"annotations\":{\"title\":\"List providers\","
	    "\"readOnlyHint\":true,\"destructiveHint\":false,"
	    "\"idempotentHint\":true,\"openWorldHint\":false}}" },
	{ "list_leases", no_args,
	    "{\"name\":\"list_leases\",\"title\":\"List my leases\","
	    "\"description\":\"This session's leases that have not ended. "
	    "Never shows tokens.\",\"inputSchema\":{\"type\":\"object\","
	    "\"properties\":{},\"additionalProperties\":false},"
	    "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"leases\":"
	    "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":"
	    "{\"lease_id\":{\"type\":\"string\"},\"provider\":{\"type\":"
	    "\"string\"},\"state\":{\"type\":\"string\"},\"scopes\":{\"type\":"
	    "\"array\",\"items\":{\"type\":\"string\"}},\"expires_at\":{"
	    "\"type\":\"string\"}},\"required\":[\"lease_id\",\"provider\","
	    "\"state\",\"scopes\"]}}},\"required\":[\"leases\"]},"
	    "\"annotations\":{\"title\":\"List my leases\",\"readOnlyHint\":"
	    "true,\"destructiveHint\":false,\"idempotentHint\":true,"
	    "\"openWorldHint\":false}}" },
	{ "revoke_token", revoke_args,
	    "{\"name\":\"revoke_token\",\"title\":\"Revoke a token\","
	    "\"description\":\"End one of this session's leases now; its "
	    "token is revoked at the provider.\",\"inputSchema\":{\"type\":"
	    "\"object\",\"properties\":{\"lease_id\":{\"type\":\"string\"}},"
	    "\"required\":[\"lease_id\"],\"additionalProperties\":false},"
	    "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	    "\"lease_id\":{\"type\":\"string\"},\"state\":{\"type\":"
	    "\"string\"}},\"required\":[\"lease_id\",\"state\"]},"
	    "\"annotations\":{\"title\":\"Revoke a token\",\"readOnlyHint\":"
	    "false,\"destructiveHint\":true,\"idempotentHint\":true,"
	    "\"openWorldHint\":true}}" },
};

cJSON *
mcp_tools_list(void)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < nitems(tools); i++)
		cJSON_AddItemToArray(a, cJSON_Parse(tools[i].json));
	return a;
}

void
mcp_tools_call(struct mcp *m, cJSON *id, cJSON *params, int stateless)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(params, "name");
	const cJSON *args =
	    cJSON_GetObjectItemCaseSensitive(params, "arguments");
	const struct tool *t = NULL;
	char err[200], msg[260];
	cJSON *r = NULL;
	size_t i;
	int pending = 0, rc;

	for (i = 0; cJSON_IsString(name) && i < nitems(tools); i++)
		if (strcmp(tools[i].name, name->valuestring) == 0)
			t = &tools[i];
	if (t == NULL) {
		snprintf(msg, sizeof(msg), "unknown tool '%.64s'",
		    cJSON_IsString(name) ? name->valuestring : "");
		mcp_send(m, mcp_error(id, -32602, msg));
		return;
	}
	if (check_args(args, t->args, err, sizeof(err)) != 0) {
		snprintf(msg, sizeof(msg), "invalid arguments for %s: %s",
		    t->name, err);
		/*
		 * From 2025-11-25 (SEP-1303), arguments that fail the tool's
		 * inputSchema are a tool error the model can correct; before,
		 * and for a malformed tools/call (arguments not an object),
		 * they are invalid params.
		 */
		if ((args == NULL || cJSON_IsObject(args)) &&
		    (stateless || strcmp(m->protocol, "2025-11-25") >= 0))
			mcp_answer(m, id, mcp_tool_error("%s", msg), stateless);
		else
			mcp_send(m, mcp_error(id, -32602, msg));
		return;
	}
	if ((rc = mcp_ready(m)) != 0) {
		r = mcp_tool_error("janee cannot serve: %s", janee_err_msg(rc));
		janee_err_clear();
	} else if (strcmp(t->name, "request_token") == 0)
		r = request_token(m, id, params, stateless, &pending);
	else if (strcmp(t->name, "call_api") == 0)
		r = mcp_call_api(m, id, params, stateless, &pending);
	else if (strcmp(t->name, "list_providers") == 0)
		r = list_providers(m);
	else if (strcmp(t->name, "list_leases") == 0)
		r = list_leases(m);
	else
		r = revoke_token(m, args);
	if (pending)
		return;
	mcp_answer(m, id, r, stateless);
}
