/*
 * janee serve --http: MCP Streamable HTTP over src/web.c.  Spec: MCP
 * 2025-11-25 basic/transports ("Streamable HTTP"), and the 2026-07-28
 * stateless form (a POST per request, its version in the header and in
 * _meta, no session).  One struct mcp per session; messages that mcp.c
 * emits are routed here (route()): an answer to the POST that asked, or
 * the server's own requests and notifications to the POST being served,
 * the session's GET stream, or a queue until one opens.
 */
#include "common.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "approval-page.h"
#include "buf.h"
#include "mcp-http.h"
#include "mcp.h"
#include "notify.h"
#include "util.h"
#include "web.h"

#define HTTP_MAX_BODY (1024 * 1024) /* a JSON-RPC message, as on stdio */
#define HTTP_MAX_QUEUE (256 * 1024) /* for a GET stream not open yet */
#define HTTP_BUCKETS 256
#define HTTP_PING_MS 25000
#define HTTP_CONNS_PER_IP 16 /* on a network, not behind a proxy */

struct sess;

/* A POST whose messages are owed: its answer, and what comes first. */
struct call {
	struct call *next;
	struct sess *s;
	char *key; /* the request's id as JSON; "[batch]"; "null" */
	char *progress; /* its _meta.progressToken as JSON, or NULL */
	int answered;
	int nmsg;
	struct buf sse; /* events made before the stream opened */
	char *json; /* the answer, sent as application/json when alone */
	struct web_stream *stream;
};

struct sess {
	struct sess *next;
	struct mcp_http *h;
	struct mcp m;
	char id[MCP_HTTP_SID_LEN + 1]; /* Mcp-Session-Id: never in the ledger */
	char *agent; /* verified by the auth hook, or NULL */
	int transient; /* a stateless request's, ended with its answer */
	int64_t last_ms;
	struct call *calls;
	struct call *cur; /* the POST being dispatched */
	struct web_stream *get;
	struct buf queue; /* SSE events waiting for a GET stream */
	int npfd; /* descriptors given to the last poll */
	int page_pfd; /* 1 when the first of them is the page's */
};

struct bucket {
	char key[64];
	double tokens;
	int64_t at;
};

struct mcp_http {
	struct core *core;
	struct web *w;
	const struct http_auth *auth;
	char *path;
	int tls, trust_proxy, loopback;
	char host[80]; /* the listen address as written in a Host header */
	uint16_t port;
	struct janee_strlist origins; /* allowed Origin values */
	struct janee_strlist hosts; /* allowed Host values (no auth) */
	struct mcp_http_policy policy; /* for mcp_http_screen */
	int64_t idle_ms;
	int max_sessions, nsess, rate;
	struct sess *sessions, *transients;
	/* Stateless calls without authentication: their ledger session,
	 * and requestState key; each agent's derive from the key. */
	char stateless_session[33];
	unsigned char state_key[32];
	struct bucket buckets[HTTP_BUCKETS];
	struct buf cert, key;
	int64_t wait;
	int64_t ping_at; /* the next comment on the GET streams */
};

/* --- per-client rate limit (a token bucket per address) ---------------- */

/* 0, or the seconds to wait (Retry-After). */
static int
rate_take(struct mcp_http *h, const char *who)
{
	struct bucket *b = NULL, *old = &h->buckets[0];
	int64_t now = janee_now_ms();
	double per_ms = h->rate / 60000.0;
	size_t i;

	if (h->rate <= 0)
		return 0;
	for (i = 0; i < HTTP_BUCKETS && b == NULL; i++) {
		if (strcmp(h->buckets[i].key, who) == 0)
			b = &h->buckets[i];
		else if (h->buckets[i].at < old->at)
			old = &h->buckets[i];
	}
	if (b == NULL) {
		/* A new client takes the place of the one quiet longest. */
		b = old;
		snprintf(b->key, sizeof(b->key), "%s", who);
		b->tokens = h->rate;
		b->at = now;
	}
	b->tokens += (double)(now - b->at) * per_ms;
	if (b->tokens > h->rate)
		b->tokens = h->rate;
	b->at = now;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 0;
	}
	return 1 + (int)((1.0 - b->tokens) / per_ms / 1000.0);
}

/* Who asks: the peer, or behind a trusted proxy what it says it saw. */
static void
client_key(struct mcp_http *h, struct web_request *rq, char *out, size_t n)
{
	const char *xff =
	    h->trust_proxy ? web_header(rq, "X-Forwarded-For") : NULL;
	struct sockaddr_storage ss;
	snprintf(out, n, "unknown");
	if (xff != NULL) {
		mcp_http_forwarded_for(xff, out, n);
		return;
	}
	if (web_peer(rq, &ss) != 0)
		return;
	if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    out, (socklen_t)n);
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out,
		    (socklen_t)n);
}

/* --- sessions and the routing of what they send ------------------------ */

