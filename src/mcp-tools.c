/*
 * The MCP tools: request_token, list_providers, list_leases, revoke_token.
 * Anything not in the table is refused.  request_token never starts a
 * login, and an agent cannot approve, widen or extend its own grant:
 * approval comes from the policy, a person answering an elicitation, or
 * a person at a terminal (`janee approve`).
 */
#include "common.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "broker.h"
#include "credentials.h"
#include "mcp.h"
#include "util.h"

#define ELICIT_WAIT_MS (10 * 60 * 1000)
#define STATE_TTL_MS (10 * 60 * 1000)
#define OOB_POLL_MS 250

/*
 * What a lease of this session waits for: the answer to our
 * elicitation/create (handshake era), a person at a terminal, or the
 * repeated call with the requestState we answered (2026-07-28 era; the
 * call itself was answered already, with input_required).
 */
enum pending_kind { PENDING_ELICIT, PENDING_OOB, PENDING_STATE };

struct mcp_pending {
	enum pending_kind kind;
	int stateless; /* the call came in the 2026-07-28 era */
	cJSON *id; /* the tools/call request's id */
	char lease_id[JANEE_LEASE_ID_LEN];
	char elicit_id[48]; /* our elicitation/create request's id */
	int64_t deadline_ms;
	cJSON *progress_token;
	int64_t next_check_ms, next_progress_ms;
	int progress;
	struct mcp_pending *next;
};

/* --- results ------------------------------------------------------- */

static cJSON *
tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static cJSON *
tool_error(const char *fmt, ...)
{
	cJSON *r = cJSON_CreateObject(), *c, *t;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c = cJSON_AddArrayToObject(r, "content");
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "type", "text");
	cJSON_AddStringToObject(t, "text", msg);
	cJSON_AddItemToArray(c, t);
	cJSON_AddBoolToObject(r, "isError", 1);
	return r;
}

/* A result with structuredContent, and the same as text. */
static cJSON *
tool_ok(cJSON *structured)
{
	cJSON *r = cJSON_CreateObject(), *c, *t;
	char *s = cJSON_PrintUnformatted(structured);

	c = cJSON_AddArrayToObject(r, "content");
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "type", "text");
	cJSON_AddStringToObject(t, "text", s ? s : "");
	cJSON_AddItemToArray(c, t);
	cJSON_free(s);
	cJSON_AddItemToObject(r, "structuredContent", structured);
	cJSON_AddBoolToObject(r, "isError", 0);
	return r;
}

static void
answer(struct mcp *m, cJSON *id, cJSON *result, int stateless)
{
	if (stateless)
		cJSON_AddStringToObject(result, "resultType", "complete");
	mcp_send(m, mcp_result(id, result));
}

static cJSON *
grant_result(const char *provider, const struct broker_grant *g)
{
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
	return tool_ok(o);
}

/* Collect an approved lease and answer; the error otherwise. */
static cJSON *
collect(struct mcp *m, const char *lease_id, const char *provider)
{
	struct broker_grant g;
	cJSON *r;
	int rc;

	if ((rc = broker_collect(&m->c->broker, lease_id, &g)) != 0) {
		r = tool_error("%s", janee_err_msg(rc));
		janee_err_clear();
		return r;
	}
	r = grant_result(provider, &g);
	broker_grant_free(&g);
	return r;
}

/* --- arguments ----------------------------------------------------- */

enum arg_type { ARG_STRING, ARG_INT, ARG_STRINGS };

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

/* --- requestState (stateless-era elicitation) ----------------------- */

