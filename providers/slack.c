/*
 * Slack: OAuth v2 installs with PKCE, rotating tokens, install profiles.
 *
 * A profile is one install of a Slack app with its bot and/or user scopes.
 * Slack cannot narrow a token on refresh (oauth.v2.access has no scope
 * parameter), so a request is served by the narrowest profile whose bot or
 * user scopes cover it; a request no profile covers is refused before any
 * request is sent.  `janee login NAME` installs one profile in the browser
 * (state and PKCE S256, a one-shot listener on 127.0.0.1 or a pasted
 * redirect) and keeps its tokens sealed.  A lease gets the profile's
 * current access token, refreshed under the login lock when less than 2 h
 * remain (as Slack's SDKs do) or when Slack says it no longer works; each
 * refresh stores the rotated refresh token at once.
 *
 * Lease end ("lease_end"): Slack documents auth.revoke as revoking the one
 * token, and revoking a bot token deactivates the bot user and removes its
 * channel memberships; a new token then needs another install.  Ending a
 * leased token therefore ends the install behind it, so by default
 * ("expire") janee does not revoke: the lease records Slack's own expiry of
 * the token.  "revoke" calls auth.revoke at lease end (each lease then gets
 * a token of its own) and checks whether the install survived.  See
 * docs/SLACK.md.
 *
 * The stored login (sealed, one per provider entry):
 *   {"v": 1, "profiles": {"NAME": {"team_id", "team_name", "enterprise_id",
 *     "app_id", "bot_user_id", "user_id" (who installed), "bot": TOKEN,
 *     "user": TOKEN}}, "minted": [...]}
 *   TOKEN: {"access_token", "refresh_token", "expires_at" (ms), "scope"
 *     (Slack's comma-separated list), "id" (the bot or user id)}
 *   "minted": the tokens refreshes made for leases, until the ledger has
 *     them (oauth_minted_*): what slack_reconcile looks for after a crash.
 */
#include "common.h"

#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "buf.h"
#include "janee/http.h"
#include "json.h"
#include "oauth-loopback.h"
#include "oauth.h"
#include "providers.h"
#include "secretref.h"
#include "slack.h"
#include "util.h"

#define DEFAULT_BASE "https://slack.com"
#define DEFAULT_REDIRECT "http://127.0.0.1:0/slack/callback"
/* Slack's SDKs refresh 2 h before expiry; so does janee. */
#define REFRESH_BEFORE_MS (2 * 3600 * 1000LL)
/* Rotating tokens live 12 h (expires_in 43200, Slack's token rotation). */
#define TOKEN_LIFETIME_S 43200
#define LOGIN_TIMEOUT_MS (300 * 1000LL)
#define MAX_PASTE 8192

enum kind {
	KIND_BOT,
	KIND_USER,
	NKINDS,
};

static const char *const kind_names[] = {
	[KIND_BOT] = "bot",
	[KIND_USER] = "user",
};

struct profile {
	char *name;
	struct janee_strlist scopes[NKINDS]; /* bot scopes, user scopes */
	char *client_id; /* NULL: the provider's */
	char *client_secret_ref; /* with client_id: NULL is a public client */
	char *legacy_token_ref; /* converted once by oauth.v2.exchange */
};

struct slack {
	char *base; /* no trailing slash */
	char *api; /* BASE/api */
	char *client_id;
	char *client_secret_ref; /* NULL: a public (PKCE) client */
	char *ca_file;
	char *redirect_uri; /* NULL: DEFAULT_REDIRECT */
	int revoke_at_end;
	struct profile *profiles;
	size_t nprofiles;
};

/* A client of one profile, its secret resolved. */
struct client {
	const char *id;
	struct janee_secret *secret; /* NULL: public client */
};

/* Tokens Slack no longer accepts: the token is dead, not the call. */
static const char *const dead_codes[] = { "invalid_auth", "token_revoked",
	"token_expired", "account_inactive", NULL };

/* ---- configuration ---- */

static void
slack_free(void *state)
{
	struct slack *t = state;
	size_t i;
	int k;

	for (i = 0; i < t->nprofiles; i++) {
		free(t->profiles[i].name);
		for (k = 0; k < NKINDS; k++)
			janee_strlist_free(&t->profiles[i].scopes[k]);
		free(t->profiles[i].client_id);
		free(t->profiles[i].client_secret_ref);
		free(t->profiles[i].legacy_token_ref);
	}
	free(t->profiles);
	free(t->base);
	free(t->api);
	free(t->client_id);
	free(t->client_secret_ref);
	free(t->ca_file);
	free(t->redirect_uri);
	free(t);
}

/* A member that must be a non-empty string, when present. */
static int
prof_string(struct janee_ctx *ctx, const char *prof, const cJSON *o,
    const char *key, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': profiles.%s.%s must be a non-empty string",
		    ctx->name, prof, key);
	return janee_strdup_opt(v->valuestring, out);
}

static int
prof_scopes(struct janee_ctx *ctx, const char *prof, const cJSON *o,
    const char *key, struct janee_strlist *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key), *e;
	int rc;

	if (v == NULL)
		return 0;
	if (!cJSON_IsArray(v))
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': profiles.%s.%s must be an array of scopes",
		    ctx->name, prof, key);
	cJSON_ArrayForEach(e, v)
	{
		/* Slack joins scopes with commas: one cannot hold one. */
		if (!cJSON_IsString(e) || e->valuestring[0] == '\0' ||
		    strpbrk(e->valuestring, ", \t") != NULL)
			return janee_err_set(JANEE_ERR_CONFIG,
			    "provider '%s': profiles.%s.%s must hold non-empty scope names without commas or spaces",
			    ctx->name, prof, key);
		if ((rc = janee_strlist_add(out, e->valuestring)) != 0)
			return rc;
	}
	janee_strlist_normalize(out);
	return 0;
}

static int
read_profile(struct janee_ctx *ctx, const cJSON *o, struct profile *p)
{
	static const char *const keys[] = { "scopes", "user_scopes",
		"client_id", "client_secret", "legacy_token", NULL };
	const cJSON *e;
	char where[160];
	size_t i;
	int rc;

	if (!janee_name_valid(o->string))
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': profile name '%s': use 1-64 lowercase letters, digits, '-' or '_'",
		    ctx->name, o->string);
	if ((p->name = janee_strdup(o->string)) == NULL)
		return JANEE_ERR_NOMEM;
	if (!cJSON_IsObject(o))
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': profiles.%s must be an object", ctx->name,
		    p->name);
	cJSON_ArrayForEach(e, o)
	{
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(keys[i], e->string) == 0)
				break;
		if (keys[i] == NULL)
			return janee_err_set(JANEE_ERR_CONFIG,
			    "provider '%s': profiles.%s: unknown key '%s'",
			    ctx->name, p->name, e->string);
	}
	if ((rc = prof_scopes(
		 ctx, p->name, o, "scopes", &p->scopes[KIND_BOT])) != 0 ||
	    (rc = prof_scopes(
		 ctx, p->name, o, "user_scopes", &p->scopes[KIND_USER])) != 0 ||
	    (rc = prof_string(ctx, p->name, o, "client_id", &p->client_id)) !=
		0 ||
	    (rc = prof_string(ctx, p->name, o, "client_secret",
		 &p->client_secret_ref)) != 0 ||
	    (rc = prof_string(
		 ctx, p->name, o, "legacy_token", &p->legacy_token_ref)) != 0)
		return rc;
	snprintf(where, sizeof(where), "provider '%s': profiles.%s", ctx->name,
	    p->name);
	if ((p->client_secret_ref != NULL &&
		(rc = secretref_require(
		     where, "client_secret", p->client_secret_ref)) != 0) ||
	    (p->legacy_token_ref != NULL &&
		(rc = secretref_require(
		     where, "legacy_token", p->legacy_token_ref)) != 0))
		return rc;
	if (p->scopes[KIND_BOT].n == 0 && p->scopes[KIND_USER].n == 0)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': profile '%s' needs 'scopes' (bot) or 'user_scopes'",
		    ctx->name, p->name);
	return 0;
}

/*
 * The ceiling: without "scopes" it is what the profiles can grant; with
 * it, every profile must lie within it, or a token could do more than the
 * policy allows (a profile's token carries all of its scopes).
 */
