/* janee init, janee status. */
#include "common.h"

#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "store.h"
#include "util.h"

/* Undo a failed init: remove only what this init created. */
static void
init_cleanup(const struct home *h, int made_dir)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char *p;
	size_t i;

	for (i = 0; i < nitems(sfx); i++)
		if ((p = janee_asprintf("%s%s", h->db, sfx[i])) != NULL) {
			unlink(p);
			free(p);
		}
	unlink(h->keyfile);
	if (made_dir)
		rmdir(h->dir);
}

int
cmd_init(struct cli *c)
{
	struct audit_event ev = {
		.event = "init", .actor = "user", .outcome = "ok"
	};
	const char *backend = cli_get(c, "key-backend"), *fdarg;
	struct ledger *lg = NULL;
	struct stat st;
	char *detail = NULL;
	int64_t fd;
	int rc, made_dir;

	if (backend == NULL)
		backend = "passphrase";
	if (!store_backend_known(backend))
		return cli_usage_error(c,
		    "unknown key backend '%s'; use passphrase, keyfile or keyring",
		    backend);
	if ((fdarg = cli_get(c, "new-passphrase-fd")) != NULL) {
		if (janee_parse_int(fdarg, 0, 1024, &fd) != 0)
			return cli_usage_error(
			    c, "--new-passphrase-fd takes a descriptor number");
		c->core.ks.new_fd = (int)fd;
	}
	if (stat(c->core.home.db, &st) == 0)
		return janee_err_set(JANEE_ERR_EXISTS,
		    "'%s' is already initialised; nothing was changed",
		    c->core.home.dir);
	made_dir = stat(c->core.home.dir, &st) != 0;
	if ((rc = home_create(&c->core.home)) != 0 ||
	    (rc = path_check_private(c->core.home.keyfile, 0, 1)) != 0)
		return rc;
	if (access(c->core.home.keyfile, F_OK) == 0)
		return janee_err_set(JANEE_ERR_EXISTS,
		    "'%s' exists without a ledger; move it away before running init",
		    c->core.home.keyfile);
	if ((detail = janee_asprintf("key_backend=%s schema=%d", backend,
		 LEDGER_SCHEMA_VERSION)) == NULL)
		return JANEE_ERR_NOMEM;
	ev.detail = detail;
	if ((rc = ledger_open(c->core.home.db, 1, &lg)) != 0)
		goto fail;
	if ((rc = ledger_begin(lg)) != 0)
		goto fail;
	if ((rc = store_create(lg, &c->core.home, backend, &c->core.ks)) != 0 ||
	    (rc = audit_append(lg, &ev)) != 0 ||
	    (rc = ledger_commit(lg)) != 0) {
		ledger_rollback(lg);
		goto fail;
	}
	ledger_close(lg);
	free(detail);
	printf("initialised janee home '%s' (key backend: %s)\n",
	    c->core.home.dir, backend);
	if (strcmp(backend, "keyfile") == 0)
		fprintf(stderr,
		    "janee: note: the key file '%s' sits beside the ledger; whoever can read the home can read every secret\n",
		    c->core.home.keyfile);
	return 0;
fail:
	ledger_close(lg);
	init_cleanup(&c->core.home, made_dir);
	free(detail);
	return rc;
}

static int64_t
count(struct ledger *lg, const char *sql, int *rc)
{
	int64_t n = 0;

	if (*rc == 0)
		*rc = ledger_count(lg, sql, &n);
	return n;
}

/* count, with the time now as ?1 */
static int64_t
count_now(struct ledger *lg, const char *sql, int *rc)
{
	sqlite3_stmt *st;
	int64_t n = 0;

	if (*rc != 0 || (*rc = ledger_prepare(lg, sql, &st)) != 0)
		return 0;
	sqlite3_bind_int64(st, 1, janee_now_ms());
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		*rc = ledger_fail(lg, "cannot read");
	sqlite3_finalize(st);
	return n;
}

