/* janee provider add | list | show. */
#include "common.h"

#include <cjson/cJSON.h>

#include "buf.h"
#include "cli.h"
#include "credentials.h"
#include "oauth.h"
#include "secretref.h"
#include "secrets.h"
#include "util.h"

static cJSON *
strlist_json(const struct janee_strlist *l)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a != NULL && i < l->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]));
	return a;
}

/* Whether pv keeps a login (janee login NAME): else "not needed". */
static enum login_state
prov_login(struct cli *c, const struct prov *pv, struct cred_info *ci)
{
	return login_state(
	    c->lg, pv->name, pv->impl->login != NULL && !pv->ctx.no_login, ci);
}

static cJSON *
prov_json(struct cli *c, const struct prov *pv)
{
	struct cred_info ci;
	enum login_state st = prov_login(c, pv, &ci);
	cJSON *o = cJSON_CreateObject();
	char cmd[128];

	cJSON_AddStringToObject(o, "name", pv->name);
	cJSON_AddStringToObject(o, "type", pv->impl->type);
	cJSON_AddStringToObject(o, "approval", approval_name(pv->pol.approval));
	cJSON_AddNumberToObject(
	    o, "max_ttl_seconds", (double)pv->pol.max_ttl_s);
	cJSON_AddNumberToObject(
	    o, "default_ttl_seconds", (double)pv->pol.default_ttl_s);
	cJSON_AddItemToObject(o, "scopes", strlist_json(&pv->pol.ceiling));
	cJSON_AddItemToObject(
	    o, "default_scopes", strlist_json(&pv->pol.defaults));
	cJSON_AddBoolToObject(
	    o, "revocable", pv->impl->revoke != NULL && !pv->ctx.no_revoke);
	cJSON_AddStringToObject(o, "login", login_state_name[st]);
	if (ci.detail != NULL)
		cJSON_AddStringToObject(o, "login_detail", ci.detail);
	if (st == LOGIN_NOT_LOGGED_IN || st == LOGIN_BROKEN) {
		snprintf(cmd, sizeof(cmd), "janee login %s", pv->name);
		cJSON_AddStringToObject(o, "login_command", cmd);
	}
	cred_info_free(&ci);
	return o;
}

int
cmd_provider_list(struct cli *c)
{
	static const char *const head[] = { "NAME", "TYPE", "APPROVAL",
		"MAX TTL", "LOGIN", "SCOPES", NULL };
	const struct prov *pv;
	const char *row[6];
	struct cred_info ci;
	struct table t;
	char max[32], *scopes;
	cJSON *arr = NULL;
	size_t i;
	int rc = 0;

	if (cli_has(c, "json"))
		arr = cJSON_CreateArray();
	table_init(&t, head);
	for (i = 0; i < c->cfg->n && rc == 0; i++) {
		pv = &c->cfg->provs[i];
		if (arr != NULL) {
			cJSON_AddItemToArray(arr, prov_json(c, pv));
			continue;
		}
		janee_duration_fmt(pv->pol.max_ttl_s, max, sizeof(max));
		row[0] = pv->name;
		row[1] = pv->impl->type;
		row[2] = approval_name(pv->pol.approval);
		row[3] = max;
		row[4] = login_state_text[prov_login(c, pv, &ci)];
		cred_info_free(&ci);
		if ((scopes = oauth_scope_join(&pv->pol.ceiling)) == NULL)
			rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		row[5] = scopes;
		if (rc == 0)
			rc = table_add(&t, row);
		free(scopes);
	}
	if (rc == 0 && arr != NULL)
		rc = cli_print_json(arr);
	else if (rc == 0)
		table_print(&t, stdout,
		    "no providers (add one with: janee provider add NAME "
		    "--type T)");
	else
		cJSON_Delete(arr);
	table_free(&t);
	return rc;
}

