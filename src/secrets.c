/* Named secrets, sealed in the ledger. */
#include "common.h"

#include "audit.h"
#include "secrets.h"
#include "util.h"

#define PURPOSE "secret"

int
secret_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 128 || name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
			(name[i] >= 'A' && name[i] <= 'Z') ||
			(name[i] >= '0' && name[i] <= '9') || name[i] == '.' ||
			name[i] == '_' || name[i] == '-'))
			return 0;
	return 1;
}

static int
bad_name(const char *name)
{
	return janee_err_set(JANEE_ERR_USAGE,
	    "invalid secret name '%s'; use letters, digits, '.', '_' and '-'",
	    name);
}

int
secret_exists(struct ledger *lg, const char *name)
{
	sqlite3_stmt *st = NULL;
	int rc, found;

	if ((rc = ledger_prepare(
		 lg, "SELECT 1 FROM secrets WHERE name = ?1", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!found)
		return janee_err_set(JANEE_ERR_NOT_FOUND,
		    "secret:%s names no stored secret; run: janee secret set %s",
		    name, name);
	return 0;
}

int
sealed_row_write(struct ledger *lg, struct store *s, const char *sql,
    const char *purpose, const char *name, const void *val, size_t len,
    const char *extra, const struct audit_event *ev, const char *what,
    int *changed)
{
	sqlite3_stmt *st = NULL;
	unsigned char *blob = NULL;
	size_t bloblen = 0;
	int rc, n;

	if (val != NULL &&
	    (rc = store_seal(s, purpose, name, val, len, &blob, &bloblen)) != 0)
		return rc;
	if ((rc = ledger_begin(lg)) != 0)
		goto out;
	if ((rc = ledger_prepare(lg, sql, &st)) != 0)
		goto fail;
	/* A parameter sql does not have is SQLITE_RANGE: nothing to bind. */
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, blob, (int)bloblen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, janee_now_ms());
	sqlite3_bind_text(st, 4, extra, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = ledger_fail(lg, what);
		goto fail;
	}
	n = sqlite3_changes(lg->db);
	if (changed != NULL)
		*changed = n;
	if (n > 0 && ev != NULL && (rc = audit_append(lg, ev)) != 0)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	rc = ledger_commit(lg);
	goto out;
fail:
	ledger_rollback(lg);
out:
	sqlite3_finalize(st);
	free(blob);
	return rc;
}

int
secret_put(struct ledger *lg, struct store *s, const char *name,
    const void *val, size_t len, const char *actor)
{
	struct audit_event ev = {
		.event = "secret_set", .actor = actor, .outcome = "ok"
	};
	char *detail;
	int rc;

	if (!secret_name_valid(name))
		return bad_name(name);
	if ((detail = janee_asprintf("name=%s", name)) == NULL)
		return JANEE_ERR_NOMEM;
	ev.detail = detail;
	rc = sealed_row_write(lg, s,
	    "INSERT INTO secrets (name, sealed, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?3) ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_ms = excluded.updated_ms",
	    PURPOSE, name, val, len, NULL, &ev, "cannot store the secret",
	    NULL);
	free(detail);
	return rc;
}

int
secret_get(struct ledger *lg, struct store *s, const char *name,
    struct janee_secret **out)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if (!secret_name_valid(name))
		return bad_name(name);
	if ((rc = ledger_prepare(
		 lg, "SELECT sealed FROM secrets WHERE name = ?", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		rc = store_open(s, PURPOSE, name, sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0), out);
		break;
	case SQLITE_DONE:
		rc = janee_err_set(JANEE_ERR_NOT_FOUND,
		    "no secret '%s'; set it with: janee secret set %s", name,
		    name);
		break;
	default:
		rc = ledger_fail(lg, "cannot read the secret");
	}
	sqlite3_finalize(st);
	return rc;
}

int
secret_rm(struct ledger *lg, const char *name, const char *actor)
{
	struct audit_event ev = {
		.event = "secret_rm", .actor = actor, .outcome = "ok"
	};
	char *detail;
	int rc, changed = 0;

	if (!secret_name_valid(name))
		return bad_name(name);
	if ((detail = janee_asprintf("name=%s", name)) == NULL)
		return JANEE_ERR_NOMEM;
	ev.detail = detail;
	rc = sealed_row_write(lg, NULL, "DELETE FROM secrets WHERE name = ?1",
	    PURPOSE, name, NULL, 0, NULL, &ev, "cannot remove the secret",
	    &changed);
	free(detail);
	if (rc == 0 && changed == 0)
		rc = janee_err_set(JANEE_ERR_NOT_FOUND,
		    "no secret '%s'; list them with: janee secret list", name);
	return rc;
}

int
secret_each(struct ledger *lg,
    int (*fn)(const struct secret_info *si, void *arg), void *arg)
{
	struct secret_info si;
	sqlite3_stmt *st;
	int rc, step;

	if ((rc = ledger_prepare(lg,
		 "SELECT name, created_ms, updated_ms, length(sealed) FROM secrets ORDER BY name",
		 &st)) != 0)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		si.name = (const char *)sqlite3_column_text(st, 0);
		si.created_ms = sqlite3_column_int64(st, 1);
		si.updated_ms = sqlite3_column_int64(st, 2);
		si.size = sqlite3_column_int64(st, 3);
		if ((rc = fn(&si, arg)) != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = ledger_fail(lg, "cannot list secrets");
	sqlite3_finalize(st);
	return rc;
}
