/*
 * Unit tests: the audit chain.  Each case opens a fresh ledger, appends
 * known events and, for the tamper cases, edits the database behind
 * janee's back the way an attacker with the file would (dropping the
 * append-only triggers first), then checks that audit_verify names the
 * first bad row.  The keyed cases (issue 12, finding 5) give the ledger
 * a store, so that appends carry the keyed checkpoint, and record leases
 * the way the broker does, so that events carry lease snapshots.
 */
#include "common.h"

#include <openssl/evp.h>

#include "audit-int.h"
#include "audit.h"
#include "buf.h"
#include "home.h"
#include "keysrc.h"
#include "lease.h"
#include "ledger.h"
#include "store.h"
#include "util.h"

#include "t.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX63 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"
#define HEX64UP \
	"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"

/* Five events with fixed times and every kind of field: NULL, empty,
 * characters that matter to CSV and to the canonical encoding. */
static const struct audit_event chain_ev[] = {
	{ .ts_ms = 1700000001000,
	    .event = "requested",
	    .actor = "agent",
	    .client = "claude",
	    .provider = "gh",
	    .lease_id = "lse_a",
	    .scopes = "[\"read\"]",
	    .outcome = "ok",
	    .detail = "why, \"quoted\"\nsecond line" },
	{ .ts_ms = 1700000002000,
	    .event = "approved",
	    .actor = "user",
	    .client = "cli",
	    .provider = "gh",
	    .lease_id = "lse_a",
	    .scopes = "[\"read\"]",
	    .outcome = "ok",
	    .detail = NULL },
	{ .ts_ms = 1700000003000,
	    .event = "issued",
	    .actor = "janee",
	    .client = NULL,
	    .provider = "slack",
	    .lease_id = "lse_b",
	    .scopes = "[]",
	    .outcome = "ok",
	    .detail = "" },
	{ .ts_ms = 1700000004000,
	    .event = "requested",
	    .actor = "agent",
	    .client = "claude",
	    .provider = "slack",
	    .lease_id = "lse_b",
	    .scopes = NULL,
	    .outcome = "denied",
	    .detail = "=formula" },
	{ .ts_ms = 1700000005000,
	    .event = "export",
	    .actor = "user",
	    .client = NULL,
	    .provider = NULL,
	    .lease_id = NULL,
	    .scopes = NULL,
	    .outcome = "ok",
	    .detail = "format=csv" },
};
#define NEV ((int)nitems(chain_ev))

struct fixture {
	struct ledger *lg;
	char *dir;
	struct home h; /* keyed fixtures only */
	struct keysrc ks;
};

static void
fixture_open(struct fixture *fx)
{
	char *p;

	fx->dir = t_tmpdir();
	if ((p = janee_asprintf("%s/janee.db", fx->dir)) == NULL)
		abort();
	fx->lg = NULL;
	memset(&fx->h, 0, sizeof(fx->h));
	fx->ks.fd = fx->ks.new_fd = -1;
	fx->ks.may_prompt = 0;
	if (ledger_open(p, 1, &fx->lg) != 0) {
		fprintf(stderr, "  cannot open a fresh ledger '%s': %s\n", p,
		    janee_err_msg(JANEE_ERR_DB));
		abort();
	}
	free(p);
}

/* A fixture holding the five events of chain_ev. */
static void
fixture_chain(struct fixture *fx)
{
	int i;

	fixture_open(fx);
	for (i = 0; i < NEV; i++)
		T_EQ_INT(audit_record(fx->lg, &chain_ev[i]), 0);
}

/* Remove the scratch directory unless the case failed (t.h keeps it then
 * so that it can be inspected). */
static void
fixture_close(struct fixture *fx)
{
	static const char *const files[] = { "janee.db", "janee.db-wal",
		"janee.db-shm", "janee.db-journal", "master.key" };
	char *p;
	size_t i;

	ledger_close(fx->lg);
	if (!t_case_failed) {
		for (i = 0; i < nitems(files); i++) {
			if ((p = janee_asprintf("%s/%s", fx->dir, files[i])) ==
			    NULL)
				abort();
			unlink(p);
			free(p);
		}
		rmdir(fx->dir);
	} else
		fprintf(stderr, "  ledger kept in %s\n", fx->dir);
	free(fx->dir);
	home_free(&fx->h);
	janee_err_clear();
}

/* Run SQL straight on the database, as someone holding the file would. */
static int
raw(struct fixture *fx, const char *sql)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(fx->lg->db, sql, NULL, NULL, &msg);
	sqlite3_free(msg);
	return rc;
}

static int64_t
count(struct fixture *fx, const char *sql)
{
	int64_t n = -1;

	T_EQ_INT(ledger_count(fx->lg, sql, &n), 0);
	return n;
}

#define DROP_TRIGGERS \
	"DROP TRIGGER audit_no_update; " \
	"DROP TRIGGER audit_no_delete;"

/*
 * Verify and return the first bad row; the call itself must succeed
 * (tampering is a finding, not an error).
 */
static int64_t
verify_bad_seq(struct fixture *fx, struct audit_verify *v)
{
	T_EQ_INT(audit_verify(fx->lg, v), 0);
	return v->bad_seq;
}

static void
expect_why(const struct audit_verify *v, const char *word)
{
	if (strstr(v->why, word) == NULL) {
		fprintf(stderr,
		    "  why is \"%s\", expected it to mention \"%s\"\n", v->why,
		    word);
		t_case_failed = 1;
	}
}