static int
fit_ceiling(struct janee_ctx *ctx, struct slack *t)
{
	int extend = ctx->ceiling->n == 0, k, rc;
	size_t i, j;
	const char *s;

	for (i = 0; i < t->nprofiles; i++)
		for (k = 0; k < NKINDS; k++)
			for (j = 0; j < t->profiles[i].scopes[k].n; j++) {
				s = t->profiles[i].scopes[k].v[j];
				if (janee_strlist_has(ctx->ceiling, s))
					continue;
				if (!extend)
					return janee_err_set(JANEE_ERR_CONFIG,
					    "provider '%s': profile '%s' has %s scope '%s', which is not in 'scopes' (the ceiling); its tokens could do more than the policy allows: add the scope to 'scopes' or drop it from the profile",
					    ctx->name, t->profiles[i].name,
					    kind_names[k], s);
				if ((rc = janee_strlist_add(ctx->ceiling, s)) !=
				    0)
					return rc;
			}
	return 0;
}

/* https anywhere, or http to 127.0.0.1 / localhost (janee listens there). */
static int
redirect_ok(struct janee_ctx *ctx, const char *uri)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	int rc = 0;

	if ((u = curl_url()) == NULL)
		return JANEE_ERR_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'redirect_uri' '%s' is not a URL",
		    ctx->name, uri);
	else if (strcmp(scheme, "https") != 0 &&
	    !(strcmp(scheme, "http") == 0 &&
		(strcmp(host, "127.0.0.1") == 0 ||
		    strcmp(host, "localhost") == 0)))
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'redirect_uri' must be https://... (the code is then pasted) or http://127.0.0.1:PORT/PATH (janee listens there), not '%s'",
		    ctx->name, uri);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

/* The token's variable for janee exec: what Slack's MCP server reads. */
static const struct janee_part_info slack_parts[] = {
	{ "token", "SLACK_BOT_TOKEN", JANEE_PART_SECRET },
	{ NULL, NULL, 0 },
};

static int
slack_configure(struct janee_ctx *ctx, struct janee_cfg *cfg, void **state,
    struct janee_info *info)
{
	const char *client_id = NULL, *secret = NULL, *base = NULL, *ca = NULL,
		   *redirect = NULL, *lease_end = NULL;
	const cJSON *profiles = NULL, *e;
	char what[128];
	struct slack *t;
	size_t n;
	int rc;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	*state = t;
	if ((rc = janee_cfg_string(cfg, "client_id", 1, &client_id)) != 0 ||
	    (rc = janee_cfg_ref(cfg, "client_secret", 0, &secret)) != 0 ||
	    (rc = janee_cfg_string(cfg, "base_url", 0, &base)) != 0 ||
	    (rc = janee_cfg_string(cfg, "ca_file", 0, &ca)) != 0 ||
	    (rc = janee_cfg_string(cfg, "redirect_uri", 0, &redirect)) != 0 ||
	    (rc = janee_cfg_string(cfg, "lease_end", 0, &lease_end)) != 0 ||
	    (rc = janee_cfg_object(cfg, "profiles", &profiles)) != 0)
		return rc;
	if (base == NULL)
		base = DEFAULT_BASE;
	snprintf(
	    what, sizeof(what), "provider '%s': key 'base_url'", ctx->name);
	if ((rc = janee_http_url_ok(base, what)) != 0)
		return janee_err_wrap(
		    JANEE_ERR_CONFIG, "%s", janee_err_msg(rc));
	if (redirect != NULL && (rc = redirect_ok(ctx, redirect)) != 0)
		return rc;
	if (lease_end != NULL && strcmp(lease_end, "revoke") != 0 &&
	    strcmp(lease_end, "expire") != 0)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'lease_end' must be expire or revoke, not '%s'",
		    ctx->name, lease_end);
	t->revoke_at_end =
	    lease_end != NULL && strcmp(lease_end, "revoke") == 0;
	info->needs_login = 1;
	info->revocable = t->revoke_at_end;
	info->reconcilable = 1;
	info->parts = slack_parts;
	info->auth_header = "Authorization";
	info->auth_scheme = "Bearer";
	if ((rc = janee_strdup_opt(base, &t->base)) != 0 ||
	    (rc = janee_strdup_opt(client_id, &t->client_id)) != 0 ||
	    (rc = janee_strdup_opt(secret, &t->client_secret_ref)) != 0 ||
	    (rc = janee_strdup_opt(ca, &t->ca_file)) != 0 ||
	    (rc = janee_strdup_opt(redirect, &t->redirect_uri)) != 0)
		return rc;
	n = strlen(t->base);
	while (n > 0 && t->base[n - 1] == '/')
		t->base[--n] = '\0';
	/* The Web API's methods are under BASE/api/. */
	if ((t->api = janee_asprintf("%s/api", t->base)) == NULL)
		return JANEE_ERR_NOMEM;
	info->api_base = t->api;
	/* Slack's SDKs take the base URL as an option: janee's own name. */
	info->api_base_env = "SLACK_API_URL";
	if (profiles == NULL || cJSON_GetArraySize(profiles) == 0)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'profiles' is required: name each install and its scopes, e.g. {\"poster\": {\"scopes\": [\"chat:write\"]}}",
		    ctx->name);
	if ((t->profiles = calloc((size_t)cJSON_GetArraySize(profiles),
		 sizeof(*t->profiles))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(e, profiles)
	{
		t->nprofiles++; /* from here on slack_free cleans it up */
		if ((rc = read_profile(
			 ctx, e, &t->profiles[t->nprofiles - 1])) != 0)
			return rc;
	}
	return fit_ceiling(ctx, t);
}

/* ---- small helpers ---- */

static int64_t
jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15)
		return (int64_t)v->valuedouble;
	return -1;
}

static int
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* Slack's comma-separated scope list into l. */
static int
split_scopes(const char *s, struct janee_strlist *l)
{
	char *copy, *w, *save = NULL;
	int rc = 0;

	if (s == NULL)
		return 0;
	if ((copy = janee_strdup(s)) == NULL)
		return JANEE_ERR_NOMEM;
	for (w = strtok_r(copy, ", ", &save); w != NULL && rc == 0;
	     w = strtok_r(NULL, ", ", &save))
		rc = janee_strlist_add(l, w);
	free(copy);
	janee_strlist_normalize(l);
	return rc;
}

static char *
join(const struct janee_strlist *l, const char *sep)
{
	struct buf b;
	size_t i;

	buf_init(&b, 64 * 1024);
	for (i = 0; i < l->n; i++)
		if (buf_printf(&b, "%s%s", i ? sep : "", l->v[i]) != 0)
			return NULL;
	if (b.p == NULL && buf_add(&b, "", 0) != 0)
		return NULL;
	return b.p;
}

/* ---- calling Slack ---- */

static const char *const accept_json[] = { "Accept: application/json", NULL };

static const struct {
	const char *code, *hint;
} hints[] = {
	{ "invalid_auth", "the token is not valid" },
	{ "not_authed", "no token was sent" },
	{ "token_revoked", "the token was revoked or the app uninstalled" },
	{ "token_expired", "the token has expired" },
	{ "account_inactive", "the token's user or workspace is gone" },
	{ "invalid_refresh_token",
	    "the refresh token was used already, revoked or has expired" },
	{ "invalid_code",
	    "the code was used already or has expired: run the login again" },
	{ "bad_client_secret",
	    "the client secret is wrong: check the secret that 'client_secret' names" },
	{ "invalid_client_id", "the client_id is wrong: check 'client_id'" },
	{ "bad_redirect_uri",
	    "the redirect_uri does not match the authorize request or the app's settings (OAuth & Permissions, Redirect URLs)" },
	{ "invalid_grant_type", "Slack does not accept this grant_type" },
	{ "token_already_exchanged",
	    "the legacy token was converted already; log in in the browser instead" },
	{ "token_rotation_not_enabled",
	    "turn on token rotation in the app's settings (OAuth & Permissions)" },
	{ "ratelimited", "Slack's rate limit: try again later" },
};

/* Turn {"ok": false, "error": ...} into a message; code gets the error. */
static int
slack_fail(struct janee_ctx *ctx, const char *method, const cJSON *j,
    char *code, size_t codesz)
{
	char err[64], needed[256], provided[256];
	const char *hint = NULL;
	size_t i;

	janee_clean_text(json_str(j, "error"), err, sizeof(err));
	if (*err == '\0')
		snprintf(err, sizeof(err), "unknown_error");
	if (code != NULL)
		snprintf(code, codesz, "%s", err);
	if (strcmp(err, "missing_scope") == 0) {
		janee_clean_text(json_str(j, "needed"), needed, sizeof(needed));
		janee_clean_text(
		    json_str(j, "provided"), provided, sizeof(provided));
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': Slack refused %s: missing_scope: the token lacks a scope (needed: %s; provided: %s); add it to the profile and install the profile again (janee login %s)",
		    ctx->name, method, *needed ? needed : "not said",
		    *provided ? provided : "not said", ctx->name);
	}
	for (i = 0; i < nitems(hints); i++)
		if (strcmp(err, hints[i].code) == 0)
			hint = hints[i].hint;
	return janee_err_set(JANEE_ERR_PROVIDER,
	    "provider '%s': Slack refused %s: %s%s%s%s", ctx->name, method, err,
	    hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
}

