/* config.json: parsing, validation, typed readers for providers. */
#include "common.h"

#include <fcntl.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "api-rules.h"
#include "buf.h"
#include "config.h"
#include "suggest.h"
#include "home.h"
#include "janee/http.h"
#include "secretref.h"
#include "util.h"

#define CONFIG_MAX (1 << 20)
#define MAX_KEYS 64

struct janee_cfg {
	const cJSON *obj;
	const char *where; /* "config.json: providers.NAME" */
	const char *used[MAX_KEYS];
	size_t nused;
};

static const char *const approval_names[] = {
	[APPROVAL_AUTO] = "auto",
	[APPROVAL_ASK] = "ask",
	[APPROVAL_OUT_OF_BAND] = "out-of-band",
	[APPROVAL_DENY] = "deny",
};

const char *
approval_name(enum approval a)
{
	return approval_names[a];
}

int
policy_needs_oob(const struct policy *p, const struct janee_strlist *scopes)
{
	const char *pat, *colon;
	size_t i, j;

	for (i = 0; i < p->oob_scopes.n; i++) {
		pat = p->oob_scopes.v[i];
		for (j = 0; j < scopes->n; j++) {
			if (strcmp(pat, scopes->v[j]) == 0)
				return 1;
			/* "*:write" matches any scope whose level is write. */
			if (strncmp(pat, "*:", 2) == 0 &&
			    (colon = strrchr(scopes->v[j], ':')) != NULL &&
			    strcmp(colon + 1, pat + 2) == 0)
				return 1;
		}
	}
	return 0;
}

static const cJSON *
cfg_take(struct janee_cfg *c, const char *key)
{
	if (c->nused < MAX_KEYS)
		c->used[c->nused++] = key;
	return cJSON_GetObjectItemCaseSensitive(c->obj, key);
}

static int
cfg_type(struct janee_cfg *c, const char *key, const char *want)
{
	return janee_err_set(
	    JANEE_ERR_CONFIG, "%s: key '%s' must be %s", c->where, key, want);
}

int
janee_cfg_string(
    struct janee_cfg *c, const char *key, int required, const char **out)
{
	const cJSON *v = cfg_take(c, key);

	if (v == NULL) {
		if (required)
			return janee_err_set(JANEE_ERR_CONFIG,
			    "%s: key '%s' is required", c->where, key);
		return 0;
	}
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
		return cfg_type(c, key, "a non-empty string");
	/* ${VAR} from the environment: config.json holds no secrets, so
	 * every string may use it ("$${" is a literal "${"). */
	if (strstr(v->valuestring, "${") != NULL) {
		char *exp = NULL;
		int rc;

		if ((rc = secretref_expand(v->valuestring, &exp)) != 0)
			return janee_err_wrap(JANEE_ERR_CONFIG,
			    "%s: key '%s': %s", c->where, key,
			    janee_err_msg(rc));
		/* The tree is this parse's own; the value lives as long. */
		rc = cJSON_SetValuestring((cJSON *)(uintptr_t)v, exp) == NULL
		    ? JANEE_ERR_NOMEM
		    : 0;
		free(exp);
		if (rc != 0)
			return janee_err_set(rc, "out of memory");
	}
	*out = v->valuestring;
	return 0;
}

int
janee_cfg_ref(
    struct janee_cfg *c, const char *key, int required, const char **out)
{
	const char *v = NULL;
	int rc;

	if ((rc = janee_cfg_string(c, key, required, &v)) != 0 || v == NULL)
		return rc;
	if ((rc = secretref_require(c->where, key, v)) != 0)
		return rc;
	*out = v;
	return 0;
}

int
janee_cfg_bool(struct janee_cfg *c, const char *key, int *out)
{
	const cJSON *v = cfg_take(c, key);

	if (v == NULL)
		return 0;
	if (!cJSON_IsBool(v))
		return cfg_type(c, key, "true or false");
	*out = cJSON_IsTrue(v);
	return 0;
}

int
janee_cfg_int(struct janee_cfg *c, const char *key, int64_t *out)
{
	const cJSON *v = cfg_take(c, key);

	if (v == NULL)
		return 0;
	/* Whole numbers only, within what a double holds exactly. */
	if (!cJSON_IsNumber(v) ||
	    v->valuedouble != (double)(int64_t)v->valuedouble ||
	    v->valuedouble > 9007199254740992.0 ||
	    v->valuedouble < -9007199254740992.0)
		return cfg_type(c, key, "an integer");
	*out = (int64_t)v->valuedouble;
	return 0;
}

