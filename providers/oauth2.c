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

#include <ctype.h>

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
	int no_revoke; /* "lease_end": "expire" */
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
	t->no_revoke = lease_end != NULL && strcmp(lease_end, "expire") == 0;
	info->needs_login = t->grant == GRANT_DEVICE_CODE;
	info->revocable = !t->no_revoke;
	info->reconcilable = 1;
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
	/* Known from discovery only (0 with explicit endpoints alone). */
	ep->offline_access = t->found.offline_access;
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

/*
 * The stored login: {"refresh_token", "scope", "rotates" (whether the last
 * refresh rotated it), "expires_in" (of the last token minted), "minted"
 * (tokens kept until the ledger has them: oauth_minted_*)}.  *root is the
 * parsed object, *rt its refresh token.
 */
static int
login_load(struct janee_ctx *ctx, cJSON **root, struct janee_secret **rt)
{
	struct janee_secret *cred = NULL;
	const cJSON *v;
	int rc;

	*root = NULL;
	*rt = NULL;
	if ((rc = ctx->cred_get(ctx, &cred)) != 0)
		return rc;
	*root = cJSON_ParseWithLength((const char *)cred->data, cred->len);
	janee_secret_free(cred);
	v = cJSON_GetObjectItemCaseSensitive(*root, "refresh_token");
	if (!cJSON_IsObject(*root) || !cJSON_IsString(v)) {
		cJSON_Delete(*root);
		*root = NULL;
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': the stored login is damaged; run: janee login %s",
		    ctx->name, ctx->name);
	}
	if ((*rt = janee_secret_new(v->valuestring, strlen(v->valuestring))) ==
	    NULL) {
		cJSON_Delete(*root);
		*root = NULL;
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* Replace (or add) member k of o with v (NULL: out of memory). */
static int
put(cJSON *o, const char *k, cJSON *v)
{
	if (v == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	cJSON_DeleteItemFromObjectCaseSensitive(o, k);
	if (!cJSON_AddItemToObject(o, k, v)) {
		cJSON_Delete(v);
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/*
 * A new login (janee login): its refresh token and scope, and the tokens
 * the login it replaces still keeps for leases a crash cut short.
 */
static int
login_new(
    struct janee_ctx *ctx, const struct janee_secret *rt, const char *scope)
{
	struct janee_secret *ort = NULL;
	cJSON *root, *old = NULL, *m;
	int rc;

	if ((root = cJSON_CreateObject()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if ((rc = put(root, "refresh_token",
		 cJSON_CreateString((const char *)rt->data))) != 0 ||
	    (scope != NULL &&
		(rc = put(root, "scope", cJSON_CreateString(scope))) != 0) ||
	    (rc = ctx->cred_lock(ctx)) != 0)
		goto out;
	if (login_load(ctx, &old, &ort) == 0 &&
	    (m = cJSON_DetachItemFromObjectCaseSensitive(old, "minted")) !=
		NULL)
		rc = put(root, "minted", m);
	janee_err_clear(); /* no earlier login, or a damaged one */
	if (rc == 0)
		rc = oauth_login_put(ctx, root, NULL);
	ctx->cred_unlock(ctx);
out:
	cJSON_Delete(root);
	cJSON_Delete(old);
	janee_secret_free(ort);
	return rc;
}

/*
 * After a refresh for lease_id: keep the rotated refresh token, and with
 * it the new access token until the ledger has it (oauth_minted_add), so
 * that a crash before then leaves a token reconcile() can find.  Written
 * when the server rotated, and also on the first refresh after rotations
 * that did not rotate ("rotates" false): while "rotates" is true, every
 * mint since the last write reached the server without an answer
 * (reconcile relies on it), and a server that does not rotate costs no
 * write per mint.
 */
static int
login_after_refresh(struct janee_ctx *ctx, cJSON *root, const char *lease_id,
    const struct oauth_token *tok)
{
	int rotated = tok->refresh_token != NULL, rc;
	int64_t exp = 0;

	if (!rotated &&
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "rotates")))
		return 0;
	if (tok->expires_in > 0)
		exp = ctx->now_ms() + tok->expires_in * 1000;
	if ((rotated &&
		(rc = put(root, "refresh_token",
		     cJSON_CreateString(
			 (const char *)tok->refresh_token->data))) != 0) ||
	    (rc = put(root, "rotates", cJSON_CreateBool(rotated))) != 0 ||
	    (tok->expires_in > 0 &&
		(rc = put(root, "expires_in",
		     cJSON_CreateNumber((double)tok->expires_in))) != 0) ||
	    (rc = oauth_minted_add(
		 ctx, root, lease_id, tok->access_token, exp)) != 0)
		return rc;
	return oauth_login_put(ctx, root, NULL);
}

/* A refresh with the narrowed scope, the rotated token stored at once. */
static int
mint_by_refresh(struct janee_ctx *ctx, struct oauth_client *c,
    const struct oauth_endpoints *ep, const char *scope, const char *lease_id,
    struct oauth_token *tok)
{
	struct janee_secret *rt = NULL;
	struct oauth_error err;
	cJSON *root = NULL;
	int rc;

	if ((rc = ctx->cred_lock(ctx)) != 0)
		return rc;
	if ((rc = login_load(ctx, &root, &rt)) != 0)
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
	/* The server answered; nothing is stored yet (crash tests). */
	janee_crash_point("after_refresh");
	if ((rc = login_after_refresh(ctx, root, lease_id, tok)) != 0)
		rc = janee_err_wrap(rc,
		    "provider '%s': could not store the rotated refresh token (%s); the login may need: janee login %s",
		    ctx->name, janee_err_msg(rc), ctx->name);
out:
	ctx->cred_unlock(ctx);
	cJSON_Delete(root);
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
	char *scope = NULL, *p;
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
		rc = mint_by_refresh(ctx, &c, &ep, scope, req->lease_id, &tok);
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
	/* Case-insensitive (RFC 6749 section 7.1): janee says "bearer". */
	for (p = out->token_type; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (tok.expires_in > 0)
		out->expires_ms = ctx->now_ms() + tok.expires_in * 1000;
out:
	oauth_token_free(&tok);
	janee_secret_free(secret);
	janee_secret_free(subject);
	free(scope);
	return rc;
}

/* Revoke one access token, checking that the login survived. */
static int
revoke_access(struct janee_ctx *ctx, const struct janee_secret *token)
{
	struct o2 *t = ctx->state;
	struct janee_secret *secret = NULL, *rt = NULL;
	struct oauth_endpoints ep;
	struct oauth_client c;
	cJSON *root = NULL;
	int rc, active = 1;

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
	if (login_load(ctx, &root, &rt) == 0 &&
	    oauth_introspect(
		&c, ep.introspection, rt, "refresh_token", &active) == 0 &&
	    !active &&
	    ctx->cred_broken(ctx,
		"the server ended the whole login when a leased token was revoked (RFC 7009 section 2.1); log in again, or set \"lease_end\": \"expire\" to let tokens run out instead") !=
		0)
		janee_err_clear();
	janee_err_clear();
	ctx->cred_unlock(ctx);
out:
	janee_secret_free(secret);
	cJSON_Delete(root);
	janee_secret_free(rt);
	return rc;
}

/*
 * What the login asks for: login_scopes, else the policy's ceiling (an
 * empty scope made servers such as oidc-provider end the interaction),
 * with offline_access when discovery lists it, for the refresh token.
 */
static int
login_scope(struct janee_ctx *ctx, const struct o2 *t,
    const struct oauth_endpoints *ep, char **out)
{
	struct janee_strlist l = { 0 };
	size_t i;
	int rc = 0;

	if (t->login_scopes.n > 0) {
		*out = oauth_scope_join(&t->login_scopes);
		return *out == NULL ? JANEE_ERR_NOMEM : 0;
	}
	for (i = 0; rc == 0 && i < ctx->ceiling->n; i++)
		rc = janee_strlist_add(&l, ctx->ceiling->v[i]);
	if (rc == 0 && ep->offline_access)
		rc = janee_strlist_add(&l, "offline_access");
	if (rc == 0 && (*out = oauth_scope_join(&l)) == NULL)
		rc = JANEE_ERR_NOMEM;
	janee_strlist_free(&l);
	return rc;
}

/* A denied login says what was asked for: a scope may be the reason. */
static int
say_scope_asked(int rc, const char *scope)
{
	char *msg = janee_strdup(janee_err_msg(rc));

	janee_err_clear();
	rc = janee_err_set(rc,
	    "%s; janee asked for scope '%s' (set "
	    "'login_scopes' to ask for others)",
	    msg ? msg : "the login was denied", scope);
	free(msg);
	return rc;
}

static int
o2_revoke(
    struct janee_ctx *ctx, const char *lease_id, const struct janee_token *tok)
{
	const struct janee_secret *token = janee_token_get(tok, "token");

	(void)lease_id;
	return token != NULL ? revoke_access(ctx, token) : 0;
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
	if ((rc = login_scope(ctx, t, &ep, &scope)) != 0 ||
	    (rc = oauth_device_start(&c, ep.device, scope, &dev)) != 0)
		goto out;
	ui->show_code(ui->arg, dev.user_code, dev.verification_uri,
	    dev.verification_uri_complete, dev.expires_in);
	if ((rc = oauth_device_poll(
		 &c, ep.token, &dev, ui->waiting, ui->arg, &tok)) != 0) {
		if (rc == JANEE_ERR_DENIED)
			rc = say_scope_asked(rc, scope);
		goto out;
	}
	if (tok.refresh_token == NULL) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s' issued no refresh token, which janee needs to mint narrowed tokens later; for an OIDC server add offline_access to 'login_scopes'",
		    ctx->name);
		goto out;
	}
	rc = login_new(ctx, tok.refresh_token, tok.scope);
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
	struct janee_secret *secret = NULL, *rt = NULL;
	struct oauth_endpoints ep;
	struct oauth_client c;
	cJSON *root = NULL;
	int rc;

	if ((rc = ctx->cred_lock(ctx)) != 0)
		return rc;
	if ((rc = login_load(ctx, &root, &rt)) == 0 &&
	    (rc = client(ctx, &c, &secret)) == 0 &&
	    (rc = endpoints(ctx, &c, &ep)) == 0)
		rc = o2_revoke_token(ctx, &c, &ep, rt, "refresh_token");
	ctx->cred_unlock(ctx);
	janee_secret_free(secret);
	cJSON_Delete(root);
	janee_secret_free(rt);
	return rc;
}

/*
 * Is the token kept for lease_id (oauth_minted_find) still live?  Ask the
 * introspection endpoint when there is one (RFC 7662); then revoke it
 * (RFC 7009, token_type_hint access_token), checking that the login
 * survived as o2_revoke does.
 */
static int
end_kept(struct janee_ctx *ctx, const struct janee_secret *tok,
    struct janee_reconcile *r)
{
	struct o2 *t = ctx->state;
	struct janee_secret *secret = NULL;
	struct oauth_endpoints ep;
	struct oauth_client c;
	int rc, active = 1;

	if (t->no_revoke)
		return janee_err_set(JANEE_ERR_UNSUPPORTED,
		    "provider '%s' does not revoke its tokens (lease_end expire)",
		    ctx->name);
	if ((rc = client(ctx, &c, &secret)) == 0 &&
	    (rc = endpoints(ctx, &c, &ep)) == 0 && ep.introspection != NULL)
		rc = oauth_introspect(
		    &c, ep.introspection, tok, "access_token", &active);
	janee_secret_free(secret);
	if (rc == 0 && active && (rc = revoke_access(ctx, tok)) == 0)
		r->revoked = 1;
	return rc;
}

/*
 * A janee process died while minting lease_id.  Only a refresh-narrowed
 * mint (device_code) keeps its token, in the login it writes anyway: found
 * there, it is checked and revoked.  Not found, the mint got no answer if
 * the server rotates refresh tokens (every answered refresh wrote the
 * login) and the stored one still works (RFC 7662); otherwise an answer
 * may have come and been lost.  Client credentials and token exchange
 * tokens are kept nowhere but in their lease.
 */
static int
o2_reconcile(
    struct janee_ctx *ctx, const char *lease_id, struct janee_reconcile *r)
{
	struct o2 *t = ctx->state;
	struct janee_secret *secret = NULL, *rt = NULL, *tok = NULL;
	struct oauth_endpoints ep;
	struct oauth_client c;
	const cJSON *v;
	cJSON *root = NULL;
	int rc, found, rotates, active = 0;

	if (t->grant != GRANT_DEVICE_CODE)
		return janee_err_set(JANEE_ERR_UNSUPPORTED,
		    "provider '%s': a %s token is kept nowhere but in its lease, so one minted for lease %s cannot be found",
		    ctx->name, grant_names[t->grant], lease_id);
	if ((rc = ctx->cred_lock(ctx)) != 0)
		return rc;
	if ((rc = login_load(ctx, &root, &rt)) == 0) {
		v = cJSON_GetObjectItemCaseSensitive(root, "expires_in");
		if (cJSON_IsNumber(v) && v->valuedouble > 0)
			r->lifetime_s = (int64_t)v->valuedouble;
		rc = oauth_minted_find(root, lease_id, &tok, &r->live_until_ms);
	}
	ctx->cred_unlock(ctx);
	found = rc == 0;
	rotates =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "rotates"));
	if (rc == JANEE_ERR_NOT_FOUND && root != NULL)
		rc = 0; /* no token kept for the lease */
	if (rc != 0)
		goto out;
	if (found) {
		rc = end_kept(ctx, tok, r);
		goto out;
	}
	if ((rc = client(ctx, &c, &secret)) != 0 ||
	    (rc = endpoints(ctx, &c, &ep)) != 0)
		goto out;
	if (rotates && ep.introspection != NULL &&
	    (rc = oauth_introspect(
		 &c, ep.introspection, rt, "refresh_token", &active)) != 0)
		goto out;
	if (!rotates || ep.introspection == NULL)
		rc = janee_err_set(JANEE_ERR_UNSUPPORTED,
		    "provider '%s': no token is kept for lease %s, and without refresh token rotation and an introspection endpoint janee cannot tell whether the server answered",
		    ctx->name, lease_id);
	else if (!active)
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': no token is kept for lease %s, and the login's refresh token no longer works: a refresh for the lease may have been answered and never stored",
		    ctx->name, lease_id);
out:
	janee_secret_free(secret);
	janee_secret_free(rt);
	janee_secret_free(tok);
	cJSON_Delete(root);
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
	.reconcile = o2_reconcile,
	.login = o2_login,
	.logout = o2_logout,
};