/*
 * The profile's client: a profile with its own client_id (its own Slack
 * app) has its own secret or none (a public PKCE client); else the entry's.
 */
static int
client_get(struct janee_ctx *ctx, const struct profile *p, struct client *cl)
{
	struct slack *t = ctx->state;
	const char *ref =
	    p->client_id ? p->client_secret_ref : t->client_secret_ref;

	cl->id = p->client_id ? p->client_id : t->client_id;
	cl->secret = NULL;
	return ref == NULL ? 0 : ctx->secret_get(ctx, ref, &cl->secret);
}

/*
 * Client authentication: HTTP Basic with both parts form-encoded first
 * (RFC 6749 section 2.3.1), as Slack prefers; a public PKCE client sends
 * its client_id alone.
 */
static int
client_auth(const struct client *cl, struct oauth_form *f,
    struct janee_http_req *req, char **user, struct janee_secret **pass)
{
	if (cl->secret == NULL)
		return oauth_form_add(f, "client_id", cl->id);
	return oauth_basic_auth(cl->id, cl->secret, req, user, pass);
}

/*
 * POST a Web API method (BASE/api/METHOD) with form f, authenticated as
 * the client cl or by the bearer token; 0 when an answer came.  The HTTP
 * layer has honoured Retry-After on 429 already.
 */
static int
slack_post(struct janee_ctx *ctx, const char *method, struct oauth_form *f,
    const struct client *cl, const struct janee_secret *bearer,
    struct janee_http_resp *resp)
{
	struct slack *t = ctx->state;
	struct janee_http_req req;
	struct janee_secret *pass = NULL;
	struct oauth_form empty;
	char *url = NULL, *user = NULL, label[160];
	int rc;

	memset(&req, 0, sizeof(req));
	memset(resp, 0, sizeof(*resp));
	oauth_form_init(&empty);
	if (f == NULL)
		f = &empty;
	snprintf(
	    label, sizeof(label), "provider '%s': Slack %s", ctx->name, method);
	if ((url = janee_asprintf("%s/api/%s", t->base, method)) == NULL) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (cl != NULL && (rc = client_auth(cl, f, &req, &user, &pass)) != 0)
		goto out;
	if (f->b.p == NULL && (rc = buf_add(&f->b, "", 0)) != 0)
		goto out;
	req.method = "POST";
	req.url = url;
	req.what = label;
	req.ca_file = t->ca_file;
	req.headers = accept_json;
	req.content_type = "application/x-www-form-urlencoded";
	req.body = f->b.p;
	req.body_len = f->b.len;
	req.bearer = bearer;
	rc = janee_http_do(ctx->http, &req, resp);
out:
	free(url);
	free(user);
	janee_secret_free(pass);
	oauth_form_free(&empty);
	return rc;
}

int
slack_answer(struct janee_ctx *ctx, const char *method,
    const struct janee_http_resp *r, cJSON **out, char *code, size_t codesz)
{
	struct slack *t = ctx->state;
	char label[160];
	const cJSON *ok;
	cJSON *j = NULL;
	int rc;

	*out = NULL;
	if (code != NULL)
		*code = '\0';
	snprintf(
	    label, sizeof(label), "provider '%s': Slack %s", ctx->name, method);
	if (r->status == 429)
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "%s: Slack's rate limit (HTTP 429, Retry-After %lld s) held after janee waited as told and retried; try again later",
		    label, (long long)r->retry_after_s);
	if (r->content_type == NULL ||
	    strncmp(r->content_type, "application/json", 16) != 0 ||
	    (j = cJSON_ParseWithLength(r->body, r->len)) == NULL ||
	    !cJSON_IsObject(j)) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "%s (%s/api/%s) answered HTTP %ld without a JSON object; check 'base_url'",
		    label, t->base, method, r->status);
		goto out;
	}
	ok = cJSON_GetObjectItemCaseSensitive(j, "ok");
	if (!cJSON_IsBool(ok)) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "%s (%s/api/%s) answered HTTP %ld without \"ok\"; it is not Slack's Web API",
		    label, t->base, method, r->status);
		goto out;
	}
	if (cJSON_IsFalse(ok)) {
		rc = slack_fail(ctx, method, j, code, codesz);
		goto out;
	}
	*out = j;
	j = NULL;
	rc = 0;
out:
	cJSON_Delete(j);
	return rc;
}

/*
 * A Web API call (slack_post) and its answer (slack_answer): *out on
 * "ok": true; otherwise an actionable message, and the error in code.
 */
static int
slack_api(struct janee_ctx *ctx, const char *method, struct oauth_form *f,
    const struct client *cl, const struct janee_secret *bearer, cJSON **out,
    char *code, size_t codesz)
{
	struct janee_http_resp resp;
	int rc;

	*out = NULL;
	if (code != NULL)
		*code = '\0';
	if ((rc = slack_post(ctx, method, f, cl, bearer, &resp)) == 0)
		rc = slack_answer(ctx, method, &resp, out, code, codesz);
	janee_http_resp_free(&resp);
	return rc;
}

/* auth.test with token; *out (may be NULL) gets the answer. */
static int
auth_test(struct janee_ctx *ctx, const struct janee_secret *token, cJSON **out,
    char *code, size_t codesz)
{
	cJSON *j = NULL;
	int rc;

	rc = slack_api(ctx, "auth.test", NULL, NULL, token, &j, code, codesz);
	if (out != NULL) {
		*out = j;
		j = NULL;
	}
	cJSON_Delete(j);
	return rc;
}

int
slack_revoke_answer(struct janee_ctx *ctx, const struct janee_http_resp *r,
    char *code, size_t codesz)
{
	cJSON *j = NULL;
	int rc;

	rc = slack_answer(ctx, "auth.revoke", r, &j, code, codesz);
	if (rc != 0 && in_list(code, dead_codes)) {
		janee_err_clear();
		rc = 0;
	} else if (rc == 0 &&
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "revoked")))
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': Slack answered auth.revoke without \"revoked\": true; the token may still work",
		    ctx->name);
	cJSON_Delete(j);
	return rc;
}

/*
 * auth.revoke; a token Slack no longer accepts counts as revoked (code
 * says why, e.g. token_expired: the token, not the install, is over).
 */
static int
auth_revoke(struct janee_ctx *ctx, const struct janee_secret *token, char *code,
    size_t codesz)
{
	struct janee_http_resp resp;
	int rc;

	*code = '\0';
	if ((rc = slack_post(ctx, "auth.revoke", NULL, NULL, token, &resp)) ==
	    0)
		rc = slack_revoke_answer(ctx, &resp, code, codesz);
	janee_http_resp_free(&resp);
	return rc;
}

/* ---- the stored login ---- */

static const struct profile *
find_profile(const struct slack *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->nprofiles; i++)
		if (strcmp(t->profiles[i].name, name) == 0)
			return &t->profiles[i];
	return NULL;
}

/* The stored login, parsed; JANEE_ERR_NOT_FOUND (with a message) if none. */
static int
login_load(struct janee_ctx *ctx, cJSON **root)
{
	struct janee_secret *cred = NULL;
	int rc;

	*root = NULL;
	if ((rc = ctx->cred_get(ctx, &cred)) != 0)
		return rc;
	*root = cJSON_ParseWithLength((const char *)cred->data, cred->len);
	janee_secret_free(cred);
	if (!cJSON_IsObject(*root) ||
	    !cJSON_IsObject(
		cJSON_GetObjectItemCaseSensitive(*root, "profiles"))) {
		cJSON_Delete(*root);
		*root = NULL;
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': the stored login is damaged; run: janee login %s",
		    ctx->name, ctx->name);
	}
	return 0;
}

static cJSON *
profile_entry(cJSON *root, const char *profile)
{
	return cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "profiles"), profile);
}

