/*
 * Generic OAuth 2.0 / OIDC provider.
 *
 * Minting, by grant:
 *   device_code         `janee login NAME` runs the device grant (RFC 8628)
 *                       and keeps the refresh token sealed; each lease is a
 *                       refresh with the narrowed scope (RFC 6749 section 6),
 *                       serialized per login, rotated tokens stored at once
 *   client_credentials  a client credentials grant with the narrowed scope
 *   token_exchange      RFC 8693 from a configured subject token
 * A lease's token is revoked at its end (RFC 7009), unless "lease_end" is
 * "expire".  Servers may end the whole grant when one token is revoked
 * (RFC 7009 section 2.1; oidc-provider does): after a revocation janee
 * asks the introspection endpoint whether the login survived, and marks
 * it broken, saying so, when it did not.
 */
#include "common.h"

#include <cjson/cJSON.h>

#include "oauth.h"
#include "util.h"

enum grant {
	GRANT_DEVICE_CODE,
	GRANT_CLIENT_CREDENTIALS,
	GRANT_TOKEN_EXCHANGE,
};

static const char *const grant_names[] = {
	[GRANT_DEVICE_CODE] = "device_code",
	[GRANT_CLIENT_CREDENTIALS] = "client_credentials",
	[GRANT_TOKEN_EXCHANGE] = "token_exchange",
};

struct o2 {
	char *issuer;
	struct oauth_endpoints explicit_ep; /* from config.json */
	struct oauth_endpoints found; /* from discovery, once */
	int discovered;
	char *client_id;
	char *client_secret_ref;
	enum oauth_auth auth;
	enum grant grant;
	char *ca_file;
	struct janee_strlist login_scopes;
	char *subject_token_ref;
	char *subject_token_type;
	char *audience;
	char *resource;
};

static void
o2_free(void *state)
{
	struct o2 *t = state;

	free(t->issuer);
	oauth_endpoints_free(&t->explicit_ep);
	oauth_endpoints_free(&t->found);
	free(t->client_id);
	free(t->client_secret_ref);
	free(t->ca_file);
	janee_strlist_free(&t->login_scopes);
	free(t->subject_token_ref);
	free(t->subject_token_type);
	free(t->audience);
	free(t->resource);
	free(t);
}

/* An endpoint key: optional, a URL janee may use. */
static int
url_key(
    struct janee_ctx *ctx, struct janee_cfg *cfg, const char *key, char **out)
{
	const char *v = NULL;
	char what[128];
	int rc;

	if ((rc = janee_cfg_string(cfg, key, 0, &v)) != 0 || v == NULL)
		return rc;
	snprintf(what, sizeof(what), "provider '%s': key '%s'", ctx->name, key);
	if ((rc = janee_http_url_ok(v, what)) != 0)
		return janee_err_wrap(
		    JANEE_ERR_CONFIG, "%s", janee_err_msg(rc));
	return janee_strdup_opt(v, out);
}