int
janee_cfg_duration(struct janee_cfg *c, const char *key, int64_t *out_s)
{
	const cJSON *v = cfg_take(c, key);
	int64_t s;

	if (v == NULL)
		return 0;
	if (cJSON_IsString(v)) {
		if (janee_duration_parse(v->valuestring, &s) != 0) {
			janee_err_clear();
			return cfg_type(c, key,
			    "a duration such as \"90s\", \"5m\" or \"1h\"");
		}
	} else if (cJSON_IsNumber(v) && v->valuedouble >= 1 &&
	    v->valuedouble <= 315360000 &&
	    v->valuedouble == (double)(int64_t)v->valuedouble)
		s = (int64_t)v->valuedouble;
	else
		return cfg_type(c, key,
		    "a duration such as \"90s\", \"5m\", \"1h\" or whole seconds");
	*out_s = s;
	return 0;
}

int
janee_cfg_strlist(
    struct janee_cfg *c, const char *key, struct janee_strlist *out)
{
	const cJSON *v = cfg_take(c, key), *e;
	int rc;

	if (v == NULL)
		return 0;
	if (!cJSON_IsArray(v))
		return cfg_type(c, key, "an array of strings");
	cJSON_ArrayForEach(e, v)
	{
		if (!cJSON_IsString(e) || e->valuestring[0] == '\0')
			return cfg_type(
			    c, key, "an array of non-empty strings");
		if ((rc = janee_strlist_add(out, e->valuestring)) != 0)
			return rc;
	}
	janee_strlist_normalize(out);
	return 0;
}

int
janee_cfg_scopes(
    struct janee_cfg *c, const char *key, struct janee_strlist *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->obj, key), *e;
	char *s;
	int rc;

	if (!cJSON_IsObject(v))
		return janee_cfg_strlist(c, key, out);
	(void)cfg_take(c, key);
	cJSON_ArrayForEach(e, v)
	{
		if (!cJSON_IsString(e) || e->valuestring[0] == '\0')
			return cfg_type(c, key,
			    "a list of \"name:level\" or an object of name to level");
		if ((s = janee_asprintf("%s:%s", e->string, e->valuestring)) ==
		    NULL)
			return JANEE_ERR_NOMEM;
		rc = janee_strlist_add(out, s);
		free(s);
		if (rc != 0)
			return rc;
	}
	janee_strlist_normalize(out);
	return 0;
}

int
janee_cfg_object(struct janee_cfg *c, const char *key, const cJSON **out)
{
	const cJSON *v = cfg_take(c, key);

	if (v == NULL)
		return 0;
	if (!cJSON_IsObject(v))
		return cfg_type(c, key, "an object");
	*out = v;
	return 0;
}

/* The keys config.json's top level may hold. */
static const char *const top_keys[] = { "providers", "audit", "auth",
	"agents" };

/* The keys config.json's "audit" object may hold. */
static const char *const audit_keys[] = { "syslog" };

/* "unknown key 'aproval'; did you mean 'approval'?" */
static int
unknown_key(
    const char *where, const char *key, const char *const *known, size_t n)
{
	struct buf near;
	int rc;

	buf_init(&near, 4096);
	if (janee_suggest(key, known, n, 3, &near) == 0)
		buf_reset(&near);
	rc = janee_err_set(JANEE_ERR_CONFIG, "%s: unknown key '%s'%s%s%s",
	    where, key, near.len ? "; did you mean " : "",
	    near.len ? near.p : "", near.len ? "?" : "");
	buf_free(&near);
	return rc;
}

static int
cfg_check_unused(struct janee_cfg *c)
{
	const cJSON *e;
	size_t i;

	cJSON_ArrayForEach(e, c->obj)
	{
		for (i = 0; i < c->nused; i++)
			if (strcmp(c->used[i], e->string) == 0)
				break;
		if (i == c->nused)
			return unknown_key(
			    c->where, e->string, c->used, c->nused);
	}
	return 0;
}

/*
 * The resource allow-list: "resources", or the provider's own word for
 * them ("repositories"), not both; a provider that narrows to none takes
 * neither.
 */
static int
read_resources(
    struct janee_cfg *c, const struct janee_provider *impl, struct policy *p)
{
	const cJSON *gen =
	    cJSON_GetObjectItemCaseSensitive(c->obj, "resources");
	const cJSON *own = impl->resources
	    ? cJSON_GetObjectItemCaseSensitive(c->obj, impl->resources)
	    : NULL;

	if (gen != NULL && impl->resources == NULL)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "%s: key 'resources': a provider of type %s narrows tokens to scopes alone",
		    c->where, impl->type);
	if (gen != NULL && own != NULL)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "%s: keys 'resources' and '%s' are the same list; give one",
		    c->where, impl->resources);
	if (impl->resources == NULL)
		return 0;
	return janee_cfg_strlist(
	    c, own != NULL ? impl->resources : "resources", &p->resources);
}

static int
approval_parse(struct janee_cfg *c, const char *appr, enum approval *out)
{
	size_t i;

	for (i = 0; i < nitems(approval_names); i++)
		if (strcmp(appr, approval_names[i]) == 0) {
			*out = (enum approval)i;
			return 0;
		}
	return janee_err_set(JANEE_ERR_CONFIG,
	    "%s: 'approval' must be auto, ask, out-of-band or deny, not '%s'",
	    c->where, appr);
}

