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
#include "core.h"
#include "credentials.h"
#include "json.h"
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
				    "'%s' must be an array of strings",
				    a->name);
				return -1;
			}
			cJSON_ArrayForEach(e, v) if (!cJSON_IsString(e))
			{
				snprintf(err, n,
				    "'%s' must be an array of strings",
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

static int
arg_strings(const cJSON *args, const char *k, struct janee_strlist *out)
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

cJSON *
mcp_lease_args(const cJSON *args, struct broker_req *req)
{
	const cJSON *ttl =
	    cJSON_GetObjectItemCaseSensitive(args, "ttl_seconds");

	req->reason = json_str(args, "reason");
	req->ttl_s = cJSON_IsNumber(ttl) ? (int64_t)ttl->valuedouble : 0;
	if (req->ttl_s < 0 || (cJSON_IsNumber(ttl) && req->ttl_s == 0))
		return mcp_tool_error("ttl_seconds must be at least 1");
	if (cJSON_GetObjectItemCaseSensitive(args, "resources") != NULL &&
	    cJSON_GetObjectItemCaseSensitive(args, "repositories") != NULL)
		return mcp_tool_error(
		    "'repositories' and 'resources' are the same list: give one of them");
	if (arg_strings(args, "scopes", &req->scopes) != 0 ||
	    arg_strings(args, "resources", &req->resources) != 0 ||
	    arg_strings(args, "repositories", &req->resources) != 0) {
		janee_err_clear();
		return mcp_tool_error("out of memory");
	}
	return NULL;
}

/* request_token's result: the token, its lease and its bounds. */
static int
token_granted(
    struct mcp *m, const cJSON *args, const struct broker_grant *g, cJSON **out)
{
	const struct prov *pv =
	    config_find(m->core->cfg, json_str(args, "provider"));

	if (pv == NULL)
		return janee_err_set(JANEE_ERR_NOT_FOUND, "no provider '%s'",
		    json_str(args, "provider"));
	return core_grant_json(pv, g, out);
}

/* --- the tools ----------------------------------------------------- */

static const struct arg request_args[] = {
	{ "provider", ARG_STRING, 1 },
	{ "scopes", ARG_STRINGS, 0 },
	{ "resources", ARG_STRINGS, 0 },
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
	const char *prov = json_str(args, "provider"), *lid;
	struct broker_req req;
	cJSON *r = NULL;

	*pending = 0;
	/* The stateless era's second round: the person's answer. */
	if (stateless &&
	    cJSON_GetObjectItemCaseSensitive(params, "requestState") != NULL)
		return mcp_lease_resume(
		    m, &request_token_tool, id, params, pending);
	/* Collect an approved lease of this session. */
	if ((lid = json_str(args, "lease_id")) != NULL)
		return mcp_lease_collect(
		    m, &request_token_tool, id, args, lid, pending);
	if (config_lookup(m->core->cfg, prov, 0,
		"call list_providers to see which there are") == NULL) {
		r = mcp_tool_error("%s", janee_err_msg(JANEE_ERR_NOT_FOUND));
		janee_err_clear();
		return r;
	}
	memset(&req, 0, sizeof(req));
	req.provider = prov;
	if ((r = mcp_lease_args(args, &req)) == NULL)
		r = mcp_lease_obtain(m, &request_token_tool, id, params, &req,
		    stateless, pending);
	janee_strlist_free(&req.scopes);
	janee_strlist_free(&req.resources);
	return r;
}

/* One provider for list_providers; never a secret. */
static int
provider_item(struct mcp *m, const struct prov *pv, cJSON *arr)
{
	struct cred_info ci;
	enum login_state st;
	cJSON *p, *a;
	char cmd[128];
	size_t j;
	int rc;

	st = login_state(m->core->lg, pv->name, pv->info.needs_login, &ci);
	cred_info_free(&ci);
	if ((rc = json_push(arr, p = cJSON_CreateObject())) != 0 ||
	    (rc = json_put(p, "name", cJSON_CreateString(pv->name))) != 0 ||
	    (rc = json_put(p, "type", cJSON_CreateString(pv->impl->type))) !=
		0 ||
	    (rc = json_put(p, "scopes", a = cJSON_CreateArray())) != 0)
		return rc;
	for (j = 0; j < pv->pol.ceiling.n; j++)
		if ((rc = json_push(
			 a, cJSON_CreateString(pv->pol.ceiling.v[j]))) != 0)
			return rc;
	if ((pv->impl->resources != NULL &&
		(rc = json_put(p, "resources",
		     cJSON_CreateString(pv->impl->resources))) != 0) ||
	    (rc = json_put(p, "max_ttl_seconds",
		 cJSON_CreateNumber((double)pv->pol.max_ttl_s))) != 0 ||
	    (rc = json_put(p, "approval",
		 cJSON_CreateString(approval_name(pv->pol.approval)))) != 0 ||
	    (rc = json_put(
		 p, "login", cJSON_CreateString(login_state_name[st]))) != 0)
		return rc;
	if (st == LOGIN_BROKEN || st == LOGIN_NOT_LOGGED_IN) {
		/* For the person: an agent never starts a login. */
		snprintf(cmd, sizeof(cmd), "janee login %s", pv->name);
		if ((rc = json_put(
			 p, "login_command", cJSON_CreateString(cmd))) != 0)
			return rc;
	}
	return 0;
}

/* {"key": []}, the array in *arr; NULL (message set) on ENOMEM. */
static cJSON *
list_object(const char *key, cJSON **arr)
{
	cJSON *o;

	if ((o = cJSON_CreateObject()) == NULL ||
	    (*arr = cJSON_AddArrayToObject(o, key)) == NULL) {
		cJSON_Delete(o);
		janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		return NULL;
	}
	return o;
}

static int
list_providers(struct mcp *m, const cJSON *args, cJSON **out)
{
	cJSON *o, *arr;
	size_t i;
	int rc;

	(void)args;
	if ((o = list_object("providers", &arr)) == NULL)
		return JANEE_ERR_NOMEM;
	for (i = 0; i < m->core->cfg->n; i++)
		if ((rc = provider_item(m, &m->core->cfg->provs[i], arr)) !=
		    0) {
			cJSON_Delete(o);
			return rc;
		}
	*out = o;
	return 0;
}

static int
lease_item(const struct lease *l, void *arg)
{
	cJSON *arr = arg, *o;
	char t[JANEE_TIME_LEN];
	int rc;

	if ((rc = json_push(arr, o = cJSON_CreateObject())) != 0 ||
	    (rc = json_put(o, "lease_id", cJSON_CreateString(l->id))) != 0 ||
	    (rc = json_put(o, "provider", cJSON_CreateString(l->provider))) !=
		0 ||
	    (rc = json_put(o, "state",
		 cJSON_CreateString(lease_state_name(l->state)))) != 0 ||
	    (rc = json_put(o, "scopes",
		 cJSON_Parse(l->granted ? l->granted : l->requested))) != 0)
		return rc;
	if (l->expires_ms) {
		janee_time_fmt(l->expires_ms, t);
		if ((rc = json_put(o, "expires_at", cJSON_CreateString(t))) !=
		    0)
			return rc;
	}
	return 0;
}

static int
list_leases(struct mcp *m, const cJSON *args, cJSON **out)
{
	cJSON *o, *arr;
	int rc;

	(void)args;
	if ((o = list_object("leases", &arr)) == NULL)
		return JANEE_ERR_NOMEM;
	if ((rc = broker_session_leases(
		 &m->core->broker, m->session, lease_item, arr)) != 0) {
		cJSON_Delete(o);
		return rc;
	}
	*out = o;
	return 0;
}

static int
revoke_token(struct mcp *m, const cJSON *args, cJSON **out)
{
	const char *lid = json_str(args, "lease_id");
	cJSON *o;
	int rc;

	if ((rc = broker_session_end(&m->core->broker, m->session, lid,
		 "revoked by the agent")) != 0)
		return rc;
	if ((o = cJSON_CreateObject()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if ((rc = json_put(o, "lease_id", cJSON_CreateString(lid))) != 0 ||
	    (rc = json_put(o, "state", cJSON_CreateString("revoked"))) != 0) {
		cJSON_Delete(o);
		return rc;
	}
	*out = o;
	return 0;
}

static const struct arg call_api_args[] = {
	{ "provider", ARG_STRING, 1 },
	{ "method", ARG_STRING, 1 },
	{ "path", ARG_STRING, 1 },
	{ "query", ARG_OBJECT, 0 },
	{ "headers", ARG_OBJECT, 0 },
	{ "body", ARG_STRING, 0 },
	{ "scopes", ARG_STRINGS, 0 },
	{ "resources", ARG_STRINGS, 0 },
	{ "repositories", ARG_STRINGS, 0 },
	{ "ttl_seconds", ARG_INT, 0 },
	{ "reason", ARG_STRING, 1 },
	{ NULL, 0, 0 },
};

static const struct arg no_args[] = { { NULL, 0, 0 } };
static const struct arg revoke_args[] = { { "lease_id", ARG_STRING, 1 },
	{ NULL, 0, 0 } };

/*
 * The tools: each answers through call() (a return code and the
 * structured result) but request_token and call_api (call NULL), which
 * may answer later; and its metadata as JSON text: schemas, annotations.
 */
static const struct tool {
	const char *name;
	const struct arg *args;
	int (*call)(struct mcp *m, const cJSON *args, cJSON **out);
	const char *json;
} tools[] = {
	{ "request_token", request_args, NULL,
	    "{\"name\":\"request_token\",\"title\":\"Request a short-lived token\",\"description\":\"Ask janee for a token from a provider, narrowed to the scopes (and resources, where the "
	    "provider has them) you need, for ttl_seconds. A person may have to approve; the reason is shown to them. Never starts a login: if one is missing, the answer names the command the person "
	    "should run. When approval is pending, call again with lease_id to collect. The token is 'token'; a token of several parts (a database login: user, password, url) also has them in 'parts', "
	    "'token' being the one 'primary' names.\",\"inputSchema\":{\"type\":\"object\",\"properties\":{\"provider\":{\"type\":\"string\",\"description\":\"a provider name from "
	    "list_providers\"},\"scopes\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":\"scopes to grant, as list_providers names them (such as issues:read, or a database "
	    "role)\"},\"resources\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":\"what the token may reach, for a provider that lists 'resources' in list_providers "
	    "(repositories, databases); none: all its allow-list\"},\"repositories\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":\"the same as resources, for "
	    "providers whose resources are repositories: bare repository names\"},\"ttl_seconds\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"lifetime; the provider's default when "
	    "absent\"},\"reason\":{\"type\":\"string\",\"description\":\"why, in a sentence a person will read\"},\"lease_id\":{\"type\":\"string\",\"description\":\"collect a lease that was pending "
	    "approval\"}},\"required\":[\"provider\",\"reason\"],\"additionalProperties\":false},\"outputSchema\":{\"type\":\"object\",\"properties\":{\"token\":{\"type\":\"string\","
	    "\"description\":\"the token, or its primary part\"},\"token_type\":{\"type\":\"string\"},\"lease_id\":{\"type\":\"string\"},\"provider\":{\"type\":\"string\"},\"scopes\":{"
	    "\"type\":\"array\",\"items\":{\"type\":\"string\"}},\"expires_at\":{\"type\":\"string\"},\"revocable\":{\"type\":\"boolean\"},\"primary\":{\"type\":\"string\",\"description\":"
	    "\"which part 'token' is, for a token of several parts\"},\"parts\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"},\"description\":\"every part of a token "
	    "of several parts, by name (user, password, url, host, ...)\"}},\"required\":[\"token\",\"token_type\",\"lease_id\",\"provider\",\"scopes\",\"expires_at\",\"revocable\"]},"
	    "\"annotations\":{\"title\":\"Request a token\",\"readOnlyHint\":false,\"destructiveHint\":false,\"idempotentHint\":false,\"openWorldHint\":true}}" },
	{ "call_api", call_api_args, NULL,
	    "{\"name\":\"call_api\",\"title\":\"Call a provider's API\","
	    "\"description\":\"janee makes one HTTP request to the "
	    "provider's API with a short-lived token that you never see, "
	    "within the provider's request rules (allow/deny by method and "
	    "path). The lease is obtained like request_token's (a person may "
	    "have to approve; the reason is shown to them) and reused by "
	    "later calls of this session with the same provider, scopes and "
	    "resources until it ends. Paths with '..', '.', '//', encoded "
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
	    "{\"type\":\"string\"}},\"resources\":{\"type\":\"array\","
	    "\"items\":{\"type\":\"string\"},\"description\":\"what the "
	    "token may reach, as for request_token\"},\"repositories\":{"
	    "\"type\":\"array\",\"items\":{\"type\":\"string\"},"
	    "\"description\":\"the same as resources, for providers whose "
	    "resources are repositories\"},\"ttl_seconds\":{\"type\":"
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
	{ "list_providers", no_args, list_providers,
	    "{\"name\":\"list_providers\",\"title\":\"List providers\",\"description\":\"The providers janee can mint tokens from, the scopes each may grant, its maximum lifetime, its approval mode, "
	    "and whether a person must log in first (with the command to run).\",\"inputSchema\":{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false},\"outputSchema\":{\"type\":"
	    "\"object\",\"properties\":{\"providers\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"type\":{\"type\":\"string\"},\"scopes\":{\"type\":"
	    "\"array\",\"items\":{\"type\":\"string\"}},\"max_ttl_seconds\":{\"type\":\"integer\"},\"approval\":{\"type\":\"string\"},\"login\":{\"type\":\"string\",\"enum\":[\"not_needed\",\"logged_in\",\"broken\",\"not_logged_in\",\"unknown\"]},\"login_command\":{\"type\":"
	    "\"string\"},\"resources\":{\"type\":\"string\",\"description\":\"what request_token's resources are for this provider (repositories, databases); absent: it takes "
	    "none\"}},\"required\":[\"name\",\"type\",\"scopes\",\"max_ttl_seconds\",\"approval\",\"login\"]}}},\"required\":[\"providers\"]},\"annotations\":{\"title\":\"List providers\","
	    "\"readOnlyHint\":true,\"destructiveHint\":false,\"idempotentHint\":true,\"openWorldHint\":false}}" },
	{ "list_leases", no_args, list_leases,
	    "{\"name\":\"list_leases\",\"title\":\"List my leases\",\"description\":\"This session's leases that have not ended. Never shows tokens.\",\"inputSchema\":{\"type\":\"object\","
	    "\"properties\":{},\"additionalProperties\":false},\"outputSchema\":{\"type\":\"object\",\"properties\":{\"leases\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":"
	    "{\"lease_id\":{\"type\":\"string\"},\"provider\":{\"type\":\"string\"},\"state\":{\"type\":\"string\"},\"scopes\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},\"expires_at\":{"
	    "\"type\":\"string\"}},\"required\":[\"lease_id\",\"provider\",\"state\",\"scopes\"]}}},\"required\":[\"leases\"]},\"annotations\":{\"title\":\"List my leases\",\"readOnlyHint\":"
	    "true,\"destructiveHint\":false,\"idempotentHint\":true,\"openWorldHint\":false}}" },
	{ "revoke_token", revoke_args, revoke_token,
	    "{\"name\":\"revoke_token\",\"title\":\"Revoke a token\",\"description\":\"End one of this session's leases now; its token is revoked at the provider.\",\"inputSchema\":{\"type\":"
	    "\"object\",\"properties\":{\"lease_id\":{\"type\":\"string\"}},\"required\":[\"lease_id\"],\"additionalProperties\":false},\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	    "\"lease_id\":{\"type\":\"string\"},\"state\":{\"type\":\"string\"}},\"required\":[\"lease_id\",\"state\"]},\"annotations\":{\"title\":\"Revoke a token\",\"readOnlyHint\":"
	    "false,\"destructiveHint\":true,\"idempotentHint\":true,\"openWorldHint\":true}}" },
};

cJSON *
mcp_tools_list(void)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a != NULL && i < nitems(tools); i++)
		if (!cJSON_AddItemToArray(a, cJSON_Parse(tools[i].json))) {
			cJSON_Delete(a);
			return NULL;
		}
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
	cJSON *r = NULL, *out = NULL;
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
	} else if (t->call == NULL && strcmp(t->name, "call_api") == 0)
		r = mcp_call_api(m, id, params, stateless, &pending);
	else if (t->call == NULL)
		r = request_token(m, id, params, stateless, &pending);
	else {
		rc = t->call(m, args, &out);
		r = mcp_tool_result(rc, out);
	}
	if (pending)
		return;
	if (r == NULL) {
		mcp_send(m, mcp_error(id, -32603, "out of memory"));
		return;
	}
	mcp_answer(m, id, r, stateless);
}
