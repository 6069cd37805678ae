/* The MCP server: framing, JSON-RPC validation, lifecycle, both eras. */
#include "common.h"

#include <unistd.h>

#include "approval-page.h"
#include "broker.h"
#include "json.h"
#include "json-check.h"
#include "mcp.h"
#include "notify.h"
#include "util.h"

static const char *const versions[] = { "2025-11-25", "2025-06-18",
	"2025-03-26", "2024-11-05" };

static const char *const levels[] = { "debug", "info", "notice", "warning",
	"error", "critical", "alert", "emergency" };

#define INSTRUCTIONS \
	"janee hands out short-lived, scope-narrowed tokens. Call " \
	"list_providers to see what may be asked for, then request_token " \
	"with the provider, the scopes you need, a short ttl_seconds and " \
	"a reason a person will read. A person may have to approve. Tokens " \
	"end on time; revoke_token ends one early."

/* The request's id, copied; JSON null when there is none. */
static cJSON *
id_copy(const cJSON *id)
{
	return id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull();
}

cJSON *
mcp_error(cJSON *id, int code, const char *msg)
{
	cJSON *r, *e;

	if ((r = cJSON_CreateObject()) == NULL ||
	    json_put(r, "jsonrpc", cJSON_CreateString("2.0")) != 0 ||
	    json_put(r, "id", id_copy(id)) != 0 ||
	    json_put(r, "error", e = cJSON_CreateObject()) != 0 ||
	    json_put(e, "code", cJSON_CreateNumber(code)) != 0 ||
	    json_put(e, "message", cJSON_CreateString(msg)) != 0) {
		cJSON_Delete(r);
		janee_err_clear();
		return NULL;
	}
	return r;
}

cJSON *
mcp_result(cJSON *id, cJSON *result)
{
	cJSON *r;

	/* A result that could not be made is an internal error. */
	if (result == NULL)
		return mcp_error(id, -32603, "out of memory");
	if ((r = cJSON_CreateObject()) == NULL ||
	    json_put(r, "jsonrpc", cJSON_CreateString("2.0")) != 0 ||
	    json_put(r, "id", id_copy(id)) != 0) {
		cJSON_Delete(r);
		cJSON_Delete(result);
		janee_err_clear();
		return mcp_error(id, -32603, "out of memory");
	}
	if (json_put(r, "result", result) != 0) {
		cJSON_Delete(r);
		janee_err_clear();
		return mcp_error(id, -32603, "out of memory");
	}
	return r;
}

/* {"content": [{"type": "text", "text": text}], "isError": is_error} */
static cJSON *
tool_answer(const char *text, int is_error)
{
	cJSON *r, *c, *t;

	if ((r = cJSON_CreateObject()) == NULL ||
	    json_put(r, "content", c = cJSON_CreateArray()) != 0 ||
	    json_push(c, t = cJSON_CreateObject()) != 0 ||
	    json_put(t, "type", cJSON_CreateString("text")) != 0 ||
	    json_put(t, "text", cJSON_CreateString(text)) != 0 ||
	    json_put(r, "isError", cJSON_CreateBool(is_error)) != 0) {
		cJSON_Delete(r);
		janee_err_clear();
		return NULL;
	}
	return r;
}

cJSON *
mcp_tool_error(const char *fmt, ...)
{
	va_list ap;
	char *msg;
	cJSON *r;

	/* Never cut: the model reads the whole message. */
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	r = tool_answer(msg ? msg : "out of memory", 1);
	free(msg);
	return r;
}

/* A result with structuredContent, and the same as text. */
cJSON *
mcp_tool_ok(cJSON *structured)
{
	char *s = cJSON_PrintUnformatted(structured);
	cJSON *r = s != NULL ? tool_answer(s, 0) : NULL;

	cJSON_free(s);
	if (r == NULL || json_put(r, "structuredContent", structured) != 0) {
		if (r == NULL)
			cJSON_Delete(structured);
		cJSON_Delete(r);
		janee_err_clear();
		return NULL;
	}
	return r;
}