static void
b64url(const unsigned char *p, size_t n, char *out)
{
	int len = EVP_EncodeBlock((unsigned char *)out, p, (int)n), i;

	for (i = 0; i < len; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	while (len > 0 && out[len - 1] == '=')
		out[--len] = '\0';
}

static int
unb64url(const char *s, unsigned char *out, size_t cap, size_t *outlen)
{
	char tmp[512];
	size_t n = strlen(s), i;
	int len;

	if (n + 4 >= sizeof(tmp) || (n + 3) / 4 * 3 > cap)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] == '+' || s[i] == '/' || s[i] == '=')
			return -1;
		tmp[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	}
	while (i % 4 != 0)
		tmp[i++] = '=';
	tmp[i] = '\0';
	if ((len = EVP_DecodeBlock(out, (unsigned char *)tmp, (int)i)) < 0)
		return -1;
	/* DecodeBlock counts padding as zero bytes: take them off. */
	*outlen = (size_t)len - (n % 4 == 2 ? 2 : n % 4 == 3 ? 1 : 0);
	/*
	 * Only the one canonical spelling: a last character whose unused
	 * bits are set decodes to the same bytes, and would make one
	 * requestState many strings.
	 */
	if (*outlen > (sizeof(tmp) - 1) / 4 * 3)
		return -1;
	b64url(out, *outlen, tmp);
	return strcmp(tmp, s) == 0 ? 0 : -1;
}

/* A copy of v with object members sorted by name, for a stable digest. */
static cJSON *
sorted(const cJSON *v)
{
	const cJSON *e, *best, *prev = NULL;
	cJSON *o;

	if (cJSON_IsArray(v)) {
		o = cJSON_CreateArray();
		cJSON_ArrayForEach(e, v) cJSON_AddItemToArray(o, sorted(e));
		return o;
	}
	if (!cJSON_IsObject(v))
		return cJSON_Duplicate(v, 1);
	o = cJSON_CreateObject();
	for (;;) {
		best = NULL;
		cJSON_ArrayForEach(
		    e, v) if ((prev == NULL ||
				  strcmp(e->string, prev->string) > 0) &&
		    (best == NULL || strcmp(e->string, best->string) < 0))
		    best = e;
		if (best == NULL)
			return o;
		cJSON_AddItemToObject(o, best->string, sorted(best));
		prev = best;
	}
}

/* SHA-256 of the canonical (sorted, compact) name and arguments. */
static void
call_digest(const char *name, const cJSON *args, char out[65])
{
	unsigned char md[32];
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddItemToObject(
	    o, "arguments", args ? sorted(args) : cJSON_CreateObject());
	s = cJSON_PrintUnformatted(o);
	EVP_Digest(s, strlen(s), md, NULL, EVP_sha256(), NULL);
	janee_hex(md, sizeof(md), out);
	cJSON_free(s);
	cJSON_Delete(o);
}

/* "payload.mac": payload names the lease, the call's digest, an expiry. */
static char *
state_make(struct mcp *m, const char *lease_id, const char *digest)
{
	unsigned char mac[32];
	char payload[256], p64[400], m64[64];
	size_t maclen;

	snprintf(payload, sizeof(payload), "%s.%s.%lld", lease_id, digest,
	    (long long)(janee_now_ms() + STATE_TTL_MS));
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, m->state_key,
		sizeof(m->state_key), (unsigned char *)payload, strlen(payload),
		mac, sizeof(mac), &maclen) == NULL)
		return NULL;
	b64url((unsigned char *)payload, strlen(payload), p64);
	b64url(mac, sizeof(mac), m64);
	return janee_asprintf("%s.%s", p64, m64);
}

/*
 * The lease a requestState stands for, when its MAC holds, it has not
 * expired, and it belongs to this very call; the attacker controls it.
 */
