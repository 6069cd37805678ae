/* The broker: requests, approval, durable leases, minting, expiry. */
#include "common.h"

#include <time.h>

#include "agent.h"
#include "audit.h"
#include "broker.h"
#include "credentials.h"
#include "grant.h"
#include "janee/http.h"
#include "json.h"
#include "login-guard.h"
#include "policy.h"
#include "secretref.h"
#include "secrets.h"
#include "util.h"

static int64_t
clock_ms(void)
{
	return janee_now_ms();
}

/* Leases that can be ended (an orphan's token janee never had). */
static int
collect_id(const struct lease *l, void *arg)
{
	if (l->state == LEASE_ORPHANED)
		return 0;
	return janee_strlist_add(arg, l->id);
}

static int
collect_waiting(const struct lease *l, void *arg)
{
	if (l->state != LEASE_REQUESTED && l->state != LEASE_APPROVED)
		return 0;
	return janee_strlist_add(arg, l->id);
}

int
broker_end_session(struct broker *b, const char *session, const char *why)
{
	struct lease_filter f = { .active_only = 1, .session = session };
	struct janee_strlist ids;
	const char *saved = b->actor;
	size_t i;
	int rc, erc;

	memset(&ids, 0, sizeof(ids));
	if ((rc = lease_each(b->lg, &f, collect_waiting, &ids)) != 0)
		goto out;
	b->actor = "janee";
	for (i = 0; i < ids.n; i++) {
		/* A person's decision may have come first: that one stands. */
		if ((erc = broker_end(b, ids.v[i], why)) != 0 &&
		    erc != JANEE_ERR_STATE)
			fprintf(stderr, "janee: %s\n", janee_err_msg(erc));
		janee_err_clear();
	}
	b->actor = saved;
out:
	janee_strlist_free(&ids);
	return rc;
}

/*
 * Leases a janee process left in state minting when it died: the lease
 * was durable before the provider was asked (invariant 6), so janee knows
 * to look.  MINTING_STALE_MS is far beyond any mint's HTTP timeouts and
 * login lock waits: a token of the lease was issued before minting_ms +
 * MINTING_STALE_MS.
 */
#define MINTING_STALE_MS (5 * 60 * 1000)

int
broker_session_leases(struct broker *b, const char *session,
    int (*fn)(const struct lease *l, void *arg), void *arg)
{
	struct lease_filter f = { .active_only = 1, .session = session };

	return lease_each(b->lg, &f, fn, arg);
}

/* JANEE_ERR_NOT_FOUND unless lease_id is one of session's leases. */
static int
session_owns(struct broker *b, const char *session, const char *lease_id)
{
	struct lease l;
	int mine;

	if (session == NULL || lease_load(b->lg, lease_id, &l) != 0) {
		janee_err_clear();
		mine = 0;
	} else {
		mine = l.session != NULL && strcmp(l.session, session) == 0;
		lease_free(&l);
	}
	if (!mine)
		return janee_err_set(JANEE_ERR_NOT_FOUND,
		    "lease '%s' is not one of this session's; list_leases shows them",
		    lease_id);
	return 0;
}

int
broker_session_end(struct broker *b, const char *session, const char *lease_id,
    const char *why)
{
	int rc;

	if ((rc = session_owns(b, session, lease_id)) != 0)
		return rc;
	return broker_end(b, lease_id, why);
}

int
broker_session_collect(struct broker *b, const char *session,
    const char *lease_id, struct broker_grant *g)
{
	int rc;

	memset(g, 0, sizeof(*g));
	if ((rc = session_owns(b, session, lease_id)) != 0)
		return rc;
	return broker_collect(b, lease_id, g);
}

int
broker_next_due(struct broker *b, int64_t *due_ms)
{
	return broker_ledger_due(b->lg, due_ms);
}

