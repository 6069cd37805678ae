/*
 * Unit tests: the audit chain.  Each case opens a fresh ledger, appends
 * known events and, for the tamper cases, edits the database behind
 * janee's back the way an attacker with the file would (dropping the
 * append-only triggers first), then checks that audit_verify names the
 * first bad row.
 */
#include "common.h"

#include <openssl/evp.h>

#include "audit.h"
#include "buf.h"
#include "ledger.h"
#include "util.h"

#include "t.h"

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
};

static void
fixture_open(struct fixture *fx)
{
	char *p;

	fx->dir = t_tmpdir();
	if ((p = janee_asprintf("%s/janee.db", fx->dir)) == NULL)
		abort();
	fx->lg = NULL;
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
		"janee.db-shm", "janee.db-journal" };
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
		    "  why is \"%s\", expected it to mention "
		    "\"%s\"\n",
		    v->why, word);
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
	T_EQ_INT(ledger_prepare(fx.lg,
		     "SELECT hash FROM audit WHERE seq = "
		     "(SELECT max(seq) FROM audit)",
		     &st),
	    0);
	T_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	T_EQ_STR(v.head, (const char *)sqlite3_column_text(st, 0));
	snprintf(want, sizeof(want), "%d:%s", NEV,
	    (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	T_EQ_INT(ledger_prepare(fx.lg,
		     "SELECT value FROM meta WHERE key = "
		     "'audit.head'",
		     &st),
	    0);
	T_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	T_EQ_STR((const char *)sqlite3_column_text(st, 0), want);
	sqlite3_finalize(st);
	/* Fields come back as given: NULL stays NULL, "" stays "". */
	T_EQ_INT(count(&fx,
		     "SELECT count(*) FROM audit WHERE seq = 3 AND "
		     "client IS NULL AND detail = ''"),
	    1);
	T_EQ_INT(count(&fx,
		     "SELECT count(*) FROM audit WHERE seq = 1 AND "
		     "detail = 'why, \"quoted\"' || char(10) || 'second line'"),
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
	T_EQ_INT(ledger_prepare(fx.lg,
		     "SELECT seq, hash FROM audit ORDER BY "
		     "seq",
		     &st),
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
	T_EQ_INT(ledger_prepare(fx->lg,
		     "SELECT seq, ts_ms, event, actor, client, provider, "
		     "lease_id, scopes, outcome, detail, hash FROM audit "
		     "UNION ALL SELECT 0, 0, NULL, NULL, NULL, NULL, NULL, "
		     "NULL, NULL, NULL, value FROM meta "
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
	T_EQ_INT(count(&fx,
		     "SELECT count(*) FROM meta WHERE key = "
		     "'audit.head'"),
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
	T_EQ_INT(count(&fx,
		     "SELECT count(*) FROM audit WHERE seq = 3 AND "
		     "detail = ''"),
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
		"UPDATE audit SET hash = (SELECT hash FROM audit WHERE seq = "
		"2) "
		"WHERE seq = 3",
		"UPDATE audit SET hash = upper(hash) WHERE seq = 3",
		/* Bytes after a NUL, invisible to a C string. */
		"UPDATE audit SET detail = CAST(x'0041' AS TEXT) WHERE seq = 3",
		"UPDATE audit SET outcome = CAST(CAST(outcome AS BLOB) || "
		"x'0041' AS TEXT) WHERE seq = 3",
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
			    "  after \"%s\": bad_seq %lld, "
			    "expected 3\n",
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
	T_EQ_INT(raw(&fx,
		     DROP_TRIGGERS
		     "UPDATE audit SET detail = 'late' WHERE seq = 4;"
		     "UPDATE audit SET detail = 'early' WHERE seq = 2;"),
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
		"provider, lease_id, scopes, outcome, detail, hash FROM audit "
		"WHERE seq = 2;"
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
		     "hash FROM "
		     "audit WHERE seq = 2"),
	    SQLITE_OK);
	T_EQ_INT(verify_bad_seq(&fx, &v), NEV + 1);
	fixture_close(&fx);
	/* Same, with the head moved to the new row: its hash still fails. */
	fixture_chain(&fx);
	T_EQ_INT(
	    raw(&fx,
		"INSERT INTO audit SELECT 6, ts_ms, event, actor, "
		"client, provider, lease_id, scopes, outcome, detail, hash "
		"FROM "
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
		     "SELECT value FROM meta WHERE key = "
		     "'audit.head'",
		     &st),
	    0);
	T_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	snprintf(
	    head, sizeof(head), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	T_EQ_INT(audit_record(fx.lg, &chain_ev[1]), 0);
	T_EQ_INT(verify_bad_seq(&fx, &v), 0); /* control: janee's own row */
	T_EQ_INT(ledger_prepare(fx.lg,
		     "UPDATE meta SET value = ? WHERE key = "
		     "'audit.head'",
		     &st),
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
		    "'%064d')",
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
		"provider, lease_id, scopes, outcome, detail, hash FROM pair;"),
	    SQLITE_OK);
	T_EQ_INT(count(&fx,
		     "SELECT count(*) FROM audit WHERE seq = 2 AND "
		     "ts_ms = 1700000004000"),
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
	T_EQ_INT(raw(&fx,
		     "UPDATE meta SET value = 'garbage' WHERE key = "
		     "'audit.head'"),
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
	return t_done();
}