/* Replace (or add) member k of o with v; v is o's (or freed) afterwards. */
static int
put(cJSON *o, const char *k, cJSON *v)
{
	int done;

	if (v == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if (cJSON_GetObjectItemCaseSensitive(o, k) != NULL)
		done = cJSON_ReplaceItemInObjectCaseSensitive(o, k, v);
	else
		done = cJSON_AddItemToObject(o, k, v);
	if (done)
		return 0;
	cJSON_Delete(v);
	return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
}

/*
 * Fill token object tk from a Slack token answer a (oauth.v2.access for a
 * code or a refresh, or oauth.v2.exchange): a rotating token needs
 * access_token, refresh_token and expires_in.
 */
static int
take_token(struct janee_ctx *ctx, const char *what, const cJSON *a, cJSON *tk)
{
	const char *at = json_str(a, "access_token"),
		   *rt = json_str(a, "refresh_token");
	int64_t in = jnum(a, "expires_in");
	int rc;

	if (at == NULL || *at == '\0')
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': Slack's %s answer has no access token",
		    ctx->name, what);
	if (rt == NULL || *rt == '\0' || in <= 0)
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': Slack's %s answer has no refresh token or expiry: token rotation is off for this Slack app, and janee leases only expiring tokens; turn it on (OAuth & "
		    "Permissions, Advanced token security) and log in again",
		    ctx->name, what);
	if ((rc = put(tk, "access_token", cJSON_CreateString(at))) != 0 ||
	    (rc = put(tk, "refresh_token", cJSON_CreateString(rt))) != 0 ||
	    (rc = put(tk, "expires_at",
		 cJSON_CreateNumber((double)(ctx->now_ms() + in * 1000)))) !=
		0 ||
	    (json_str(a, "scope") != NULL &&
		(rc = put(tk, "scope",
		     cJSON_CreateString(json_str(a, "scope")))) != 0))
		return rc;
	return 0;
}

/*
 * Refresh token kind k of profile p in root (oauth.v2.access,
 * grant_type=refresh_token; the caller holds the login lock) and store
 * the rotated pair at once: the old refresh token is dead from now on.
 * A refresh for a lease (lease_id not NULL) keeps its token in the same
 * write, until the ledger has it (oauth_minted_add).
 */
static int
refresh(struct janee_ctx *ctx, const struct profile *p, enum kind k,
    cJSON *root, cJSON *tk, const char *lease_id)
{
	struct janee_secret *at = NULL;
	struct oauth_form f;
	struct client cl = { NULL, NULL };
	const char *rt = json_str(tk, "refresh_token");
	char code[64], *why;
	cJSON *a = NULL;
	int rc;

	oauth_form_init(&f);
	if (rt == NULL) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': the stored %s token of profile '%s' has no refresh token; run: janee login %s",
		    ctx->name, kind_names[k], p->name, ctx->name);
		goto out;
	}
	if ((rc = client_get(ctx, p, &cl)) != 0 ||
	    (rc = oauth_form_add(&f, "grant_type", "refresh_token")) != 0 ||
	    (rc = oauth_form_add(&f, "refresh_token", rt)) != 0)
		goto out;
	rc = slack_api(
	    ctx, "oauth.v2.access", &f, &cl, NULL, &a, code, sizeof(code));
	if (rc != 0 &&
	    (strcmp(code, "invalid_refresh_token") == 0 ||
		in_list(code, dead_codes))) {
		/* The install is gone: say so once, for everyone. */
		why = janee_asprintf(
		    "Slack refused the refresh token of the %s token of profile '%s' (%s): the install was revoked, uninstalled, expired or ended by a lease_end \"revoke\"",
		    kind_names[k], p->name, code);
		janee_err_clear(); /* why says it better than the answer */
		rc = ctx->login_gone(ctx, rc, why ? why : code, p->name);
		free(why);
		goto out;
	}
	if (rc != 0)
		goto out;
	/* Slack answered; nothing is stored yet (crash tests). */
	janee_crash_point("after_refresh");
	if ((rc = take_token(ctx, "refresh", a, tk)) != 0)
		goto out;
	if (lease_id == NULL)
		oauth_minted_prune(ctx, root);
	else if ((at = janee_secret_new(json_str(tk, "access_token"),
		      strlen(json_str(tk, "access_token")))) == NULL ||
	    (rc = oauth_minted_add(
		 ctx, root, lease_id, at, jnum(tk, "expires_at"))) != 0) {
		rc = rc ? rc : janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = oauth_login_put(ctx, root, NULL)) != 0)
		rc = janee_err_wrap(rc,
		    "provider '%s': could not store the rotated refresh token (%s); the login may need: janee login %s",
		    ctx->name, janee_err_msg(rc), ctx->name);
out:
	cJSON_Delete(a);
	janee_secret_free(cl.secret);
	janee_secret_free(at);
	oauth_form_free(&f);
	return rc;
}

enum when {
	REFRESH_IF_DUE, /* less than REFRESH_BEFORE_MS left */
	REFRESH_ALWAYS,
};

struct current {
	struct janee_secret *token;
	int64_t expires_ms;
	char *scope; /* Slack's comma list; NULL when not known */
	int refreshed;
};

static void
current_free(struct current *c)
{
	janee_secret_free(c->token);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

/*
 * The token of kind k of profile p, refreshed first when `when` says so or
 * when it is still `stale` (a token Slack refused); a refresh for a lease
 * (lease_id) keeps its token for reconcile.  Takes the login lock for the
 * read, the refresh and the store: two processes never refresh one token
 * at once, and the second one finds the first one's token.
 */
static int
current_token(struct janee_ctx *ctx, const struct profile *p, enum kind k,
    enum when when, const struct janee_secret *stale, const char *lease_id,
    struct current *c)
{
	cJSON *root = NULL, *ent, *tk;
	const char *at;
	int64_t exp;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = ctx->cred_lock(ctx)) != 0)
		return rc;
	if ((rc = login_load(ctx, &root)) != 0) {
		if (rc == JANEE_ERR_NOT_FOUND) {
			janee_err_clear();
			rc = janee_err_set(JANEE_ERR_NOT_FOUND,
			    "provider '%s' has no usable login; install profile '%s' with: janee login %s --profile %s",
			    ctx->name, p->name, ctx->name, p->name);
		}
		goto out;
	}
	if ((ent = profile_entry(root, p->name)) == NULL ||
	    (tk = cJSON_GetObjectItemCaseSensitive(ent, kind_names[k])) ==
		NULL) {
		rc = janee_err_set(JANEE_ERR_NOT_FOUND,
		    "provider '%s': profile '%s' is not installed (no %s token); install it with: janee login %s --profile %s",
		    ctx->name, p->name, kind_names[k], ctx->name, p->name);
		goto out;
	}
	at = json_str(tk, "access_token");
	exp = jnum(tk, "expires_at");
	if (when == REFRESH_ALWAYS || at == NULL || exp < 0 ||
	    exp - ctx->now_ms() < REFRESH_BEFORE_MS ||
	    (stale != NULL && strcmp(at, (const char *)stale->data) == 0)) {
		if ((rc = refresh(ctx, p, k, root, tk, lease_id)) != 0)
			goto out;
		c->refreshed = 1;
		at = json_str(tk, "access_token");
		exp = jnum(tk, "expires_at");
	}
	if ((c->token = janee_secret_new(at, strlen(at))) == NULL ||
	    (json_str(tk, "scope") != NULL &&
		(c->scope = janee_strdup(json_str(tk, "scope"))) == NULL)) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	c->expires_ms = exp;
out:
	ctx->cred_unlock(ctx);
	cJSON_Delete(root);
	if (rc != 0)
		current_free(c);
	return rc;
}

/* ---- minting ---- */

/* The narrowest profile token whose scopes cover the request. */
static int
pick(struct janee_ctx *ctx, const struct janee_strlist *want,
    const struct profile **best, enum kind *bk)
{
	struct slack *t = ctx->state;
	const struct janee_strlist *have;
	struct buf b;
	char *w;
	size_t i, j, bestn = SIZE_MAX;
	int k, rc;

	*best = NULL;
	for (i = 0; i < t->nprofiles; i++)
		for (k = 0; k < NKINDS; k++) {
			have = &t->profiles[i].scopes[k];
			if (have->n == 0 || have->n >= bestn)
				continue;
			for (j = 0; j < want->n; j++)
				if (!janee_strlist_has(have, want->v[j]))
					break;
			if (j < want->n)
				continue;
			*best = &t->profiles[i];
			*bk = (enum kind)k;
			bestn = have->n;
		}
	if (*best != NULL)
		return 0;
	/* Refused before anything is sent: say what would cover it. */
	buf_init(&b, 64 * 1024);
	rc = 0;
	for (i = 0; i < t->nprofiles && rc == 0; i++)
		for (k = 0; k < NKINDS && rc == 0; k++) {
			if (t->profiles[i].scopes[k].n == 0)
				continue;
			if ((w = join(&t->profiles[i].scopes[k], " ")) == NULL)
				return JANEE_ERR_NOMEM;
			rc = buf_printf(&b, "%s%s (%s): %s", b.len ? "; " : "",
			    t->profiles[i].name, kind_names[k], w);
			free(w);
		}
	if (rc != 0 || (w = join(want, " ")) == NULL) {
		buf_free(&b);
		return JANEE_ERR_NOMEM;
	}
	rc = janee_err_set(JANEE_ERR_POLICY,
	    "provider '%s': no install profile covers the scopes %s (one token comes from one profile; profiles: %s); ask for fewer scopes or add a profile",
	    ctx->name, w, b.p ? b.p : "none");
	free(w);
	buf_free(&b);
	return rc;
}