int
broker_ledger_due(struct ledger *lg, int64_t *due_ms)
{
	sqlite3_stmt *st;
	int64_t n = 0;
	int rc;

	/*
	 * The next active lease's end (or retry), and the next lease left
	 * minting that reconcile_stale() will look at (the background agent
	 * waits for it as for an end).  The partial indexes on due active
	 * and on minting leases answer both parts directly.
	 */
	if ((rc = ledger_prepare(lg,
		 "SELECT coalesce(min(t), 0) FROM ("
		 "SELECT min(next_attempt_ms) AS t FROM leases "
		 "WHERE state = 'active' UNION ALL "
		 "SELECT min(max(minting_ms + ?1 + 1, "
		 "coalesce(next_attempt_ms, 0))) FROM leases "
		 "WHERE state = 'minting' AND minting_ms IS NOT NULL)",
		 &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, MINTING_STALE_MS);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		rc = ledger_fail(lg, "cannot find the next lease due");
	sqlite3_finalize(st);
	*due_ms = n ? n : INT64_MAX;
	return rc;
}

/* Failures of the store, not of the provider: no attempt was made. */
static int
store_trouble(int rc)
{
	return rc == JANEE_ERR_LOCKED || rc == JANEE_ERR_BAD_KEY;
}

/* secret:NAME for secretref_resolve: the store, unlocked on need. */
static int
sealed_lookup(void *arg, const char *name, struct janee_secret **out)
{
	struct broker *b = arg;
	int rc;

	*out = NULL;
	if ((rc = broker_unlock(b)) != 0)
		return rc;
	return secret_get(b->lg, b->store, name, out);
}

int
broker_resolve(struct broker *b, const char *ref, struct janee_secret **out)
{
	return secretref_resolve(ref, sealed_lookup, b, out);
}

/*
 * Providers resolve their secret references (secret:, env:, file:,
 * keyring:, vault://; src/secretref.h) through this.
 */
static int
prov_secret_get(
    struct janee_ctx *ctx, const char *ref, struct janee_secret **out)
{
	*out = NULL;
	/* Only the scheme is shown: the string may be a pasted secret. */
	if (secretref_kind(ref) == SECRETREF_NONE)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': %s%.*s%s is not a secret reference; use secret:NAME, env:VAR, file:PATH, keyring:SERVICE/ACCOUNT or vault://MOUNT/PATH#FIELD",
		    ctx->name, strchr(ref, ':') ? "'" : "a value",
		    strchr(ref, ':') ? (int)strcspn(ref, ":") + 1 : 0, ref,
		    strchr(ref, ':') ? "...'" : " (not shown)");
	return broker_resolve(ctx->core, ref, out);
}

static int
prov_cred_get(struct janee_ctx *ctx, struct janee_secret **out)
{
	struct broker *b = ctx->core;
	int rc;

	*out = NULL;
	if ((rc = broker_unlock(b)) != 0)
		return rc;
	return cred_get(b->lg, b->store, ctx->name, out);
}

static int
prov_cred_put(
    struct janee_ctx *ctx, const struct janee_secret *val, const char *account)
{
	struct broker *b = ctx->core;
	int rc;

	if ((rc = broker_unlock(b)) != 0)
		return rc;
	/* A login is audited as such; a rotation is routine. */
	return cred_put(b->lg, b->store, ctx->name, val, account,
	    b->logging_in ? "login" : NULL);
}

static int
prov_cred_broken(struct janee_ctx *ctx, const char *why)
{
	struct broker *b = ctx->core;

	return cred_mark_broken(b->lg, ctx->name, why);
}

static int
prov_login_gone(
    struct janee_ctx *ctx, int rc, const char *why, const char *profile)
{
	char *said;

	said = janee_err_pending()
	    ? janee_strdup(janee_err_msg(rc))
	    : janee_asprintf("provider '%s': %s", ctx->name, why);
	/* Said once, for everyone: the next request sees it at once. */
	if (prov_cred_broken(ctx, why) != 0)
		janee_err_clear();
	rc = janee_err_wrap(JANEE_ERR_PROVIDER,
	    "%s; the login no longer works: run: janee login %s%s%s",
	    said ? said : why, ctx->name, profile ? " --profile " : "",
	    profile ? profile : "");
	free(said);
	return rc;
}

static int
prov_cred_lock(struct janee_ctx *ctx)
{
	struct broker *b = ctx->core;
	struct prov *pv = b->cfg ? config_find(b->cfg, ctx->name) : NULL;

	if (pv == NULL || pv->login_fd >= 0)
		return janee_err_set(JANEE_ERR_INTERNAL, "login lock misuse");
	return cred_lock(b->home, ctx->name, 60, &pv->login_fd);
}

static void
prov_cred_unlock(struct janee_ctx *ctx)
{
	struct broker *b = ctx->core;
	struct prov *pv = b->cfg ? config_find(b->cfg, ctx->name) : NULL;

	if (pv != NULL) {
		cred_unlock(pv->login_fd);
		pv->login_fd = -1;
	}
}

/* Whether janee holds the lease live; 1 when the ledger cannot say. */
static int
prov_lease_live(struct janee_ctx *ctx, const char *lease_id)
{
	struct broker *b = ctx->core;
	struct lease l;
	int rc, live;

	if ((rc = lease_load(b->lg, lease_id, &l)) != 0) {
		janee_err_clear();
		return rc != JANEE_ERR_NOT_FOUND;
	}
	live = !lease_state_final(l.state);
	lease_free(&l);
	return live;
}

/* Whether the lease is still minting; 1 when the ledger cannot say. */
static int
prov_lease_minting(struct janee_ctx *ctx, const char *lease_id)
{
	struct broker *b = ctx->core;
	sqlite3_stmt *st;
	int minting = 1;

	if (ledger_prepare(b->lg,
		"SELECT count(*) FROM leases WHERE id = ? AND state = 'minting'",
		&st) != 0) {
		janee_err_clear(); /* keep what the ledger cannot judge */
		return 1;
	}
	sqlite3_bind_text(st, 1, lease_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		minting = sqlite3_column_int(st, 0) != 0;
	sqlite3_finalize(st);
	return minting;
}

void
broker_init(struct broker *b, struct ledger *lg, const struct home *h,
    struct config *cfg, struct keysrc *ks)
{
	memset(b, 0, sizeof(*b));
	b->lg = lg;
	b->home = h;
	b->cfg = cfg;
	b->ks = ks;
	b->actor = "user";
	b->client = "cli";
#ifdef JANEE_TEST_HOOKS
	/* Until the HTTP transport sets it: a verified remote agent, for
	 * the per-agent policy tests (tests/t0850-team-agents.sh). */
	b->agent = getenv("JANEE_TEST_AGENT");
#endif
}

void
broker_services(struct broker *b, struct janee_ctx *out)
{
	memset(out, 0, sizeof(*out));
	out->core = b;
	out->secret_get = prov_secret_get;
	out->cred_get = prov_cred_get;
	out->cred_put = prov_cred_put;
	out->cred_broken = prov_cred_broken;
	out->login_gone = prov_login_gone;
	out->cred_lock = prov_cred_lock;
	out->cred_unlock = prov_cred_unlock;
	out->lease_live = prov_lease_live;
	out->lease_minting = prov_lease_minting;
	out->now_ms = clock_ms;
	out->log = config_ctx_log;
}

void
broker_free(struct broker *b)
{
	store_free(b->store);
	b->store = NULL;
	janee_http_free(b->http);
	b->http = NULL;
}

/* Give the provider its HTTP client, made on first need (start-up stays
 * cheap for commands that never call a provider). */
static int
prov_ready(struct broker *b, struct prov *pv)
{
	if (b->http == NULL && (b->http = janee_http_new()) == NULL)
		return JANEE_ERR_NETWORK;
	pv->ctx.http = b->http;
	return 0;
}

int
broker_unlock(struct broker *b)
{
	if (b->store != NULL) {
		/* A key borrowed from the agent: still held (janee lock)? */
		if (store_check(b->store) == 0)
			return 0;
		janee_err_clear();
		store_free(b->store);
		b->store = NULL;
	}
	return store_unlock(b->lg, b->home, b->ks, &b->store);
}

void
broker_grant_free(struct broker_grant *g)
{
	janee_token_clear(&g->tok);
	free(g->granted);
	memset(g, 0, sizeof(*g));
}

int64_t
broker_backoff_ms(int64_t attempts)
{
	int64_t d = 30000;

	while (--attempts > 0 && d < 3600000)
		d *= 2;
	return d < 3600000 ? d : 3600000;
}

/*
 * Who asked, for an audit row: the client and, for an MCP session, its
 * session id ("claude-code/1.2 session 3f2a..."), so that audit rows can
 * be tied to one server process as leases are.
 */
static const char *
audit_client(const struct lease *l, char *buf, size_t n)
{
	/* A verified agent first; what its client says of itself is
	 * labelled as such (team mode, docs/TEAM.md). */
	if (l->agent != NULL)
		snprintf(buf, n, "agent %s (client %s, self-reported)%s%s",
		    l->agent, l->client ? l->client : "?",
		    l->session ? " session " : "",
		    l->session ? l->session : "");
	else if (l->session == NULL)
		return l->client;
	else
		snprintf(buf, n, "%s session %s", l->client ? l->client : "?",
		    l->session);
	return buf;
}

/* Apply the state change and its audit event in one transaction. */
static int
transition(struct broker *b, struct lease *l, enum lease_state to,
    const char *event, const char *outcome, const char *detail)
{
	char who[256];
	struct audit_event ev = { .event = event,
		.actor = b->actor,
		.client = audit_client(l, who, sizeof(who)),
		.provider = l->provider,
		.lease_id = l->id,
		.outcome = outcome,
		.detail = detail };
	enum lease_state from = l->state;
	int rc;

	ev.scopes = l->granted ? l->granted : l->requested;
	l->state = to;
	if ((rc = ledger_begin(b->lg)) != 0)
		goto fail;
	if ((rc = lease_save(b->lg, l, from)) != 0 ||
	    (rc = audit_append(b->lg, &ev)) != 0 ||
	    (rc = ledger_commit(b->lg)) != 0)
		goto fail;
	return 0;
fail:
	ledger_rollback(b->lg);
	l->state = from;
	return rc;
}

/* What record_request writes after "requested". */
enum verdict { VERDICT_APPROVED, VERDICT_PENDING, VERDICT_DENIED };

/*
 * Record the request and the decision durably: requested, then approved
 * and minting, or denied, or nothing more while a person decides; with
 * their audit events, in one transaction.  grant_id: the session grant
 * that approved it (janee applies the person's grant), or NULL.
 */
static int
record_request(struct broker *b, struct lease *l, enum verdict v,
    const char *why, const char *grant_id)
{
	char who[256];
	struct audit_event ev = { .actor = b->actor,
		.client = audit_client(l, who, sizeof(who)),
		.provider = l->provider,
		.lease_id = l->id,
		.scopes = l->requested,
		.outcome = "ok" };
	int rc;

	if ((rc = ledger_begin(b->lg)) != 0)
		return rc;
	ev.event = "requested";
	ev.detail = l->reason;
	if ((rc = lease_insert(b->lg, l)) != 0 ||
	    (rc = audit_append(b->lg, &ev)) != 0)
		goto fail;
	ev.detail = why;
	switch (v) {
	case VERDICT_APPROVED:
		l->state = LEASE_APPROVED;
		l->approved_ms = clock_ms();
		ev.event = "approved";
		if (grant_id != NULL)
			ev.actor = "janee";
		if ((rc = lease_save(b->lg, l, LEASE_REQUESTED)) != 0 ||
		    (rc = audit_append(b->lg, &ev)) != 0 ||
		    (grant_id != NULL &&
			(rc = grant_link(b->lg, grant_id, l->id)) != 0))
			goto fail;
		l->state = LEASE_MINTING;
		if ((rc = lease_save(b->lg, l, LEASE_APPROVED)) != 0)
			goto fail;
		break;
	case VERDICT_DENIED:
		l->state = LEASE_DENIED;
		l->ended_ms = clock_ms();
		if ((rc = lease_set_str(&l->detail, why)) != 0)
			goto fail;
		ev.event = "denied";
		ev.outcome = "denied";
		if ((rc = lease_save(b->lg, l, LEASE_REQUESTED)) != 0 ||
		    (rc = audit_append(b->lg, &ev)) != 0)
			goto fail;
		break;
	case VERDICT_PENDING:
		break;
	}
	return ledger_commit(b->lg);
fail:
	ledger_rollback(b->lg);
	return rc;
}

enum broker_route
broker_route(
    const struct prov *pv, const struct janee_strlist *scopes, unsigned can)
{
	enum broker_route r = BROKER_DENY;

	if (pv->pol.approval == APPROVAL_DENY) {
		janee_err_set(JANEE_ERR_DENIED,
		    "provider '%s' is set to deny every request (approval: deny)",
		    pv->name);
		return BROKER_DENY;
	}
	/* Checked on the scopes as granted: defaults are applied by now. */
	if (policy_needs_oob(&pv->pol, scopes))
		r = BROKER_OUT_OF_BAND;
	else if (pv->pol.approval == APPROVAL_AUTO)
		return BROKER_AUTO;
	else if (pv->pol.approval == APPROVAL_ASK)
		r = can & BROKER_CAN_PROMPT   ? BROKER_PROMPT
		    : can & BROKER_CAN_LINK   ? BROKER_LINK
		    : can & BROKER_CAN_ELICIT ? BROKER_ELICIT
					      : BROKER_OUT_OF_BAND;
	else
		r = BROKER_OUT_OF_BAND;
	if (r != BROKER_OUT_OF_BAND || (can & BROKER_CAN_WAIT))
		return r;
	if (pv->pol.approval == APPROVAL_ASK &&
	    !policy_needs_oob(&pv->pol, scopes))
		janee_err_set(JANEE_ERR_DENIED,
		    "provider '%s' needs a person to approve (approval: ask) and there is nobody to ask here",
		    pv->name);
	else
		janee_err_set(JANEE_ERR_DENIED,
		    "provider '%s' needs a person to approve with 'janee approve' and nothing here can wait for that",
		    pv->name);
	return BROKER_DENY;
}

static int
revoke_at_provider(struct broker *b, struct prov *pv, const char *lease_id,
    const struct janee_token *tok)
{
	int rc;

	if (!pv->info.revocable)
		return JANEE_ERR_UNSUPPORTED;
	if ((rc = prov_ready(b, pv)) != 0)
		return rc;
	return pv->impl->revoke(&pv->ctx, lease_id, tok);
}

/* The token was minted but cannot be recorded: revoke it, return none. */
static int
fail_closed(struct broker *b, struct prov *pv, struct lease *l,
    struct janee_token *tok, int rc)
{
	char *msg;

	msg = janee_strdup(janee_err_msg(rc));
	if (revoke_at_provider(b, pv, l->id, tok) != 0)
		fprintf(stderr,
		    "janee: could not revoke the unrecorded token of lease %s at '%s'; it ends at its provider expiry\n",
		    l->id, pv->name);
	janee_token_clear(tok);
	janee_err_clear();
	rc = janee_err_set(rc, "%s; no token was issued",
	    msg ? msg : "the ledger refused the lease");
	free(msg);
	return rc;
}

/*
 * A new lease for req on pv, in state requested (not yet recorded), and
 * the verdict of pol (pv's policy, or a remote agent's narrower one) on
 * it in *refusal (0: within policy).
 */
static int
lease_new(struct broker *b, struct prov *pv, const struct prov *pol,
    struct broker_req *req, struct lease *l, int *refusal)
{
	int rc;

	memset(l, 0, sizeof(*l));
	if ((rc = janee_lease_id_new(l->id)) != 0 ||
	    (rc = lease_set_str(&l->provider, pv->name)) != 0 ||
	    (rc = lease_set_str(&l->client, b->client)) != 0 ||
	    (rc = lease_set_str(&l->agent, b->agent)) != 0 ||
	    (rc = lease_set_str(&l->session, b->session)) != 0 ||
	    (rc = lease_set_str(&l->reason, req->reason)) != 0)
		return rc;
	l->state = LEASE_REQUESTED;
	l->created_ms = clock_ms();
	*refusal =
	    policy_check(pol, &req->scopes, &req->resources, &req->ttl_s);
	l->ttl_s = req->ttl_s > 0 ? req->ttl_s : 1;
	if ((l->requested = lease_scopes_json(&req->scopes)) == NULL ||
	    (req->resources.n > 0 &&
		(l->repositories = lease_scopes_json(&req->resources)) == NULL))
		return JANEE_ERR_NOMEM;
	return 0;
}

/*
 * A token as the provider's info describes it: the primary part there
 * and not empty, no part the info does not name; a part the info calls
 * secret is secret, whatever the provider flagged.
 */
static int
token_check(struct prov *pv, struct janee_token *t)
{
	const struct janee_part_info *pi, *prim = prov_primary(pv);
	const struct janee_secret *v = janee_token_get(t, prim->name);
	size_t i;

	if (v == NULL || v->len == 0)
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s' returned no token", pv->name);
	for (i = 0; i < t->nparts; i++) {
		if ((pi = prov_part(pv, t->parts[i].name)) == NULL)
			return janee_err_set(JANEE_ERR_PROVIDER,
			    "provider '%s' returned a token part '%s' it does not declare",
			    pv->name, t->parts[i].name);
		t->parts[i].flags |= pi->flags;
	}
	return 0;
}

/* A token sealed as the one part "token": its bytes alone, as ever. */
static int
token_is_plain(const struct janee_token *t)
{
	return t->nparts == 1 && strcmp(t->parts[0].name, "token") == 0;
}

/*
 * Seal every part of t for revocation: a one-part "token" as its bytes
 * (what janee has always sealed), other tokens as a NUL byte (which no
 * token starts with: tokens are text) and {"parts": [{"name", "value",
 * "secret"}]}.
 */
static int
seal_token(struct broker *b, struct lease *l, const struct janee_token *t)
{
	cJSON *o, *a, *e;
	char *s = NULL, *blob = NULL;
	size_t i, n = 0;
	int rc = 0;

	if (token_is_plain(t))
		return store_seal(b->store, "lease-token", l->id,
		    t->parts[0].value->data, t->parts[0].value->len, &l->sealed,
		    &l->sealed_len);
	if ((o = cJSON_CreateObject()) == NULL ||
	    (rc = json_put(o, "parts", a = cJSON_CreateArray())) != 0)
		goto out;
	for (i = 0; i < t->nparts && rc == 0; i++)
		if ((rc = json_push(a, e = cJSON_CreateObject())) != 0 ||
		    (rc = json_put(e, "name",
			 cJSON_CreateString(t->parts[i].name))) != 0 ||
		    (rc = json_put(e, "value",
			 cJSON_CreateString(
			     (const char *)t->parts[i].value->data))) != 0 ||
		    (rc = json_put(e, "secret",
			 cJSON_CreateBool(
			     t->parts[i].flags & JANEE_PART_SECRET))) != 0)
			goto out;
	if ((s = cJSON_PrintUnformatted(o)) == NULL ||
	    (blob = malloc((n = strlen(s) + 1))) == NULL) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	blob[0] = '\0';
	memcpy(blob + 1, s, n - 1);
	rc = store_seal(b->store, "lease-token", l->id, blob, n, &l->sealed,
	    &l->sealed_len);
out:
	if (s != NULL) {
		janee_wipe(s, strlen(s));
		cJSON_free(s);
	}
	if (blob != NULL)
		janee_freezero(blob, n);
	/* cJSON's blocks are wiped on free in janee (main.c's hooks). */
	cJSON_Delete(o);
	return rc;
}

/* The reverse of seal_token, into t. */
static int
open_token(struct broker *b, const struct lease *l, struct janee_token *t)
{
	struct janee_secret *pt = NULL, *v;
	const cJSON *e;
	cJSON *o = NULL;
	int rc;

	memset(t, 0, sizeof(*t));
	if ((rc = store_open(b->store, "lease-token", l->id, l->sealed,
		 l->sealed_len, &pt)) != 0)
		return rc;
	if (pt->len == 0 || pt->data[0] != '\0') {
		rc = janee_token_put(t, "token", pt, JANEE_PART_SECRET);
		return rc;
	}
	o = cJSON_ParseWithLength((const char *)pt->data + 1, pt->len - 1);
	janee_secret_free(pt);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "parts"))
	{
		if (json_str(e, "name") == NULL ||
		    json_str(e, "value") == NULL) {
			rc = JANEE_ERR_TAMPERED;
			break;
		}
		v = janee_secret_new(
		    json_str(e, "value"), strlen(json_str(e, "value")));
		if ((rc = janee_token_put(t, json_str(e, "name"), v,
			 cJSON_IsTrue(
			     cJSON_GetObjectItemCaseSensitive(e, "secret"))
			     ? JANEE_PART_SECRET
			     : 0)) != 0)
			break;
	}
	cJSON_Delete(o);
	if (rc == 0 && t->nparts == 0)
		rc = JANEE_ERR_TAMPERED;
	if (rc == JANEE_ERR_TAMPERED)
		rc = janee_err_set(rc,
		    "the sealed token of lease %s is damaged; restore the ledger from a backup",
		    l->id);
	if (rc != 0)
		janee_token_clear(t);
	return rc;
}

