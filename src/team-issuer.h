/*
 * An external issuer for team mode ("auth": {"issuer": URL, "audience":
 * ...}): its metadata (RFC 8414, or OpenID Connect discovery) and JWKS
 * (RFC 7517) fetched with libcurl, https only except on loopback, and
 * cached; its keys converted to PEM with OpenSSL for libjwt.  A token
 * is accepted when its signature verifies with the key its kid names,
 * with an algorithm of the allow-list that fits the key (RS256 for RSA,
 * ES256 for EC P-256: never "none", never HS*), its iss is the issuer,
 * its aud has the audience, and its times hold (team_claims_times).
 */
#ifndef JANEE_TEAM_ISSUER_H
#define JANEE_TEAM_ISSUER_H

#include "common.h"

/* How long fetched keys are kept; an unknown kid refetches sooner. */
#define TEAM_JWKS_TTL_S 600
#define TEAM_JWKS_MIN_REFETCH_S 30

struct team_issuer;

int team_issuer_open(const char *issuer, const char *audience,
    struct team_issuer **out) JANEE_WUR;
void team_issuer_free(struct team_issuer *ti);

/*
 * Verify token at now (s): 0 and *agent (free) its sub, or -1 with *why
 * (a token that does not verify), or another JANEE_ERR_* (the issuer
 * cannot be reached: the caller still refuses the token).
 */
int team_issuer_verify(struct team_issuer *ti, const char *token, int64_t now,
    char **agent, const char **why) JANEE_WUR;

#endif