cJSON *
mcp_tool_result(int rc, cJSON *structured)
{
	cJSON *r;

	if (rc == 0)
		return mcp_tool_ok(structured);
	cJSON_Delete(structured);
	r = mcp_tool_error("%s", janee_err_msg(rc));
	janee_err_clear();
	return r;
}

void
mcp_answer(struct mcp *m, cJSON *id, cJSON *result, int stateless)
{
	if (stateless && result != NULL &&
	    json_put(result, "resultType", cJSON_CreateString("complete")) !=
		0) {
		cJSON_Delete(result);
		result = NULL;
		janee_err_clear();
	}
	mcp_send(m, mcp_result(id, result));
}

static char *utf8_repair(const char *s);

void
mcp_send(struct mcp *m, cJSON *v)
{
	if (v != NULL && !mcp_batch_take(m, v))
		mcp_emit(m, v);
}

void
mcp_emit(struct mcp *m, cJSON *v)
{
	char *s, *fixed;

	if (v == NULL)
		return;
	/* cJSON escapes control characters: one message, one line. */
	if ((s = cJSON_PrintUnformatted(v)) != NULL) {
		fixed = utf8_repair(s);
		if (m->emit != NULL)
			m->emit(m->emit_arg, v, fixed ? fixed : s);
		else {
			fputs(fixed ? fixed : s, stdout);
			fputc('\n', stdout);
			fflush(stdout);
		}
		free(fixed);
		cJSON_free(s);
	}
	cJSON_Delete(v);
}

void
mcp_warn(const char *fmt, ...)
{
	char *line, *shown = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	if (line != NULL)
		shown = janee_text_escape(line);
	fprintf(stderr, "janee serve: %s\n", shown ? shown : "out of memory");
	free(shown);
	free(line);
}

void
mcp_notify_log(struct mcp *m, int level, cJSON *data)
{
	cJSON *n, *p;

	if (level < m->log_level) {
		cJSON_Delete(data);
		return;
	}
	n = cJSON_CreateObject();
	cJSON_AddStringToObject(n, "jsonrpc", "2.0");
	cJSON_AddStringToObject(n, "method", "notifications/message");
	p = cJSON_AddObjectToObject(n, "params");
	cJSON_AddStringToObject(p, "level", levels[level]);
	cJSON_AddStringToObject(p, "logger", "janee");
	cJSON_AddItemToObject(p, "data", data);
	mcp_send(m, n);
}

void
mcp_init(struct mcp *m, struct core *core)
{
	memset(m, 0, sizeof(*m));
	m->core = core;
	m->log_level = 1; /* info */
	buf_init(&m->line, MCP_MAX_LINE);
}

void
mcp_free(struct mcp *m)
{
	/*
	 * After mcp_shutdown nothing waits; a session ended without it (a
	 * stateless call over HTTP, answered input_required) still holds
	 * its requestState's entry.  Its lease stays requested: the agent
	 * may collect it by lease_id once a person approves it, and the
	 * ledger's sweep ends it as abandoned after a day (broker.c).
	 * Freed before the notifier, which pending_free may close into.
	 */
	mcp_tools_free(m);
	approval_page_stop(m->page);
	notifier_free(m->notifier);
	mcp_batch_free_all(m);
	mcp_api_free(m);
	buf_free(&m->line);
	free(m->client);
	janee_wipe(m->state_key, sizeof(m->state_key));
}

int
mcp_ready(struct mcp *m)
{
	unsigned char r[16];
	int rc;

	if (m->ready)
		return 0;
	if (m->ready_failed)
		return janee_err_set(JANEE_ERR_NOT_INIT, "%s", m->ready_error);
	/*
	 * Made here, not at start: the first use of OpenSSL's generator
	 * reads its configuration, which the handshake need not wait for.
	 * Every use of the session id and the key comes after this.
	 */
	if ((rc = janee_random(r, sizeof(r))) != 0 ||
	    (rc = janee_random(m->state_key, sizeof(m->state_key))) != 0)
		return rc;
	janee_hex(r, sizeof(r), m->session);
	/* The broker is made for this session: who asks is the client. */
	if ((rc = core_open(m->core, CORE_LEDGER | CORE_CONFIG, NULL)) != 0) {
		snprintf(m->ready_error, sizeof(m->ready_error), "%s",
		    janee_err_msg(rc));
		m->ready_failed = 1;
		mcp_warn("%s", m->ready_error);
		return rc;
	}
	m->ready = 1;
	mcp_enter(m);
	return 0;
}