int
cmd_provider_show(struct cli *c)
{
	const struct prov *pv;
	struct cred_info ci;
	char t[JANEE_TIME_LEN], d[32];
	enum login_state st;
	size_t j;

	if ((pv = config_lookup(c->cfg, c->pos[0], 1,
		 "list them with: janee provider list")) == NULL)
		return JANEE_ERR_NOT_FOUND;
	/* The whole ceiling, one per line: what a long error points to. */
	if (cli_has(c, "scopes")) {
		for (j = 0; j < pv->pol.ceiling.n; j++)
			printf("%s\n", pv->pol.ceiling.v[j]);
		return 0;
	}
	if (cli_has(c, "json"))
		return cli_print_json(prov_json(c, pv));
	printf("name:         %s\n", pv->name);
	printf("type:         %s (%s)\n", pv->impl->type, pv->impl->summary);
	printf("approval:     %s\n", approval_name(pv->pol.approval));
	janee_duration_fmt(pv->pol.max_ttl_s, d, sizeof(d));
	printf("max ttl:      %s\n", d);
	janee_duration_fmt(pv->pol.default_ttl_s, d, sizeof(d));
	printf("default ttl:  %s\n", d);
	printf("scopes:      ");
	for (j = 0; j < pv->pol.ceiling.n; j++)
		printf(" %s", pv->pol.ceiling.v[j]);
	printf("\ndefaults:    ");
	for (j = 0; j < pv->pol.defaults.n; j++)
		printf(" %s", pv->pol.defaults.v[j]);
	printf("%s\n", pv->pol.defaults.n ? "" : " (none)");
	printf("lease end:    %s\n",
	    pv->impl->revoke == NULL || pv->ctx.no_revoke
		? "tokens run to the provider's own expiry (not revocable)"
		: "revoked at the provider");
	st = prov_login(c, pv, &ci);
	if (ci.updated_ms)
		janee_time_fmt(ci.updated_ms, t);
	printf("login:        %s%s%s%s%s\n", login_state_text[st],
	    ci.updated_ms ? " (since " : "", ci.updated_ms ? t : "",
	    ci.updated_ms ? ")" : "", "");
	if (ci.detail != NULL) {
		fputs("              ", stdout);
		cli_put_text(stdout, ci.detail, 0);
		putchar('\n');
	}
	if (st == LOGIN_NOT_LOGGED_IN || st == LOGIN_BROKEN)
		printf("              run: janee login %s\n", pv->name);
	cred_info_free(&ci);
	return 0;
}

/* Option name -> config.json key and kind, for `provider add`. */
static const struct {
	const char *opt, *key;
	int list;
} add_keys[] = {
	{ "issuer", "issuer", 0 },
	{ "token-endpoint", "token_endpoint", 0 },
	{ "device-endpoint", "device_authorization_endpoint", 0 },
	{ "revocation-endpoint", "revocation_endpoint", 0 },
	{ "introspection-endpoint", "introspection_endpoint", 0 },
	{ "client-id", "client_id", 0 },
	{ "client-secret", "client_secret", 0 },
	{ "auth-method", "auth_method", 0 },
	{ "grant", "grant", 0 },
	{ "ca-file", "ca_file", 0 },
	{ "scope", "scopes", 1 },
	{ "default-scope", "default_scopes", 1 },
	{ "login-scope", "login_scopes", 1 },
	{ "max-ttl", "max_ttl", 0 },
	{ "default-ttl", "default_ttl", 0 },
	{ "approval", "approval", 0 },
	{ "lease-end", "lease_end", 0 },
};

/*
 * --set KEY=VALUE, for the keys of every provider type: VALUE is JSON when
 * it is true, false, null, an integer, or starts with [, { or " (as the
 * -F fields of `gh api`); otherwise a string.  0, or a usage error.
 */
