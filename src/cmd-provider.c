/* janee provider add | list | show. */
#include "common.h"

#include <cjson/cJSON.h>

#include "buf.h"
#include "cli.h"
#include "credentials.h"
#include "oauth.h"
#include "json.h"
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
	return login_state(c->core.lg, pv->name, pv->info.needs_login, ci);
}

/* Each part of the provider's tokens and the variable janee exec sets. */
static cJSON *
parts_json(const struct prov *pv)
{
	const struct janee_part_info *p, *prim = prov_primary(pv);
	cJSON *a = cJSON_CreateArray(), *e;

	for (p = pv->info.parts; a != NULL && p->name != NULL; p++) {
		if (json_push(a, e = cJSON_CreateObject()) != 0 ||
		    json_put(e, "name", cJSON_CreateString(p->name)) != 0 ||
		    json_put(e, "secret",
			cJSON_CreateBool(p->flags & JANEE_PART_SECRET)) != 0 ||
		    json_put(e, "primary", cJSON_CreateBool(p == prim)) != 0 ||
		    (p->env != NULL &&
			json_put(e, "env", cJSON_CreateString(p->env)) != 0)) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
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
	cJSON_AddBoolToObject(o, "revocable", pv->info.revocable);
	if (pv->impl->resources != NULL)
		cJSON_AddItemToObject(
		    o, pv->impl->resources, strlist_json(&pv->pol.resources));
	cJSON_AddItemToObject(o, "parts", parts_json(pv));
	if (pv->info.api_base != NULL)
		cJSON_AddStringToObject(o, "api_base", pv->info.api_base);
	if (pv->info.auth_header != NULL)
		cJSON_AddStringToObject(o, "auth_header", pv->info.auth_header);
	if (pv->info.auth_scheme != NULL)
		cJSON_AddStringToObject(o, "auth_scheme", pv->info.auth_scheme);
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
	for (i = 0; i < c->core.cfg->n && rc == 0; i++) {
		pv = &c->core.cfg->provs[i];
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
	const struct janee_part_info *p;
	const struct prov *pv;
	struct cred_info ci;
	char t[JANEE_TIME_LEN], d[32];
	enum login_state st;
	size_t j;

	if ((pv = config_lookup(c->core.cfg, c->pos[0], 1,
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
	if (pv->impl->resources != NULL) {
		printf("%-14s", pv->impl->resources);
		for (j = 0; j < pv->pol.resources.n; j++)
			printf(" %s", pv->pol.resources.v[j]);
		printf("%s\n", pv->pol.resources.n ? "" : " (any)");
	}
	printf("lease end:    %s\n",
	    pv->info.revocable
		? "revoked at the provider"
		: "tokens run to the provider's own expiry (not revocable)");
	printf("token:       ");
	for (p = pv->info.parts; p->name != NULL; p++)
		printf(" %s%s%s%s%s", p->name, p == prov_primary(pv) ? "*" : "",
		    p->env ? " (" : "", p->env ? p->env : "",
		    p->env ? ")" : "");
	printf("\n");
	if (pv->info.api_base != NULL)
		printf("api:          %s\n", pv->info.api_base);
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
		if (secret_exists(c->core.lg, v->valuestring + 7) == 0)
			continue;
		janee_err_clear();
		fprintf(stderr,
		    "janee: '%s' names %s, which is not stored yet; store it with: janee secret set %s\n",
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
	if ((rc = config_parse(
		 text, c->core.home.config, janee_providers, NULL, check)) == 0)
		rc = write_file_atomic(c->core.home.config, text, strlen(text));
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
		if (c->core.cfg == NULL ||
		    config_lookup(c->core.cfg, name, 1,
			"list them with: janee provider list") != NULL)
			janee_err_set(JANEE_ERR_NOT_FOUND,
			    "no provider '%s' in %s", name,
			    c->core.home.config);
		return NULL;
	}
	return e;
}

/* A usage error that lists the types of the provider table. */
static int
type_list_error(const struct cli *c, const char *what)
{
	const struct janee_provider *const *t;
	struct buf b;
	int rc = 0;

	buf_init(&b, 4096);
	for (t = janee_providers; *t != NULL && rc == 0; t++)
		rc = buf_printf(
		    &b, "%s%s", t == janee_providers ? "" : ", ", (*t)->type);
	rc = cli_usage_error(c, "%s (one of: %s; see: janee provider types)",
	    what, b.p ? b.p : "");
	buf_free(&b);
	return rc;
}

int
cmd_provider_types(struct cli *c)
{
	const struct janee_provider *const *t;
	cJSON *arr = NULL, *o;

	if (cli_has(c, "json") && (arr = cJSON_CreateArray()) == NULL)
		return JANEE_ERR_NOMEM;
	for (t = janee_providers; *t != NULL; t++) {
		if (arr == NULL) {
			printf("%-12s %s\n", (*t)->type, (*t)->summary);
			continue;
		}
		if (json_push(arr, o = cJSON_CreateObject()) != 0 ||
		    json_put(o, "type", cJSON_CreateString((*t)->type)) != 0 ||
		    json_put(o, "summary", cJSON_CreateString((*t)->summary)) !=
			0 ||
		    ((*t)->resources != NULL &&
			json_put(o, "resources",
			    cJSON_CreateString((*t)->resources)) != 0)) {
			cJSON_Delete(arr);
			return JANEE_ERR_NOMEM;
		}
	}
	return arr ? cli_print_json(arr) : 0;
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
		return type_list_error(c, "--type is required");
	if ((rc = config_read_json(c->core.home.config, &root)) != 0)
		return rc;
	if ((provs = cJSON_GetObjectItemCaseSensitive(root, "providers")) ==
	    NULL)
		provs = cJSON_AddObjectToObject(root, "providers");
	if (!cJSON_IsObject(provs)) {
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "%s: 'providers' is not an object; fix it by hand first",
		    c->core.home.config);
		goto out;
	}
	if (cJSON_GetObjectItemCaseSensitive(provs, name) != NULL) {
		rc = janee_err_set(JANEE_ERR_EXISTS,
		    "provider '%s' already exists in %s; edit it there", name,
		    c->core.home.config);
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
	fprintf(stderr, "janee: added provider '%s' to %s\n", name,
	    c->core.home.config);
	say_missing_secrets(c, e);
	pv = config_find(check, name);
	if (pv->info.needs_login)
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
	if ((rc = config_read_json(c->core.home.config, &root)) != 0)
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
	    c->core.home.config);
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
	size_t n;
	int rc, yes;

	if ((rc = config_read_json(c->core.home.config, &root)) != 0)
		return rc;
	if ((e = entry_of(c, root, name)) == NULL) {
		rc = JANEE_ERR_NOT_FOUND;
		goto out;
	}
	if (!cli_has(c, "yes")) {
		yes = cli_confirm("remove provider '%s', ending its session "
				  "grants, its leases and its login",
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
	/*
	 * Its session grants first (they would approve new leases of it),
	 * then its leases: once the entry is gone nothing could revoke them.
	 */
	rc = broker_end_provider_grants(
	    &c->core.broker, name, "the provider was removed", &n);
	if (n > 0)
		fprintf(stderr, "janee: ended %zu session grant%s of '%s'\n", n,
		    n == 1 ? "" : "s", name);
	if (rc != 0)
		goto out;
	st = login_state(c->core.lg, name, 1, &ci);
	cred_info_free(&ci);
	/* A login is revoked at the provider too (as janee logout does). */
	rc = st == LOGIN_LOGGED_IN || st == LOGIN_BROKEN
	    ? broker_logout(&c->core.broker, name)
	    : cli_end_leases(c, name);
	if (rc != 0)
		goto out;
	cJSON_DeleteItemFromObjectCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "providers"), name);
	if ((rc = config_write_checked(c, root, &check)) != 0)
		goto out;
	fprintf(stderr, "janee: removed provider '%s' from %s\n", name,
	    c->core.home.config);
out:
	config_free(check);
	cJSON_Delete(root);
	return rc;
}

/*
 * One token of req, minted as janee token would and ended at once; detail
 * says which lease and what became of its token.
 */
static int
test_mint(struct cli *c, struct broker_req *req, char *detail, size_t n)
{
	struct broker_grant g;
	char *shown;
	int rc;

	memset(&g, 0, sizeof(g));
	if ((rc = cli_obtain(c, req, NULL, NULL, NULL, &g)) == 0) {
		shown = cli_scope_list(g.granted);
		rc = broker_end(
		    &c->core.broker, g.lease_id, "janee provider test");
		snprintf(detail, n, "%s (%s), %s", g.lease_id,
		    shown ? shown : "?",
		    g.revocable ? "revoked at once" : "left to expire");
		free(shown);
	}
	broker_grant_free(&g);
	return rc;
}

int
cmd_provider_test(struct cli *c)
{
	const struct janee_strlist *scopes = cli_all(c, "scope");
	struct checklist cl = { NULL, 0 };
	struct broker_req req;
	struct cred_info ci;
	enum login_state st;
	const struct prov *pv;
	cJSON *root = NULL;
	char detail[160];
	size_t i;
	int rc, refs = 0;

	if ((pv = config_lookup(c->core.cfg, c->pos[0], 1,
		 "list them with: janee provider list")) == NULL)
		return JANEE_ERR_NOT_FOUND;
	if (cli_has(c, "json") && (cl.checks = cJSON_CreateArray()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	snprintf(detail, sizeof(detail), "type %s, validated", pv->impl->type);
	check_report(&cl, "config", 0, detail);
	if ((rc = config_read_json(c->core.home.config, &root)) == 0)
		rc = check_refs(c->core.lg,
		    cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(root, "providers"),
			pv->name),
		    &refs);
	cJSON_Delete(root);
	snprintf(detail, sizeof(detail), "%d secret reference%s resolve%s",
	    refs, refs == 1 ? "" : "s", refs == 1 ? "s" : "");
	check_report(&cl, "references", rc, detail);
	st = prov_login(c, pv, &ci);
	cred_info_free(&ci);
	rc = st == LOGIN_NOT_LOGGED_IN || st == LOGIN_BROKEN
	    ? janee_err_set(JANEE_ERR_NOT_FOUND, "%s; run: janee login %s",
		  login_state_text[st], pv->name)
	    : 0;
	check_report(&cl, "login", rc, login_state_text[st]);
	if (cli_has(c, "no-mint") || cl.problems > 0)
		goto out;
	/*
	 * The real path (discovery, the app JWT or client authentication,
	 * the installation, the narrowing), approved as janee token is.
	 */
	memset(&req, 0, sizeof(req));
	req.provider = pv->name;
	req.ttl_s = 60;
	req.reason = "janee provider test";
	for (i = 0; i < scopes->n && rc == 0; i++)
		rc = janee_strlist_add(&req.scopes, scopes->v[i]);
	if (rc == 0)
		rc = test_mint(c, &req, detail, sizeof(detail));
	check_report(&cl, "mint", rc, detail);
	if (rc == 0 && st == LOGIN_LOGGED_IN && pv->info.revocable) {
		/*
		 * Some servers end the whole grant when one token of it is
		 * revoked (oidc-provider does; RFC 7009 section 2.1 allows
		 * it): then each lease's end would break the login.
		 */
		rc = test_mint(c, &req, detail, sizeof(detail));
		if (rc != 0 && prov_login(c, pv, &ci) == LOGIN_BROKEN) {
			janee_err_clear();
			rc = janee_err_set(JANEE_ERR_PROVIDER,
			    "revoking one token ended the whole login at the "
			    "provider; set lease_end to expire (janee provider "
			    "edit %s --set lease_end=expire) or give janee a "
			    "login of its own, then: janee login %s",
			    pv->name, pv->name);
		}
		cred_info_free(&ci);
		check_report(
		    &cl, "grant", rc, "the login outlives a revoked token");
	}
	janee_strlist_free(&req.scopes);
out:
	return check_end(&cl);
}