static int
o2_configure(struct janee_ctx *ctx, struct janee_cfg *cfg, void **state,
    struct janee_info *info)
{
	const char *client_id = NULL, *secret = NULL, *auth = NULL,
		   *grant = NULL, *ca = NULL, *subject = NULL, *stype = NULL,
		   *aud = NULL, *res = NULL, *lease_end = NULL;
	struct o2 *t;
	size_t i;
	int rc, a;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	*state = t;
	if ((rc = url_key(ctx, cfg, "issuer", &t->issuer)) != 0 ||
	    (rc = url_key(ctx, cfg, "token_endpoint", &t->explicit_ep.token)) !=
		0 ||
	    (rc = url_key(ctx, cfg, "device_authorization_endpoint",
		 &t->explicit_ep.device)) != 0 ||
	    (rc = url_key(ctx, cfg, "revocation_endpoint",
		 &t->explicit_ep.revocation)) != 0 ||
	    (rc = url_key(ctx, cfg, "introspection_endpoint",
		 &t->explicit_ep.introspection)) != 0 ||
	    (rc = janee_cfg_string(cfg, "client_id", 1, &client_id)) != 0 ||
	    (rc = janee_cfg_ref(cfg, "client_secret", 0, &secret)) != 0 ||
	    (rc = janee_cfg_string(cfg, "auth_method", 0, &auth)) != 0 ||
	    (rc = janee_cfg_string(cfg, "grant", 0, &grant)) != 0 ||
	    (rc = janee_cfg_string(cfg, "ca_file", 0, &ca)) != 0 ||
	    (rc = janee_cfg_strlist(cfg, "login_scopes", &t->login_scopes)) !=
		0 ||
	    (rc = janee_cfg_ref(cfg, "subject_token", 0, &subject)) != 0 ||
	    (rc = janee_cfg_string(cfg, "subject_token_type", 0, &stype)) !=
		0 ||
	    (rc = janee_cfg_string(cfg, "audience", 0, &aud)) != 0 ||
	    (rc = janee_cfg_string(cfg, "resource", 0, &res)) != 0 ||
	    (rc = janee_cfg_string(cfg, "lease_end", 0, &lease_end)) != 0)
		return rc;
	if (t->issuer == NULL && t->explicit_ep.token == NULL)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': set 'issuer' (discovery) or 'token_endpoint'",
		    ctx->name);
	t->grant = GRANT_DEVICE_CODE;
	if (grant != NULL) {
		for (i = 0; i < nitems(grant_names); i++)
			if (strcmp(grant, grant_names[i]) == 0)
				break;
		if (i == nitems(grant_names))
			return janee_err_set(JANEE_ERR_CONFIG,
			    "provider '%s': 'grant' must be device_code, client_credentials or token_exchange, not '%s'",
			    ctx->name, grant);
		t->grant = (enum grant)i;
	}
	t->auth = secret != NULL ? OAUTH_AUTH_BASIC : OAUTH_AUTH_NONE;
	if (auth != NULL) {
		if ((a = oauth_auth_parse(auth)) < 0)
			return janee_err_set(JANEE_ERR_CONFIG,
			    "provider '%s': 'auth_method' must be client_secret_basic, client_secret_post or none, not '%s'",
			    ctx->name, auth);
		t->auth = (enum oauth_auth)a;
	}
	if (t->auth != OAUTH_AUTH_NONE && secret == NULL)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': auth_method %s needs 'client_secret' (a reference such as \"secret:NAME\")",
		    ctx->name, oauth_auth_name(t->auth));
	if (t->grant != GRANT_DEVICE_CODE && t->auth == OAUTH_AUTH_NONE)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': grant %s needs a confidential client ('client_secret')",
		    ctx->name, grant_names[t->grant]);
	if (t->grant == GRANT_TOKEN_EXCHANGE && subject == NULL)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': grant token_exchange needs 'subject_token' (a reference)",
		    ctx->name);
	if (lease_end != NULL && strcmp(lease_end, "revoke") != 0 &&
	    strcmp(lease_end, "expire") != 0)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'lease_end' must be revoke or expire, not '%s'",
		    ctx->name, lease_end);
	info->needs_login = t->grant == GRANT_DEVICE_CODE;
	info->revocable = lease_end == NULL || strcmp(lease_end, "expire") != 0;
	info->auth_header = "Authorization";
	info->auth_scheme = "Bearer";
	if ((rc = janee_strdup_opt(client_id, &t->client_id)) != 0 ||
	    (rc = janee_strdup_opt(secret, &t->client_secret_ref)) != 0 ||
	    (rc = janee_strdup_opt(ca, &t->ca_file)) != 0 ||
	    (rc = janee_strdup_opt(subject, &t->subject_token_ref)) != 0 ||
	    (rc = janee_strdup_opt(stype
		     ? stype
		     : "urn:ietf:params:oauth:token-type:access_token",
		 &t->subject_token_type)) != 0 ||
	    (rc = janee_strdup_opt(aud, &t->audience)) != 0 ||
	    (rc = janee_strdup_opt(res, &t->resource)) != 0)
		return rc;
	return 0;
}

/* The endpoints: explicit ones win; the rest come from discovery, once. */
static int
endpoints(
    struct janee_ctx *ctx, struct oauth_client *c, struct oauth_endpoints *ep)
{
	struct o2 *t = ctx->state;
	int rc;