static void
call_free(struct call *c)
{
	struct call **pp;

	for (pp = &c->s->calls; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	buf_free(&c->sse);
	free(c->json);
	cJSON_free(c->progress);
	free(c->key);
	free(c);
}

static int
sse_event(struct buf *b, const char *text)
{
	/* One event per message; the JSON holds no newline (mcp_emit). */
	return buf_printf(b, "event: message\ndata: %s\n\n", text);
}

static void
stream_put(struct web_stream *st, const char *text)
{
	struct buf b;

	buf_init(&b, HTTP_MAX_BODY * 4);
	if (sse_event(&b, text) != 0 || web_stream_write(st, b.p, b.len) != 0)
		janee_err_clear();
	buf_free(&b);
}

/* The connection of a POST's stream closed first: nothing more to it. */
static void
call_gone(void *arg)
{
	struct call *c = arg;

	c->stream = NULL;
	call_free(c);
}

static void
get_gone(void *arg)
{
	struct sess *s = arg;

	s->get = NULL;
}

/* Give a message to a call: its stream, or kept until the POST answers. */
static void
deliver(struct call *c, const char *text, int final)
{
	if (final)
		c->s->last_ms = janee_now_ms();
	if (c->stream != NULL) {
		stream_put(c->stream, text);
		if (final) {
			web_stream_end(c->stream);
			c->stream = NULL;
			call_free(c);
		}
		return;
	}
	if (sse_event(&c->sse, text) != 0)
		janee_err_clear();
	c->nmsg++;
	if (final) {
		c->answered = 1;
		free(c->json);
		c->json = janee_strdup(text);
	}
}

/* The id an answer answers ("[batch]" for a batch's), or NULL. */
static char *
answer_key(const cJSON *v)
{
	const cJSON *id;

	if (cJSON_IsArray(v))
		return janee_strdup("[batch]");
	if (!cJSON_IsObject(v) || cJSON_HasObjectItem(v, "method") ||
	    (id = cJSON_GetObjectItemCaseSensitive(v, "id")) == NULL)
		return NULL;
	return cJSON_PrintUnformatted(id);
}

/* notifications/progress: the token it reports on, as JSON; or NULL. */
static char *
progress_key(const cJSON *v)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, "method");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(v, "params");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "progressToken");

	if (!cJSON_IsString(m) ||
	    strcmp(m->valuestring, "notifications/progress") != 0 || t == NULL)
		return NULL;
	return cJSON_PrintUnformatted(t);
}

static void
route(void *arg, const cJSON *v, const char *text)
{
	struct sess *s = arg;
	struct call *c = NULL;
	char *key = answer_key(v);

	for (c = key ? s->calls : NULL; c != NULL; c = c->next)
		if (strcmp(c->key, key) == 0)
			break;
	/*
	 * An answer no other POST waits for, made while one is dispatched,
	 * answers that one: an error with a null id (a body janee could not
	 * read as the request it seemed), a refused batch.
	 */
	if (c == NULL && key != NULL)
		c = s->cur;
	cJSON_free(key);
	if (c != NULL) {
		deliver(c, text, 1);
		return;
	}
	/* Progress goes with the request it is about (its stream). */
	if ((key = progress_key(v)) != NULL) {
		for (c = s->calls; c != NULL; c = c->next)
			if (c->progress != NULL &&
			    strcmp(c->progress, key) == 0)
				break;
		cJSON_free(key);
		if (c != NULL) {
			deliver(c, text, 0);
			return;
		}
	}
	/* The server's own: with the POST being served (it relates to it),
	 * else on the GET stream, else a POST stream still open. */
	if (s->cur != NULL) {
		deliver(s->cur, text, 0);
		return;
	}
	if (s->get != NULL) {
		stream_put(s->get, text);
		return;
	}
	for (c = s->calls; c != NULL; c = c->next)
		if (c->stream != NULL) {
			deliver(c, text, 0);
			return;
		}
	if (sse_event(&s->queue, text) != 0) {
		janee_err_clear();
		mcp_warn("a message for a session with no stream open was "
			 "dropped (its queue is full)");
	}
}

static void
enter(struct sess *s)
{
	mcp_enter(&s->m);
	/* The verified agent (team mode), or none: into every lease. */
	s->h->core->broker.agent = s->agent;
}

/*
 * A stateless call's ledger session and requestState key.  The ledger
 * checks ownership per session (list_leases, lease_id, revoke_token), so
 * each verified agent's stateless calls are one session of their own,
 * derived from the server's key under the agent's name: stable across
 * calls, not guessable, and never another agent's.  Without
 * authentication (loopback) there is one caller, and one session.
 */
