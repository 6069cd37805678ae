/*
 * Shared OAuth 2.0 machinery for the providers: discovery (RFC 8414 and
 * OIDC, issuer checked), client authentication (client_secret_basic,
 * client_secret_post, none), the device grant (RFC 8628), refresh with a
 * narrower scope (RFC 6749 section 6), client credentials (section 4.4),
 * token exchange (RFC 8693) and revocation (RFC 7009).  Messages name the
 * provider and the endpoint, never a token or a secret.
 */
#ifndef JANEE_OAUTH_H
#define JANEE_OAUTH_H

#include "common.h"

#include "buf.h"
#include "janee/http.h"

enum oauth_auth {
	OAUTH_AUTH_NONE,
	OAUTH_AUTH_BASIC,
	OAUTH_AUTH_POST,
};

/* "client_secret_basic" -> OAUTH_AUTH_BASIC, ...; -1 when unknown. */
int oauth_auth_parse(const char *s);
const char *oauth_auth_name(enum oauth_auth a);

struct oauth_client {
	const char *name; /* provider, for messages */
	struct janee_http *http;
	const char *ca_file;
	const char *client_id;
	const struct janee_secret *client_secret; /* NULL: public */
	enum oauth_auth auth;
	const char *const *headers; /* extra request headers */
};

struct oauth_endpoints {
	char *issuer, *token, *device, *revocation, *introspection;
	/* Discovery's scopes_supported lists offline_access (OIDC Core
	 * section 11: the scope that asks for a refresh token). */
	int offline_access;
};

/*
 * Fetch RFC 8414 metadata, then OIDC discovery, from issuer; the document's
 * issuer must equal the configured one exactly.
 */
int oauth_discover(const struct oauth_client *c, const char *issuer,
    struct oauth_endpoints *ep) JANEE_WUR;
void oauth_endpoints_free(struct oauth_endpoints *ep);

struct oauth_token {
	struct janee_secret *access_token;
	struct janee_secret *refresh_token; /* NULL when none came */
	char *token_type;
	char *scope; /* NULL when not said */
	char *issued_token_type; /* token exchange */
	int64_t expires_in; /* -1 when not said */
	int64_t refresh_expires_in; /* -1 when not said */
};
void oauth_token_free(struct oauth_token *t);

/* The error of a failed token request, for callers that branch on it. */
struct oauth_error {
	long status;
	char code[64]; /* "invalid_scope", "" when none */
};

/* An application/x-www-form-urlencoded body; wiped when freed. */
struct oauth_form {
	struct buf b;
};
void oauth_form_init(struct oauth_form *f);
int oauth_form_add(
    struct oauth_form *f, const char *name, const char *value) JANEE_WUR;
void oauth_form_free(struct oauth_form *f);

/*
 * client_secret_basic (RFC 6749 section 2.3.1): client_id and secret, each
 * form-urlencoded first, as req's HTTP Basic user and password.  *user
 * and *pass (the caller frees them) hold what req points to.
 */
int oauth_basic_auth(const char *client_id, const struct janee_secret *secret,
    struct janee_http_req *req, char **user,
    struct janee_secret **pass) JANEE_WUR;

/*
 * POST form to a token endpoint with the client's authentication and
 * parse the answer.  An OAuth error (also one sent with HTTP 200, as
 * GitHub does) is JANEE_ERR_PROVIDER with err->code set.
 */
int oauth_token_request(const struct oauth_client *c, const char *url,
    struct oauth_form *f, struct oauth_token *out,
    struct oauth_error *err) JANEE_WUR;

/* Parse a token endpoint's answer as oauth_token_request does (fuzzing). */
int oauth_parse_token_answer(const struct oauth_client *c,
    const struct janee_http_resp *r, struct oauth_token *out,
    struct oauth_error *err) JANEE_WUR;

int oauth_refresh(const struct oauth_client *c, const char *url,
    const struct janee_secret *refresh_token, const char *scope,
    struct oauth_token *out, struct oauth_error *err) JANEE_WUR;