static int
set_key(struct cli *c, cJSON *e, const char *kv)
{
	const char *eq = strchr(kv, '='), *v, *p;
	cJSON *val;
	char *key;
	int integer;

	if (eq == NULL || eq == kv)
		return cli_usage_error(
		    c, "--set wants KEY=VALUE, not '%s'", kv);
	v = eq + 1;
	integer = *v != '\0';
	for (p = *v == '-' ? v + 1 : v; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			integer = 0;
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "null") == 0 || (integer && strcmp(v, "-") != 0) ||
	    *v == '[' || *v == '{' || *v == '"') {
		if ((val = cJSON_ParseWithOpts(v, NULL, 1)) == NULL)
			return cli_usage_error(c,
			    "--set %.*s: '%s' is not valid JSON",
			    (int)(eq - kv), kv, v);
	} else if ((val = cJSON_CreateString(v)) == NULL)
		return JANEE_ERR_NOMEM;
	if ((key = janee_strdup(kv)) == NULL) {
		cJSON_Delete(val);
		return JANEE_ERR_NOMEM;
	}
	key[eq - kv] = '\0';
	if (strcmp(key, "type") == 0) {
		free(key);
		cJSON_Delete(val);
		return cli_usage_error(c, "give the type with --type");
	}
	/* The last word wins, over an option of the same key too. */
	cJSON_DeleteItemFromObjectCaseSensitive(e, key);
	cJSON_AddItemToObject(e, key, val);
	free(key);
	return 0;
}

/*
 * Each secret:NAME the entry names that is not stored yet, with the
 * command that stores it; one that is stored needs no word.
 */
static void
say_missing_secrets(struct cli *c, const cJSON *entry)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, entry)
	{
		if (!cJSON_IsString(v) ||
		    secretref_kind(v->valuestring) != SECRETREF_SECRET)
			continue;
		if (secret_exists(c->lg, v->valuestring + 7) == 0)
			continue;
		janee_err_clear();
		fprintf(stderr,
		    "janee: '%s' names %s, which is not stored yet; store it "
		    "with: janee secret set %s\n",
		    v->string, v->valuestring, v->valuestring + 7);
	}
}

/*
 * Validate root as every load does, then write it: the one way add, edit
 * and rm change config.json (refused before anything is written).
 */
static int
config_write_checked(struct cli *c, cJSON *root, struct config **check)
{
	char *text;
	int rc;

	if ((text = cJSON_Print(root)) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if ((rc = config_parse(text, c->home.config, janee_providers, check)) ==
	    0)
		rc = write_file_atomic(c->home.config, text, strlen(text));
	cJSON_free(text);
	return rc;
}

/* root's providers.NAME, or NULL with the error saying so. */
static cJSON *
entry_of(struct cli *c, cJSON *root, const char *name)
{
	cJSON *e = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "providers"), name);

	if (!cJSON_IsObject(e)) {
		/* The loaded config names the closest ones. */
		if (c->cfg == NULL ||
		    config_lookup(c->cfg, name, 1,
			"list them with: janee provider list") != NULL)
			janee_err_set(JANEE_ERR_NOT_FOUND,
			    "no provider '%s' in %s", name, c->home.config);
		return NULL;
	}
	return e;
}

int
cmd_provider_add(struct cli *c)
{
	const char *name = c->pos[0], *type = cli_get(c, "type");
	const struct janee_strlist *vals;
	const struct prov *pv;
	struct config *check = NULL;
	cJSON *root = NULL, *provs, *e;
	size_t i, j;
	int rc;

	if (type == NULL)
		return cli_usage_error(
		    c, "--type is required (oauth2, github-app or slack)");
	if ((rc = config_read_json(c->home.config, &root)) != 0)
		return rc;
	if ((provs = cJSON_GetObjectItemCaseSensitive(root, "providers")) ==
	    NULL)
		provs = cJSON_AddObjectToObject(root, "providers");
	if (!cJSON_IsObject(provs)) {
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "%s: 'providers' is not an "
		    "object; fix it by hand first",
		    c->home.config);
		goto out;
	}
	if (cJSON_GetObjectItemCaseSensitive(provs, name) != NULL) {
		rc = janee_err_set(JANEE_ERR_EXISTS,
		    "provider '%s' already "
		    "exists in %s; edit it there",
		    name, c->home.config);
		goto out;
	}
	e = cJSON_AddObjectToObject(provs, name);
	cJSON_AddStringToObject(e, "type", type);
	for (i = 0; i < nitems(add_keys); i++) {
		vals = cli_all(c, add_keys[i].opt);
		if (vals->n == 0)
			continue;
		if (!add_keys[i].list) {
			cJSON_AddStringToObject(
			    e, add_keys[i].key, vals->v[vals->n - 1]);
			continue;
		}
		cJSON *a = cJSON_AddArrayToObject(e, add_keys[i].key);
		for (j = 0; j < vals->n; j++)
			cJSON_AddItemToArray(a, cJSON_CreateString(vals->v[j]));
	}
	vals = cli_all(c, "set");
	for (j = 0; j < vals->n; j++)
		if ((rc = set_key(c, e, vals->v[j])) != 0)
			goto out;
	if ((rc = config_write_checked(c, root, &check)) != 0)
		goto out;
	fprintf(
	    stderr, "janee: added provider '%s' to %s\n", name, c->home.config);
	say_missing_secrets(c, e);
	pv = config_find(check, name);
	if (pv->impl->login != NULL && !pv->ctx.no_login)
		fprintf(
		    stderr, "janee: then log in with: janee login %s\n", name);
