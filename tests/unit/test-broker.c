/*
 * Unit tests: the broker.  Requests against the test provider, policy
 * and approval, the durable lease, minting failures, the sweep with due,
 * not-yet-due and failing leases, early revocation, failing closed
 * when the ledger cannot record a step, and a lease left claimed by a
 * sweeper that died in the middle of its revocation (and the background
 * agent's wake-up for it).
 */
/* The test hooks of src/util.h (linked from libjanee_testhooks.a). */
#define JANEE_TEST_HOOKS 1
#include "common.h"

#include <dirent.h>
#include <sys/stat.h>

#include "agent.h"
#include "audit.h"
#include "buf.h"
#include "broker.h"
#include "util.h"

#include "t.h"

extern const struct janee_provider test_provider;

struct fx {
	char *dir, *prov;
	struct home h;
	struct ledger *lg;
	struct config *cfg;
	struct keysrc ks;
	struct broker b;
};

/*
 * The "wrapped" provider is the test provider with two hooks: it can
 * look at the lease from another connection while it is being minted
 * (what another process would see), and it can turn the ledger read-only
 * once it has minted.
 */
static const char *observe_db;
static char observed[32];
static struct ledger *wrap_lg;

static void
observe(const char *lease_id)
{
	sqlite3 *o = NULL;
	sqlite3_stmt *st;

	snprintf(observed, sizeof(observed), "absent");
	if (sqlite3_open_v2(observe_db, &o, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_prepare_v2(o, "SELECT state FROM leases WHERE id = ?", -1,
		&st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, lease_id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(observed, sizeof(observed), "%s",
			    sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	sqlite3_close(o);
}

static int
wrap_mint(struct janee_ctx *ctx, const struct janee_mint_req *req,
    struct janee_token *out)
{
	int rc;

	if (observe_db != NULL)
		observe(req->lease_id);
	rc = test_provider.mint(ctx, req, out);
	if (rc == 0 && wrap_lg != NULL)
		sqlite3_exec(
		    wrap_lg->db, "PRAGMA query_only = 1", NULL, NULL, NULL);
	return rc;
}

static struct janee_provider wrap_provider;
static const struct janee_provider *fx_table[3];

static void
fx_open(struct fx *f, const char *extra)
{
	struct janee_ctx services;
	char *json;

	memset(f, 0, sizeof(*f));
	wrap_provider = test_provider;
	wrap_provider.type = "test-wrapped";
	wrap_provider.mint = wrap_mint;
	fx_table[0] = &test_provider;
	fx_table[1] = &wrap_provider;
	f->dir = t_tmpdir();
	f->prov = janee_asprintf("%s/prov", f->dir);
	mkdir(f->prov, 0700);
	f->ks.fd = f->ks.new_fd = -1;
	json = janee_asprintf(
	    "{\"providers\": {\"t\": {\"type\": \"test\", \"state_dir\": \"%s\", \"scopes\": [\"read\", \"write\"], \"default_scopes\": [\"read\"], \"max_ttl\": \"1h\", \"approval\": \"auto\"},"
	    "\"nodef\": {\"type\": \"test\", \"state_dir\": \"%s\", \"scopes\": [\"read\"], \"approval\": \"auto\"},\"failrev\": {\"type\": \"test\", \"state_dir\": \"%s\", "
	    "\"revoke\": \"fail\", \"scopes\": [\"read\"], \"approval\": \"auto\"},\"norev\": {\"type\": \"test\", \"state_dir\": \"%s\", \"revoke\": \"unsupported\", \"scopes\": [\"read\"], "
	    "\"approval\": \"auto\"},\"failmint\": {\"type\": \"test\", \"state_dir\": \"%s\", \"fail_mint\": true, \"scopes\": [\"read\"], \"approval\": \"auto\"},"
	    "\"short\": {\"type\": \"test\", \"state_dir\": \"%s\", \"expires_in\": \"30s\", \"scopes\": [\"read\"], \"approval\": \"auto\"},\"denied\": {\"type\": \"test\", \"state_dir\": \"%s\", "
	    "\"scopes\": [\"read\"], \"approval\": \"deny\"},\"asked\": {\"type\": \"test\", \"state_dir\": \"%s\", \"scopes\": [\"read\"], \"approval\": \"ask\"},"
	    "\"oob\": {\"type\": \"test\", \"state_dir\": \"%s\", \"scopes\": [\"read\"], \"approval\": \"out-of-band\"},\"repos\": {\"type\": \"test\", \"state_dir\": \"%s\", "
	    "\"scopes\": [\"read\"], \"repositories\": [\"api\", \"web\"], \"approval\": \"auto\"},\"wrapped\": {\"type\": \"test-wrapped\", \"state_dir\": \"%s\", \"scopes\": [\"read\"], \"approval\": \"auto\"}"
	    "%s}}",
	    f->prov, f->prov, f->prov, f->prov, f->prov, f->prov, f->prov,
	    f->prov, f->prov, f->prov, f->prov, extra ? extra : "");
	if (home_resolve(f->dir, &f->h) != 0 ||
	    ledger_open(f->h.db, 1, &f->lg) != 0 || ledger_begin(f->lg) != 0 ||
	    store_create(f->lg, &f->h, "keyfile", &f->ks) != 0 ||
	    ledger_commit(f->lg) != 0) {
		fprintf(stderr, "fixture: %s\n", janee_err_msg(-1));
		abort();
	}
	/* As core_broker does: the broker's services before configure(). */
	broker_init(&f->b, f->lg, &f->h, NULL, &f->ks);
	broker_services(&f->b, &services);
	if (config_parse(json, "test", fx_table, &services, &f->cfg) != 0) {
		fprintf(stderr, "fixture: %s\n", janee_err_msg(-1));
		abort();
	}
	free(json);
	f->b.cfg = f->cfg;
	janee_clock_offset_ms = 0;
	wrap_lg = NULL;
	observe_db = NULL;
}

static void
fx_close(struct fx *f)
{
	broker_free(&f->b);
	config_free(f->cfg);
	ledger_close(f->lg);
	home_free(&f->h);
	free(f->prov);
	free(f->dir);
	janee_clock_offset_ms = 0;
	janee_err_clear();
}

/* Files on the provider's side that stand for live tokens. */
static int
live_tokens(const struct fx *f)
{
	struct dirent *e;
	DIR *d = opendir(f->prov);
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		if (strlen(e->d_name) == 64)
			n++;
	if (d != NULL)
		closedir(d);
	return n;
}

static int
mint_calls(const struct fx *f)
{
	char *p = janee_asprintf("%s/calls.log", f->prov), line[256];
	FILE *fp = fopen(p, "r");
	int n = 0;

	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
		n += strncmp(line, "mint ", 5) == 0;
	if (fp != NULL)
		fclose(fp);
	free(p);
	return n;
}

static int
issue_repos(struct fx *f, const char *prov, const char *scope, int64_t ttl,
    const char *repo, struct broker_grant *g)
{
	struct broker_req req;
	int rc;

	memset(&req, 0, sizeof(req));
	req.provider = prov;
	req.ttl_s = ttl;
	req.reason = "unit test";
	if ((scope != NULL && janee_strlist_add(&req.scopes, scope) != 0) ||
	    (repo != NULL && janee_strlist_add(&req.resources, repo) != 0))
		abort();
	janee_err_clear();
	rc = broker_issue(&f->b, &req, g);
	janee_strlist_free(&req.scopes);
	janee_strlist_free(&req.resources);
	return rc;
}

static int
issue(struct fx *f, const char *prov, const char *scope, int64_t ttl,
    struct broker_grant *g)
{
	return issue_repos(f, prov, scope, ttl, NULL, g);
}

/* The repositories the provider was last asked for, from its log. */
static char *
repos_asked(const struct fx *f)
{
	char *p = janee_asprintf("%s/calls.log", f->prov), line[256];
	FILE *fp = fopen(p, "r");
	struct buf b;

	buf_init(&b, 4096);
	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "mint ", 5) == 0)
			buf_reset(&b);
		else if (strncmp(line, "repo ", 5) == 0 &&
		    (buf_add(&b, line + 5, strcspn(line + 5, "\n")) != 0 ||
			buf_add(&b, ",", 1) != 0))
			abort();
	}
	if (fp != NULL)
		fclose(fp);
	free(p);
	if (b.p == NULL && buf_add(&b, "", 0) != 0)
		abort();
	return b.p;
}

/* One number from SQL built with printf arguments; -1 on error. */
#define count(f, ...) count_sql((f), janee_asprintf(__VA_ARGS__))

static int64_t
count_sql(struct fx *f, char *sql)
{
	int64_t n = -1;

	if (ledger_count(f->lg, sql, &n) != 0)
		n = -1;
	free(sql);
	return n;
}

static const char *
state_of(struct fx *f, const char *id, char *buf, size_t n)
{
	struct lease l;

	if (lease_load(f->lg, id, &l) != 0)
		return "missing";
	snprintf(buf, n, "%s", lease_state_name(l.state));
	lease_free(&l);
	return buf;
}

static void
auto_approval_issues_a_recorded_sealed_token(void)
{
	struct fx f;
	struct broker_grant g;
	struct lease l;
	char fp[STORE_FP_HEX];
	int64_t before = janee_now_ms();

	fx_open(&f, NULL);
	T_EQ_INT(issue(&f, "t", "read", 600, &g), 0);
	T_ASSERT(janee_token_get(&g.tok, "token") != NULL &&
	    strncmp((char *)janee_token_get(&g.tok, "token")->data, "tst_",
		4) == 0);
	T_EQ_STR(g.granted, "[\"read\"]");
	T_ASSERT(g.expires_ms >= before + 600000 &&
	    g.expires_ms <= janee_now_ms() + 600000);
	T_EQ_INT(live_tokens(&f), 1);
	T_EQ_INT(lease_load(f.lg, g.lease_id, &l), 0);
	T_EQ_INT(l.state, LEASE_ACTIVE);
	T_EQ_INT(
	    store_fingerprint(f.b.store, janee_token_get(&g.tok, "token")->data,
		janee_token_get(&g.tok, "token")->len, fp),
	    0);
	T_EQ_STR(l.fingerprint, fp);
	T_ASSERT(l.sealed != NULL);
	/* The sealed copy is not the token. */
	T_ASSERT(memmem(l.sealed, l.sealed_len,
		     janee_token_get(&g.tok, "token")->data,
		     janee_token_get(&g.tok, "token")->len) == NULL);
	T_EQ_INT(l.expires_ms, g.expires_ms);
	T_EQ_STR(l.reason, "unit test");
	/* requested, approved, issued: in that order. */
	T_EQ_INT(count(&f, "SELECT count(*) FROM audit WHERE lease_id = '%s'",
		     g.lease_id),
	    3);
	T_EQ_INT(
	    count(&f,
		"SELECT count(*) FROM audit WHERE lease_id = '%s' AND event = 'issued' AND seq = (SELECT max(seq) FROM audit)",
		g.lease_id),
	    1);
	lease_free(&l);
	broker_grant_free(&g);
	fx_close(&f);
}

static void
invariant_8_scope_outside_ceiling_is_refused_before_minting(void)
{
	struct fx f;
	struct broker_grant g;

	fx_open(&f, NULL);
	T_EQ_INT(issue(&f, "t", "admin", 60, &g), JANEE_ERR_POLICY);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_POLICY), "'admin'") != NULL);
	T_ASSERT(janee_token_get(&g.tok, "token") == NULL);
	T_EQ_INT(mint_calls(&f), 0);
	/* The refusal is on the record. */
	T_EQ_INT(count(&f, "SELECT count(*) FROM leases WHERE state = '%s'",
		     "denied"),
	    1);
	T_EQ_INT(count(&f, "SELECT count(*) FROM audit WHERE event = '%s'",
		     "denied"),
	    1);
	fx_close(&f);
}

