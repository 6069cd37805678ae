/* Session grant rows (grant.h); the broker alone writes them. */
#include "common.h"

#include "grant.h"
#include "lease.h"

void
grant_free(struct grant *g)
{
	free(g->session);
	free(g->client);
	free(g->provider);
	free(g->scopes);
	free(g->repositories);
	free(g->actor);
	free(g->detail);
	memset(g, 0, sizeof(*g));
}

int
grant_id_new(char out[JANEE_LEASE_ID_LEN])
{
	int rc;

	/* The same 128 random bits as a lease id, named for what it is. */
	if ((rc = janee_lease_id_new(out)) != 0)
		return rc;
	memcpy(out, "grt_", 4);
	return 0;
}

int
grant_id_valid(const char *s)
{
	char tmp[JANEE_LEASE_ID_LEN];

	if (s == NULL || strlen(s) != JANEE_LEASE_ID_LEN - 1 ||
	    strncmp(s, "grt_", 4) != 0)
		return 0;
	memcpy(tmp, s, JANEE_LEASE_ID_LEN);
	memcpy(tmp, "lse_", 4);
	return janee_lease_id_valid(tmp);
}

int
grant_live(const struct grant *g, int64_t now_ms)
{
	return !g->revoked && g->expires_ms > now_ms;
}

static int
step_done(struct ledger *lg, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : ledger_fail(lg, what);

	sqlite3_finalize(st);
	return rc;
}

int
grant_insert(struct ledger *lg, const struct grant *g)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = ledger_prepare(lg,
		 "INSERT INTO grants (id, session, client, provider, scopes, "
		 "repositories, max_ttl_s, lease_id, created_ms, expires_ms, "
		 "state, actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
		 "?10, 'active', ?11)",
		 &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, g->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, g->session, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, g->client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, g->provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, g->scopes, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, g->repositories, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, g->max_ttl_s);
	sqlite3_bind_text(st, 8, g->lease_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, g->created_ms);
	sqlite3_bind_int64(st, 10, g->expires_ms);
	sqlite3_bind_text(st, 11, g->actor, -1, SQLITE_STATIC);
	return step_done(lg, st, "cannot record the session grant");
}

int
grant_link(struct ledger *lg, const char *grant_id, const char *lease_id)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = ledger_prepare(lg,
		 "INSERT INTO grant_leases (grant_id, lease_id) VALUES (?, ?)",
		 &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, grant_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, lease_id, -1, SQLITE_STATIC);
	return step_done(lg, st, "cannot link the lease to its grant");
}

int
grant_revoke(
    struct ledger *lg, const char *id, int64_t now_ms, const char *detail)
{
	sqlite3_stmt *st;
	int rc;