static int
stateless_identity(struct mcp_http *h, const char *agent, struct mcp *m)
{
	unsigned char mac[32];
	char msg[300];
	size_t n;
	int len, rc = 0;

	if (agent == NULL) {
		memcpy(m->session, h->stateless_session, sizeof(m->session));
		memcpy(m->state_key, h->state_key, sizeof(m->state_key));
		return 0;
	}
	/* One label per use, so that neither value tells the other. */
	len = snprintf(msg, sizeof(msg), "session%c%s", '\0', agent);
	if (len < 0 || (size_t)len >= sizeof(msg) ||
	    EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, h->state_key,
		sizeof(h->state_key), (unsigned char *)msg, (size_t)len, mac,
		sizeof(mac), &n) == NULL)
		return janee_err_set(
		    JANEE_ERR_INTERNAL, "cannot derive the agent's session");
	janee_hex(mac, (sizeof(m->session) - 1) / 2, m->session);
	len = snprintf(msg, sizeof(msg), "state%c%s", '\0', agent);
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, h->state_key,
		sizeof(h->state_key), (unsigned char *)msg, (size_t)len,
		m->state_key, sizeof(m->state_key), &n) == NULL)
		rc = janee_err_set(
		    JANEE_ERR_INTERNAL, "cannot derive the agent's key");
	janee_wipe(mac, sizeof(mac));
	return rc;
}

static struct sess *
sess_new(struct mcp_http *h, int transient, const char *agent)
{
	struct sess *s = calloc(1, sizeof(*s));
	unsigned char r[MCP_HTTP_SID_LEN / 2];

	if (s == NULL)
		return NULL;
	if (janee_random(r, sizeof(r)) != 0 ||
	    (agent != NULL && (s->agent = janee_strdup(agent)) == NULL)) {
		janee_err_clear();
		free(s);
		return NULL;
	}
	janee_hex(r, sizeof(r), s->id);
	s->h = h;
	s->transient = transient;
	s->last_ms = janee_now_ms();
	buf_init(&s->queue, HTTP_MAX_QUEUE);
	mcp_init(&s->m, h->core);
	s->m.emit = route;
	s->m.emit_arg = s;
	/* Opened now: the ledger's session id exists from the start. */
	if (mcp_ready(&s->m) != 0)
		janee_err_clear();
	if (transient) {
		if (stateless_identity(h, agent, &s->m) != 0) {
			janee_err_clear();
			mcp_free(&s->m);
			buf_free(&s->queue);
			free(s->agent);
			free(s);
			return NULL;
		}
		s->next = h->transients;
		h->transients = s;
	} else {
		s->next = h->sessions;
		h->sessions = s;
		h->nsess++;
	}
	return s;
}

static void
sess_unlink(struct mcp_http *h, struct sess *s)
{
	struct sess **pp = s->transient ? &h->transients : &h->sessions;

	for (; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			if (!s->transient)
				h->nsess--;
			return;
		}
}

/* End a session: its waiting requests are answered why, streams end. */
static void
sess_end(struct sess *s, const char *why)
{
	struct call *c;
	cJSON *e, *id;

	enter(s);
	if (!s->transient)
		mcp_shutdown(&s->m, why);
	while ((c = s->calls) != NULL) {
		if (c->stream != NULL && strcmp(c->key, "[batch]") != 0 &&
		    (id = cJSON_Parse(c->key)) != NULL) {
			/* What nobody will answer now: an error, not silence. */
			e = mcp_error(id, -32000, why);
			cJSON_Delete(id);
			if (e != NULL) {
				char *t = cJSON_PrintUnformatted(e);

				if (t != NULL)
					stream_put(c->stream, t);
				cJSON_free(t);
				cJSON_Delete(e);
			}
		}
		web_stream_end(c->stream);
		c->stream = NULL;
		call_free(c);
	}
	web_stream_end(s->get);
	s->get = NULL;
	sess_unlink(s->h, s);
	mcp_free(&s->m);
	buf_free(&s->queue);
	free(s->agent);
	free(s);
}

/*
 * The live session id names, if it is agent's (with authentication a
 * session belongs to the agent that started it); NULL otherwise.
 */
static struct sess *
sess_find(struct mcp_http *h, const char *id, const char *agent)
{
	struct sess *s;

	for (s = h->sessions; s != NULL; s = s->next)
		if (CRYPTO_memcmp(s->id, id, MCP_HTTP_SID_LEN) == 0)
			break;
	/* Expired even if the timer has not run yet. */
	if (s != NULL && s->calls == NULL &&
	    janee_now_ms() - s->last_ms >= h->idle_ms) {
		sess_end(s, "cancelled: the MCP session was idle too long");
		s = NULL;
	}
	if (s != NULL && s->agent != NULL &&
	    (agent == NULL || strcmp(agent, s->agent) != 0))
		return NULL;
	return s;
}

/* --- requests ---------------------------------------------------------- */

static void
reply(struct web_response *rs, int status, const char *why)
{
	rs->status = status;
	rs->type = "application/json";
	/* Token endpoint answers must not be cached (RFC 6749 section
	 * 5.1): every answer of the hook says so. */
	if (web_header_add(rs, "Cache-Control", "no-store") != 0)
		janee_err_clear();
	if (buf_printf(&rs->body, "{\"error\": \"%s\"}", why) != 0)
		janee_err_clear();
}