static void
invariant_8_ttl_is_bounded_and_no_scope_is_never_everything(void)
{
	struct fx f;
	struct broker_grant g;
	int64_t now;

	fx_open(&f, NULL);
	T_EQ_INT(issue(&f, "t", "read", 7200, &g), JANEE_ERR_POLICY);
	T_EQ_INT(issue(&f, "t", "read", -5, &g), JANEE_ERR_POLICY);
	T_EQ_INT(mint_calls(&f), 0);
	now = janee_now_ms();
	T_EQ_INT(issue(&f, "t", NULL, 0, &g), 0); /* defaults */
	T_EQ_STR(g.granted, "[\"read\"]");
	T_ASSERT(g.expires_ms >= now + 900000 - 1000 &&
	    g.expires_ms <= janee_now_ms() + 900000);
	broker_grant_free(&g);
	/* No scopes asked and none by default: an error, not everything. */
	T_EQ_INT(issue(&f, "nodef", NULL, 60, &g), JANEE_ERR_POLICY);
	T_EQ_INT(issue(&f, "nosuch", "read", 60, &g), JANEE_ERR_NOT_FOUND);
	fx_close(&f);
}

static int
ask_yes(const struct prov *pv, const struct lease *l, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static int
ask_no(const struct prov *pv, const struct lease *l, void *arg)
{
	(*(int *)arg)++;
	return janee_err_set(JANEE_ERR_DENIED, "said no");
}

static void
approval_modes_are_honoured(void)
{
	struct fx f;
	struct broker_grant g;
	int asked = 0;

	fx_open(&f, NULL);
	T_EQ_INT(issue(&f, "denied", "read", 60, &g), JANEE_ERR_DENIED);
	/* ask with nobody to ask: denied, never auto-approved */
	T_EQ_INT(issue(&f, "asked", "read", 60, &g), JANEE_ERR_DENIED);
	T_EQ_INT(issue(&f, "oob", "read", 60, &g), JANEE_ERR_DENIED);
	T_EQ_INT(mint_calls(&f), 0);
	f.b.ask = ask_no;
	f.b.ask_arg = &asked;
	T_EQ_INT(issue(&f, "asked", "read", 60, &g), JANEE_ERR_DENIED);
	T_EQ_INT(asked, 1);
	f.b.ask = ask_yes;
	T_EQ_INT(issue(&f, "asked", "read", 60, &g), 0);
	T_EQ_INT(asked, 2);
	broker_grant_free(&g);
	T_EQ_INT(count(&f, "SELECT count(*) FROM leases WHERE state = '%s'",
		     "denied"),
	    4);
	fx_close(&f);
}

static void
mint_failure_is_recorded_as_failed(void)
{
	struct fx f;
	struct broker_grant g;

	fx_open(&f, NULL);
	T_EQ_INT(issue(&f, "failmint", "read", 60, &g), JANEE_ERR_PROVIDER);
	T_ASSERT(
	    strstr(janee_err_msg(JANEE_ERR_PROVIDER), "mint failed") != NULL);
	T_EQ_INT(mint_calls(&f), 1);
	T_EQ_INT(count(&f, "SELECT count(*) FROM leases WHERE state = '%s'",
		     "failed"),
	    1);
	T_EQ_INT(count(&f, "SELECT count(*) FROM audit WHERE event = '%s'",
		     "mint_failed"),
	    1);
	fx_close(&f);
}

static void
lease_never_outlives_the_providers_expiry(void)
{
	struct fx f;
	struct broker_grant g;
	int64_t now = janee_now_ms();

	fx_open(&f, NULL);
	T_EQ_INT(issue(&f, "short", "read", 600, &g), 0);
	T_ASSERT(g.expires_ms <= janee_now_ms() + 30000 &&
	    g.expires_ms >= now + 29000);
	broker_grant_free(&g);
	fx_close(&f);
}

static void
sweep_handles_due_not_due_and_failing_leases(void)
{
	struct fx f;
	struct broker_grant a, b, c, d, e;
	struct sweep_report r = { 0 };
	char st[32];
	int i;

	fx_open(&f, NULL);
	T_EQ_INT(issue(&f, "t", "read", 60, &a), 0);
	T_EQ_INT(issue(&f, "t", "read", 60, &b), 0);
	T_EQ_INT(issue(&f, "t", "read", 3600, &c), 0);
	T_EQ_INT(issue(&f, "failrev", "read", 60, &d), 0);
	T_EQ_INT(issue(&f, "norev", "read", 60, &e), 0);
	T_EQ_INT(live_tokens(&f), 5);
	T_EQ_INT(broker_sweep(&f.b, 0, &r), 0);
	T_EQ_INT(r.expired + r.retrying + r.irrevocable, 0);

	janee_clock_offset_ms = 120000;
	T_EQ_INT(broker_sweep(&f.b, 0, &r), 0);
	T_EQ_INT(r.expired, 3); /* a, b and e (cannot revoke) */
	T_EQ_INT(r.retrying, 1); /* d */
	T_EQ_STR(state_of(&f, a.lease_id, st, sizeof(st)), "expired");
	T_EQ_STR(state_of(&f, b.lease_id, st, sizeof(st)), "expired");
	T_EQ_STR(state_of(&f, c.lease_id, st, sizeof(st)), "active");
	T_EQ_STR(state_of(&f, d.lease_id, st, sizeof(st)), "active");
	T_EQ_STR(state_of(&f, e.lease_id, st, sizeof(st)), "expired");
	/* a and b revoked at the provider; c, d and e still live there. */
	T_EQ_INT(live_tokens(&f), 3);
	T_EQ_INT(
	    count(&f,
		"SELECT count(*) FROM leases WHERE id = '%s' AND sealed_token IS NULL AND detail LIKE '%%cannot revoke%%'",
		e.lease_id),
	    1);
	/* Sealed copies are dropped once no longer needed. */
	T_EQ_INT(
	    count(&f,
		"SELECT count(*) FROM leases WHERE id = '%s' AND sealed_token IS NULL",
		a.lease_id),
	    1);

	/* Not due again until its backoff passes. */
	T_EQ_INT(broker_sweep(&f.b, 0, &r), 0);
	T_EQ_INT(r.retrying, 0);
	for (i = 2; i <= BROKER_MAX_ATTEMPTS; i++) {
		janee_clock_offset_ms += broker_backoff_ms(i - 1) + 1000;
		T_EQ_INT(broker_sweep(&f.b, 0, &r), 0);
		T_EQ_INT(r.retrying + r.irrevocable, 1);
	}
	T_EQ_INT(r.irrevocable, 1);
	T_EQ_STR(state_of(&f, d.lease_id, st, sizeof(st)), "irrevocable");
	/* The backoffs add up past c's hour: it expired on its own time. */
	T_EQ_STR(state_of(&f, c.lease_id, st, sizeof(st)), "expired");
	T_EQ_INT(
	    count(&f,
		"SELECT count(*) FROM audit WHERE lease_id = '%s' AND event = 'revoke_failed'",
		d.lease_id),
	    BROKER_MAX_ATTEMPTS - 1);
	T_EQ_INT(
	    count(&f,
		"SELECT count(*) FROM audit WHERE lease_id = '%s' AND event = 'irrevocable'",
		d.lease_id),
	    1);
	broker_grant_free(&a);
	broker_grant_free(&b);
	broker_grant_free(&c);
	broker_grant_free(&d);
	broker_grant_free(&e);
	fx_close(&f);
}

static void
sweep_reads_only_overdue_leases(void)
{
	struct fx f;
	sqlite3_stmt *st;
	char plan[512] = "";

	fx_open(&f, NULL);
	/* The query the sweep runs must use the partial due index. */
	T_EQ_INT(
	    ledger_prepare(f.lg,
		"EXPLAIN QUERY PLAN SELECT id, next_attempt_ms FROM leases WHERE state = 'active' AND next_attempt_ms <= 1 AND (next_attempt_ms, id) > (0, '') ORDER BY next_attempt_ms, id LIMIT 64",
		&st),
	    0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t n = strlen(plan);

		snprintf(plan + n, sizeof(plan) - n, "%s;",
		    sqlite3_column_text(st, 3));
	}
	sqlite3_finalize(st);
	T_ASSERT(strstr(plan, "leases_due") != NULL);
	T_ASSERT(strstr(plan, "SCAN") == NULL);
	fx_close(&f);
}

static void
ending_a_lease_revokes_it_now(void)
{
	struct fx f;
	struct broker_grant g;
	char st[32];

	fx_open(&f, NULL);
	T_EQ_INT(issue(&f, "t", "read", 600, &g), 0);
	T_EQ_INT(live_tokens(&f), 1);
	T_EQ_INT(broker_end(&f.b, g.lease_id, "done"), 0);
	T_EQ_STR(state_of(&f, g.lease_id, st, sizeof(st)), "revoked");
	T_EQ_INT(live_tokens(&f), 0);
	janee_err_clear();
	T_EQ_INT(broker_end(&f.b, g.lease_id, "again"), JANEE_ERR_STATE);
	janee_err_clear();
	T_EQ_INT(broker_end(&f.b, "lse_nosuchleaseaaaaaaaaaaaaaa", "x"),
	    JANEE_ERR_NOT_FOUND);
	broker_grant_free(&g);
	fx_close(&f);
}

static int
count_lease(const struct lease *l, void *arg)
{
	(void)l;
	++*(int *)arg;
	return 0;
}

static void
a_session_sees_and_ends_only_its_own_leases(void)
{
	struct fx f;
	struct broker_grant a, b, c;
	char st[32];
	int n = 0;

	fx_open(&f, NULL);
	f.b.session = "sess-a";
	T_EQ_INT(issue(&f, "t", "read", 600, &a), 0);
	T_EQ_INT(issue(&f, "t", "read", 600, &c), 0);
	f.b.session = "sess-b";
	T_EQ_INT(issue(&f, "t", "read", 600, &b), 0);
	T_EQ_INT(broker_session_leases(&f.b, "sess-a", count_lease, &n), 0);
	T_EQ_INT(n, 2);
	n = 0;
	T_EQ_INT(broker_session_leases(&f.b, "sess-b", count_lease, &n), 0);
	T_EQ_INT(n, 1);
	/* Another session's lease is refused as a missing one is. */
	janee_err_clear();
	T_EQ_INT(broker_session_end(&f.b, "sess-b", a.lease_id, "x"),
	    JANEE_ERR_NOT_FOUND);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_NOT_FOUND),
		     "not one of this session's") != NULL);
	janee_err_clear();
	T_EQ_INT(broker_session_end(
		     &f.b, "sess-b", "lse_nosuchleaseaaaaaaaaaaaaaa", "x"),
	    JANEE_ERR_NOT_FOUND);
	janee_err_clear();
	T_EQ_STR(state_of(&f, a.lease_id, st, sizeof(st)), "active");
	T_EQ_INT(broker_session_end(&f.b, "sess-a", a.lease_id, "done"), 0);
	T_EQ_STR(state_of(&f, a.lease_id, st, sizeof(st)), "revoked");
	/* Ended leases are not listed; a NULL session owns nothing. */
	n = 0;
	T_EQ_INT(broker_session_leases(&f.b, "sess-a", count_lease, &n), 0);
	T_EQ_INT(n, 1);
	T_EQ_INT(broker_session_end(&f.b, NULL, c.lease_id, "x"),
	    JANEE_ERR_NOT_FOUND);
	janee_err_clear();
	broker_grant_free(&a);
	broker_grant_free(&b);
	broker_grant_free(&c);
	fx_close(&f);
}