	if (t->issuer != NULL && !t->discovered) {
		if ((rc = oauth_discover(c, t->issuer, &t->found)) != 0)
			return rc;
		t->discovered = 1;
	}
#define PICK(f) ep->f = t->explicit_ep.f ? t->explicit_ep.f : t->found.f
	PICK(token);
	PICK(device);
	PICK(revocation);
	PICK(introspection);
#undef PICK
	ep->issuer = t->issuer;
	return 0;
}

/* The client, with its secret resolved; free with client_done. */
static int
client(
    struct janee_ctx *ctx, struct oauth_client *c, struct janee_secret **secret)
{
	struct o2 *t = ctx->state;
	int rc;

	memset(c, 0, sizeof(*c));
	*secret = NULL;
	if (t->client_secret_ref != NULL &&
	    (rc = ctx->secret_get(ctx, t->client_secret_ref, secret)) != 0)
		return rc;
	c->name = ctx->name;
	c->http = ctx->http;
	c->ca_file = t->ca_file;
	c->client_id = t->client_id;
	c->client_secret = *secret;
	c->auth = t->auth;
	return 0;
}

/*
 * The granted scopes: the server's "scope" when it sent one (RFC 6749
 * section 5.1), else what was asked.  A grant wider than the request
 * breaks the lease's promise: refuse it.
 */
static int
granted_scopes(struct janee_ctx *ctx, const struct janee_mint_req *req,
    const char *scope, struct janee_strlist *out)
{
	char *copy, *w, *save = NULL;
	size_t i;
	int rc = 0;

	if (scope == NULL) {
		for (i = 0; i < req->scopes->n && rc == 0; i++)
			rc = janee_strlist_add(out, req->scopes->v[i]);
		return rc;
	}
	if ((copy = janee_strdup(scope)) == NULL)
		return JANEE_ERR_NOMEM;
	for (w = strtok_r(copy, " ", &save); w != NULL && rc == 0;
	     w = strtok_r(NULL, " ", &save)) {
		if (!janee_strlist_has(req->scopes, w))
			rc = janee_err_set(JANEE_ERR_PROVIDER,
			    "provider '%s' granted scope '%s', which was not asked for; the token was revoked and not issued",
			    ctx->name, w);
		else
			rc = janee_strlist_add(out, w);
	}
	free(copy);
	return rc;
}

/* The stored login: {"refresh_token": ..., "scope": ...}. */
static int
login_parse(struct janee_ctx *ctx, const struct janee_secret *cred,
    struct janee_secret **rt)
{
	cJSON *j = cJSON_ParseWithLength((const char *)cred->data, cred->len);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "refresh_token");
	int rc = 0;

	*rt = NULL;
	if (!cJSON_IsString(v))
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': the stored login is damaged; run: janee login %s",
		    ctx->name, ctx->name);
	else if ((*rt = janee_secret_new(
		      v->valuestring, strlen(v->valuestring))) == NULL)
		rc = JANEE_ERR_NOMEM;
	cJSON_Delete(j);
	return rc;
}

static int
login_store(
    struct janee_ctx *ctx, const struct janee_secret *rt, const char *scope)
{
	struct janee_secret *val = NULL;
	cJSON *j;
	char *s = NULL;
	int rc;

	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(
		j, "refresh_token", (const char *)rt->data) == NULL ||
	    (scope != NULL &&
		cJSON_AddStringToObject(j, "scope", scope) == NULL) ||
	    (s = cJSON_PrintUnformatted(j)) == NULL ||
	    (val = janee_secret_new(s, strlen(s))) == NULL)
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	else
		rc = ctx->cred_put(ctx, val, NULL);
	if (s != NULL) {
		janee_wipe(s, strlen(s));
		cJSON_free(s);
	}
	cJSON_Delete(j);
	janee_secret_free(val);
	return rc;
}

/* A refresh with the narrowed scope, the rotated token stored at once. */
static int
mint_by_refresh(struct janee_ctx *ctx, struct oauth_client *c,
    const struct oauth_endpoints *ep, const char *scope,
    struct oauth_token *tok)
{
	struct janee_secret *cred = NULL, *rt = NULL;
	struct oauth_error err;
	int rc;

