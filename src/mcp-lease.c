/*
 * How an MCP tool obtains a lease (request_token; call_api): submit the
 * request to the broker, which decides how it is approved; when a person
 * must answer, ask through the client: a link to janee's page (URL-mode
 * elicitation, MCP 2025-11-25: the answer comes from the page, not the
 * client), a form (an elicitation), or in the 2026-07-28 era an
 * input_required answer with a MACed requestState carrying either; or
 * wait for a person elsewhere (`janee approve`, the page opened from the
 * desktop notification).  Then collect the lease and let the tool finish
 * with it.  The agent never approves: only the policy, a person's session
 * grant, a person answering the client's form or janee's page, or a
 * person at a terminal does.
 */
#include "common.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "approval-page.h"
#include "broker.h"
#include "json.h"
#include "mcp.h"
#include "notify.h"
#include "subprocess.h"
#include "text.h"
#include "util.h"

#define ELICIT_WAIT_MS (10 * 60 * 1000)
#define STATE_TTL_MS (10 * 60 * 1000)
#define OOB_POLL_MS 250

/*
 * What a lease of this session waits for: the answer to our form
 * elicitation (handshake era), a person elsewhere (a terminal, janee's
 * page opened by the person), the person's answer on janee's page
 * reached by a link the client carried (URL mode), or the repeated call
 * with the requestState we answered (2026-07-28 era; the call itself was
 * answered already, with input_required).  The person-elsewhere and page
 * waits look at the ledger: whoever answers, it is recorded there.
 */
enum pending_kind { PENDING_ELICIT, PENDING_OOB, PENDING_STATE, PENDING_LINK };

struct mcp_pending {
	enum pending_kind kind;
	const struct mcp_lease_tool *tool; /* finishes the call */
	cJSON *args; /* the call's arguments, for the tool */
	int stateless; /* the call came in the 2026-07-28 era */
	cJSON *id; /* the tools/call request's id */
	char lease_id[JANEE_LEASE_ID_LEN];
	char elicit_id[48]; /* our elicitation/create awaiting its answer */
	int url_sent; /* a URL-mode elicitation names this lease: say
			 notifications/elicitation/complete when decided */
	int notified; /* a desktop notification shows it */
	int64_t deadline_ms;
	cJSON *progress_token;
	int64_t next_check_ms, next_progress_ms;
	int progress;
	struct mcp_pending *next;
};

/* The tool's result for an issued lease. */
static cJSON *
finish(struct mcp *m, const struct mcp_lease_tool *t, const cJSON *args,
    const struct broker_grant *g)
{
	cJSON *out = NULL;
	int rc;

	rc = t->granted(m, args, g, &out);
	return mcp_tool_result(rc, out);
}

/* Collect an approved lease and let the tool finish; the error otherwise. */
static cJSON *
collect(struct mcp *m, const struct mcp_lease_tool *t, const cJSON *args,
    const char *lease_id)
{
	struct broker_grant g;
	cJSON *r;
	int rc;

	if ((rc = broker_collect(&m->core->broker, lease_id, &g)) != 0)
		return mcp_tool_result(rc, NULL);
	r = finish(m, t, args, &g);
	broker_grant_free(&g);
	return r;
}

/* --- requestState (stateless-era elicitation) ----------------------- */