static void
a_session_collects_only_its_own_approved_lease(void)
{
	struct fx f;
	struct broker_req req;
	struct broker_grant g, got;

	fx_open(&f, NULL);
	memset(&req, 0, sizeof(req));
	req.provider = "oob";
	req.reason = "unit test";
	if (janee_strlist_add(&req.scopes, "read") != 0)
		abort();
	f.b.session = "sess-a";
	T_EQ_INT(
	    broker_submit(&f.b, &req, BROKER_CAN_WAIT, &g), JANEE_ERR_PENDING);
	janee_err_clear();
	T_EQ_INT(broker_decide(&f.b, g.lease_id, 1, "user", "ok", 0), 0);
	T_EQ_INT(broker_session_collect(&f.b, "sess-b", g.lease_id, &got),
	    JANEE_ERR_NOT_FOUND);
	T_ASSERT(janee_token_get(&got.tok, "token") == NULL);
	janee_err_clear();
	T_EQ_INT(broker_session_collect(&f.b, "sess-a", g.lease_id, &got), 0);
	T_ASSERT(janee_token_get(&got.tok, "token") != NULL);
	broker_grant_free(&got);
	broker_grant_free(&g);
	janee_strlist_free(&req.scopes);
	fx_close(&f);
}

static void
failing_revocation_keeps_the_lease_active_for_retry(void)
{
	struct fx f;
	struct broker_grant g;
	char st[32];

	fx_open(&f, NULL);
	T_EQ_INT(issue(&f, "failrev", "read", 600, &g), 0);
	T_EQ_INT(broker_end(&f.b, g.lease_id, "done"), JANEE_ERR_PROVIDER);
	T_EQ_STR(state_of(&f, g.lease_id, st, sizeof(st)), "active");
	T_EQ_INT(count(&f, "SELECT revoke_attempts FROM leases WHERE id = '%s'",
		     g.lease_id),
	    1);
	broker_grant_free(&g);
	fx_close(&f);
}

