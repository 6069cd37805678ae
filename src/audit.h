/*
 * The audit chain: append-only events, each row carrying
 * SHA-256(previous row's hash || canonical encoding of this row).
 * Triggers refuse UPDATE and DELETE; `janee audit verify` recomputes the
 * chain and compares it with the head recorded in meta, so an edited,
 * deleted, inserted, reordered or truncated row is found.
 *
 * That chain is unkeyed: whoever can write the file can recompute it.
 * Three things go further (docs/SECURITY.md, "The audit trail's threat
 * model"):
 *   - keyed checkpoints (src/audit-seal.c): an HMAC-SHA256 of the head
 *     under a key derived from the store's data key, moved forward by
 *     every append of a process that has the key;
 *   - lease snapshots (src/audit-lease.c): a row that names a lease
 *     records the lease's row as it stands in the same transaction, and
 *     verify compares every lease with its last event;
 *   - a witness outside the home (src/audit-witness.c): each committed
 *     event's seq and hash to syslog, when config.json asks for it.
 */
#ifndef JANEE_AUDIT_H
#define JANEE_AUDIT_H

#include "common.h"

#include "buf.h"
#include "ledger.h"

/* OpenSSL's EVP_MD_CTX and EVP_MD, without its headers. */
struct evp_md_ctx_st;
struct evp_md_st;

struct audit_event {
	int64_t ts_ms; /* 0: now */
	const char *event; /* requested, approved, issued, ... */
	const char *actor; /* user, agent, janee */
	const char *client;
	const char *provider;
	const char *lease_id;
	const char *scopes; /* normalized JSON array */
	const char *outcome; /* ok, denied, error */
	const char *detail; /* never a secret */
};

/*
 * Append one event.  Must run inside the caller's write transaction
 * (ledger_begin), so that the event commits with the change it records
 * or not at all.
 */
int audit_append(struct ledger *lg, const struct audit_event *ev) JANEE_WUR;

/*
 * Many events in one write transaction: the INSERT stays prepared and the
 * chain's head stays in memory between events, and is written to meta
 * once, by audit_appender_finish, which must run before the transaction
 * commits.  audit_append is an appender around a single event; the rows
 * and the head are the same either way.
 *
 *   ledger_begin; audit_appender_init; audit_appender_add...;
 *   audit_appender_finish; ledger_commit; audit_appender_free
 *
 * audit_appender_free releases what init took (also after a failure).
 */
/* What taking lease snapshots needs, made once (src/audit-lease.c). */
struct audit_snapper {
	struct evp_md_ctx_st *md;
	struct evp_md_st *sha256;
	struct buf canon; /* the fields the digest covers */
};

/* The date of the last time formatted, for the next (src/audit.c). */
struct audit_day {
	int64_t day;
	int valid;
	char date[12]; /* "YYYY-MM-DDT" */
};

struct audit_appender {
	struct ledger *lg;
	sqlite3_stmt *insert;
	sqlite3_stmt *lease; /* the lease row an event names */
	struct evp_md_ctx_st *md; /* OpenSSL's EVP_MD_CTX */
	struct evp_md_st *sha256; /* EVP_MD, fetched once */
	struct buf canon;
	struct audit_day day;
	struct audit_snapper snapper;
	struct buf snap; /* a lease snapshot */
	int64_t seq; /* of the last row appended */
	unsigned char prev[32]; /* its hash */
	int dirty; /* rows appended since the head was written */
	int seal; /* move the keyed checkpoint to the new head */
	int64_t seal_first; /* the first checkpoint's row; 0: this one */
	int unkeyed_note; /* the ledger's "predates checkpoints" note */
};

int audit_appender_init(struct ledger *lg, struct audit_appender *a) JANEE_WUR;
int audit_appender_add(
    struct audit_appender *a, const struct audit_event *ev) JANEE_WUR;
int audit_appender_finish(struct audit_appender *a) JANEE_WUR;
void audit_appender_free(struct audit_appender *a);

/* Append one event in a transaction of its own. */
int audit_record(struct ledger *lg, const struct audit_event *ev) JANEE_WUR;

/*
 * The store's key for this connection's checkpoints, derived from the
 * data key (store_derive_key, "audit-checkpoint").  store_unlock and
 * store_create call it; ledger_close wipes the key.
 */
struct store;
int audit_key_use(struct ledger *lg, struct store *s) JANEE_WUR;

/* What verify could say about the keyed checkpoint. */
enum audit_keyed {
	AUDIT_KEYED_UNCHECKED, /* no key on this connection */
	AUDIT_KEYED_OK, /* it authenticates and the chain holds its row */
	AUDIT_KEYED_PENDING, /* none yet: the chain predates them */
	AUDIT_KEYED_BAD, /* missing, forged or not in the chain: see why */
};

