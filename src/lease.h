/*
 * Lease rows and the lease state machine.  The transitions are defined
 * here, once; only the broker calls lease_save, which refuses an illegal
 * transition and one that lost a race (the row's state changed meanwhile).
 *
 *   requested -> approved | denied
 *   approved  -> minting | denied
 *   minting   -> active | failed | orphaned
 *   active    -> expired | revoked | irrevocable
 *
 * orphaned: janee died while minting and the provider cannot say that no
 * token of the lease is left live; expires_ms then says until when one
 * may be (0: until its own, unknown, expiry).
 */
#ifndef JANEE_LEASE_H
#define JANEE_LEASE_H

#include "common.h"

#include "ledger.h"
#include "util.h"

enum lease_state {
	LEASE_REQUESTED,
	LEASE_APPROVED,
	LEASE_DENIED,
	LEASE_MINTING,
	LEASE_ACTIVE,
	LEASE_FAILED,
	LEASE_EXPIRED,
	LEASE_REVOKED,
	LEASE_IRREVOCABLE,
	LEASE_ORPHANED,
	LEASE_NSTATES
};

const char *lease_state_name(enum lease_state s);
int lease_state_parse(const char *name, enum lease_state *out) JANEE_WUR;
int lease_transition_ok(enum lease_state from, enum lease_state to);
int lease_state_final(enum lease_state s);

struct lease {
	char id[JANEE_LEASE_ID_LEN];
	char *provider, *account, *client, *session, *reason;
	/* The verified remote agent that asked (team mode), or NULL: a
	 * local client.  client is what the client says of itself. */
	char *agent;
	char *requested; /* normalized JSON array */
	char *granted; /* normalized JSON array, once issued */
	char *repositories; /* resources asked for (JSON array), or NULL */
	char *fingerprint; /* HMAC-SHA256 hex of the token (its primary) */
	/* "PART FINGERPRINT" of its other secret parts: lease_save records
	 * them when they are set (write only). */
	struct janee_strlist part_fps;
	char *detail;
	enum lease_state state;
	int64_t ttl_s;
	int64_t created_ms, approved_ms, issued_ms, expires_ms, ended_ms;
	int64_t minting_ms; /* when the provider was asked (set on entry) */
	int64_t token_expires_ms; /* the provider's own expiry, when said */
	int64_t attempts, next_attempt_ms;
	unsigned char *sealed; /* the token, sealed, while revocable */
	size_t sealed_len;
};

void lease_free(struct lease *l);
int lease_set_str(char **field, const char *v) JANEE_WUR;

/* Insert a new lease (state requested); within the caller's transaction. */
int lease_insert(struct ledger *lg, const struct lease *l) JANEE_WUR;

/* JANEE_ERR_NOT_FOUND with a message when there is no such lease. */
int lease_load(struct ledger *lg, const char *id, struct lease *out) JANEE_WUR;

/*
 * Write l's mutable fields, moving the row from `from` to l->state, and
 * the fingerprints of l->part_fps.  The update only matches a row still
 * in `from`; otherwise JANEE_ERR_STATE.  Within the caller's transaction.
 */
int lease_save(
    struct ledger *lg, const struct lease *l, enum lease_state from) JANEE_WUR;

/* An orphaned lease whose token may still be live at `now`. */
int lease_may_be_live(const struct lease *l, int64_t now);

/*
 * Take an active lease for revocation: move its next attempt from due_ms
 * to until, only if nobody moved it since it was read (one statement, so
 * it is atomic); JANEE_ERR_STATE when another process got there first.
 */
int lease_claim(
    struct ledger *lg, const char *id, int64_t due_ms, int64_t until) JANEE_WUR;

struct lease_filter {
	/*
	 * requested, approved, minting, active, and orphaned while its token
	 * may still be live
	 */
	int active_only;
	const char *provider;
	const char *fingerprint; /* of the token, or of any secret part */
	const char *session; /* one MCP session's leases */
	int requested_only; /* waiting for approval */
};

/* Stream matching leases, newest first; fn's non-zero return stops. */
int lease_each(struct ledger *lg, const struct lease_filter *f,
    int (*fn)(const struct lease *l, void *arg), void *arg) JANEE_WUR;

/* Scopes as a normalized JSON array string; caller frees. */
char *lease_scopes_json(const struct janee_strlist *scopes);
/* The reverse: a JSON array of strings into l (appended). */
int lease_scopes_parse(const char *json, struct janee_strlist *l) JANEE_WUR;

#endif
