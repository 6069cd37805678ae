/* An external issuer for team mode (team-issuer.h). */
#include "common.h"

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "janee/http.h"
#include "jwt.h"
#include "team-auth.h"
#include "team-issuer.h"
#include "util.h"

/* More keys than an issuer publishes at once (a rollover: two or three). */
#define MAX_KEYS 16

struct issuer_key {
	char *kid; /* may be NULL: the JWKS's only key */
	enum janee_jwt_alg alg;
	char *pem;
};

struct team_issuer {
	char *issuer;
	char *audience;
	char *jwks_uri; /* from the metadata, on first need */
	struct janee_http *http;
	struct issuer_key keys[MAX_KEYS];
	size_t nkeys;
	int64_t fetched_s; /* when the keys were fetched; 0: never */
	int64_t failed_s; /* when a fetch last failed; 0: none since */
	char failed[300]; /* and why */
	char why[200];
};

int
team_issuer_open(
    const char *issuer, const char *audience, struct team_issuer **out)
{
	struct team_issuer *ti;

	*out = NULL;
	if (janee_http_url_ok(issuer, "the token issuer (auth.issuer)") != 0)
		return JANEE_ERR_CONFIG;
	if ((ti = calloc(1, sizeof(*ti))) == NULL ||
	    (ti->issuer = janee_strdup(issuer)) == NULL ||
	    (ti->audience = janee_strdup(audience)) == NULL) {
		team_issuer_free(ti);
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	*out = ti;
	return 0;
}

static void
keys_free(struct team_issuer *ti)
{
	size_t i;

	for (i = 0; i < ti->nkeys; i++) {
		free(ti->keys[i].kid);
		free(ti->keys[i].pem);
	}
	ti->nkeys = 0;
}

void
team_issuer_free(struct team_issuer *ti)
{
	if (ti == NULL)
		return;
	keys_free(ti);
	free(ti->issuer);
	free(ti->audience);
	free(ti->jwks_uri);
	janee_http_free(ti->http);
	free(ti);
}

/* GET url as JSON (an object); *out the caller's. */
static int
get_json(struct team_issuer *ti, const char *url, const char *what, cJSON **out)
{
	struct janee_http_req req = { .method = "GET",
		.url = url,
		.what = what,
		.max_body = 256 * 1024 };
	struct janee_http_resp resp;
	int rc;

	*out = NULL;
	memset(&resp, 0, sizeof(resp));
	if (ti->http == NULL && (ti->http = janee_http_new()) == NULL)
		return JANEE_ERR_NOMEM;
	if ((rc = janee_http_do(ti->http, &req, &resp)) != 0)
		return rc;
	if (resp.status != 200)
		rc = janee_err_set(JANEE_ERR_NETWORK,
		    "%s answered HTTP %ld; check auth.issuer", what,
		    resp.status);
	else if ((*out = cJSON_ParseWithLength(resp.body, resp.len)) == NULL ||
	    !cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "%s did not answer with a JSON object", what);
	}
	janee_http_resp_free(&resp);
	return rc;
}

/*
 * The issuer's metadata: RFC 8414 section 3 (the well-known part before
 * the issuer's path), else OpenID Connect Discovery 1.0 section 4 (after
 * it).  Its "issuer" must be the one configured (RFC 8414 section 3.3).
 */
static int
discover(struct team_issuer *ti)
{
	const char *a = strstr(ti->issuer, "://"), *path, *iss, *jwks;
	char *urls[2] = { NULL, NULL };
	cJSON *md = NULL;
	size_t plen;
	int rc = 0, i;

	path = strchr(a + 3, '/');
	if (path == NULL)
		path = ti->issuer + strlen(ti->issuer);
	plen = strlen(path);
	if (plen > 0 && path[plen - 1] == '/')
		plen--;
	urls[0] =
	    janee_asprintf("%.*s/.well-known/oauth-authorization-server%.*s",
		(int)(path - ti->issuer), ti->issuer, (int)plen, path);
	urls[1] = janee_asprintf("%.*s/.well-known/openid-configuration",
	    (int)(path - ti->issuer + plen), ti->issuer);
	if (urls[0] == NULL || urls[1] == NULL) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < 2; i++) {
		if ((rc = get_json(
			 ti, urls[i], "the token issuer's metadata", &md)) == 0)
			break;
		if (i == 0)
			janee_err_clear();
	}
	if (rc != 0)
		goto out;
	iss = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(md, "issuer"));
	jwks = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(md, "jwks_uri"));
	if (iss == NULL || strcmp(iss, ti->issuer) != 0)
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "the token issuer's metadata names another issuer ('%s', not '%s'); refused (RFC 8414 section 3.3)",
		    iss ? iss : "none", ti->issuer);
	else if (jwks == NULL ||
	    janee_http_url_ok(jwks, "the token issuer's jwks_uri") != 0)
		rc = jwks == NULL
		    ? janee_err_set(JANEE_ERR_PROVIDER,
			  "the token issuer's metadata has no jwks_uri")
		    : JANEE_ERR_PROVIDER;
	else if ((ti->jwks_uri = janee_strdup(jwks)) == NULL)
		rc = JANEE_ERR_NOMEM;