	if ((rc = ctx->cred_lock(ctx)) != 0)
		return rc;
	if ((rc = ctx->cred_get(ctx, &cred)) != 0 ||
	    (rc = login_parse(ctx, cred, &rt)) != 0)
		goto out;
	rc = oauth_refresh(c, ep->token, rt, scope, tok, &err);
	if (rc != 0 && strcmp(err.code, "invalid_grant") == 0) {
		rc = ctx->login_gone(ctx, rc,
		    "the server refused its refresh token (invalid_grant)",
		    NULL);
		goto out;
	}
	if (rc != 0)
		goto out;
	/* Rotation: the old refresh token is dead now; keep the new one. */
	if (tok->refresh_token != NULL &&
	    (rc = login_store(ctx, tok->refresh_token, NULL)) != 0)
		rc = janee_err_wrap(rc,
		    "provider '%s': could not store the rotated refresh token (%s); the login may need: janee login %s",
		    ctx->name, janee_err_msg(rc), ctx->name);
out:
	ctx->cred_unlock(ctx);
	janee_secret_free(cred);
	janee_secret_free(rt);
	return rc;
}

static int
o2_revoke_token(struct janee_ctx *ctx, struct oauth_client *c,
    const struct oauth_endpoints *ep, const struct janee_secret *token,
    const char *hint)
{
	if (ep->revocation == NULL)
		return janee_err_set(JANEE_ERR_UNSUPPORTED,
		    "provider '%s' has no revocation endpoint", ctx->name);
	return oauth_revoke(c, ep->revocation, token, hint);
}

static int
o2_mint(struct janee_ctx *ctx, const struct janee_mint_req *req,
    struct janee_token *out)
{
	struct o2 *t = ctx->state;
	struct janee_secret *secret = NULL, *subject = NULL;
	struct oauth_endpoints ep;
	struct oauth_client c;
	struct oauth_error err;
	struct oauth_token tok;
	char *scope = NULL;
	int rc;