void
mcp_enter(struct mcp *m)
{
	if (!m->ready)
		return;
	m->core->broker.client = m->client ? m->client : "mcp";
	m->core->broker.session = m->session;
	m->core->broker.actor = "agent";
}

static int
utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0, len;

	for (; i < n; i += len)
		if ((len = janee_utf8_seq(p + i, n - i, NULL)) == 0)
			return 0;
	return 1;
}

/* The bytes of s, at most max, that end on a character boundary. */
static int
utf8_prefix(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strnlen(s, max), i = 0, len;

	while (i < n && (len = janee_utf8_seq(p + i, n - i, NULL)) != 0)
		i += len;
	return (int)i;
}

/*
 * s with every byte that starts no valid sequence replaced by U+FFFD, or
 * NULL when s is valid already.  What we send can hold text cut short by
 * a byte count (a client's name, a reason, an error quoting a tool name)
 * in the middle of a character; stdout must stay UTF-8.
 */
static char *
utf8_repair(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i, len;
	char *out, *o;

	if (utf8_valid(p, n) || (out = malloc(3 * n + 1)) == NULL)
		return NULL;
	for (i = 0, o = out; i < n; i += len)
		if ((len = janee_utf8_seq(p + i, n - i, NULL)) == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			len = 1;
		} else {
			memcpy(o, p + i, len);
			o += len;
		}
	*o = '\0';
	return out;
}

/* The stateless era's protocol version from params._meta, or NULL. */
static const char *
meta_version(const cJSON *params)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
	    meta, "io.modelcontextprotocol/protocolVersion");

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
set_client(struct mcp *m, const cJSON *info)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(info, "name");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(info, "version");
	char *s;

	if (!cJSON_IsString(n))
		return;
	/* Self-reported: kept for the record, never trusted; cut short on
	 * a character boundary (the ledger and the audit hold it). */
	s = janee_asprintf("%.*s%s%.*s", utf8_prefix(n->valuestring, 64),
	    n->valuestring, cJSON_IsString(v) ? "/" : "",
	    cJSON_IsString(v) ? utf8_prefix(v->valuestring, 32) : 0,
	    cJSON_IsString(v) ? v->valuestring : "");
	if (s == NULL)
		return;
	free(m->client);
	m->client = s;
	if (m->ready)
		m->core->broker.client = m->client;
}

/* Whether the client's capabilities offer form elicitation. */
static int
offers_elicitation(const cJSON *caps)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(caps, "elicitation");

	if (!cJSON_IsObject(e))
		return 0;
	/* {} means form; {url: {}} alone means no form. */
	return e->child == NULL ||
	    cJSON_GetObjectItemCaseSensitive(e, "form") != NULL;
}

/* And URL mode (2025-11-25, SEP-1036): {"url": {}}. */
static int
offers_url_elicitation(const cJSON *caps)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(caps, "elicitation");

	return cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(e, "url"));
}

static cJSON *
server_capabilities(void)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddItemToObject(c, "tools", cJSON_CreateObject());
	cJSON_AddBoolToObject(
	    cJSON_GetObjectItem(c, "tools"), "listChanged", 0);
	cJSON_AddItemToObject(c, "logging", cJSON_CreateObject());
	return c;
}

static cJSON *
server_info(void)
{
	cJSON *i = cJSON_CreateObject();

	cJSON_AddStringToObject(i, "name", "janee");
	cJSON_AddStringToObject(i, "title", "janee credential broker");
	cJSON_AddStringToObject(i, "version", PACKAGE_VERSION);
	return i;
}

