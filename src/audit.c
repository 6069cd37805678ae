/* The audit chain: append, verify, filtered reads. */
#include "common.h"

#include <openssl/evp.h>

#include "audit-int.h"
#include "buf.h"
#include "util.h"

#define HASH_LEN AUDIT_HASH_LEN
#define HEAD_KEY "audit.head"

/*
 * Decimal digits of v, then `sep` (none when 0), into out (24 bytes);
 * returns the length.
 * Not printf: verify encodes ten numbers a row, and two vsnprintf calls
 * for each were a third of its time.
 */
size_t
audit_dec(int64_t v, char sep, char out[24])
{
	char tmp[20];
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	size_t n = 0, i = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		out[i++] = '-';
	while (n > 0)
		out[i++] = tmp[--n];
	if (sep != 0)
		out[i++] = sep;
	return i;
}

/*
 * The canonical encoding of a row: each field as "<len>:<bytes>," with a
 * NULL field as "-,", in a fixed order, the time in ISO 8601.  Lengths make
 * it unambiguous whatever the fields contain.  A row that records a lease
 * snapshot (schema 7) is "janee-audit-v2," with the snapshot and its
 * digest as a ninth and tenth field; one without is encoded as before, so
 * rows written before the snapshot existed keep their hashes, and no v1
 * encoding equals a v2 one.
 */
static int
canon_field(struct buf *b, const char *s)
{
	char num[24];
	size_t len;

	if (s == NULL)
		return buf_add(b, "-,", 2);
	len = strlen(s);
	if (buf_add(b, num, audit_dec((int64_t)len, ':', num)) != 0 ||
	    buf_add(b, s, len) != 0)
		return JANEE_ERR_NOMEM;
	return buf_add(b, ",", 1);
}

/* v as n decimal digits into p. */
static char *
digits(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
	return p;
}

/*
 * janee_time_fmt, for the chain: rows come in time order, so the date is
 * worked out once a day (days to civil date as in H. Hinnant, "chrono-
 * Compatible Low-Level Date Algorithms") and only the time of day for
 * each row; formatting the time was a tenth of verify.  The bytes are
 * janee_time_fmt's (tests/unit/test-audit.c compares them); times it
 * would not print as a date go to it.
 */
void
audit_time_fmt(struct audit_day *d, int64_t ms, char out[JANEE_TIME_LEN])
{
	int64_t day, z, era, doe, yoe, doy, mp, y;
	unsigned rem;

	/*
	 * Outside 0000-01-01 to 9999-12-31 janee_time_fmt writes
	 * "invalid-time"; said here, since it would overflow near INT64_MIN
	 * (a ts_ms someone set in the ledger).  Before 1970 it formats.
	 */
	if (ms < -62167219200000LL || ms >= 253402300800000LL) {
		snprintf(out, JANEE_TIME_LEN, "invalid-time");
		return;
	}
	if (ms < 0) {
		janee_time_fmt(ms, out);
		return;
	}
	day = ms / 86400000;
	rem = (unsigned)(ms % 86400000);
	if (!d->valid || d->day != day) {
		z = day + 719468;
		era = z / 146097;
		doe = z - era * 146097;
		yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
		y = yoe + era * 400;
		doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
		mp = (5 * doy + 2) / 153;
		digits(
		    d->date + 8, (unsigned)(doy - (153 * mp + 2) / 5 + 1), 2);
		mp = mp < 10 ? mp + 3 : mp - 9;
		y += mp <= 2;
		digits(d->date, (unsigned)y, 4);
		digits(d->date + 5, (unsigned)mp, 2);
		d->date[4] = d->date[7] = '-';
		d->date[10] = 'T';
		d->day = day;
		d->valid = 1;
	}
	memcpy(out, d->date, 11);
	digits(out + 11, rem / 3600000, 2);
	out[13] = ':';
	digits(out + 14, rem / 60000 % 60, 2);
	out[16] = ':';
	digits(out + 17, rem / 1000 % 60, 2);
	out[19] = '.';
	digits(out + 20, rem % 1000, 3);
	out[23] = 'Z';
	out[24] = '\0';
}