	memset(&tok, 0, sizeof(tok));
	if ((rc = client(ctx, &c, &secret)) != 0 ||
	    (rc = endpoints(ctx, &c, &ep)) != 0)
		goto out;
	if ((scope = oauth_scope_join(req->scopes)) == NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	switch (t->grant) {
	case GRANT_DEVICE_CODE:
		rc = mint_by_refresh(ctx, &c, &ep, scope, &tok);
		break;
	case GRANT_CLIENT_CREDENTIALS:
		rc = oauth_client_credentials(&c, ep.token, scope, &tok, &err);
		break;
	case GRANT_TOKEN_EXCHANGE:
		if ((rc = ctx->secret_get(
			 ctx, t->subject_token_ref, &subject)) == 0)
			rc = oauth_token_exchange(&c, ep.token, subject,
			    t->subject_token_type, scope, t->audience,
			    t->resource, &tok, &err);
		break;
	}
	if (rc != 0)
		goto out;
	if ((rc = granted_scopes(ctx, req, tok.scope, &out->granted)) != 0) {
		/* Never hand out more than asked: kill it at once. */
		char *msg = janee_strdup(janee_err_msg(rc));

		janee_err_clear();
		if (o2_revoke_token(
			ctx, &c, &ep, tok.access_token, "access_token") != 0)
			janee_err_clear();
		rc = janee_err_set(rc, "%s", msg ? msg : "scope too wide");
		free(msg);
		goto out;
	}
	rc = janee_token_put(out, "token", tok.access_token, JANEE_PART_SECRET);
	tok.access_token = NULL;
	if (rc != 0)
		goto out;
	if (tok.token_type != NULL &&
	    (out->token_type = janee_strdup(tok.token_type)) == NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	if (tok.expires_in > 0)
		out->expires_ms = ctx->now_ms() + tok.expires_in * 1000;
out:
	oauth_token_free(&tok);
	janee_secret_free(secret);
	janee_secret_free(subject);
	free(scope);
	return rc;
}

static int
o2_revoke(
    struct janee_ctx *ctx, const char *lease_id, const struct janee_token *tok)
{
	const struct janee_secret *token = janee_token_get(tok, "token");
	struct o2 *t = ctx->state;
	struct janee_secret *secret = NULL, *cred = NULL, *rt = NULL;
	struct oauth_endpoints ep;
	struct oauth_client c;
	int rc, active = 1;

	(void)lease_id;
	if (token == NULL)
		return 0; /* nothing of ours to end */
	if ((rc = client(ctx, &c, &secret)) != 0 ||
	    (rc = endpoints(ctx, &c, &ep)) != 0 ||
	    (rc = o2_revoke_token(ctx, &c, &ep, token, "access_token")) != 0)
		goto out;
	/* Did the login survive the revocation?  Ask, if the server can. */
	if (t->grant != GRANT_DEVICE_CODE || ep.introspection == NULL)
		goto out;
	if (ctx->cred_lock(ctx) != 0) {
		janee_err_clear();
		goto out;
	}
	if (ctx->cred_get(ctx, &cred) == 0 &&
	    login_parse(ctx, cred, &rt) == 0 &&
	    oauth_introspect(&c, ep.introspection, rt, &active) == 0 &&
	    !active &&
	    ctx->cred_broken(ctx,
		"the server ended the whole login when a leased token was revoked (RFC 7009 section 2.1); log in again, or set \"lease_end\": \"expire\" to let tokens run out instead") !=
		0)
		janee_err_clear();
	janee_err_clear();
	ctx->cred_unlock(ctx);
out:
	janee_secret_free(secret);
	janee_secret_free(cred);
	janee_secret_free(rt);
	return rc;
}

static int
o2_login(struct janee_ctx *ctx, const struct janee_login_ui *ui)
{
	struct o2 *t = ctx->state;
	struct janee_secret *secret = NULL;
	struct oauth_endpoints ep;
	struct oauth_device dev;
	struct oauth_client c;
	struct oauth_token tok;
	char *scope = NULL;
	int rc;

	memset(&dev, 0, sizeof(dev));
	memset(&tok, 0, sizeof(tok));
	if (t->grant != GRANT_DEVICE_CODE)
		return janee_err_set(JANEE_ERR_UNSUPPORTED,
		    "provider '%s' uses grant %s, which needs no login",
		    ctx->name, grant_names[t->grant]);
	if ((rc = client(ctx, &c, &secret)) != 0 ||
	    (rc = endpoints(ctx, &c, &ep)) != 0)
		goto out;
	if (ep.device == NULL) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s' has no device authorization endpoint; set 'device_authorization_endpoint'",
		    ctx->name);
		goto out;
	}
	if ((scope = oauth_scope_join(&t->login_scopes)) == NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	if ((rc = oauth_device_start(&c, ep.device, scope, &dev)) != 0)
		goto out;
	ui->show_code(ui->arg, dev.user_code, dev.verification_uri,
	    dev.verification_uri_complete, dev.expires_in);
	if ((rc = oauth_device_poll(
		 &c, ep.token, &dev, ui->waiting, ui->arg, &tok)) != 0)
		goto out;
	if (tok.refresh_token == NULL) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s' issued no refresh token, which janee needs to mint narrowed tokens later; for an OIDC server add offline_access to 'login_scopes'",
		    ctx->name);
		goto out;
	}
	rc = login_store(ctx, tok.refresh_token, tok.scope);
out:
	oauth_device_free(&dev);
	oauth_token_free(&tok);
	janee_secret_free(secret);
	free(scope);
	return rc;
}

static int
o2_logout(struct janee_ctx *ctx)
{
	struct janee_secret *secret = NULL, *cred = NULL, *rt = NULL;
	struct oauth_endpoints ep;
	struct oauth_client c;
	int rc;

	if ((rc = ctx->cred_lock(ctx)) != 0)
		return rc;
	if ((rc = ctx->cred_get(ctx, &cred)) == 0 &&
	    (rc = login_parse(ctx, cred, &rt)) == 0 &&
	    (rc = client(ctx, &c, &secret)) == 0 &&
	    (rc = endpoints(ctx, &c, &ep)) == 0)
		rc = o2_revoke_token(ctx, &c, &ep, rt, "refresh_token");
	ctx->cred_unlock(ctx);
	janee_secret_free(secret);
	janee_secret_free(cred);
	janee_secret_free(rt);
	return rc;
}

const struct janee_provider oauth2_provider = {
	.version = JANEE_PROVIDER_VERSION,
	.type = "oauth2",
	.summary = "any OAuth 2.0 / OIDC authorization server",
	.configure = o2_configure,
	.unconfigure = o2_free,
	.mint = o2_mint,
	.revoke = o2_revoke,
	.login = o2_login,
	.logout = o2_logout,
};
