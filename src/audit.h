/*
 * The audit chain: append-only events, each row carrying
 * SHA-256(previous row's hash || canonical encoding of this row).
 * Triggers refuse UPDATE and DELETE; `janee audit verify` recomputes the
 * chain and compares it with the head recorded in meta, so an edited,
 * deleted, inserted, reordered or truncated row is found.
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
struct audit_appender {
	struct ledger *lg;
	sqlite3_stmt *insert;
	struct evp_md_ctx_st *md; /* OpenSSL's EVP_MD_CTX */
	struct evp_md_st *sha256; /* EVP_MD, fetched once */
	struct buf canon;
	int64_t seq; /* of the last row appended */
	unsigned char prev[32]; /* its hash */
	int dirty; /* rows appended since the head was written */
};

int audit_appender_init(struct ledger *lg, struct audit_appender *a) JANEE_WUR;
int audit_appender_add(
    struct audit_appender *a, const struct audit_event *ev) JANEE_WUR;
int audit_appender_finish(struct audit_appender *a) JANEE_WUR;
void audit_appender_free(struct audit_appender *a);

/* Append one event in a transaction of its own. */
int audit_record(struct ledger *lg, const struct audit_event *ev) JANEE_WUR;

struct audit_verify {
	int64_t rows; /* rows checked */
	int64_t bad_seq; /* first bad row, 0 when the chain holds;
				 * rows numbered below 1 are reported at 1 */
	char why[160]; /* what is wrong with it */
	char head[65]; /* hash of the last row */
};

/* Recompute the chain.  0 with bad_seq == 0 when it holds. */
int audit_verify(struct ledger *lg, struct audit_verify *out) JANEE_WUR;

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
};

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