out:
	cJSON_Delete(md);
	free(urls[0]);
	free(urls[1]);
	return rc;
}

/* A base64url member of a JWK as a big number. */
static BIGNUM *
jwk_bn(const cJSON *k, const char *name)
{
	const char *s =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, name));
	unsigned char buf[1024];
	size_t n;

	if (s == NULL || janee_unb64url(s, buf, sizeof(buf), &n) != 0 || n == 0)
		return NULL;
	return BN_bin2bn(buf, (int)n, NULL);
}

/* An EC point "04 || x || y" from a JWK's x and y (32 bytes each). */
static int
jwk_point(const cJSON *k, unsigned char pt[65])
{
	const char *c[2] = {
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "x")),
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "y")),
	};
	unsigned char buf[48]; /* what base64 of 32 bytes may decode to */
	size_t n;
	int i;

	pt[0] = 0x04;
	for (i = 0; i < 2; i++) {
		if (c[i] == NULL ||
		    janee_unb64url(c[i], buf, sizeof(buf), &n) != 0 || n != 32)
			return -1;
		memcpy(pt + 1 + 32 * i, buf, 32);
	}
	return 0;
}

/*
 * One JWK (RFC 7517, RFC 7518 section 6) as a PEM public key, with
 * OpenSSL: RSA (n, e; 2048 bits or more) for RS256, EC P-256 (x, y) for
 * ES256.  Keys for encryption, or of another kind, are skipped (1).
 */
static int
jwk_to_key(const cJSON *k, struct issuer_key *out)
{
	const char *kty =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "kty"));
	const char *use =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "use"));
	const char *alg =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "alg"));
	const char *kid =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "kid"));
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *n = NULL, *e = NULL;
	unsigned char pt[65];
	BIO *b = NULL;
	char *p;
	long len;
	int rc = 1, rsa;

	memset(out, 0, sizeof(*out));
	if (kty == NULL || (use != NULL && strcmp(use, "sig") != 0))
		return 1;
	rsa = strcmp(kty, "RSA") == 0;
	if (!rsa && strcmp(kty, "EC") != 0)
		return 1;
	out->alg = rsa ? JANEE_JWT_RS256 : JANEE_JWT_ES256;
	/* The key's alg, when it names one, must be the one janee allows
	 * for its kind: never "none", never HS*. */
	if (alg != NULL && strcmp(alg, janee_jwt_alg_name(out->alg)) != 0)
		return 1;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		goto nomem;
	if (rsa) {
		if ((n = jwk_bn(k, "n")) == NULL ||
		    (e = jwk_bn(k, "e")) == NULL || BN_num_bits(n) < 2048)
			goto skip;
		if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
			goto nomem;
	} else {
		const char *crv = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(k, "crv"));

		if (crv == NULL || strcmp(crv, "P-256") != 0 ||
		    jwk_point(k, pt) != 0)
			goto skip;
		if (!OSSL_PARAM_BLD_push_utf8_string(
			bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(
			bld, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)))
			goto nomem;
	}
	/* fromdata checks an EC point is on the curve. */
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(
		 NULL, rsa ? "RSA" : "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto skip;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PUBKEY(b, pk) != 1 ||
	    (len = BIO_get_mem_data(b, &p)) <= 0 ||
	    (out->pem = malloc((size_t)len + 1)) == NULL)
		goto nomem;
	memcpy(out->pem, p, (size_t)len);
	out->pem[len] = '\0';
	if (kid != NULL && (out->kid = janee_strdup(kid)) == NULL)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
skip:
	free(out->pem);
	out->pem = NULL;
out:
	BIO_free(b);
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return rc;
}