static int
state_check(struct mcp *m, const char *state, const char *digest,
    char lease_id[JANEE_LEASE_ID_LEN], char *err, size_t errn)
{
	unsigned char payload[300], mac[48], want[32];
	char *copy, *dot, *f2, *f3;
	size_t plen, maclen, wlen;
	int64_t exp;
	int ok = -1;

	if ((copy = janee_strdup(state)) == NULL)
		return -1;
	if ((dot = strchr(copy, '.')) == NULL)
		goto bad;
	*dot = '\0';
	if (unb64url(copy, payload, sizeof(payload) - 1, &plen) != 0 ||
	    unb64url(dot + 1, mac, sizeof(mac), &maclen) != 0 || maclen != 32)
		goto bad;
	payload[plen] = '\0';
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, m->state_key,
		sizeof(m->state_key), payload, plen, want, sizeof(want),
		&wlen) == NULL ||
	    CRYPTO_memcmp(want, mac, 32) != 0)
		goto bad;
	f2 = strchr((char *)payload, '.');
	f3 = f2 ? strchr(f2 + 1, '.') : NULL;
	if (f2 == NULL || f3 == NULL ||
	    (size_t)(f2 - (char *)payload) != JANEE_LEASE_ID_LEN - 1)
		goto bad;
	*f2 = *f3 = '\0';
	if (janee_parse_int(f3 + 1, 0, INT64_MAX, &exp) != 0)
		goto bad;
	if (exp < janee_now_ms()) {
		snprintf(err, errn,
		    "the requestState has expired; call "
		    "request_token again without it");
		goto out;
	}
	if (strcmp(f2 + 1, digest) != 0) {
		snprintf(err, errn,
		    "the requestState belongs to another "
		    "call; repeat the original arguments unchanged");
		goto out;
	}
	memcpy(lease_id, payload, JANEE_LEASE_ID_LEN);
	ok = 0;
	goto out;
bad:
	snprintf(err, errn,
	    "the requestState is not one this server "
	    "issued");
out:
	free(copy);
	return ok;
}

/* --- approval by elicitation ---------------------------------------- */

/* Shorter lifetimes a person may pick, as strings, within ttl_s. */
static cJSON *
ttl_choices(int64_t ttl_s)
{
	static const int64_t opts[] = { 60, 300, 900, 1800, 3600 };
	char d[32];
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < nitems(opts); i++)
		if (opts[i] < ttl_s) {
			janee_duration_fmt(opts[i], d, sizeof(d));
			cJSON_AddItemToArray(a, cJSON_CreateString(d));
		}
	janee_duration_fmt(ttl_s, d, sizeof(d));
	cJSON_AddItemToArray(a, cJSON_CreateString(d));
	return a;
}

/* The form shown to the person: what, for how long, why.  No secrets. */
static cJSON *
elicit_params(struct mcp *m, const struct lease *l, int with_mode)
{
	cJSON *p = cJSON_CreateObject(), *s, *props, *ap, *tt, *req;
	char d[32], msg[1400], *shown;

	janee_duration_fmt(l->ttl_s, d, sizeof(d));
	snprintf(msg, sizeof(msg),
	    "%s asks for a token from '%s' with scopes %s%s%s for %s. Reason "
	    "given: %.800s",
	    m->client ? m->client : "an MCP client", l->provider, l->requested,
	    l->repositories ? " on repositories " : "",
	    l->repositories ? l->repositories : "", d,
	    l->reason ? l->reason : "(none)");
	if (with_mode)
		cJSON_AddStringToObject(p, "mode", "form");
	/* The client's name and the reason are the agent's: a person reads
	 * the message, so no control or bidi character reaches it raw. */
	shown = janee_text_escape(msg);
	cJSON_AddStringToObject(p, "message", shown ? shown : "out of memory");
	free(shown);
	s = cJSON_AddObjectToObject(p, "requestedSchema");
	cJSON_AddStringToObject(s, "type", "object");
	props = cJSON_AddObjectToObject(s, "properties");
	ap = cJSON_AddObjectToObject(props, "approve");
	cJSON_AddStringToObject(ap, "type", "boolean");
	cJSON_AddStringToObject(ap, "title", "Approve this token");
	cJSON_AddBoolToObject(ap, "default", 0);
	tt = cJSON_AddObjectToObject(props, "ttl");
	cJSON_AddStringToObject(tt, "type", "string");
	cJSON_AddStringToObject(tt, "title", "Lifetime");
	cJSON_AddItemToObject(tt, "enum", ttl_choices(l->ttl_s));
	cJSON_AddStringToObject(tt, "default", d);
	req = cJSON_AddArrayToObject(s, "required");
	cJSON_AddItemToArray(req, cJSON_CreateString("approve"));
	return p;
}

