/*
 * `janee audit verify` and `audit head`: recompute the chain, check it
 * against the head in meta, the keyed checkpoint, a head written down
 * elsewhere (--expect) and every lease against its last event, all in
 * one read snapshot.
 */
#include "common.h"

#include <openssl/evp.h>

#include "audit-int.h"
#include "util.h"

#define HASH_LEN AUDIT_HASH_LEN

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/*
 * Keep the first finding.  "Found" is a non-empty why, not bad_seq != 0:
 * a row numbered 0 must not be mistaken for "nothing found yet".
 */
static void verify_bad(struct audit_verify *, int64_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
verify_bad(struct audit_verify *v, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	if (v->why[0] != '\0')
		return;
	v->bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
}

/* What the pass over the rows saw at the rows the checks name. */
struct seen {
	int64_t last; /* the last row's seq */
	char at_ckpt[2 * HASH_LEN + 1]; /* the chain's hash at that row */
	char at_expect[2 * HASH_LEN + 1];
};

/*
 * The keyed checkpoint, when this connection has the key.  It pins row
 * ck->seq to its hash: rows up to it cannot be rewritten or cut off
 * without the key, however consistently the unkeyed chain is rebuilt.
 */
static void
check_ckpt(struct ledger *lg, int keyed, struct audit_verify *v, int ck_rc,
    int found, const struct audit_ckpt *ck, int note, const struct seen *sn)
{
	v->unkeyed = sn->last;
	if (!keyed) {
		v->keyed = AUDIT_KEYED_UNCHECKED;
		return;
	}
	v->keyed = AUDIT_KEYED_BAD;
	if (ck_rc != 0) {
		verify_bad(v, 1,
		    "the keyed checkpoint is damaged: nothing proves "
		    "the chain was not rewritten");
		return;
	}
	if (!found) {
		if (note) {
			v->keyed = AUDIT_KEYED_PENDING;
			return;
		}
		verify_bad(v, 1,
		    "the keyed checkpoint is missing: it was removed, and "
		    "rows may have been rewritten or removed with it");
		return;
	}
	if (!audit_ckpt_authentic(lg, ck)) {
		verify_bad(v, ck->seq,
		    "the keyed checkpoint (row %lld) does not authenticate "
		    "under this store's key: it was forged, or copied from "
		    "another ledger",
		    (long long)ck->seq);
		return;
	}
	if (ck->seq > sn->last) {
		verify_bad(v, sn->last + 1,
		    "rows up to %lld, which the keyed checkpoint signed, "
		    "were removed: the chain was cut back or rolled back",
		    (long long)ck->seq);
		return;
	}
	if (strcmp(sn->at_ckpt, ck->hash) != 0) {
		verify_bad(v, ck->seq,
		    "its hash is not the one the keyed checkpoint signed: "
		    "rows up to it were rewritten");
		return;
	}
	v->keyed = AUDIT_KEYED_OK;
	v->ckpt_seq = ck->seq;
	v->ckpt_first = ck->first;
	v->unkeyed = sn->last - ck->seq;
}

/* --expect SEQ:HASH: a head written down elsewhere, earlier. */
static void
check_expect(struct audit_verify *v, const struct audit_verify_opts *o,
    const struct seen *sn)
{
	if (o->expect_seq <= 0)
		return;
	if (o->expect_seq > sn->last)
		verify_bad(v, sn->last + 1,
		    "the expected row %lld is gone: the chain was cut back "
		    "or rolled back",
		    (long long)o->expect_seq);
	else if (o->expect_hash == NULL ||
	    strcmp(sn->at_expect, o->expect_hash) != 0)
		verify_bad(v, o->expect_seq,
		    "its hash is not the one expected: the chain was "
		    "rewritten up to it");
}

int
audit_verify_with(struct ledger *lg, const struct audit_verify_opts *o,
    struct audit_verify *v)
{
	static const struct audit_verify_opts none;
	unsigned char prev[HASH_LEN], hash[HASH_LEN], stored[HASH_LEN],
	    head[HASH_LEN];
	char hex[2 * HASH_LEN + 1];
	const char *f[8], *s, *lease, *digest;
	struct audit_lease_pass lp;
	struct audit_ckpt ck;
	struct audit_day day;
	struct seen sn;
	sqlite3_stmt *st = NULL;
	EVP_MD_CTX *md = NULL;
	EVP_MD *sha256 = NULL;
	struct buf canon;
	int64_t seq, expect = 1, head_seq;
	int rc, step, i, began = 0, ck_rc, found = 0, note = 0;

	if (o == NULL)
		o = &none;
	memset(v, 0, sizeof(*v));
	memset(&sn, 0, sizeof(sn));
	memset(&day, 0, sizeof(day));
	memset(&lp, 0, sizeof(lp));
	memset(prev, 0, sizeof(prev));
	lp.now_ms = o->now_ms ? o->now_ms : janee_now_ms();
	/*
	 * The read transaction below is ours to end: inside a caller's, its
	 * BEGIN would fail and the ROLLBACK would undo the caller's work.
	 */
	if (!sqlite3_get_autocommit(lg->db))
		return janee_err_set(
		    JANEE_ERR_INTERNAL, "audit_verify inside a transaction");
	buf_init(&canon, 1 << 20);
	if ((md = EVP_MD_CTX_new()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if ((sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		rc = janee_err_set(JANEE_ERR_CRYPTO, "SHA-256 is unavailable");
		goto out;
	}
	/* One read transaction: a consistent snapshot under concurrent use. */
	if ((rc = ledger_exec(lg, "BEGIN")) != 0)
		goto out;
	began = 1;
	if ((rc = audit_head_get(lg, &head_seq, head)) != 0 ||
	    (rc = audit_unkeyed_note(lg, &note)) != 0)
		goto out;
	if ((ck_rc = audit_ckpt_read(lg, &ck, &found)) == JANEE_ERR_SCHEMA)
		janee_err_clear(); /* a finding, reported below */
	else if ((rc = ck_rc) != 0)
		goto out;
	if ((rc = ledger_prepare(lg,
		 "SELECT seq, ts_ms, event, actor, client, provider, "
		 "lease_id, scopes, outcome, detail, hash, lease, "
		 "lease_digest FROM audit ORDER BY seq",
		 &st)) != 0)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
		/*
		 * The encoding reads fields as C strings: bytes hidden after a
		 * NUL would not be covered by the hash, so such a field is an
		 * edit in itself (janee never writes one).
		 */
		for (i = 0; i < 11; i++) {
			s = col(st, 2 + i);
			if (i < 8)
				f[i] = s;
			if (s != NULL &&
			    (size_t)sqlite3_column_bytes(st, 2 + i) !=
				strlen(s))
				verify_bad(v, seq, "a field holds a NUL byte");
		}
		lease = col(st, 11);
		digest = col(st, 12);
		/* Every lease starts with one (src/broker.c). */
		if (f[0] != NULL && f[4] != NULL &&
		    strcmp(f[0], "requested") == 0)
			lp.requested++;
		/*
		 * seq is the primary key, read in order, so it can only fall
		 * short of expect on the first row, numbered 0 or less.  That
		 * row cannot be named by its seq (0 reads as "the chain
		 * holds"): name row 1, where the chain should start.
		 */
		if (seq > expect)
			verify_bad(v, seq, "a row before it is missing");
		else if (seq < expect)
			verify_bad(v, expect,
			    "a row numbered %lld was "
			    "inserted before it",
			    (long long)seq);
		if ((rc = audit_canon_row(&canon, &day, seq,
			 sqlite3_column_int64(st, 1), f, lease, digest)) != 0 ||
		    (rc = audit_chain_hash(md, sha256, prev, &canon, hash)) !=
			0)
			goto out;
		/*
		 * Compare in the form janee writes, lowercase hex: decoding
		 * the stored hash is needed only when it differs.
		 */
		janee_hex(hash, HASH_LEN, hex);
		s = col(st, 10);
		if (s != NULL && sqlite3_column_bytes(st, 10) == 2 * HASH_LEN &&
		    memcmp(s, hex, 2 * HASH_LEN) == 0)
			memcpy(prev, hash, HASH_LEN);
		else {
			verify_bad(v, seq,
			    "its content or position does not "
			    "match its hash");
			/* Chain on the stored hash: one edit is reported once. */
			if (audit_unhex(s, stored) == 0)
				memcpy(prev, stored, HASH_LEN);
			else
				memcpy(prev, hash, HASH_LEN);
		}
		/* What a checkpoint or --expect names: the chain's hash. */
		if (found && seq == ck.seq)
			janee_hex(prev, HASH_LEN, sn.at_ckpt);
		if (seq == o->expect_seq)
			janee_hex(prev, HASH_LEN, sn.at_expect);
		expect = seq + 1;
		v->rows++;
	}
	if (step != SQLITE_DONE) {
		rc = ledger_fail(lg, "cannot read the audit chain");
		goto out;
	}
	sn.last = expect - 1;
	/*
	 * The head catches what the chain cannot: rows cut off the end, or
	 * rows added after it with valid hashes.  Name the first row that
	 * differs from what the head records, not the last good one.
	 */
	if (expect - 1 < head_seq)
		verify_bad(v, expect,
		    "rows at the end of the chain were "
		    "removed");
	else if (expect - 1 > head_seq)
		verify_bad(v, head_seq + 1,
		    "rows were added after the "
		    "recorded head");
	else if (memcmp(head, prev, HASH_LEN) != 0)
		verify_bad(v, head_seq,
		    "the chain does not end at the "
		    "recorded head");
	check_ckpt(
	    lg, lg->audit_keyed && !o->no_key, v, ck_rc, found, &ck, note, &sn);
	check_expect(v, o, &sn);
	janee_hex(prev, HASH_LEN, v->head);
	rc = audit_verify_leases(lg, o, &lp, v);
out:
	sqlite3_finalize(st);
	if (began)
		ledger_rollback(lg); /* ends the read transaction */
	EVP_MD_CTX_free(md);
	EVP_MD_free(sha256);
	buf_free(&canon);
	return rc;
}

int
audit_verify(struct ledger *lg, struct audit_verify *v)
{
	return audit_verify_with(lg, NULL, v);
}

int
audit_head(struct ledger *lg, int64_t *seq, char hash[2 * HASH_LEN + 1])
{
	unsigned char h[HASH_LEN];
	sqlite3_stmt *st;
	const char *last;
	int rc, step;

	if ((rc = audit_head_get(lg, seq, h)) != 0)
		return rc;
	janee_hex(h, HASH_LEN, hash);
	if ((rc = ledger_prepare(lg,
		 "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
		 &st)) != 0)
		return rc;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		last = col(st, 1);
		if (sqlite3_column_int64(st, 0) != *seq || last == NULL ||
		    strcmp(last, hash) != 0)
			rc = janee_err_set(JANEE_ERR_TAMPERED,
			    "the audit chain's recorded head is not its last "
			    "row; run: janee audit verify");
	} else if (step == SQLITE_DONE) {
		if (*seq != 0)
			rc = janee_err_set(JANEE_ERR_TAMPERED,
			    "the audit chain's recorded head names row %lld "
			    "but the chain is empty; run: janee audit verify",
			    (long long)*seq);
	} else
		rc = ledger_fail(lg, "cannot read the audit chain");
	sqlite3_finalize(st);
	return rc;
}

int
audit_parse_head(const char *s, int64_t *seq, char hash[2 * HASH_LEN + 1])
{
	unsigned char tmp[HASH_LEN];
	const char *p = s;
	int64_t v = 0;
	int n = 0;

	while (*p >= '0' && *p <= '9' && n < 18) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0 || v == 0 || *p++ != ':' || strlen(p) != 2 * HASH_LEN ||
	    audit_unhex(p, tmp) != 0)
		return janee_err_set(JANEE_ERR_USAGE,
		    "'%.80s' is not a head as `janee audit head` prints it: "
		    "SEQ:HASH, a row number and 64 lowercase hex digits",
		    s);
	*seq = v;
	memcpy(hash, p, 2 * HASH_LEN + 1);
	return 0;
}
