/* The audit chain: append, verify, filtered reads. */
#include "common.h"

#include <openssl/evp.h>

#include "audit.h"
#include "buf.h"
#include "util.h"

#define HASH_LEN 32
#define HEAD_KEY "audit.head"

/*
 * Decimal digits of v, then `sep`, into out (24 bytes); returns the length.
 * Not printf: verify encodes ten numbers a row, and two vsnprintf calls
 * for each were a third of its time.
 */
static size_t
fmt_dec(int64_t v, char sep, char out[24])
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
	out[i++] = sep;
	return i;
}

/*
 * The canonical encoding of a row: each field as "<len>:<bytes>," with a
 * NULL field as "-,", in a fixed order, the time in ISO 8601.  Lengths make
 * it unambiguous whatever the fields contain.
 */
static int
canon_field(struct buf *b, const char *s)
{
	char num[24];
	size_t len;

	if (s == NULL)
		return buf_add(b, "-,", 2);
	len = strlen(s);
	if (buf_add(b, num, fmt_dec((int64_t)len, ':', num)) != 0 ||
	    buf_add(b, s, len) != 0)
		return JANEE_ERR_NOMEM;
	return buf_add(b, ",", 1);
}

static int
canon_row(struct buf *b, int64_t seq, int64_t ts_ms, const char *const f[8])
{
	char ts[JANEE_TIME_LEN], num[24];
	int i, rc;

	janee_time_fmt(ts_ms, ts);
	buf_reset(b);
	if ((rc = buf_add(b, "janee-audit-v1,", 15)) != 0 ||
	    (rc = buf_add(b, num, fmt_dec(seq, ',', num))) != 0 ||
	    (rc = canon_field(b, ts)) != 0)
		return rc;
	for (i = 0; i < 8; i++)
		if ((rc = canon_field(b, f[i])) != 0)
			return rc;
	return 0;
}

/*
 * sha256 is fetched once with EVP_MD_fetch by the caller, not
 * EVP_sha256(): OpenSSL 3 looks that up again, under a lock, on every
 * init (the "Performance" section of crypto(7)).
 */
static int
chain_hash(EVP_MD_CTX *md, const EVP_MD *sha256,
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
static int
unhex(const char *s, unsigned char out[HASH_LEN])
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
static int
head_get(struct ledger *lg, int64_t *seq, unsigned char hash[HASH_LEN])
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
	if (sscanf(v, "%lld:%64s", &s, hex) != 2 || unhex(hex, hash) != 0)
		rc = janee_err_set(JANEE_ERR_SCHEMA,
		    "ledger '%s': the audit "
		    "head is damaged; run: janee audit verify",
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
	if (sqlite3_get_autocommit(lg->db))
		return janee_err_set(
		    JANEE_ERR_INTERNAL, "audit_append outside a transaction");
	if ((a->md = EVP_MD_CTX_new()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if ((a->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return janee_err_set(
		    JANEE_ERR_CRYPTO, "SHA-256 is unavailable");
	if ((rc = head_get(lg, &a->seq, a->prev)) != 0)
		return rc;
	return ledger_prepare(lg,
	    "INSERT INTO audit (seq, ts_ms, event, actor, client, provider, "
	    "lease_id, scopes, outcome, detail, hash) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
	int64_t seq = a->seq + 1, ts;
	int rc, i;

	if (st == NULL || sqlite3_get_autocommit(a->lg->db))
		return janee_err_set(
		    JANEE_ERR_INTERNAL, "audit_append outside a transaction");
	ts = ev->ts_ms ? ev->ts_ms : janee_now_ms();
	if ((rc = canon_row(&a->canon, seq, ts, f)) != 0 ||
	    (rc = chain_hash(a->md, a->sha256, a->prev, &a->canon, hash)) != 0)
		return rc;
	janee_hex(hash, HASH_LEN, hex);
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, ts);
	for (i = 0; i < 8; i++)
		sqlite3_bind_text(st, 3 + i, f[i], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, hex, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE
	    ? 0
	    : ledger_fail(a->lg, "cannot append to the audit chain");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != 0)
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
	if ((rc = ledger_meta_set(a->lg, HEAD_KEY, head, strlen(head))) == 0)
		a->dirty = 0;
	return rc;
}

void
audit_appender_free(struct audit_appender *a)
{
	sqlite3_finalize(a->insert);
	EVP_MD_CTX_free(a->md);
	EVP_MD_free(a->sha256);
	buf_free(&a->canon);
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

int
audit_verify(struct ledger *lg, struct audit_verify *v)
{
	unsigned char prev[HASH_LEN], hash[HASH_LEN], stored[HASH_LEN],
	    head[HASH_LEN];
	char hex[2 * HASH_LEN + 1];
	const char *f[8], *s;
	sqlite3_stmt *st = NULL;
	EVP_MD_CTX *md = NULL;
	EVP_MD *sha256 = NULL;
	struct buf canon;
	int64_t seq, expect = 1, head_seq;
	int rc, step, i, began = 0;

	memset(v, 0, sizeof(*v));
	memset(prev, 0, sizeof(prev));
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
	if ((rc = head_get(lg, &head_seq, head)) != 0 ||
	    (rc = ledger_prepare(lg,
		 "SELECT seq, ts_ms, event, actor, client, "
		 "provider, lease_id, scopes, outcome, detail, hash FROM audit "
		 "ORDER BY seq",
		 &st)) != 0)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
		/*
		 * The encoding reads fields as C strings: bytes hidden after a
		 * NUL would not be covered by the hash, so such a field is an
		 * edit in itself (janee never writes one).
		 */
		for (i = 0; i < 9; i++) {
			s = col(st, 2 + i);
			if (i < 8)
				f[i] = s;
			if (s != NULL &&
			    (size_t)sqlite3_column_bytes(st, 2 + i) !=
				strlen(s))
				verify_bad(v, seq, "a field holds a NUL byte");
		}
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
		if ((rc = canon_row(
			 &canon, seq, sqlite3_column_int64(st, 1), f)) != 0 ||
		    (rc = chain_hash(md, sha256, prev, &canon, hash)) != 0)
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
			if (unhex(s, stored) == 0)
				memcpy(prev, stored, HASH_LEN);
			else
				memcpy(prev, hash, HASH_LEN);
		}
		expect = seq + 1;
		v->rows++;
	}
	if (step != SQLITE_DONE) {
		rc = ledger_fail(lg, "cannot read the audit chain");
		goto out;
	}
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
	janee_hex(prev, HASH_LEN, v->head);
out:
	sqlite3_finalize(st);
	if (began)
		ledger_rollback(lg); /* ends the read transaction */
	EVP_MD_CTX_free(md);
	EVP_MD_free(sha256);
	buf_free(&canon);
	return rc;
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
	"scopes, outcome, detail, hash FROM audit "
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
	"api_call", NULL };

int
audit_event_known(const char *name)
{
	size_t i;

	for (i = 0; audit_event_names[i] != NULL; i++)
		if (strcmp(audit_event_names[i], name) == 0)
			return 1;
	return 0;
}