static void
chain_of_appended_events_verifies(void)
{
	struct fixture fx;
	struct audit_verify v;
	sqlite3_stmt *st;
	char want[80];

	fixture_chain(&fx);
	T_EQ_INT(count(&fx, "SELECT count(*) FROM audit"), NEV);
	T_EQ_INT(count(&fx, "SELECT max(seq) FROM audit"), NEV);
	T_EQ_INT(verify_bad_seq(&fx, &v), 0);
	T_EQ_INT(v.rows, NEV);
	T_EQ_STR(v.why, "");
	T_EQ_INT(strlen(v.head), 64);
	/* The head is the last row's hash, and meta records it with seq. */
	T_EQ_INT(
	    ledger_prepare(fx.lg,
		"SELECT hash FROM audit WHERE seq = (SELECT max(seq) FROM audit)",
		&st),
	    0);
	T_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	T_EQ_STR(v.head, (const char *)sqlite3_column_text(st, 0));
	snprintf(want, sizeof(want), "%d:%s", NEV,
	    (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	T_EQ_INT(ledger_prepare(fx.lg,
		     "SELECT value FROM meta WHERE key = 'audit.head'", &st),
	    0);
	T_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	T_EQ_STR((const char *)sqlite3_column_text(st, 0), want);
	sqlite3_finalize(st);
	/* Fields come back as given: NULL stays NULL, "" stays "". */
	T_EQ_INT(
	    count(&fx,
		"SELECT count(*) FROM audit WHERE seq = 3 AND client IS NULL AND detail = ''"),
	    1);
	T_EQ_INT(
	    count(&fx,
		"SELECT count(*) FROM audit WHERE seq = 1 AND detail = 'why, \"quoted\"' || char(10) || 'second line'"),
	    1);
	fixture_close(&fx);
}

static void
empty_chain_verifies(void)
{
	struct fixture fx;
	struct audit_verify v;

	fixture_open(&fx);
	T_EQ_INT(verify_bad_seq(&fx, &v), 0);
	T_EQ_INT(v.rows, 0);
	fixture_close(&fx);
}

/*
 * The documented format, recomputed here independently: row N's hash is
 * SHA-256(row N-1's hash, or 32 zero bytes, || "janee-audit-v1,N," ||
 * "<len>:<bytes>," per field, "-," for NULL).
 */
static void
canon_add(struct buf *b, const char *s)
{
	if (s == NULL)
		T_EQ_INT(buf_addstr(b, "-,"), 0);
	else
		T_EQ_INT(buf_printf(b, "%zu:%s,", strlen(s), s), 0);
}

static void
row_hash_covers_previous_hash_and_fields(void)
{
	struct fixture fx;
	unsigned char prev[32], h[32];
	char hex[65], ts[JANEE_TIME_LEN];
	const struct audit_event *e;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	sqlite3_stmt *st;
	struct buf b;
	unsigned int n;
	int i;

	fixture_chain(&fx);
	memset(prev, 0, sizeof(prev));
	buf_init(&b, 1 << 16);
	T_EQ_INT(ledger_prepare(
		     fx.lg, "SELECT seq, hash FROM audit ORDER BY seq", &st),
	    0);
	for (i = 0; i < NEV; i++) {
		e = &chain_ev[i];
		buf_reset(&b);
		janee_time_fmt(e->ts_ms, ts);
		T_EQ_INT(buf_printf(&b, "janee-audit-v1,%d,", i + 1), 0);
		canon_add(&b, ts);
		canon_add(&b, e->event);
		canon_add(&b, e->actor);
		canon_add(&b, e->client);
		canon_add(&b, e->provider);
		canon_add(&b, e->lease_id);
		canon_add(&b, e->scopes);
		canon_add(&b, e->outcome);
		canon_add(&b, e->detail);
		T_ASSERT(md != NULL);
		T_EQ_INT(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
		T_EQ_INT(EVP_DigestUpdate(md, prev, sizeof(prev)), 1);
		T_EQ_INT(EVP_DigestUpdate(md, b.p, b.len), 1);
		T_EQ_INT(EVP_DigestFinal_ex(md, h, &n), 1);
		janee_hex(h, sizeof(h), hex);
		T_EQ_INT(sqlite3_step(st), SQLITE_ROW);
		T_EQ_INT(sqlite3_column_int64(st, 0), i + 1);
		T_EQ_STR((const char *)sqlite3_column_text(st, 1), hex);
		memcpy(prev, h, sizeof(prev));
	}
	T_EQ_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	EVP_MD_CTX_free(md);
	buf_free(&b);
	fixture_close(&fx);
}

/* The rows and head, as text, for comparing two ledgers. */
static char *
chain_dump(struct fixture *fx)
{
	sqlite3_stmt *st;
	struct buf b;
	int i;

	buf_init(&b, 1 << 16);
	T_EQ_INT(
	    ledger_prepare(fx->lg,
		"SELECT seq, ts_ms, event, actor, client, provider, lease_id, scopes, outcome, detail, hash FROM audit UNION ALL SELECT 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, value FROM meta "
		"WHERE key = 'audit.head' ORDER BY 1, 2",
		&st),
	    0);
	while (sqlite3_step(st) == SQLITE_ROW)
		for (i = 0; i < 11; i++)
			T_EQ_INT(
			    buf_printf(&b, "%s%c",
				sqlite3_column_type(st, i) == SQLITE_NULL
				    ? "(null)"
				    : (const char *)sqlite3_column_text(st, i),
				i == 10 ? '\n' : '|'),
			    0);
	sqlite3_finalize(st);
	return b.p;
}

/*
 * An appender over several transactions writes what audit_append writes
 * event by event: the same rows, hashes and head.
 */
static void
appender_matches_append(void)
{
	struct fixture one, many;
	struct audit_appender a;
	struct audit_verify v;
	char *x, *y;
	int i;

	fixture_chain(&one);
	fixture_open(&many);
	/* Two batches: the second picks the head up from the first. */
	T_EQ_INT(ledger_begin(many.lg), 0);
	T_EQ_INT(audit_appender_init(many.lg, &a), 0);
	for (i = 0; i < 2; i++)
		T_EQ_INT(audit_appender_add(&a, &chain_ev[i]), 0);
	T_EQ_INT(audit_appender_finish(&a), 0);
	T_EQ_INT(ledger_commit(many.lg), 0);
	audit_appender_free(&a);
	T_EQ_INT(ledger_begin(many.lg), 0);
	T_EQ_INT(audit_appender_init(many.lg, &a), 0);
	for (i = 2; i < NEV; i++)
		T_EQ_INT(audit_appender_add(&a, &chain_ev[i]), 0);
	T_EQ_INT(audit_appender_finish(&a), 0);
	T_EQ_INT(ledger_commit(many.lg), 0);
	audit_appender_free(&a);
	/* Outside a transaction, neither init nor add takes an event. */
	T_EQ_INT(audit_appender_init(many.lg, &a), JANEE_ERR_INTERNAL);
	T_EQ_INT(audit_appender_add(&a, &chain_ev[0]), JANEE_ERR_INTERNAL);
	audit_appender_free(&a);
	janee_err_clear();
	x = chain_dump(&one);
	y = chain_dump(&many);
	T_ASSERT(x != NULL && y != NULL);
	T_EQ_STR(x, y);
	free(x);
	free(y);
	T_EQ_INT(verify_bad_seq(&many, &v), 0);
	T_EQ_INT(v.rows, NEV);
	fixture_close(&one);
	fixture_close(&many);
}

static void
append_outside_a_transaction_is_refused(void)
{
	struct fixture fx;
	struct audit_verify v;

	fixture_open(&fx);
	T_EQ_INT(audit_append(fx.lg, &chain_ev[0]), JANEE_ERR_INTERNAL);
	T_EQ_INT(count(&fx, "SELECT count(*) FROM audit"), 0);
	T_EQ_INT(
	    count(&fx, "SELECT count(*) FROM meta WHERE key = 'audit.head'"),
	    0);
	janee_err_clear();
	/* Inside one it is taken... */
	T_EQ_INT(ledger_begin(fx.lg), 0);
	T_EQ_INT(audit_append(fx.lg, &chain_ev[0]), 0);
	T_EQ_INT(ledger_commit(fx.lg), 0);
	T_EQ_INT(count(&fx, "SELECT count(*) FROM audit"), 1);
	/* ...and a rolled-back one leaves neither the row nor the head. */
	T_EQ_INT(ledger_begin(fx.lg), 0);
	T_EQ_INT(audit_append(fx.lg, &chain_ev[1]), 0);
	ledger_rollback(fx.lg);
	T_EQ_INT(count(&fx, "SELECT count(*) FROM audit"), 1);
	T_EQ_INT(audit_record(fx.lg, &chain_ev[2]), 0);
	T_EQ_INT(count(&fx, "SELECT max(seq) FROM audit"), 2);
	T_EQ_INT(verify_bad_seq(&fx, &v), 0);
	T_EQ_INT(v.rows, 2);
	fixture_close(&fx);
}

/* Verify takes its own read transaction; inside a caller's write
 * transaction it must refuse rather than roll the caller's work back. */
static void
verify_inside_a_transaction_leaves_it_alone(void)
{
	struct fixture fx;
	struct audit_verify v;

	fixture_open(&fx);
	T_EQ_INT(ledger_begin(fx.lg), 0);
	T_EQ_INT(audit_append(fx.lg, &chain_ev[0]), 0);
	T_ASSERT(audit_verify(fx.lg, &v) != 0);
	janee_err_clear();
	T_EQ_INT(ledger_commit(fx.lg), 0);
	T_EQ_INT(count(&fx, "SELECT count(*) FROM audit"), 1);
	T_EQ_INT(verify_bad_seq(&fx, &v), 0);
	T_EQ_INT(v.rows, 1);
	fixture_close(&fx);
}

static void
triggers_refuse_update_and_delete(void)
{
	struct fixture fx;
	struct audit_verify v;

	fixture_chain(&fx);
	T_ASSERT(raw(&fx, "UPDATE audit SET detail = 'edited' WHERE seq = 3") !=
	    SQLITE_OK);
	T_EQ_INT(
	    count(&fx,
		"SELECT count(*) FROM audit WHERE seq = 3 AND detail = ''"),
	    1);
	T_ASSERT(
	    raw(&fx, "UPDATE audit SET seq = 9 WHERE seq = 5") != SQLITE_OK);
	T_EQ_INT(count(&fx, "SELECT max(seq) FROM audit"), NEV);
	T_ASSERT(raw(&fx, "DELETE FROM audit WHERE seq = 2") != SQLITE_OK);
	T_ASSERT(raw(&fx, "DELETE FROM audit") != SQLITE_OK);
	T_EQ_INT(count(&fx, "SELECT count(*) FROM audit"), NEV);
	T_EQ_INT(verify_bad_seq(&fx, &v), 0);
	/* The refusal is the trigger's, not some other error. */
	T_EQ_INT(raw(&fx, "DELETE FROM audit WHERE seq = 2") & 0xff,
	    SQLITE_CONSTRAINT);
	T_ASSERT(strstr(sqlite3_errmsg(fx.lg->db), "append-only") != NULL);
	fixture_close(&fx);
}

/* Each edit of one field of row 3 (or of its stored hash) is found at
 * row 3, and only there: later rows still chain. */
static void
edited_row_is_named(void)
{
	static const char *const edits[] = {
		"UPDATE audit SET detail = 'x' WHERE seq = 3",
		"UPDATE audit SET detail = NULL WHERE seq = 3",
		"UPDATE audit SET client = '' WHERE seq = 3",
		"UPDATE audit SET ts_ms = ts_ms + 1 WHERE seq = 3",
		"UPDATE audit SET event = 'revoked' WHERE seq = 3",
		"UPDATE audit SET actor = 'user' WHERE seq = 3",
		"UPDATE audit SET provider = 'gh' WHERE seq = 3",
		"UPDATE audit SET lease_id = 'lse_a' WHERE seq = 3",
		"UPDATE audit SET scopes = '[\"admin\"]' WHERE seq = 3",
		"UPDATE audit SET outcome = 'denied' WHERE seq = 3",
		"UPDATE audit SET hash = (SELECT hash FROM audit WHERE seq = 2) WHERE seq = 3",
		"UPDATE audit SET hash = upper(hash) WHERE seq = 3",
		/* Bytes after a NUL, invisible to a C string. */
		"UPDATE audit SET detail = CAST(x'0041' AS TEXT) WHERE seq = 3",
		"UPDATE audit SET outcome = CAST(CAST(outcome AS BLOB) || x'0041' AS TEXT) WHERE seq = 3",
	};
	struct fixture fx;
	struct audit_verify v;
	int64_t bad;
	size_t i;

	for (i = 0; i < nitems(edits); i++) {
		fixture_chain(&fx);
		T_EQ_INT(raw(&fx, DROP_TRIGGERS), SQLITE_OK);
		T_EQ_INT(raw(&fx, edits[i]), SQLITE_OK);
		T_EQ_INT(sqlite3_changes(fx.lg->db), 1);
		if ((bad = verify_bad_seq(&fx, &v)) != 3) {
			fprintf(stderr,
			    "  after \"%s\": bad_seq %lld, expected 3\n",
			    edits[i], (long long)bad);
			t_case_failed = 1;
		}
		T_EQ_INT(v.rows, NEV);
		fixture_close(&fx);
	}
}

static void
first_of_several_edits_is_named(void)
{
	struct fixture fx;
	struct audit_verify v;

	fixture_chain(&fx);
	T_EQ_INT(
	    raw(&fx,
		DROP_TRIGGERS
		"UPDATE audit SET detail = 'late' WHERE seq = 4;UPDATE audit SET detail = 'early' WHERE seq = 2;"),
	    SQLITE_OK);
	T_EQ_INT(verify_bad_seq(&fx, &v), 2);
	expect_why(&v, "hash");
	fixture_close(&fx);
}

static void
deleted_middle_row_is_found(void)
{
	struct fixture fx;
	struct audit_verify v;

	fixture_chain(&fx);
	T_EQ_INT(raw(&fx, DROP_TRIGGERS "DELETE FROM audit WHERE seq = 3"),
	    SQLITE_OK);
	/* Row 4 is the first whose predecessor is not there. */
	T_EQ_INT(verify_bad_seq(&fx, &v), 4);
	expect_why(&v, "missing");
	T_EQ_INT(v.rows, NEV - 1);
	fixture_close(&fx);
}

static void
deleted_first_row_is_found(void)
{
	struct fixture fx;
	struct audit_verify v;

	fixture_chain(&fx);
	T_EQ_INT(raw(&fx, DROP_TRIGGERS "DELETE FROM audit WHERE seq = 1"),
	    SQLITE_OK);
	T_EQ_INT(verify_bad_seq(&fx, &v), 2);
	expect_why(&v, "missing");
	fixture_close(&fx);
}

/*
 * A row slipped in at 3: later rows renumbered up by one and the head
 * rewritten to match, so only the chain itself can tell.
 */
static void
inserted_middle_row_is_named(void)
{
	struct fixture fx;
	struct audit_verify v;

	fixture_chain(&fx);
	T_EQ_INT(
	    raw(&fx,
		DROP_TRIGGERS
		"UPDATE audit SET seq = seq + 100 WHERE seq >= 3;"
		"UPDATE audit SET seq = seq - 99 WHERE seq >= 100;"
		"INSERT INTO audit SELECT 3, ts_ms, event, actor, client, "
		"provider, lease_id, scopes, outcome, detail, hash, lease, "
		"lease_digest FROM audit WHERE seq = 2;"
		"UPDATE meta SET value = '6:' || (SELECT hash FROM audit WHERE "
		"seq = 6) WHERE key = 'audit.head';"),
	    SQLITE_OK);
	T_EQ_INT(count(&fx, "SELECT count(*) FROM audit"), NEV + 1);
	T_EQ_INT(verify_bad_seq(&fx, &v), 3);
	fixture_close(&fx);
}

/* A copy of row 2 appended as row 6, the head left alone: row 6 is the
 * bad one, not row 5 (which is intact). */
static void
appended_duplicate_row_is_named(void)
{
	struct fixture fx;
	struct audit_verify v;

	fixture_chain(&fx);
	T_EQ_INT(raw(&fx,
		     "INSERT INTO audit SELECT 6, ts_ms, event, actor, "
		     "client, provider, lease_id, scopes, outcome, detail, "
		     "hash, lease, lease_digest FROM "
		     "audit WHERE seq = 2"),
	    SQLITE_OK);
	T_EQ_INT(verify_bad_seq(&fx, &v), NEV + 1);
	fixture_close(&fx);
	/* Same, with the head moved to the new row: its hash still fails. */
	fixture_chain(&fx);
	T_EQ_INT(
	    raw(&fx,
		"INSERT INTO audit SELECT 6, ts_ms, event, actor, "
		"client, provider, lease_id, scopes, outcome, detail, hash, "
		"lease, lease_digest FROM "
		"audit WHERE seq = 2;"
		"UPDATE meta SET value = '6:' || (SELECT hash FROM audit WHERE "
		"seq = 6) WHERE key = 'audit.head';"),
	    SQLITE_OK);
	T_EQ_INT(verify_bad_seq(&fx, &v), NEV + 1);
	expect_why(&v, "hash");
	fixture_close(&fx);
}

/*
 * A row appended with a valid hash (computed by janee itself here), the
 * head then put back as it was: every row chains, only the head tells,
 * and the row to name is the added one, not the intact last row.
 */
static void
row_added_after_the_head_is_named(void)
{
	struct fixture fx;
	struct audit_verify v;
	sqlite3_stmt *st;
	char head[128];

	fixture_chain(&fx);
	T_EQ_INT(ledger_prepare(fx.lg,
		     "SELECT value FROM meta WHERE key = 'audit.head'", &st),
	    0);
	T_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	snprintf(
	    head, sizeof(head), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	T_EQ_INT(audit_record(fx.lg, &chain_ev[1]), 0);
	T_EQ_INT(verify_bad_seq(&fx, &v), 0); /* control: janee's own row */
	T_EQ_INT(ledger_prepare(fx.lg,
		     "UPDATE meta SET value = ? WHERE key = 'audit.head'", &st),
	    0);
	sqlite3_bind_text(st, 1, head, -1, SQLITE_STATIC);
	T_EQ_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	T_EQ_INT(verify_bad_seq(&fx, &v), NEV + 1);
	expect_why(&v, "added");
	T_EQ_INT(v.rows, NEV + 1);
	fixture_close(&fx);
}

/* The value of meta's audit.head, or set it. */
static void
head_text(struct fixture *fx, char *out, size_t n, const char *set)
{
	sqlite3_stmt *st;

	if (set == NULL) {
		T_EQ_INT(
		    ledger_prepare(fx->lg,
			"SELECT value FROM meta WHERE key = 'audit.head'", &st),
		    0);
		T_EQ_INT(sqlite3_step(st), SQLITE_ROW);
		snprintf(
		    out, n, "%s", (const char *)sqlite3_column_text(st, 0));
	} else {
		T_EQ_INT(ledger_prepare(fx->lg,
			     "UPDATE meta SET value = ? WHERE key = "
			     "'audit.head'",
			     &st),
		    0);
		sqlite3_bind_text(st, 1, set, -1, SQLITE_STATIC);
		T_EQ_INT(sqlite3_step(st), SQLITE_DONE);
	}
	sqlite3_finalize(st);
}

/*
 * The last row swapped for another with a valid hash (made by janee on
 * the same previous row), the head left as it was: the number of rows
 * matches the head, every row chains, and only the head's hash tells.
 */
static void
last_row_swapped_for_a_valid_one_is_found_through_the_head(void)
{
	struct fixture fx;
	struct audit_verify v;
	char head5[128], unused[4];

	fixture_chain(&fx);
	head_text(&fx, head5, sizeof(head5), NULL);
	T_EQ_INT(audit_record(fx.lg, &chain_ev[1]), 0);
	T_EQ_INT(raw(&fx,
		     DROP_TRIGGERS "CREATE TEMP TABLE other AS SELECT * FROM "
				   "audit WHERE seq = 6; "
				   "DELETE FROM audit WHERE seq = 6;"),
	    SQLITE_OK);
	head_text(&fx, unused, sizeof(unused), head5);
	T_EQ_INT(audit_record(fx.lg, &chain_ev[2]), 0);
	T_EQ_INT(verify_bad_seq(&fx, &v), 0); /* control: janee's own row 6 */
	T_EQ_INT(raw(&fx,
		     "DELETE FROM audit WHERE seq = 6; "
		     "INSERT INTO audit SELECT * FROM other;"),
	    SQLITE_OK);
	T_EQ_INT(verify_bad_seq(&fx, &v), NEV + 1);
	expect_why(&v, "does not end at the recorded head");
	T_EQ_INT(v.rows, NEV + 1);
	fixture_close(&fx);
}

/*
 * A row numbered 0 whose stored hash is 32 zero bytes: row 1 then chains
 * from exactly the genesis value, so only the numbering gives it away.
 * bad_seq must not be 0, which would read as "the chain holds".
 */
static void
inserted_row_before_the_first_is_found(void)
{
	static const char *const seqs[] = { "0", "-1" };
	struct fixture fx;
	struct audit_verify v;
	char sql[512];
	size_t i;

	for (i = 0; i < nitems(seqs); i++) {
		fixture_chain(&fx);
		snprintf(sql, sizeof(sql),
		    "INSERT INTO audit VALUES (%s, 1, "
		    "'issued', 'user', NULL, 'gh', 'lse_x', NULL, 'ok', NULL, "
		    "'%064d', NULL, NULL)",
		    seqs[i], 0);
		T_EQ_INT(raw(&fx, sql), SQLITE_OK);
		T_ASSERT(verify_bad_seq(&fx, &v) != 0);
		T_EQ_INT(v.bad_seq, 1);
		expect_why(&v, "inserted");
		fixture_close(&fx);
	}
}

/* Rows 2 and 4 trade places, hashes and all, each keeping its seq. */
static void
reordered_pair_is_found(void)
{
	struct fixture fx;
	struct audit_verify v;

	fixture_chain(&fx);
	T_EQ_INT(
	    raw(&fx,
		DROP_TRIGGERS
		"CREATE TEMP TABLE pair AS SELECT * FROM audit WHERE seq IN "
		"(2, 4);"
		"DELETE FROM audit WHERE seq IN (2, 4);"
		"INSERT INTO audit SELECT 6 - seq, ts_ms, event, actor, "
		"client, "
		"provider, lease_id, scopes, outcome, detail, hash, lease, "
		"lease_digest FROM pair;"),
	    SQLITE_OK);
	T_EQ_INT(
	    count(&fx,
		"SELECT count(*) FROM audit WHERE seq = 2 AND ts_ms = 1700000004000"),
	    1);
	T_EQ_INT(verify_bad_seq(&fx, &v), 2);
	fixture_close(&fx);
}

static void
removed_last_rows_are_found_through_the_head(void)
{
	struct fixture fx;
	struct audit_verify v;

	fixture_chain(&fx);
	T_EQ_INT(raw(&fx, DROP_TRIGGERS "DELETE FROM audit WHERE seq = 5"),
	    SQLITE_OK);
	T_EQ_INT(verify_bad_seq(&fx, &v), 5);
	expect_why(&v, "removed");
	T_EQ_INT(v.rows, NEV - 1);
	fixture_close(&fx);

	fixture_chain(&fx);
	T_EQ_INT(raw(&fx, DROP_TRIGGERS "DELETE FROM audit WHERE seq >= 4"),
	    SQLITE_OK);
	T_EQ_INT(verify_bad_seq(&fx, &v), 4);
	expect_why(&v, "removed");
	fixture_close(&fx);

	fixture_chain(&fx);
	T_EQ_INT(raw(&fx, DROP_TRIGGERS "DELETE FROM audit"), SQLITE_OK);
	T_EQ_INT(verify_bad_seq(&fx, &v), 1);
	expect_why(&v, "removed");
	fixture_close(&fx);
}

static void
damaged_head_is_an_error(void)
{
	struct fixture fx;
	struct audit_verify v;

	fixture_chain(&fx);
	T_EQ_INT(
	    raw(&fx,
		"UPDATE meta SET value = 'garbage' WHERE key = 'audit.head'"),
	    SQLITE_OK);
	T_EQ_INT(audit_verify(fx.lg, &v), JANEE_ERR_SCHEMA);
	janee_err_clear();
	/* And appending refuses to build on it rather than restart at 1. */
	T_ASSERT(audit_record(fx.lg, &chain_ev[0]) != 0);
	T_EQ_INT(count(&fx, "SELECT count(*) FROM audit"), NEV);
	fixture_close(&fx);
}

/* What audit_each handed over, as "seq,seq,..." for readable failures. */
struct seen {
	char seqs[128];
	int calls;
	int stop_after; /* return 7 after this many rows; 0: never */
	int nulls_ok; /* row 5's NULL fields came back NULL */
	int fields_ok; /* row 1's fields came back as written */
};

static int
collect(const struct audit_row *r, void *arg)
{
	struct seen *s = arg;
	size_t len = strlen(s->seqs);

	snprintf(s->seqs + len, sizeof(s->seqs) - len, "%s%lld", len ? "," : "",
	    (long long)r->seq);
	if (r->seq == 5)
		s->nulls_ok = r->client == NULL && r->provider == NULL &&
		    r->lease_id == NULL && r->scopes == NULL;
	if (r->seq == 1)
		s->fields_ok = r->ts_ms == chain_ev[0].ts_ms &&
		    strcmp(r->event, "requested") == 0 &&
		    strcmp(r->actor, "agent") == 0 &&
		    strcmp(r->client, "claude") == 0 &&
		    strcmp(r->provider, "gh") == 0 &&
		    strcmp(r->lease_id, "lse_a") == 0 &&
		    strcmp(r->scopes, "[\"read\"]") == 0 &&
		    strcmp(r->outcome, "ok") == 0 &&
		    strcmp(r->detail, chain_ev[0].detail) == 0 &&
		    r->hash != NULL && strlen(r->hash) == 64;
	s->calls++;
	return s->stop_after && s->calls >= s->stop_after ? 7 : 0;
}

static const char *
each(struct fixture *fx, const struct audit_filter *f, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	T_EQ_INT(audit_each(fx->lg, f, collect, s), 0);
	return s->seqs;
}

static void
each_filters_by_time_provider_event_lease_and_limit(void)
{
	struct fixture fx;
	struct audit_filter f;
	struct seen s;

	fixture_chain(&fx);
	audit_filter_init(&f);
	T_EQ_STR(each(&fx, &f, &s), "1,2,3,4,5");
	T_ASSERT(s.fields_ok);
	T_ASSERT(s.nulls_ok);

	/* since is inclusive, until exclusive ("before time T"). */
	audit_filter_init(&f);
	f.since_ms = 1700000002000;
	T_EQ_STR(each(&fx, &f, &s), "2,3,4,5");
	audit_filter_init(&f);
	f.until_ms = 1700000004000;
	T_EQ_STR(each(&fx, &f, &s), "1,2,3");
	f.since_ms = 1700000002000;
	T_EQ_STR(each(&fx, &f, &s), "2,3");
	f.since_ms = 1700000004000;
	T_EQ_STR(each(&fx, &f, &s), "");
	T_EQ_INT(s.calls, 0);

	audit_filter_init(&f);
	f.provider = "slack";
	T_EQ_STR(each(&fx, &f, &s), "3,4");
	audit_filter_init(&f);
	f.event = "requested";
	T_EQ_STR(each(&fx, &f, &s), "1,4");
	audit_filter_init(&f);
	f.lease_id = "lse_a";
	T_EQ_STR(each(&fx, &f, &s), "1,2");
	audit_filter_init(&f);
	f.provider = "slack";
	f.event = "requested";
	T_EQ_STR(each(&fx, &f, &s), "4");
	audit_filter_init(&f);
	f.provider = "nobody";
	T_EQ_STR(each(&fx, &f, &s), "");

	/* A limit takes the newest rows, still handed over oldest first. */
	audit_filter_init(&f);
	f.limit = 2;
	T_EQ_STR(each(&fx, &f, &s), "4,5");
	f.limit = 1;
	T_EQ_STR(each(&fx, &f, &s), "5");
	f.limit = 100;
	T_EQ_STR(each(&fx, &f, &s), "1,2,3,4,5");
	audit_filter_init(&f);
	f.limit = 1;
	f.provider = "gh";
	T_EQ_STR(each(&fx, &f, &s), "2");
	audit_filter_init(&f);
	f.limit = 2;
	f.until_ms = 1700000004000;
	T_EQ_STR(each(&fx, &f, &s), "2,3");
	fixture_close(&fx);
}

static void
each_stops_on_callback_result(void)
{
	struct fixture fx;
	struct audit_filter f;
	struct seen s;

	fixture_chain(&fx);
	audit_filter_init(&f);
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	T_EQ_INT(audit_each(fx.lg, &f, collect, &s), 7);
	T_EQ_INT(s.calls, 2);
	T_EQ_STR(s.seqs, "1,2");
	fixture_close(&fx);
}

/* --- keyed checkpoints, lease snapshots, --expect (issue 12, #5) ---- */

/*
 * A fresh home with a store (key-file backend), as janee init makes it:
 * the ledger has the checkpoint key from then on, and the first event
 * is keyed.
 */
static void
fixture_keyed(struct fixture *fx)
{
	static const struct audit_event init_ev = { .event = "init",
		.actor = "user",
		.outcome = "ok",
		.detail = "key_backend=keyfile" };

	memset(fx, 0, sizeof(*fx));
	fx->dir = t_tmpdir();
	fx->ks.fd = fx->ks.new_fd = -1;
	if (home_resolve(fx->dir, &fx->h) != 0 ||
	    ledger_open(fx->h.db, 1, &fx->lg) != 0 ||
	    ledger_begin(fx->lg) != 0 ||
	    store_create(fx->lg, &fx->h, "keyfile", &fx->ks) != 0 ||
	    audit_append(fx->lg, &init_ev) != 0 || ledger_commit(fx->lg) != 0) {
		fprintf(stderr, "  keyed fixture: %s\n", janee_err_msg(-1));
		abort();
	}
}

/* Another connection to the same ledger, as a process that is locked. */
static struct ledger *
locked_connection(struct fixture *fx)
{
	struct ledger *lg = NULL;

	T_EQ_INT(ledger_open(fx->h.db, 0, &lg), 0);
	T_ASSERT(lg != NULL && !lg->audit_keyed);
	return lg;
}

/* Unlock the store on lg (a process that has the key). */
static void
unlock(struct fixture *fx, struct ledger *lg)
{
	struct store *s = NULL;

	T_EQ_INT(store_unlock(lg, &fx->h, &fx->ks, &s), 0);
	store_free(s);
	T_ASSERT(lg->audit_keyed);
}

static const struct audit_event export_ev = {
	.event = "export", .actor = "user", .outcome = "ok", .detail = "x"
};

/* n events that name no lease, each in its own transaction. */
static void
append_n(struct ledger *lg, int n)
{
	while (n-- > 0)
		T_EQ_INT(audit_record(lg, &export_ev), 0);
}

static char *
meta(struct fixture *fx, const char *key)
{
	void *v = NULL;
	size_t len;

	if (ledger_meta_get(fx->lg, key, &v, &len) != 0) {
		janee_err_clear();
		return NULL;
	}
	return v;
}

static void
raw_ok(struct fixture *fx, const char *sql)
{
	int rc = raw(fx, sql);

	if (rc != SQLITE_OK) {
		fprintf(
		    stderr, "  \"%s\": %s\n", sql, sqlite3_errmsg(fx->lg->db));
		t_case_failed = 1;
	}
}

/* What verify told of leases, for the lease cases. */
struct told {
	int n;
	char text[4096]; /* "ID: WHAT\n" each */
};

static void
tell(void *arg, const char *id, int64_t seq, const char *what)
{
	struct told *t = arg;
	size_t len = strlen(t->text);

	(void)seq;
	t->n++;
	snprintf(t->text + len, sizeof(t->text) - len, "%s: %s\n", id, what);
}

static void
verify_told(struct fixture *fx, struct audit_verify *v, struct told *t)
{
	struct audit_verify_opts o = { .lease_bad = tell, .arg = t };

	memset(t, 0, sizeof(*t));
	T_EQ_INT(audit_verify_with(fx->lg, &o, v), 0);
}

static void
expect_told(const struct told *t, const char *word)
{
	if (strstr(t->text, word) == NULL) {
		fprintf(stderr,
		    "  verify said:\n%s  expected it to mention \"%s\"\n",
		    t->text, word);
		t_case_failed = 1;
	}
}

static void
checkpoint_follows_each_append_made_with_the_key(void)
{
	struct fixture fx;
	struct audit_verify v;
	char *ck;

	fixture_keyed(&fx);
	append_n(fx.lg, 3);
	T_EQ_INT(verify_bad_seq(&fx, &v), 0);
	T_EQ_INT(v.rows, 4);
	T_EQ_INT(v.keyed, AUDIT_KEYED_OK);
	T_EQ_INT(v.ckpt_seq, 4);
	T_EQ_INT(v.ckpt_first, 1); /* keyed from janee init on */
	T_EQ_INT(v.unkeyed, 0);
	/* FIRST:SEQ:HASH:MAC, the hash that of the head. */
	ck = meta(&fx, "audit.checkpoint");
	T_ASSERT(ck != NULL && strncmp(ck, "1:4:", 4) == 0);
	T_ASSERT(ck != NULL && strncmp(ck + 4, v.head, 64) == 0);
	T_ASSERT(ck != NULL && strlen(ck) == 4 + 64 + 1 + 64);
	free(ck);
	fixture_close(&fx);
}

static void
appends_without_the_key_are_counted_after_the_checkpoint(void)
{
	struct fixture fx;
	struct audit_verify v;
	struct ledger *locked;

	fixture_keyed(&fx);
	append_n(fx.lg, 2);
	/* `janee deny` with the passphrase store locked: no prompt. */
	locked = locked_connection(&fx);
	append_n(locked, 3);
	T_EQ_INT(verify_bad_seq(&fx, &v), 0);
	T_EQ_INT(v.rows, 6);
	T_EQ_INT(v.keyed, AUDIT_KEYED_OK);
	T_EQ_INT(v.ckpt_seq, 3);
	T_EQ_INT(v.unkeyed, 3);
	/* Without the key the checkpoint is not checked, only counted. */
	T_EQ_INT(verify_bad_seq(&fx, &v), 0);
	T_EQ_INT(audit_verify(locked, &v), 0);
	T_EQ_INT(v.bad_seq, 0);
	T_EQ_INT(v.keyed, AUDIT_KEYED_UNCHECKED);
	/* The next keyed append seals the rows the locked one added. */
	append_n(fx.lg, 1);
	T_EQ_INT(verify_bad_seq(&fx, &v), 0);
	T_EQ_INT(v.ckpt_seq, 7);
	T_EQ_INT(v.unkeyed, 0);
	ledger_close(locked);
	fixture_close(&fx);
}

/*
 * The rollback: the last rows deleted and meta's head set to an
 * earlier row's seq:hash.  The unkeyed chain holds (the control, with no
 * key); the checkpoint, which signed the later head, does not.
 */
static void
rollback_behind_the_checkpoint_is_found_only_with_the_key(void)
{
	struct fixture fx;
	struct audit_verify v;
	struct ledger *locked;

	fixture_keyed(&fx);
	append_n(fx.lg, 9);
	T_EQ_INT(verify_bad_seq(&fx, &v), 0);
	T_EQ_INT(v.rows, 10);
	raw_ok(&fx,
	    DROP_TRIGGERS "DELETE FROM audit WHERE seq > 8;"
			  "UPDATE meta SET value = '8:' || (SELECT hash FROM "
			  "audit WHERE seq = 8) WHERE key = 'audit.head';");
	locked = locked_connection(&fx);
	T_EQ_INT(audit_verify(locked, &v), 0);
	T_EQ_INT(v.bad_seq, 0); /* what a657bfd said: "ok: 8 events" */
	T_EQ_INT(v.rows, 8);
	T_EQ_INT(verify_bad_seq(&fx, &v), 9);
	expect_why(&v, "removed");
	T_EQ_INT(v.keyed, AUDIT_KEYED_BAD);
	/* A keyed append does not move the checkpoint over the gap. */
	append_n(fx.lg, 1);
	T_EQ_INT(verify_bad_seq(&fx, &v), 10);
	expect_why(&v, "removed");
	ledger_close(locked);
	fixture_close(&fx);
}

/*
 * Rows rewritten without the key and the chain rebuilt consistently (a
 * locked connection appends the forged history anew): every hash and
 * the head agree; only the keyed checkpoint tells.
 */
static void
chain_rebuilt_without_the_key_fails_the_checkpoint(void)
{
	struct fixture fx;
	struct audit_verify v;
	struct ledger *locked;
	int i;

	fixture_keyed(&fx);
	append_n(fx.lg, 4);
	raw_ok(&fx,
	    DROP_TRIGGERS "DELETE FROM audit;"
			  "DELETE FROM meta WHERE key = 'audit.head';");
	locked = locked_connection(&fx);
	for (i = 0; i < 5; i++)
		T_EQ_INT(audit_record(locked, &chain_ev[4]), 0);
	T_EQ_INT(audit_verify(locked, &v), 0);
	T_EQ_INT(v.bad_seq, 0); /* consistent, as far as hashes go */
	T_EQ_INT(verify_bad_seq(&fx, &v), 5);
	expect_why(&v, "rewritten");
	ledger_close(locked);
	fixture_close(&fx);
}

/*
 * A checkpoint made under another store's key (another home's, or one an
 * attacker made up) for this chain's real head is refused.
 */
static void
forged_checkpoint_under_another_key_is_refused(void)
{
	struct fixture fx, other;
	struct audit_verify v;
	struct store *s = NULL;
	unsigned char hash[32];
	char *ck, *sql, hex[65];
	int64_t seq;

	fixture_keyed(&fx);
	fixture_keyed(&other);
	append_n(fx.lg, 2);
	/* Sign this chain's real head with the other home's key. */
	T_EQ_INT(store_unlock(other.lg, &other.h, &other.ks, &s), 0);
	T_EQ_INT(audit_key_use(fx.lg, s), 0);
	store_free(s);
	T_EQ_INT(audit_head(fx.lg, &seq, hex), 0);
	T_EQ_INT(audit_unhex(hex, hash), 0);
	T_EQ_INT(ledger_begin(fx.lg), 0);
	T_EQ_INT(audit_seal_write(fx.lg, 1, seq, hash, 0), 0);
	T_EQ_INT(ledger_commit(fx.lg), 0);
	ck = meta(&fx, "audit.checkpoint");
	T_ASSERT(ck != NULL && strncmp(ck, "1:3:", 4) == 0);
	unlock(&fx, fx.lg); /* back to this home's own key */
	T_EQ_INT(verify_bad_seq(&fx, &v), 3);
	expect_why(&v, "does not authenticate");
	/* And a MAC made up by hand. */
	sql = janee_asprintf("UPDATE meta SET value = substr(value, 1, "
			     "length(value) - 64) || '%064d' WHERE key = "
			     "'audit.checkpoint'",
	    7);
	raw_ok(&fx, sql);
	T_EQ_INT(verify_bad_seq(&fx, &v), 3);
	expect_why(&v, "does not authenticate");
	free(sql);
	free(ck);
	fixture_close(&other);
	fixture_close(&fx);
}

static void
removed_checkpoint_is_found_and_never_remade(void)
{
	struct fixture fx;
	struct audit_verify v;
	char *ck;

	fixture_keyed(&fx);
	append_n(fx.lg, 2);
	raw_ok(&fx, "DELETE FROM meta WHERE key = 'audit.checkpoint'");
	T_EQ_INT(verify_bad_seq(&fx, &v), 1);
	expect_why(&v, "missing");
	/* Appending with the key does not make a fresh one (and says so). */
	append_n(fx.lg, 1);
	T_ASSERT((ck = meta(&fx, "audit.checkpoint")) == NULL);
	free(ck);
	T_ASSERT(fx.lg->audit_warned);
	T_EQ_INT(verify_bad_seq(&fx, &v), 1);
	/* Nor does the note of an older ledger appear by itself. */
	T_ASSERT((ck = meta(&fx, "audit.unkeyed")) == NULL);
	free(ck);
	fixture_close(&fx);
}

static void
expect_finds_truncation_and_rewrite(void)
{
	struct audit_verify_opts o = { 0 };
	struct fixture fx;
	struct audit_verify v;
	struct ledger *locked;
	char head[65], want[65];
	int64_t seq;

	fixture_keyed(&fx);
	append_n(fx.lg, 2);
	locked = locked_connection(&fx);
	append_n(locked, 3); /* after the checkpoint: only hash-chained */
	T_EQ_INT(audit_head(fx.lg, &seq, head), 0);
	T_EQ_INT(seq, 6);
	T_EQ_INT(verify_bad_seq(&fx, &v), 0);
	T_EQ_STR(head, v.head);
	o.expect_seq = seq;
	o.expect_hash = head;
	T_EQ_INT(audit_verify_with(locked, &o, &v), 0);
	T_EQ_INT(v.bad_seq, 0);
	/* Cut the unkeyed rows: the checkpoint cannot tell, --expect can. */
	raw_ok(&fx,
	    DROP_TRIGGERS "DELETE FROM audit WHERE seq > 4;"
			  "UPDATE meta SET value = '4:' || (SELECT hash FROM "
			  "audit WHERE seq = 4) WHERE key = 'audit.head';");
	T_EQ_INT(verify_bad_seq(&fx, &v), 0);
	T_EQ_INT(audit_verify_with(locked, &o, &v), 0);
	T_EQ_INT(v.bad_seq, 5);
	expect_why(&v, "gone");
	/* The same length, another history: the hash differs. */
	append_n(locked, 2);
	T_EQ_INT(audit_verify_with(locked, &o, &v), 0);
	T_EQ_INT(v.bad_seq, 6);
	expect_why(&v, "not the one expected");
	/* The head now, expected, holds. */
	T_EQ_INT(audit_head(fx.lg, &seq, want), 0);
	o.expect_seq = seq;
	o.expect_hash = want;
	T_EQ_INT(audit_verify_with(locked, &o, &v), 0);
	T_EQ_INT(v.bad_seq, 0);
	ledger_close(locked);
	fixture_close(&fx);
}

static void
head_parses_only_what_audit_head_prints(void)
{
	static const char *const bad[] = { "", "7", "7:", ":" HEX64, "0:" HEX64,
		"-1:" HEX64, "7:" HEX64 "0", "7:" HEX63, "7:" HEX64UP,
		"7 :" HEX64, "7:" HEX64 "\n", "1234567890123456789:" HEX64 };
	struct fixture fx;
	char hash[65], printed[128];
	int64_t seq;
	size_t i;

	T_EQ_INT(audit_parse_head("12:" HEX64, &seq, hash), 0);
	T_EQ_INT(seq, 12);
	T_EQ_STR(hash, HEX64);
	for (i = 0; i < nitems(bad); i++)
		if (audit_parse_head(bad[i], &seq, hash) != JANEE_ERR_USAGE) {
			fprintf(stderr, "  \"%s\" was taken\n", bad[i]);
			t_case_failed = 1;
		}
	janee_err_clear();
	/* What audit_head gives reads back as itself. */
	fixture_keyed(&fx);
	T_EQ_INT(audit_head(fx.lg, &seq, hash), 0);
	snprintf(printed, sizeof(printed), "%lld:%s", (long long)seq, hash);
	T_EQ_INT(audit_parse_head(printed, &seq, hash), 0);
	T_EQ_INT(seq, 1);
	fixture_close(&fx);
}

/* --- leases ----------------------------------------------------------- */

/*
 * A lease moved as the broker moves it: the row and its event in one
 * transaction (insert when from == LEASE_NSTATES).
 */
static void
lease_step(struct ledger *lg, struct lease *l, enum lease_state from,
    const char *event)
{
	struct audit_event ev = { .event = event,
		.actor = "janee",
		.client = "cli",
		.provider = l->provider,
		.lease_id = l->id,
		.outcome = "ok" };

	ev.scopes = l->granted ? l->granted : l->requested;
	T_EQ_INT(ledger_begin(lg), 0);
	if (from == LEASE_NSTATES)
		T_EQ_INT(lease_insert(lg, l), 0);
	else
		T_EQ_INT(lease_save(lg, l, from), 0);
	T_EQ_INT(audit_append(lg, &ev), 0);
	T_EQ_INT(ledger_commit(lg), 0);
}

/* A lease taken to active: requested, approved and minting, issued. */
static void
lease_active(struct ledger *lg, struct lease *l, const char *id)
{
	static const unsigned char sealed[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	int64_t now = janee_now_ms();

	memset(l, 0, sizeof(*l));
	snprintf(l->id, sizeof(l->id), "%s", id);
	T_EQ_INT(lease_set_str(&l->provider, "t"), 0);
	T_EQ_INT(lease_set_str(&l->client, "cli"), 0);
	T_EQ_INT(lease_set_str(&l->requested, "[\"read\"]"), 0);
	l->ttl_s = 600;
	l->created_ms = now;
	l->state = LEASE_REQUESTED;
	lease_step(lg, l, LEASE_NSTATES, "requested");
	l->state = LEASE_APPROVED;
	l->approved_ms = now;
	lease_step(lg, l, LEASE_REQUESTED, "approved");
	l->state = LEASE_MINTING;
	T_EQ_INT(ledger_begin(lg), 0); /* as record_request: no event */
	T_EQ_INT(lease_save(lg, l, LEASE_APPROVED), 0);
	T_EQ_INT(ledger_commit(lg), 0);
	l->state = LEASE_ACTIVE;
	l->issued_ms = now;
	l->expires_ms = now + 600000;
	l->next_attempt_ms = l->expires_ms;
	T_EQ_INT(lease_set_str(&l->granted, "[\"read\"]"), 0);
	T_EQ_INT(lease_set_str(&l->fingerprint, HEX64), 0);
	if ((l->sealed = malloc(sizeof(sealed))) == NULL)
		abort();
	memcpy(l->sealed, sealed, sizeof(sealed));
	l->sealed_len = sizeof(sealed);
	lease_step(lg, l, LEASE_MINTING, "issued");
}

/*
 * The edit: active leases set to expired with their sealed token
 * removed, so that no sweep revokes them.  a657bfd's verify passed it.
 */
static void
lease_update_behind_janees_back_is_named(void)
{
	struct fixture fx;
	struct audit_verify v;
	struct lease a, b;
	struct told t;

	fixture_keyed(&fx);
	lease_active(fx.lg, &a, "lse_aaaaaaaaaaaaaaaaaaaaaaaaaa");
	lease_active(fx.lg, &b, "lse_bbbbbbbbbbbbbbbbbbbbbbbbbb");
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.bad_seq, 0);
	T_EQ_INT(v.leases, 2);
	T_EQ_INT(v.lease_bad, 0);
	T_EQ_INT(v.leases_summed, 1); /* the keyed sums agreed */
	T_EQ_STR(t.text, "");
	raw_ok(&fx,
	    "UPDATE leases SET state = 'expired', sealed_token = NULL "
	    "WHERE state = 'active'");
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.bad_seq, 0); /* the chain itself is intact */
	T_EQ_INT(v.leases_summed, 0); /* they differ: one by one */
	T_EQ_INT(v.lease_bad, 2);
	expect_told(&t,
	    "lse_aaaaaaaaaaaaaaaaaaaaaaaaaa: its state is expired "
	    "in the lease but active in its last audit event");
	expect_told(&t, "lse_bbbbbbbbbbbbbbbbbbbbbbbbbb: its sealed token");
	lease_free(&a);
	lease_free(&b);
	fixture_close(&fx);
}

/* Each column the snapshot covers, edited alone, is found. */
static void
every_lease_field_in_the_snapshot_is_checked(void)
{
	static const struct {
		const char *sql, *word;
	} edits[] = {
		{ "state = 'revoked'", "its state" },
		{ "provider = 'u'", "provider" },
		{ "session = 'other'", "session" },
		{ "requested_scopes = '[\"admin\"]'", "scopes asked" },
		{ "granted_scopes = '[\"admin\"]'", "its scopes are" },
		{ "repositories = '[\"x\"]'", "repositories" },
		{ "ttl_s = 3600", "ttl" },
		{ "expires_ms = expires_ms + 3600000", "its expiry" },
		{ "fingerprint = upper(fingerprint)", "fingerprint" },
		{ "sealed_token = x'0102030405060709'", "sealed token" },
		{ "sealed_token = NULL", "its sealed token" },
		{ "revoke_attempts = 3", "revocation attempts" },
	};
	struct fixture fx;
	struct audit_verify v;
	struct lease l;
	struct told t;
	char *sql;
	size_t i;

	for (i = 0; i < nitems(edits); i++) {
		fixture_keyed(&fx);
		lease_active(fx.lg, &l, "lse_cccccccccccccccccccccccccc");
		sql = janee_asprintf("UPDATE leases SET %s", edits[i].sql);
		raw_ok(&fx, sql);
		verify_told(&fx, &v, &t);
		if (v.lease_bad != 1 || strstr(t.text, edits[i].word) == NULL) {
			fprintf(stderr,
			    "  after \"%s\": %lld lease(s) told, \"%s\"\n", sql,
			    (long long)v.lease_bad, t.text);
			t_case_failed = 1;
		}
		free(sql);
		lease_free(&l);
		fixture_close(&fx);
	}
}

static void
lease_rows_added_or_removed_are_named(void)
{
	struct fixture fx;
	struct audit_verify v;
	struct lease l;
	struct told t;

	fixture_keyed(&fx);
	lease_active(fx.lg, &l, "lse_dddddddddddddddddddddddddd");
	raw_ok(&fx, "DELETE FROM leases");
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.lease_bad, 1);
	expect_told(&t,
	    "lse_dddddddddddddddddddddddddd: the audit trail "
	    "records its request (row 2) but its row is gone");
	lease_free(&l);
	fixture_close(&fx);

	/* An approved lease slipped in, to be collected later. */
	fixture_keyed(&fx);
	lease_active(fx.lg, &l, "lse_dddddddddddddddddddddddddd");
	raw_ok(&fx,
	    "INSERT INTO leases (id, provider, client, "
	    "requested_scopes, state, ttl_s, created_ms) VALUES "
	    "('lse_eeeeeeeeeeeeeeeeeeeeeeeeee', 't', 'cli', "
	    "'[\"admin\"]', 'approved', 600, 1)");
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.leases, 2);
	T_EQ_INT(v.lease_bad, 1);
	expect_told(&t,
	    "lse_eeeeeeeeeeeeeeeeeeeeeeeeee: no audit event "
	    "records it");
	lease_free(&l);
	fixture_close(&fx);
}

/*
 * The broker approves and moves to minting in one transaction with one
 * event: a lease left minting (a crash mid-mint) matches its "approved".
 * Anything else changed with it does not.
 */
static void
approved_then_minting_without_an_event_matches(void)
{
	struct fixture fx;
	struct audit_verify v;
	struct lease l;
	struct told t;

	fixture_keyed(&fx);
	memset(&l, 0, sizeof(l));
	snprintf(l.id, sizeof(l.id), "lse_ffffffffffffffffffffffffff");
	T_EQ_INT(lease_set_str(&l.provider, "t"), 0);
	T_EQ_INT(lease_set_str(&l.client, "cli"), 0);
	T_EQ_INT(lease_set_str(&l.requested, "[\"read\"]"), 0);
	l.ttl_s = 600;
	l.created_ms = janee_now_ms();
	l.state = LEASE_REQUESTED;
	lease_step(fx.lg, &l, LEASE_NSTATES, "requested");
	l.state = LEASE_APPROVED;
	lease_step(fx.lg, &l, LEASE_REQUESTED, "approved");
	raw_ok(&fx, "UPDATE leases SET state = 'minting'");
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.lease_bad, 0);
	raw_ok(&fx, "UPDATE leases SET ttl_s = 7200");
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.lease_bad, 1);
	lease_free(&l);
	fixture_close(&fx);
}

