/* Unit tests: ledger migrations and the lease state machine. */
#include "common.h"

#include "lease.h"
#include "ledger.h"
#include "util.h"

#include "t.h"

static char *
db_path(void)
{
	char *dir = t_tmpdir(), *p = janee_asprintf("%s/janee.db", dir);

	free(dir);
	return p;
}

static void
migrates_empty_database_to_latest(void)
{
	struct ledger *lg = NULL;
	char *p = db_path();
	int v = -1;
	int64_t n = -1;

	T_EQ_INT(ledger_open(p, 1, &lg), 0);
	T_EQ_INT(ledger_schema_version(lg, &v), 0);
	T_EQ_INT(v, LEDGER_SCHEMA_VERSION);
	T_EQ_INT(
	    ledger_count(lg,
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'secrets', 'leases', 'audit')",
		&n),
	    0);
	T_EQ_INT(n, 4);
	T_EQ_INT(ledger_count(lg, "PRAGMA journal_mode", &n), 0);
	ledger_close(lg);
	/* Opening again migrates nothing and keeps the version. */
	T_EQ_INT(ledger_open(p, 0, &lg), 0);
	T_EQ_INT(ledger_schema_version(lg, &v), 0);
	T_EQ_INT(v, LEDGER_SCHEMA_VERSION);
	ledger_close(lg);
	free(p);
}

/* Put one row in each table that exists at version v. */
static void
fill_at(struct ledger *lg, int v)
{
	if (v >= 2)
		T_EQ_INT(
		    ledger_exec(lg,
			"INSERT INTO credentials (provider, sealed, created_ms, updated_ms) VALUES ('probe', x'00', 1, 1)"),
		    0);
	if (v >= 1)
		T_EQ_INT(
		    ledger_exec(lg,
			"INSERT INTO meta VALUES ('probe', 'kept');INSERT INTO leases (id, provider, client, requested_scopes, state, ttl_s, created_ms) VALUES ('lse_probe', 't', 'cli', '[]', 'requested', 60, 1)"),
		    0);
}

static void
migrates_from_every_earlier_version_keeping_data(void)
{
	struct ledger *lg;
	int from, v;
	int64_t n;
	char *p;

	for (from = 0; from < LEDGER_SCHEMA_VERSION; from++) {
		p = db_path();
		lg = NULL;
		T_EQ_INT(ledger_open_at(p, 1, from, &lg), 0);
		T_EQ_INT(ledger_schema_version(lg, &v), 0);
		T_EQ_INT(v, from);
		fill_at(lg, from);
		ledger_close(lg);
		T_EQ_INT(ledger_open(p, 0, &lg), 0);
		T_EQ_INT(ledger_schema_version(lg, &v), 0);
		T_EQ_INT(v, LEDGER_SCHEMA_VERSION);
		n = -1;
		T_EQ_INT(
		    ledger_count(lg,
			"SELECT count(*) FROM leases WHERE id = 'lse_probe'",
			&n),
		    0);
		T_EQ_INT(n, from >= 1 ? 1 : 0);
		T_EQ_INT(ledger_count(lg, "PRAGMA integrity_check = 1", &n), 0);
		ledger_close(lg);
		free(p);
	}
}

static void
refuses_ledger_from_newer_janee(void)
{
	struct ledger *lg = NULL;
	char *p = db_path(), sql[64];

	T_EQ_INT(ledger_open(p, 1, &lg), 0);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    LEDGER_SCHEMA_VERSION + 1);
	T_EQ_INT(ledger_exec(lg, sql), 0);
	ledger_close(lg);
	lg = NULL;
	janee_err_clear();
	T_EQ_INT(ledger_open(p, 0, &lg), JANEE_ERR_SCHEMA);
	T_ASSERT(lg == NULL);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_SCHEMA), "newer") != NULL);
	janee_err_clear();
	free(p);
}