/*
 * The token's fingerprints (HMAC-SHA256 under the store's key): the
 * primary part's for the lease row, the other secret parts' for
 * `janee audit lookup` too.  The test binary's hook hears each secret
 * part, so that the leak sweep looks for every one.
 */
static int
fingerprint_token(struct broker *b, struct prov *pv, struct lease *l,
    const struct janee_token *t)
{
	const char *prim = prov_primary(pv)->name;
	char fp[STORE_FP_HEX], *pair;
	size_t i;
	int rc;

	for (i = 0; i < t->nparts; i++) {
		if (!(t->parts[i].flags & JANEE_PART_SECRET) &&
		    strcmp(t->parts[i].name, prim) != 0)
			continue;
		JANEE_SECRET_HOOK("lease-part", t->parts[i].value->data,
		    t->parts[i].value->len);
		if ((rc = store_fingerprint(b->store, t->parts[i].value->data,
			 t->parts[i].value->len, fp)) != 0)
			return rc;
		if (strcmp(t->parts[i].name, prim) == 0) {
			if ((rc = lease_set_str(&l->fingerprint, fp)) != 0)
				return rc;
			continue;
		}
		if ((pair = janee_asprintf("%s %s", t->parts[i].name, fp)) ==
		    NULL)
			return JANEE_ERR_NOMEM;
		rc = janee_strlist_add(&l->part_fps, pair);
		free(pair);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * minting -> active: ask the provider, then record the token's
 * fingerprints, its sealed copy and its end.  Fail closed: a token that
 * cannot be recorded is revoked and not returned.
 */
static int
mint_lease(struct broker *b, struct prov *pv, struct lease *l,
    const struct janee_strlist *scopes, const struct janee_strlist *resources,
    struct broker_grant *g)
{
	struct janee_mint_req mr;
	char *why;
	int64_t now;
	size_t i;
	int rc, revocable;

	janee_crash_point("after_record");
	mr.lease_id = l->id;
	mr.scopes = scopes;
	mr.resources = resources;
	mr.ttl_s = l->ttl_s;
	if ((rc = prov_ready(b, pv)) != 0 ||
	    (rc = pv->impl->mint(&pv->ctx, &mr, &g->tok)) != 0 ||
	    (rc = token_check(pv, &g->tok)) != 0) {
		why = janee_strdup(janee_err_msg(rc));
		janee_err_clear();
		/* A token that came back wrong is ended, not kept. */
		if (g->tok.nparts > 0 &&
		    revoke_at_provider(b, pv, l->id, &g->tok) != 0)
			janee_err_clear();
		janee_token_clear(&g->tok);
		l->ended_ms = clock_ms();
		if (lease_set_str(&l->detail, why) != 0 ||
		    transition(
			b, l, LEASE_FAILED, "mint_failed", "error", why) != 0)
			janee_err_clear(); /* the mint error matters more */
		rc = janee_err_set(rc, "%s", why ? why : "mint failed");
		free(why);
		return rc;
	}
	janee_crash_point("after_mint");
	/* What was granted: the provider's word, else what was asked. */
	for (i = 0; g->tok.granted.n == 0 && i < scopes->n; i++)
		if ((rc = janee_strlist_add(&g->tok.granted, scopes->v[i])) !=
		    0)
			return fail_closed(b, pv, l, &g->tok, rc);
	janee_strlist_normalize(&g->tok.granted);
	now = clock_ms();
	l->issued_ms = now;
	l->expires_ms = now + l->ttl_s * 1000;
	revocable = pv->info.revocable;
	/*
	 * Never promise longer than the provider's own expiry; and a token
	 * that cannot be revoked lives as long as the provider says, which
	 * is what the lease must record.
	 */
	if (g->tok.expires_ms > 0 &&
	    (g->tok.expires_ms < l->expires_ms || !revocable))
		l->expires_ms = g->tok.expires_ms;
	/* How long this provider's tokens live: an orphan's bound later. */
	l->token_expires_ms = g->tok.expires_ms;
	l->next_attempt_ms = l->expires_ms;
	janee_crash_point("before_active");
	if ((!revocable &&
		(rc = lease_set_str(&l->detail,
		     "not revocable: the token lives until the provider's own expiry")) !=
		    0) ||
	    (rc = fingerprint_token(b, pv, l, &g->tok)) != 0 ||
	    (l->granted = lease_scopes_json(&g->tok.granted)) == NULL ||
	    (revocable && (rc = seal_token(b, l, &g->tok)) != 0) ||
	    (rc = transition(b, l, LEASE_ACTIVE, "issued", "ok", l->detail)) !=
		0)
		return fail_closed(
		    b, pv, l, &g->tok, rc ? rc : JANEE_ERR_NOMEM);
	memcpy(g->lease_id, l->id, sizeof(g->lease_id));
	g->expires_ms = l->expires_ms;
	if ((g->granted = janee_strdup(l->granted)) == NULL)
		return JANEE_ERR_NOMEM;
	g->revocable = revocable;
	/* The agent revokes it at its end, whoever is running then. */
	agent_notify(b->home != NULL ? b->home->dir : NULL);
	return 0;
}

static struct prov *
find_prov(struct broker *b, const char *name)
{
	return config_lookup(
	    b->cfg, name, 1, "list them with: janee provider list");
}

/*
 * The live session grant that covers this request, if the provider
 * allows grants and no scope must be approved out of band: 0 with *gr
 * filled, JANEE_ERR_NOT_FOUND (no message) when none applies.
 */
static int
by_grant(struct broker *b, struct prov *pv, const struct broker_req *req,
    const struct lease *l, struct grant *gr)
{
	if (pv->pol.session_grant_max_s <= 0 || b->session == NULL ||
	    policy_needs_oob(&pv->pol, &req->scopes))
		return JANEE_ERR_NOT_FOUND;
	return grant_find_cover(b->lg, b->session, pv->name, &req->scopes,
	    &req->resources, l->ttl_s, clock_ms(), gr);
}

int
broker_submit(struct broker *b, struct broker_req *req, unsigned can,
    struct broker_grant *g)
{
	static const char *const how[] = {
		[BROKER_AUTO] = "by policy (approval: auto)",
		[BROKER_PROMPT] = "at the terminal",
	};
	struct lease l;
	struct prov *pv, eff;
	struct policy narrowed;
	struct grant gr;
	enum verdict v;
	char *why = NULL;
	int rc, refusal, agent_refusal = 0;

	memset(g, 0, sizeof(*g));
	memset(&l, 0, sizeof(l));
	memset(&gr, 0, sizeof(gr));
	memset(&narrowed, 0, sizeof(narrowed));
	g->route = BROKER_DENY;
	if ((pv = find_prov(b, req->provider)) == NULL)
		return JANEE_ERR_NOT_FOUND;
	/*
	 * A remote agent's requests meet the narrower of its policy and
	 * the provider's (policy_agent_narrow); one it may not make is
	 * refused on the record, under its name.
	 */
	eff = *pv;
	if (b->agent != NULL) {
		agent_refusal =
		    policy_agent_narrow(b->cfg, pv, b->agent, &narrowed);
		/* Messages then say "provider 't' for agent 'ci-bot'". */
		if (agent_refusal == 0 &&
		    (eff.name = janee_asprintf(
			 "%s' for agent '%s", pv->name, b->agent)) == NULL) {
			policy_agent_free(&narrowed);
			return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		}
		if (agent_refusal == 0)
			eff.pol = narrowed;
		else if (agent_refusal != JANEE_ERR_POLICY)
			return agent_refusal;
		else
			why = janee_strdup(janee_err_msg(agent_refusal));
	}
	/*
	 * Unlock first: a token that cannot be sealed for revocation must
	 * not be minted.
	 */
	if ((rc = broker_unlock(b)) != 0 ||
	    (rc = lease_new(b, pv, &eff, req, &l, &refusal)) != 0)
		goto out;
	if (agent_refusal != 0) {
		/* The agent's refusal, whatever lease_new's check said. */
		if (why == NULL) {
			rc = JANEE_ERR_NOMEM;
			goto out;
		}
		refusal = janee_err_set(agent_refusal, "%s", why);
		free(why);
		why = NULL;
	}
	if (b->ask == NULL)
		can &= ~BROKER_CAN_PROMPT;
	if (refusal == 0) {
		g->route = broker_route(&eff, &req->scopes, can);
		if (g->route == BROKER_DENY)
			refusal = JANEE_ERR_DENIED;
		else if (g->route != BROKER_AUTO &&
		    (rc = by_grant(b, pv, req, &l, &gr)) !=
			JANEE_ERR_NOT_FOUND) {
			if (rc != 0)
				goto out;
			g->route = BROKER_GRANTED;
		} else if (g->route == BROKER_PROMPT)
			refusal = b->ask(pv, &l, b->ask_arg);
	}
	if (refusal != 0) {
		v = VERDICT_DENIED;
		why = janee_strdup(janee_err_msg(refusal));
	} else if (g->route == BROKER_ELICIT || g->route == BROKER_LINK ||
	    g->route == BROKER_OUT_OF_BAND) {
		v = VERDICT_PENDING;
	} else if (g->route == BROKER_GRANTED) {
		v = VERDICT_APPROVED;
		why = janee_asprintf("approved (session grant %s)", gr.id);
	} else {
		v = VERDICT_APPROVED;
		why = janee_strdup(how[g->route]);
	}
	if (v != VERDICT_PENDING && why == NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	janee_err_clear();
	/* Request and decision in one transaction: one commit, not two. */
	if ((rc = record_request(b, &l, v, why,
		 g->route == BROKER_GRANTED ? gr.id : NULL)) != 0)
		goto out;
	memcpy(g->lease_id, l.id, JANEE_LEASE_ID_LEN);
	if (v == VERDICT_DENIED)
		rc = janee_err_set(refusal, "%s", why);
	else if (v == VERDICT_PENDING)
		rc = janee_err_set(JANEE_ERR_PENDING,
		    "lease %s waits for a person to approve it", l.id);
	else
		rc = mint_lease(b, pv, &l, &req->scopes, &req->resources, g);
out:
	if (rc != 0) {
		/* What a caller needs of a refused or pending lease stays. */
		janee_token_clear(&g->tok);
		free(g->granted);
		g->granted = NULL;
	}
	free(why);
	grant_free(&gr);
	lease_free(&l);
	policy_agent_free(&narrowed);
	if (eff.name != pv->name)
		free(eff.name);
	return rc;
}

int
broker_issue(struct broker *b, struct broker_req *req, struct broker_grant *g)
{
	return broker_submit(b, req, b->ask != NULL ? BROKER_CAN_PROMPT : 0, g);
}

int
broker_may_approve(struct broker *b, const struct lease *l, enum broker_via via)
{
	struct janee_strlist scopes;
	struct policy narrowed;
	enum broker_route r;
	struct prov *pv, eff;
	int rc;

	memset(&narrowed, 0, sizeof(narrowed));
	if (via == BROKER_VIA_PERSON)
		return 0;
	if ((pv = find_prov(b, l->provider)) == NULL)
		return JANEE_ERR_NOT_FOUND;
	/* A remote agent's lease: under the policy it was asked under. */
	eff = *pv;
	if (l->agent != NULL) {
		if ((rc = policy_agent_narrow(
			 b->cfg, pv, l->agent, &narrowed)) != 0)
			return rc;
		eff.pol = narrowed;
	}
	memset(&scopes, 0, sizeof(scopes));
	if ((rc = lease_scopes_parse(l->requested, &scopes)) != 0) {
		policy_agent_free(&narrowed);
		return rc;
	}
	/* What the route would be for a client that can do everything. */
	r = broker_route(&eff, &scopes,
	    BROKER_CAN_ELICIT | BROKER_CAN_LINK | BROKER_CAN_WAIT);
	janee_strlist_free(&scopes);
	policy_agent_free(&narrowed);
	janee_err_clear();
	if (r == BROKER_ELICIT || r == BROKER_LINK)
		return 0;
	return janee_err_set(JANEE_ERR_DENIED,
	    "lease %s must be approved out of band, not through the MCP "
	    "client: run 'janee approve %s', or approve it on janee's page "
	    "opened with 'janee approvals --open' or from the desktop "
	    "notification",
	    l->id, l->id);
}

/* A waiting lease may be approved for ttl_s (0: as asked), never longer. */
static int
check_waiting(struct lease *l, int approve, int64_t ttl_s)
{
	char t[32];

	if (l->state != LEASE_REQUESTED)
		return janee_err_set(JANEE_ERR_STATE,
		    "lease %s is not waiting for approval (it is %s)", l->id,
		    lease_state_name(l->state));
	/* A decision may shorten a grant, never lengthen it. */
	if (approve && ttl_s > l->ttl_s) {
		janee_duration_fmt(l->ttl_s, t, sizeof(t));
		return janee_err_set(JANEE_ERR_POLICY,
		    "an approval cannot extend lease %s beyond the %s it asked "
		    "for",
		    l->id, t);
	}
	if (approve && ttl_s > 0)
		l->ttl_s = ttl_s;
	return 0;
}

int
broker_decide_via(struct broker *b, const char *lease_id, int approve,
    enum broker_via via, const char *actor, const char *why, int64_t ttl_s)
{
	const char *saved = b->actor;
	struct lease l;
	int rc;

	if ((rc = lease_load(b->lg, lease_id, &l)) != 0)
		return rc;
	if ((rc = check_waiting(&l, approve, ttl_s)) != 0 ||
	    (approve && (rc = broker_may_approve(b, &l, via)) != 0))
		goto out;
	b->actor = actor;
	if (approve) {
		l.approved_ms = clock_ms();
		rc = transition(b, &l, LEASE_APPROVED, "approved", "ok", why);
	} else {
		l.ended_ms = clock_ms();
		if ((rc = lease_set_str(&l.detail, why)) == 0)
			rc = transition(
			    b, &l, LEASE_DENIED, "denied", "denied", why);
	}
	b->actor = saved;
out:
	lease_free(&l);
	return rc;
}

int
broker_decide(struct broker *b, const char *lease_id, int approve,
    const char *actor, const char *why, int64_t ttl_s)
{
	return broker_decide_via(
	    b, lease_id, approve, BROKER_VIA_PERSON, actor, why, ttl_s);
}

int
broker_may_grant(struct broker *b, const struct lease *l, int64_t *max_s)
{
	struct janee_strlist scopes;
	struct prov *pv;
	int rc, oob;

	*max_s = 0;
	if ((pv = find_prov(b, l->provider)) == NULL)
		return JANEE_ERR_NOT_FOUND;
	if (pv->pol.session_grant_max_s <= 0)
		return janee_err_set(JANEE_ERR_POLICY,
		    "provider '%s' allows no session grants (set "
		    "\"session_grant_max\" in its policy to allow them)",
		    pv->name);
	if (l->session == NULL)
		return janee_err_set(JANEE_ERR_POLICY,
		    "lease %s was not asked for by an MCP session; only a "
		    "session's requests can be granted for that session",
		    l->id);
	memset(&scopes, 0, sizeof(scopes));
	if ((rc = lease_scopes_parse(l->requested, &scopes)) != 0)
		return rc;
	oob = policy_needs_oob(&pv->pol, &scopes);
	janee_strlist_free(&scopes);
	if (oob)
		return janee_err_set(JANEE_ERR_POLICY,
		    "lease %s has a scope that must be approved out of band "
		    "each time (require_out_of_band); it cannot be granted for "
		    "a session",
		    l->id);
	*max_s = pv->pol.session_grant_max_s;
	return 0;
}

int
broker_approve_grant(struct broker *b, const char *lease_id, const char *actor,
    const char *why, int64_t ttl_s, int64_t grant_s,
    char grant_id[JANEE_LEASE_ID_LEN])
{
	char who[256], d[32], t[32], *detail = NULL, *approved = NULL;
	char *by = NULL;
	struct audit_event ev = { .actor = actor, .outcome = "ok" };
	struct grant gr;
	struct lease l;
	int64_t now = clock_ms(), max_s;
	int rc;

	memset(&gr, 0, sizeof(gr));
	if ((rc = lease_load(b->lg, lease_id, &l)) != 0)
		return rc;
	if ((rc = check_waiting(&l, 1, ttl_s)) != 0 ||
	    (rc = broker_may_grant(b, &l, &max_s)) != 0)
		goto out;
	if (grant_s < 1 || grant_s > max_s) {
		janee_duration_fmt(max_s, d, sizeof(d));
		rc = janee_err_set(JANEE_ERR_POLICY,
		    "a session grant of provider '%s' lasts at most %s",
		    l.provider, d);
		goto out;
	}
	if ((rc = grant_id_new(gr.id)) != 0)
		goto out;
	janee_duration_fmt(grant_s, d, sizeof(d));
	janee_duration_fmt(l.ttl_s, t, sizeof(t));
	gr.session = l.session;
	gr.client = l.client;
	gr.provider = l.provider;
	gr.scopes = l.requested;
	gr.repositories = l.repositories;
	gr.max_ttl_s = l.ttl_s;
	memcpy(gr.lease_id, l.id, sizeof(gr.lease_id));
	gr.created_ms = now;
	gr.expires_ms = now + grant_s * 1000;
	if ((by = gr.actor = janee_strdup(actor)) == NULL ||
	    (approved = janee_asprintf(
		 "%s; and session grant %s for %s", why, gr.id, d)) == NULL ||
	    (detail = janee_asprintf("session grant %s for %s: this session's "
				     "requests within these scopes%s, for up "
				     "to %s each, are approved without asking",
		 gr.id, d, l.repositories ? " and repositories" : "", t)) ==
		NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	ev.client = audit_client(&l, who, sizeof(who));
	ev.provider = l.provider;
	ev.lease_id = l.id;
	ev.scopes = l.requested;
	l.state = LEASE_APPROVED;
	l.approved_ms = now;
	if ((rc = ledger_begin(b->lg)) != 0)
		goto out;
	ev.event = "approved";
	ev.detail = approved;
	if ((rc = lease_save(b->lg, &l, LEASE_REQUESTED)) != 0 ||
	    (rc = audit_append(b->lg, &ev)) != 0 ||
	    (rc = grant_insert(b->lg, &gr)) != 0 ||
	    (rc = grant_link(b->lg, gr.id, l.id)) != 0)
		goto fail;
	ev.event = "session_granted";
	ev.detail = detail;
	if ((rc = audit_append(b->lg, &ev)) != 0 ||
	    (rc = ledger_commit(b->lg)) != 0)
		goto fail;
	memcpy(grant_id, gr.id, JANEE_LEASE_ID_LEN);
	goto out;
fail:
	ledger_rollback(b->lg);
out:
	free(by);
	free(approved);
	free(detail);
	lease_free(&l);
	return rc;
}

int
broker_grant_end(struct broker *b, const char *grant_id, const char *why)
{
	struct audit_event ev = { .event = "session_grant_revoked",
		.actor = b->actor,
		.outcome = "ok",
		.detail = why };
	struct janee_strlist ids;
	char who[256], *end_why = NULL;
	struct grant gr;
	struct lease l;
	size_t i;
	int rc, erc;

	memset(&ids, 0, sizeof(ids));
	if ((rc = grant_load(b->lg, grant_id, &gr)) != 0)
		return rc;
	memset(&l, 0, sizeof(l));
	l.client = gr.client;
	l.session = gr.session;
	ev.client = audit_client(&l, who, sizeof(who));
	ev.provider = gr.provider;
	ev.lease_id = gr.lease_id;
	ev.scopes = gr.scopes;
	if ((rc = ledger_begin(b->lg)) != 0)
		goto out;
	if ((rc = grant_revoke(b->lg, gr.id, clock_ms(), why)) != 0 ||
	    (rc = audit_append(b->lg, &ev)) != 0 ||
	    (rc = ledger_commit(b->lg)) != 0) {
		ledger_rollback(b->lg);
		goto out;
	}
	/* No more approvals under it; now what it approved ends. */
	if ((rc = grant_leases(b->lg, gr.id, &ids)) != 0 ||
	    (end_why = janee_asprintf("session grant %s revoked%s%s", gr.id,
		 why ? ": " : "", why ? why : "")) == NULL) {
		rc = rc ? rc : JANEE_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < ids.n; i++) {
		if ((erc = lease_load(b->lg, ids.v[i], &l)) == 0) {
			erc = lease_state_final(l.state) ||
				l.state == LEASE_MINTING
			    ? 0
			    : broker_end(b, ids.v[i], end_why);
			lease_free(&l);
		}
		if (erc != 0 && erc != JANEE_ERR_STATE && rc == 0)
			rc =
			    erc; /* the first failure is said; the rest go on */
		else if (erc != 0)
			janee_err_clear();
	}
out:
	free(end_why);
	janee_strlist_free(&ids);
	grant_free(&gr);
	return rc;
}

/* Whether grant id is revoked on record (not whether it is in force). */
static int
revoked_grant(struct broker *b, const char *id)
{
	struct grant gr;
	int revoked;

	if (grant_load(b->lg, id, &gr) != 0) {
		janee_err_clear();
		return 0;
	}
	revoked = gr.revoked;
	grant_free(&gr);
	return revoked;
}

int
broker_end_provider_grants(
    struct broker *b, const char *provider, const char *why, size_t *ended)
{
	struct janee_strlist ids;
	size_t i;
	int rc, erc;

	*ended = 0;
	memset(&ids, 0, sizeof(ids));
	if ((rc = grant_live_of_provider(b->lg, provider, clock_ms(), &ids)) !=
	    0)
		goto out;
	for (i = 0; i < ids.n; i++) {
		erc = broker_grant_end(b, ids.v[i], why);
		/* A lease of it may fail to end: the grant ended all the same. */
		if (erc == 0 ||
		    (erc != JANEE_ERR_STATE && revoked_grant(b, ids.v[i])))
			(*ended)++;
		if (erc == JANEE_ERR_STATE) /* it ended meanwhile */
			janee_err_clear();
		else if (erc != 0 && rc == 0)
			rc =
			    erc; /* the first failure is said; the rest go on */
		else if (erc != 0)
			janee_err_clear();
	}
out:
	janee_strlist_free(&ids);
	return rc;
}

int
broker_collect(struct broker *b, const char *lease_id, struct broker_grant *g)
{
	struct janee_strlist scopes, resources;
	struct lease l;
	struct prov *pv;
	int rc;

	memset(g, 0, sizeof(*g));
	memset(&scopes, 0, sizeof(scopes));
	memset(&resources, 0, sizeof(resources));
	if ((rc = lease_load(b->lg, lease_id, &l)) != 0)
		return rc;
	switch (l.state) {
	case LEASE_REQUESTED:
		rc = janee_err_set(JANEE_ERR_PENDING,
		    "lease %s waits for a person to approve it: janee approve %s",
		    l.id, l.id);
		goto out;
	case LEASE_DENIED:
		rc = janee_err_set(JANEE_ERR_DENIED, "lease %s was denied%s%s",
		    l.id, l.detail ? ": " : "", l.detail ? l.detail : "");
		goto out;
	case LEASE_APPROVED:
		break;
	default:
		rc = janee_err_set(JANEE_ERR_STATE,
		    "lease %s is %s; a token is handed out once, when it is issued",
		    l.id, lease_state_name(l.state));
		goto out;
	}
	if ((pv = find_prov(b, l.provider)) == NULL) {
		rc = JANEE_ERR_NOT_FOUND;
		goto out;
	}
	if ((rc = broker_unlock(b)) != 0 ||
	    (rc = lease_scopes_parse(l.requested, &scopes)) != 0 ||
	    (rc = lease_scopes_parse(l.repositories, &resources)) != 0)
		goto out;
	/* Durable before the provider is called (invariant 6). */
	if ((rc = transition(b, &l, LEASE_MINTING, "minting", "ok", NULL)) != 0)
		goto out;
	rc = mint_lease(b, pv, &l, &scopes, &resources, g);
out:
	if (rc != 0)
		broker_grant_free(g);
	janee_strlist_free(&scopes);
	janee_strlist_free(&resources);
	lease_free(&l);
	return rc;
}

#define AWAIT_POLL_MS 250

int
broker_await(struct broker *b, const char *id,
    const char *(*waiting)(void *arg, int64_t left_ms), void *arg,
    struct broker_grant *g)
{
	struct timespec nap = { 0, AWAIT_POLL_MS * 1000000L };
	char lease_id[JANEE_LEASE_ID_LEN];
	const char *stop;
	struct prov *pv;
	int64_t deadline;
	struct lease l;
	enum lease_state st;
	int rc;

	/* id may point into g (a pending submit's answer): keep a copy. */
	snprintf(lease_id, sizeof(lease_id), "%s", id);
	broker_grant_free(g);
	if ((rc = lease_load(b->lg, lease_id, &l)) != 0)
		return rc;
	pv = config_find(b->cfg, l.provider);
	deadline = l.created_ms + (pv ? pv->pol.approval_wait_s : 0) * 1000;
	lease_free(&l);
	for (;;) {
		if ((rc = lease_load(b->lg, lease_id, &l)) != 0)
			return rc;
		st = l.state;
		lease_free(&l);
		/* Approved: the token; denied or anything else: why not. */
		if (st != LEASE_REQUESTED)
			return broker_collect(b, lease_id, g);
		stop = waiting ? waiting(arg, deadline - clock_ms()) : NULL;
		if (stop == NULL && clock_ms() >= deadline)
			stop = "no approval in time";
		if (stop != NULL) {
			/* A person's decision may have come first: it stands. */
			rc = broker_decide(b, lease_id, 0, "janee", stop, 0);
			if (rc == JANEE_ERR_STATE) {
				janee_err_clear();
				continue;
			}
			if (rc != 0)
				return rc;
			return janee_err_set(JANEE_ERR_DENIED,
			    "lease %s was not approved: %s", lease_id, stop);
		}
		/* A caught signal ends the nap early; waiting() sees it. */
		nanosleep(&nap, NULL);
	}
}

/*
 * Take a due lease for this process: push its next attempt past the claim
 * window, so that another sweeper does not revoke it at the same time.
 * r->claiming (when r and it are set) hears of it first: a note written
 * before the claim covers a death at any point after it.
 */
static int
claim(struct broker *b, struct lease *l, struct sweep_report *r)
{
	int64_t until = clock_ms() + BROKER_CLAIM_MS;
	int rc;

	if (r != NULL && r->claiming != NULL)
		r->claiming(r->arg, l->id, l->next_attempt_ms, until);
	/*
	 * Compare and swap on the due time read with the lease: a sweeper
	 * that loaded it before another claimed it loses here, instead of
	 * revoking the same token a second time.
	 */
	if ((rc = lease_claim(b->lg, l->id, l->next_attempt_ms, until)) != 0)
		return rc;
	l->next_attempt_ms = until;
	return 0;
}

int
broker_unclaim(
    struct broker *b, const char *id, int64_t due_ms, int64_t until_ms)
{
	/* The claim's compare-and-set, the other way round. */
	return lease_claim(b->lg, id, until_ms, due_ms);
}

/* Revoke l's token at its provider; 0, JANEE_ERR_UNSUPPORTED or failure. */
static int
end_at_provider(struct broker *b, struct lease *l)
{
	struct janee_token tok;
	struct prov *pv;
	int rc;

	if ((pv = config_find(b->cfg, l->provider)) == NULL)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s' is no longer configured, so its token cannot be revoked",
		    l->provider);
	if (!pv->info.revocable || l->sealed == NULL)
		return JANEE_ERR_UNSUPPORTED;
	if ((rc = broker_unlock(b)) != 0)
		return rc;
	if ((rc = open_token(b, l, &tok)) != 0)
		return rc;
	rc = revoke_at_provider(b, pv, l->id, &tok);
	janee_token_clear(&tok);
	janee_crash_point("during_revoke");
	return rc;
}

/* After end_at_provider: close the lease as `to`, or schedule a retry. */
static int
settle(struct broker *b, struct lease *l, enum lease_state to, int rc,
    struct sweep_report *r)
{
	char *msg = NULL;
	int64_t now = clock_ms();

	if (rc == 0 || rc == JANEE_ERR_UNSUPPORTED) {
		janee_err_clear();
		l->ended_ms = now;
		free(l->sealed);
		l->sealed = NULL;
		l->sealed_len = 0;
		if (rc == JANEE_ERR_UNSUPPORTED &&
		    lease_set_str(&l->detail,
			"the provider cannot revoke; the token lives until its own expiry") !=
			0)
			return JANEE_ERR_NOMEM;
		if (r != NULL)
			r->expired++;
		return transition(
		    b, l, to, lease_state_name(to), "ok", l->detail);
	}
	if ((msg = janee_strdup(janee_err_msg(rc))) == NULL)
		return JANEE_ERR_NOMEM;
	janee_err_clear();
	l->attempts++;
	if (lease_set_str(&l->detail, msg) != 0) {
		free(msg);
		return JANEE_ERR_NOMEM;
	}
	if (l->attempts >= BROKER_MAX_ATTEMPTS) {
		l->ended_ms = now;
		free(l->sealed);
		l->sealed = NULL;
		l->sealed_len = 0;
		if (r != NULL)
			r->irrevocable++;
		rc = transition(
		    b, l, LEASE_IRREVOCABLE, "irrevocable", "error", msg);
	} else {
		l->next_attempt_ms = now + broker_backoff_ms(l->attempts);
		if (r != NULL)
			r->retrying++;
		rc = transition(
		    b, l, LEASE_ACTIVE, "revoke_failed", "error", msg);
	}
	free(msg);
	return rc;
}

int
broker_end(struct broker *b, const char *lease_id, const char *why)
{
	struct lease l;
	int rc, prc;

	if ((rc = lease_load(b->lg, lease_id, &l)) != 0)
		return rc;
	switch (l.state) {
	case LEASE_REQUESTED:
	case LEASE_APPROVED:
		l.ended_ms = clock_ms();
		if ((rc = lease_set_str(&l.detail, why)) == 0)
			rc = transition(
			    b, &l, LEASE_DENIED, "denied", "denied", why);
		break;
	case LEASE_ACTIVE:
		if ((rc = claim(b, &l, NULL)) != 0)
			break;
		prc = end_at_provider(b, &l);
		if (store_trouble(prc)) {
			rc = prc; /* nothing was tried: not an attempt */
			break;
		}
		if ((prc == 0 || prc == JANEE_ERR_UNSUPPORTED) &&
		    (rc = lease_set_str(&l.detail, why)) != 0)
			break;
		rc = settle(b, &l, LEASE_REVOKED, prc, NULL);
		if (rc == 0 && prc != 0 && prc != JANEE_ERR_UNSUPPORTED)
			rc = janee_err_set(JANEE_ERR_PROVIDER,
			    "lease %s: revocation at '%s' failed (%s); janee retries it",
			    l.id, l.provider, l.detail ? l.detail : "");
		break;
	case LEASE_ORPHANED:
		rc = janee_err_set(JANEE_ERR_STATE,
		    "lease %s is orphaned: janee never recorded its token, so it cannot revoke it (%s)",
		    l.id, l.detail ? l.detail : "");
		break;
	default:
		rc = janee_err_set(JANEE_ERR_STATE, "lease %s is already %s",
		    l.id, lease_state_name(l.state));
	}
	lease_free(&l);
	return rc;
}

/*
 * The ids of up to n due active leases after the cursor (due time, id),
 * oldest due first.  Claimed leases move out of the window by themselves;
 * the cursor steps over the ones left waiting.
 */
static int
due_batch(struct broker *b, int64_t now, int64_t *cur_ms, char *cur_id,
    char ids[][JANEE_LEASE_ID_LEN], int n, int *got)
{
	sqlite3_stmt *st;
	int rc, step;

	*got = 0;
	if ((rc = ledger_prepare(b->lg,
		 "SELECT id, next_attempt_ms FROM leases WHERE state = 'active' AND next_attempt_ms <= ?1 AND (next_attempt_ms, id) > (?2, ?3) ORDER BY next_attempt_ms, id LIMIT ?4",
		 &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, *cur_ms);
	sqlite3_bind_text(st, 3, cur_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, n);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(ids[*got], JANEE_LEASE_ID_LEN, "%s",
		    (const char *)sqlite3_column_text(st, 0));
		*cur_ms = sqlite3_column_int64(st, 1);
		(*got)++;
	}
	if (*got > 0)
		memcpy(cur_id, ids[*got - 1], JANEE_LEASE_ID_LEN);
	if (step != SQLITE_DONE)
		rc = ledger_fail(b->lg, "cannot find overdue leases");
	sqlite3_finalize(st);
	return rc;
}

/*
 * The ids of up to BROKER_BATCH leases that sql selects (its ?1 is a time
 * before which, its ?2 the time now, its ?3 the limit), for the sweep's
 * passes over stale leases.
 */
#define BROKER_BATCH 32

static int
ids_before(struct broker *b, const char *sql, int64_t before, int64_t now,
    char ids[BROKER_BATCH][JANEE_LEASE_ID_LEN], int *n, const char *what)
{
	sqlite3_stmt *st;
	int rc, step;

	*n = 0;
	if ((rc = ledger_prepare(b->lg, sql, &st)) != 0)
		return rc;
	/* A parameter sql does not have is SQLITE_RANGE: nothing to bind. */
	sqlite3_bind_int64(st, 1, before);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int(st, 3, BROKER_BATCH);
	while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < BROKER_BATCH)
		snprintf(ids[(*n)++], JANEE_LEASE_ID_LEN, "%s",
		    (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (step != SQLITE_DONE && step != SQLITE_ROW)
		return ledger_fail(b->lg, what);
	return 0;
}

/*
 * The longest a token of provider lived, per its recent leases (the
 * provider's own expiry as it said at the mint); 0 when never said.
 */
static int64_t
seen_lifetime_s(struct broker *b, const char *provider)
{
	sqlite3_stmt *st;
	int64_t ms = 0;

	if (ledger_prepare(b->lg,
		"SELECT max(token_expires_ms - issued_ms) FROM (SELECT token_expires_ms, issued_ms FROM leases WHERE provider = ? AND token_expires_ms > issued_ms ORDER BY created_ms DESC LIMIT 16)",
		&st) != 0) {
		janee_err_clear(); /* then it is not known */
		return 0;
	}
	sqlite3_bind_text(st, 1, provider, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		ms = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return ms > 0 ? (ms + 999) / 1000 : 0;
}

/*
 * Ask the provider about one lease cut short while minting.  When it is
 * sure no token of the lease is left live (reconcile() answered 0), the
 * lease is failed, saying how many tokens were revoked.  Otherwise a token
 * may be live that janee cannot end: the lease is orphaned, "may be live
 * until" the token's expiry as the provider knows it, else the minting
 * start plus the window plus the provider's token lifetime (its own word,
 * else the longest the ledger saw), else "its own expiry".  A provider
 * that cannot be reached is asked again later, with backoff.
 */
static int
reconcile_one(
    struct broker *b, struct lease *l, int64_t now, struct sweep_report *r)
{
	struct janee_reconcile rr;
	struct prov *pv = config_find(b->cfg, l->provider);
	char t[JANEE_TIME_LEN], *why = NULL, *msg = NULL;
	int64_t life;
	int rc, prc;

	memset(&rr, 0, sizeof(rr));
	rr.minting_ms = l->minting_ms ? l->minting_ms : l->created_ms;
	if (pv == NULL)
		prc = janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s' is no longer configured", l->provider);
	else if (!pv->info.reconcilable)
		prc = janee_err_set(JANEE_ERR_UNSUPPORTED,
		    "provider '%s' (type %s) cannot look for a token minted for a lease",
		    pv->name, pv->impl->type);
	else if ((prc = prov_ready(b, pv)) == 0)
		prc = pv->impl->reconcile(&pv->ctx, l->id, &rr);
	if (store_trouble(prc))
		return prc; /* nothing was asked: left for later */
	if (prc != 0 && (msg = janee_strdup(janee_err_msg(prc))) == NULL)
		return JANEE_ERR_NOMEM;
	janee_err_clear();
	if (prc == JANEE_ERR_NETWORK && l->attempts + 1 < BROKER_MAX_ATTEMPTS) {
		l->attempts++;
		l->next_attempt_ms = now + broker_backoff_ms(l->attempts);
		if ((rc = lease_set_str(&l->detail, msg)) == 0)
			rc = transition(b, l, LEASE_MINTING, "reconcile_failed",
			    "error", msg);
		if (rc == 0)
			r->retrying++;
		free(msg);
		return rc;
	}
	l->ended_ms = now;
	if (prc == 0) {
		why = janee_asprintf(
		    "janee stopped while minting; %d token(s) the provider issued for this lease were revoked",
		    rr.revoked);
		if (why == NULL || (rc = lease_set_str(&l->detail, why)) != 0)
			rc = JANEE_ERR_NOMEM;
		else
			rc = transition(
			    b, l, LEASE_FAILED, "reconciled", "error", why);
		free(why);
		return rc;
	}
	l->expires_ms = rr.live_until_ms;
	life =
	    rr.lifetime_s > 0 ? rr.lifetime_s : seen_lifetime_s(b, l->provider);
	if (l->expires_ms == 0 && life > 0)
		l->expires_ms = rr.minting_ms + MINTING_STALE_MS + life * 1000;
	if (l->expires_ms != 0)
		janee_time_fmt(l->expires_ms, t);
	why = janee_asprintf(
	    "orphaned: may be live until %s (janee stopped while minting: %s)",
	    l->expires_ms != 0 ? t : "its own expiry", msg);
	free(msg);
	if (why == NULL || (rc = lease_set_str(&l->detail, why)) != 0)
		rc = JANEE_ERR_NOMEM;
	else if ((rc = transition(
		      b, l, LEASE_ORPHANED, "orphaned", "error", why)) == 0)
		r->orphaned++;
	free(why);
	return rc;
}

static int
reconcile_stale(
    struct broker *b, int64_t now, int quiet, struct sweep_report *r)
{
	char ids[BROKER_BATCH][JANEE_LEASE_ID_LEN];
	struct lease l;
	int i, n = 0, rc;

	if ((rc = ids_before(b,
		 "SELECT id FROM leases WHERE state = 'minting' AND minting_ms < ?1 AND coalesce(next_attempt_ms, 0) <= ?2 ORDER BY minting_ms LIMIT ?3",
		 now - MINTING_STALE_MS, now, ids, &n,
		 "cannot find interrupted leases")) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		/* Providers read their logins: that may need the passphrase. */
		if (!quiet) {
			r->waiting++;
			continue;
		}
		if ((rc = lease_load(b->lg, ids[i], &l)) != 0)
			return rc;
		rc =
		    l.state == LEASE_MINTING ? reconcile_one(b, &l, now, r) : 0;
		lease_free(&l);
		if (rc == JANEE_ERR_STATE || store_trouble(rc)) {
			/* another process did it; or it waits for the key */
			if (store_trouble(rc))
				r->waiting++;
			janee_err_clear();
		} else if (rc != 0)
			return rc;
	}
	return 0;
}

/* One due lease: claim it, revoke it at the provider, settle it. */
static int
sweep_one(struct broker *b, const char *id, int quiet, struct sweep_report *r)
{
	struct lease l;
	struct prov *pv;
	int rc, prc;

	if ((rc = lease_load(b->lg, id, &l)) != 0)
		return rc;
	/* Claimed or settled by another process since the batch was read. */
	if (l.state != LEASE_ACTIVE || l.next_attempt_ms > clock_ms()) {
		lease_free(&l);
		return 0;
	}
	pv = config_find(b->cfg, l.provider);
	if (!quiet && l.sealed != NULL && pv != NULL && pv->info.revocable) {
		r->waiting++; /* needs the store: leave it for later */
		lease_free(&l);
		return 0;
	}
	if ((rc = claim(b, &l, r)) != 0) {
		lease_free(&l);
		if (rc != JANEE_ERR_STATE)
			return rc;
		janee_err_clear(); /* another process took it */
		return 0;
	}
	prc = end_at_provider(b, &l);
	rc = store_trouble(prc) ? prc : settle(b, &l, LEASE_EXPIRED, prc, r);
	if (rc == 0 && lease_state_final(l.state) && r->ended != NULL)
		r->ended(r->arg, &l);
	lease_free(&l);
	return rc;
}

/*
 * Requests nobody settled or collected in a day: a person never answered
 * an out-of-band approval, or the MCP session that could collect it died
 * without ending (killed; one that ends denies its own).  Denied, so that
 * `janee approvals` does not list them for ever.  The partial index makes
 * this free when there are none.
 */
#define WAITING_STALE_MS (24 * 3600 * 1000LL)

static int
abandon_stale(struct broker *b, int64_t now, struct sweep_report *r)
{
	char ids[BROKER_BATCH][JANEE_LEASE_ID_LEN];
	int i, n = 0, rc;

	if ((rc = ids_before(b,
		 "SELECT id FROM leases WHERE state IN ('requested', 'approved') AND created_ms < ?1 ORDER BY created_ms LIMIT ?3",
		 now - WAITING_STALE_MS, now, ids, &n,
		 "cannot find abandoned requests")) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		rc = broker_end(b, ids[i],
		    "abandoned: not approved and collected within 24 hours");
		if (rc == 0)
			r->abandoned++;
		else if (rc == JANEE_ERR_STATE)
			janee_err_clear(); /* settled meanwhile */
		else
			return rc;
	}
	return 0;
}

int
broker_sweep(struct broker *b, int may_unlock, struct sweep_report *r)
{
	char ids[64][JANEE_LEASE_ID_LEN], cur_id[JANEE_LEASE_ID_LEN] = "";
	const char *actor;
	int64_t now = clock_ms(), cur_ms = INT64_MIN;
	int i, n, rc, quiet;

	r->expired = r->retrying = r->irrevocable = r->waiting = 0;
	r->abandoned = r->orphaned = 0;
	quiet = may_unlock || b->store != NULL || store_quiet(b->lg, b->ks);
	/* Expiry is janee's own act, whoever ran the command. */
	actor = b->actor;
	b->actor = "janee";
	if ((rc = reconcile_stale(b, now, quiet, r)) != 0 ||
	    (rc = abandon_stale(b, now, r)) != 0) {
		b->actor = actor;
		return rc;
	}
	do {
		if ((rc = due_batch(b, now, &cur_ms, cur_id, ids,
			 (int)nitems(ids), &n)) != 0)
			break;
		for (i = 0; i < n && rc == 0; i++)
			rc = sweep_one(b, ids[i], quiet, r);
	} while (rc == 0 && n == (int)nitems(ids));
	b->actor = actor;
	return rc;
}

int
broker_login(
    struct broker *b, const char *provider, const struct janee_login_ui *ui)
{
	struct login_guard g;
	struct prov *pv;
	int rc;

	if ((pv = find_prov(b, provider)) == NULL)
		return JANEE_ERR_NOT_FOUND;
	if (pv->impl->login == NULL)
		return janee_err_set(JANEE_ERR_UNSUPPORTED,
		    "provider '%s' (type %s) has no interactive login; it is configured in config.json alone",
		    provider, pv->impl->type);
	/* The login is stored sealed: have the key before asking anyone. */
	if ((rc = broker_unlock(b)) != 0 || (rc = prov_ready(b, pv)) != 0)
		return rc;
	b->logging_in = 1;
	/* What the provider shows a person is checked here (login-guard.h). */
	login_guard_init(&g, ui);
	rc = login_guard_end(&g, pv->impl->login(&pv->ctx, &g.ui));
	b->logging_in = 0;
	return rc;
}

int
broker_logout(struct broker *b, const char *provider)
{
	struct lease_filter f = { .active_only = 1 };
	struct janee_strlist ids;
	struct prov *pv;
	size_t i, n;
	int rc = 0, prc;

	memset(&ids, 0, sizeof(ids));
	if ((pv = find_prov(b, provider)) == NULL)
		return JANEE_ERR_NOT_FOUND;
	if ((rc = broker_unlock(b)) != 0)
		return rc;
	/* No session grant approves another lease of it from now on. */
	if ((rc = broker_end_provider_grants(b, provider, "logout", &n)) != 0)
		return rc;
	/* Everything minted from the login goes first. */
	f.provider = provider;
	if ((rc = lease_each(b->lg, &f, collect_id, &ids)) != 0)
		goto out;
	for (i = 0; i < ids.n; i++)
		if ((prc = broker_end(b, ids.v[i], "logout")) != 0) {
			fprintf(stderr, "janee: %s\n", janee_err_msg(prc));
			janee_err_clear();
		}
	if (pv->impl->logout != NULL) {
		if ((rc = prov_ready(b, pv)) != 0)
			goto out;
		if ((prc = pv->impl->logout(&pv->ctx)) != 0 &&
		    prc != JANEE_ERR_NOT_FOUND) {
			/* Forget it anyway: the person asked to log out. */
			fprintf(stderr,
			    "janee: warning: %s; the login is forgotten here all the same\n",
			    janee_err_msg(prc));
			janee_err_clear();
		}
		janee_err_clear();
	}
	rc = cred_delete(b->lg, provider);
out:
	janee_strlist_free(&ids);
	return rc;
}