/* The sweep finds an active lease by its next attempt: that must come. */
static void
active_lease_that_would_never_come_due_is_named(void)
{
	struct fixture fx;
	struct audit_verify v;
	struct lease l;
	struct told t;

	fixture_keyed(&fx);
	lease_active(fx.lg, &l, "lse_gggggggggggggggggggggggggg");
	/* A sweeper's claim (60 s from now) is within the rules... */
	raw_ok(&fx,
	    "UPDATE leases SET next_attempt_ms = "
	    "CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 60000");
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.lease_bad, 0);
	/* ...a day later is not; nor is never. */
	raw_ok(&fx,
	    "UPDATE leases SET next_attempt_ms = expires_ms + "
	    "86400000");
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.lease_bad, 1);
	expect_told(&t, "put off");
	raw_ok(&fx, "UPDATE leases SET next_attempt_ms = NULL");
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.lease_bad, 1);
	expect_told(&t, "no sweep would ever revoke");
	lease_free(&l);
	fixture_close(&fx);
}

/*
 * A row with a lease snapshot is "janee-audit-v2,": the v1 fields, then
 * the snapshot and its digest; recomputed here independently.
 */
static void
v2_row_hash_covers_the_lease_snapshot(void)
{
	struct fixture fx;
	struct lease l;
	unsigned char prev[32], h[32];
	char hex[65], ts[JANEE_TIME_LEN];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	sqlite3_stmt *st;
	struct buf b;
	unsigned int n;
	int i;

	fixture_keyed(&fx);
	lease_active(fx.lg, &l, "lse_hhhhhhhhhhhhhhhhhhhhhhhhhh");
	buf_init(&b, 1 << 16);
	T_EQ_INT(ledger_prepare(fx.lg,
		     "SELECT a.seq, a.ts_ms, a.event, a.actor, a.client, "
		     "a.provider, a.lease_id, a.scopes, a.outcome, a.detail, "
		     "a.lease, a.lease_digest, a.hash, p.hash FROM audit a "
		     "JOIN audit p ON "
		     "p.seq = a.seq - 1 WHERE a.lease IS NOT NULL",
		     &st),
	    0);
	n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		buf_reset(&b);
		janee_time_fmt(sqlite3_column_int64(st, 1), ts);
		T_EQ_INT(buf_printf(&b, "janee-audit-v2,%lld,",
			     (long long)sqlite3_column_int64(st, 0)),
		    0);
		canon_add(&b, ts);
		for (i = 2; i <= 11; i++)
			canon_add(&b, (const char *)sqlite3_column_text(st, i));
		T_EQ_INT(audit_unhex(
			     (const char *)sqlite3_column_text(st, 13), prev),
		    0);
		T_EQ_INT(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
		T_EQ_INT(EVP_DigestUpdate(md, prev, sizeof(prev)), 1);
		T_EQ_INT(EVP_DigestUpdate(md, b.p, b.len), 1);
		T_EQ_INT(EVP_DigestFinal_ex(md, h, NULL), 1);
		janee_hex(h, sizeof(h), hex);
		T_EQ_STR((const char *)sqlite3_column_text(st, 12), hex);
		n++;
	}
	sqlite3_finalize(st);
	T_EQ_INT(n, 3); /* requested, approved, issued */
	/* The snapshot of the issued row: what the lease looked like. */
	T_EQ_INT(count(&fx,
		     "SELECT count(*) FROM audit WHERE event = "
		     "'issued' AND lease GLOB 'active [0-9]* 01234567 "
		     "sealed' AND length(lease_digest) = 32"),
	    1);
	EVP_MD_CTX_free(md);
	buf_free(&b);
	lease_free(&l);
	fixture_close(&fx);
}

