/* Provider logins, sealed in the ledger, with a per-login lock. */
#include "common.h"

#include <fcntl.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "credentials.h"
#include "secrets.h"
#include "util.h"

#define PURPOSE "login"

void
cred_info_free(struct cred_info *ci)
{
	free(ci->account);
	free(ci->detail);
	memset(ci, 0, sizeof(*ci));
}

const char *const login_state_name[] = { "not_needed", "logged_in", "broken",
	"not_logged_in", "unknown" };
const char *const login_state_text[] = { "not needed", "logged in",
	"login broken", "not logged in", "unknown" };

enum login_state
login_state(struct ledger *lg, const char *provider, int needs_login,
    struct cred_info *ci)
{
	int rc;

	memset(ci, 0, sizeof(*ci));
	if (!needs_login)
		return LOGIN_NOT_NEEDED;
	rc = cred_info(lg, provider, ci);
	janee_err_clear();
	if (rc == JANEE_ERR_NOT_FOUND)
		return LOGIN_NOT_LOGGED_IN;
	if (rc != 0)
		return LOGIN_UNKNOWN;
	return ci->broken ? LOGIN_BROKEN : LOGIN_LOGGED_IN;
}

int
cred_info(struct ledger *lg, const char *provider, struct cred_info *ci)
{
	sqlite3_stmt *st;
	const char *a, *d;
	int rc;

	memset(ci, 0, sizeof(*ci));
	if ((rc = ledger_prepare(lg,
		 "SELECT account, state, detail, updated_ms FROM credentials WHERE provider = ?",
		 &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, provider, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		a = (const char *)sqlite3_column_text(st, 0);
		d = (const char *)sqlite3_column_text(st, 2);
		ci->broken = strcmp((const char *)sqlite3_column_text(st, 1),
				 "broken") == 0;
		ci->updated_ms = sqlite3_column_int64(st, 3);
		if ((a != NULL && (ci->account = janee_strdup(a)) == NULL) ||
		    (d != NULL && (ci->detail = janee_strdup(d)) == NULL))
			rc = JANEE_ERR_NOMEM;
		break;
	case SQLITE_DONE:
		rc = JANEE_ERR_NOT_FOUND;
		break;
	default:
		rc = ledger_fail(lg, "cannot read the login");
	}
	sqlite3_finalize(st);
	if (rc != 0)
		cred_info_free(ci);
	return rc;
}

int
cred_get(struct ledger *lg, struct store *s, const char *provider,
    struct janee_secret **out)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = ledger_prepare(lg,
		 "SELECT sealed, state, detail FROM credentials WHERE provider = ?",
		 &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, provider, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		if (strcmp((const char *)sqlite3_column_text(st, 1),
			"broken") == 0) {
			rc = janee_err_set(JANEE_ERR_NOT_FOUND,
			    "the login of provider '%s' no longer works (%s); run: janee login %s",
			    provider,
			    sqlite3_column_text(st, 2)
				? (const char *)sqlite3_column_text(st, 2)
				: "broken",
			    provider);
			break;
		}
		rc =
		    store_open(s, PURPOSE, provider, sqlite3_column_blob(st, 0),
			(size_t)sqlite3_column_bytes(st, 0), out);
		break;
	case SQLITE_DONE:
		rc = janee_err_set(JANEE_ERR_NOT_FOUND,
		    "provider '%s' has no login; run: janee login %s", provider,
		    provider);
		break;
	default:
		rc = ledger_fail(lg, "cannot read the login");
	}
	sqlite3_finalize(st);
	return rc;
}

int
cred_put(struct ledger *lg, struct store *s, const char *provider,
    const struct janee_secret *val, const char *account, const char *event)
{
	struct audit_event ev = { .event = event,
		.actor = "user",
		.provider = provider,
		.outcome = "ok" };
	char *detail = NULL;
	int rc;

	if (account != NULL &&
	    (detail = janee_asprintf("account=%s", account)) == NULL)
		return JANEE_ERR_NOMEM;
	ev.detail = detail;
	rc = sealed_row_write(lg, s,
	    "INSERT INTO credentials (provider, account, sealed, state, detail, created_ms, updated_ms) VALUES (?1, ?4, ?2, 'ok', NULL, ?3, ?3) ON CONFLICT (provider) DO "
	    "UPDATE SET account = coalesce(excluded.account, account), sealed = excluded.sealed, state = 'ok', detail = NULL, updated_ms = excluded.updated_ms",
	    PURPOSE, provider, val->data, val->len, account,
	    event != NULL ? &ev : NULL, "cannot store the login", NULL);
	free(detail);
	return rc;
}

int
cred_mark_broken(struct ledger *lg, const char *provider, const char *why)
{
	struct audit_event ev = { .event = "login_broken",
		.actor = "janee",
		.provider = provider,
		.outcome = "error",
		.detail = why };

	return sealed_row_write(lg, NULL,
	    "UPDATE credentials SET state = 'broken', detail = ?4 WHERE provider = ?1",
	    PURPOSE, provider, NULL, 0, why, &ev, "cannot update the login",
	    NULL);
}

int
cred_delete(struct ledger *lg, const char *provider)
{
	struct audit_event ev = { .event = "logout",
		.actor = "user",
		.provider = provider,
		.outcome = "ok" };
	int changed = 0, rc;

	/* Overwrite the sealed value before the row goes (secure_delete). */
	if ((rc = sealed_row_write(lg, NULL,
		 "DELETE FROM credentials WHERE provider = ?1", PURPOSE,
		 provider, NULL, 0, NULL, &ev, "cannot update the login",
		 &changed)) != 0)
		return rc;
	if (!changed)
		return janee_err_set(JANEE_ERR_NOT_FOUND,
		    "provider '%s' has no login", provider);
	return 0;
}

int
cred_lock(const struct home *h, const char *provider, int timeout_s, int *fd)
{
	struct timespec ts = { 0, 50000000L };
	char *path;
	int i;

	*fd = -1;
	if ((path = janee_asprintf("%s/%s.login.lock", h->dir, provider)) ==
	    NULL)
		return JANEE_ERR_NOMEM;
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0) {
		int rc = janee_err_set(JANEE_ERR_IO, "cannot open '%s': %s",
		    path, strerror(errno));

		free(path);
		return rc;
	}
	for (i = 0; i < timeout_s * 20; i++) {
		if (flock(*fd, LOCK_EX | LOCK_NB) == 0) {
			free(path);
			return 0;
		}
		nanosleep(&ts, NULL);
	}
	close(*fd);
	*fd = -1;
	i = janee_err_set(JANEE_ERR_DB,
	    "the login of provider '%s' is busy in another janee process (%s); try again",
	    provider, path);
	free(path);
	return i;
}

void
cred_unlock(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}