static int
read_policy(
    struct janee_cfg *c, const struct janee_provider *impl, struct policy *p)
{
	const char *appr = NULL;
	int rc;

	p->max_ttl_s = 0; /* the provider's, else janee's: after configure */
	p->approval = APPROVAL_ASK;
	p->approval_wait_s = 120;
	p->default_ttl_s = 0;
	if ((rc = janee_cfg_strlist(c, "scopes", &p->ceiling)) != 0 ||
	    (rc = janee_cfg_strlist(c, "default_scopes", &p->defaults)) != 0 ||
	    (rc = read_resources(c, impl, p)) != 0 ||
	    (rc = janee_cfg_strlist(
		 c, "require_out_of_band", &p->oob_scopes)) != 0 ||
	    (rc = janee_cfg_duration(
		 c, "approval_wait", &p->approval_wait_s)) != 0 ||
	    (rc = janee_cfg_duration(c, "max_ttl", &p->max_ttl_s)) != 0 ||
	    (rc = janee_cfg_duration(
		 c, "session_grant_max", &p->session_grant_max_s)) != 0 ||
	    (rc = janee_cfg_duration(c, "default_ttl", &p->default_ttl_s)) !=
		0 ||
	    (rc = janee_cfg_string(c, "approval", 0, &appr)) != 0)
		return rc;
	return appr != NULL ? approval_parse(c, appr, &p->approval) : 0;
}

/*
 * After the provider's configure(), which may add to the ceiling (GitHub
 * turns its "permissions" map into scopes) and names its default
 * lifetime ceiling: the ceiling must not be empty, the defaults must lie
 * within it, and the default lifetime within the longest.
 */
static int
check_policy(
    struct janee_cfg *c, const struct janee_info *info, struct policy *p)
{
	size_t i;

	if (p->max_ttl_s == 0)
		p->max_ttl_s = info->max_ttl_s > 0 ? info->max_ttl_s : 3600;
	if (p->default_ttl_s == 0)
		p->default_ttl_s = p->max_ttl_s < 900 ? p->max_ttl_s : 900;
	if (p->default_ttl_s > p->max_ttl_s)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "%s: 'default_ttl' is longer than 'max_ttl'", c->where);
	/* A session grant approves leases: never beyond the longest. */
	if (p->session_grant_max_s > p->max_ttl_s)
		p->session_grant_max_s = p->max_ttl_s;

	/* An empty ceiling would read as "everything": refuse it. */
	if (p->ceiling.n == 0)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "%s: key 'scopes' (the ceiling of what may be granted) is required and must not be empty",
		    c->where);
	janee_strlist_normalize(&p->ceiling);
	for (i = 0; i < p->defaults.n; i++)
		if (!janee_strlist_has(&p->ceiling, p->defaults.v[i]))
			return janee_err_set(JANEE_ERR_CONFIG,
			    "%s: default scope '%s' is not in 'scopes'",
			    c->where, p->defaults.v[i]);
	return 0;
}