/*
 * Rows, head and checkpoint all deleted: found while the home has a
 * lease (it has no event left) or no keyed append came since; after one,
 * a fresh chain keyed from its row 1 is all there is (the documented
 * limit: only a head written down elsewhere tells).
 */
static void
emptied_chain_is_found_until_a_keyed_append(void)
{
	struct fixture fx;
	struct audit_verify v;
	struct lease l;
	struct told t;

	fixture_keyed(&fx);
	lease_active(fx.lg, &l, "lse_jjjjjjjjjjjjjjjjjjjjjjjjjj");
	raw_ok(&fx,
	    DROP_TRIGGERS "DELETE FROM audit; DELETE FROM meta WHERE "
			  "key IN ('audit.head', 'audit.checkpoint');");
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.bad_seq, 1);
	expect_why(&v, "missing");
	T_EQ_INT(v.lease_bad, 1);
	expect_told(&t, "no audit event records it");
	raw_ok(&fx, "DELETE FROM leases");
	append_n(fx.lg, 1);
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.bad_seq, 0);
	T_EQ_INT(v.rows, 1);
	T_EQ_INT(v.keyed, AUDIT_KEYED_OK);
	T_EQ_INT(v.ckpt_first, 1);
	lease_free(&l);
	fixture_close(&fx);
}