static void
missing_ledger_is_not_created_without_asking(void)
{
	struct ledger *lg = NULL;
	char *p = db_path();

	janee_err_clear();
	T_ASSERT(ledger_open(p, 0, &lg) != 0);
	T_ASSERT(access(p, F_OK) != 0);
	janee_err_clear();
	free(p);
}

/* The legal transitions, written out independently of lease.c's table. */
static int
expected_legal(enum lease_state f, enum lease_state t)
{
	static const struct {
		enum lease_state f, t;
	} legal[] = {
		{ LEASE_REQUESTED, LEASE_APPROVED },
		{ LEASE_REQUESTED, LEASE_DENIED },
		{ LEASE_APPROVED, LEASE_MINTING },
		{ LEASE_APPROVED, LEASE_DENIED },
		{ LEASE_MINTING, LEASE_ACTIVE },
		{ LEASE_MINTING, LEASE_FAILED },
		{ LEASE_MINTING, LEASE_ORPHANED },
		{ LEASE_ACTIVE, LEASE_EXPIRED },
		{ LEASE_ACTIVE, LEASE_REVOKED },
		{ LEASE_ACTIVE, LEASE_IRREVOCABLE },
	};
	size_t i;

	for (i = 0; i < nitems(legal); i++)
		if (legal[i].f == f && legal[i].t == t)
			return 1;
	return 0;
}

/* A lease that owns its strings, in state requested. */
static void
new_lease(struct lease *l, const char *scopes)
{
	memset(l, 0, sizeof(*l));
	T_EQ_INT(janee_lease_id_new(l->id), 0);
	T_EQ_INT(lease_set_str(&l->provider, "t"), 0);
	T_EQ_INT(lease_set_str(&l->client, "cli"), 0);
	T_EQ_INT(lease_set_str(&l->requested, scopes), 0);
	l->state = LEASE_REQUESTED;
	l->ttl_s = 60;
	l->created_ms = janee_now_ms();
}

/* Force a lease row into state s, behind the state machine's back. */
static void
force_state(struct ledger *lg, const char *id, enum lease_state s)
{
	char *sql =
	    janee_asprintf("UPDATE leases SET state = '%s' WHERE id = '%s'",
		lease_state_name(s), id);

	T_EQ_INT(ledger_exec(lg, sql), 0);
	free(sql);
}

static void
every_transition_is_legal_or_refused_as_specified(void)
{
	struct ledger *lg = NULL;
	struct lease l;
	char *p = db_path();
	int64_t n;
	int f, t, rc;

	T_EQ_INT(ledger_open(p, 1, &lg), 0);
	new_lease(&l, "[\"read\"]");
	T_EQ_INT(ledger_begin(lg), 0);
	T_EQ_INT(lease_insert(lg, &l), 0);
	T_EQ_INT(ledger_commit(lg), 0);
	for (f = 0; f < LEASE_NSTATES; f++) {
		for (t = 0; t < LEASE_NSTATES; t++) {
			if (f == t)
				continue;
			T_EQ_INT(
			    lease_transition_ok(f, t), expected_legal(f, t));
			force_state(lg, l.id, f);
			l.state = t;
			janee_err_clear();
			rc = lease_save(lg, &l, f);
			if (expected_legal(f, t)) {
				T_EQ_INT(rc, 0);
			} else {
				T_EQ_INT(rc, JANEE_ERR_STATE);
				/* the row did not move */
				char *sql = janee_asprintf(
				    "SELECT count(*) FROM leases WHERE state = '%s'",
				    lease_state_name(f));
				T_EQ_INT(ledger_count(lg, sql, &n), 0);
				T_EQ_INT(n, 1);
				free(sql);
			}
		}
	}
	/* Final states have no way out. */
	T_ASSERT(lease_state_final(LEASE_EXPIRED));
	T_ASSERT(lease_state_final(LEASE_DENIED));
	T_ASSERT(lease_state_final(LEASE_ORPHANED));
	T_ASSERT(!lease_state_final(LEASE_ACTIVE));
	janee_err_clear();
	lease_free(&l);
	ledger_close(lg);
	free(p);
}

