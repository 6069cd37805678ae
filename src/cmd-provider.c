/* janee provider add | list | show. */
#include "common.h"

#include <cjson/cJSON.h>

#include "buf.h"
#include "cli.h"
#include "credentials.h"
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

/* "logged in", "login broken", "not logged in", or "-" (needs none). */
static const char *
login_state(struct cli *c, const struct prov *pv, struct cred_info *ci)
{
	int rc;

	memset(ci, 0, sizeof(*ci));
	if (!pv->info.needs_login)
		return "-";
	rc = cred_info(c->core.lg, pv->name, ci);
	if (rc == JANEE_ERR_NOT_FOUND)
		return "not logged in";
	if (rc != 0) {
		janee_err_clear();
		return "unknown";
	}
	return ci->broken ? "login broken" : "logged in";
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
	const char *st = login_state(c, pv, &ci);
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
	cJSON_AddStringToObject(o, "login", st);
	if (ci.detail != NULL)
		cJSON_AddStringToObject(o, "login_detail", ci.detail);
	if (strcmp(st, "not logged in") == 0 ||
	    strcmp(st, "login broken") == 0) {
		snprintf(cmd, sizeof(cmd), "janee login %s", pv->name);
		cJSON_AddStringToObject(o, "login_command", cmd);
	}
	cred_info_free(&ci);
	return o;
}

int
cmd_provider_list(struct cli *c)
{
	const struct prov *pv;
	struct cred_info ci;
	char max[32];
	cJSON *arr = NULL;
	size_t i, j;

	if (cli_has(c, "json"))
		arr = cJSON_CreateArray();
	else
		printf("%-16s %-10s %-12s %-8s %-14s %s\n", "NAME", "TYPE",
		    "APPROVAL", "MAX TTL", "LOGIN", "SCOPES");
	for (i = 0; i < c->core.cfg->n; i++) {
		pv = &c->core.cfg->provs[i];
		if (arr != NULL) {
			cJSON_AddItemToArray(arr, prov_json(c, pv));
			continue;
		}
		janee_duration_fmt(pv->pol.max_ttl_s, max, sizeof(max));
		printf("%-16s %-10s %-12s %-8s %-14s ", pv->name,
		    pv->impl->type, approval_name(pv->pol.approval), max,
		    login_state(c, pv, &ci));
		cred_info_free(&ci);
		for (j = 0; j < pv->pol.ceiling.n; j++)
			printf("%s%s", j ? "," : "", pv->pol.ceiling.v[j]);
		putchar('\n');
	}
	return arr ? cli_print_json(arr) : 0;
}

int
cmd_provider_show(struct cli *c)
{
	const struct janee_part_info *p;
	const struct prov *pv;
	struct cred_info ci;
	char t[JANEE_TIME_LEN], d[32];
	const char *st;
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
	st = login_state(c, pv, &ci);
	if (ci.updated_ms)
		janee_time_fmt(ci.updated_ms, t);
	printf("login:        %s%s%s%s%s\n", st,
	    ci.updated_ms ? " (since " : "", ci.updated_ms ? t : "",
	    ci.updated_ms ? ")" : "", "");
	if (ci.detail != NULL) {
		fputs("              ", stdout);
		cli_put_text(stdout, ci.detail, 0);
		putchar('\n');
	}
	if (strcmp(st, "not logged in") == 0 || strcmp(st, "login broken") == 0)
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
	struct config *check = NULL;
	cJSON *root = NULL, *provs, *e;
	char *text = NULL;
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
	/* The same validation as every load: refuse before writing. */
	if ((text = cJSON_Print(root)) == NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	if ((rc = config_parse(text, c->core.home.config, janee_providers, NULL,
		 &check)) != 0)
		goto out;
	if ((rc = write_file_atomic(c->core.home.config, text, strlen(text))) !=
	    0)
		goto out;
	fprintf(stderr, "janee: added provider '%s' to %s\n", name,
	    c->core.home.config);
	say_missing_secrets(c, e);
	if (config_find(check, name)->info.needs_login)
		fprintf(
		    stderr, "janee: then log in with: janee login %s\n", name);
out:
	config_free(check);
	cJSON_free(text);
	cJSON_Delete(root);
	return rc;
}