/* --- an old ledger ----------------------------------------------------- */

/*
 * Row seq of an old (schema 5, v1) chain, inserted as a657bfd would have
 * written it; returns its hash in prev.
 */
static void
old_row(struct ledger *lg, int64_t seq, const char *const f[8],
    unsigned char prev[32])
{
	char ts[JANEE_TIME_LEN], hex[65];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	sqlite3_stmt *st;
	struct buf b;
	int i;

	buf_init(&b, 1 << 16);
	janee_time_fmt(1700000000000 + seq, ts);
	T_EQ_INT(buf_printf(&b, "janee-audit-v1,%lld,", (long long)seq), 0);
	canon_add(&b, ts);
	for (i = 0; i < 8; i++)
		canon_add(&b, f[i]);
	T_EQ_INT(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	T_EQ_INT(EVP_DigestUpdate(md, prev, 32), 1);
	T_EQ_INT(EVP_DigestUpdate(md, b.p, b.len), 1);
	T_EQ_INT(EVP_DigestFinal_ex(md, prev, NULL), 1);
	janee_hex(prev, 32, hex);
	T_EQ_INT(ledger_prepare(lg,
		     "INSERT INTO audit (seq, ts_ms, event, actor, client, "
		     "provider, lease_id, scopes, outcome, detail, hash) "
		     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		     &st),
	    0);
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, 1700000000000 + seq);
	for (i = 0; i < 8; i++)
		sqlite3_bind_text(st, 3 + i, f[i], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, hex, -1, SQLITE_STATIC);
	T_EQ_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	EVP_MD_CTX_free(md);
	buf_free(&b);
}