int oauth_client_credentials(const struct oauth_client *c, const char *url,
    const char *scope, struct oauth_token *out,
    struct oauth_error *err) JANEE_WUR;
int oauth_token_exchange(const struct oauth_client *c, const char *url,
    const struct janee_secret *subject, const char *subject_type,
    const char *scope, const char *audience, const char *resource,
    struct oauth_token *out, struct oauth_error *err) JANEE_WUR;

/* RFC 7009; "" or NULL hint sends none.  503 + Retry-After is retried. */
int oauth_revoke(const struct oauth_client *c, const char *url,
    const struct janee_secret *token, const char *hint) JANEE_WUR;

/*
 * RFC 7662: whether the server still considers token active; hint
 * ("access_token", "refresh_token"; section 2.1) may be NULL.
 */
int oauth_introspect(const struct oauth_client *c, const char *url,
    const struct janee_secret *token, const char *hint, int *active) JANEE_WUR;

struct oauth_device {
	struct janee_secret *device_code;
	char *user_code;
	char *verification_uri;
	char *verification_uri_complete; /* NULL when not sent */
	int64_t expires_in;
	int64_t interval; /* 5 when not sent */
};
void oauth_device_free(struct oauth_device *d);

int oauth_device_start(const struct oauth_client *c, const char *url,
    const char *scope, struct oauth_device *out) JANEE_WUR;

/* Parse a device authorization answer as oauth_device_start does (fuzzing). */
int oauth_parse_device_answer(const struct oauth_client *c,
    const struct janee_http_resp *r, struct oauth_device *out) JANEE_WUR;

/*
 * Poll the token endpoint until the person approves, denies, or the code
 * expires.  waiting(arg) is called about every 100 ms while waiting; a
 * non-zero return cancels (JANEE_ERR_USAGE "cancelled").  slow_down adds
 * 5 s to this and every later interval; network failures back off.
 * Polling stops at the first success.
 */
int oauth_device_poll(const struct oauth_client *c, const char *url,
    const struct oauth_device *d, int (*waiting)(void *arg), void *arg,
    struct oauth_token *out) JANEE_WUR;

/* Scopes joined by spaces, as OAuth wants them; caller frees. */
char *oauth_scope_join(const struct janee_strlist *l);

/*
 * Tokens minted from a login, kept in the sealed login itself when a mint
 * writes it anyway (a rotated refresh token): if janee dies before the
 * ledger records the token, the provider's reconcile() finds it there by
 * the lease id and can revoke it.  The login JSON object root holds them
 * as "minted": [{"lease", "access_token", "expires_at" (ms, 0 unknown)}].
 *
 * oauth_minted_prune drops the tokens of leases no longer minting (the
 * ledger has them, or they were reconciled: ctx->lease_minting) and the
 * expired ones, keeping at most OAUTH_MINTED_MAX (the oldest go first; a
 * lease whose token is dropped so is orphaned when reconciled, never
 * forgotten).  oauth_minted_add prunes, then adds token for lease_id.
 * oauth_minted_find copies the token kept for lease_id into *token
 * (caller frees) and its expiry into *expires_ms; JANEE_ERR_NOT_FOUND
 * (no message) when none is kept.
 */
#define OAUTH_MINTED_MAX 64
/* Store the login JSON root through ctx->cred_put, the text wiped after. */
int oauth_login_put(struct janee_ctx *ctx, const struct cJSON *root,
    const char *account) JANEE_WUR;
struct cJSON;
void oauth_minted_prune(struct janee_ctx *ctx, struct cJSON *root);
int oauth_minted_add(struct janee_ctx *ctx, struct cJSON *root,
    const char *lease_id, const struct janee_secret *token,
    int64_t expires_ms) JANEE_WUR;
int oauth_minted_find(const struct cJSON *root, const char *lease_id,
    struct janee_secret **token, int64_t *expires_ms) JANEE_WUR;

#endif
