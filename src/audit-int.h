/*
 * What the audit chain's files share (src/audit.c, audit-seal.c,
 * audit-lease.c, audit-witness.c); not for other modules.
 */
#ifndef JANEE_AUDIT_INT_H
#define JANEE_AUDIT_INT_H

#include "common.h"

#include "audit.h"
#include "buf.h"
#include "ledger.h"
#include "util.h"

#define AUDIT_HASH_LEN 32
#define AUDIT_HEX_LEN (2 * AUDIT_HASH_LEN)
/* A lease snapshot's digest: 128 bits as hex (src/audit-lease.c). */
#define AUDIT_DIGEST_HEX 32

/* Lowercase hex of AUDIT_HASH_LEN bytes only (the form janee writes). */
int audit_unhex(const char *s, unsigned char out[AUDIT_HASH_LEN]);

/* --- the chain (audit.c) -------------------------------------------- */

/* Decimal digits of v, then `sep` (none when 0), into out; the length. */
size_t audit_dec(int64_t v, char sep, char out[24]);

struct evp_md_ctx_st;
struct evp_md_st;

/* janee_time_fmt, with the date worked out once a day (zero it first). */
void audit_time_fmt(struct audit_day *d, int64_t ms, char out[JANEE_TIME_LEN]);
/*
 * Row seq's canonical encoding into b; lease (and its digest) NULL for a
 * row with no snapshot.
 */
int
audit_canon_row(struct buf *b, struct audit_day *d, int64_t seq, int64_t ts_ms,
    const char *const f[8], const char *lease, const char *digest) JANEE_WUR;
/* SHA-256(prev || canon) into out; sha256 fetched by the caller. */
int audit_chain_hash(struct evp_md_ctx_st *md, const struct evp_md_st *sha256,
    const unsigned char prev[AUDIT_HASH_LEN], const struct buf *canon,
    unsigned char out[AUDIT_HASH_LEN]) JANEE_WUR;
/* meta's head: seq 0 and zero bytes for an empty chain. */
int audit_head_get(struct ledger *lg, int64_t *seq,
    unsigned char hash[AUDIT_HASH_LEN]) JANEE_WUR;

/* --- keyed checkpoints (audit-seal.c) ------------------------------- */

/*
 * meta "audit.checkpoint" = "FIRST:SEQ:HASH:MAC": the head SEQ:HASH
 * signed with HMAC-SHA256 under the checkpoint key, and FIRST, the row
 * of the first checkpoint this chain had (1 for a chain keyed from its
 * start), which every later one carries over under the MAC.
 */
struct audit_ckpt {
	int64_t first, seq;
	char hash[AUDIT_HEX_LEN + 1];
	char mac[AUDIT_HEX_LEN + 1];
};

/* Read it: *found 0 when there is none; JANEE_ERR_SCHEMA when damaged. */
int
audit_ckpt_read(struct ledger *lg, struct audit_ckpt *c, int *found) JANEE_WUR;
/* Whether its MAC is right under lg's key (which must be set). */
int audit_ckpt_authentic(struct ledger *lg, const struct audit_ckpt *c);
/* Whether meta holds the "predates keyed checkpoints" note. */
int audit_unkeyed_note(struct ledger *lg, int *present) JANEE_WUR;

/*
 * For an appender on lg (in its transaction, head at head_seq): whether
 * it may move the checkpoint forward (*seal), the first checkpoint's row
 * to carry (*first, 0 when this is the first) and whether the note is
 * there to remove (*note).  It may not when a checkpoint is there but
 * does not hold, or none is there where one should be: that stays for
 * `audit verify` to report, and janee says so once on stderr.
 */
int audit_seal_begin(struct ledger *lg, int64_t head_seq, int *seal,
    int64_t *first, int *note) JANEE_WUR;
/* Sign head seq:hash (and first) into meta; drop the note when asked. */
int audit_seal_write(struct ledger *lg, int64_t first, int64_t seq,
    const unsigned char hash[AUDIT_HASH_LEN], int drop_note) JANEE_WUR;

/* --- lease snapshots (audit-lease.c) -------------------------------- */

int audit_snapper_init(struct audit_snapper *sn) JANEE_WUR;
void audit_snapper_free(struct audit_snapper *sn);

/* The statement that reads a lease row for its snapshot. */
int audit_snap_prepare(struct ledger *lg, sqlite3_stmt **st) JANEE_WUR;
/*
 * The snapshot of lease `id` as it stands, into out (reset first);
 * *found 0 (and out empty) when there is no such row.
 */
int audit_snap_take(struct ledger *lg, struct audit_snapper *sn,
    sqlite3_stmt *st, const char *id, struct buf *out, int *found) JANEE_WUR;

/* State carried from verify's pass over the chain to its lease pass. */
struct audit_lease_pass {
	int64_t requested; /* "requested" events that name a lease */
	int64_t now_ms;
};

/* Compare every lease with its last event (inside verify's snapshot). */
int audit_verify_leases(struct ledger *lg, const struct audit_verify_opts *o,
    const struct audit_lease_pass *p, struct audit_verify *v) JANEE_WUR;

/* --- the witness (audit-witness.c) ---------------------------------- */

/* Queue row seq's line for the commit, when lg has a witness. */
int audit_witness_add(struct ledger *lg, int64_t seq, const char *hash,
    const struct audit_event *ev) JANEE_WUR;

#endif