/*
 * A home whose ledger is at schema `schema`, its chain the n rows given
 * (as a janee before snapshots wrote them), then `leases_sql`: left in a
 * transaction that the caller commits.
 */
static void
old_ledger(struct fixture *fx, int schema, const char *const rows[][8],
    size_t n, const char *leases_sql)
{
	unsigned char prev[32];
	char head[100], hex[65];
	size_t i;

	memset(fx, 0, sizeof(*fx));
	fx->dir = t_tmpdir();
	fx->ks.fd = fx->ks.new_fd = -1;
	T_EQ_INT(home_resolve(fx->dir, &fx->h), 0);
	T_EQ_INT(ledger_open_at(fx->h.db, 1, schema, &fx->lg), 0);
	T_EQ_INT(ledger_begin(fx->lg), 0);
	T_EQ_INT(store_create(fx->lg, &fx->h, "keyfile", &fx->ks), 0);
	memset(prev, 0, sizeof(prev));
	for (i = 0; i < n; i++)
		old_row(fx->lg, (int64_t)i + 1, rows[i], prev);
	janee_hex(prev, 32, hex);
	snprintf(head, sizeof(head), "%zu:%s", n, hex);
	T_EQ_INT(ledger_meta_set(fx->lg, "audit.head", head, strlen(head)), 0);
	raw_ok(fx, leases_sql);
	T_EQ_INT(ledger_commit(fx->lg), 0);
	ledger_close(fx->lg);
}