/* A string member of the provider's entry (after ${VAR} expansion). */
static const char *
entry_string(const cJSON *e, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
 * The "api" object (call_api's rules, src/api-rules.h), checked like the
 * entry itself: unknown keys are named.  After configure(), which has
 * checked the provider's own ca_file and declared its API in p->info,
 * the defaults' source.
 */
static int
read_api(struct janee_cfg *c, const cJSON *e, struct prov *p)
{
	const cJSON *obj = NULL, *size;
	struct janee_cfg a;
	struct api_rules *r;
	const char *base = NULL;
	char *where;
	size_t i, n;
	int rc;

	if ((rc = janee_cfg_object(c, "api", &obj)) != 0 || obj == NULL)
		return rc;
	if ((where = janee_asprintf("%s.api", c->where)) == NULL ||
	    (r = calloc(1, sizeof(*r))) == NULL) {
		free(where);
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	p->api = r;
	r->max_response = API_MAX_RESPONSE_DEFAULT;
	r->timeout_s = API_TIMEOUT_DEFAULT_S;
	memset(&a, 0, sizeof(a));
	a.obj = obj;
	a.where = where;
	if ((rc = janee_cfg_string(&a, "base_url", 0, &base)) != 0 ||
	    (rc = janee_cfg_strlist(&a, "allow", &r->allow)) != 0 ||
	    (rc = janee_cfg_strlist(&a, "deny", &r->deny)) != 0 ||
	    (rc = janee_cfg_duration(&a, "timeout", &r->timeout_s)) != 0)
		goto out;
	size = cfg_take(&a, "max_response");
	if (size != NULL &&
	    (!cJSON_IsString(size) ||
		api_size_parse(size->valuestring, &r->max_response) != 0)) {
		rc = cfg_type(&a, "max_response",
		    "a size such as \"1MiB\", \"512KiB\" or \"65536\" "
		    "(at most 64MiB)");
		goto out;
	}
	if (r->timeout_s > API_TIMEOUT_LIMIT_S) {
		rc = cfg_type(&a, "timeout", "at most 5m");
		goto out;
	}
	if ((rc = cfg_check_unused(&a)) != 0)
		goto out;
	for (i = 0; i < r->allow.n + r->deny.n; i++)
		if ((rc = api_rule_check(where,
			 i < r->allow.n ? r->allow.v[i]
					: r->deny.v[i - r->allow.n])) != 0)
			goto out;
	if (base != NULL) {
		if ((rc = janee_http_url_ok(base, where)) != 0 ||
		    strpbrk(base, "?#") != NULL) {
			if (rc != 0)
				janee_err_clear();
			rc = cfg_type(&a, "base_url",
			    "an https URL (http only to loopback) without "
			    "query or fragment");
			goto out;
		}
		if ((r->base_url = janee_strdup(base)) == NULL) {
			rc = JANEE_ERR_NOMEM;
			goto out;
		}
	}
	if ((base = entry_string(e, "client_secret")) != NULL &&
	    (r->client_secret_ref = janee_strdup(base)) == NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	rc = api_provider_defaults(
	    r, where, p->impl->type, &p->info, entry_string(e, "ca_file"));
	if (rc == 0 && r->base_url != NULL)
		for (n = strlen(r->base_url);
		     n > 0 && r->base_url[n - 1] == '/'; n--)
			r->base_url[n - 1] = '\0';
out:
	free(where);
	return rc;
}

static const struct janee_provider *
find_impl(const struct janee_provider *const *table, const char *type)
{
	for (; *table != NULL; table++)
		if (strcmp((*table)->type, type) == 0)
			return *table;
	return NULL;
}

/* A token of an entry whose configure() named no parts: one secret. */
static const struct janee_part_info default_parts[] = {
	{ "token", NULL, JANEE_PART_SECRET },
	{ NULL, NULL, 0 },
};

const struct janee_part_info *
prov_part(const struct prov *pv, const char *name)
{
	const struct janee_part_info *p;

	for (p = pv->info.parts; p->name != NULL; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

const struct janee_part_info *
prov_primary(const struct prov *pv)
{
	return pv->info.primary ? prov_part(pv, pv->info.primary)
				: pv->info.parts;
}

/*
 * What configure() said must fit the provider's table: a promise with no
 * slot behind it (revocable without revoke()) is the provider's bug, and
 * refused rather than believed.
 */
static int
check_info(const char *where, const struct prov *p)
{
	const struct janee_info *in = &p->info;
	const struct janee_part_info *a, *b;
	const char *bad = NULL;

	if (in->revocable && p->impl->revoke == NULL)
		bad = "says it can revoke but has no revoke()";
	else if (in->reconcilable && p->impl->reconcile == NULL)
		bad = "says it can reconcile but has no reconcile()";
	else if (in->needs_login && p->impl->login == NULL)
		bad = "needs a login but has no login()";
	else if (in->parts->name == NULL)
		bad = "names no token parts";
	else if (prov_primary(p) == NULL)
		bad = "names a primary part it does not have";
	else if (in->max_ttl_s < 0)
		bad = "names a negative lifetime";
	for (a = in->parts; bad == NULL && a->name != NULL; a++) {
		if (!janee_name_valid(a->name))
			bad = "names a token part that is not a name";
		else if (a->env != NULL && !janee_env_name_valid(a->env))
			bad = "maps a token part to no variable name";
		for (b = a + 1; bad == NULL && b->name != NULL; b++)
			if (strcmp(a->name, b->name) == 0 ||
			    (a->env != NULL && b->env != NULL &&
				strcmp(a->env, b->env) == 0))
				bad = "names a token part or variable twice";
	}
	if (bad != NULL)
		return janee_err_set(JANEE_ERR_INTERNAL,
		    "%s: the %s provider %s", where, p->impl->type, bad);
	return 0;
}

/* Services for a parse that only checks the file (config_load, NULL). */
static int
off_secret_get(
    struct janee_ctx *ctx, const char *ref, struct janee_secret **out)
{
	(void)ref;
	*out = NULL;
	return janee_err_set(JANEE_ERR_UNSUPPORTED,
	    "provider '%s': no secret store while checking the configuration",
	    ctx->name);
}

static int
off_cred_get(struct janee_ctx *ctx, struct janee_secret **out)
{
	*out = NULL;
	return janee_err_set(JANEE_ERR_UNSUPPORTED,
	    "provider '%s': no login while checking the configuration",
	    ctx->name);
}

static int
off_cred_put(
    struct janee_ctx *ctx, const struct janee_secret *val, const char *account)
{
	(void)val;
	(void)account;
	return off_cred_get(ctx, NULL);
}

static int
off_cred_broken(struct janee_ctx *ctx, const char *why)
{
	(void)why;
	return off_cred_get(ctx, NULL);
}

static int
off_login_gone(
    struct janee_ctx *ctx, int rc, const char *why, const char *profile)
{
	(void)rc;
	(void)why;
	(void)profile;
	return off_cred_get(ctx, NULL);
}

static int
off_cred_lock(struct janee_ctx *ctx)
{
	return off_cred_get(ctx, NULL);
}

static void
off_cred_unlock(struct janee_ctx *ctx)
{
	(void)ctx;
}

static int
off_lease_live(struct janee_ctx *ctx, const char *lease_id)
{
	(void)ctx;
	(void)lease_id;
	return 1; /* cannot say: never let anything be dropped */
}

void
config_ctx_log(struct janee_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "janee: %s: ", ctx->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const struct janee_ctx offline = {
	.secret_get = off_secret_get,
	.cred_get = off_cred_get,
	.cred_put = off_cred_put,
	.cred_broken = off_cred_broken,
	.login_gone = off_login_gone,
	.cred_lock = off_cred_lock,
	.cred_unlock = off_cred_unlock,
	.lease_live = off_lease_live,
	.now_ms = janee_now_ms,
	.log = config_ctx_log,
};

static int
load_provider(struct config *cfg, const char *origin, const cJSON *e,
    const struct janee_provider *const *table, const struct janee_ctx *services)
{
	struct prov *p = &cfg->provs[cfg->n];
	struct janee_cfg c;
	const char *type = NULL;
	char *where;
	int rc;

	if ((where = janee_asprintf("%s: providers.%s", origin, e->string)) ==
	    NULL)
		return JANEE_ERR_NOMEM;
	memset(&c, 0, sizeof(c));
	c.obj = e;
	c.where = where;
	if (!janee_name_valid(e->string)) {
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "%s: a provider name is 1-64 lowercase letters, digits, '-' or '_'",
		    where);
		goto out;
	}
	if (!cJSON_IsObject(e)) {
		rc = janee_err_set(
		    JANEE_ERR_CONFIG, "%s: must be an object", where);
		goto out;
	}
	if ((rc = janee_cfg_string(&c, "type", 1, &type)) != 0)
		goto out;
	if ((p->impl = find_impl(table, type)) == NULL) {
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "%s: unknown provider type '%s'", where, type);
		goto out;
	}
	if (p->impl->version != JANEE_PROVIDER_VERSION) {
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "%s: provider '%s' was built for interface %d, not %d",
		    where, type, p->impl->version, JANEE_PROVIDER_VERSION);
		goto out;
	}
	if (p->impl->configure == NULL || p->impl->mint == NULL) {
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "%s: provider '%s' has no configure() or mint()", where,
		    type);
		goto out;
	}
	if ((p->name = janee_strdup(e->string)) == NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	cfg->n++; /* from here on config_free cleans this entry up */
	/* The core's services first: configure() may use them. */
	p->ctx = services != NULL ? *services : offline;
	p->ctx.name = p->name;
	p->ctx.state = NULL;
	p->ctx.http = NULL;
	p->login_fd = -1;
	if ((rc = read_policy(&c, p->impl, &p->pol)) != 0)
		goto out;
	p->ctx.ceiling = &p->pol.ceiling;
	p->ctx.resources = &p->pol.resources;
	memset(&p->info, 0, sizeof(p->info));
	if ((rc = p->impl->configure(&p->ctx, &c, &p->ctx.state, &p->info)) !=
	    0) {
		/* The provider's own messages name the entry already. */
		if (rc != JANEE_ERR_CONFIG)
			rc = janee_err_wrap(
			    JANEE_ERR_CONFIG, "%s", janee_err_msg(rc));
		goto out;
	}
	if (p->info.parts == NULL)
		p->info.parts = default_parts;
	if ((rc = check_info(where, p)) != 0 ||
	    (rc = check_policy(&c, &p->info, &p->pol)) != 0 ||
	    (rc = read_api(&c, e, p)) != 0)
		goto out;
	rc = cfg_check_unused(&c);
out:
	free(where);
	return rc;
}

static int
key_known(const char *key, const char *const *known, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(key, known[i]) == 0)
			return 1;
	return 0;
}

static int
audit_unknown_key(const char *origin, const char *key)
{
	char *where;
	int rc;

	if ((where = janee_asprintf("%s: audit", origin)) == NULL)
		return JANEE_ERR_NOMEM;
	rc = unknown_key(where, key, audit_keys, nitems(audit_keys));
	free(where);
	return rc;
}

/* "audit": {"syslog": true|false}: the audit trail's witness. */
static int
load_audit(struct config *cfg, const char *origin, const cJSON *a)
{
	const cJSON *e;

	if (a == NULL)
		return 0;
	if (!cJSON_IsObject(a))
		return janee_err_set(JANEE_ERR_CONFIG,
		    "%s: 'audit' must be an object, like {\"syslog\": true}",
		    origin);
	cJSON_ArrayForEach(e, a)
	{
		if (!key_known(e->string, audit_keys, nitems(audit_keys)))
			return audit_unknown_key(origin, e->string);
		if (!cJSON_IsBool(e))
			return janee_err_set(JANEE_ERR_CONFIG,
			    "%s: audit.syslog must be true or false", origin);
		cfg->audit_syslog = cJSON_IsTrue(e);
	}
	return 0;
}

/* A URL janee talks to or names: https, or http on a loopback host. */
static int
team_url_ok(const char *u)
{
	static const char *const loop[] = { "http://127.0.0.1",
		"http://localhost", "http://[::1]" };
	size_t i, n;

	if (strncmp(u, "https://", 8) == 0 && u[8] != '\0')
		return strchr(u, '#') == NULL;
	for (i = 0; i < nitems(loop); i++) {
		n = strlen(loop[i]);
		if (strncmp(u, loop[i], n) == 0 &&
		    (u[n] == ':' || u[n] == '/' || u[n] == '\0'))
			return strchr(u, '#') == NULL;
	}
	return 0;
}

static int
dup_url(struct janee_cfg *c, const char *key, char **out)
{
	const char *v = NULL;
	int rc;

	if ((rc = janee_cfg_string(c, key, 0, &v)) != 0 || v == NULL)
		return rc;
	if (!team_url_ok(v))
		return janee_err_set(JANEE_ERR_CONFIG,
		    "%s: '%s' must be an https URL (http only on 127.0.0.1, [::1] or localhost), with no fragment",
		    c->where, key);
	return (*out = janee_strdup(v)) ? 0 : JANEE_ERR_NOMEM;
}

/*
 * "auth": {"resource": URL, "issuer": URL, "audience": S, "token_ttl": D}
 * (src/team-auth.h).
 */
static int
load_auth(struct config *cfg, const char *origin, const cJSON *a)
{
	struct janee_cfg c;
	const char *aud = NULL;
	char *where;
	int rc;

	if (a == NULL)
		return 0;
	if ((where = janee_asprintf("%s: auth", origin)) == NULL)
		return JANEE_ERR_NOMEM;
	memset(&c, 0, sizeof(c));
	c.obj = a;
	c.where = where;
	if (!cJSON_IsObject(a))
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "%s: must be an object, like {\"resource\": \"https://janee.example/mcp\"}",
		    where);
	else if ((rc = dup_url(&c, "resource", &cfg->auth.resource)) == 0 &&
	    (rc = dup_url(&c, "issuer", &cfg->auth.issuer)) == 0 &&
	    (rc = janee_cfg_string(&c, "audience", 0, &aud)) == 0 &&
	    (rc = janee_cfg_duration(
		 &c, "token_ttl", &cfg->auth.token_ttl_s)) == 0 &&
	    (rc = cfg_check_unused(&c)) == 0) {
		if (aud != NULL && cfg->auth.issuer == NULL)
			rc = janee_err_set(JANEE_ERR_CONFIG,
			    "%s: 'audience' is for an external 'issuer'; janee's own tokens carry 'resource'",
			    where);
		else if (aud != NULL &&
		    (cfg->auth.audience = janee_strdup(aud)) == NULL)
			rc = JANEE_ERR_NOMEM;
		else if (cfg->auth.token_ttl_s < 0 ||
		    cfg->auth.token_ttl_s > 3600)
			rc = janee_err_set(JANEE_ERR_CONFIG,
			    "%s: 'token_ttl' must be at most 1h: access tokens are short-lived",
			    where);
	}
	free(where);
	return rc;
}

/* agents.NAME.providers.P: the agent's policy for provider P. */
static int
load_agent_prov(struct config *cfg, const char *where, const cJSON *e,
    struct agent_prov_pol *ap)
{
	struct janee_cfg c;
	const char *appr = NULL;
	char *w;
	int rc;

	if ((w = janee_asprintf("%s.%s", where, e->string)) == NULL)
		return JANEE_ERR_NOMEM;
	memset(&c, 0, sizeof(c));
	c.obj = e;
	c.where = w;
	if ((ap->provider = janee_strdup(e->string)) == NULL)
		rc = JANEE_ERR_NOMEM;
	else if (!cJSON_IsObject(e))
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "%s: must be an object, like {\"scopes\": [...], \"approval\": \"ask\"}",
		    w);
	else if (config_find(cfg, e->string) == NULL)
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "%s: no provider '%s' in 'providers'", w, e->string);
	else if ((rc = janee_cfg_strlist(&c, "scopes", &ap->scopes)) == 0 &&
	    (rc = janee_cfg_strlist(&c, "resources", &ap->resources)) == 0 &&
	    (rc = janee_cfg_duration(&c, "max_ttl", &ap->max_ttl_s)) == 0 &&
	    (rc = janee_cfg_string(&c, "approval", 0, &appr)) == 0 &&
	    (rc = cfg_check_unused(&c)) == 0 && appr != NULL) {
		ap->has_approval = 1;
		rc = approval_parse(&c, appr, &ap->approval);
	}
	if (rc == 0)
		janee_strlist_normalize(&ap->scopes);
	free(w);
	return rc;
}

