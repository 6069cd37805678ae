/*
 * How an MCP tool obtains a lease (request_token; call_api): submit the
 * request to the broker, which decides how it is approved; when a person
 * must answer, ask through the client (an elicitation, or in the
 * 2026-07-28 era an input_required answer with a MACed requestState) or
 * wait for `janee approve`, then collect the lease and let the tool
 * finish with it.  The agent never approves: only the policy, a person
 * answering the client's form, or a person at a terminal does.
 */
#include "common.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "broker.h"
#include "mcp.h"
#include "text.h"
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
	const struct mcp_lease_tool *tool; /* finishes the call */
	cJSON *args; /* the call's arguments, for the tool */
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

/* Collect an approved lease and let the tool finish; the error otherwise. */
static cJSON *
collect(struct mcp *m, const struct mcp_lease_tool *t, const cJSON *args,
    const char *lease_id)
{
	struct broker_grant g;
	cJSON *r;
	int rc;

	if ((rc = broker_collect(&m->c->broker, lease_id, &g)) != 0) {
		r = mcp_tool_error("%s", janee_err_msg(rc));
		janee_err_clear();
		return r;
	}
	r = t->granted(m, args, &g);
	broker_grant_free(&g);
	return r;
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
elicit_answer(struct mcp *m, const struct mcp_lease_tool *t, const cJSON *args,
    const char *lease_id, const cJSON *res)
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
		r = mcp_tool_error("%s", janee_err_msg(JANEE_ERR_NOT_FOUND));
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
		r = rc == 0 ? collect(m, t, args, lease_id)
			    : mcp_tool_error("%s", janee_err_msg(rc));
	} else {
		snprintf(why, sizeof(why),
		    "the person answered '%s' in the "
		    "MCP client",
		    strcmp(act, "accept") == 0 ? "no" : act);
		rc = broker_decide(&m->c->broker, lease_id, 0, "user", why, 0);
		r = mcp_tool_error(
		    "denied: %s; lease %s is closed", why, lease_id);
	}
	janee_err_clear();
	lease_free(&l);
	return r;
}

/* --- pending calls ------------------------------------------------- */

static void
pending_free(struct mcp_pending *p)
{
	cJSON_Delete(p->args);
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
pending_new(struct mcp *m, enum pending_kind kind,
    const struct mcp_lease_tool *t, cJSON *id, const char *lease_id,
    const cJSON *params)
{
	struct mcp_pending *p = calloc(1, sizeof(*p));
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");
	const cJSON *tok =
	    cJSON_GetObjectItemCaseSensitive(meta, "progressToken");

	if (p == NULL)
		return NULL;
	p->kind = kind;
	p->tool = t;
	p->id = cJSON_Duplicate(id, 1);
	p->args = cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(params, "arguments"), 1);
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
		r = elicit_answer(m, p->tool, p->args, p->lease_id, deny);
		cJSON_Delete(deny);
	} else
		r = elicit_answer(m, p->tool, p->args, p->lease_id, res);
	mcp_answer(m, p->id, r, p->stateless);
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
		r = collect(m, p->tool, p->args, p->lease_id);
	else if (l.state == LEASE_DENIED)
		r = mcp_tool_error("denied: %s; lease %s is closed",
		    l.detail ? l.detail : "a person denied it", l.id);
	else if (l.state != LEASE_REQUESTED)
		r = mcp_tool_error(
		    "lease %s is %s", l.id, lease_state_name(l.state));
	else if (now >= p->deadline_ms)
		r = mcp_tool_error(
		    "pending: lease %s still waits for a person to "
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
		mcp_answer(m, p->id, r, p->stateless);
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
				mcp_answer(m, p->id,
				    mcp_tool_error("denied: %s", why),
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
		mcp_warn("%s", janee_err_msg(rc));
		janee_err_clear();
	}
}

/* --- the entry points ----------------------------------------------- */

cJSON *
mcp_lease_resume(
    struct mcp *m, const struct mcp_lease_tool *t, const cJSON *params)
{
	const cJSON *args =
	    cJSON_GetObjectItemCaseSensitive(params, "arguments");
	const cJSON *state =
	    cJSON_GetObjectItemCaseSensitive(params, "requestState");
	const cJSON *inputs =
	    cJSON_GetObjectItemCaseSensitive(params, "inputResponses");
	char lease_id[JANEE_LEASE_ID_LEN], digest[65], err[256];
	struct mcp_pending *p;

	call_digest(t->name, args, digest);
	if (!cJSON_IsString(state) ||
	    state_check(
		m, state->valuestring, digest, lease_id, err, sizeof(err)) != 0)
		return mcp_tool_error("%s", err);
	for (p = m->pending; p != NULL; p = p->next)
		if (p->kind == PENDING_STATE &&
		    strcmp(p->lease_id, lease_id) == 0) {
			pending_unlink(m, p);
			pending_free(p);
			break;
		}
	return elicit_answer(m, t, args, lease_id,
	    cJSON_GetObjectItemCaseSensitive(inputs, "approval"));
}