int
cmd_status(struct cli *c)
{
	struct ledger *lg = c->core.lg;
	char *backend = NULL, *params = NULL, *ic = NULL, *head = NULL;
	int64_t active, overdue, irrev, orphans, total, secrets, events;
	sqlite3_stmt *st = NULL;
	size_t len;
	int rc = 0, schema, json = cli_has(c, "json"), ok;

	if ((rc = ledger_schema_version(lg, &schema)) != 0 ||
	    (rc = store_describe(lg, &backend, &params)) != 0)
		goto out;
	active = count(lg,
	    "SELECT count(*) FROM leases WHERE state IN ('requested', 'approved', 'minting', 'active')",
	    &rc);
	irrev = count(
	    lg, "SELECT count(*) FROM leases WHERE state = 'irrevocable'", &rc);
	total = count(lg, "SELECT count(*) FROM leases", &rc);
	secrets = count(lg, "SELECT count(*) FROM secrets", &rc);
	events = count(lg, "SELECT max(seq) FROM audit", &rc);
	overdue = count_now(lg,
	    "SELECT count(*) FROM leases WHERE state = 'active' AND expires_ms <= ?1",
	    &rc);
	/* Orphans whose token, never recorded, may still be live. */
	orphans = count_now(lg,
	    "SELECT count(*) FROM leases WHERE state = 'orphaned' AND coalesce(expires_ms, ?1 + 1) > ?1",
	    &rc);
	if (rc != 0)
		goto out;
	/* integrity_check reads every page: the one slow line here. */
	if ((rc = ledger_prepare(lg, "PRAGMA integrity_check", &st)) != 0)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (ic = janee_strdup((const char *)sqlite3_column_text(st, 0))) ==
		NULL)
		rc = JANEE_ERR_NOMEM;
	sqlite3_finalize(st);
	if (rc != 0)
		goto out;
	ok = ic != NULL && strcmp(ic, "ok") == 0;
	if (ledger_meta_get(lg, "audit.head", (void **)&head, &len) != 0)
		janee_err_clear();

	if (json) {
		cJSON *o = cJSON_CreateObject(), *l;

		cJSON_AddStringToObject(o, "home", c->core.home.dir);
		cJSON_AddStringToObject(o, "ledger", c->core.home.db);
		cJSON_AddNumberToObject(o, "schema_version", schema);
		cJSON_AddStringToObject(o, "integrity", ic ? ic : "unknown");
		cJSON_AddStringToObject(o, "key_backend", backend);
		cJSON_AddStringToObject(o, "key_params", params);
		cJSON_AddStringToObject(o, "config", c->core.home.config);
		cJSON_AddNumberToObject(
		    o, "providers", c->core.cfg ? (double)c->core.cfg->n : 0);
		cJSON_AddNumberToObject(o, "secrets", (double)secrets);
		l = cJSON_AddObjectToObject(o, "leases");
		cJSON_AddNumberToObject(l, "active", (double)active);
		cJSON_AddNumberToObject(l, "overdue", (double)overdue);
		cJSON_AddNumberToObject(l, "irrevocable", (double)irrev);
		cJSON_AddNumberToObject(l, "orphaned", (double)orphans);
		cJSON_AddNumberToObject(l, "total", (double)total);
		cJSON_AddNumberToObject(o, "audit_events", (double)events);
		cJSON_AddStringToObject(o, "audit_head", head ? head : "");
		rc = cli_print_json(o);
	} else {
		printf("home:         %s (0700, private)\n", c->core.home.dir);
		printf("ledger:       %s (schema %d, integrity %s)\n",
		    c->core.home.db, schema, ic ? ic : "unknown");
		printf("key backend:  %s (%s)\n", backend, params);
		printf("config:       %s (%zu provider%s%s)\n",
		    c->core.home.config,
		    c->core.cfg ? c->core.cfg->n : (size_t)0,
		    c->core.cfg && c->core.cfg->n == 1 ? "" : "s",
		    c->core.cfg ? "" : ", not loaded");
		printf("secrets:      %lld\n", (long long)secrets);
		printf(
		    "leases:       %lld active (%lld overdue), %lld irrevocable, %lld orphaned (may be live), %lld in all\n",
		    (long long)active, (long long)overdue, (long long)irrev,
		    (long long)orphans, (long long)total);
		printf("audit:        %lld events, head %s\n",
		    (long long)events, head ? head : "(empty)");
	}
	if (rc == 0 && !ok)
		rc = janee_err_set(JANEE_ERR_DB,
		    "ledger '%s' failed its integrity check: %s; restore it from a backup",
		    c->core.home.db, ic ? ic : "unknown");
out:
	free(backend);
	free(params);
	free(ic);
	free(head);
	return rc;
}
