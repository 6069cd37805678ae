/*
 * The broker: the only module that changes a lease's state.
 *
 *   request -> policy -> approval -> durable lease (minting) -> mint
 *     -> lease active, token fingerprint and sealed copy, audit "issued"
 *
 * Fail closed: when the ledger cannot record a step, no token is
 * returned (one already minted is revoked at once).  Expiry needs no
 * cron: every command sweeps overdue leases first.
 */
#ifndef JANEE_BROKER_H
#define JANEE_BROKER_H

#include "common.h"

#include "config.h"
#include "home.h"
#include "keysrc.h"
#include "lease.h"
#include "ledger.h"
#include "store.h"

/* Revocation retries: backoff doubles from 30 s up to 1 h. */
#define BROKER_MAX_ATTEMPTS 8
/* A sweeper holds a claimed lease this long before another may retry. */
#define BROKER_CLAIM_MS 60000

struct broker;

/*
 * What a front end can do to reach a person.  It says so with each
 * request; the broker alone decides how the request is approved
 * (broker_route), and the front end carries the question.
 */
#define BROKER_CAN_PROMPT 0x01u /* b->ask asks a person now (a terminal) */
#define BROKER_CAN_ELICIT 0x02u /* the front end asks through its client */
#define BROKER_CAN_WAIT 0x04u /* it waits for a person elsewhere */
/* It can send the person a link to janee's approval page through its
 * client (MCP URL-mode elicitation), and wait for the page's answer. */
#define BROKER_CAN_LINK 0x08u

/* How a request is approved. */
enum broker_route {
	BROKER_AUTO, /* within a policy of approval: auto */
	BROKER_PROMPT, /* b->ask, now */
	BROKER_ELICIT, /* pending: the front end asks (MCP elicitation) */
	BROKER_OUT_OF_BAND, /* pending: a person elsewhere (janee approve) */
	BROKER_DENY, /* refused by policy */
	BROKER_LINK, /* pending: the person answers on janee's page, reached
			by a link the front end's client carries (URL mode) */
	BROKER_GRANTED, /* approved by a person's session grant (grant.h) */
};

/*
 * Who carries a decision to the broker.  A person's own surface (the
 * terminal, janee's page opened by the person: `janee approvals --open`
 * or the desktop notification) may approve anything waiting; what comes
 * through an MCP client (a form's answer, the page reached by a link the
 * client carried) may approve only what was routed to the client (ask),
 * never what must be approved out of band: a client may answer, or open
 * a link, with no person there.
 */
enum broker_via {
	BROKER_VIA_PERSON,
	BROKER_VIA_CLIENT,
};

/* Answer 0 to approve, JANEE_ERR_DENIED (with a message) to deny. */
typedef int (*broker_ask_fn)(
    const struct prov *pv, const struct lease *l, void *arg);

struct broker {
	struct ledger *lg;
	const struct home *home;
	struct config *cfg;
	struct keysrc *ks;
	struct store *store; /* unlocked on first need */
	const char *actor; /* who acts: "user" at the CLI */
	const char *client; /* who asks: "cli", an MCP client's name */
	const char *session; /* per-process id */
	/*
	 * The verified remote agent (team mode: src/team-auth.h), set by the
	 * HTTP transport for each session's requests; NULL for a local one
	 * (stdio, the CLI).  Its policy ("agents" in config.json) narrows
	 * the provider's, and it goes into every lease and audit event.
	 */
	const char *agent;
	broker_ask_fn ask; /* the "ask" approval channel, or NULL */
	struct janee_http *http; /* created on first need */
	int logging_in; /* a login stores the credential */
	void *ask_arg;
};

/*
 * The services of every provider context, bound to b: config_load copies
 * them into each entry before its configure() runs.  b needs no more than
 * broker_init (its cfg may come after the load).
 */
void broker_services(struct broker *b, struct janee_ctx *out);
void broker_init(struct broker *b, struct ledger *lg, const struct home *h,
    struct config *cfg, struct keysrc *ks);
void broker_free(struct broker *b);

/* Unlock the store if it is not yet (may prompt, per b->ks). */
int broker_unlock(struct broker *b) JANEE_WUR;

/*
 * Resolve a secret reference (src/secretref.h); secret:NAME comes from
 * the broker's store, unlocked on need.  The caller frees *out.
 */
int broker_resolve(
    struct broker *b, const char *ref, struct janee_secret **out) JANEE_WUR;

struct broker_req {
	const char *provider;
	struct janee_strlist scopes;
	struct janee_strlist resources; /* GitHub: repositories */
	int64_t ttl_s; /* 0: the policy's default */
	const char *reason;
};

struct broker_grant {
	char lease_id[JANEE_LEASE_ID_LEN]; /* set once a lease is recorded */
	enum broker_route route; /* how it was (or is to be) approved */
	struct janee_token tok;
	int64_t expires_ms;
	char *granted; /* JSON array */
	int revocable;
};

