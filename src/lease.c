/* Lease rows and the one table of legal state transitions. */
#include "common.h"

#include <cjson/cJSON.h>

#include "lease.h"

static const char *const state_names[LEASE_NSTATES] = {
	[LEASE_REQUESTED] = "requested",
	[LEASE_APPROVED] = "approved",
	[LEASE_DENIED] = "denied",
	[LEASE_MINTING] = "minting",
	[LEASE_ACTIVE] = "active",
	[LEASE_FAILED] = "failed",
	[LEASE_EXPIRED] = "expired",
	[LEASE_REVOKED] = "revoked",
	[LEASE_IRREVOCABLE] = "irrevocable",
	[LEASE_ORPHANED] = "orphaned",
};

#define T(s) (1u << (s))
static const unsigned transitions[LEASE_NSTATES] = {
	[LEASE_REQUESTED] = T(LEASE_APPROVED) | T(LEASE_DENIED),
	[LEASE_APPROVED] = T(LEASE_MINTING) | T(LEASE_DENIED),
	[LEASE_MINTING] = T(LEASE_ACTIVE) | T(LEASE_FAILED) | T(LEASE_ORPHANED),
	[LEASE_ACTIVE] =
	    T(LEASE_EXPIRED) | T(LEASE_REVOKED) | T(LEASE_IRREVOCABLE),
};
#undef T

const char *
lease_state_name(enum lease_state s)
{
	if ((unsigned)s >= LEASE_NSTATES)
		return "invalid";
	return state_names[s];
}

int
lease_state_parse(const char *name, enum lease_state *out)
{
	unsigned i;

	for (i = 0; i < LEASE_NSTATES; i++)
		if (name != NULL && strcmp(name, state_names[i]) == 0) {
			*out = (enum lease_state)i;
			return 0;
		}
	return janee_err_set(JANEE_ERR_SCHEMA, "unknown lease state '%s'",
	    name ? name : "(null)");
}

int
lease_transition_ok(enum lease_state from, enum lease_state to)
{
	if ((unsigned)from >= LEASE_NSTATES || (unsigned)to >= LEASE_NSTATES)
		return 0;
	return (transitions[from] >> to) & 1u;
}

int
lease_state_final(enum lease_state s)
{
	return (unsigned)s < LEASE_NSTATES && transitions[s] == 0;
}

int
lease_may_be_live(const struct lease *l, int64_t now)
{
	return l->state == LEASE_ORPHANED &&
	    (l->expires_ms == 0 || l->expires_ms > now);
}

void
lease_free(struct lease *l)
{
	free(l->provider);
	free(l->account);
	free(l->client);
	free(l->agent);
	free(l->session);
	free(l->reason);
	free(l->requested);
	free(l->granted);
	janee_strlist_free(&l->part_fps);
	free(l->repositories);
	free(l->fingerprint);
	free(l->detail);
	free(l->sealed);
	memset(l, 0, sizeof(*l));
}

int
lease_set_str(char **field, const char *v)
{
	char *n = NULL;

	if (v != NULL && (n = janee_strdup(v)) == NULL)
		return JANEE_ERR_NOMEM;
	free(*field);
	*field = n;
	return 0;
}