/* A request: a method, and an id the answer will carry. */
static int
is_request(const cJSON *msg)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(msg, "method");

	return cJSON_IsObject(msg) && cJSON_IsString(m) &&
	    (cJSON_IsString(id) || cJSON_IsNumber(id));
}

/* The key a POST's answer will carry (answer_key's), or "null". */
static char *
request_key(const cJSON *msg, const char **method)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(msg, "method");
	const cJSON *el;

	*method = cJSON_IsString(m) ? m->valuestring : NULL;
	/*
	 * A batch is answered only when it holds a request: one of
	 * notifications and responses gets no answer (mcp-batch.c), so it
	 * is accepted (202) like a single one, not given a stream that
	 * nothing would ever end.
	 */
	if (cJSON_IsArray(msg)) {
		cJSON_ArrayForEach(el, msg)
		{
			if (is_request(el))
				return janee_strdup("[batch]");
		}
		return janee_strdup("null");
	}
	if (is_request(msg))
		return cJSON_PrintUnformatted(
		    cJSON_GetObjectItemCaseSensitive(msg, "id"));
	return janee_strdup("null");
}

/* The stateless era's version in _meta (mcp.c reads it the same way). */
static int
stateless_meta(const cJSON *msg)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(msg, "params");
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(p, "_meta");

	return cJSON_GetObjectItemCaseSensitive(
		   meta, "io.modelcontextprotocol/protocolVersion") != NULL;
}

/* Answer a POST from what its dispatch gave (now, or as a stream). */
static void
post_answer(
    struct sess *s, struct call *c, int request, struct web_response *rs)
{
	struct call *d;

	if (c->answered && c->nmsg == 1 && c->json != NULL) {
		rs->type = "application/json";
		if (buf_addstr(&rs->body, c->json) != 0)
			janee_err_clear();
		call_free(c);
	} else if (c->answered || request) {
		rs->type = "text/event-stream";
		if (web_header_add(rs, "Cache-Control", "no-cache") != 0)
			janee_err_clear();
		c->stream = web_stream_open(rs, call_gone, c);
		if (c->stream == NULL ||
		    (c->sse.len > 0 &&
			web_stream_write(c->stream, c->sse.p, c->sse.len) != 0))
			janee_err_clear();
		buf_reset(&c->sse);
		if (c->answered || c->stream == NULL) {
			web_stream_end(c->stream);
			c->stream = NULL;
			call_free(c);
		}
	} else {
		/* A notification or a response: accepted, nothing owed.
		 * What the server said meanwhile goes where such goes. */
		rs->status = 202;
		rs->type = "text/plain";
		if (c->sse.len > 0) {
			d = NULL;
			for (d = s->calls; d != NULL; d = d->next)
				if (d != c && d->stream != NULL)
					break;
			if (s->get != NULL &&
			    web_stream_write(s->get, c->sse.p, c->sse.len) != 0)
				janee_err_clear();
			else if (s->get == NULL && d != NULL &&
			    web_stream_write(d->stream, c->sse.p, c->sse.len) !=
				0)
				janee_err_clear();
			else if (s->get == NULL && d == NULL &&
			    buf_add(&s->queue, c->sse.p, c->sse.len) != 0)
				janee_err_clear();
		}
		call_free(c);
	}
}

/* What a POST's body says, read once before it is dispatched. */
struct post_info {
	char *key; /* request_key's */
	char *progress; /* params._meta.progressToken as JSON, or NULL */
	int request, init, stateless, mirror_ok;
};

/* Whether the 2026-07-28 headers mirror the body (Mcp-Method, Mcp-Name). */
static int
mirrors(
    const char *mh, const char *name, const char *method, const cJSON *params)
{
	const cJSON *tool = cJSON_GetObjectItemCaseSensitive(params, "name");

	if (mh != NULL && (method == NULL || strcmp(mh, method) != 0))
		return 0;
	return name == NULL ||
	    (method != NULL && strcmp(method, "tools/call") == 0 &&
		cJSON_IsString(tool) && strcmp(name, tool->valuestring) == 0);
}

static int
post_read(const char *body, size_t len, const char *sid, const char *proto,
    const char *mh, const char *name, struct post_info *pi)
{
	const char *method = NULL;
	cJSON *msg = cJSON_ParseWithLength(body, len);
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(params, "_meta"), "progressToken");

	memset(pi, 0, sizeof(*pi));
	pi->key = request_key(msg, &method);
	pi->request = pi->key != NULL && strcmp(pi->key, "null") != 0;
	pi->init = method != NULL && strcmp(method, "initialize") == 0;
	pi->stateless = (proto != NULL && strcmp(proto, MCP_STATELESS) == 0) ||
	    (sid == NULL && !pi->init && stateless_meta(msg));
	/* The 2026-07-28 form mirrors them in headers: one truth. */
	pi->mirror_ok = mirrors(mh, name, method, params);
	if (pi->request && tok != NULL)
		pi->progress = cJSON_PrintUnformatted(tok);
	cJSON_Delete(msg);
	return pi->key != NULL ? 0 : JANEE_ERR_NOMEM;
}