/* A copy of v with object members sorted by name, for a stable digest. */
static cJSON *
sorted(const cJSON *v)
{
	const cJSON *e, *best, *prev = NULL;
	cJSON *o;

	if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
		return cJSON_Duplicate(v, 1);
	if ((o = cJSON_IsArray(v) ? cJSON_CreateArray()
				  : cJSON_CreateObject()) == NULL)
		return NULL;
	for (e = cJSON_IsArray(v) ? v->child : NULL; e != NULL; e = e->next)
		if (json_push(o, sorted(e)) != 0)
			goto fail;
	while (cJSON_IsObject(v)) {
		best = NULL;
		for (e = v->child; e != NULL; e = e->next)
			if ((prev == NULL ||
				strcmp(e->string, prev->string) > 0) &&
			    (best == NULL ||
				strcmp(e->string, best->string) < 0))
				best = e;
		if (best == NULL)
			break;
		if (json_put(o, best->string, sorted(best)) != 0)
			goto fail;
		prev = best;
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* SHA-256 of the canonical (sorted, compact) name and arguments. */
static int
call_digest(const char *name, const cJSON *args, char out[65])
{
	unsigned char md[32];
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;
	int rc;

	if ((rc = json_put(o, "name", cJSON_CreateString(name))) == 0 &&
	    (rc = json_put(o, "arguments",
		 args ? sorted(args) : cJSON_CreateObject())) == 0 &&
	    (s = cJSON_PrintUnformatted(o)) == NULL)
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if (rc == 0) {
		EVP_Digest(s, strlen(s), md, NULL, EVP_sha256(), NULL);
		janee_hex(md, sizeof(md), out);
	}
	cJSON_free(s);
	cJSON_Delete(o);
	return rc;
}

/*
 * "payload.mac": payload names the lease, the call's digest and an
 * expiry, and ".u" after them when the question was a link to janee's
 * page (mode 'u'), whose answer only says whether the person went
 * there; a form's (mode 'f') has nothing more.
 */
static char *
state_make(struct mcp *m, const char *lease_id, const char *digest, char mode)
{
	unsigned char mac[32];
	char payload[256], p64[400], m64[64];
	size_t maclen;

	snprintf(payload, sizeof(payload), "%s.%s.%lld%s", lease_id, digest,
	    (long long)(janee_now_ms() + STATE_TTL_MS),
	    mode == 'u' ? ".u" : "");
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, m->state_key,
		sizeof(m->state_key), (unsigned char *)payload, strlen(payload),
		mac, sizeof(mac), &maclen) == NULL)
		return NULL;
	if (janee_b64url(payload, strlen(payload), p64, sizeof(p64)) != 0 ||
	    janee_b64url(mac, sizeof(mac), m64, sizeof(m64)) != 0)
		return NULL;
	return janee_asprintf("%s.%s", p64, m64);
}

/*
 * The lease a requestState stands for, when its MAC holds, it has not
 * expired, and it belongs to this very call; the attacker controls it.
 */
static int
state_check(struct mcp *m, const char *state, const char *digest,
    char lease_id[JANEE_LEASE_ID_LEN], char *mode, char *err, size_t errn)
{
	unsigned char payload[300], mac[48], want[32];
	char *copy, *dot, *f2, *f3, *f4;
	size_t plen, maclen, wlen;
	int64_t exp;
	int ok = -1;

	if ((copy = janee_strdup(state)) == NULL)
		return -1;
	if ((dot = strchr(copy, '.')) == NULL)
		goto bad;
	*dot = '\0';
	if (janee_unb64url(copy, payload, sizeof(payload) - 1, &plen) != 0 ||
	    janee_unb64url(dot + 1, mac, sizeof(mac), &maclen) != 0 ||
	    maclen != 32)
		goto bad;
	payload[plen] = '\0';
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, m->state_key,
		sizeof(m->state_key), payload, plen, want, sizeof(want),
		&wlen) == NULL ||
	    CRYPTO_memcmp(want, mac, 32) != 0)
		goto bad;
	f2 = strchr((char *)payload, '.');
	f3 = f2 ? strchr(f2 + 1, '.') : NULL;
	f4 = f3 ? strchr(f3 + 1, '.') : NULL;
	if (f2 == NULL || f3 == NULL ||
	    (size_t)(f2 - (char *)payload) != JANEE_LEASE_ID_LEN - 1 ||
	    (f4 != NULL && strcmp(f4, ".u") != 0))
		goto bad;
	*mode = f4 != NULL ? 'u' : 'f';
	if (f4 != NULL)
		*f4 = '\0';
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
			if (json_push(a, cJSON_CreateString(d)) != 0)
				goto fail;
		}
	janee_duration_fmt(ttl_s, d, sizeof(d));
	if (json_push(a, cJSON_CreateString(d)) == 0)
		return a;
fail:
	cJSON_Delete(a);
	return NULL;
}