struct audit_verify_opts {
	/* --expect SEQ:HASH: the chain must hold row expect_seq with this
	 * hash (64 lowercase hex digits); expect_seq 0: no expectation. */
	int64_t expect_seq;
	const char *expect_hash;
	int64_t now_ms; /* 0: now */
	int no_key; /* as if the connection had no key (--no-key) */
	/* Told of each lease that differs from its last audit event. */
	void (*lease_bad)(
	    void *arg, const char *lease_id, int64_t seq, const char *what);
	void *arg;
};

struct audit_verify {
	int64_t rows; /* rows checked */
	int64_t bad_seq; /* first bad row, 0 when the chain holds;
				 * rows numbered below 1 are reported at 1 */
	char why[192]; /* what is wrong with it */
	char head[65]; /* hash of the last row */
	enum audit_keyed keyed;
	int64_t ckpt_seq; /* the keyed checkpoint's row (0: none) */
	int64_t ckpt_first; /* the row of the first checkpoint there was */
	int64_t unkeyed; /* rows after the checkpoint: only hash-chained */
	int64_t leases; /* lease rows compared with their events */
	int leases_summed; /* all at once, by keyed sums (audit-lease.c) */
	int64_t lease_bad; /* of which differ (each told to lease_bad) */
};

/*
 * Recompute the chain, check the keyed checkpoint (when the connection
 * has the key), the expected row, and every lease against its last
 * event, in one read snapshot.  0 with bad_seq == 0 and lease_bad == 0
 * when everything holds; findings are not errors.
 */
int audit_verify_with(struct ledger *lg, const struct audit_verify_opts *o,
    struct audit_verify *out) JANEE_WUR;
/* The same with no expectation and no lease callback. */
int audit_verify(struct ledger *lg, struct audit_verify *out) JANEE_WUR;

/*
 * The head as recorded: its seq (0: empty chain) and hash (64 hex
 * digits, all zero for an empty chain); JANEE_ERR_TAMPERED when meta's
 * head and the last row disagree.
 */
int audit_head(struct ledger *lg, int64_t *seq, char hash[65]) JANEE_WUR;

/*
 * Parse "SEQ:HASH" as `audit head` prints it (hash in lowercase hex);
 * JANEE_ERR_USAGE with a message otherwise.
 */
int audit_parse_head(const char *s, int64_t *seq, char hash[65]) JANEE_WUR;

/*
 * The witness: send each committed event (seq, hash, event, lease,
 * provider, outcome, ledger; never a detail, client, scope or token) to
 * syslog(3), facility authpriv.  audit_witness_end is ledger.c's: it
 * sends what the transaction appended on commit, drops it on rollback.
 */
int audit_witness_syslog(struct ledger *lg) JANEE_WUR;
void audit_witness_end(struct ledger *lg, int committed);
void audit_witness_free(struct ledger *lg);
/* The line for one event, as sent; for tests.  Truncated to n. */
void audit_witness_line(const char *ledger, int64_t seq, const char *hash,
    const struct audit_event *ev, char *out, size_t n);

/* Filters shared by `audit list` and `audit export`. */
struct audit_filter {
	int64_t since_ms; /* INT64_MIN: none */
	int64_t until_ms; /* INT64_MAX: none */
	const char *provider;
	const char *event;
	const char *lease_id;
	int64_t limit; /* 0: no limit; newest rows when set */
};

void audit_filter_init(struct audit_filter *f);

/* A row as read back; strings valid until the next step. */
struct audit_row {
	int64_t seq;
	int64_t ts_ms;
	const char *event, *actor, *client, *provider, *lease_id, *scopes,
	    *outcome, *detail, *hash;
	const char *lease; /* the lease snapshot, or NULL */
};

/*
 * A lease snapshot as a JSON object (for `audit list --json`): each
 * field by its name, numbers as numbers, scope lists as arrays.  NULL
 * when s is NULL or not a snapshot.
 */
struct cJSON;
struct cJSON *audit_lease_json(const char *s);

/*
 * Stream the rows that match f in sequence order, calling fn for each;
 * a non-zero return from fn stops and is returned.  Memory stays flat.
 */
int audit_each(struct ledger *lg, const struct audit_filter *f,
    int (*fn)(const struct audit_row *row, void *arg), void *arg) JANEE_WUR;

/*
 * Every event name janee writes, NULL-terminated: `--event` filters are
 * checked against it, so that a typo is an error with a suggestion
 * rather than an empty listing.
 */
extern const char *const audit_event_names[];
int audit_event_known(const char *name);

#endif
