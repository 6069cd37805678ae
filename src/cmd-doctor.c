/*
 * janee doctor: every check a working setup needs, each run even when an
 * earlier one failed, each problem said with the command that fixes it.
 * Exit 1 on any problem.  Nothing is changed.
 */
#include "common.h"

#include "audit.h"
#include "cli.h"
#include "config.h"
#include "home.h"
#include "keyring.h"
#include "lazylib.h"
#include "ledger.h"
#include "secretref.h"
#include "secrets.h"
#include "store.h"

void
check_report(struct checklist *d, const char *name, int rc, const char *detail)
{
	const char *msg = rc == 0 ? detail : janee_err_msg(rc);
	cJSON *o;

	if (rc != 0)
		d->problems++;
	if (d->checks != NULL) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "check", name);
		cJSON_AddBoolToObject(o, "ok", rc == 0);
		cJSON_AddStringToObject(o, "detail", msg ? msg : "");
		cJSON_AddItemToArray(d->checks, o);
	} else {
		printf("%-8s %-11s ", rc == 0 ? "ok" : "PROBLEM", name);
		cli_put_text(stdout, msg ? msg : "", 0);
		putchar('\n');
	}
	janee_err_clear();
}

int
check_end(struct checklist *d)
{
	cJSON *o;
	int rc;

	if (d->checks != NULL) {
		if ((o = cJSON_CreateObject()) == NULL) {
			cJSON_Delete(d->checks);
			return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		}
		cJSON_AddBoolToObject(o, "ok", d->problems == 0);
		cJSON_AddItemToObject(o, "checks", d->checks);
		d->checks = NULL;
		if ((rc = cli_print_json(o)) != 0)
			return rc;
	}
	if (d->problems > 0)
		return janee_err_set(JANEE_ERR_INVALID, "%d problem%s found",
		    d->problems, d->problems == 1 ? "" : "s");
	return 0;
}

static void
check_ledger(struct checklist *d, struct ledger *lg)
{
	sqlite3_stmt *st = NULL;
	char detail[96];
	const char *ic;
	int rc, schema = 0;

	if ((rc = ledger_schema_version(lg, &schema)) == 0 &&
	    (rc = ledger_prepare(lg, "PRAGMA integrity_check", &st)) == 0) {
		ic = sqlite3_step(st) == SQLITE_ROW
		    ? (const char *)sqlite3_column_text(st, 0)
		    : NULL;
		if (ic == NULL || strcmp(ic, "ok") != 0)
			rc = janee_err_set(JANEE_ERR_IO,
			    "the ledger fails SQLite's integrity check (%s); restore janee.db from a backup",
			    ic ? ic : "no answer");
		sqlite3_finalize(st);
	}
	snprintf(detail, sizeof(detail), "schema %d, integrity ok", schema);
	check_report(d, "ledger", rc, detail);
}

static void
check_audit(struct checklist *d, struct ledger *lg)
{
	struct audit_verify v;
	char detail[96];
	int rc;

	memset(&v, 0, sizeof(v));
	if ((rc = audit_verify(lg, &v)) == 0 && v.bad_seq != 0)
		rc = janee_err_set(JANEE_ERR_IO,
		    "the audit chain breaks at event %lld (%s); see: janee audit verify",
		    (long long)v.bad_seq, v.why);
	else if (rc == 0 && v.lease_bad != 0)
		rc = janee_err_set(JANEE_ERR_IO,
		    "%lld lease%s differ%s from %s last audit event (edited "
		    "behind janee's back?); see: janee audit verify",
		    (long long)v.lease_bad, v.lease_bad == 1 ? "" : "s",
		    v.lease_bad == 1 ? "s" : "",
		    v.lease_bad == 1 ? "its" : "their");
	snprintf(detail, sizeof(detail),
	    "the chain of %lld event%s holds; %lld lease%s match%s it",
	    (long long)v.rows, v.rows == 1 ? "" : "s", (long long)v.leases,
	    v.leases == 1 ? "" : "s", v.leases == 1 ? "es" : "");
	check_report(d, "audit", rc, detail);
}