/* The form shown to the person: what, for how long, why.  No secrets. */
static cJSON *
elicit_params(struct mcp *m, const struct lease *l, int with_mode)
{
	cJSON *p = cJSON_CreateObject(), *s, *props, *ap, *tt, *req;
	char d[32], msg[1400], *shown;
	int rc;

	janee_duration_fmt(l->ttl_s, d, sizeof(d));
	snprintf(msg, sizeof(msg),
	    "%s asks for a token from '%s' with scopes %s%s%s for %s. Reason given: %.800s",
	    m->client ? m->client : "an MCP client", l->provider, l->requested,
	    l->repositories ? " on " : "",
	    l->repositories ? l->repositories : "", d,
	    l->reason ? l->reason : "(none)");
	/* The client's name and the reason are the agent's: a person reads
	 * the message, so no control or bidi character reaches it raw. */
	shown = janee_text_escape(msg);
	rc = with_mode ? json_put(p, "mode", cJSON_CreateString("form")) : 0;
	if (rc != 0 || shown == NULL ||
	    (rc = json_put(p, "message", cJSON_CreateString(shown))) != 0 ||
	    (rc = json_put(p, "requestedSchema", s = cJSON_CreateObject())) !=
		0 ||
	    (rc = json_put(s, "type", cJSON_CreateString("object"))) != 0 ||
	    (rc = json_put(s, "properties", props = cJSON_CreateObject())) !=
		0 ||
	    (rc = json_put(props, "approve", ap = cJSON_CreateObject())) != 0 ||
	    (rc = json_put(ap, "type", cJSON_CreateString("boolean"))) != 0 ||
	    (rc = json_put(
		 ap, "title", cJSON_CreateString("Approve this token"))) != 0 ||
	    (rc = json_put(ap, "default", cJSON_CreateFalse())) != 0 ||
	    (rc = json_put(props, "ttl", tt = cJSON_CreateObject())) != 0 ||
	    (rc = json_put(tt, "type", cJSON_CreateString("string"))) != 0 ||
	    (rc = json_put(tt, "title", cJSON_CreateString("Lifetime"))) != 0 ||
	    (rc = json_put(tt, "enum", ttl_choices(l->ttl_s))) != 0 ||
	    (rc = json_put(tt, "default", cJSON_CreateString(d))) != 0 ||
	    (rc = json_put(s, "required", req = cJSON_CreateArray())) != 0 ||
	    (rc = json_push(req, cJSON_CreateString("approve"))) != 0) {
		cJSON_Delete(p);
		p = NULL;
		janee_err_clear(); /* the caller says out of memory */
	}
	free(shown);
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

	if (lease_load(m->core->broker.lg, lease_id, &l) != 0) {
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
		/* Through the client: never what must be approved out of
		 * band (the broker refuses it). */
		rc = broker_decide_via(&m->core->broker, lease_id, 1,
		    BROKER_VIA_CLIENT, "user",
		    "approved in the MCP client (elicitation)", ttl);
		r = rc == 0 ? collect(m, t, args, lease_id)
			    : mcp_tool_error("%s", janee_err_msg(rc));
	} else {
		snprintf(why, sizeof(why),
		    "the person answered '%s' in the "
		    "MCP client",
		    strcmp(act, "accept") == 0 ? "no" : act);
		rc = broker_decide(
		    &m->core->broker, lease_id, 0, "user", why, 0);
		r = mcp_tool_error(
		    "denied: %s; lease %s is closed", why, lease_id);
	}
	janee_err_clear();
	lease_free(&l);
	return r;
}

/* --- janee's page and the desktop ----------------------------------- */

/* The page of this session, started on first need (it loads MHD). */
static struct approval_page *
page(struct mcp *m)
{
	int rc;

	if (m->page == NULL && !m->page_failed &&
	    (rc = approval_page_start(
		 &m->core->broker, "janee serve", &m->page)) != 0) {
		mcp_warn("no approval page: %s", janee_err_msg(rc));
		janee_err_clear();
		m->page_failed = 1;
	}
	return m->page;
}

/* The person clicked a notification: open the whole page for them. */
static void
on_review(void *arg, const char *tag)
{
	struct mcp *m = arg;
	struct approval_page *p = page(m);
	char *link;

	(void)tag;
	if (p == NULL ||
	    (link = approval_page_link(p, BROKER_VIA_PERSON, NULL, 120000)) ==
		NULL) {
		janee_err_clear();
		return;
	}
	if (janee_open_url(link, &m->core->cfg->env_names) != 0)
		janee_err_clear();
	janee_freezero(link, strlen(link));
}

/*
 * Tell the person's desktop that a request waits: provider, scopes and
 * lifetime (from the policy, never a secret), the client's name reduced
 * to plain characters; the reason stays on the page.
 */
static void
notify_waiting(struct mcp *m, struct mcp_pending *p, const struct lease *l)
{
	char client[48], d[32], body[600];

	if (m->notifier == NULL && (m->notifier = notifier_new()) == NULL)
		return;
	notify_plain(
	    m->client ? m->client : "an MCP client", client, sizeof(client));
	janee_duration_fmt(l->ttl_s, d, sizeof(d));
	snprintf(body, sizeof(body),
	    "%s asks for a token from %s with scopes %.300s for %s. Review it "
	    "on janee's page, or run: janee approve %s",
	    client, l->provider, l->requested, d, l->id);
	if (notifier_send(m->notifier, l->id, "janee: a request waits for you",
		body, on_review, m) == 0)
		p->notified = 1;
}