void broker_grant_free(struct broker_grant *g);

/*
 * The one place that decides how a request is approved, from the
 * provider's policy ("approval", and "require_out_of_band" for the scopes
 * as they will be granted, defaults applied) and what the front end can
 * do (BROKER_CAN_*).  BROKER_DENY sets a message saying why.
 *   deny                              -> deny
 *   a scope in require_out_of_band    -> out of band (never a prompt or an
 *                                        elicitation: their "yes" may come
 *                                        from an automated client)
 *   auto                              -> auto
 *   ask                               -> prompt, else a link to the page
 *                                        (URL mode, preferred over a form:
 *                                        the answer does not pass through
 *                                        the client), else elicit (form),
 *                                        else out of band
 *   out-of-band                       -> out of band
 * and out of band only where the front end can wait, else deny.  Out of
 * band, a front end that can send a link may also point the person at
 * the page; the decision still comes from the person's own surface
 * (BROKER_VIA_PERSON).  broker_submit may then approve a request that a
 * live session grant covers (BROKER_GRANTED) instead of asking anyone,
 * never one with a require_out_of_band scope.
 */
enum broker_route broker_route(
    const struct prov *pv, const struct janee_strlist *scopes, unsigned can);

/*
 * Submit a request: the policy's defaults applied and checked, the
 * route decided (broker_route), the lease recorded with its decision.
 * Returns
 *   0                  issued: g holds the token (the policy approved it,
 *                      or b->ask said yes)
 *   JANEE_ERR_PENDING  a person must answer: g->lease_id names the lease,
 *                      g->route says how (BROKER_ELICIT: the front end
 *                      asks, then broker_decide; BROKER_OUT_OF_BAND:
 *                      broker_await or a later broker_collect)
 *   other              refused (recorded as denied) or failed
 * The caller frees g in every case.
 */
int broker_submit(struct broker *b, struct broker_req *req, unsigned can,
    struct broker_grant *g) JANEE_WUR;

/* broker_submit for a front end that cannot wait: issued or refused. */
int broker_issue(
    struct broker *b, struct broker_req *req, struct broker_grant *g) JANEE_WUR;

/*
 * After a pending submit:
 *   broker_decide   requested -> approved (ttl_s > 0 may shorten it,
 *                   never lengthen) or denied, as `actor`
 *   broker_collect  approved -> minting -> active, the token to the
 *                   caller; JANEE_ERR_PENDING while still requested
 *   broker_await    wait for a person's decision on an out-of-band lease
 *                   (polling the ledger), up to the provider's
 *                   approval_wait, then collect it.  waiting(arg, left_ms)
 *                   is called at every poll: NULL goes on waiting, a
 *                   string stops the wait and denies the lease with that
 *                   reason.  A lease not approved in time is denied.
 */
int broker_decide(struct broker *b, const char *lease_id, int approve,
    const char *actor, const char *why, int64_t ttl_s) JANEE_WUR;
/*
 * broker_decide as carried by via: an approval through the client of a
 * lease whose route is out of band is refused (JANEE_ERR_DENIED, the
 * lease left waiting).  broker_decide is BROKER_VIA_PERSON.
 */
int broker_decide_via(struct broker *b, const char *lease_id, int approve,
    enum broker_via via, const char *actor, const char *why,
    int64_t ttl_s) JANEE_WUR;
/*
 * Whether a decision carried by via may approve the lease: 0, or
 * JANEE_ERR_DENIED with a message saying where to approve it.
 */
int broker_may_approve(
    struct broker *b, const struct lease *l, enum broker_via via) JANEE_WUR;

/*
 * Whether a person may grant l's session a grant (below): 0 with *max_s
 * the longest the provider allows, else JANEE_ERR_POLICY saying why not.
 */
int broker_may_grant(
    struct broker *b, const struct lease *l, int64_t *max_s) JANEE_WUR;

/*
 * Approve a waiting lease as a person (as broker_decide), and grant its
 * MCP session this and narrower requests for grant_s seconds (grant.h):
 * the provider must allow it (session_grant_max, at most max_ttl), the
 * lease must come from a session and have no require_out_of_band scope.
 * One transaction; grant_id gets the new grant's id.
 */
int broker_approve_grant(struct broker *b, const char *lease_id,
    const char *actor, const char *why, int64_t ttl_s, int64_t grant_s,
    char grant_id[JANEE_LEASE_ID_LEN]) JANEE_WUR;

/*
 * Revoke a session grant (no more approvals under it) and end every
 * lease it approved, and the one whose approval made it (broker_end).
 * JANEE_ERR_STATE when it is not in force.
 */
int broker_grant_end(
    struct broker *b, const char *grant_id, const char *why) JANEE_WUR;