/* "agents": {"NAME": {"providers": {"P": {...}}}}, after the providers. */
static int
load_agents(struct config *cfg, const char *origin, const cJSON *a)
{
	const cJSON *e, *provs, *p;
	struct agent_pol *ag;
	char *where = NULL;
	int rc = 0;

	if (a == NULL)
		return 0;
	if (!cJSON_IsObject(a))
		return janee_err_set(JANEE_ERR_CONFIG,
		    "%s: 'agents' must be an object, like {\"ci-bot\": {\"providers\": {...}}}",
		    origin);
	if ((cfg->agents = calloc((size_t)cJSON_GetArraySize(a) + 1,
		 sizeof(*cfg->agents))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(e, a)
	{
		ag = &cfg->agents[cfg->nagents++];
		free(where);
		if ((where = janee_asprintf(
			 "%s: agents.%s", origin, e->string)) == NULL ||
		    (ag->name = janee_strdup(e->string)) == NULL)
			return JANEE_ERR_NOMEM;
		if (!janee_name_valid(e->string) || !cJSON_IsObject(e)) {
			rc = janee_err_set(JANEE_ERR_CONFIG,
			    "%s: an agent is a name (1-64 lowercase letters, digits, '-' or '_') and an object",
			    where);
			break;
		}
		cJSON_ArrayForEach(
		    p, e) if (strcmp(p->string, "providers") != 0)
		{
			static const char *const known[] = { "providers" };

			rc = unknown_key(where, p->string, known, 1);
			break;
		}
		if (rc != 0)
			break;
		provs = cJSON_GetObjectItemCaseSensitive(e, "providers");
		if (!cJSON_IsObject(provs)) {
			rc = janee_err_set(JANEE_ERR_CONFIG,
			    "%s: 'providers' (what the agent may use) is required and must be an object",
			    where);
			break;
		}
		if ((ag->provs = calloc((size_t)cJSON_GetArraySize(provs) + 1,
			 sizeof(*ag->provs))) == NULL) {
			rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
			break;
		}
		free(where);
		if ((where = janee_asprintf(
			 "%s: agents.%s.providers", origin, e->string)) == NULL)
			return JANEE_ERR_NOMEM;
		cJSON_ArrayForEach(
		    p, provs) if ((rc = load_agent_prov(cfg, where, p,
				       &ag->provs[ag->n++])) != 0) break;
		if (rc != 0)
			break;
	}
	free(where);
	return rc;
}

const struct agent_prov_pol *
config_agent_policy(const struct config *c, const char *agent,
    const char *provider, int *agent_known)
{
	size_t i, j;

	*agent_known = 0;
	for (i = 0; i < c->nagents; i++) {
		if (strcmp(c->agents[i].name, agent) != 0)
			continue;
		*agent_known = 1;
		for (j = 0; j < c->agents[i].n; j++)
			if (strcmp(c->agents[i].provs[j].provider, provider) ==
			    0)
				return &c->agents[i].provs[j];
	}
	return NULL;
}

/* Every string of v (a reference where it is a member's value). */
static int
env_names_in(const cJSON *v, int member, struct janee_strlist *out)
{
	const cJSON *c;
	int rc = 0;

	if (cJSON_IsString(v)) {
		/* env:X as an array element is a name (a scope), not a
		 * reference: only its ${VAR} are read. */
		if (!member && secretref_kind(v->valuestring) != SECRETREF_NONE)
			return 0;
		return secretref_env_names(v->valuestring, out);
	}
	for (c = v->child; c != NULL && rc == 0; c = c->next)
		rc = env_names_in(c, cJSON_IsObject(v), out);
	return rc;
}

int
config_parse(const char *text, const char *origin,
    const struct janee_provider *const *table, const struct janee_ctx *services,
    struct config **out)
{
	const cJSON *provs, *e;
	struct config *cfg;
	cJSON *root;
	int rc = 0;

	*out = NULL;
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL ||
	    (cfg->path = janee_strdup(origin)) == NULL) {
		free(cfg);
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	if ((root = cJSON_Parse(text)) == NULL) {
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "%s: not valid JSON near byte %td", origin,
		    cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - text
					: (ptrdiff_t)0);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "%s: the top level must be an object", origin);
		goto out;
	}
	cJSON_ArrayForEach(
	    e, root) if (!key_known(e->string, top_keys, nitems(top_keys)))
	{
		rc = unknown_key(origin, e->string, top_keys, nitems(top_keys));
		goto out;
	}
	if ((rc = load_audit(cfg, origin,
		 cJSON_GetObjectItemCaseSensitive(root, "audit"))) != 0)
		goto out;
	provs = cJSON_GetObjectItemCaseSensitive(root, "providers");
	if (provs == NULL) {
		provs = cJSON_GetObjectItemCaseSensitive(root, "agents");
		if ((rc = load_auth(cfg, origin,
			 cJSON_GetObjectItemCaseSensitive(root, "auth"))) ==
			0 &&
		    provs != NULL)
			rc = janee_err_set(JANEE_ERR_CONFIG,
			    "%s: 'agents' names providers, but there is no 'providers'",
			    origin);
		goto out;
	}
	/* Before the providers read it: ${VAR} is expanded in place. */
	if ((rc = env_names_in(provs, 0, &cfg->env_names)) != 0)
		goto out;
	if (!cJSON_IsObject(provs)) {
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "%s: 'providers' must be an object", origin);
		goto out;
	}
	if ((cfg->provs = calloc((size_t)cJSON_GetArraySize(provs) + 1,
		 sizeof(*cfg->provs))) == NULL) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(e, provs)
	{
		if (config_find(cfg, e->string) != NULL) {
			rc = janee_err_set(JANEE_ERR_CONFIG,
			    "%s: provider '%s' appears twice", origin,
			    e->string);
			goto out;
		}
		if ((rc = load_provider(cfg, origin, e, table, services)) != 0)
			goto out;
	}
	if ((rc = load_auth(cfg, origin,
		 cJSON_GetObjectItemCaseSensitive(root, "auth"))) != 0 ||
	    (rc = load_agents(cfg, origin,
		 cJSON_GetObjectItemCaseSensitive(root, "agents"))) != 0)
		goto out;