/* The session a POST goes to (found, or made); NULL when answered. */
static struct sess *
post_session(struct mcp_http *h, struct web_response *rs, const char *sid,
    const char *proto, const char *agent, const struct post_info *pi)
{
	struct sess *s;

	if (sid != NULL) {
		if ((s = sess_find(h, sid, agent)) == NULL)
			reply(rs, 404,
			    "not found: no such session (it ended, "
			    "or expired); initialize a new one");
		else if (pi->init)
			reply(rs, 400,
			    "bad request: this session is "
			    "initialized already");
		else if (s->m.initialized && proto != NULL &&
		    strcmp(proto, s->m.protocol) != 0)
			reply(rs, 400,
			    "bad request: MCP-Protocol-Version is "
			    "not the session's");
		else
			return s;
		return NULL;
	}
	if (!pi->init && !pi->stateless) {
		reply(rs, 400,
		    "bad request: Mcp-Session-Id is required (initialize "
		    "first, or use the " MCP_STATELESS " form)");
		return NULL;
	}
	if (pi->init && h->nsess >= h->max_sessions) {
		if (web_header_add(rs, "Retry-After", "60") != 0)
			janee_err_clear();
		reply(rs, 503, "service unavailable: too many sessions");
		return NULL;
	}
	if ((s = sess_new(h, !pi->init, agent)) == NULL) {
		janee_err_clear();
		reply(rs, 500, "out of memory");
	}
	return s;
}

static void
do_post(struct mcp_http *h, struct web_request *rq, struct web_response *rs,
    const char *sid, const char *agent)
{
	const char *proto = web_header(rq, "MCP-Protocol-Version");
	const char *body;
	struct post_info pi;
	struct sess *s;
	struct call *c;
	size_t len;

	body = web_body(rq, &len);
	if (post_read(body, len, sid, proto, web_header(rq, "Mcp-Method"),
		web_header(rq, "Mcp-Name"), &pi) != 0) {
		janee_err_clear();
		reply(rs, 500, "out of memory");
		return;
	}
	if (!pi.mirror_ok) {
		free(pi.key);
		cJSON_free(pi.progress);
		reply(rs, 400,
		    "bad request: Mcp-Method or Mcp-Name differs from the body");
		return;
	}
	if ((s = post_session(h, rs, sid, proto, agent, &pi)) == NULL ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		if (s != NULL)
			reply(rs, 500, "out of memory");
		free(pi.key);
		cJSON_free(pi.progress);
		return;
	}
	c->s = s;
	c->key = pi.key;
	c->progress = pi.progress;
	buf_init(&c->sse, HTTP_MAX_BODY * 4);
	c->next = s->calls;
	s->calls = c;
	s->last_ms = janee_now_ms();
	s->cur = c;
	enter(s);
	mcp_message(&s->m, body, len);
	s->cur = NULL;
	if (pi.init && web_header_add(rs, "Mcp-Session-Id", s->id) != 0)
		janee_err_clear();
	post_answer(s, c, pi.request, rs);
	if (s->transient && s->calls == NULL)
		sess_end(s, "done");
}

static void
do_get(struct mcp_http *h, struct web_request *rq, struct web_response *rs,
    const char *sid, const char *agent)
{
	struct sess *s;

	(void)rq;
	if (sid == NULL) {
		/* The stateless form has no stream of the server's own. */
		if (web_header_add(rs, "Allow", "POST") != 0)
			janee_err_clear();
		reply(rs, 405,
		    "method not allowed: a GET stream needs a "
		    "session (Mcp-Session-Id)");
		return;
	}
	if ((s = sess_find(h, sid, agent)) == NULL) {
		reply(rs, 404, "not found: no such session");
		return;
	}
	/* One at a time: a new GET replaces a stream whose client left. */
	web_stream_end(s->get);
	rs->type = "text/event-stream";
	if (web_header_add(rs, "Cache-Control", "no-cache") != 0)
		janee_err_clear();
	if ((s->get = web_stream_open(rs, get_gone, s)) == NULL) {
		reply(rs, 500, "out of memory");
		return;
	}
	s->last_ms = janee_now_ms();
	if (s->queue.len > 0 &&
	    web_stream_write(s->get, s->queue.p, s->queue.len) != 0)
		janee_err_clear();
	buf_reset(&s->queue);
}

static void
do_delete(struct mcp_http *h, struct web_response *rs, const char *sid,
    const char *agent)
{
	struct sess *s;

	if (sid == NULL) {
		reply(rs, 400, "bad request: Mcp-Session-Id is required");
		return;
	}
	if ((s = sess_find(h, sid, agent)) == NULL) {
		reply(rs, 404, "not found: no such session");
		return;
	}
	sess_end(s, "cancelled: the MCP client ended the session");
	rs->status = 200;
	rs->type = "text/plain";
}