int
check_refs(struct ledger *lg, const cJSON *v, int *n)
{
	struct janee_secret *s = NULL;
	const cJSON *e;
	enum secretref_kind k;
	int rc;

	if (cJSON_IsString(v)) {
		if ((k = secretref_kind(v->valuestring)) == SECRETREF_NONE)
			return 0;
		(*n)++;
		if (k == SECRETREF_SECRET)
			return secret_exists(lg, v->valuestring + 7);
		rc = secretref_resolve(v->valuestring, NULL, NULL, &s);
		janee_secret_free(s);
		return rc;
	}
	cJSON_ArrayForEach(e, v)
	{
		if ((rc = check_refs(lg, e, n)) != 0)
			return rc;
	}
	return 0;
}

static void
check_config(struct checklist *d, const struct home *h, struct ledger *lg)
{
	struct config *cfg = NULL;
	cJSON *root = NULL;
	char detail[96];
	int rc, refs = 0;

	if ((rc = config_load(h->config, janee_providers, NULL, &cfg)) == 0)
		snprintf(detail, sizeof(detail), "%zu provider%s", cfg->n,
		    cfg->n == 1 ? "" : "s");
	check_report(d, "config", rc, detail);
	config_free(cfg);
	/* The file as written (valid or not): references are strings
	 * anywhere in it. */
	if ((rc = config_read_json(h->config, &root)) == 0)
		rc = check_refs(lg, root, &refs);
	snprintf(detail, sizeof(detail), "%d secret reference%s resolve%s",
	    refs, refs == 1 ? "" : "s", refs == 1 ? "s" : "");
	check_report(d, "references", rc, detail);
	cJSON_Delete(root);
}

/*
 * What an MCP client meets: janee serve started with no terminal must
 * unlock the store on its own.
 */
static void
check_unlock(struct checklist *d, const struct home *h, struct ledger *lg,
    const struct keysrc *given)
{
	struct keysrc ks = *given;
	struct store *s = NULL;
	char *backend = NULL, *params = NULL, detail[96];
	int rc;

	ks.may_prompt = 0;
	if ((rc = store_describe(lg, &backend, &params)) == 0 &&
	    (rc = store_unlock(lg, h, &ks, &s)) == 0)
		snprintf(detail, sizeof(detail),
		    "the %s store unlocks without a terminal", backend);
	store_free(s);
	if (rc == JANEE_ERR_LOCKED) {
		/* Not the passphrase into a client's config: say why. */
		char *why = janee_strdup(janee_err_msg(rc));

		janee_err_clear();
		rc = janee_err_set(JANEE_ERR_LOCKED,
		    "an MCP client that starts janee serve has no terminal to ask the passphrase on: %s",
		    why ? why : "the store is locked");
		free(why);
	}
	check_report(d, "unlock", rc, detail);
	free(backend);
	free(params);
}

static void
check_libraries(struct checklist *d)
{
	int rc;

	if ((rc = janee_curl_load()) == 0)
		rc = janee_jwt_load();
	check_report(d, "libraries", rc, "libcurl and libjwt load");
}

int
cmd_doctor(struct cli *c)
{
	struct checklist d = { NULL, 0 };
	struct ledger *lg = NULL;
	int rc;

	if ((rc = cli_open(c, 0)) != 0)
		return rc;
	if (cli_has(c, "json") && (d.checks = cJSON_CreateArray()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	/* Modes apart: a home one chmod away still gets every check. */
	if ((rc = home_exists(&c->core.home)) == 0)
		rc = ledger_open(c->core.home.db, 0, &lg);
	check_report(&d, "home", rc, c->core.home.dir);
	if (rc == 0) {
		check_report(&d, "files", home_check_modes(&c->core.home),
		    "the home is 0700 and its files 0600, all yours");
		check_ledger(&d, lg);
		check_audit(&d, lg);
		check_config(&d, &c->core.home, lg);
		check_unlock(&d, &c->core.home, lg, &c->core.ks);
	}
	check_libraries(&d);
	ledger_close(lg);
	return check_end(&d);
}