static void
invariant_5_read_only_ledger_fails_closed_before_minting(void)
{
	struct fx f;
	struct broker_grant g;

	fx_open(&f, NULL);
	T_EQ_INT(ledger_exec(f.lg, "PRAGMA query_only = 1"), 0);
	T_EQ_INT(issue(&f, "t", "read", 60, &g), JANEE_ERR_DB);
	T_ASSERT(janee_token_get(&g.tok, "token") == NULL);
	T_EQ_INT(mint_calls(&f), 0);
	T_EQ_INT(live_tokens(&f), 0);
	fx_close(&f);
}

static void
invariant_5_ledger_failing_after_mint_returns_no_token(void)
{
	struct fx f;
	struct broker_grant g;

	fx_open(&f, NULL);
	wrap_lg = f.lg;
	T_EQ_INT(issue(&f, "wrapped", "read", 60, &g), JANEE_ERR_DB);
	T_ASSERT(
	    strstr(janee_err_msg(JANEE_ERR_DB), "no token was issued") != NULL);
	T_ASSERT(janee_token_get(&g.tok, "token") == NULL);
	T_EQ_INT(mint_calls(&f), 1);
	/* The minted token was revoked at the provider at once. */
	T_EQ_INT(live_tokens(&f), 0);
	/* The ledger still knows a lease was being minted. */
	T_EQ_INT(ledger_exec(f.lg, "PRAGMA query_only = 0"), 0);
	T_EQ_INT(count(&f, "SELECT count(*) FROM leases WHERE state = '%s'",
		     "minting"),
	    1);
	wrap_lg = NULL;
	fx_close(&f);
}