/*
 * Apply an elicitation's answer to the lease: accept with approve=true
 * approves (with the chosen, shorter TTL); anything else denies.  Returns
 * the tool result.
 */
static cJSON *
elicit_answer(struct mcp *m, const char *lease_id, const cJSON *res)
{
	const cJSON *action = cJSON_GetObjectItemCaseSensitive(res, "action");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(res, "content");
	const cJSON *ap = cJSON_GetObjectItemCaseSensitive(content, "approve");
	const cJSON *tt = cJSON_GetObjectItemCaseSensitive(content, "ttl");
	const char *act = cJSON_IsString(action) ? action->valuestring : "";
	struct lease l;
	char why[96];
	int64_t ttl = 0;
	cJSON *r;
	int rc;

	if (lease_load(m->c->broker.lg, lease_id, &l) != 0) {
		r = tool_error("%s", janee_err_msg(JANEE_ERR_NOT_FOUND));
		janee_err_clear();
		return r;
	}
	if (strcmp(act, "accept") == 0 && cJSON_IsTrue(ap)) {
		if (cJSON_IsString(tt) &&
		    janee_duration_parse(tt->valuestring, &ttl) != 0) {
			janee_err_clear();
			ttl = 0;
		}
		/* Never longer than asked, whatever the form says. */
		if (ttl > l.ttl_s)
			ttl = l.ttl_s;
		rc = broker_decide(&m->c->broker, lease_id, 1, "user",
		    "approved in the MCP client (elicitation)", ttl);
		r = rc == 0 ? collect(m, lease_id, l.provider)
			    : tool_error("%s", janee_err_msg(rc));
	} else {
		snprintf(why, sizeof(why),
		    "the person answered '%s' in the "
		    "MCP client",
		    strcmp(act, "accept") == 0 ? "no" : act);
		rc = broker_decide(&m->c->broker, lease_id, 0, "user", why, 0);
		r = tool_error("denied: %s; lease %s is closed", why, lease_id);
	}
	janee_err_clear();
	lease_free(&l);
	return r;
}

/* --- pending calls ------------------------------------------------- */

static void
pending_free(struct mcp_pending *p)
{
	cJSON_Delete(p->id);
	cJSON_Delete(p->progress_token);
	free(p);
}

static void
pending_unlink(struct mcp *m, struct mcp_pending *p)
{
	struct mcp_pending **pp;

	for (pp = &m->pending; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

static struct mcp_pending *
pending_new(struct mcp *m, enum pending_kind kind, cJSON *id,
    const char *lease_id, const cJSON *params)
{
	struct mcp_pending *p = calloc(1, sizeof(*p));
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");
	const cJSON *tok =
	    cJSON_GetObjectItemCaseSensitive(meta, "progressToken");

	if (p == NULL)
		return NULL;
	p->kind = kind;
	p->id = cJSON_Duplicate(id, 1);
	memcpy(p->lease_id, lease_id, JANEE_LEASE_ID_LEN);
	if (tok != NULL)
		p->progress_token = cJSON_Duplicate(tok, 1);
	p->next = m->pending;
	m->pending = p;
	return p;
}

static int
same_id(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsString(a) && cJSON_IsString(b))
		return strcmp(a->valuestring, b->valuestring) == 0;
	return cJSON_IsNumber(a) && cJSON_IsNumber(b) &&
	    a->valuedouble == b->valuedouble;
}

void
mcp_tools_response(struct mcp *m, cJSON *msg)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(msg, "result");
	struct mcp_pending *p;
	cJSON *r, *deny;

	for (p = m->pending; p != NULL; p = p->next)
		if (p->kind == PENDING_ELICIT && cJSON_IsString(id) &&
		    strcmp(id->valuestring, p->elicit_id) == 0)
			break;
	if (p == NULL)
		return; /* not ours, or already settled: ignore */
	pending_unlink(m, p);
	if (res == NULL) {
		/* The client could not show the form: that denies it. */
		deny = cJSON_CreateObject();
		cJSON_AddStringToObject(deny, "action", "cancel");
		r = elicit_answer(m, p->lease_id, deny);
		cJSON_Delete(deny);
	} else
		r = elicit_answer(m, p->lease_id, res);
	answer(m, p->id, r, p->stateless);
	pending_free(p);
}