out:
	config_free(check);
	cJSON_Delete(root);
	return rc;
}

int
cmd_provider_edit(struct cli *c)
{
	const struct janee_strlist *set = cli_all(c, "set"),
				   *unset = cli_all(c, "unset");
	struct config *check = NULL;
	cJSON *root = NULL, *e;
	size_t j;
	int rc;

	if (set->n == 0 && unset->n == 0)
		return cli_usage_error(c,
		    "say what to change: --set KEY=VALUE "
		    "or --unset KEY");
	if ((rc = config_read_json(c->home.config, &root)) != 0)
		return rc;
	if ((e = entry_of(c, root, c->pos[0])) == NULL) {
		rc = JANEE_ERR_NOT_FOUND;
		goto out;
	}
	for (j = 0; j < unset->n; j++) {
		if (strcmp(unset->v[j], "type") == 0) {
			rc = cli_usage_error(c,
			    "the type cannot be unset; remove the provider "
			    "with: janee provider rm %s",
			    c->pos[0]);
			goto out;
		}
		if (cJSON_GetObjectItemCaseSensitive(e, unset->v[j]) == NULL) {
			rc = cli_usage_error(c,
			    "provider '%s' has no key '%s' to unset", c->pos[0],
			    unset->v[j]);
			goto out;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(e, unset->v[j]);
	}
	for (j = 0; j < set->n; j++)
		if ((rc = set_key(c, e, set->v[j])) != 0)
			goto out;
	if ((rc = config_write_checked(c, root, &check)) != 0)
		goto out;
	fprintf(stderr, "janee: changed provider '%s' in %s\n", c->pos[0],
	    c->home.config);
	say_missing_secrets(c, e);
out:
	config_free(check);
	cJSON_Delete(root);
	return rc;
}

int
cmd_provider_rm(struct cli *c)
{
	const char *name = c->pos[0];
	struct config *check = NULL;
	struct cred_info ci;
	enum login_state st;
	cJSON *root = NULL, *e;
	int rc, yes;

	if ((rc = config_read_json(c->home.config, &root)) != 0)
		return rc;
	if ((e = entry_of(c, root, name)) == NULL) {
		rc = JANEE_ERR_NOT_FOUND;
		goto out;
	}
	if (!cli_has(c, "yes")) {
		yes = cli_confirm("remove provider '%s', ending its leases and "
				  "its login",
		    name);
		if (yes < 0) {
			rc = cli_usage_error(c,
			    "no terminal to confirm on; pass --yes to remove "
			    "provider '%s'",
			    name);
			goto out;
		}
		if (!yes) {
			rc = janee_err_set(JANEE_ERR_DENIED, "nothing removed");
			goto out;
		}
	}
	/* Leases first: once the entry is gone nothing could revoke them. */
	st = login_state(c->lg, name, 1, &ci);
	cred_info_free(&ci);
	/* A login is revoked at the provider too (as janee logout does). */
	rc = st == LOGIN_LOGGED_IN || st == LOGIN_BROKEN
	    ? broker_logout(&c->broker, name)
	    : cli_end_leases(c, name);
	if (rc != 0)
		goto out;
	cJSON_DeleteItemFromObjectCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "providers"), name);
	if ((rc = config_write_checked(c, root, &check)) != 0)
		goto out;
	fprintf(stderr, "janee: removed provider '%s' from %s\n", name,
	    c->home.config);
out:
	config_free(check);
	cJSON_Delete(root);
	return rc;
}