static void
a_lost_race_is_refused(void)
{
	struct ledger *lg = NULL;
	struct lease l;
	char *p = db_path();

	T_EQ_INT(ledger_open(p, 1, &lg), 0);
	new_lease(&l, "[]");
	T_EQ_INT(ledger_begin(lg), 0);
	T_EQ_INT(lease_insert(lg, &l), 0);
	T_EQ_INT(ledger_commit(lg), 0);
	/* Another process moved it to denied; we still think requested. */
	force_state(lg, l.id, LEASE_DENIED);
	l.state = LEASE_APPROVED;
	janee_err_clear();
	T_EQ_INT(lease_save(lg, &l, LEASE_REQUESTED), JANEE_ERR_STATE);
	janee_err_clear();
	/* A new lease must start as requested. */
	l.state = LEASE_ACTIVE;
	T_EQ_INT(lease_insert(lg, &l), JANEE_ERR_STATE);
	janee_err_clear();
	lease_free(&l);
	ledger_close(lg);
	free(p);
}

/*
 * A sweeper's claim is a compare-and-set on the due time it read: the
 * claim of a sweeper that read the lease before another claimed it is
 * refused, so that two processes never revoke one token at once.
 */
static void
a_claim_on_a_stale_due_time_is_refused(void)
{
	struct ledger *lg = NULL;
	struct lease l;
	char *p = db_path();
	int64_t due = 1000;

	T_EQ_INT(ledger_open(p, 1, &lg), 0);
	new_lease(&l, "[]");
	T_EQ_INT(ledger_begin(lg), 0);
	T_EQ_INT(lease_insert(lg, &l), 0);
	T_EQ_INT(ledger_commit(lg), 0);
	force_state(lg, l.id, LEASE_ACTIVE);
	T_EQ_INT(
	    ledger_exec(lg, "UPDATE leases SET next_attempt_ms = 1000"), 0);
	/* Two sweepers read due 1000; the first claims it until 61000. */
	T_EQ_INT(lease_claim(lg, l.id, due, 61000), 0);
	janee_err_clear();
	T_EQ_INT(lease_claim(lg, l.id, due, 62000), JANEE_ERR_STATE);
	janee_err_clear();
	/* The one who read the new due time may claim it (the control). */
	T_EQ_INT(lease_claim(lg, l.id, 61000, 121000), 0);
	/* Only an active lease is claimed. */
	force_state(lg, l.id, LEASE_REVOKED);
	janee_err_clear();
	T_EQ_INT(lease_claim(lg, l.id, 121000, 181000), JANEE_ERR_STATE);
	janee_err_clear();
	lease_free(&l);
	ledger_close(lg);
	free(p);
}

/*
 * Migration 6 rebuilds the leases table: a lease a crashed janee left
 * minting keeps its row and gets when minting began (for the stale
 * check), and the new state is accepted by the CHECK constraint.
 */
static void
migration_6_keeps_a_minting_lease_and_allows_orphaned(void)
{
	struct ledger *lg = NULL;
	char *p = db_path();
	int64_t n = -1;

	T_EQ_INT(ledger_open_at(p, 1, 5, &lg), 0);
	T_EQ_INT(
	    ledger_exec(lg,
		"INSERT INTO leases (id, provider, client, requested_scopes, state, ttl_s, created_ms, approved_ms) VALUES ('lse_cut', 't', 'cli', '[]', 'minting', 60, 5, 7)"),
	    0);
	janee_err_clear();
	T_EQ_INT(
	    ledger_exec(lg,
		"UPDATE leases SET state = 'orphaned' WHERE id = 'lse_cut'"),
	    JANEE_ERR_DB);
	janee_err_clear();
	ledger_close(lg);
	T_EQ_INT(ledger_open(p, 0, &lg), 0);
	T_EQ_INT(
	    ledger_count(lg,
		"SELECT minting_ms FROM leases WHERE id = 'lse_cut' AND state = 'minting'",
		&n),
	    0);
	T_EQ_INT(n, 7);
	T_EQ_INT(
	    ledger_count(lg,
		"SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'leases' AND name LIKE 'leases_%'",
		&n),
	    0);
	T_EQ_INT(n, 6);
	T_EQ_INT(
	    ledger_exec(lg,
		"UPDATE leases SET state = 'orphaned' WHERE id = 'lse_cut'"),
	    0);
	ledger_close(lg);
	free(p);
}