	/* Only a live grant: one ended or expired stays as it is. */
	if ((rc = ledger_prepare(lg,
		 "UPDATE grants SET state = 'revoked', ended_ms = ?2, "
		 "detail = ?3 WHERE id = ?1 AND state = 'active' AND "
		 "expires_ms > ?2",
		 &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_bind_text(st, 3, detail, -1, SQLITE_STATIC);
	if ((rc = step_done(lg, st, "cannot revoke the session grant")) != 0)
		return rc;
	if (sqlite3_changes(lg->db) != 1)
		return janee_err_set(JANEE_ERR_STATE,
		    "session grant %s is not in force (it ended or expired)",
		    id);
	return 0;
}

#define GRANT_COLS \
	"id, session, client, provider, scopes, repositories, max_ttl_s, " \
	"lease_id, created_ms, expires_ms, ended_ms, state, actor, detail"

static int
dup_col(sqlite3_stmt *st, int i, char **out)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return janee_strdup_opt(s, out);
}

static int
grant_from_row(sqlite3_stmt *st, struct grant *g)
{
	const char *s;
	int rc;

	memset(g, 0, sizeof(*g));
	s = (const char *)sqlite3_column_text(st, 0);
	snprintf(g->id, sizeof(g->id), "%s", s ? s : "");
	s = (const char *)sqlite3_column_text(st, 7);
	snprintf(g->lease_id, sizeof(g->lease_id), "%s", s ? s : "");
	if ((rc = dup_col(st, 1, &g->session)) != 0 ||
	    (rc = dup_col(st, 2, &g->client)) != 0 ||
	    (rc = dup_col(st, 3, &g->provider)) != 0 ||
	    (rc = dup_col(st, 4, &g->scopes)) != 0 ||
	    (rc = dup_col(st, 5, &g->repositories)) != 0 ||
	    (rc = dup_col(st, 12, &g->actor)) != 0 ||
	    (rc = dup_col(st, 13, &g->detail)) != 0) {
		grant_free(g);
		return rc;
	}
	g->max_ttl_s = sqlite3_column_int64(st, 6);
	g->created_ms = sqlite3_column_int64(st, 8);
	g->expires_ms = sqlite3_column_int64(st, 9);
	g->ended_ms = sqlite3_column_int64(st, 10);
	s = (const char *)sqlite3_column_text(st, 11);
	g->revoked = s != NULL && strcmp(s, "revoked") == 0;
	return 0;
}

int
grant_load(struct ledger *lg, const char *id, struct grant *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ledger_prepare(lg,
		 "SELECT " GRANT_COLS " FROM grants WHERE id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		rc = grant_from_row(st, out);
		break;
	case SQLITE_DONE:
		rc = janee_err_set(JANEE_ERR_NOT_FOUND,
		    "no session grant '%s'; list them with: janee lease list "
		    "--grants",
		    id);
		break;
	default:
		rc = ledger_fail(lg, "cannot read the session grant");
	}
	sqlite3_finalize(st);
	return rc;
}

/* Whether every string of want is in the JSON array have. */
static int
within(const struct janee_strlist *want, const char *have_json)
{
	struct janee_strlist have;
	size_t i;
	int ok = 1;

	memset(&have, 0, sizeof(have));
	if (lease_scopes_parse(have_json, &have) != 0) {
		janee_err_clear();
		return 0; /* a damaged row covers nothing */
	}
	for (i = 0; ok && i < want->n; i++)
		ok = janee_strlist_has(&have, want->v[i]);
	janee_strlist_free(&have);
	return ok;
}

static int
covers(const struct grant *g, const struct janee_strlist *scopes,
    const struct janee_strlist *repos, int64_t ttl_s)
{
	if (scopes->n == 0 || ttl_s < 1 || ttl_s > g->max_ttl_s ||
	    !within(scopes, g->scopes))
		return 0;
	/* "No repositories" may mean "every repository" to a provider. */
	if (g->repositories == NULL)
		return repos->n == 0;
	return repos->n > 0 && within(repos, g->repositories);
}

int
grant_find_cover(struct ledger *lg, const char *session, const char *provider,
    const struct janee_strlist *scopes, const struct janee_strlist *repos,
    int64_t ttl_s, int64_t now_ms, struct grant *out)
{
	sqlite3_stmt *st;
	int rc, step;

	memset(out, 0, sizeof(*out));
	if (session == NULL)
		return JANEE_ERR_NOT_FOUND;
	if ((rc = ledger_prepare(lg,
		 "SELECT " GRANT_COLS " FROM grants WHERE session = ?1 AND "
		 "provider = ?2 AND state = 'active' AND expires_ms > ?3 "
		 "ORDER BY created_ms, id",
		 &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, provider, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	rc = JANEE_ERR_NOT_FOUND;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = grant_from_row(st, out)) != 0)
			break;
		if (covers(out, scopes, repos, ttl_s)) {
			rc = 0;
			break;
		}
		grant_free(out);
		rc = JANEE_ERR_NOT_FOUND;
	}
	if (rc == JANEE_ERR_NOT_FOUND && step != SQLITE_DONE)
		rc = ledger_fail(lg, "cannot read session grants");
	sqlite3_finalize(st);
	return rc;
}

int
grant_each(struct ledger *lg, const struct grant_filter *f,
    int (*fn)(const struct grant *g, void *arg), void *arg)
{
	struct grant g;
	sqlite3_stmt *st;
	int rc, step;

	if ((rc = ledger_prepare(lg,
		 "SELECT " GRANT_COLS " FROM grants WHERE ?1 = 0 OR "
		 "(state = 'active' AND expires_ms > ?2) "
		 "ORDER BY created_ms DESC, id",
		 &st)) != 0)
		return rc;
	sqlite3_bind_int(st, 1, f->live_only);
	sqlite3_bind_int64(st, 2, f->now_ms);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = grant_from_row(st, &g)) != 0)
			break;
		rc = fn(&g, arg);
		grant_free(&g);
		if (rc != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = ledger_fail(lg, "cannot read session grants");
	sqlite3_finalize(st);
	return rc;
}

/* Each row's first column, a text, appended to ids. */
static int
collect_ids(struct ledger *lg, sqlite3_stmt *st, struct janee_strlist *ids,
    const char *what)
{
	int rc = 0, step;

	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = janee_strlist_add(
			 ids, (const char *)sqlite3_column_text(st, 0))) != 0)
			break;
	if (rc == 0 && step != SQLITE_DONE)
		rc = ledger_fail(lg, what);
	sqlite3_finalize(st);
	return rc;
}

int
grant_live_of_provider(struct ledger *lg, const char *provider, int64_t now_ms,
    struct janee_strlist *ids)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = ledger_prepare(lg,
		 "SELECT id FROM grants WHERE provider = ?1 AND "
		 "state = 'active' AND expires_ms > ?2 ORDER BY created_ms, id",
		 &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, provider, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	return collect_ids(lg, st, ids, "cannot read session grants");
}

int
grant_leases(struct ledger *lg, const char *grant_id, struct janee_strlist *ids)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = ledger_prepare(lg,
		 "SELECT lease_id FROM grant_leases WHERE grant_id = ? "
		 "ORDER BY rowid",
		 &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, grant_id, -1, SQLITE_STATIC);
	return collect_ids(lg, st, ids, "cannot read a grant's leases");
}

int
grant_of_lease(
    struct ledger *lg, const char *lease_id, char out[JANEE_LEASE_ID_LEN])
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = ledger_prepare(lg,
		 "SELECT grant_id FROM grant_leases WHERE lease_id = ?",
		 &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, lease_id, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		snprintf(out, JANEE_LEASE_ID_LEN, "%s",
		    (const char *)sqlite3_column_text(st, 0));
		rc = 0;
		break;
	case SQLITE_DONE:
		rc = JANEE_ERR_NOT_FOUND;
		break;
	default:
		rc = ledger_fail(lg, "cannot read a lease's grant");
	}
	sqlite3_finalize(st);
	return rc;
}