void
mcp_tools_cancel(struct mcp *m, cJSON *request_id)
{
	struct mcp_pending *p;

	for (p = m->pending; p != NULL; p = p->next)
		if (p->kind != PENDING_STATE && same_id(p->id, request_id))
			break;
	if (p == NULL)
		return;
	pending_unlink(m, p);
	/* A cancelled request gets no answer; its lease is closed. */
	if (broker_decide(&m->c->broker, p->lease_id, 0, "agent",
		"cancelled by the MCP client", 0) != 0)
		janee_err_clear();
	pending_free(p);
}

static void
progress(struct mcp *m, struct mcp_pending *p, const char *msg)
{
	cJSON *n, *pa;

	if (p->progress_token == NULL)
		return;
	n = cJSON_CreateObject();
	cJSON_AddStringToObject(n, "jsonrpc", "2.0");
	cJSON_AddStringToObject(n, "method", "notifications/progress");
	pa = cJSON_AddObjectToObject(n, "params");
	cJSON_AddItemToObject(
	    pa, "progressToken", cJSON_Duplicate(p->progress_token, 1));
	cJSON_AddNumberToObject(pa, "progress", ++p->progress);
	cJSON_AddStringToObject(pa, "message", msg);
	mcp_send(m, n);
}

/* An out-of-band wait: look at the ledger; answer once it is settled. */
static void
oob_check(struct mcp *m, struct mcp_pending *p, int64_t now)
{
	struct lease l;
	cJSON *r = NULL;
	char msg[200];

	if (lease_load(m->c->broker.lg, p->lease_id, &l) != 0) {
		janee_err_clear();
		return;
	}
	if (l.state == LEASE_APPROVED)
		r = collect(m, p->lease_id, l.provider);
	else if (l.state == LEASE_DENIED)
		r = tool_error("denied: %s; lease %s is closed",
		    l.detail ? l.detail : "a person denied it", l.id);
	else if (l.state != LEASE_REQUESTED)
		r = tool_error(
		    "lease %s is %s", l.id, lease_state_name(l.state));
	else if (now >= p->deadline_ms)
		r = tool_error("pending: lease %s still waits for a person to "
			       "run 'janee approve %s' (or 'janee deny %s'). "
			       "Call request_token again with lease_id \"%s\" "
			       "to collect the token once it is approved.",
		    l.id, l.id, l.id, l.id);
	else if (now >= p->next_progress_ms) {
		snprintf(msg, sizeof(msg),
		    "waiting for a person to run "
		    "'janee approve %s'",
		    l.id);
		progress(m, p, msg);
		p->next_progress_ms = now + 1000;
	}
	lease_free(&l);
	if (r != NULL) {
		pending_unlink(m, p);
		answer(m, p->id, r, p->stateless);
		pending_free(p);
	}
}

int64_t
mcp_tools_tick(struct mcp *m)
{
	struct mcp_pending *p, *next;
	int64_t now = janee_now_ms(), wait = INT64_MAX, w;
	char why[64];

	for (p = m->pending; p != NULL; p = next) {
		next = p->next;
		if (p->kind == PENDING_OOB) {
			if (now >= p->next_check_ms) {
				p->next_check_ms = now + OOB_POLL_MS;
				oob_check(m, p, now);
			}
		} else if (now >= p->deadline_ms) {
			snprintf(why, sizeof(why),
			    "no answer to the approval "
			    "form in time");
			pending_unlink(m, p);
			if (broker_decide(&m->c->broker, p->lease_id, 0,
				"janee", why, 0) != 0)
				janee_err_clear();
			/* An input_required call was answered already. */
			if (p->kind == PENDING_ELICIT)
				answer(m, p->id, tool_error("denied: %s", why),
				    p->stateless);
			pending_free(p);
		}
	}
	for (p = m->pending; p != NULL; p = p->next) {
		w = (p->kind == PENDING_OOB ? p->next_check_ms
					    : p->deadline_ms) -
		    now;
		if (w < wait)
			wait = w < 0 ? 0 : w;
	}
	return wait;
}