static int
count_one(const struct lease *l, void *arg)
{
	(void)l;
	(*(int *)arg)++;
	return 0;
}

/*
 * `lease list --active` shows an orphaned lease while its token may be
 * live (or for ever when its end is unknown), and no longer after.
 */
static void
active_listing_shows_an_orphan_while_it_may_be_live(void)
{
	struct lease_filter f = { .active_only = 1 };
	struct ledger *lg = NULL;
	struct lease l;
	char *p = db_path(), *sql;
	int64_t now = janee_now_ms();
	int n;

	T_EQ_INT(ledger_open(p, 1, &lg), 0);
	new_lease(&l, "[]");
	T_EQ_INT(ledger_begin(lg), 0);
	T_EQ_INT(lease_insert(lg, &l), 0);
	T_EQ_INT(ledger_commit(lg), 0);
	force_state(lg, l.id, LEASE_ORPHANED);
	sql = janee_asprintf(
	    "UPDATE leases SET expires_ms = %lld WHERE id = '%s'",
	    (long long)(now + 60000), l.id);
	T_EQ_INT(ledger_exec(lg, sql), 0);
	free(sql);
	n = 0;
	T_EQ_INT(lease_each(lg, &f, count_one, &n), 0);
	T_EQ_INT(n, 1);
	T_EQ_INT(ledger_exec(lg, "UPDATE leases SET expires_ms = NULL"), 0);
	n = 0;
	T_EQ_INT(lease_each(lg, &f, count_one, &n), 0);
	T_EQ_INT(n, 1);
	sql = janee_asprintf(
	    "UPDATE leases SET expires_ms = %lld", (long long)(now - 1000));
	T_EQ_INT(ledger_exec(lg, sql), 0);
	free(sql);
	n = 0;
	T_EQ_INT(lease_each(lg, &f, count_one, &n), 0);
	T_EQ_INT(n, 0);
	f.active_only = 0;
	T_EQ_INT(lease_each(lg, &f, count_one, &n), 0);
	T_EQ_INT(n, 1);
	lease_free(&l);
	ledger_close(lg);
	free(p);
}

static void
state_names_round_trip(void)
{
	enum lease_state s;
	int i;

	for (i = 0; i < LEASE_NSTATES; i++) {
		T_EQ_INT(lease_state_parse(lease_state_name(i), &s), 0);
		T_EQ_INT(s, i);
	}
	janee_err_clear();
	T_ASSERT(lease_state_parse("zombie", &s) != 0);
	janee_err_clear();
}

int
main(void)
{
	T_RUN(migrates_empty_database_to_latest);
	T_RUN(migrates_from_every_earlier_version_keeping_data);
	T_RUN(refuses_ledger_from_newer_janee);
	T_RUN(missing_ledger_is_not_created_without_asking);
	T_RUN(every_transition_is_legal_or_refused_as_specified);
	T_RUN(a_lost_race_is_refused);
	T_RUN(a_claim_on_a_stale_due_time_is_refused);
	T_RUN(state_names_round_trip);
	T_RUN(migration_6_keeps_a_minting_lease_and_allows_orphaned);
	T_RUN(active_listing_shows_an_orphan_while_it_may_be_live);
	return t_done();
}