static int
slack_mint(struct janee_ctx *ctx, const struct janee_mint_req *req,
    struct janee_token *out)
{
	struct slack *t = ctx->state;
	const struct profile *p;
	struct janee_strlist granted;
	struct janee_secret *stale;
	struct current c;
	enum kind k = KIND_BOT;
	char code[64], *w;
	size_t i;
	int rc;

	memset(&granted, 0, sizeof(granted));
	if ((rc = pick(ctx, req->scopes, &p, &k)) != 0)
		return rc;
	/*
	 * A lease that is revoked at its end needs a token of its own; one
	 * that expires shares the install's current token.
	 */
	if ((rc = current_token(ctx, p, k,
		 t->revoke_at_end ? REFRESH_ALWAYS : REFRESH_IF_DUE, NULL,
		 req->lease_id, &c)) != 0)
		return rc;
	if (!c.refreshed &&
	    (rc = auth_test(ctx, c.token, NULL, code, sizeof(code))) != 0) {
		if (!in_list(code, dead_codes))
			goto out;
		/* Slack says the token no longer works: refresh it now. */
		janee_err_clear();
		stale = c.token;
		c.token = NULL;
		current_free(&c);
		rc = current_token(
		    ctx, p, k, REFRESH_IF_DUE, stale, req->lease_id, &c);
		janee_secret_free(stale);
		if (rc != 0)
			return rc;
	}
	/* What Slack granted must cover what was asked. */
	if (c.scope != NULL) {
		if ((rc = split_scopes(c.scope, &granted)) != 0)
			goto out;
	} else {
		for (i = 0; i < p->scopes[k].n && rc == 0; i++)
			rc = janee_strlist_add(&granted, p->scopes[k].v[i]);
		if (rc != 0)
			goto out;
	}
	/*
	 * And lie within the profile (so within the ceiling): an install
	 * that Slack widened since (someone installed the app again with
	 * more scopes) would hand out more than the policy allows.
	 */
	for (i = 0; i < granted.n; i++)
		if (!janee_strlist_has(&p->scopes[k], granted.v[i])) {
			rc = janee_err_set(JANEE_ERR_PROVIDER,
			    "provider '%s': Slack now grants the %s token of profile '%s' the scope '%s', which the profile does not have (the app was installed again with more scopes); refused: remove the scope at Slack "
			    "or add it to the profile",
			    ctx->name, kind_names[k], p->name, granted.v[i]);
			goto out;
		}
	for (i = 0; i < req->scopes->n; i++)
		if (!janee_strlist_has(&granted, req->scopes->v[i])) {
			w = join(&granted, " ");
			rc = janee_err_set(JANEE_ERR_PROVIDER,
			    "provider '%s': Slack granted the %s token of profile '%s' only %s, not '%s'; install the profile again (janee login %s)",
			    ctx->name, kind_names[k], p->name, w ? w : "",
			    req->scopes->v[i], ctx->name);
			free(w);
			goto out;
		}
	rc = janee_token_put(out, "token", c.token, JANEE_PART_SECRET);
	c.token = NULL;
	if (rc != 0)
		goto out;
	out->granted = granted;
	memset(&granted, 0, sizeof(granted));
	out->expires_ms = c.expires_ms;
out:
	janee_strlist_free(&granted);
	current_free(&c);
	return rc;
}

/* ---- lease end and logout ---- */

/*
 * Which profile and kind an auth.test answer belongs to: the stored app
 * and the bot or user id.
 */
static const struct profile *
owner_of(struct janee_ctx *ctx, const cJSON *who, cJSON *root, enum kind *k)
{
	struct slack *t = ctx->state;
	const char *app = json_str(who, "app_id"),
		   *bot = json_str(who, "bot_id"),
		   *user = json_str(who, "user_id"), *id, *sapp;
	cJSON *ent, *tk;
	size_t i;

	*k = bot != NULL ? KIND_BOT : KIND_USER;
	id = bot != NULL ? bot : user;
	for (i = 0; id != NULL && i < t->nprofiles; i++) {
		if ((ent = profile_entry(root, t->profiles[i].name)) == NULL ||
		    (tk = cJSON_GetObjectItemCaseSensitive(
			 ent, kind_names[*k])) == NULL)
			continue;
		sapp = json_str(ent, "app_id");
		if (json_str(tk, "id") != NULL &&
		    strcmp(json_str(tk, "id"), id) == 0 &&
		    (app == NULL || sapp == NULL || strcmp(app, sapp) == 0))
			return &t->profiles[i];
	}
	return NULL;
}

/*
 * lease_end "revoke": auth.revoke the lease's token, which still works
 * (who: its auth.test answer).  Slack may end the install with it (revoking a bot token deactivates the bot user), so
 * janee then refreshes that install's token: when Slack refuses, the
 * login is marked broken at once, saying so, rather than at the next
 * request.
 */
static int
end_live(
    struct janee_ctx *ctx, const struct janee_secret *token, const cJSON *who)
{
	const struct profile *p = NULL;
	struct current c;
	cJSON *root = NULL;
	char code[64];
	enum kind k = KIND_BOT;
	int rc;

	if ((rc = auth_revoke(ctx, token, code, sizeof(code))) != 0)
		goto out;
	if (ctx->cred_lock(ctx) == 0) {
		if (login_load(ctx, &root) == 0)
			p = owner_of(ctx, who, root, &k);
		ctx->cred_unlock(ctx);
	}
	janee_err_clear();
	if (p != NULL) {
		if ((rc = current_token(
			 ctx, p, k, REFRESH_ALWAYS, NULL, NULL, &c)) == 0)
			current_free(&c);
		else
			ctx->log(ctx, "%s", janee_err_msg(rc));
		janee_err_clear();
		rc = 0; /* the token is revoked, which is what was asked */
	}
out:
	cJSON_Delete(root);
	return rc;
}

/*
 * Whether token still works (auth.test): 1 with *who its answer, 0 when
 * Slack no longer accepts it.
 */
static int
token_live(struct janee_ctx *ctx, const struct janee_secret *token, cJSON **who,
    int *live)
{
	char code[64];
	int rc;

	*live = 0;
	if ((rc = auth_test(ctx, token, who, code, sizeof(code))) == 0)
		*live = 1;
	else if (in_list(code, dead_codes)) {
		janee_err_clear(); /* it ended already */
		rc = 0;
	}
	return rc;
}

static int
slack_revoke(
    struct janee_ctx *ctx, const char *lease_id, const struct janee_token *tok)
{
	const struct janee_secret *token = janee_token_get(tok, "token");
	cJSON *who = NULL;
	int rc, live;

	(void)lease_id;
	if (token == NULL)
		return 0; /* nothing of ours to end */
	if ((rc = token_live(ctx, token, &who, &live)) == 0 && live)
		rc = end_live(ctx, token, who);
	cJSON_Delete(who);
	return rc;
}

/*
 * Whether a mint starting at minting_ms would have refreshed a stored
 * token (less than REFRESH_BEFORE_MS left then; a minute's grace for the
 * login lock): a refresh Slack answered and janee never stored would
 * leave a token nobody knows.
 */
static int
refresh_was_due(const cJSON *root, int64_t minting_ms)
{
	const cJSON *ent, *tk;
	int k;

	cJSON_ArrayForEach(
	    ent, cJSON_GetObjectItemCaseSensitive(root, "profiles"))
	{
		for (k = 0; k < NKINDS; k++) {
			tk = cJSON_GetObjectItemCaseSensitive(
			    ent, kind_names[k]);
			if (tk != NULL &&
			    jnum(tk, "expires_at") - REFRESH_BEFORE_MS <
				minting_ms + 60 * 1000)
				return 1;
		}
	}
	return 0;
}

/*
 * A janee process died while minting lease_id.  A mint that refreshed
 * (always with lease_end "revoke": each lease gets a token of its own)
 * kept its token in the login it wrote anyway.  Found: with "revoke" it
 * is checked (auth.test) and revoked as at a lease's end; with "expire"
 * it is the install's shared token, stored and never revoked.  Not
 * found: the mint may have refreshed and lost Slack's answer, when a
 * refresh was due (always with "revoke"): Slack cannot list tokens, so
 * such a token is orphaned, for Slack's 12 h.
 */
static int
slack_reconcile(
    struct janee_ctx *ctx, const char *lease_id, struct janee_reconcile *r)
{
	struct slack *t = ctx->state;
	struct janee_secret *tok = NULL;
	cJSON *root = NULL, *who = NULL;
	int rc, live = 0;