void
mcp_tools_shutdown(struct mcp *m, const char *why)
{
	struct mcp_pending *p;
	int rc;

	/* In flight: elicitations, out-of-band waits, input_required. */
	while ((p = m->pending) != NULL) {
		m->pending = p->next;
		if (broker_decide(
			&m->c->broker, p->lease_id, 0, "janee", why, 0) != 0)
			janee_err_clear();
		pending_free(p);
	}
	/* And what the agent was told to come back for. */
	if (m->ready &&
	    (rc = broker_end_session(&m->c->broker, m->session, why)) != 0) {
		fprintf(stderr, "janee serve: %s\n", janee_err_msg(rc));
		janee_err_clear();
	}
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

/* The effective approval mode: sensitive scopes and clients that cannot
 * ask move a request to a person at a terminal, never to auto. */
static enum approval
mode_for(struct mcp *m, const struct prov *pv, const struct janee_strlist *sc)
{
	enum approval a = pv->pol.approval;

	if (a == APPROVAL_DENY)
		return a;
	if (policy_needs_oob(&pv->pol, sc))
		return APPROVAL_OUT_OF_BAND;
	if (a == APPROVAL_ASK && !m->can_elicit)
		return APPROVAL_OUT_OF_BAND;
	return a;
}

static cJSON *
request_token(
    struct mcp *m, cJSON *id, const cJSON *params, int stateless, int *pending)
{
	const cJSON *args =
	    cJSON_GetObjectItemCaseSensitive(params, "arguments");
	const cJSON *ttl =
	    cJSON_GetObjectItemCaseSensitive(args, "ttl_seconds");
	const cJSON *state =
	    cJSON_GetObjectItemCaseSensitive(params, "requestState");
	const cJSON *inputs =
	    cJSON_GetObjectItemCaseSensitive(params, "inputResponses");
	struct broker_req req;
	struct mcp_pending *p;
	struct prov *pv;
	struct lease l;
	char lease_id[JANEE_LEASE_ID_LEN], digest[65], err[256], *st;
	const char *prov = arg_str(args, "provider"), *lid;
	cJSON *r = NULL, *ir, *sp;
	int rc;

	*pending = 0;
	memset(&req, 0, sizeof(req));
	/* The stateless era's second round: the person's answer. */
	if (stateless && cJSON_IsString(state)) {
		call_digest("request_token", args, digest);
		if (state_check(m, state->valuestring, digest, lease_id, err,
			sizeof(err)) != 0)
			return tool_error("%s", err);
		for (p = m->pending; p != NULL; p = p->next)
			if (p->kind == PENDING_STATE &&
			    strcmp(p->lease_id, lease_id) == 0) {
				pending_unlink(m, p);
				pending_free(p);
				break;
			}
		return elicit_answer(m, lease_id,
		    cJSON_GetObjectItemCaseSensitive(inputs, "approval"));
	}
	if ((lid = arg_str(args, "lease_id")) != NULL) {
		/* Collect an approved lease of this session. */
		if (lease_load(m->c->broker.lg, lid, &l) != 0) {
			r = tool_error(
			    "%s", janee_err_msg(JANEE_ERR_NOT_FOUND));
			janee_err_clear();
			return r;
		}
		r = l.session && strcmp(l.session, m->session) == 0
		    ? collect(m, lid, l.provider)
		    : tool_error(
			  "lease %s was not requested in this session", lid);
		lease_free(&l);
		return r;
	}
	if ((pv = config_find(m->c->cfg, prov)) == NULL)
		return tool_error("no provider '%s'; call list_providers to "
				  "see which there are",
		    prov);
	req.provider = prov;
	req.reason = arg_str(args, "reason");
	req.ttl_s = cJSON_IsNumber(ttl) ? (int64_t)ttl->valuedouble : 0;
	if (req.ttl_s < 0 || (cJSON_IsNumber(ttl) && req.ttl_s == 0)) {
		r = tool_error("ttl_seconds must be at least 1");
		goto out;
	}
	if (arg_strings(args, "scopes", &req.scopes) != 0 ||
	    arg_strings(args, "repositories", &req.repositories) != 0) {
		r = tool_error("out of memory");
		goto out;
	}
	switch (mode_for(m, pv, &req.scopes)) {
	case APPROVAL_AUTO:
	case APPROVAL_DENY: {
		struct broker_grant g;

		/* Decided by policy alone: one transaction, then the mint. */
		if ((rc = broker_issue(&m->c->broker, &req, &g)) != 0) {
			r = tool_error("%s", janee_err_msg(rc));
			janee_err_clear();
			goto out;
		}
		r = grant_result(prov, &g);
		broker_grant_free(&g);
		goto out;
	}
	case APPROVAL_ASK:
	case APPROVAL_OUT_OF_BAND:
		break;
	}
	if ((rc = broker_request(&m->c->broker, &req, lease_id)) != 0) {
		r = tool_error("%s", janee_err_msg(rc));
		janee_err_clear();
		goto out;
	}
	if (mode_for(m, pv, &req.scopes) == APPROVAL_OUT_OF_BAND) {
		if ((p = pending_new(m, PENDING_OOB, id, lease_id, params)) ==
		    NULL) {
			r = tool_error("out of memory");
			goto out;
		}
		p->stateless = stateless;
		p->deadline_ms =
		    janee_now_ms() + pv->pol.approval_wait_s * 1000;
		fprintf(stderr,
		    "janee serve: lease %s for '%s' waits for your "
		    "approval: run 'janee approve %s' or 'janee deny "
		    "%s'\n",
		    lease_id, prov, lease_id, lease_id);
		*pending = 1;
		goto out;
	}
	/* ask, and the client can show a form */
	if ((rc = lease_load(m->c->broker.lg, lease_id, &l)) != 0) {
		r = tool_error("%s", janee_err_msg(rc));
		janee_err_clear();
		goto out;
	}
	if (stateless) {
		call_digest("request_token", args, digest);
		if ((st = state_make(m, lease_id, digest)) == NULL) {
			r = tool_error("cannot make the request state");
			lease_free(&l);
			goto out;
		}
		r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "resultType", "input_required");
		ir = cJSON_AddObjectToObject(r, "inputRequests");
		sp = cJSON_AddObjectToObject(ir, "approval");
		cJSON_AddStringToObject(sp, "method", "elicitation/create");
		cJSON_AddItemToObject(sp, "params", elicit_params(m, &l, 1));
		cJSON_AddStringToObject(r, "requestState", st);
		free(st);
		lease_free(&l);
		/* Until the state expires: then, or at exit, deny the lease. */
		if ((p = pending_new(m, PENDING_STATE, id, lease_id, params)) !=
		    NULL) {
			p->stateless = 1;
			p->deadline_ms = janee_now_ms() + STATE_TTL_MS;
		}
		mcp_send(m, mcp_result(id, r));
		r = NULL;
		*pending = 1; /* answered already */
		goto out;
	}
	if ((p = pending_new(m, PENDING_ELICIT, id, lease_id, params)) ==
	    NULL) {
		r = tool_error("out of memory");
		lease_free(&l);
		goto out;
	}
	p->deadline_ms = janee_now_ms() + ELICIT_WAIT_MS;
	snprintf(p->elicit_id, sizeof(p->elicit_id), "janee-elicit-%lld",
	    (long long)++m->next_req);
	{
		cJSON *q = cJSON_CreateObject();

		cJSON_AddStringToObject(q, "jsonrpc", "2.0");
		cJSON_AddStringToObject(q, "id", p->elicit_id);
		cJSON_AddStringToObject(q, "method", "elicitation/create");
		cJSON_AddItemToObject(q, "params",
		    elicit_params(
			m, &l, strcmp(m->protocol, "2025-11-25") == 0));
		mcp_send(m, q);
	}
	lease_free(&l);
	*pending = 1;
out:
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
	int rc;

	arr = cJSON_AddArrayToObject(o, "providers");
	for (i = 0; i < m->c->cfg->n; i++) {
		const struct prov *pv = &m->c->cfg->provs[i];
		const char *login = "not_needed";

		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "name", pv->name);
		cJSON_AddStringToObject(p, "kind", pv->impl->type);
		a = cJSON_AddArrayToObject(p, "scopes");
		for (j = 0; j < pv->pol.ceiling.n; j++)
			cJSON_AddItemToArray(
			    a, cJSON_CreateString(pv->pol.ceiling.v[j]));
		cJSON_AddNumberToObject(
		    p, "max_ttl_seconds", (double)pv->pol.max_ttl_s);
		cJSON_AddStringToObject(
		    p, "approval", approval_name(pv->pol.approval));
		if (pv->impl->login != NULL && !pv->ctx.no_login) {
			rc = cred_info(m->c->lg, pv->name, &ci);
			login = rc == 0 ? (ci.broken ? "broken" : "logged_in")
					: "not_logged_in";
			if (rc == 0)
				cred_info_free(&ci);
			janee_err_clear();
		}
		cJSON_AddStringToObject(p, "login", login);
		if (strcmp(login, "broken") == 0 ||
		    strcmp(login, "not_logged_in") == 0) {
			/* For the person: an agent never starts a login. */
			snprintf(cmd, sizeof(cmd), "janee login %s", pv->name);
			cJSON_AddStringToObject(p, "login_command", cmd);
		}
		cJSON_AddItemToArray(arr, p);
	}
	return tool_ok(o);
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
		r = tool_error("%s", janee_err_msg(rc));
		janee_err_clear();
		return r;
	}
	return tool_ok(o);
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
		return tool_error("lease '%s' is not one of this session's; "
				  "list_leases shows them",
		    lid);
	}
	lease_free(&l);
	if ((rc = broker_end(&m->c->broker, lid, "revoked by the agent")) !=
	    0) {
		r = tool_error("%s", janee_err_msg(rc));
		janee_err_clear();
		return r;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "lease_id", lid);
	cJSON_AddStringToObject(o, "state", "revoked");
	return tool_ok(o);
}

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
	{ "list_providers", no_args,
	    "{\"name\":\"list_providers\",\"title\":\"List providers\","
	    "\"description\":\"The providers janee can mint tokens from, the "
	    "scopes each may grant, its maximum lifetime, its approval mode, "
	    "and whether a person must log in first (with the command to "
	    "run).\",\"inputSchema\":{\"type\":\"object\",\"properties\":{},"
	    "\"additionalProperties\":false},\"outputSchema\":{\"type\":"
	    "\"object\",\"properties\":{\"providers\":{\"type\":\"array\","
	    "\"items\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":"
	    "\"string\"},\"kind\":{\"type\":\"string\"},\"scopes\":{\"type\":"
	    "\"array\",\"items\":{\"type\":\"string\"}},\"max_ttl_seconds\":{"
	    "\"type\":\"integer\"},\"approval\":{\"type\":\"string\"},"
	    "\"login\":{\"type\":\"string\"},\"login_command\":{\"type\":"
	    "\"string\"}},\"required\":[\"name\",\"kind\",\"scopes\","
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
			answer(m, id, tool_error("%s", msg), stateless);
		else
			mcp_send(m, mcp_error(id, -32602, msg));
		return;
	}
	if ((rc = mcp_ready(m)) != 0) {
		r = tool_error("janee cannot serve: %s", janee_err_msg(rc));
		janee_err_clear();
	} else if (strcmp(t->name, "request_token") == 0)
		r = request_token(m, id, params, stateless, &pending);
	else if (strcmp(t->name, "list_providers") == 0)
		r = list_providers(m);
	else if (strcmp(t->name, "list_leases") == 0)
		r = list_leases(m);
	else
		r = revoke_token(m, args);
	if (pending)
		return;
	answer(m, id, r, stateless);
}