/* The auth hook's own endpoints; 1 when it answered. */
static int
auth_route(struct mcp_http *h, struct web_request *rq, struct web_response *rs)
{
	char *type = NULL, *body = NULL;
	const char *in;
	size_t len;
	int status = 200;

	if (h->auth == NULL || h->auth->route == NULL)
		return 0;
	in = web_body(rq, &len);
	if (h->auth->route(h->auth->arg, web_method(rq), web_path(rq),
		web_header(rq, "Content-Type"), in, len, &status, &type,
		&body) != 1)
		return 0;
	rs->status = status;
	rs->type = "application/json";
	/* Token endpoint answers must not be cached (RFC 6749 section
	 * 5.1): every answer of the hook says so. */
	if (web_header_add(rs, "Cache-Control", "no-store") != 0)
		janee_err_clear();
	if (body != NULL && buf_addstr(&rs->body, body) != 0)
		janee_err_clear();
	/* rs->type must outlive the handler: only known types pass. */
	if (type != NULL && strncmp(type, "text/plain", 10) == 0)
		rs->type = "text/plain";
	free(type);
	free(body);
	return 1;
}

static void
handle(void *arg, struct web_request *rq, struct web_response *rs)
{
	struct mcp_http *h = arg;
	struct mcp_http_hdrs r;
	const char *why = NULL, *sid;
	char who[64], ra[16], *agent = NULL, *wa = NULL;
	int st, wait;

	memset(&r, 0, sizeof(r));
	r.method = web_method(rq);
	r.path = web_path(rq);
	r.origin = web_header(rq, "Origin");
	r.host = web_header(rq, "Host");
	r.accept = web_header(rq, "Accept");
	r.content_type = web_header(rq, "Content-Type");
	r.session = sid = web_header(rq, "Mcp-Session-Id");
	r.protocol = web_header(rq, "MCP-Protocol-Version");
	r.mcp_method = web_header(rq, "Mcp-Method");
	client_key(h, rq, who, sizeof(who));
	if ((wait = rate_take(h, who)) > 0) {
		snprintf(ra, sizeof(ra), "%d", wait);
		if (web_header_add(rs, "Retry-After", ra) != 0)
			janee_err_clear();
		reply(rs, 429, "too many requests: slow down");
		return;
	}
	/* Origin and Host first, even for the auth hook's endpoints. */
	if ((st = mcp_http_screen_peer(&h->policy, &r, &why)) != 0) {
		reply(rs, st, why);
		return;
	}
	if (web_body_too_large(rq)) {
		reply(rs, 413, "content too large: a message is at most 1 MiB");
		return;
	}
	if (auth_route(h, rq, rs))
		return;
	if ((st = mcp_http_screen(&h->policy, &r, &why)) != 0) {
		if (st == 405 &&
		    web_header_add(rs, "Allow", "GET, POST, DELETE"))
			janee_err_clear();
		reply(rs, st, why);
		return;
	}
	if (h->auth != NULL && h->auth->check != NULL &&
	    h->auth->check(h->auth->arg, web_header(rq, "Authorization"),
		&agent, &wa) != 0) {
		if (web_header_add(rs, "WWW-Authenticate", wa ? wa : "Bearer"))
			janee_err_clear();
		free(wa);
		free(agent);
		reply(
		    rs, 401, "unauthorized: a valid bearer token is required");
		return;
	}
	free(wa);
	if (strcmp(r.method, "POST") == 0)
		do_post(h, rq, rs, sid, agent);
	else if (strcmp(r.method, "GET") == 0)
		do_get(h, rq, rs, sid, agent);
	else
		do_delete(h, rs, sid, agent);
	free(agent);
}

/* --- start, stop, the loop --------------------------------------------- */

static int
read_pem(const char *file, struct buf *b)
{
	int fd, rc;

	buf_init(b, 1024 * 1024);
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return janee_err_set(
		    JANEE_ERR_IO, "cannot read %s: %s", file, strerror(errno));
	rc = buf_read_fd(b, fd);
	close(fd);
	if (rc == 0 && (b->len == 0 || strstr(b->p, "-----BEGIN") == NULL))
		rc = janee_err_set(JANEE_ERR_INVALID,
		    "%s is not a PEM file; give the certificate chain and its "
		    "key in PEM",
		    file);
	return rc;
}

/* The Host and Origin values naming this server (on its port). */
static int
allow_self(struct mcp_http *h)
{
	const char *names[] = { h->host, "127.0.0.1", "localhost", "[::1]" };
	char v[128];
	size_t i;

	for (i = 0; i < nitems(names); i++) {
		snprintf(v, sizeof(v), "%s:%u", names[i], (unsigned)h->port);
		if (janee_strlist_add(&h->hosts, v) != 0)
			return JANEE_ERR_NOMEM;
		snprintf(v, sizeof(v), "%s://%s:%u", h->tls ? "https" : "http",
		    names[i], (unsigned)h->port);
		if (janee_strlist_add(&h->origins, v) != 0)
			return JANEE_ERR_NOMEM;
	}
	return 0;
}