static void
bind_opt_int(sqlite3_stmt *st, int i, int64_t v)
{
	if (v != 0)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

int
lease_insert(struct ledger *lg, const struct lease *l)
{
	sqlite3_stmt *st;
	int rc;

	if (l->state != LEASE_REQUESTED)
		return janee_err_set(
		    JANEE_ERR_STATE, "a new lease starts as requested");
	if ((rc = ledger_prepare(lg,
		 "INSERT INTO leases (id, provider, account, client, session, reason, requested_scopes, state, ttl_s, created_ms, repositories, agent) VALUES (?, ?, ?, ?, ?, ?, ?, 'requested', ?, ?, ?, ?)",
		 &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, l->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, l->provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, l->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, l->client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, l->session, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, l->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, l->requested, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, l->ttl_s);
	sqlite3_bind_int64(st, 9, l->created_ms);
	sqlite3_bind_text(st, 10, l->repositories, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, l->agent, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = ledger_fail(lg, "cannot record the lease");
	sqlite3_finalize(st);
	return rc;
}

/* The other secret parts' fingerprints ("PART FP"), for lookups. */
static int
save_part_fps(struct ledger *lg, const struct lease *l)
{
	sqlite3_stmt *st;
	const char *sp;
	size_t i;
	int rc;

	if ((rc = ledger_prepare(lg,
		 "INSERT OR IGNORE INTO lease_fingerprints (fingerprint, lease_id, part) VALUES (?1, ?2, ?3)",
		 &st)) != 0)
		return rc;
	for (i = 0; i < l->part_fps.n && rc == 0; i++) {
		if ((sp = strchr(l->part_fps.v[i], ' ')) == NULL)
			continue;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, sp + 1, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, l->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, l->part_fps.v[i],
		    (int)(sp - l->part_fps.v[i]), SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = ledger_fail(lg, "cannot record a token's part");
	}
	sqlite3_finalize(st);
	return rc;
}

int
lease_save(struct ledger *lg, const struct lease *l, enum lease_state from)
{
	sqlite3_stmt *st;
	int rc;

	if (from != l->state && !lease_transition_ok(from, l->state))
		return janee_err_set(JANEE_ERR_STATE,
		    "lease %s cannot go from %s to %s", l->id,
		    lease_state_name(from), lease_state_name(l->state));
	if ((rc = ledger_prepare(lg,
		 "UPDATE leases SET state = ?, account = ?, granted_scopes = ?, approved_ms = ?, issued_ms = ?, expires_ms = ?, ended_ms = ?, fingerprint = ?, sealed_token = ?, "
		 "revoke_attempts = ?, next_attempt_ms = ?, detail = ?, ttl_s = ?, minting_ms = coalesce(?, minting_ms), token_expires_ms = coalesce(?, token_expires_ms) WHERE id = ? AND state = ?",
		 &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, lease_state_name(l->state), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, l->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, l->granted, -1, SQLITE_STATIC);
	bind_opt_int(st, 4, l->approved_ms);
	bind_opt_int(st, 5, l->issued_ms);
	bind_opt_int(st, 6, l->expires_ms);
	bind_opt_int(st, 7, l->ended_ms);
	sqlite3_bind_text(st, 8, l->fingerprint, -1, SQLITE_STATIC);
	if (l->sealed != NULL)
		sqlite3_bind_blob(
		    st, 9, l->sealed, (int)l->sealed_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 9);
	sqlite3_bind_int64(st, 10, l->attempts);
	bind_opt_int(st, 11, l->next_attempt_ms);
	sqlite3_bind_text(st, 12, l->detail, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 13, l->ttl_s);
	/* When the provider is asked: what a crash's reconciliation needs. */
	bind_opt_int(st, 14,
	    l->state == LEASE_MINTING && from != LEASE_MINTING ? janee_now_ms()
							       : l->minting_ms);
	bind_opt_int(st, 15, l->token_expires_ms);
	sqlite3_bind_text(st, 16, l->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 17, lease_state_name(from), -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = ledger_fail(lg, "cannot update the lease");
	else if (sqlite3_changes(lg->db) != 1)
		rc = janee_err_set(JANEE_ERR_STATE, "lease %s is no longer %s",
		    l->id, lease_state_name(from));
	sqlite3_finalize(st);
	if (rc == 0 && l->part_fps.n > 0)
		rc = save_part_fps(lg, l);
	return rc;
}

int
lease_claim(struct ledger *lg, const char *id, int64_t due_ms, int64_t until)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = ledger_prepare(lg,
		 "UPDATE leases SET next_attempt_ms = ? WHERE id = ? AND state = 'active' AND next_attempt_ms IS ?",
		 &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, until);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (due_ms != 0)
		sqlite3_bind_int64(st, 3, due_ms);
	else
		sqlite3_bind_null(st, 3);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = ledger_fail(lg, "cannot claim the lease");
	else if (sqlite3_changes(lg->db) != 1)
		rc = janee_err_set(JANEE_ERR_STATE,
		    "lease %s was taken by another janee process", id);
	sqlite3_finalize(st);
	return rc;
}

#define LEASE_COLS \
	"id, provider, account, client, session, reason, " \
	"requested_scopes, granted_scopes, fingerprint, detail, state, " \
	"ttl_s, " \
	"created_ms, approved_ms, issued_ms, expires_ms, ended_ms, " \
	"revoke_attempts, next_attempt_ms, sealed_token, repositories, " \
	"minting_ms, token_expires_ms, agent"

static int
dup_col(sqlite3_stmt *st, int i, char **out)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	*out = NULL;
	if (s != NULL && (*out = janee_strdup(s)) == NULL)
		return JANEE_ERR_NOMEM;
	return 0;
}

static int
lease_from_row(sqlite3_stmt *st, struct lease *l)
{
	const char *id = (const char *)sqlite3_column_text(st, 0);
	const void *blob;
	int rc, n;

	memset(l, 0, sizeof(*l));
	snprintf(l->id, sizeof(l->id), "%s", id ? id : "");
	if ((rc = dup_col(st, 1, &l->provider)) != 0 ||
	    (rc = dup_col(st, 2, &l->account)) != 0 ||
	    (rc = dup_col(st, 3, &l->client)) != 0 ||
	    (rc = dup_col(st, 4, &l->session)) != 0 ||
	    (rc = dup_col(st, 5, &l->reason)) != 0 ||
	    (rc = dup_col(st, 6, &l->requested)) != 0 ||
	    (rc = dup_col(st, 7, &l->granted)) != 0 ||
	    (rc = dup_col(st, 8, &l->fingerprint)) != 0 ||
	    (rc = dup_col(st, 9, &l->detail)) != 0 ||
	    (rc = lease_state_parse(
		 (const char *)sqlite3_column_text(st, 10), &l->state)) != 0)
		goto fail;
	l->ttl_s = sqlite3_column_int64(st, 11);
	l->created_ms = sqlite3_column_int64(st, 12);
	l->approved_ms = sqlite3_column_int64(st, 13);
	l->issued_ms = sqlite3_column_int64(st, 14);
	l->expires_ms = sqlite3_column_int64(st, 15);
	l->ended_ms = sqlite3_column_int64(st, 16);
	l->attempts = sqlite3_column_int64(st, 17);
	l->next_attempt_ms = sqlite3_column_int64(st, 18);
	l->minting_ms = sqlite3_column_int64(st, 21);
	l->token_expires_ms = sqlite3_column_int64(st, 22);
	if ((rc = dup_col(st, 20, &l->repositories)) != 0 ||
	    (rc = dup_col(st, 23, &l->agent)) != 0)
		goto fail;
	if ((blob = sqlite3_column_blob(st, 19)) != NULL) {
		n = sqlite3_column_bytes(st, 19);
		if ((l->sealed = malloc((size_t)n)) == NULL) {
			rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
			goto fail;
		}
		memcpy(l->sealed, blob, (size_t)n);
		l->sealed_len = (size_t)n;
	}
	return 0;
fail:
	lease_free(l);
	return rc;
}

int
lease_load(struct ledger *lg, const char *id, struct lease *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ledger_prepare(lg,
		 "SELECT " LEASE_COLS " FROM leases WHERE id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		rc = lease_from_row(st, out);
		break;
	case SQLITE_DONE:
		rc = janee_err_set(JANEE_ERR_NOT_FOUND,
		    "no lease '%s'; list them with: janee lease list --all",
		    id);
		break;
	default:
		rc = ledger_fail(lg, "cannot read the lease");
	}
	sqlite3_finalize(st);
	return rc;
}

int
lease_each(struct ledger *lg, const struct lease_filter *f,
    int (*fn)(const struct lease *l, void *arg), void *arg)
{
	struct lease l;
	sqlite3_stmt *st;
	int rc, step;

	if ((rc = ledger_prepare(lg,
		 "SELECT " LEASE_COLS
		 " FROM leases WHERE (?1 = 0 OR state IN ('requested', 'approved', 'minting', 'active') OR (state = 'orphaned' AND coalesce(expires_ms, ?6 + 1) > ?6)) AND (?2 IS NULL OR provider = ?2) "
		 "AND (?3 IS NULL OR fingerprint = ?3 OR id IN (SELECT lease_id FROM lease_fingerprints WHERE fingerprint = ?3)) AND (?4 IS NULL OR session = ?4) AND (?5 = 0 OR state = 'requested') "
		 "ORDER BY created_ms DESC, id",
		 &st)) != 0)
		return rc;
	sqlite3_bind_int(st, 1, f->active_only);
	sqlite3_bind_text(st, 2, f->provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, f->session, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, f->requested_only);
	sqlite3_bind_int64(st, 6, janee_now_ms());
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = lease_from_row(st, &l)) != 0)
			break;
		rc = fn(&l, arg);
		lease_free(&l);
		if (rc != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = ledger_fail(lg, "cannot read leases");
	sqlite3_finalize(st);
	return rc;
}

int
lease_scopes_parse(const char *json, struct janee_strlist *l)
{
	cJSON *a = json ? cJSON_Parse(json) : NULL, *e;
	int rc = 0;

	if (json == NULL)
		return 0;
	if (!cJSON_IsArray(a)) {
		cJSON_Delete(a);
		return janee_err_set(
		    JANEE_ERR_SCHEMA, "a lease's scope list is damaged");
	}
	cJSON_ArrayForEach(e, a) if (rc == 0 && cJSON_IsString(e)) rc =
	    janee_strlist_add(l, e->valuestring);
	cJSON_Delete(a);
	return rc;
}

char *
lease_scopes_json(const struct janee_strlist *scopes)
{
	cJSON *a;
	char *s;
	size_t i;

	if ((a = cJSON_CreateArray()) == NULL)
		return NULL;
	for (i = 0; i < scopes->n; i++)
		if (!cJSON_AddItemToArray(
			a, cJSON_CreateString(scopes->v[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	s = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	if (s == NULL)
		janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	return s;
}