out:
	cJSON_Delete(root);
	if (rc != 0)
		config_free(cfg);
	else
		*out = cfg;
	return rc;
}

int
config_load(const char *path, const struct janee_provider *const *table,
    const struct janee_ctx *services, struct config **out)
{
	struct buf b;
	int fd, rc;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			return config_parse("{}", path, table, services, out);
		return janee_err_set(JANEE_ERR_CONFIG, "cannot open '%s': %s",
		    path, strerror(errno));
	}
	/* Policy lives here: others must not be able to widen it. */
	if ((rc = path_check_private(path, 0, 0)) != 0) {
		close(fd);
		return rc;
	}
	buf_init(&b, CONFIG_MAX);
	rc = buf_read_fd(&b, fd);
	close(fd);
	if (rc != 0)
		return janee_err_set(JANEE_ERR_CONFIG, "cannot read '%s': %s",
		    path, janee_err_msg(rc));
	rc = config_parse(b.p, path, table, services, out);
	buf_free(&b);
	return rc;
}

/* config.h: the file as written, for commands that rewrite it. */
int
config_read_json(const char *path, cJSON **out)
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
		    "%s: not valid JSON; fix it by hand first", path);
	if (rc == 0 && *out == NULL)
		*out = cJSON_CreateObject();
	buf_free(&b);
	return rc;
}