static cJSON *
do_initialize(struct mcp *m, const cJSON *params)
{
	const cJSON *v =
	    cJSON_GetObjectItemCaseSensitive(params, "protocolVersion");
	cJSON *r;
	size_t i;

	/* Echo a version we speak; otherwise offer our latest. */
	snprintf(m->protocol, sizeof(m->protocol), "%s", versions[0]);
	for (i = 0; cJSON_IsString(v) && i < nitems(versions); i++)
		if (strcmp(v->valuestring, versions[i]) == 0)
			snprintf(m->protocol, sizeof(m->protocol), "%s",
			    versions[i]);
	set_client(m, cJSON_GetObjectItemCaseSensitive(params, "clientInfo"));
	m->can_elicit = offers_elicitation(
	    cJSON_GetObjectItemCaseSensitive(params, "capabilities"));
	/* URL mode came with 2025-11-25: an older session has none. */
	m->can_elicit_url = strcmp(m->protocol, "2025-11-25") == 0 &&
	    offers_url_elicitation(
		cJSON_GetObjectItemCaseSensitive(params, "capabilities"));
	m->initialized = 1;
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "protocolVersion", m->protocol);
	cJSON_AddItemToObject(r, "capabilities", server_capabilities());
	cJSON_AddItemToObject(r, "serverInfo", server_info());
	cJSON_AddStringToObject(r, "instructions", INSTRUCTIONS);
	return r;
}

/*
 * The 2026-07-28 era's cache hints (SEP-2549), required on server/discover
 * and tools/list: what janee answers there is the same for every caller
 * and changes only with the binary.  cacheScope is "public" or "private".
 */
static void
add_cache_hint(cJSON *r)
{
	cJSON_AddNumberToObject(r, "ttlMs", 3600000);
	cJSON_AddStringToObject(r, "cacheScope", "public");
}

static cJSON *
do_discover(void)
{
	cJSON *r = cJSON_CreateObject(), *sv;
	size_t i;

	sv = cJSON_AddArrayToObject(r, "supportedVersions");
	cJSON_AddItemToArray(sv, cJSON_CreateString(MCP_STATELESS));
	for (i = 0; i < nitems(versions); i++)
		cJSON_AddItemToArray(sv, cJSON_CreateString(versions[i]));
	cJSON_AddItemToObject(r, "capabilities", server_capabilities());
	cJSON_AddItemToObject(r, "serverInfo", server_info());
	/* Where 2026-07-28 clients look for it (a SHOULD of the spec). */
	cJSON_AddItemToObject(cJSON_AddObjectToObject(r, "_meta"),
	    "io.modelcontextprotocol/serverInfo", server_info());
	cJSON_AddStringToObject(r, "instructions", INSTRUCTIONS);
	add_cache_hint(r);
	cJSON_AddStringToObject(r, "resultType", "complete");
	return r;
}

/* In the stateless era every request says who asks, in _meta. */
static void
take_meta(struct mcp *m, const cJSON *params)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");

	set_client(m,
	    cJSON_GetObjectItemCaseSensitive(
		meta, "io.modelcontextprotocol/clientInfo"));
	m->can_elicit = offers_elicitation(cJSON_GetObjectItemCaseSensitive(
	    meta, "io.modelcontextprotocol/clientCapabilities"));
	m->can_elicit_url =
	    offers_url_elicitation(cJSON_GetObjectItemCaseSensitive(
		meta, "io.modelcontextprotocol/clientCapabilities"));
}