cJSON *
mcp_lease_collect(struct mcp *m, const struct mcp_lease_tool *t,
    const cJSON *args, const char *lease_id)
{
	struct lease l;
	cJSON *r;

	if (lease_load(m->c->broker.lg, lease_id, &l) != 0) {
		r = mcp_tool_error("%s", janee_err_msg(JANEE_ERR_NOT_FOUND));
		janee_err_clear();
		return r;
	}
	r = l.session && strcmp(l.session, m->session) == 0
	    ? collect(m, t, args, lease_id)
	    : mcp_tool_error(
		  "lease %s was not requested in this session", lease_id);
	lease_free(&l);
	return r;
}

/* Wait for `janee approve`: oob_check looks at the ledger. */
static cJSON *
wait_out_of_band(struct mcp *m, const struct mcp_lease_tool *t, cJSON *id,
    const cJSON *params, const struct broker_grant *g,
    const struct broker_req *req, int stateless, int *pending)
{
	struct prov *pv = config_find(m->c->cfg, req->provider);
	struct mcp_pending *p;

	if ((p = pending_new(m, PENDING_OOB, t, id, g->lease_id, params)) ==
	    NULL)
		return mcp_tool_error("out of memory");
	p->stateless = stateless;
	p->deadline_ms =
	    janee_now_ms() + (pv != NULL ? pv->pol.approval_wait_s : 0) * 1000;
	mcp_warn("lease %s for '%s' waits for your approval: run 'janee "
		 "approve %s' or 'janee deny %s'",
	    g->lease_id, req->provider, g->lease_id, g->lease_id);
	*pending = 1;
	return NULL;
}

/*
 * Ask through the client: in the 2026-07-28 era, answer input_required
 * with a requestState bound to this call; before, send elicitation/create
 * and answer when the client does.
 */
static cJSON *
elicit(struct mcp *m, const struct mcp_lease_tool *t, cJSON *id,
    const cJSON *params, const char *lease_id, int stateless, int *pending)
{
	const cJSON *args =
	    cJSON_GetObjectItemCaseSensitive(params, "arguments");
	struct mcp_pending *p;
	char digest[65], *st;
	struct lease l;
	cJSON *r, *ir, *sp, *q;
	int rc;

	if ((rc = lease_load(m->c->broker.lg, lease_id, &l)) != 0) {
		r = mcp_tool_error("%s", janee_err_msg(rc));
		janee_err_clear();
		return r;
	}
	if (stateless) {
		call_digest(t->name, args, digest);
		if ((st = state_make(m, lease_id, digest)) == NULL) {
			lease_free(&l);
			return mcp_tool_error("cannot make the request state");
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
		if ((p = pending_new(
			 m, PENDING_STATE, t, id, lease_id, params)) != NULL) {
			p->stateless = 1;
			p->deadline_ms = janee_now_ms() + STATE_TTL_MS;
		}
		mcp_send(m, mcp_result(id, r));
		*pending = 1; /* answered already */
		return NULL;
	}
	if ((p = pending_new(m, PENDING_ELICIT, t, id, lease_id, params)) ==
	    NULL) {
		lease_free(&l);
		return mcp_tool_error("out of memory");
	}
	p->deadline_ms = janee_now_ms() + ELICIT_WAIT_MS;
	snprintf(p->elicit_id, sizeof(p->elicit_id), "janee-elicit-%lld",
	    (long long)++m->next_req);
	q = cJSON_CreateObject();
	cJSON_AddStringToObject(q, "jsonrpc", "2.0");
	cJSON_AddStringToObject(q, "id", p->elicit_id);
	cJSON_AddStringToObject(q, "method", "elicitation/create");
	cJSON_AddItemToObject(q, "params",
	    elicit_params(m, &l, strcmp(m->protocol, "2025-11-25") == 0));
	mcp_send(m, q);
	lease_free(&l);
	*pending = 1;
	return NULL;
}

cJSON *
mcp_lease_obtain(struct mcp *m, const struct mcp_lease_tool *t, cJSON *id,
    const cJSON *params, struct broker_req *req, int stateless, int *pending)
{
	struct broker_grant g;
	cJSON *r;
	int rc;

	*pending = 0;
	/*
	 * The broker decides how this is approved; janee serve can ask
	 * through the client when it offers elicitation, and can always
	 * wait for a person at a terminal.
	 */
	rc = broker_submit(&m->c->broker, req,
	    BROKER_CAN_WAIT | (m->can_elicit ? BROKER_CAN_ELICIT : 0), &g);
	if (rc == 0)
		r = t->granted(m,
		    cJSON_GetObjectItemCaseSensitive(params, "arguments"), &g);
	else if (rc != JANEE_ERR_PENDING) {
		r = mcp_tool_error("%s", janee_err_msg(rc));
		janee_err_clear();
	} else {
		janee_err_clear();
		r = g.route == BROKER_OUT_OF_BAND
		    ? wait_out_of_band(
			  m, t, id, params, &g, req, stateless, pending)
		    : elicit(m, t, id, params, g.lease_id, stateless, pending);
	}
	broker_grant_free(&g);
	return r;
}