	r->lifetime_s = TOKEN_LIFETIME_S;
	if ((rc = ctx->cred_lock(ctx)) != 0)
		return rc;
	if ((rc = login_load(ctx, &root)) == 0)
		rc = oauth_minted_find(root, lease_id, &tok, &r->live_until_ms);
	ctx->cred_unlock(ctx);
	if (rc == JANEE_ERR_NOT_FOUND && root != NULL) {
		if (t->revoke_at_end || refresh_was_due(root, r->minting_ms))
			rc = janee_err_set(JANEE_ERR_PROVIDER,
			    "provider '%s': no token is kept for lease %s: a refresh for it may have been answered and never stored, and Slack cannot list tokens",
			    ctx->name, lease_id);
		else
			rc = 0; /* the install's shared token, not refreshed */
		goto out;
	}
	if (rc != 0 || !t->revoke_at_end)
		goto out;
	if ((rc = token_live(ctx, tok, &who, &live)) == 0 && live &&
	    (rc = end_live(ctx, tok, who)) == 0)
		r->revoked = 1;
out:
	janee_secret_free(tok);
	cJSON_Delete(root);
	cJSON_Delete(who);
	return rc;
}

/* Revoke one stored token; an expired one is refreshed and revoked. */
static int
logout_one(struct janee_ctx *ctx, const struct profile *p, enum kind k,
    cJSON *root, cJSON *tk)
{
	struct janee_secret *tok = NULL;
	const char *at;
	char code[64];
	int rc = 0, tries;

	for (tries = 0; tries < 2; tries++) {
		if ((at = json_str(tk, "access_token")) == NULL)
			return 0;
		if ((tok = janee_secret_new(at, strlen(at))) == NULL)
			return JANEE_ERR_NOMEM;
		rc = auth_revoke(ctx, tok, code, sizeof(code));
		janee_secret_free(tok);
		/* An expired token cannot end its install: refresh first. */
		if (rc != 0 || strcmp(code, "token_expired") != 0)
			return rc;
		if (refresh(ctx, p, k, root, tk, NULL) != 0) {
			janee_err_clear(); /* the install is gone already */
			return 0;
		}
	}
	return rc;
}

/* Revoke every stored token (Slack uninstalls the app with the last). */
static int
slack_logout(struct janee_ctx *ctx)
{
	struct slack *t = ctx->state;
	cJSON *root = NULL, *ent, *tk;
	int rc, first = 0, k;
	size_t i;

	if ((rc = ctx->cred_lock(ctx)) != 0)
		return rc;
	if ((rc = login_load(ctx, &root)) != 0)
		goto out;
	for (i = 0; i < t->nprofiles; i++) {
		if ((ent = profile_entry(root, t->profiles[i].name)) == NULL)
			continue;
		for (k = 0; k < NKINDS; k++)
			/* The first failure's message is kept. */
			if ((tk = cJSON_GetObjectItemCaseSensitive(
				 ent, kind_names[k])) != NULL &&
			    (rc = logout_one(ctx, &t->profiles[i], (enum kind)k,
				 root, tk)) != 0 &&
			    first == 0)
				first = rc;
	}
	rc = first;
out:
	ctx->cred_unlock(ctx);
	cJSON_Delete(root);
	return rc;
}

/* ---- login: the browser install ---- */

/* The profile to install: --profile, or the only one. */
static int
login_profile(struct janee_ctx *ctx, const struct janee_login_ui *ui,
    const struct profile **p)
{
	struct slack *t = ctx->state;
	const char *name = ui->profile;
	struct buf b;
	size_t i;
	int rc = 0;

	if (name == NULL && t->nprofiles == 1) {
		*p = &t->profiles[0];
		return 0;
	}
	if (name != NULL && (*p = find_profile(t, name)) != NULL)
		return 0;
	buf_init(&b, 4096);
	for (i = 0; i < t->nprofiles && rc == 0; i++)
		rc = buf_printf(&b, "%s%s", i ? ", " : "", t->profiles[i].name);
	if (rc == 0)
		rc = janee_err_set(JANEE_ERR_USAGE,
		    "provider '%s': %s%s%s; name the profile to install (%s) with --profile",
		    ctx->name,
		    name ? "there is no profile '" : "it has several profiles",
		    name ? name : "", name ? "'" : "", b.p);
	buf_free(&b);
	return rc;
}

static int
is_loopback(const char *uri)
{
	return strncmp(uri, "http://", 7) == 0;
}

/* Host, port and path of a loopback redirect_uri. */
static int
loopback_parts(
    struct janee_ctx *ctx, const char *uri, char **host, int *port, char **path)
{
	CURLU *u;
	char *p = NULL;
	int64_t n = 0;
	int rc = 0;

	*host = *path = NULL;
	*port = 0;
	if ((u = curl_url()) == NULL)
		return JANEE_ERR_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, path, 0) != CURLUE_OK)
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'redirect_uri' is not a URL", ctx->name);
	else if (curl_url_get(u, CURLUPART_PORT, &p, 0) == CURLUE_OK &&
	    janee_parse_int(p, 0, 65535, &n) != 0)
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': bad port in 'redirect_uri'", ctx->name);
	*port = (int)n;
	curl_free(p);
	curl_url_cleanup(u);
	if (rc != 0) {
		curl_free(*host);
		curl_free(*path);
		*host = *path = NULL;
	}
	return rc;
}