/* URL-mode elicitation params: the page's link for this one request. */
static cJSON *
url_params(struct mcp *m, const struct lease *l, const char *link)
{
	cJSON *p = cJSON_CreateObject();
	char d[32], msg[600];

	(void)m;
	janee_duration_fmt(l->ttl_s, d, sizeof(d));
	/* No agent text: the page shows the reason, escaped. */
	snprintf(msg, sizeof(msg),
	    "janee: a token from '%s' with scopes %.300s for %s waits for "
	    "your approval. Open janee's page to see the request and answer "
	    "it there.",
	    l->provider, l->requested, d);
	cJSON_AddStringToObject(p, "mode", "url");
	cJSON_AddStringToObject(p, "message", msg);
	cJSON_AddStringToObject(p, "url", link);
	/* One interaction per lease: its id names it (not a secret). */
	cJSON_AddStringToObject(p, "elicitationId", l->id);
	return p;
}

/* A client's link to janee's page for lease l, valid while it waits. */
static char *
client_link(struct mcp *m, const struct lease *l)
{
	struct approval_page *p = page(m);

	if (p == NULL)
		return NULL;
	return approval_page_link(p, BROKER_VIA_CLIENT, l->id, ELICIT_WAIT_MS);
}

/* --- pending calls ------------------------------------------------- */

static void
pending_free(struct mcp *m, struct mcp_pending *p)
{
	if (p->notified)
		notifier_close(m->notifier, p->lease_id);
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

/* Send elicitation/create with params; p waits for its answer. */
static void
send_elicitation(struct mcp *m, struct mcp_pending *p, cJSON *params)
{
	cJSON *q = cJSON_CreateObject();

	snprintf(p->elicit_id, sizeof(p->elicit_id), "janee-elicit-%lld",
	    (long long)++m->next_req);
	cJSON_AddStringToObject(q, "jsonrpc", "2.0");
	cJSON_AddStringToObject(q, "id", p->elicit_id);
	cJSON_AddStringToObject(q, "method", "elicitation/create");
	cJSON_AddItemToObject(q, "params", params);
	mcp_send(m, q);
}

/* Answer p's call with r and forget it. */
static void
pending_done(struct mcp *m, struct mcp_pending *p, cJSON *r)
{
	cJSON *n, *pa;

	pending_unlink(m, p);
	/* The page's interaction ended: say so first (MAY, 2025-11-25). */
	if (p->url_sent && !p->stateless) {
		n = cJSON_CreateObject();
		cJSON_AddStringToObject(n, "jsonrpc", "2.0");
		cJSON_AddStringToObject(
		    n, "method", "notifications/elicitation/complete");
		pa = cJSON_AddObjectToObject(n, "params");
		cJSON_AddStringToObject(pa, "elicitationId", p->lease_id);
		mcp_send(m, n);
	}
	if (r != NULL)
		mcp_answer(m, p->id, r, p->stateless);
	pending_free(m, p);
}

/*
 * The client's answer to a URL-mode elicitation: accept only says the
 * person went to the page, whose answer decides; decline is the
 * person's no; cancel (or an error: the client could not show it) ends
 * a wait that had no other channel, and leaves an out-of-band one
 * waiting for the person elsewhere.
 */
static void
link_answered(struct mcp *m, struct mcp_pending *p, const cJSON *res)
{
	const cJSON *action = cJSON_GetObjectItemCaseSensitive(res, "action");
	const char *act =
	    cJSON_IsString(action) ? action->valuestring : "cancel";
	char why[96];

	p->elicit_id[0] = '\0';
	if (strcmp(act, "accept") == 0 ||
	    (p->kind == PENDING_OOB && strcmp(act, "decline") != 0))
		return;
	snprintf(why, sizeof(why),
	    "the person answered '%s' to opening janee's page in the MCP "
	    "client",
	    strcmp(act, "decline") == 0 ? "decline" : "cancel");
	if (broker_decide(&m->core->broker, p->lease_id, 0, "user", why, 0) !=
	    0)
		janee_err_clear();
	/* Not completed: nothing happened on the page. */
	p->url_sent = 0;
	pending_done(m, p,
	    mcp_tool_error("denied: %s; lease %s is closed", why, p->lease_id));
}

void
mcp_tools_response(struct mcp *m, cJSON *msg)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(msg, "result");
	struct mcp_pending *p;
	cJSON *r, *deny;

	for (p = m->pending; p != NULL; p = p->next)
		if (p->elicit_id[0] != '\0' && cJSON_IsString(id) &&
		    strcmp(id->valuestring, p->elicit_id) == 0)
			break;
	if (p == NULL)
		return; /* not ours, or already settled: ignore */
	if (p->kind != PENDING_ELICIT) {
		link_answered(m, p, res);
		return;
	}
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
	pending_free(m, p);
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
	if (broker_decide(&m->core->broker, p->lease_id, 0, "agent",
		"cancelled by the MCP client", 0) != 0)
		janee_err_clear();
	pending_free(m, p);
}