static void
request(struct mcp *m, cJSON *id, const char *method, cJSON *params)
{
	const char *ver = meta_version(params);
	int stateless = ver != NULL;
	cJSON *r = NULL, *lv;
	size_t i;

	if (stateless && strcmp(ver, MCP_STATELESS) != 0) {
		char msg[160];
		cJSON *e, *d;

		/* -32022 UnsupportedProtocolVersion, with what we do speak. */
		snprintf(msg, sizeof(msg),
		    "unsupported protocol version '%.32s'; janee speaks " MCP_STATELESS
		    " and, with initialize, %s",
		    ver, versions[0]);
		e = mcp_error(id, -32022, msg);
		d = cJSON_AddObjectToObject(
		    cJSON_GetObjectItemCaseSensitive(e, "error"), "data");
		cJSON_AddItemToObject(d, "supported",
		    cJSON_CreateStringArray(
			(const char *const[]){ MCP_STATELESS }, 1));
		cJSON_AddStringToObject(d, "requested", ver);
		mcp_send(m, e);
		return;
	}
	if (stateless)
		take_meta(m, params);
	if (strcmp(method, "initialize") == 0)
		r = do_initialize(m, params);
	else if (strcmp(method, "server/discover") == 0)
		r = do_discover();
	else if (strcmp(method, "ping") == 0)
		r = cJSON_CreateObject();
	else if (!stateless && !m->initialized) {
		mcp_send(m,
		    mcp_error(id, -32600,
			"not initialized: send initialize first (or use the " MCP_STATELESS
			" _meta fields)"));
		return;
	} else if (strcmp(method, "tools/list") == 0) {
		r = cJSON_CreateObject();
		cJSON_AddItemToObject(r, "tools", mcp_tools_list());
		if (stateless)
			add_cache_hint(r);
	} else if (strcmp(method, "tools/call") == 0) {
		/* Answers now, or later when an approval arrives. */
		mcp_tools_call(m, id, params, stateless);
		return;
	} else if (strcmp(method, "logging/setLevel") == 0) {
		lv = cJSON_GetObjectItemCaseSensitive(params, "level");
		for (i = 0; cJSON_IsString(lv) && i < nitems(levels); i++)
			if (strcmp(lv->valuestring, levels[i]) == 0)
				break;
		if (!cJSON_IsString(lv) || i == nitems(levels)) {
			mcp_send(m,
			    mcp_error(id, -32602,
				"level must be one of debug, info, notice, warning, error, critical, alert, emergency"));
			return;
		}
		m->log_level = (int)i;
		r = cJSON_CreateObject();
	} else {
		char msg[128];

		snprintf(msg, sizeof(msg), "method '%.64s' not found", method);
		mcp_send(m, mcp_error(id, -32601, msg));
		return;
	}
	/* Once: server/discover carries it in either era. */
	if (stateless && r != NULL && !cJSON_HasObjectItem(r, "resultType"))
		cJSON_AddStringToObject(r, "resultType", "complete");
	mcp_send(m, mcp_result(id, r));
}

static void dispatch(struct mcp *m, cJSON *msg);

static void
notification(struct mcp *m, const char *method, cJSON *params)
{
	cJSON *rid;

	if (strcmp(method, "notifications/cancelled") == 0) {
		rid = cJSON_GetObjectItemCaseSensitive(params, "requestId");
		mcp_tools_cancel(m, rid);
		/* No answer will come: a batch holding it must not wait. */
		mcp_batch_forget(m, rid);
	}
	/* initialized, progress, roots/list_changed...: nothing to do. */
}

/* A message's id when it is one a request may have (string, integer). */
static cJSON *
msg_id(const cJSON *msg)
{
	cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");

	if (id != NULL &&
	    (cJSON_IsString(id) ||
		(cJSON_IsNumber(id) &&
		    id->valuedouble == (double)(int64_t)id->valuedouble)))
		return id;
	return NULL;
}

/*
 * Refuse a message that janee and a strict reader (a gateway, a filter in
 * front of janee) would read apart (json-check.h): a string holding NUL
 * ("request_token\u0000zzz" is request_token to cJSON), a raw control
 * character, an object with a name twice (cJSON answers with the first,
 * others with the last).  Answered -32700 (not JSON), -32602 when the
 * place is in params, else -32600; with the request's id unless the id
 * itself, or a name at the top, is what cannot be read one way.  Returns
 * 1 when refused.
 */
