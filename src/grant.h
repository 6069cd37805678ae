/*
 * Session grants, against approval fatigue: a person approves a request
 * "and narrower requests from this session for N minutes".  Later
 * requests of the same MCP session, for the same provider, with scopes
 * and repositories within the granted set and a lifetime no longer than
 * the one approved, are approved by janee without asking (broker_submit,
 * audited as "approved (session grant G)"), until the grant expires or a
 * person revokes it, which ends every lease approved under it.  Never for
 * scopes the policy names in require_out_of_band (broker.c checks).
 *
 * Rows in the ledger: table grants, and grant_leases linking the grant
 * to the lease whose approval made it and to each lease approved under
 * it.  Only the broker writes them, inside its own transactions.
 */
#ifndef JANEE_GRANT_H
#define JANEE_GRANT_H

#include "common.h"

#include "ledger.h"
#include "util.h"

struct grant {
	char id[JANEE_LEASE_ID_LEN]; /* "grt_" and 26 base32 characters */
	char *session; /* the MCP session it holds for */
	char *client; /* that session's self-reported client */
	char *provider;
	char *scopes; /* normalized JSON array: the most it covers */
	char *repositories; /* JSON array, or NULL: requests with none */
	int64_t max_ttl_s; /* the longest lease it approves */
	char lease_id[JANEE_LEASE_ID_LEN]; /* the approval that made it */
	int64_t created_ms, expires_ms, ended_ms;
	int revoked;
	char *actor; /* who granted it */
	char *detail; /* why it ended */
};

void grant_free(struct grant *g);

int grant_id_new(char out[JANEE_LEASE_ID_LEN]) JANEE_WUR;
int grant_id_valid(const char *s);

/* Whether g holds at now (not revoked, not expired). */
int grant_live(const struct grant *g, int64_t now_ms);

/* Within the caller's transaction: a new grant; a lease under one. */
int grant_insert(struct ledger *lg, const struct grant *g) JANEE_WUR;
int grant_link(
    struct ledger *lg, const char *grant_id, const char *lease_id) JANEE_WUR;
/* Within the caller's transaction: live -> revoked; else JANEE_ERR_STATE. */
int grant_revoke(struct ledger *lg, const char *id, int64_t now_ms,
    const char *detail) JANEE_WUR;

/* JANEE_ERR_NOT_FOUND with a message when there is no such grant. */
int grant_load(struct ledger *lg, const char *id, struct grant *out) JANEE_WUR;

/*
 * The live grant of session for provider that covers a request: every
 * scope within its scopes; repositories within its repositories (none
 * asked only when it holds none: "no repositories" may mean "all" to a
 * provider); ttl_s no longer than its max_ttl_s.  0 with *out filled, or
 * JANEE_ERR_NOT_FOUND (no message) when none does.
 */
int
grant_find_cover(struct ledger *lg, const char *session, const char *provider,
    const struct janee_strlist *scopes, const struct janee_strlist *repos,
    int64_t ttl_s, int64_t now_ms, struct grant *out) JANEE_WUR;

struct grant_filter {
	int live_only; /* not revoked and not expired at now_ms */
	int64_t now_ms;
};

/* Stream grants, newest first; fn's non-zero return stops. */
int grant_each(struct ledger *lg, const struct grant_filter *f,
    int (*fn)(const struct grant *g, void *arg), void *arg) JANEE_WUR;

/*
 * The ids of provider's grants in force at now_ms (appended to ids),
 * oldest first: what ends with the provider (janee provider rm, logout).
 */
int grant_live_of_provider(struct ledger *lg, const char *provider,
    int64_t now_ms, struct janee_strlist *ids) JANEE_WUR;

/* The leases linked to a grant (appended to ids), oldest first. */
int grant_leases(struct ledger *lg, const char *grant_id,
    struct janee_strlist *ids) JANEE_WUR;

/* The grant a lease is linked to: 0, or JANEE_ERR_NOT_FOUND (no message). */
int grant_of_lease(struct ledger *lg, const char *lease_id,
    char out[JANEE_LEASE_ID_LEN]) JANEE_WUR;

#endif