static void
invariant_5_full_ledger_fails_closed(void)
{
	struct fx f;
	struct broker_grant g;
	struct audit_event filler = {
		.event = "x", .actor = "t", .outcome = "ok"
	};
	int64_t pages = 0;
	char sql[64];

	fx_open(&f, NULL);
	T_EQ_INT(ledger_exec(f.lg, "PRAGMA wal_checkpoint(TRUNCATE)"), 0);
	T_EQ_INT(ledger_count(f.lg, "PRAGMA page_count", &pages), 0);
	snprintf(
	    sql, sizeof(sql), "PRAGMA max_page_count = %lld", (long long)pages);
	T_EQ_INT(ledger_exec(f.lg, sql), 0);
	/*
	 * Fill the audit table's last page (rows append there) with small
	 * events: the request's own audit row cannot fit after that.
	 */
	while (audit_record(f.lg, &filler) == 0)
		;
	janee_err_clear();
	T_EQ_INT(issue(&f, "t", "read", 60, &g), JANEE_ERR_DB);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_DB), "full") != NULL);
	T_ASSERT(janee_token_get(&g.tok, "token") == NULL);
	T_EQ_INT(mint_calls(&f), 0);
	T_EQ_INT(live_tokens(&f), 0);
	fx_close(&f);
}

static void
invariant_8_repositories_stay_within_the_allow_list(void)
{
	struct fx f;
	struct broker_grant g;
	char *r;

	fx_open(&f, NULL);
	T_EQ_INT(issue_repos(&f, "repos", "read", 60, "api", &g), 0);
	r = repos_asked(&f);
	T_EQ_STR(r, "api,");
	free(r);
	broker_grant_free(&g);
	T_EQ_INT(issue_repos(&f, "repos", "read", 60, "secret-repo", &g),
	    JANEE_ERR_POLICY);
	T_ASSERT(
	    strstr(janee_err_msg(JANEE_ERR_POLICY), "'secret-repo'") != NULL);
	/* None asked for: the allow-list, never "all repositories". */
	T_EQ_INT(issue_repos(&f, "repos", "read", 60, NULL, &g), 0);
	r = repos_asked(&f);
	T_EQ_STR(r, "api,web,");
	free(r);
	broker_grant_free(&g);
	fx_close(&f);
}