static void
progress(struct mcp *m, struct mcp_pending *p, const char *msg)
{
	cJSON *n, *pa;

	if (p->progress_token == NULL)
		return;
	/* A notification is advisory: when it cannot be made, none is sent. */
	n = cJSON_CreateObject();
	if (json_put(n, "jsonrpc", cJSON_CreateString("2.0")) != 0 ||
	    json_put(n, "method",
		cJSON_CreateString("notifications/progress")) != 0 ||
	    json_put(n, "params", pa = cJSON_CreateObject()) != 0 ||
	    json_put(pa, "progressToken",
		cJSON_Duplicate(p->progress_token, 1)) != 0 ||
	    json_put(pa, "progress", cJSON_CreateNumber(++p->progress)) != 0 ||
	    json_put(pa, "message", cJSON_CreateString(msg)) != 0) {
		cJSON_Delete(n);
		janee_err_clear();
		return;
	}
	mcp_send(m, n);
}

/*
 * A wait for a person (elsewhere, or on the page): look at the ledger;
 * answer once it is settled, or "pending" when the wait is over.
 */
static void
settle_check(struct mcp *m, struct mcp_pending *p, int64_t now)
{
	struct lease l;
	cJSON *r = NULL;
	char msg[200];
	int link = p->kind == PENDING_LINK;

	if (lease_load(m->core->broker.lg, p->lease_id, &l) != 0) {
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
	else if (now >= p->deadline_ms) {
		r = link ? mcp_tool_error(
			       "pending: lease %s still waits for the person "
			       "to answer on janee's page. Call request_token "
			       "again with lease_id \"%s\" to collect the "
			       "token once it is approved.",
			       l.id, l.id)
			 : mcp_tool_error(
			       "pending: lease %s still waits for a person to "
			       "run 'janee approve %s' (or 'janee deny %s'). "
			       "Call request_token again with lease_id \"%s\" "
			       "to collect the token once it is approved.",
			       l.id, l.id, l.id, l.id);
		/* Not completed: the person may still answer later. */
		p->url_sent = 0;
	} else if (now >= p->next_progress_ms) {
		if (link)
			snprintf(msg, sizeof(msg),
			    "waiting for the person to answer on janee's page");
		else
			snprintf(msg, sizeof(msg),
			    "waiting for a person to run 'janee approve %s'",
			    l.id);
		progress(m, p, msg);
		p->next_progress_ms = now + 1000;
	}
	lease_free(&l);
	if (r != NULL)
		pending_done(m, p, r);
}

int64_t
mcp_tools_tick(struct mcp *m)
{
	struct mcp_pending *p, *next;
	int64_t now = janee_now_ms(), wait = INT64_MAX, w;
	char why[64];

	for (p = m->pending; p != NULL; p = next) {
		next = p->next;
		if (p->kind == PENDING_OOB || p->kind == PENDING_LINK) {
			if (now >= p->next_check_ms) {
				p->next_check_ms = now + OOB_POLL_MS;
				settle_check(m, p, now);
			}
		} else if (now >= p->deadline_ms) {
			snprintf(why, sizeof(why),
			    "no answer to the approval "
			    "form in time");
			pending_unlink(m, p);
			if (broker_decide(&m->core->broker, p->lease_id, 0,
				"janee", why, 0) != 0)
				janee_err_clear();
			/* An input_required call was answered already. */
			if (p->kind == PENDING_ELICIT)
				mcp_answer(m, p->id,
				    mcp_tool_error("denied: %s", why),
				    p->stateless);
			pending_free(m, p);
		}
	}
	for (p = m->pending; p != NULL; p = p->next) {
		w = (p->kind == PENDING_OOB || p->kind == PENDING_LINK
			    ? p->next_check_ms
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
			&m->core->broker, p->lease_id, 0, "janee", why, 0) != 0)
			janee_err_clear();
		pending_free(m, p);
	}
	/* And what the agent was told to come back for. */
	if (m->ready &&
	    (rc = broker_end_session(&m->core->broker, m->session, why)) != 0) {
		mcp_warn("%s", janee_err_msg(rc));
		janee_err_clear();
	}
}