/*
 * A ledger at schema 5 with a chain and leases as a657bfd left them:
 * it upgrades, still verifies (rows keep their hashes; leases are
 * checked by the state their last event implies), says it has no keyed
 * checkpoint yet, and the first append with the key makes one.
 */
static void
ledger_from_schema_5_upgrades_and_is_keyed_by_the_first_keyed_append(void)
{
	static const char *const rows[][8] = {
		{ "init", "user", NULL, NULL, NULL, NULL, "ok", "schema=5" },
		{ "requested", "agent", "cli", "t",
		    "lse_oldoldoldoldoldoldoldoldol", "[\"read\"]", "ok",
		    NULL },
		{ "approved", "user", "cli", "t",
		    "lse_oldoldoldoldoldoldoldoldol", "[\"read\"]", "ok",
		    NULL },
		{ "issued", "user", "cli", "t",
		    "lse_oldoldoldoldoldoldoldoldol", "[\"read\"]", "ok",
		    NULL },
	};
	struct fixture fx;
	struct audit_verify v;
	struct told t;
	char *note;

	old_ledger(&fx, 5, rows, nitems(rows),
	    "INSERT INTO leases (id, provider, client, "
	    "requested_scopes, granted_scopes, state, ttl_s, "
	    "created_ms, expires_ms, next_attempt_ms, fingerprint) "
	    "VALUES ('lse_oldoldoldoldoldoldoldoldol', 't', 'cli', "
	    "'[\"read\"]', '[\"read\"]', 'active', 600, 1, "
	    "4102444800000, 4102444800000, 'ab')");

	/* Opened by this janee: migrations 6 and 7, and the note it leaves. */
	T_EQ_INT(ledger_open(fx.h.db, 0, &fx.lg), 0);
	note = meta(&fx, "audit.unkeyed");
	T_EQ_STR(note, "4");
	free(note);
	unlock(&fx, fx.lg);
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.bad_seq, 0);
	T_EQ_INT(v.rows, 4);
	T_EQ_INT(v.keyed, AUDIT_KEYED_PENDING);
	T_EQ_INT(v.unkeyed, 4);
	T_EQ_INT(v.leases, 1);
	T_EQ_INT(v.lease_bad, 0);
	/* An old lease edited as the issue did: its last event tells. */
	raw_ok(&fx, "UPDATE leases SET state = 'expired'");
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.lease_bad, 1);
	expect_told(&t, "leaves it active");
	raw_ok(&fx, "UPDATE leases SET state = 'active'");
	/* The first append with the key seals the old chain. */
	append_n(fx.lg, 1);
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.bad_seq, 0);
	T_EQ_INT(v.keyed, AUDIT_KEYED_OK);
	T_EQ_INT(v.ckpt_seq, 5);
	T_EQ_INT(v.ckpt_first, 5);
	T_ASSERT((note = meta(&fx, "audit.unkeyed")) == NULL);
	free(note);
	fixture_close(&fx);
}