static void
invariant_6_lease_is_durable_before_the_provider_is_called(void)
{
	struct fx f;
	struct broker_grant g;

	fx_open(&f, NULL);
	observe_db = f.h.db;
	observed[0] = '\0';
	T_EQ_INT(issue(&f, "wrapped", "read", 60, &g), 0);
	/* Another connection saw the committed lease, already minting. */
	T_EQ_STR(observed, "minting");
	broker_grant_free(&g);
	fx_close(&f);
}

/*
 * broker_route is the one decision (issue 12): every approval mode with
 * every front end, and require_out_of_band on the scopes as granted.
 */
static void
broker_route_decides_for_every_front_end(void)
{
	static const struct {
		enum approval approval;
		int oob_scope;
		unsigned can;
		enum broker_route want;
	} cases[] = {
		{ APPROVAL_AUTO, 0, 0, BROKER_AUTO },
		{ APPROVAL_AUTO, 1, 0, BROKER_DENY },
		{ APPROVAL_AUTO, 1, BROKER_CAN_WAIT, BROKER_OUT_OF_BAND },
		/* a prompt or an elicitation never answers a sensitive scope */
		{ APPROVAL_AUTO, 1, BROKER_CAN_PROMPT | BROKER_CAN_ELICIT,
		    BROKER_DENY },
		{ APPROVAL_ASK, 1,
		    BROKER_CAN_PROMPT | BROKER_CAN_ELICIT | BROKER_CAN_WAIT,
		    BROKER_OUT_OF_BAND },
		{ APPROVAL_ASK, 0, 0, BROKER_DENY },
		{ APPROVAL_ASK, 0, BROKER_CAN_PROMPT | BROKER_CAN_ELICIT,
		    BROKER_PROMPT },
		{ APPROVAL_ASK, 0, BROKER_CAN_ELICIT | BROKER_CAN_WAIT,
		    BROKER_ELICIT },
		{ APPROVAL_ASK, 0, BROKER_CAN_WAIT, BROKER_OUT_OF_BAND },
		{ APPROVAL_OUT_OF_BAND, 0,
		    BROKER_CAN_PROMPT | BROKER_CAN_ELICIT, BROKER_DENY },
		{ APPROVAL_OUT_OF_BAND, 0, BROKER_CAN_WAIT,
		    BROKER_OUT_OF_BAND },
		{ APPROVAL_DENY, 0, BROKER_CAN_PROMPT | BROKER_CAN_WAIT,
		    BROKER_DENY },
		{ APPROVAL_DENY, 1, BROKER_CAN_WAIT, BROKER_DENY },
	};
	static char name[] = "p";
	struct janee_strlist scopes;
	struct prov pv;
	size_t i;

	memset(&pv, 0, sizeof(pv));
	memset(&scopes, 0, sizeof(scopes));
	pv.name = name;
	if (janee_strlist_add(&pv.pol.oob_scopes, "*:write") != 0)
		abort();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		janee_strlist_free(&scopes);
		if (janee_strlist_add(&scopes, "issues:read") != 0 ||
		    (cases[i].oob_scope &&
			janee_strlist_add(&scopes, "issues:write") != 0))
			abort();
		pv.pol.approval = cases[i].approval;
		janee_err_clear();
		if (broker_route(&pv, &scopes, cases[i].can) != cases[i].want) {
			fprintf(stderr, "  case %zu: wrong route\n", i);
			T_ASSERT(0);
		}
		/* A refusal always says why. */
		if (cases[i].want == BROKER_DENY)
			T_ASSERT(strstr(janee_err_msg(JANEE_ERR_DENIED),
				     "provider 'p'") != NULL);
	}
	janee_err_clear();
	janee_strlist_free(&scopes);
	janee_strlist_free(&pv.pol.oob_scopes);
}

/* What a sweeper's claim hook saw: the note the agent leaves. */
struct seen_claim {
	struct fx *f;
	char id[JANEE_LEASE_ID_LEN];
	int64_t due, until, on_record;
	int n;
};

static void
seen_claiming(void *arg, const char *id, int64_t due, int64_t until)
{
	struct seen_claim *c = arg;
	struct lease l;

	snprintf(c->id, sizeof(c->id), "%s", id);
	c->due = due;
	c->until = until;
	c->n++;
	/* What the ledger says while the hook runs: not yet claimed. */
	c->on_record =
	    lease_load(c->f->lg, id, &l) == 0 ? l.next_attempt_ms : -1;
	if (c->on_record != -1)
		lease_free(&l);
}

/*
 * A sweeper claimed a due lease and died before it settled it (the
 * provider may or may not have revoked): the claim holds it for
 * BROKER_CLAIM_MS.  The lease is due again at the claim's end; the
 * agent's wake-up waits for exactly that (plus its backstop), sweeps
 * then and not before, and the sweep then ends the lease, once.
 */