void
mcp_tools_free(struct mcp *m)
{
	struct mcp_pending *p;

	while ((p = m->pending) != NULL) {
		m->pending = p->next;
		pending_free(m, p);
	}
}

/* --- waiting ------------------------------------------------------- */

/*
 * Wait on the ledger for the person's answer to lease_id (a terminal,
 * or janee's page); answered by settle_check.  kind: PENDING_OOB or
 * PENDING_LINK.
 */
static struct mcp_pending *
wait_for_person(struct mcp *m, enum pending_kind kind,
    const struct mcp_lease_tool *t, cJSON *id, const cJSON *params,
    const char *lease_id, int stateless)
{
	struct mcp_pending *p;
	struct prov *pv;
	struct lease l;

	if ((p = pending_new(m, kind, t, id, lease_id, params)) == NULL)
		return NULL;
	p->stateless = stateless;
	if (lease_load(m->core->broker.lg, lease_id, &l) != 0) {
		janee_err_clear();
		return p;
	}
	pv = config_find(m->core->cfg, l.provider);
	p->deadline_ms =
	    janee_now_ms() + (pv != NULL ? pv->pol.approval_wait_s : 0) * 1000;
	if (kind == PENDING_OOB)
		notify_waiting(m, p, &l);
	lease_free(&l);
	return p;
}

/*
 * Wait for a person elsewhere (`janee approve`, or janee's page from the
 * desktop notification); a client that can open links is also sent the
 * page's link for this request (handshake era), where the person sees it
 * and may deny it, and is told where to approve it.
 */
static cJSON *
wait_out_of_band(struct mcp *m, const struct mcp_lease_tool *t, cJSON *id,
    const cJSON *params, const struct broker_grant *g,
    const struct broker_req *req, int stateless, int *pending)
{
	struct mcp_pending *p;
	struct lease l;
	char *link;

	if ((p = wait_for_person(m, PENDING_OOB, t, id, params, g->lease_id,
		 stateless)) == NULL)
		return mcp_tool_error("out of memory");
	mcp_warn("lease %s for '%s' waits for your approval: run 'janee "
		 "approve %s' or 'janee deny %s'",
	    g->lease_id, req->provider, g->lease_id, g->lease_id);
	if (!stateless && m->can_elicit_url &&
	    lease_load(m->core->broker.lg, g->lease_id, &l) == 0) {
		if ((link = client_link(m, &l)) != NULL) {
			send_elicitation(m, p, url_params(m, &l, link));
			p->url_sent = 1;
			free(link);
		}
		lease_free(&l);
	}
	janee_err_clear();
	*pending = 1;
	return NULL;
}

/*
 * The 2026-07-28 era: answer the call with input_required, the question
 * (q, consumed) in inputRequests and a requestState bound to this call
 * and to the kind of question (mode 'f' a form, 'u' a link); until the
 * state expires (or the session ends) the lease waits for the repeated
 * call.  *pending is set: the call was answered.
 */
static cJSON *
input_required(struct mcp *m, const struct mcp_lease_tool *t, cJSON *id,
    const cJSON *params, const char *lease_id, cJSON *q, char mode,
    int *pending)
{
	char digest[65], *st;
	struct mcp_pending *p;
	cJSON *r, *ir, *sp;

	if (call_digest(t->name,
		cJSON_GetObjectItemCaseSensitive(params, "arguments"),
		digest) != 0 ||
	    (st = state_make(m, lease_id, digest, mode)) == NULL) {
		janee_err_clear();
		cJSON_Delete(q);
		return mcp_tool_error("cannot make the request state");
	}
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "resultType", "input_required");
	ir = cJSON_AddObjectToObject(r, "inputRequests");
	sp = cJSON_AddObjectToObject(ir, "approval");
	cJSON_AddStringToObject(sp, "method", "elicitation/create");
	cJSON_AddItemToObject(sp, "params", q);
	cJSON_AddStringToObject(r, "requestState", st);
	free(st);
	/* Until the state expires: then, or at exit, deny the lease (a
	 * stateless HTTP call's session ends now: see mcp_free). */
	if ((p = pending_new(m, PENDING_STATE, t, id, lease_id, params)) !=
	    NULL) {
		p->stateless = 1;
		p->deadline_ms = janee_now_ms() + STATE_TTL_MS;
	}
	mcp_send(m, mcp_result(id, r));
	*pending = 1;
	return NULL;
}

