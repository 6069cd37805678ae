/* Signed JWTs with libjwt (jwt.h). */
#include "common.h"

#include <jwt.h>

#include "json-check.h"
#include "jwt.h"
#include "util.h"

static const char *const alg_names[] = {
	[JANEE_JWT_RS256] = "RS256",
	[JANEE_JWT_ES256] = "ES256",
};

int
janee_jwt_alg_parse(const char *s)
{
	size_t i;

	for (i = 0; i < nitems(alg_names); i++)
		if (strcmp(s, alg_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
janee_jwt_alg_name(enum janee_jwt_alg alg)
{
	return alg_names[alg];
}

int
janee_jwt_sign(enum janee_jwt_alg alg, const struct janee_secret *pem,
    const char *what, const char *kid, const struct janee_jwt_claim *claims,
    struct janee_secret **out)
{
	const struct janee_jwt_claim *c;
	jwt_t *j = NULL;
	char *s = NULL;
	int rc = 0;

	*out = NULL;
	if (jwt_new(&j) != 0)
		return janee_err_set(JANEE_ERR_NOMEM,
		    "cannot make a JWT (out of memory, or libjwt missing)");
	if (jwt_set_alg(j,
		alg == JANEE_JWT_ES256 ? JWT_ALG_ES256 : JWT_ALG_RS256,
		pem->data, (int)pem->len) != 0 ||
	    (kid != NULL && jwt_add_header(j, "kid", kid) != 0)) {
		rc = janee_err_set(
		    JANEE_ERR_CRYPTO, "cannot build a JWT with %s", what);
		goto out;
	}
	for (c = claims; c->name != NULL; c++)
		if ((c->str != NULL ? jwt_add_grant(j, c->name, c->str)
				    : jwt_add_grant_int(
					  j, c->name, (long)c->num)) != 0) {
			rc = janee_err_set(JANEE_ERR_CRYPTO,
			    "cannot put claim '%s' into a JWT", c->name);
			goto out;
		}
	/* libjwt signs with OpenSSL; NULL when the key does not fit alg. */
	if ((s = jwt_encode_str(j)) == NULL) {
		rc = janee_err_set(JANEE_ERR_CRYPTO,
		    "%s cannot sign a JWT (%s): it must hold %s private key in PEM form",
		    what, alg_names[alg],
		    alg == JANEE_JWT_ES256 ? "an EC P-256" : "an RSA");
		goto out;
	}
	if ((*out = janee_secret_new(s, strlen(s))) == NULL)
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
out:
	if (s != NULL)
		janee_freezero(s, strlen(s));
	jwt_free(j); /* scrubs its copy of the key */
	return rc;
}

int
janee_jwt_client_assertion(enum janee_jwt_alg alg,
    const struct janee_secret *pem, const char *what, const char *kid,
    const char *client_id, const char *audience, int64_t now_s, int64_t life_s,
    struct janee_secret **out)
{
	unsigned char r[16];
	char jti[2 * sizeof(r) + 1];
	struct janee_jwt_claim claims[] = {
		{ "iss", client_id, 0 },
		{ "sub", client_id, 0 },
		{ "aud", audience, 0 },
		{ "jti", jti, 0 },
		{ "iat", NULL, now_s },
		{ "exp", NULL, now_s + life_s },
		{ NULL, NULL, 0 },
	};
	int rc;

	*out = NULL;
	/* RFC 7523 section 3: a jti the server can refuse to see twice. */
	if ((rc = janee_random(r, sizeof(r))) != 0)
		return rc;
	janee_hex(r, sizeof(r), jti);
	return janee_jwt_sign(alg, pem, what, kid, claims, out);
}

/* One base64url part of a token as a JSON object. */
static cJSON *
json_part(const char *p, size_t n)
{
	unsigned char buf[JANEE_JWT_MAX];
	char part[JANEE_JWT_MAX];
	size_t len;
	cJSON *o;

	if (n == 0 || n >= sizeof(part))
		return NULL;
	memcpy(part, p, n);
	part[n] = '\0';
	if (janee_unb64url(part, buf, sizeof(buf), &len) != 0)
		return NULL;
	o = cJSON_ParseWithLength((const char *)buf, len);
	janee_wipe(buf, sizeof(buf));
	if (o != NULL && !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

int
janee_jwt_peek(const char *token, cJSON **header, cJSON **claims)
{
	const char *d1, *d2;
	size_t n = strnlen(token, JANEE_JWT_MAX + 1);

	*header = *claims = NULL;
	if (n > JANEE_JWT_MAX)
		return janee_err_set(JANEE_ERR_INVALID,
		    "the token is longer than %d bytes; refused",
		    JANEE_JWT_MAX);
	/* Compact form: exactly three parts (RFC 7515 section 7.1). */
	if ((d1 = strchr(token, '.')) == NULL ||
	    (d2 = strchr(d1 + 1, '.')) == NULL || strchr(d2 + 1, '.') != NULL)
		return janee_err_set(JANEE_ERR_INVALID,
		    "the token is not a JWT (three dot-separated parts)");
	if ((*header = json_part(token, (size_t)(d1 - token))) == NULL ||
	    (*claims = json_part(d1 + 1, (size_t)(d2 - d1 - 1))) == NULL) {
		cJSON_Delete(*header);
		*header = NULL;
		return janee_err_set(JANEE_ERR_INVALID,
		    "the token is not a JWT (its header or claims are not base64url JSON objects)");
	}
	/*
	 * A member twice is refused: cJSON reads the first, libjwt's
	 * jansson the last, so {"alg":"ES256","alg":"HS256"} would pass
	 * janee's algorithm check and be verified by libjwt as HS256 keyed
	 * with the public key's PEM (RFC 7515 section 4 allows refusing).
	 */
	if (json_check_duplicates(*header, NULL, 0) != JSON_CHECK_OK ||
	    json_check_duplicates(*claims, NULL, 0) != JSON_CHECK_OK) {
		cJSON_Delete(*header);
		cJSON_Delete(*claims);
		*header = *claims = NULL;
		janee_err_clear();
		return janee_err_set(JANEE_ERR_INVALID,
		    "the token's header or claims name a member twice; refused");
	}
	return 0;
}

int
janee_jwt_verify(
    const char *token, enum janee_jwt_alg alg, const char *pem, cJSON **claims)
{
	cJSON *header = NULL, *peeked = NULL;
	const cJSON *a;
	jwt_t *j = NULL;
	char *json = NULL;
	int rc;

	*claims = NULL;
	if ((rc = janee_jwt_peek(token, &header, &peeked)) != 0)
		return rc;
	cJSON_Delete(peeked);
	/*
	 * The algorithm is the key's, never the token's choice (RFC 8725
	 * section 3.1): a token naming another is refused unread.
	 */
	a = cJSON_GetObjectItemCaseSensitive(header, "alg");
	if (!cJSON_IsString(a) || strcmp(a->valuestring, alg_names[alg]) != 0) {
		rc = janee_err_set(JANEE_ERR_CRYPTO,
		    "the token's algorithm is not %s, the only one its key allows",
		    alg_names[alg]);
		cJSON_Delete(header);
		return rc;
	}
	cJSON_Delete(header);
	if (jwt_decode(
		&j, token, (const unsigned char *)pem, (int)strlen(pem)) != 0 ||
	    j == NULL)
		return janee_err_set(
		    JANEE_ERR_CRYPTO, "the token's signature does not verify");
	/* And the algorithm libjwt verified with is the key's, whatever
	 * header text got it there. */
	if (jwt_get_alg(j) !=
	    (alg == JANEE_JWT_ES256 ? JWT_ALG_ES256 : JWT_ALG_RS256)) {
		jwt_free(j);
		return janee_err_set(JANEE_ERR_CRYPTO,
		    "the token's algorithm is not %s, the only one its key allows",
		    alg_names[alg]);
	}
	if ((json = jwt_get_grants_json(j, NULL)) == NULL ||
	    (*claims = cJSON_Parse(json)) == NULL || !cJSON_IsObject(*claims)) {
		cJSON_Delete(*claims);
		*claims = NULL;
		rc = janee_err_set(JANEE_ERR_CRYPTO,
		    "the token's claims are not a JSON object");
	}
	free(json);
	jwt_free(j);
	return rc;
}