int
audit_canon_row(struct buf *b, struct audit_day *d, int64_t seq, int64_t ts_ms,
    const char *const f[8], const char *lease, const char *digest)
{
	char ts[JANEE_TIME_LEN], num[24];
	int i, rc;

	audit_time_fmt(d, ts_ms, ts);
	buf_reset(b);
	if ((rc = buf_add(
		 b, lease ? "janee-audit-v2," : "janee-audit-v1,", 15)) != 0 ||
	    (rc = buf_add(b, num, audit_dec(seq, ',', num))) != 0 ||
	    (rc = canon_field(b, ts)) != 0)
		return rc;
	for (i = 0; i < 8; i++)
		if ((rc = canon_field(b, f[i])) != 0)
			return rc;
	if (lease == NULL)
		return 0;
	if ((rc = canon_field(b, lease)) != 0)
		return rc;
	return canon_field(b, digest);
}

/*
 * sha256 is fetched once with EVP_MD_fetch by the caller, not
 * EVP_sha256(): OpenSSL 3 looks that up again, under a lock, on every
 * init (the "Performance" section of crypto(7)).
 */
int
audit_chain_hash(EVP_MD_CTX *md, const EVP_MD *sha256,
    const unsigned char prev[HASH_LEN], const struct buf *canon,
    unsigned char out[HASH_LEN])
{
	unsigned int n;

	if (EVP_DigestInit_ex(md, sha256, NULL) != 1 ||
	    EVP_DigestUpdate(md, prev, HASH_LEN) != 1 ||
	    EVP_DigestUpdate(md, canon->p, canon->len) != 1 ||
	    EVP_DigestFinal_ex(md, out, &n) != 1)
		return janee_err_set(JANEE_ERR_CRYPTO, "SHA-256 failed");
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Lowercase hex only: the form janee writes. */
int
audit_unhex(const char *s, unsigned char out[HASH_LEN])
{
	size_t i;
	int hi, lo;

	if (s == NULL || strlen(s) != 2 * HASH_LEN)
		return -1;
	for (i = 0; i < HASH_LEN; i++) {
		if ((hi = hexval(s[2 * i])) < 0 ||
		    (lo = hexval(s[2 * i + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* The head is "<seq>:<hex hash>"; absent means an empty chain. */
int
audit_head_get(struct ledger *lg, int64_t *seq, unsigned char hash[HASH_LEN])
{
	char *v = NULL, hex[2 * HASH_LEN + 1];
	size_t len;
	long long s = 0;
	int rc;

	rc = ledger_meta_get(lg, HEAD_KEY, (void **)&v, &len);
	if (rc == JANEE_ERR_NOT_FOUND) {
		*seq = 0;
		memset(hash, 0, HASH_LEN);
		return 0;
	}
	if (rc != 0)
		return rc;
	if (sscanf(v, "%lld:%64s", &s, hex) != 2 || audit_unhex(hex, hash) != 0)
		rc = janee_err_set(JANEE_ERR_SCHEMA,
		    "ledger '%s': the audit head is damaged; run: janee audit verify",
		    lg->path);
	*seq = s;
	free(v);
	return rc;
}

int
audit_appender_init(struct ledger *lg, struct audit_appender *a)
{
	int rc;

	memset(a, 0, sizeof(*a));
	a->lg = lg;
	buf_init(&a->canon, 1 << 20);
	buf_init(&a->snap, 1 << 20);
	buf_init(&a->snapper.canon, 1 << 20);
	if (sqlite3_get_autocommit(lg->db))
		return janee_err_set(
		    JANEE_ERR_INTERNAL, "audit_append outside a transaction");
	if ((rc = audit_snapper_init(&a->snapper)) != 0)
		return rc;
	if ((a->md = EVP_MD_CTX_new()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if ((a->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return janee_err_set(
		    JANEE_ERR_CRYPTO, "SHA-256 is unavailable");
	if ((rc = audit_head_get(lg, &a->seq, a->prev)) != 0 ||
	    (rc = audit_seal_begin(lg, a->seq, &a->seal, &a->seal_first,
		 &a->unkeyed_note)) != 0 ||
	    (rc = audit_snap_prepare(lg, &a->lease)) != 0)
		return rc;
	return ledger_prepare(lg,
	    "INSERT INTO audit (seq, ts_ms, event, actor, client, provider, "
	    "lease_id, scopes, outcome, detail, hash, lease, lease_digest) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    &a->insert);
}

int
audit_appender_add(struct audit_appender *a, const struct audit_event *ev)
{
	unsigned char hash[HASH_LEN];
	char hex[2 * HASH_LEN + 1];
	const char *f[8] = { ev->event, ev->actor, ev->client, ev->provider,
		ev->lease_id, ev->scopes, ev->outcome, ev->detail };
	sqlite3_stmt *st = a->insert;
	const char *lease = NULL, *digest = NULL;
	int64_t seq = a->seq + 1, ts;
	int rc, i, found = 0;

	if (st == NULL || sqlite3_get_autocommit(a->lg->db))
		return janee_err_set(
		    JANEE_ERR_INTERNAL, "audit_append outside a transaction");
	ts = ev->ts_ms ? ev->ts_ms : janee_now_ms();
	/* The lease as this transaction leaves it (the broker wrote it). */
	if (ev->lease_id != NULL &&
	    (rc = audit_snap_take(a->lg, &a->snapper, a->lease, ev->lease_id,
		 &a->snap, &found)) != 0)
		return rc;
	/* "WORDS DIGEST": the words, and the digest in a column of its own. */
	if (found && a->snap.len > AUDIT_DIGEST_HEX + 1) {
		lease = a->snap.p;
		digest = a->snap.p + a->snap.len - AUDIT_DIGEST_HEX;
		a->snap.p[a->snap.len - AUDIT_DIGEST_HEX - 1] = '\0';
	}
	if ((rc = audit_canon_row(
		 &a->canon, &a->day, seq, ts, f, lease, digest)) != 0 ||
	    (rc = audit_chain_hash(
		 a->md, a->sha256, a->prev, &a->canon, hash)) != 0)
		return rc;
	janee_hex(hash, HASH_LEN, hex);
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, ts);
	for (i = 0; i < 8; i++)
		sqlite3_bind_text(st, 3 + i, f[i], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, lease, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, digest, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE
	    ? 0
	    : ledger_fail(a->lg, "cannot append to the audit chain");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != 0 || (rc = audit_witness_add(a->lg, seq, hex, ev)) != 0)
		return rc;
	a->seq = seq;
	memcpy(a->prev, hash, HASH_LEN);
	a->dirty = 1;
	return 0;
}

int
audit_appender_finish(struct audit_appender *a)
{
	char hex[2 * HASH_LEN + 1], head[2 * HASH_LEN + 32];
	int rc;

	if (!a->dirty)
		return 0;
	janee_hex(a->prev, HASH_LEN, hex);
	snprintf(head, sizeof(head), "%lld:%s", (long long)a->seq, hex);
	if ((rc = ledger_meta_set(a->lg, HEAD_KEY, head, strlen(head))) != 0)
		return rc;
	/* The new head under the key, in the same transaction. */
	if (a->seal &&
	    (rc = audit_seal_write(a->lg,
		 a->seal_first ? a->seal_first : a->seq, a->seq, a->prev,
		 a->unkeyed_note)) != 0)
		return rc;
	if (a->seal && a->seal_first == 0)
		a->seal_first = a->seq;
	a->unkeyed_note = 0;
	a->dirty = 0;
	return 0;
}

void
audit_appender_free(struct audit_appender *a)
{
	sqlite3_finalize(a->insert);
	sqlite3_finalize(a->lease);
	EVP_MD_CTX_free(a->md);
	EVP_MD_free(a->sha256);
	buf_free(&a->canon);
	buf_free(&a->snap);
	audit_snapper_free(&a->snapper);
	memset(a, 0, sizeof(*a));
}

int
audit_append(struct ledger *lg, const struct audit_event *ev)
{
	struct audit_appender a;
	int rc;

	if ((rc = audit_appender_init(lg, &a)) == 0 &&
	    (rc = audit_appender_add(&a, ev)) == 0)
		rc = audit_appender_finish(&a);
	audit_appender_free(&a);
	return rc;
}

int
audit_record(struct ledger *lg, const struct audit_event *ev)
{
	int rc;

	if ((rc = ledger_begin(lg)) != 0)
		return rc;
	if ((rc = audit_append(lg, ev)) != 0) {
		ledger_rollback(lg);
		return rc;
	}
	return ledger_commit(lg);
}

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

void
audit_filter_init(struct audit_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->since_ms = INT64_MIN;
	f->until_ms = INT64_MAX;
}

#define AUDIT_SELECT \
	"SELECT seq, ts_ms, event, actor, client, provider, lease_id, " \
	"scopes, outcome, detail, hash, lease || ' ' || lease_digest " \
	"FROM audit "
#define AUDIT_WHERE(ts) \
	"WHERE " ts " >= ?1 AND " ts " < ?2 " \
	"AND (?3 IS NULL OR provider = ?3) AND (?4 IS NULL OR event = ?4) " \
	"AND (?5 IS NULL OR lease_id = ?5) "
#define AUDIT_ALL(ts) AUDIT_SELECT AUDIT_WHERE(ts) "ORDER BY seq"
#define AUDIT_DESC(ts) AUDIT_SELECT AUDIT_WHERE(ts) "ORDER BY seq DESC LIMIT ?6"
#define AUDIT_NEWEST(ts) "SELECT * FROM (" AUDIT_DESC(ts) ") ORDER BY seq"

int
audit_each(struct ledger *lg, const struct audit_filter *f,
    int (*fn)(const struct audit_row *row, void *arg), void *arg)
{
	struct audit_row r;
	sqlite3_stmt *st;
	const char *sql;
	int rc = 0, step;

	/*
	 * With a limit, take the newest rows (a subquery), still printed
	 * oldest first.  Filters on NULL parameters match everything.
	 *
	 * Without a time filter, keep SQLite off the ts_ms index ("+ts_ms"
	 * cannot use it): through the index, ORDER BY seq sorts every row
	 * before the first comes out, spilling to temporary files (for 1M
	 * rows, two of 170 MB in /var/tmp, written and read back); walking
	 * the table in seq order needs no sort at all.
	 */
	if (f->since_ms != INT64_MIN || f->until_ms != INT64_MAX)
		sql = f->limit > 0 ? AUDIT_NEWEST("ts_ms") : AUDIT_ALL("ts_ms");
	else if (f->limit > 0)
		sql = AUDIT_NEWEST("+ts_ms");
	else
		sql = AUDIT_ALL("+ts_ms");
	if ((rc = ledger_prepare(lg, sql, &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, f->since_ms);
	sqlite3_bind_int64(st, 2, f->until_ms);
	sqlite3_bind_text(st, 3, f->provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, f->event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, f->lease_id, -1, SQLITE_STATIC);
	if (f->limit > 0)
		sqlite3_bind_int64(st, 6, f->limit);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		r.seq = sqlite3_column_int64(st, 0);
		r.ts_ms = sqlite3_column_int64(st, 1);
		r.event = col(st, 2);
		r.actor = col(st, 3);
		r.client = col(st, 4);
		r.provider = col(st, 5);
		r.lease_id = col(st, 6);
		r.scopes = col(st, 7);
		r.outcome = col(st, 8);
		r.detail = col(st, 9);
		r.hash = col(st, 10);
		r.lease = col(st, 11);
		if ((rc = fn(&r, arg)) != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = ledger_fail(lg, "cannot read the audit chain");
	sqlite3_finalize(st);
	return rc;
}

const char *const audit_event_names[] = { "requested", "approved", "denied",
	"minting", "issued", "mint_failed", "expired", "revoked",
	"revoke_failed", "irrevocable", "reconciled", "reconcile_failed",
	"orphaned", "login", "login_broken", "logout", "secret_set",
	"secret_rm", "secret_rekey", "secret_resolved", "init", "export",
	"session_granted", "session_grant_revoked", "unlock", "lock",
	"api_call", "agent_added", "agent_rotated", "agent_removed",
	"agent_token", NULL };

int
audit_event_known(const char *name)
{
	size_t i;

	for (i = 0; audit_event_names[i] != NULL; i++)
		if (strcmp(audit_event_names[i], name) == 0)
			return 1;
	return 0;
}