/*
 * broker_grant_end for each of provider's grants in force (the provider
 * goes: janee provider rm, janee logout), so that none approves another
 * lease once its leases are ended.  All are tried; the first failure is
 * returned.  *ended says how many were revoked.
 */
int broker_end_provider_grants(struct broker *b, const char *provider,
    const char *why, size_t *ended) JANEE_WUR;
int broker_collect(
    struct broker *b, const char *lease_id, struct broker_grant *g) JANEE_WUR;
int broker_await(struct broker *b, const char *lease_id,
    const char *(*waiting)(void *arg, int64_t left_ms), void *arg,
    struct broker_grant *g) JANEE_WUR;

/*
 * End a lease now: revoke at the provider, then state revoked.  A pending
 * lease is denied instead.  A failed revocation stays active and is
 * retried by the sweep.
 */
int
broker_end(struct broker *b, const char *lease_id, const char *why) JANEE_WUR;

struct sweep_report {
	int64_t expired; /* revoked at the provider and closed */
	int64_t retrying; /* revocation failed, will retry */
	int64_t irrevocable; /* gave up */
	int64_t waiting; /* due, but the store is locked */
	int64_t abandoned; /* requests left unsettled or uncollected */
	int64_t orphaned; /* cut short while minting; a token may be live */
	/* Told of each lease the sweep ended (expired or irrevocable). */
	void (*ended)(void *arg, const struct lease *l);
	/*
	 * Told just before the sweep claims a lease: its due time before
	 * the claim and the claim's end.  A sweeper that may be killed in
	 * the middle of a revocation leaves a note with it, so that the
	 * one after it can give the claim back (broker_unclaim) instead of
	 * waiting BROKER_CLAIM_MS: the background agent (src/agent-run.c).
	 */
	void (*claiming)(
	    void *arg, const char *id, int64_t due_ms, int64_t until_ms);
	void *arg;
};

/*
 * The earliest time the sweep has work (INT64_MAX: none): an active
 * lease's end or retry, or a lease left minting turning stale.
 */
int broker_next_due(struct broker *b, int64_t *due_ms) JANEE_WUR;
/* The same for a ledger, with no broker (janee's commands, the agent). */
int broker_ledger_due(struct ledger *lg, int64_t *due_ms) JANEE_WUR;

/*
 * Expire every lease whose end has come.  r->ended and r->arg are kept
 * (set them before the call); the counts are reset.  With may_unlock == 0 the store
 * is unlocked only when that needs nobody (key file, passphrase from the
 * environment or a descriptor); leases that need it then wait.
 */
int broker_sweep(
    struct broker *b, int may_unlock, struct sweep_report *r) JANEE_WUR;

/*
 * Give back a claim that its claimant can no longer settle (it died in
 * the middle of the revocation; the background agent knows when the one
 * before it did): the lease is due again at due_ms, so that the next
 * sweep takes it at once and revokes it again (revocation is idempotent)
 * instead of waiting for the claim to run out.  Only if the lease is
 * still active and claimed until until_ms (compare-and-set, as the claim
 * itself); JANEE_ERR_STATE when it is not.
 */
int broker_unclaim(struct broker *b, const char *id, int64_t due_ms,
    int64_t until_ms) JANEE_WUR;

/*
 * Run the provider's interactive login (`janee login NAME`); the provider
 * stores what it got through ctx->cred_put, audited as a login.
 */
int broker_login(struct broker *b, const char *provider,
    const struct janee_login_ui *ui) JANEE_WUR;

/*
 * End the provider's session grants and every lease of it, revoke the
 * login there, forget it.
 */
int broker_logout(struct broker *b, const char *provider) JANEE_WUR;

/*
 * An MCP session ended: deny its leases still waiting for approval or
 * approved but not collected, since only that session could collect them.
 * Its active leases run their course.
 */
int broker_end_session(
    struct broker *b, const char *session, const char *why) JANEE_WUR;

/*
 * One MCP session's leases, for the tools that show and end them: the
 * broker checks that a lease is the session's, so that no front end
 * needs to.
 *   broker_session_leases  fn for each of session's leases that has not
 *                          ended, newest first; fn's non-zero stops
 *   broker_session_end     end one of them (broker_end), as `why`
 *   broker_session_collect collect one that was approved after its call
 *                          was answered pending (broker_collect)
 * A lease that is not the session's is JANEE_ERR_NOT_FOUND, said the
 * same way whether or not it exists.
 */
int broker_session_leases(struct broker *b, const char *session,
    int (*fn)(const struct lease *l, void *arg), void *arg) JANEE_WUR;
int broker_session_end(struct broker *b, const char *session,
    const char *lease_id, const char *why) JANEE_WUR;
int broker_session_collect(struct broker *b, const char *session,
    const char *lease_id, struct broker_grant *g) JANEE_WUR;

/* The backoff before revocation attempt n + 1 (n >= 1). */
int64_t broker_backoff_ms(int64_t attempts);

#endif
