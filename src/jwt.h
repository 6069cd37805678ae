/*
 * Signed JWTs (RFC 7519, JWS compact form) with libjwt, which signs with
 * OpenSSL: the GitHub App JWT and RFC 7523 client assertions
 * (private_key_jwt).  libjwt is opened on first use (src/jwt-lazy.c).
 * The private key is in memory only while signing; libjwt scrubs its
 * copy when the token is freed.
 */
#ifndef JANEE_JWT_H
#define JANEE_JWT_H

#include "common.h"

#include <cjson/cJSON.h>

enum janee_jwt_alg {
	JANEE_JWT_RS256, /* RSASSA-PKCS1-v1_5 with SHA-256: an RSA key */
	JANEE_JWT_ES256, /* ECDSA P-256 with SHA-256: an EC key */
};

/* "RS256" -> JANEE_JWT_RS256, ...; -1 when unknown. */
int janee_jwt_alg_parse(const char *s);
const char *janee_jwt_alg_name(enum janee_jwt_alg alg);

/* One claim: a string (str not NULL) or an integer. */
struct janee_jwt_claim {
	const char *name;
	const char *str;
	int64_t num;
};

/*
 * Sign the claims (a NULL-name terminated array) with pem, a private key
 * in PEM form that fits alg; kid (may be NULL) goes into the header.
 * *out (janee_secret_free) is the compact token.  A key that does not
 * fit is JANEE_ERR_CRYPTO with a message that starts with what (the key,
 * e.g. "provider 'gh': the app's private key 'secret:gh-key'") and says
 * what the key must be.
 */
int janee_jwt_sign(enum janee_jwt_alg alg, const struct janee_secret *pem,
    const char *what, const char *kid, const struct janee_jwt_claim *claims,
    struct janee_secret **out) JANEE_WUR;

/*
 * An RFC 7523 client assertion (section 2.2, and 3 for the claims): iss
 * and sub the client_id, aud the token endpoint, a random jti, iat now_s
 * and exp now_s + life_s.
 */
int janee_jwt_client_assertion(enum janee_jwt_alg alg,
    const struct janee_secret *pem, const char *what, const char *kid,
    const char *client_id, const char *audience, int64_t now_s, int64_t life_s,
    struct janee_secret **out) JANEE_WUR;

/* The longest token janee reads: a header line, not a document. */
#define JANEE_JWT_MAX 8192

/*
 * The header and the claims of a compact JWT, NOT verified: only to find
 * which key verifies it (the issuer, the kid).  Both must be JSON
 * objects; the caller frees them (cJSON_Delete).  JANEE_ERR_INVALID
 * ("the token is not a JWT ...") otherwise.
 */
int janee_jwt_peek(const char *token, cJSON **header, cJSON **claims) JANEE_WUR;

/*
 * Verify a compact JWS (RFC 7515) with pem, a public key in PEM form,
 * for the one algorithm alg that the key is registered for.  The
 * header's "alg" is compared with alg before libjwt checks anything, so
 * "none" and HS256 (an HMAC keyed with the public key's text: RFC 8725
 * section 2.1) never reach it.  *claims (cJSON_Delete) is the verified
 * payload; the times and audience are the caller's to check.
 * JANEE_ERR_CRYPTO with a message saying why, never quoting the token.
 */
int janee_jwt_verify(const char *token, enum janee_jwt_alg alg, const char *pem,
    cJSON **claims) JANEE_WUR;

#endif
