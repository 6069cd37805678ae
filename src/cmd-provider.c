/* janee provider add | list | show. */
#include "common.h"

#include <cjson/cJSON.h>

#include "buf.h"
#include "cli.h"
#include "credentials.h"
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
	if (pv->impl->login == NULL || pv->ctx.no_login)
		return "-";
	rc = cred_info(c->lg, pv->name, ci);
	if (rc == JANEE_ERR_NOT_FOUND)
		return "not logged in";
	if (rc != 0) {
		janee_err_clear();
		return "unknown";
	}
	return ci->broken ? "login broken" : "logged in";
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
	cJSON_AddBoolToObject(
	    o, "revocable", pv->impl->revoke != NULL && !pv->ctx.no_revoke);
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
	for (i = 0; i < c->cfg->n; i++) {
		pv = &c->cfg->provs[i];
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
	const struct prov *pv;
	struct cred_info ci;
	char t[JANEE_TIME_LEN], d[32];
	const char *st;
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

static int
read_config_json(const char *path, cJSON **out)
{
	struct buf b;
	FILE *fp;
	char tmp[4096];
	size_t n;
	int rc = 0;

	*out = NULL;
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno != ENOENT)
			return janee_err_set(JANEE_ERR_IO,
			    "cannot open '%s': %s", path, strerror(errno));
		*out = cJSON_CreateObject();
		return 0;
	}
	buf_init(&b, 1 << 20);
	while (rc == 0 && (n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		rc = buf_add(&b, tmp, n);
	fclose(fp);
	if (rc == 0 && b.p != NULL && (*out = cJSON_Parse(b.p)) == NULL)
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "%s: not valid JSON; fix "
		    "it by hand first",
		    path);
	if (rc == 0 && *out == NULL)
		*out = cJSON_CreateObject();
	buf_free(&b);
	return rc;
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
		return cli_usage_error(
		    c, "--type is required (oauth2, github-app or slack)");
	if ((rc = read_config_json(c->home.config, &root)) != 0)
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
	/* The same validation as every load: refuse before writing. */
	if ((text = cJSON_Print(root)) == NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	if ((rc = config_parse(
		 text, c->home.config, janee_providers, &check)) != 0)
		goto out;
	if ((rc = write_file_atomic(c->home.config, text, strlen(text))) != 0)
		goto out;
	fprintf(
	    stderr, "janee: added provider '%s' to %s\n", name, c->home.config);
	e = cJSON_GetObjectItemCaseSensitive(e, "client_secret");
	if (cJSON_IsString(e) && strncmp(e->valuestring, "secret:", 7) == 0)
		fprintf(stderr,
		    "janee: store its client secret with: janee "
		    "secret set %s\n",
		    e->valuestring + 7);
	if (config_find(check, name)->impl->login != NULL)
		fprintf(
		    stderr, "janee: then log in with: janee login %s\n", name);
out:
	config_free(check);
	cJSON_free(text);
	cJSON_Delete(root);
	return rc;
}
