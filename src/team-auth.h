/*
 * Team mode's authorization (docs/TEAM.md, docs/SECURITY.md): janee as
 * an OAuth 2.0 protected resource for agents that reach it over HTTP
 * (the MCP authorization spec, 2025-11-25).  No HTTP server here: the
 * transport (src/http-auth.h) calls these functions.
 *
 *   - the protected resource metadata (RFC 9728) and the 401's
 *     WWW-Authenticate value pointing at it (RFC 9728 section 5.1);
 *   - verifying an "Authorization: Bearer" token (RFC 6750): its
 *     signature, issuer, audience (janee's resource URL, RFC 8707) and
 *     times, within TEAM_SKEW_S of clock skew; the verified agent's
 *     name, or the challenge to answer with;
 *   - janee's own token endpoint for the agents of the registry
 *     (src/team-agents.h): the client_credentials grant with a
 *     private_key_jwt client assertion (RFC 7523 section 2.2 and 3,
 *     RFC 7521 section 4.2), each assertion accepted once; the access
 *     tokens are short-lived ES256 JWTs signed with a key janee keeps
 *     sealed in its store;
 *   - or an external issuer ("auth": {"issuer": ...}), whose tokens are
 *     verified against its JWKS (src/team-issuer.c).
 */
#ifndef JANEE_TEAM_AUTH_H
#define JANEE_TEAM_AUTH_H

#include "common.h"

#include <cjson/cJSON.h>

#include "config.h"
#include "ledger.h"
#include "store.h"

/* The clock skew allowed on exp, nbf and iat. */
#define TEAM_SKEW_S 60
/* The longest a client assertion may live (its exp - now). */
#define TEAM_ASSERTION_MAX_S 300
/* The life of an access token janee issues, unless auth.token_ttl. */
#define TEAM_TOKEN_TTL_S 600

/* What RFC 7521 section 4.2 names the assertion type. */
#define TEAM_ASSERTION_TYPE \
	"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
/* Where janee's token endpoint is, below the resource's origin. */
#define TEAM_TOKEN_PATH "/oauth/token"

struct team_auth;

/*
 * Open team mode on the ledger: resource is janee's resource URL (the
 * MCP endpoint, e.g. https://janee.example/mcp), or NULL for the
 * config's auth.resource; https, or http on a loopback address only.
 * Without an external issuer, janee's signing key is unsealed from s
 * (made and sealed on first use), so s must be unlocked.  lg, s and cfg
 * must outlive *out.
 */
int team_auth_open(struct ledger *lg, struct store *s, const struct config *cfg,
    const char *resource, struct team_auth **out) JANEE_WUR;
void team_auth_free(struct team_auth *ta);

/* For tests: the clock janee reads is now + offset_s. */
void team_auth_set_clock(struct team_auth *ta, int64_t offset_s);

/* The metadata document's URL (RFC 9728 section 3.1), for the 401. */
const char *team_auth_metadata_url(const struct team_auth *ta);

/* The metadata document as JSON; *json is the caller's. */
int team_auth_metadata(const struct team_auth *ta, char **json) JANEE_WUR;

/*
 * The WWW-Authenticate value of a 401 (RFC 6750 section 3, RFC 9728
 * section 5.1): resource_metadata, and error="invalid_token" with a
 * description when error is not NULL.  *out is the caller's.
 */
int team_auth_challenge(const struct team_auth *ta, const char *error,
    const char *description, char **out) JANEE_WUR;

/*
 * The transport's two hooks (struct http_auth in src/http-auth.h), arg
 * being the struct team_auth:
 *
 * team_auth_check: authorization is the Authorization header or NULL.
 * 0 and *agent (free) the verified agent's name; else non-zero (the
 * transport answers 401) and *www_authenticate (free) the challenge.
 *
 * team_auth_route: 1 when path is janee's to answer (the metadata
 * documents, the token endpoint), with *status, *content_type_out and
 * *body_out (free) set; 0 when it is not (nothing set).  Token endpoint
 * answers must go out with "Cache-Control: no-store" (RFC 6749 section
 * 5.1): the transport adds it to every answer of this hook.
 */
int team_auth_check(void *arg, const char *authorization, char **agent,
    char **www_authenticate);
int team_auth_route(void *arg, const char *method, const char *path,
    const char *content_type, const char *body, size_t len, int *status,
    char **content_type_out, char **body_out);

/*
 * The token endpoint itself: an application/x-www-form-urlencoded body
 * in, *status and the JSON answer of RFC 6749 section 5.1 or 5.2 out.
 */
int team_auth_token(struct team_auth *ta, const char *body, size_t len,
    int *status, char **json) JANEE_WUR;

/*
 * For src/team-issuer.c: the times of verified claims at now (s): exp
 * required, not past; not beyond now + max_life_s when max_life_s > 0;
 * nbf and iat, when present, not ahead; each within TEAM_SKEW_S.  0,
 * or -1 with *why.
 */
int team_claims_times(
    const cJSON *claims, int64_t now, int64_t max_life_s, const char **why);
/* Whether the claims' "aud" (a string or an array) holds want. */
int team_claims_aud_has(const cJSON *claims, const char *want);

#endif