/* BASE/oauth/v2/authorize with the install's parameters, encoded by curl. */
static char *
authorize_url(struct janee_ctx *ctx, const struct profile *p,
    const char *client_id, const char *redirect, const char *state,
    const char *challenge)
{
	struct slack *t = ctx->state;
	char *base, *bot = NULL, *user = NULL, *url = NULL, *pair = NULL,
		    *got = NULL;
	const char *names[] = { "client_id", "scope", "user_scope",
		"redirect_uri", "state", "code_challenge",
		"code_challenge_method" };
	const char *vals[nitems(names)];
	CURLU *u = NULL;
	size_t i;

	if ((base = janee_asprintf("%s/oauth/v2/authorize", t->base)) == NULL ||
	    (bot = join(&p->scopes[KIND_BOT], ",")) == NULL ||
	    (user = join(&p->scopes[KIND_USER], ",")) == NULL ||
	    (u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
		goto out;
	vals[0] = client_id;
	vals[1] = bot;
	vals[2] = user;
	vals[3] = redirect;
	vals[4] = state;
	vals[5] = challenge;
	vals[6] = "S256";
	for (i = 0; i < nitems(names); i++) {
		if (*vals[i] == '\0')
			continue; /* no bot or no user scopes */
		free(pair);
		if ((pair = janee_asprintf("%s=%s", names[i], vals[i])) ==
			NULL ||
		    curl_url_set(u, CURLUPART_QUERY, pair,
			CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
			goto out;
	}
	if (curl_url_get(u, CURLUPART_URL, &got, 0) == CURLUE_OK)
		url = janee_strdup(got);
	curl_free(got);
out:
	free(pair);
	free(base);
	free(bot);
	free(user);
	curl_url_cleanup(u);
	if (url == NULL)
		janee_err_set(
		    JANEE_ERR_NOMEM, "cannot build the authorize URL");
	return url;
}

/*
 * Read one pasted line from stdin.  waiting() is asked only when a signal
 * interrupts the read (Ctrl-C): asked all the time, it would draw over
 * what the person types.
 */
static int
read_paste(const struct janee_login_ui *ui, struct buf *b)
{
	char ch;
	ssize_t n;

	for (;;) {
		if ((n = read(STDIN_FILENO, &ch, 1)) < 0 && errno == EINTR) {
			if (ui != NULL && ui->waiting != NULL &&
			    ui->waiting(ui->arg))
				return janee_err_set(
				    JANEE_ERR_USAGE, "cancelled");
			continue;
		}
		if (n <= 0 || ch == '\n')
			break;
		if (buf_add(b, &ch, 1) != 0)
			return janee_err_set(
			    JANEE_ERR_INVALID, "the pasted text is too long");
	}
	if (b->len == 0)
		return janee_err_set(JANEE_ERR_INVALID, "nothing was pasted");
	return 0;
}

/* The grant must lie within the profile (Slack may add earlier scopes). */
static int
check_grant(struct janee_ctx *ctx, const struct profile *p, enum kind k,
    const char *scope)
{
	struct janee_strlist got;
	size_t i;
	int rc;

	memset(&got, 0, sizeof(got));
	if ((rc = split_scopes(scope, &got)) != 0)
		return rc;
	for (i = 0; i < got.n; i++)
		if (!janee_strlist_has(&p->scopes[k], got.v[i])) {
			rc = janee_err_set(JANEE_ERR_PROVIDER,
			    "provider '%s': Slack granted profile '%s' the %s scope '%s', which the profile does not have (Slack keeps the scopes of earlier installs of the same app); nothing was stored: give this "
			    "profile a Slack app of its own ('client_id' in the profile)",
			    ctx->name, p->name, kind_names[k], got.v[i]);
			break;
		}
	janee_strlist_free(&got);
	return rc;
}

/*
 * Check one token of a fresh install with auth.test and record whose it
 * is: the bot or user id, and the app; the team must be the install's.
 * test: auth.test's answer already at hand (the fuzzer's), NULL: ask Slack.
 */
static int
identify(struct janee_ctx *ctx, cJSON *ent, cJSON *tk, enum kind k,
    const struct janee_http_resp *test)
{
	struct janee_secret *tok;
	const char *at = json_str(tk, "access_token"), *id, *team;
	cJSON *who = NULL;
	char code[64];
	int rc;

	if (test != NULL)
		rc = slack_answer(
		    ctx, "auth.test", test, &who, code, sizeof(code));
	else {
		if ((tok = janee_secret_new(at, strlen(at))) == NULL)
			return JANEE_ERR_NOMEM;
		rc = auth_test(ctx, tok, &who, code, sizeof(code));
		janee_secret_free(tok);
	}
	if (rc != 0)
		return rc;
	team = json_str(who, "team_id");
	id = json_str(who, k == KIND_BOT ? "bot_id" : "user_id");
	if (team == NULL || json_str(ent, "team_id") == NULL ||
	    strcmp(team, json_str(ent, "team_id")) != 0)
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': auth.test names another team than the install; nothing was stored",
		    ctx->name);
	if (rc == 0 && id != NULL)
		rc = put(tk, "id", cJSON_CreateString(id));
	if (rc == 0 && json_str(who, "app_id") != NULL &&
	    json_str(ent, "app_id") == NULL)
		rc = put(
		    ent, "app_id", cJSON_CreateString(json_str(who, "app_id")));
	cJSON_Delete(who);
	return rc;
}

/*
 * The install's entry from an oauth.v2.access or oauth.v2.exchange answer;
 * test as for identify.
 */
static int
take_install(struct janee_ctx *ctx, const struct profile *p, const cJSON *a,
    int exchange, cJSON *ent, const struct janee_http_resp *test)
{
	const cJSON *team = cJSON_GetObjectItemCaseSensitive(a, "team"),
		    *ent_o = cJSON_GetObjectItemCaseSensitive(a, "enterprise"),
		    *user = cJSON_GetObjectItemCaseSensitive(a, "authed_user");
	const cJSON *src[NKINDS];
	const char *tt = json_str(a, "token_type");
	cJSON *tk;
	int k, rc;

	if (json_str(team, "id") == NULL)
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': Slack's answer names no team", ctx->name);
	if ((rc = put(ent, "team_id",
		 cJSON_CreateString(json_str(team, "id")))) != 0 ||
	    (json_str(team, "name") != NULL &&
		(rc = put(ent, "team_name",
		     cJSON_CreateString(json_str(team, "name")))) != 0) ||
	    (json_str(ent_o, "id") != NULL &&
		(rc = put(ent, "enterprise_id",
		     cJSON_CreateString(json_str(ent_o, "id")))) != 0) ||
	    (json_str(a, "app_id") != NULL &&
		(rc = put(ent, "app_id",
		     cJSON_CreateString(json_str(a, "app_id")))) != 0) ||
	    (json_str(a, "bot_user_id") != NULL &&
		(rc = put(ent, "bot_user_id",
		     cJSON_CreateString(json_str(a, "bot_user_id")))) != 0) ||
	    (json_str(user, "id") != NULL &&
		(rc = put(ent, "user_id",
		     cJSON_CreateString(json_str(user, "id")))) != 0))
		return rc;
	/* The bot token comes first, the user's under authed_user. */
	src[KIND_BOT] = src[KIND_USER] = NULL;
	if (exchange) {
		/* One token: its token_type says which, else the profile. */
		if (tt != NULL && strcmp(tt, "user") == 0)
			src[KIND_USER] = a;
		else if (tt != NULL && strcmp(tt, "bot") == 0)
			src[KIND_BOT] = a;
		else
			src[p->scopes[KIND_BOT].n ? KIND_BOT : KIND_USER] = a;
	} else {
		if (json_str(a, "access_token") != NULL)
			src[KIND_BOT] = a;
		if (json_str(user, "access_token") != NULL)
			src[KIND_USER] = user;
	}
	for (k = 0; k < NKINDS; k++) {
		if (src[k] == NULL) {
			if (p->scopes[k].n > 0 && !exchange)
				return janee_err_set(JANEE_ERR_PROVIDER,
				    "provider '%s': Slack's answer has no %s token for profile '%s'",
				    ctx->name, kind_names[k], p->name);
			continue;
		}
		if (p->scopes[k].n == 0)
			return janee_err_set(JANEE_ERR_PROVIDER,
			    "provider '%s': Slack issued a %s token, which profile '%s' has no scopes for; nothing was stored",
			    ctx->name, kind_names[k], p->name);
		if ((rc = put(ent, kind_names[k], tk = cJSON_CreateObject())) !=
		    0)
			return rc;
		if ((rc = take_token(ctx,
			 exchange ? "oauth.v2.exchange" : "install", src[k],
			 tk)) != 0 ||
		    (rc = check_grant(ctx, p, (enum kind)k,
			 json_str(src[k], "scope"))) != 0 ||
		    (rc = identify(ctx, ent, tk, (enum kind)k, test)) != 0)
			return rc;
	}
	return 0;
}

int
slack_install_answer(struct janee_ctx *ctx, const char *profile, int exchange,
    const struct janee_http_resp *r, const struct janee_http_resp *test)
{
	const struct profile *p = find_profile(ctx->state, profile);
	cJSON *a = NULL, *ent;
	char code[64];
	int rc;

	if (p == NULL)
		return janee_err_set(JANEE_ERR_USAGE,
		    "provider '%s': there is no profile '%s'", ctx->name,
		    profile);
	if ((ent = cJSON_CreateObject()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if ((rc = slack_answer(ctx,
		 exchange ? "oauth.v2.exchange" : "oauth.v2.access", r, &a,
		 code, sizeof(code))) == 0)
		rc = take_install(ctx, p, a, exchange, ent, test);
	cJSON_Delete(a);
	cJSON_Delete(ent);
	return rc;
}

int
slack_refresh_answer(struct janee_ctx *ctx, const struct janee_http_resp *r)
{
	cJSON *a = NULL, *tk;
	char code[64];
	int rc;

	if ((tk = cJSON_CreateObject()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if ((rc = slack_answer(
		 ctx, "oauth.v2.access", r, &a, code, sizeof(code))) == 0)
		rc = take_token(ctx, "refresh", a, tk);
	cJSON_Delete(a);
	cJSON_Delete(tk);
	return rc;
}

/* Keep the install under the login lock, beside the other profiles. */
static int
store_install(struct janee_ctx *ctx, const struct profile *p, cJSON *ent)
{
	cJSON *root = NULL, *profiles;
	char *account = NULL;
	int rc;

	if ((rc = ctx->cred_lock(ctx)) != 0) {
		cJSON_Delete(ent);
		return rc;
	}
	if ((rc = login_load(ctx, &root)) == JANEE_ERR_NOT_FOUND) {
		/* None yet, or a broken one, which this login replaces. */
		janee_err_clear();
		rc = 0;
		if ((root = cJSON_CreateObject()) == NULL ||
		    cJSON_AddNumberToObject(root, "v", 1) == NULL ||
		    cJSON_AddObjectToObject(root, "profiles") == NULL)
			rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	if (rc != 0) {
		cJSON_Delete(ent);
		goto out;
	}
	profiles = cJSON_GetObjectItemCaseSensitive(root, "profiles");
	if ((rc = put(profiles, p->name, ent)) != 0)
		goto out;
	/* The team's id names the account in the audit trail. */
	account =
	    janee_strdup(json_str(ent, "team_id") ? json_str(ent, "team_id")
						  : "unknown team");
	rc = oauth_login_put(ctx, root, account);
out:
	ctx->cred_unlock(ctx);
	cJSON_Delete(root);
	free(account);
	return rc;
}

/* Convert a legacy long-lived token once (oauth.v2.exchange). */
static int
login_exchange(struct janee_ctx *ctx, const struct profile *p, cJSON *ent)
{
	struct janee_secret *legacy = NULL;
	struct client cl = { NULL, NULL };
	struct oauth_form f;
	cJSON *a = NULL;
	char code[64];
	int rc;

	oauth_form_init(&f);
	if ((rc = ctx->secret_get(ctx, p->legacy_token_ref, &legacy)) != 0 ||
	    (rc = client_get(ctx, p, &cl)) != 0 ||
	    (rc = oauth_form_add(&f, "token", (const char *)legacy->data)) !=
		0 ||
	    (rc = slack_api(ctx, "oauth.v2.exchange", &f, &cl, NULL, &a, code,
		 sizeof(code))) != 0 ||
	    (rc = take_install(ctx, p, a, 1, ent, NULL)) != 0)
		goto out;
	ctx->log(ctx,
	    "converted the legacy token of profile '%s' (oauth.v2.exchange); Slack converts a token only once: remove the secret '%s' now",
	    p->name, p->legacy_token_ref);
out:
	cJSON_Delete(a);
	janee_secret_free(cl.secret);
	janee_secret_free(legacy);
	oauth_form_free(&f);
	return rc;
}

/* A failed wait or paste, said with the provider's name (not a cancel). */
static int
nothing_stored(struct janee_ctx *ctx, int rc)
{
	if (rc == JANEE_ERR_USAGE)
		return rc;
	return janee_err_wrap(rc, "provider '%s': %s; nothing was stored",
	    ctx->name, janee_err_msg(rc));
}

/*
 * The browser install: state and PKCE S256; the code comes back to a
 * one-shot listener on 127.0.0.1, or is pasted (https redirect_uri, or
 * --paste); then oauth.v2.access with the client secret as
 * HTTP Basic, the verifier and the same redirect_uri.
 */
static int
login_browser(struct janee_ctx *ctx, const struct janee_login_ui *ui,
    const struct profile *p, cJSON *ent)
{
	struct slack *t = ctx->state;
	const char *conf = t->redirect_uri ? t->redirect_uri : DEFAULT_REDIRECT;
	struct oauth_listener l = { -1, 0 };
	struct oauth_redirect r;
	struct client cl = { NULL, NULL };
	struct oauth_form f;
	struct buf pasted;
	char state[OAUTH_NONCE_LEN + 1], verifier[OAUTH_NONCE_LEN + 1],
	    challenge[OAUTH_CHALLENGE_LEN + 1], code[64];
	char *host = NULL, *path = NULL, *redirect = NULL, *url = NULL;
	int loopback = is_loopback(conf), port = 0, bare, rc;
	int paste = !loopback || ui->paste;
	cJSON *a = NULL;

	memset(&r, 0, sizeof(r));
	oauth_form_init(&f);
	buf_init(&pasted, MAX_PASTE);
	/* Slack: desktop (localhost) redirects cannot request bot scopes. */
	if (loopback && p->scopes[KIND_BOT].n > 0) {
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': profile '%s' has bot scopes, which Slack refuses on a loopback (desktop) redirect; set 'redirect_uri' to an https:// address registered for the app and paste the code",
		    ctx->name, p->name);
		goto out;
	}
	if ((rc = client_get(ctx, p, &cl)) != 0 ||
	    (rc = oauth_nonce(state)) != 0 ||
	    (rc = oauth_nonce(verifier)) != 0 ||
	    (rc = oauth_pkce_challenge(verifier, challenge)) != 0)
		goto out;
	if (loopback) {
		if ((rc = loopback_parts(ctx, conf, &host, &port, &path)) != 0)
			goto out;
		if (paste && port == 0) {
			rc = janee_err_set(JANEE_ERR_CONFIG,
			    "provider '%s': pasting the answer of a loopback redirect needs its port in 'redirect_uri' (http://127.0.0.1:PORT/PATH)",
			    ctx->name);
			goto out;
		}
		if (!paste && (rc = oauth_listen(port, &l)) != 0)
			goto out;
		redirect = janee_asprintf(
		    "http://%s:%d%s", host, paste ? port : l.port, path);
	} else
		redirect = janee_strdup(conf);
	if (redirect == NULL ||
	    (url = authorize_url(ctx, p, cl.id, redirect, state, challenge)) ==
		NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	if (ui->show_url != NULL)
		ui->show_url(ui->arg, url);
	else
		ctx->log(ctx,
		    "to install profile '%s', open this address in a browser and approve:\n  %s",
		    p->name, url);
	if (paste) {
		ctx->log(ctx,
		    "then paste the address the browser was sent to (or just the code) here and press Enter:");
		if ((rc = read_paste(ui, &pasted)) != 0 ||
		    (rc = oauth_redirect_parse(pasted.p, NULL, &r)) != 0) {
			rc = nothing_stored(ctx, rc);
			goto out;
		}
	} else {
		ctx->log(ctx,
		    "waiting for the browser on 127.0.0.1:%d (at most %lld minutes; Ctrl-C cancels)",
		    l.port, (long long)(LOGIN_TIMEOUT_MS / 60000));
		if ((rc = oauth_listen_wait(&l, path, LOGIN_TIMEOUT_MS,
			 ui ? ui->waiting : NULL, ui ? ui->arg : NULL, &r)) !=
		    0) {
			rc = nothing_stored(ctx, rc);
			goto out;
		}
	}
	oauth_listener_close(&l);
	if (r.error != NULL) {
		char e[64];

		janee_clean_text(r.error, e, sizeof(e));
		rc = strcmp(e, "access_denied") == 0
		    ? janee_err_set(JANEE_ERR_DENIED,
			  "provider '%s': the install of profile '%s' was denied in the browser; nothing was stored",
			  ctx->name, p->name)
		    : janee_err_set(JANEE_ERR_PROVIDER,
			  "provider '%s': Slack ended the install with error '%s'; nothing was stored",
			  ctx->name, e);
		goto out;
	}
	/*
	 * A URL must carry our state (CSRF, RFC 6749 section 10.12).  A
	 * bare pasted code has none: PKCE binds it to this login instead,
	 * since only this login knows the verifier.
	 */
	bare = paste && strpbrk(pasted.p, "/?") == NULL;
	if (!bare && (r.state == NULL || !oauth_state_equal(r.state, state))) {
		rc = janee_err_set(JANEE_ERR_DENIED,
		    "provider '%s': the answer's state does not match this login (a forged or stale redirect); nothing was stored: run the login again",
		    ctx->name);
		goto out;
	}
	if ((rc = oauth_form_add(&f, "code", (const char *)r.code->data)) ==
		0 &&
	    (rc = oauth_form_add(&f, "code_verifier", verifier)) == 0 &&
	    (rc = oauth_form_add(&f, "redirect_uri", redirect)) == 0 &&
	    (rc = slack_api(ctx, "oauth.v2.access", &f, &cl, NULL, &a, code,
		 sizeof(code))) == 0)
		rc = take_install(ctx, p, a, 0, ent, NULL);
out:
	oauth_listener_close(&l);
	oauth_redirect_free(&r);
	cJSON_Delete(a);
	janee_secret_free(cl.secret);
	oauth_form_free(&f);
	buf_free(&pasted);
	janee_wipe(state, sizeof(state));
	janee_wipe(verifier, sizeof(verifier));
	curl_free(host);
	curl_free(path);
	free(redirect);
	free(url);
	return rc;
}

static int
slack_login(struct janee_ctx *ctx, const struct janee_login_ui *ui)
{
	const struct profile *p;
	const cJSON *tk;
	cJSON *ent;
	int rc, k;

	if ((rc = login_profile(ctx, ui, &p)) != 0)
		return rc;
	if ((ent = cJSON_CreateObject()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if (p->legacy_token_ref != NULL)
		rc = login_exchange(ctx, p, ent);
	else
		rc = login_browser(ctx, ui, p, ent);
	if (rc != 0) {
		cJSON_Delete(ent);
		return rc;
	}
	for (k = 0; k < NKINDS; k++)
		if ((tk = cJSON_GetObjectItemCaseSensitive(
			 ent, kind_names[k])) != NULL)
			ctx->log(ctx,
			    "profile '%s': %s token for team %s, scopes %s; it rotates by itself",
			    p->name, kind_names[k], json_str(ent, "team_id"),
			    json_str(tk, "scope") ? json_str(tk, "scope")
						  : "(not said)");
	return store_install(ctx, p, ent);
}

const struct janee_provider slack_provider = {
	.version = JANEE_PROVIDER_VERSION,
	.type = "slack",
	.summary =
	    "Slack app installs with rotating tokens (lease_end: expire by default)",
	.configure = slack_configure,
	.unconfigure = slack_free,
	.mint = slack_mint,
	.revoke = slack_revoke,
	.reconcile = slack_reconcile,
	.login = slack_login,
	.logout = slack_logout,
};