int
mcp_http_start(
    const struct mcp_http_opts *o, struct core *core, struct mcp_http **out)
{
	struct sockaddr_storage ss;
	struct web_opts wo;
	struct mcp_http *h;
	unsigned char r[16];
	size_t i;
	int rc, loopback = 0;

	*out = NULL;
	memset(&wo, 0, sizeof(wo));
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	h->core = core;
	h->auth = o->auth;
	h->trust_proxy = o->trust_proxy;
	h->idle_ms = o->idle_ms > 0 ? o->idle_ms : 30 * 60 * 1000;
	h->max_sessions = o->max_sessions > 0 ? o->max_sessions : 64;
	h->rate = o->rate_per_min;
	h->wait = 0;
	buf_init(&h->cert, 1);
	buf_init(&h->key, 1);
	if ((rc = mcp_http_parse_listen(o->listen, &ss, &wo.addrlen, h->host,
		 sizeof(h->host), &h->port, &loopback)) != 0)
		goto fail;
	h->loopback = loopback;
	/*
	 * Without authentication whoever reaches the port is the agent: a
	 * credential broker that hands tokens to anyone on a network.  Only
	 * loopback, where the peer is a local process (and, over IPv4, one
	 * of janee's own uid: WEB_SAME_UID).
	 */
	if (!loopback && o->auth == NULL) {
		rc = janee_err_set(JANEE_ERR_USAGE,
		    "refusing to serve MCP on %s without authentication: an "
		    "unauthenticated credential broker must not listen on a "
		    "network; listen on 127.0.0.1 or [::1], or configure agent "
		    "authentication",
		    o->listen);
		goto fail;
	}
	if (!loopback && o->tls_cert == NULL && !o->trust_proxy) {
		rc = janee_err_set(JANEE_ERR_USAGE,
		    "refusing to serve MCP on %s in clear text: bearer tokens "
		    "would cross the network readable; give --tls-cert and "
		    "--tls-key, or --trust-proxy behind a reverse proxy that "
		    "terminates TLS",
		    o->listen);
		goto fail;
	}
	if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
		rc = janee_err_set(
		    JANEE_ERR_USAGE, "--tls-cert and --tls-key go together");
		goto fail;
	}
	if (o->tls_cert != NULL &&
	    ((rc = read_pem(o->tls_cert, &h->cert)) != 0 ||
		(rc = read_pem(o->tls_key, &h->key)) != 0))
		goto fail;
	h->tls = o->tls_cert != NULL;
	if ((h->path = janee_strdup(o->path ? o->path : "/mcp")) == NULL ||
	    (rc = janee_random(r, sizeof(r))) != 0 ||
	    (rc = janee_random(h->state_key, sizeof(h->state_key))) != 0) {
		rc = rc ? rc : JANEE_ERR_NOMEM;
		goto fail;
	}
	janee_hex(r, sizeof(r), h->stateless_session);
	for (i = 0; o->origins != NULL && i < o->origins->n; i++)
		if ((rc = janee_strlist_add(&h->origins, o->origins->v[i])) !=
		    0)
			goto fail;
	wo.addr = (const struct sockaddr *)&ss;
	wo.flags = WEB_BODIES |
	    (o->auth == NULL && ss.ss_family == AF_INET ? WEB_SAME_UID : 0);
	wo.max_body = HTTP_MAX_BODY;
	wo.max_conns = (unsigned)h->max_sessions * 2 + 16;
	/*
	 * One address must not take every connection (streams are held
	 * open).  Not on loopback, where every client has one address, nor
	 * behind a proxy, where every request comes from the proxy's.
	 */
	if (!h->loopback && !h->trust_proxy)
		wo.max_conns_per_ip = HTTP_CONNS_PER_IP;
	wo.tls_cert_pem = h->tls ? h->cert.p : NULL;
	wo.tls_key_pem = h->tls ? h->key.p : NULL;
	if ((rc = web_start_opts(&wo, handle, h, &h->w)) != 0) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", janee_err_msg(rc));
		rc = janee_err_set(
		    rc, "cannot serve MCP on %s: %s", o->listen, msg);
		goto fail;
	}
	h->port = web_port(h->w);
	if ((rc = allow_self(h)) != 0)
		goto fail;
	h->policy.path = h->path;
	h->policy.origins = &h->origins;
	h->policy.hosts = &h->hosts;
	h->policy.need_host = h->auth == NULL;
	*out = h;
	return 0;
fail:
	mcp_http_stop(h, "janee serve could not start");
	return rc;
}

void
mcp_http_stop(struct mcp_http *h, const char *why)
{
	if (h == NULL)
		return;
	while (h->sessions != NULL)
		sess_end(h->sessions, why);
	while (h->transients != NULL)
		sess_end(h->transients, why);
	web_stop(h->w);
	buf_free(&h->cert);
	buf_free(&h->key);
	janee_strlist_free(&h->origins);
	janee_strlist_free(&h->hosts);
	janee_wipe(h->state_key, sizeof(h->state_key));
	free(h->path);
	free(h);
}