static int
refuse_ambiguous(struct mcp *m, const char *p, size_t n, const cJSON *msg)
{
	char where[96], text[256];
	const char *kind;
	enum json_check k;
	cJSON *id = NULL;
	int rc, top, in_params;

	k = json_check_strings(p, n, where, sizeof(where));
	if (k == JSON_CHECK_CONTROL || k == JSON_CHECK_DEEP) {
		snprintf(text, sizeof(text), "parse error: %s at %s",
		    k == JSON_CHECK_DEEP
			? "nested too deeply"
			: "a raw control character (JSON requires it escaped) in the string",
		    where);
		mcp_send(m, mcp_error(NULL, -32700, text));
		return 1;
	}
	if (k == JSON_CHECK_OK) {
		if ((rc = json_check_duplicates(msg, where, sizeof(where))) <
		    0) {
			janee_err_clear();
			mcp_send(m, mcp_error(NULL, -32603, "out of memory"));
			return 1;
		}
		k = (enum json_check)rc;
	}
	if (k == JSON_CHECK_OK)
		return 0;
	top = strpbrk(where, ".[") == NULL;
	/* Inside params: invalid params; in the envelope: invalid request. */
	in_params = cJSON_IsObject(msg) && strncmp(where, "params", 6) == 0 &&
	    (where[6] == '.' || where[6] == '[');
	kind = in_params ? "invalid params" : "invalid request";
	/* The id of a request (never of a response: that id is ours). */
	if (cJSON_IsObject(msg) && cJSON_HasObjectItem(msg, "method") &&
	    !(top &&
		(strstr(where, " (a member name)") != NULL ||
		    (strncmp(where, "id", 2) == 0 &&
			(where[2] == '\0' || where[2] == ' ')))))
		id = msg_id(msg);
	if (k == JSON_CHECK_NUL)
		snprintf(text, sizeof(text),
		    "%s: %s holds a NUL character (\\u0000); janee refuses it, as readers disagree on where such a string ends",
		    kind, where);
	else
		snprintf(text, sizeof(text),
		    "%s: the key %s appears twice; janee refuses it, as readers disagree on which one counts",
		    kind, where);
	mcp_send(m, mcp_error(id, in_params ? -32602 : -32600, text));
	return 1;
}

/* One complete line: validate per JSON-RPC 2.0 and dispatch. */
void
mcp_message(struct mcp *m, const char *p, size_t n)
{
	cJSON *msg;
	const char *end = NULL;

	while (
	    n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0)
		return; /* blank lines are not messages */
	if (!utf8_valid((const unsigned char *)p, n)) {
		mcp_send(m,
		    mcp_error(NULL, -32700,
			"parse error: the message is not valid UTF-8"));
		return;
	}
	/* One JSON value and nothing after it (cJSON would stop early). */
	if ((msg = cJSON_ParseWithLengthOpts(p, n, &end, 0)) != NULL)
		while (end < p + n &&
		    (*end == ' ' || *end == '\t' || *end == '\r'))
			end++;
	if (msg == NULL || end != p + n) {
		cJSON_Delete(msg);
		mcp_send(m,
		    mcp_error(
			NULL, -32700, "parse error: not a JSON document"));
		return;
	}
	if (refuse_ambiguous(m, p, n, msg)) {
		cJSON_Delete(msg);
		return;
	}
	if (!cJSON_IsArray(msg))
		dispatch(m, msg);
	else if (m->initialized && strcmp(m->protocol, "2025-03-26") == 0)
		mcp_batch(m, msg, dispatch);
	else
		mcp_send(m,
		    mcp_error(NULL, -32600,
			"invalid request: JSON-RPC batches belong to protocol 2025-03-26 only; send one message per line"));
	cJSON_Delete(msg);
}

/* One JSON-RPC message (alone or from a batch): validate and dispatch. */
static void
dispatch(struct mcp *m, cJSON *msg)
{
	cJSON *id, *method, *params, *ver;

	ver = cJSON_GetObjectItemCaseSensitive(msg, "jsonrpc");
	method = cJSON_GetObjectItemCaseSensitive(msg, "method");
	params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	/* Ids are strings or integers; anything else is not a request. */
	id = msg_id(msg);
	if (!cJSON_IsObject(msg) || !cJSON_IsString(ver) ||
	    strcmp(ver->valuestring, "2.0") != 0) {
		mcp_send(m,
		    mcp_error(id, -32600,
			"invalid request: not a JSON-RPC 2.0 object"));
		return;
	}
	if (method == NULL && id != NULL &&
	    (cJSON_GetObjectItemCaseSensitive(msg, "result") != NULL ||
		cJSON_GetObjectItemCaseSensitive(msg, "error") != NULL)) {
		mcp_tools_response(m, msg);
		return;
	}
	if (!cJSON_IsString(method)) {
		mcp_send(m,
		    mcp_error(id, -32600,
			"invalid request: 'method' must be a string"));
		return;
	}
	if (cJSON_GetObjectItemCaseSensitive(msg, "id") != NULL && id == NULL) {
		mcp_send(m,
		    mcp_error(NULL, -32600,
			"invalid request: 'id' must be a string or an integer"));
		return;
	}
	if (params != NULL && !cJSON_IsObject(params)) {
		if (id != NULL)
			mcp_send(m,
			    mcp_error(id, -32602,
				"invalid params: 'params' must be an object"));
		return;
	}
	if (strncmp(method->valuestring, "notifications/", 14) == 0) {
		if (id != NULL)
			mcp_send(m,
			    mcp_error(id, -32600,
				"invalid request: a notification must not carry an id"));
		else
			notification(m, method->valuestring, params);
		return;
	}
	if (id == NULL)
		return; /* an unknown notification: ignored, per JSON-RPC */
	request(m, id, method->valuestring, params);
}