static void
a_lease_claimed_by_a_dead_sweeper_is_due_at_the_claims_end(void)
{
	struct fx f;
	struct broker_grant g;
	struct sweep_report r = { 0 };
	struct agent_wake w = { .key_deadline = INT64_MAX, .configured = 1 };
	struct lease l;
	int64_t due = 0, until;
	char st[32];

	fx_open(&f, NULL);
	T_EQ_INT(issue(&f, "t", "read", 60, &g), 0);
	T_EQ_INT(broker_next_due(&f.b, &due), 0);
	T_EQ_INT(due, g.expires_ms);
	/* The dead sweeper's claim, 10 s after the end. */
	janee_clock_offset_ms = 70000;
	until = janee_now_ms() + BROKER_CLAIM_MS;
	T_EQ_INT(lease_claim(f.lg, g.lease_id, g.expires_ms, until), 0);
	/* Claimed already: a second claim on the old due time loses. */
	T_EQ_INT(lease_claim(f.lg, g.lease_id, g.expires_ms, until + 1),
	    JANEE_ERR_STATE);
	janee_err_clear();
	T_EQ_INT(broker_next_due(&f.b, &due), 0);
	T_EQ_INT(due, until);

	/* The agent's wake-up: for the claim's end, not before. */
	w.due = due;
	w.now = until - 5000;
	T_ASSERT(!agent_sweep_now(&w));
	T_EQ_INT(agent_wait_ms(&w), AGENT_CHECK_MS);
	w.now = until - 300;
	T_ASSERT(!agent_sweep_now(&w));
	T_EQ_INT(agent_wait_ms(&w), 300 + AGENT_BACKSTOP_MS);
	w.now = until + AGENT_BACKSTOP_MS - 1;
	T_ASSERT(!agent_sweep_now(&w));
	T_EQ_INT(agent_wait_ms(&w), 1);
	w.now = until + AGENT_BACKSTOP_MS;
	T_ASSERT(agent_sweep_now(&w));
	T_EQ_INT(agent_wait_ms(&w), 0);

	/* A sweep while the claim holds leaves the lease alone. */
	janee_clock_offset_ms =
	    until - 1000 - (janee_now_ms() - janee_clock_offset_ms);
	T_EQ_INT(broker_sweep(&f.b, 0, &r), 0);
	T_EQ_INT(r.expired, 0);
	T_EQ_STR(state_of(&f, g.lease_id, st, sizeof(st)), "active");
	T_EQ_INT(live_tokens(&f), 1);
	/* Once it ran out, the next sweep takes the lease and ends it. */
	janee_clock_offset_ms += 1000 + AGENT_BACKSTOP_MS;
	T_EQ_INT(broker_sweep(&f.b, 0, &r), 0);
	T_EQ_INT(r.expired, 1);
	T_EQ_STR(state_of(&f, g.lease_id, st, sizeof(st)), "expired");
	T_EQ_INT(live_tokens(&f), 0);
	T_EQ_INT(
	    count(&f,
		"SELECT count(*) FROM audit WHERE lease_id = '%s' AND event = 'expired'",
		g.lease_id),
	    1);
	T_EQ_INT(broker_next_due(&f.b, &due), 0);
	T_EQ_INT(due, INT64_MAX);
	T_EQ_INT(lease_load(f.lg, g.lease_id, &l), 0);
	T_ASSERT(l.ended_ms >= until);
	lease_free(&l);
	broker_grant_free(&g);
	fx_close(&f);
}

/*
 * The agent after a dead one gives the dead one's claim back at once
 * (broker_unclaim, from the note of r->claiming): only that claim, and
 * only while it holds; the lease is then due at its old time and the
 * next sweep ends it.  The note is taken before the claim.
 */
static void
a_dead_agents_claim_is_given_back_at_once(void)
{
	struct fx f;
	struct broker_grant a, b;
	struct sweep_report r = { 0 };
	struct seen_claim c;
	int64_t due = 0, until;
	char st[32];

	fx_open(&f, NULL);
	memset(&c, 0, sizeof(c));
	c.f = &f;
	T_EQ_INT(issue(&f, "t", "read", 60, &a), 0);
	T_EQ_INT(issue(&f, "t", "read", 600, &b), 0);

	/* The claim hook hears of each claim first, with what to undo. */
	janee_clock_offset_ms = 61000;
	r.claiming = seen_claiming;
	r.arg = &c;
	T_EQ_INT(broker_sweep(&f.b, 0, &r), 0);
	T_EQ_INT(c.n, 1);
	T_EQ_STR(c.id, a.lease_id);
	T_EQ_INT(c.due, a.expires_ms);
	T_EQ_INT(c.on_record, a.expires_ms);
	T_ASSERT(c.until >= janee_now_ms() + BROKER_CLAIM_MS - 1000 &&
	    c.until <= janee_now_ms() + BROKER_CLAIM_MS);
	T_EQ_STR(state_of(&f, a.lease_id, st, sizeof(st)), "expired");

	/* b: claimed by an agent that died then. */
	janee_clock_offset_ms = 601000;
	until = janee_now_ms() + BROKER_CLAIM_MS;
	T_EQ_INT(lease_claim(f.lg, b.lease_id, b.expires_ms, until), 0);
	T_EQ_INT(broker_sweep(&f.b, 0, &r), 0);
	T_EQ_INT(r.expired, 0);
	/* Another claim than the note's, or a note of no claim: nothing. */
	T_EQ_INT(broker_unclaim(&f.b, b.lease_id, b.expires_ms, until + 1),
	    JANEE_ERR_STATE);
	janee_err_clear();
	T_EQ_INT(broker_unclaim(&f.b, a.lease_id, a.expires_ms, c.until),
	    JANEE_ERR_STATE);
	janee_err_clear();
	T_EQ_STR(state_of(&f, a.lease_id, st, sizeof(st)), "expired");
	T_EQ_INT(broker_next_due(&f.b, &due), 0);
	T_EQ_INT(due, until);
	/* The note's claim: given back, the lease due at its end again. */
	T_EQ_INT(broker_unclaim(&f.b, b.lease_id, b.expires_ms, until), 0);
	T_EQ_INT(broker_next_due(&f.b, &due), 0);
	T_EQ_INT(due, b.expires_ms);
	T_EQ_INT(broker_sweep(&f.b, 0, &r), 0);
	T_EQ_INT(r.expired, 1);
	T_EQ_STR(state_of(&f, b.lease_id, st, sizeof(st)), "expired");
	T_EQ_INT(live_tokens(&f), 0);
	/* Settled: the note is stale and changes nothing. */
	T_EQ_INT(broker_unclaim(&f.b, b.lease_id, b.expires_ms, until),
	    JANEE_ERR_STATE);
	janee_err_clear();
	T_EQ_INT(
	    count(&f,
		"SELECT count(*) FROM audit WHERE lease_id = '%s' AND event = 'expired'",
		b.lease_id),
	    1);
	broker_grant_free(&a);
	broker_grant_free(&b);
	fx_close(&f);
}