/*
 * The person answers on janee's page, reached by a link the client
 * carries: in the 2026-07-28 era an input_required answer whose
 * requestState says so ('u'); before, elicitation/create with mode url,
 * then a wait on the ledger for the page's answer.
 */
static cJSON *
elicit_link(struct mcp *m, const struct mcp_lease_tool *t, cJSON *id,
    const cJSON *params, const char *lease_id, int stateless, int *pending)
{
	struct mcp_pending *p;
	struct lease l;
	char *link;
	cJSON *r;
	int rc;

	if ((rc = lease_load(m->core->broker.lg, lease_id, &l)) != 0) {
		r = mcp_tool_error("%s", janee_err_msg(rc));
		janee_err_clear();
		return r;
	}
	if ((link = client_link(m, &l)) == NULL) {
		janee_err_clear();
		lease_free(&l);
		if (broker_decide(&m->core->broker, lease_id, 0, "janee",
			"janee's approval page could not be served", 0) != 0)
			janee_err_clear();
		return mcp_tool_error(
		    "denied: janee's approval page could not be served; lease "
		    "%s is closed",
		    lease_id);
	}
	r = NULL;
	if (stateless)
		r = input_required(m, t, id, params, lease_id,
		    url_params(m, &l, link), 'u', pending);
	else if ((p = wait_for_person(
		      m, PENDING_LINK, t, id, params, lease_id, 0)) != NULL) {
		send_elicitation(m, p, url_params(m, &l, link));
		p->url_sent = 1;
		*pending = 1;
	} else
		r = mcp_tool_error("out of memory");
	free(link);
	lease_free(&l);
	return r;
}

/* --- the entry points ----------------------------------------------- */

cJSON *
mcp_lease_resume(struct mcp *m, const struct mcp_lease_tool *t, cJSON *id,
    const cJSON *params, int *pending)
{
	const cJSON *args =
	    cJSON_GetObjectItemCaseSensitive(params, "arguments");
	const cJSON *state =
	    cJSON_GetObjectItemCaseSensitive(params, "requestState");
	const cJSON *inputs =
	    cJSON_GetObjectItemCaseSensitive(params, "inputResponses");
	const cJSON *answer =
	    cJSON_GetObjectItemCaseSensitive(inputs, "approval");
	char lease_id[JANEE_LEASE_ID_LEN], digest[65], err[256], mode = 0;
	struct mcp_pending *p;

	*pending = 0;
	if (call_digest(t->name, args, digest) != 0) {
		janee_err_clear();
		return mcp_tool_error("out of memory");
	}
	if (!cJSON_IsString(state) ||
	    state_check(m, state->valuestring, digest, lease_id, &mode, err,
		sizeof(err)) != 0)
		return mcp_tool_error("%s", err);
	for (p = m->pending; p != NULL; p = p->next)
		if (p->kind == PENDING_STATE &&
		    strcmp(p->lease_id, lease_id) == 0) {
			pending_unlink(m, p);
			pending_free(m, p);
			break;
		}
	if (mode == 'f')
		return elicit_answer(m, t, args, lease_id, answer);
	/*
	 * A link: whatever the answer says, it approves nothing.  Accept:
	 * the person went to the page; this call waits for its answer.
	 */
	if (!cJSON_IsString(
		cJSON_GetObjectItemCaseSensitive(answer, "action")) ||
	    strcmp(
		cJSON_GetObjectItemCaseSensitive(answer, "action")->valuestring,
		"accept") != 0) {
		if (broker_decide(&m->core->broker, lease_id, 0, "user",
			"the person did not open janee's page (answered in "
			"the MCP client)",
			0) != 0)
			janee_err_clear();
		return mcp_tool_error(
		    "denied: the person did not open janee's page; lease %s "
		    "is closed",
		    lease_id);
	}
	if (wait_for_person(m, PENDING_LINK, t, id, params, lease_id, 1) ==
	    NULL)
		return mcp_tool_error("out of memory");
	*pending = 1;
	return NULL;
}

/*
 * A lease of this session, asked for with lease_id: collected when
 * approved; while it still waits for the person on janee's page and the
 * client can open links, the URL elicitation it needs (-32042,
 * URLElicitationRequiredError, with a fresh one-time link).
 */