void
mcp_feed(struct mcp *m, const char *p, size_t n)
{
	const char *nl;
	size_t take;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		take = nl ? (size_t)(nl - p) : n;
		if (m->discarding) {
			/* The rest of an oversize line: skip to its end. */
			if (nl != NULL)
				m->discarding = 0;
		} else if (m->line.len + take > MCP_MAX_LINE) {
			buf_reset(&m->line);
			m->discarding = nl == NULL;
			janee_err_clear();
			mcp_send(m,
			    mcp_error(NULL, -32600,
				"invalid request: a message is longer than 1 MiB"));
		} else if (buf_add(&m->line, p, take) != 0) {
			janee_err_clear();
			buf_init(&m->line, MCP_MAX_LINE);
		} else if (nl != NULL) {
			mcp_message(m, m->line.p, m->line.len);
			buf_reset(&m->line);
		}
		if (nl == NULL)
			return;
		p = nl + 1;
		n -= take + 1;
	}
}

void
mcp_lease_ended(struct mcp *m, const struct lease *l)
{
	cJSON *d;

	/* Only this session's leases; never a token. */
	if (l->session == NULL || strcmp(l->session, m->session) != 0)
		return;
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "event", "lease_ended");
	cJSON_AddStringToObject(d, "lease_id", l->id);
	cJSON_AddStringToObject(d, "provider", l->provider);
	cJSON_AddStringToObject(d, "state", lease_state_name(l->state));
	cJSON_AddStringToObject(d, "message",
	    l->state == LEASE_EXPIRED
		? "the lease ended and its token was revoked; request a new one if you still need access"
		: "the lease ended but its token could not be revoked at the provider");
	mcp_notify_log(m, l->state == LEASE_EXPIRED ? 1 : 3, d);
}

static void
lease_ended(void *arg, const struct lease *l)
{
	mcp_lease_ended(arg, l);
}

int64_t
mcp_sweep(
    struct core *core, void (*ended)(void *, const struct lease *), void *arg)
{
	struct sweep_report r = { 0 };
	int64_t due, now, wait = 3600000;
	int rc;

	r.ended = ended;
	r.arg = arg;
	if ((rc = broker_sweep(&core->broker, 0, &r)) != 0) {
		mcp_warn("sweep: %s", janee_err_msg(rc));
		janee_err_clear();
	}
	if (broker_next_due(&core->broker, &due) == 0) {
		now = janee_now_ms();
		if (due != INT64_MAX)
			wait = due > now ? due - now : 0;
	} else
		janee_err_clear();
	/* Leases other janee processes make: look again now and then. */
	if (wait > 30000)
		wait = 30000;
	/* A waiting store (passphrase) must not spin: retry slowly. */
	if (r.waiting > 0 && wait < 30000)
		wait = 30000;
	return wait;
}

int64_t
mcp_tick(struct mcp *m)
{
	int64_t wait = 3600000, tw;

	if (m->ready)
		wait = mcp_sweep(m->core, lease_ended, m);
	tw = mcp_tools_tick(m);
	return tw < wait ? tw : wait;
}

void
mcp_shutdown(struct mcp *m, const char *why)
{
	mcp_tools_shutdown(m, why);
}