/* Fetch the JWKS (RFC 7517 section 5) and keep the keys janee can use. */
static int
fetch_keys(struct team_issuer *ti, int64_t now)
{
	const cJSON *keys, *k;
	cJSON *jwks = NULL;
	int rc;

	if (ti->jwks_uri == NULL && (rc = discover(ti)) != 0)
		return rc;
	if ((rc = get_json(
		 ti, ti->jwks_uri, "the token issuer's JWKS", &jwks)) != 0)
		return rc;
	keys = cJSON_GetObjectItemCaseSensitive(jwks, "keys");
	if (!cJSON_IsArray(keys)) {
		cJSON_Delete(jwks);
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "the token issuer's JWKS has no \"keys\" array");
	}
	keys_free(ti);
	cJSON_ArrayForEach(k, keys)
	{
		if (ti->nkeys == MAX_KEYS)
			break;
		if ((rc = jwk_to_key(k, &ti->keys[ti->nkeys])) < 0)
			break;
		if (rc == 0)
			ti->nkeys++;
		rc = 0;
	}
	cJSON_Delete(jwks);
	ti->fetched_s = now;
	return rc;
}

/* The key the token's kid names (no kid: the only key), or NULL. */
static const struct issuer_key *
find_key(const struct team_issuer *ti, const char *kid)
{
	size_t i;

	if (kid == NULL)
		return ti->nkeys == 1 ? &ti->keys[0] : NULL;
	for (i = 0; i < ti->nkeys; i++)
		if (ti->keys[i].kid != NULL &&
		    strcmp(ti->keys[i].kid, kid) == 0)
			return &ti->keys[i];
	return NULL;
}

int
team_issuer_verify(struct team_issuer *ti, const char *token, int64_t now,
    char **agent, const char **why)
{
	const struct issuer_key *key;
	cJSON *hdr = NULL, *claims = NULL;
	const char *kid, *iss, *sub;
	int rc;

	*agent = NULL;
	if (janee_jwt_peek(token, &hdr, &claims) != 0) {
		snprintf(ti->why, sizeof(ti->why), "%s",
		    janee_err_msg(JANEE_ERR_INVALID));
		janee_err_clear();
		*why = ti->why;
		return -1;
	}
	cJSON_Delete(claims);
	claims = NULL;
	kid =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hdr, "kid"));
	/* Keys too old, or a kid not seen (the issuer rolled its keys):
	 * fetch again, but not more often than TEAM_JWKS_MIN_REFETCH_S. */
	key = find_key(ti, kid);
	if (ti->fetched_s == 0 || now - ti->fetched_s >= TEAM_JWKS_TTL_S ||
	    (key == NULL && now - ti->fetched_s >= TEAM_JWKS_MIN_REFETCH_S)) {
		/*
		 * A fetch blocks janee's one loop (up to the HTTP timeout):
		 * after a failure, requests are refused with its reason
		 * without asking again for TEAM_JWKS_MIN_REFETCH_S, so that
		 * an issuer that is down cannot be made to stall every
		 * session by anyone sending tokens.
		 */
		if (ti->failed_s != 0 &&
		    now - ti->failed_s < TEAM_JWKS_MIN_REFETCH_S) {
			cJSON_Delete(hdr);
			return janee_err_set(JANEE_ERR_PROVIDER,
			    "%s (janee asks the issuer again at most every %d s)",
			    ti->failed, TEAM_JWKS_MIN_REFETCH_S);
		}
		if ((rc = fetch_keys(ti, now)) != 0) {
			ti->failed_s = now;
			snprintf(ti->failed, sizeof(ti->failed), "%s",
			    janee_err_msg(rc));
			cJSON_Delete(hdr);
			return rc;
		}
		ti->failed_s = 0;
		key = find_key(ti, kid);
	}
	if (key == NULL) {
		cJSON_Delete(hdr);
		*why = "no key of the issuer's JWKS has the token's kid";
		return -1;
	}
	cJSON_Delete(hdr);
	if (janee_jwt_verify(token, key->alg, key->pem, &claims) != 0) {
		snprintf(ti->why, sizeof(ti->why), "%s",
		    janee_err_msg(JANEE_ERR_CRYPTO));
		janee_err_clear();
		*why = ti->why;
		return -1;
	}
	rc = -1;
	iss = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(claims, "iss"));
	sub = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(claims, "sub"));
	if (iss == NULL || strcmp(iss, ti->issuer) != 0)
		*why = "the token is from another issuer";
	else if (!team_claims_aud_has(claims, ti->audience))
		*why = "the token is for another audience";
	else if (team_claims_times(claims, now, 0, why) != 0)
		;
	else if (sub == NULL || !janee_name_valid(sub))
		*why =
		    "the token's sub is not an agent name (1-64 lowercase letters, digits, '-' or '_')";
	else
		rc = (*agent = janee_strdup(sub)) ? 0 : JANEE_ERR_NOMEM;
	cJSON_Delete(claims);
	return rc;
}