uint16_t
mcp_http_port(const struct mcp_http *h)
{
	return h->port;
}

static void
each_pfds(struct mcp_http *h, struct sess *s, struct pollfd *pfd, int max,
    int *n, int64_t *wait)
{
	int64_t pw;
	int k = 0;

	s->npfd = 0;
	s->page_pfd = 0;
	if (*n + MCP_HTTP_SESSION_PFDS > max)
		return;
	(void)h;
	if (s->m.page != NULL) {
		pfd[*n].fd = approval_page_fd(s->m.page);
		pfd[*n].events = POLLIN;
		pfd[*n].revents = 0;
		s->page_pfd = 1;
		k = 1;
		if ((pw = approval_page_timeout_ms(s->m.page)) >= 0 &&
		    pw < *wait)
			*wait = pw;
	}
	if (s->m.notifier != NULL)
		k += notifier_pollfds(s->m.notifier, pfd + *n + k,
		    MCP_HTTP_SESSION_PFDS - k, wait);
	s->npfd = k;
	*n += k;
}

int
mcp_http_pollfds(struct mcp_http *h, struct pollfd *pfd, int max, int64_t *wait)
{
	struct sess *s;
	int64_t wt;
	int n = 1;

	pfd[0].fd = web_fd(h->w);
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	if ((wt = web_timeout_ms(h->w)) >= 0 && wt < *wait)
		*wait = wt;
	if (h->wait < *wait)
		*wait = h->wait;
	for (s = h->sessions; s != NULL; s = s->next)
		each_pfds(h, s, pfd, max, &n, wait);
	for (s = h->transients; s != NULL; s = s->next)
		each_pfds(h, s, pfd, max, &n, wait);
	return n;
}

static void
sess_ended_lease(void *arg, const struct lease *l)
{
	struct mcp_http *h = arg;
	struct sess *s;

	for (s = h->sessions; s != NULL; s = s->next)
		if (s->m.ready && l->session != NULL &&
		    strcmp(l->session, s->m.session) == 0) {
			enter(s);
			mcp_lease_ended(&s->m, l);
		}
}

static void
each_run(struct sess *s, struct pollfd *pfd, int *n)
{
	int k = *n;

	*n += s->npfd;
	if (s->page_pfd)
		k++;
	enter(s);
	if (s->m.notifier != NULL && s->npfd > s->page_pfd)
		notifier_dispatch(
		    s->m.notifier, pfd + k, s->npfd - s->page_pfd);
	if (s->m.page != NULL)
		approval_page_run(s->m.page);
}

void
mcp_http_run(struct mcp_http *h, struct pollfd *pfd, int n)
{
	struct sess *s, *next;
	int64_t now, wait = 3600000, tw;
	int k = 1, any = 0;
	char why[128];

	(void)n;
	for (s = h->sessions; s != NULL; s = s->next)
		each_run(s, pfd, &k);
	for (s = h->transients; s != NULL; s = s->next)
		each_run(s, pfd, &k);
	web_run(h->w);
	now = janee_now_ms();
	for (s = h->sessions; s != NULL; s = next) {
		next = s->next;
		any |= s->m.ready;
		/* In use while a request of it is being answered. */
		if (s->calls == NULL && now - s->last_ms >= h->idle_ms) {
			snprintf(why, sizeof(why),
			    "cancelled: the MCP session was idle for %lld s",
			    (long long)(h->idle_ms / 1000));
			sess_end(s, why);
		}
	}
	if (any || h->transients != NULL)
		wait = mcp_sweep(h->core, sess_ended_lease, h);
	/*
	 * A comment on each GET stream now and then: proxies keep it open,
	 * and a client that left is found (the write fails, the stream
	 * ends) rather than kept suspended for ever.
	 */
	if (now >= h->ping_at) {
		for (s = h->sessions; s != NULL; s = s->next)
			if (s->get != NULL &&
			    web_stream_write(s->get, ": ping\n\n", 8) != 0)
				janee_err_clear();
		h->ping_at = now + HTTP_PING_MS;
	}
	if (h->ping_at - now < wait)
		wait = h->ping_at - now;
	for (s = h->sessions; s != NULL; s = s->next) {
		enter(s);
		if ((tw = mcp_tools_tick(&s->m)) < wait)
			wait = tw;
		/* A session with calls in flight is not idle (above): a
		 * timer for it would be due at once, and spin the loop. */
		if (s->calls == NULL &&
		    (tw = s->last_ms + h->idle_ms - now) < wait)
			wait = tw > 0 ? tw : 0;
	}
	for (s = h->transients; s != NULL; s = next) {
		next = s->next;
		enter(s);
		if ((tw = mcp_tools_tick(&s->m)) < wait)
			wait = tw;
		if (s->calls == NULL)
			sess_end(s, "done");
	}
	h->wait = wait;
}