/* agent.lock's note: what the agent writes, the next one reads. */
static void
the_agents_note_reads_back_and_refuses_anything_else(void)
{
	char line[AGENT_NOTE_LEN], text[256], id[JANEE_LEASE_ID_LEN];
	const char *lid = "lse_abcdefghijklmnopqrstuvwxyz";
	int64_t due = 0, until = 0;
	int n;

	n = agent_note_format(line, lid, 1796620864314, 1796620924816);
	T_ASSERT(n > 0 && line[n - 1] == '\n' && (size_t)n == strlen(line));
	snprintf(text, sizeof(text), "4711\n%s", line);
	T_EQ_INT(agent_note_parse(text, id, &due, &until), 0);
	T_EQ_STR(id, lid);
	T_EQ_INT(due, 1796620864314);
	T_EQ_INT(until, 1796620924816);
	/* The pid alone: no note. */
	T_EQ_INT(
	    agent_note_parse("4711\n", id, &due, &until), JANEE_ERR_NOT_FOUND);
	T_EQ_INT(agent_note_parse("", id, &due, &until), JANEE_ERR_NOT_FOUND);
	/* Cut short (a write that did not finish), or not a note. */
	snprintf(text, sizeof(text), "4711\n%.*s", n - 3, line);
	T_EQ_INT(agent_note_parse(text, id, &due, &until), JANEE_ERR_NOT_FOUND);
	T_EQ_INT(
	    agent_note_parse("4711\nrevoked lse_abc 1 2\n", id, &due, &until),
	    JANEE_ERR_NOT_FOUND);
	T_EQ_INT(
	    agent_note_parse("4711\nrevoking grt_abc 1 2\n", id, &due, &until),
	    JANEE_ERR_NOT_FOUND);
	T_EQ_INT(
	    agent_note_parse("4711\nrevoking lse_abc 2 2\n", id, &due, &until),
	    JANEE_ERR_NOT_FOUND);
	T_EQ_INT(agent_note_parse(
		     "4711\nrevoking lse_abcdefghijklmnopqrstuvwxyz0123 1 2\n",
		     id, &due, &until),
	    JANEE_ERR_NOT_FOUND);
	/* An id that does not fit is not written. */
	T_EQ_INT(agent_note_format(line,
		     "lse_abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
		     "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
		     1, 2),
	    0);
}

/* The rest of the agent's wake-up: the key, a stall, a retry, no config. */
static void
the_agent_wakes_for_the_first_thing_due(void)
{
	struct agent_wake w = { .now = 100000,
		.due = INT64_MAX,
		.key_deadline = INT64_MAX,
		.configured = 1 };

	/* Nothing due: the one-second check. */
	T_ASSERT(!agent_sweep_now(&w));
	T_EQ_INT(agent_wait_ms(&w), AGENT_CHECK_MS);
	/* The key's deadline first. */
	w.key_deadline = w.now + 200;
	T_EQ_INT(agent_wait_ms(&w), 200);
	w.key_deadline = w.now - 5;
	T_EQ_INT(agent_wait_ms(&w), 0);
	w.key_deadline = INT64_MAX;
	/* A lease due: its end and the backstop. */
	w.due = w.now + 100;
	T_EQ_INT(agent_wait_ms(&w), 100 + AGENT_BACKSTOP_MS);
	/* Overdue, but leases wait for a key, or the last sweep failed. */
	w.due = w.now - 10000;
	T_ASSERT(agent_sweep_now(&w));
	w.stall_until = w.now + 700;
	T_ASSERT(!agent_sweep_now(&w));
	T_EQ_INT(agent_wait_ms(&w), 700);
	w.stall_until = 0;
	w.retry_at = w.now + 400;
	T_ASSERT(!agent_sweep_now(&w));
	T_EQ_INT(agent_wait_ms(&w), 400);
	w.retry_at = 0;
	/* No configuration: nothing to sweep with, only the check. */
	w.configured = 0;
	T_ASSERT(!agent_sweep_now(&w));
	T_EQ_INT(agent_wait_ms(&w), AGENT_CHECK_MS);
	/* An end at the far end of time does not overflow. */
	w.configured = 1;
	w.due = INT64_MAX - 1;
	T_ASSERT(!agent_sweep_now(&w));
	T_EQ_INT(agent_wait_ms(&w), AGENT_CHECK_MS);
}

int
main(void)
{
	T_RUN(auto_approval_issues_a_recorded_sealed_token);
	T_RUN(invariant_8_scope_outside_ceiling_is_refused_before_minting);
	T_RUN(invariant_8_ttl_is_bounded_and_no_scope_is_never_everything);
	T_RUN(approval_modes_are_honoured);
	T_RUN(broker_route_decides_for_every_front_end);
	T_RUN(mint_failure_is_recorded_as_failed);
	T_RUN(lease_never_outlives_the_providers_expiry);
	T_RUN(sweep_handles_due_not_due_and_failing_leases);
	T_RUN(sweep_reads_only_overdue_leases);
	T_RUN(ending_a_lease_revokes_it_now);
	T_RUN(a_session_sees_and_ends_only_its_own_leases);
	T_RUN(a_session_collects_only_its_own_approved_lease);
	T_RUN(failing_revocation_keeps_the_lease_active_for_retry);
	T_RUN(invariant_5_read_only_ledger_fails_closed_before_minting);
	T_RUN(invariant_5_ledger_failing_after_mint_returns_no_token);
	T_RUN(invariant_5_full_ledger_fails_closed);
	T_RUN(invariant_6_lease_is_durable_before_the_provider_is_called);
	T_RUN(invariant_8_repositories_stay_within_the_allow_list);
	T_RUN(a_lease_claimed_by_a_dead_sweeper_is_due_at_the_claims_end);
	T_RUN(a_dead_agents_claim_is_given_back_at_once);
	T_RUN(the_agents_note_reads_back_and_refuses_anything_else);
	T_RUN(the_agent_wakes_for_the_first_thing_due);
	return t_done();
}