struct prov *
config_find(struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->provs[i].name, name) == 0)
			return &c->provs[i];
	return NULL;
}

struct prov *
config_lookup(
    struct config *c, const char *name, int with_path, const char *hint)
{
	struct prov *pv = config_find(c, name);
	const char **names;
	struct buf near;
	size_t i;

	if (pv != NULL)
		return pv;
	buf_init(&near, 4096);
	if ((names = calloc(c->n + 1, sizeof(*names))) != NULL) {
		for (i = 0; i < c->n; i++)
			names[i] = c->provs[i].name;
		if (janee_suggest(name, names, c->n, 3, &near) > 0 &&
		    buf_addstr(&near, "?") != 0)
			buf_reset(&near);
		free(names);
	}
	janee_err_set(JANEE_ERR_NOT_FOUND, "no provider '%s'%s%s; %s%s%s%s",
	    name, with_path ? " in " : "", with_path ? c->path : "",
	    near.len ? "did you mean " : "", near.len ? near.p : "",
	    near.len ? " " : "", hint);
	buf_free(&near);
	return NULL;
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		struct prov *p = &c->provs[i];

		if (p->impl->unconfigure != NULL && p->ctx.state != NULL)
			p->impl->unconfigure(p->ctx.state);
		free(p->name);
		janee_strlist_free(&p->pol.ceiling);
		janee_strlist_free(&p->pol.defaults);
		janee_strlist_free(&p->pol.resources);
		janee_strlist_free(&p->pol.oob_scopes);
		api_rules_free(p->api);
	}
	free(c->provs);
	for (i = 0; i < c->nagents; i++) {
		struct agent_pol *a = &c->agents[i];
		size_t j;

		for (j = 0; j < a->n; j++) {
			free(a->provs[j].provider);
			janee_strlist_free(&a->provs[j].scopes);
			janee_strlist_free(&a->provs[j].resources);
		}
		free(a->provs);
		free(a->name);
	}
	free(c->agents);
	free(c->auth.resource);
	free(c->auth.issuer);
	free(c->auth.audience);
	free(c->path);
	janee_strlist_free(&c->env_names);
	free(c);
}