/*
 * A ledger at schema 6 (main before snapshots) where a crash mid-mint
 * left one lease orphaned, one failed by reconciliation and one still
 * minting after the provider could not be reached: the events of issue
 * 12 finding 8 leave those states, so it verifies clean, and an orphan
 * edited to failed (no longer warned about) is still named.
 */
static void
ledger_from_schema_6_with_orphans_verifies_and_edits_are_named(void)
{
#define O "lse_orphorphorphorphorphorphor"
#define R "lse_reconreconreconreconrecon"
#define M "lse_mintmintmintmintmintmintm"
	static const char *const rows[][8] = {
		{ "init", "user", NULL, NULL, NULL, NULL, "ok", "schema=6" },
		{ "requested", "agent", "cli", "t", O, "[\"read\"]", "ok",
		    NULL },
		{ "approved", "user", "cli", "t", O, "[\"read\"]", "ok", NULL },
		{ "orphaned", "user", "cli", "t", O, "[\"read\"]", "error",
		    "orphaned: may be live until its own expiry" },
		{ "requested", "agent", "cli", "t", R, "[\"read\"]", "ok",
		    NULL },
		{ "approved", "user", "cli", "t", R, "[\"read\"]", "ok", NULL },
		{ "reconciled", "user", "cli", "t", R, "[\"read\"]", "error",
		    "janee stopped while minting" },
		{ "requested", "agent", "cli", "t", M, "[\"read\"]", "ok",
		    NULL },
		{ "approved", "user", "cli", "t", M, "[\"read\"]", "ok", NULL },
		{ "reconcile_failed", "user", "cli", "t", M, "[\"read\"]",
		    "error", "unreachable" },
	};
	struct fixture fx;
	struct audit_verify v;
	struct told t;

	old_ledger(&fx, 6, rows, nitems(rows),
	    "INSERT INTO leases (id, provider, client, requested_scopes, "
	    "granted_scopes, state, ttl_s, created_ms, minting_ms) VALUES "
	    "('" O "', 't', 'cli', '[\"read\"]', '[\"read\"]', 'orphaned', "
	    "600, 1, 2), "
	    "('" R "', 't', 'cli', '[\"read\"]', '[\"read\"]', 'failed', "
	    "600, 1, 2), "
	    "('" M "', 't', 'cli', '[\"read\"]', '[\"read\"]', 'minting', "
	    "600, 1, 2)");
	T_EQ_INT(ledger_open(fx.h.db, 0, &fx.lg), 0);
	unlock(&fx, fx.lg);
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.bad_seq, 0);
	T_EQ_INT(v.leases, 3);
	T_EQ_INT(v.lease_bad, 0);
	raw_ok(&fx, "UPDATE leases SET state = 'failed' WHERE id = '" O "'");
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.lease_bad, 1);
	expect_told(&t, "(row 4, orphaned) leaves it orphaned");
	raw_ok(&fx,
	    "UPDATE leases SET state = 'orphaned' WHERE id = '" O "';"
	    "UPDATE leases SET state = 'failed' WHERE id = '" M "'");
	verify_told(&fx, &v, &t);
	T_EQ_INT(v.lease_bad, 1);
	expect_told(&t, "(row 10, reconcile_failed) leaves it minting");
	fixture_close(&fx);
#undef O
#undef R
#undef M
}

/* The chain's own time formatting writes what janee_time_fmt writes. */
static void
chain_time_format_is_janee_time_fmt(void)
{
	static const int64_t edges[] = { 0, 1, 999, 1000, 86399999, 86400000,
		951782399999, 951782400000, 951868800000, 4107542400000,
		4107628800000, 253402300799999, 253402300800000, -1, -86400000,
		-62167219200000, -62167219200001 };
	/* Where janee_time_fmt would overflow: the same answer, said early. */
	static const int64_t wild[] = { INT64_MAX, INT64_MIN, INT64_MIN + 999 };
	struct audit_day d;
	char a[JANEE_TIME_LEN], b[JANEE_TIME_LEN];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	int64_t ms;
	size_t i;
	int bad = 0;

	memset(&d, 0, sizeof(d));
	for (i = 0; i < nitems(edges) + 200000 && bad < 5; i++) {
		if (i < nitems(edges))
			ms = edges[i];
		else if (i % 2) { /* anywhere, the cached day changing */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			ms = (int64_t)(x % 253402300800000ULL);
		} else /* in order, a few hours apart, as rows come */
			ms = 1700000000000 + (int64_t)i * 7777777;
		audit_time_fmt(&d, ms, a);
		janee_time_fmt(ms, b);
		if (strcmp(a, b) != 0) {
			fprintf(stderr,
			    "  %lld: \"%s\", janee_time_fmt \"%s\"\n",
			    (long long)ms, a, b);
			bad++;
		}
	}
	T_EQ_INT(bad, 0);
	for (i = 0; i < nitems(wild); i++) {
		audit_time_fmt(&d, wild[i], a);
		T_EQ_STR(a, "invalid-time");
	}
}

/* --- the witness ------------------------------------------------------ */

static void
witness_line_names_seq_hash_event_and_never_a_secret(void)
{
	static const struct audit_event ev = { .event = "issued",
		.actor = "agent",
		.client = "claude SECRET-CLIENT",
		.provider = "git\nhub",
		.lease_id = "lse_iiiiiiiiiiiiiiiiiiiiiiiiii",
		.scopes = "[\"SECRET-SCOPE\"]",
		.outcome = "ok",
		.detail = "tst_SECRETTOKENVALUE in a detail" };
	char line[640], small[24];

	audit_witness_line(
	    "/home/u/.janee/janee.db", 42, HEX64, &ev, line, sizeof(line));
	T_EQ_STR(line,
	    "audit seq=42 hash=" HEX64 " event=issued "
	    "lease=lse_iiiiiiiiiiiiiiiiiiiiiiiiii provider=git?hub outcome=ok "
	    "ledger=/home/u/.janee/janee.db");
	T_ASSERT(strstr(line, "SECRET") == NULL);
	/* NULL fields are "-"; a short buffer is cut, never overrun. */
	audit_witness_line(NULL, 1, HEX64, &export_ev, line, sizeof(line));
	T_ASSERT(
	    strstr(line, " lease=- provider=- outcome=ok ledger=-") != NULL);
	memset(small, 'X', sizeof(small));
	audit_witness_line("l", 1, HEX64, &ev, small, 20);
	T_EQ_INT(strlen(small), 19);
	T_EQ_INT(small[20], 'X');
}

int
main(void)
{
	T_RUN(chain_of_appended_events_verifies);
	T_RUN(empty_chain_verifies);
	T_RUN(row_hash_covers_previous_hash_and_fields);
	T_RUN(appender_matches_append);
	T_RUN(append_outside_a_transaction_is_refused);
	T_RUN(verify_inside_a_transaction_leaves_it_alone);
	T_RUN(triggers_refuse_update_and_delete);
	T_RUN(edited_row_is_named);
	T_RUN(first_of_several_edits_is_named);
	T_RUN(deleted_middle_row_is_found);
	T_RUN(deleted_first_row_is_found);
	T_RUN(inserted_middle_row_is_named);
	T_RUN(appended_duplicate_row_is_named);
	T_RUN(row_added_after_the_head_is_named);
	T_RUN(inserted_row_before_the_first_is_found);
	T_RUN(reordered_pair_is_found);
	T_RUN(removed_last_rows_are_found_through_the_head);
	T_RUN(last_row_swapped_for_a_valid_one_is_found_through_the_head);
	T_RUN(damaged_head_is_an_error);
	T_RUN(each_filters_by_time_provider_event_lease_and_limit);
	T_RUN(each_stops_on_callback_result);
	T_RUN(checkpoint_follows_each_append_made_with_the_key);
	T_RUN(appends_without_the_key_are_counted_after_the_checkpoint);
	T_RUN(rollback_behind_the_checkpoint_is_found_only_with_the_key);
	T_RUN(chain_rebuilt_without_the_key_fails_the_checkpoint);
	T_RUN(forged_checkpoint_under_another_key_is_refused);
	T_RUN(removed_checkpoint_is_found_and_never_remade);
	T_RUN(emptied_chain_is_found_until_a_keyed_append);
	T_RUN(expect_finds_truncation_and_rewrite);
	T_RUN(head_parses_only_what_audit_head_prints);
	T_RUN(lease_update_behind_janees_back_is_named);
	T_RUN(every_lease_field_in_the_snapshot_is_checked);
	T_RUN(lease_rows_added_or_removed_are_named);
	T_RUN(approved_then_minting_without_an_event_matches);
	T_RUN(active_lease_that_would_never_come_due_is_named);
	T_RUN(v2_row_hash_covers_the_lease_snapshot);
	T_RUN(
	    ledger_from_schema_5_upgrades_and_is_keyed_by_the_first_keyed_append);
	T_RUN(ledger_from_schema_6_with_orphans_verifies_and_edits_are_named);
	T_RUN(chain_time_format_is_janee_time_fmt);
	T_RUN(witness_line_names_seq_hash_event_and_never_a_secret);
	return t_done();
}