cJSON *
mcp_lease_collect(struct mcp *m, const struct mcp_lease_tool *t, cJSON *id,
    const cJSON *args, const char *lease_id, int *pending)
{
	struct lease l;
	cJSON *r, *e, *d, *list;
	char *link;

	*pending = 0;
	if (lease_load(m->core->broker.lg, lease_id, &l) != 0) {
		r = mcp_tool_error("%s", janee_err_msg(JANEE_ERR_NOT_FOUND));
		janee_err_clear();
		return r;
	}
	if (l.session == NULL || strcmp(l.session, m->session) != 0)
		r = mcp_tool_error(
		    "lease %s was not requested in this session", lease_id);
	else if (l.state == LEASE_REQUESTED && m->can_elicit_url &&
	    broker_may_approve(&m->core->broker, &l, BROKER_VIA_CLIENT) == 0 &&
	    (link = client_link(m, &l)) != NULL) {
		e = mcp_error(id, -32042,
		    "this request waits for the person's answer on janee's "
		    "page");
		d = cJSON_AddObjectToObject(
		    cJSON_GetObjectItemCaseSensitive(e, "error"), "data");
		list = cJSON_AddArrayToObject(d, "elicitations");
		cJSON_AddItemToArray(list, url_params(m, &l, link));
		free(link);
		mcp_send(m, e);
		*pending = 1; /* answered */
		r = NULL;
	} else
		r = collect(m, t, args, lease_id);
	janee_err_clear();
	lease_free(&l);
	return r;
}

/*
 * Ask through the client with a form: in the 2026-07-28 era, answer
 * input_required with a requestState bound to this call; before, send
 * elicitation/create and answer when the client does.
 */
static cJSON *
elicit(struct mcp *m, const struct mcp_lease_tool *t, cJSON *id,
    const cJSON *params, const char *lease_id, int stateless, int *pending)
{
	struct mcp_pending *p;
	struct lease l;
	cJSON *r;
	int rc;

	if ((rc = lease_load(m->core->broker.lg, lease_id, &l)) != 0) {
		r = mcp_tool_error("%s", janee_err_msg(rc));
		janee_err_clear();
		return r;
	}
	if (stateless) {
		r = input_required(m, t, id, params, lease_id,
		    elicit_params(m, &l, 1), 'f', pending);
		lease_free(&l);
		return r;
	}
	if ((p = pending_new(m, PENDING_ELICIT, t, id, lease_id, params)) ==
	    NULL) {
		lease_free(&l);
		return mcp_tool_error("out of memory");
	}
	p->deadline_ms = janee_now_ms() + ELICIT_WAIT_MS;
	send_elicitation(
	    m, p, elicit_params(m, &l, strcmp(m->protocol, "2025-11-25") == 0));
	lease_free(&l);
	*pending = 1;
	return NULL;
}

cJSON *
mcp_lease_obtain(struct mcp *m, const struct mcp_lease_tool *t, cJSON *id,
    const cJSON *params, struct broker_req *req, int stateless, int *pending)
{
	struct broker_grant g;
	unsigned can = BROKER_CAN_WAIT;
	cJSON *r;
	int rc;

	*pending = 0;
	/*
	 * The broker decides how this is approved; janee serve can send a
	 * link to its page when the client opens links (URL mode) and the
	 * page has not failed to start, ask with a form when the client
	 * shows forms, and can always wait for a person elsewhere.
	 */
	if (m->can_elicit)
		can |= BROKER_CAN_ELICIT;
	/* The page starts when a link is sent (it loads libmicrohttpd). */
	if (m->can_elicit_url && !m->page_failed)
		can |= BROKER_CAN_LINK;
	rc = broker_submit(&m->core->broker, req, can, &g);
	if (rc == 0)
		r = finish(m, t,
		    cJSON_GetObjectItemCaseSensitive(params, "arguments"), &g);
	else if (rc != JANEE_ERR_PENDING) {
		r = mcp_tool_error("%s", janee_err_msg(rc));
		janee_err_clear();
	} else {
		janee_err_clear();
		r = g.route == BROKER_OUT_OF_BAND
		    ? wait_out_of_band(
			  m, t, id, params, &g, req, stateless, pending)
		    : g.route == BROKER_LINK
		    ? elicit_link(
			  m, t, id, params, g.lease_id, stateless, pending)
		    : elicit(m, t, id, params, g.lease_id, stateless, pending);
	}
	broker_grant_free(&g);
	return r;
}
