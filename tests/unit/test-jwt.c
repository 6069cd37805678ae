/*
 * Unit tests: signed JWTs (src/jwt.h).  Keys are made here with OpenSSL;
 * each token is taken apart and its signature verified with OpenSSL, not
 * with libjwt that made it: RS256 (PKCS #1 v1.5) and ES256 (the JWS form
 * of ECDSA, r || s, RFC 7518 section 3.4), the header, the claims of an
 * RFC 7523 client assertion, and keys that do not fit.
 */
#include "common.h"

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "json.h"
#include "jwt.h"
#include "util.h"

#include "t.h"

/* A fresh private key ("RSA" or "EC") as PEM, and the key itself. */
static struct janee_secret *
make_key(const char *type, EVP_PKEY **pk)
{
	struct janee_secret *s = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	*pk = strcmp(type, "RSA") == 0
	    ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
	    : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (*pk != NULL && b != NULL &&
	    PEM_write_bio_PrivateKey(b, *pk, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(b, &p)) > 0)
		s = janee_secret_new(p, (size_t)n);
	BIO_free(b);
	return s;
}

struct parts {
	cJSON *header, *claims;
	unsigned char sig[512];
	size_t siglen;
	char *signed_part; /* "header.payload" */
};

static void
parts_free(struct parts *p)
{
	cJSON_Delete(p->header);
	cJSON_Delete(p->claims);
	free(p->signed_part);
	memset(p, 0, sizeof(*p));
}

static cJSON *
json_part(const char *s, size_t n)
{
	unsigned char buf[2048];
	char tmp[2800];
	size_t len = 0;

	if (n >= sizeof(tmp))
		return NULL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (janee_unb64url(tmp, buf, sizeof(buf) - 1, &len) != 0)
		return NULL;
	return cJSON_ParseWithLength((const char *)buf, len);
}

static int
split(const struct janee_secret *tok, struct parts *p)
{
	const char *t = (const char *)tok->data, *d1, *d2;

	memset(p, 0, sizeof(*p));
	if ((d1 = strchr(t, '.')) == NULL || (d2 = strchr(d1 + 1, '.')) == NULL)
		return -1;
	p->header = json_part(t, (size_t)(d1 - t));
	p->claims = json_part(d1 + 1, (size_t)(d2 - d1 - 1));
	p->signed_part = janee_asprintf("%.*s", (int)(d2 - t), t);
	if (p->header == NULL || p->claims == NULL ||
	    janee_unb64url(d2 + 1, p->sig, sizeof(p->sig), &p->siglen) != 0)
		return -1;
	return 0;
}

/* Verify with OpenSSL; ES256's r || s goes to DER first. */
static int
verify(EVP_PKEY *pk, const struct parts *p, int es256)
{
	unsigned char der[128], *q = der;
	const unsigned char *sig = p->sig;
	size_t siglen = p->siglen;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *es = NULL;
	int ok, n;

	if (es256) {
		if (p->siglen != 64 || (es = ECDSA_SIG_new()) == NULL ||
		    ECDSA_SIG_set0(es, BN_bin2bn(p->sig, 32, NULL),
			BN_bin2bn(p->sig + 32, 32, NULL)) != 1 ||
		    (n = i2d_ECDSA_SIG(es, &q)) <= 0) {
			ECDSA_SIG_free(es);
			EVP_MD_CTX_free(md);
			return 0;
		}
		sig = der;
		siglen = (size_t)n;
	}
	ok = md != NULL &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestVerify(md, sig, siglen,
		(const unsigned char *)p->signed_part,
		strlen(p->signed_part)) == 1;
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return ok;
}

static void
rs256_token_verifies_with_its_claims(void)
{
	struct janee_jwt_claim claims[] = { { "iss", "Iv1.abc", 0 },
		{ "iat", NULL, 1700000000 }, { "exp", NULL, 1700000540 },
		{ NULL, NULL, 0 } };
	struct janee_secret *pem, *tok = NULL;
	struct parts p;
	EVP_PKEY *pk;

	T_ASSERT((pem = make_key("RSA", &pk)) != NULL);
	T_EQ_INT(janee_jwt_sign(
		     JANEE_JWT_RS256, pem, "test key", NULL, claims, &tok),
	    0);
	T_ASSERT(tok != NULL && split(tok, &p) == 0);
	T_EQ_STR(json_str(p.header, "alg"), "RS256");
	T_ASSERT(cJSON_GetObjectItem(p.header, "kid") == NULL);
	T_EQ_STR(json_str(p.claims, "iss"), "Iv1.abc");
	T_EQ_INT(cJSON_GetObjectItem(p.claims, "exp")->valuedouble, 1700000540);
	T_ASSERT(verify(pk, &p, 0));
	/* One byte changed: it no longer verifies. */
	p.signed_part[strlen(p.signed_part) - 1] ^= 1;
	T_ASSERT(!verify(pk, &p, 0));
	parts_free(&p);
	janee_secret_free(tok);
	janee_secret_free(pem);
	EVP_PKEY_free(pk);
}

static void
es256_client_assertion_has_rfc7523_claims(void)
{
	struct janee_secret *pem, *tok = NULL, *tok2 = NULL;
	struct parts p, p2;
	EVP_PKEY *pk;

	T_ASSERT((pem = make_key("EC", &pk)) != NULL);
	T_EQ_INT(janee_jwt_client_assertion(JANEE_JWT_ES256, pem, "test key",
		     "key-1", "client-7", "https://as.example/token",
		     1700000000, 60, &tok),
	    0);
	T_EQ_INT(
	    janee_jwt_client_assertion(JANEE_JWT_ES256, pem, "test key", NULL,
		"client-7", "https://as.example/token", 1700000000, 60, &tok2),
	    0);
	T_ASSERT(tok != NULL && split(tok, &p) == 0);
	T_ASSERT(tok2 != NULL && split(tok2, &p2) == 0);
	T_EQ_STR(json_str(p.header, "alg"), "ES256");
	T_EQ_STR(json_str(p.header, "kid"), "key-1");
	T_EQ_STR(json_str(p.claims, "iss"), "client-7");
	T_EQ_STR(json_str(p.claims, "sub"), "client-7");
	T_EQ_STR(json_str(p.claims, "aud"), "https://as.example/token");
	T_EQ_INT(cJSON_GetObjectItem(p.claims, "iat")->valuedouble, 1700000000);
	T_EQ_INT(cJSON_GetObjectItem(p.claims, "exp")->valuedouble, 1700000060);
	/* A jti of 128 random bits, another one for each assertion. */
	T_ASSERT(json_str(p.claims, "jti") != NULL &&
	    strlen(json_str(p.claims, "jti")) == 32);
	T_ASSERT(json_str(p2.claims, "jti") != NULL &&
	    strcmp(json_str(p.claims, "jti"), json_str(p2.claims, "jti")) != 0);
	T_EQ_INT(p.siglen, 64);
	T_ASSERT(verify(pk, &p, 1));
	T_ASSERT(verify(pk, &p2, 1));
	parts_free(&p);
	parts_free(&p2);
	janee_secret_free(tok);
	janee_secret_free(tok2);
	janee_secret_free(pem);
	EVP_PKEY_free(pk);
}

static void
a_key_that_does_not_fit_is_refused_by_name(void)
{
	struct janee_jwt_claim claims[] = { { "iss", "x", 0 },
		{ NULL, NULL, 0 } };
	struct janee_secret *rsa, *junk, *tok = NULL;
	EVP_PKEY *pk;
	int rc;

	T_ASSERT((rsa = make_key("RSA", &pk)) != NULL);
	junk = janee_secret_new("not a key", 9);
	janee_err_clear();
	rc = janee_jwt_sign(
	    JANEE_JWT_ES256, rsa, "key 'secret:k'", NULL, claims, &tok);
	T_EQ_INT(rc, JANEE_ERR_CRYPTO);
	T_ASSERT(tok == NULL);
	T_ASSERT(strstr(janee_err_msg(rc), "key 'secret:k'") != NULL);
	T_ASSERT(strstr(janee_err_msg(rc), "EC P-256") != NULL);
	janee_err_clear();
	rc = janee_jwt_sign(
	    JANEE_JWT_RS256, junk, "key 'secret:j'", NULL, claims, &tok);
	T_EQ_INT(rc, JANEE_ERR_CRYPTO);
	T_ASSERT(tok == NULL);
	/* The message never quotes the key. */
	T_ASSERT(strstr(janee_err_msg(rc), "not a key") == NULL);
	janee_err_clear();
	T_EQ_INT(janee_jwt_alg_parse("ES256"), JANEE_JWT_ES256);
	T_EQ_INT(janee_jwt_alg_parse("HS256"), -1);
	janee_secret_free(rsa);
	janee_secret_free(junk);
	EVP_PKEY_free(pk);
}

int
main(void)
{
	T_RUN(rs256_token_verifies_with_its_claims);
	T_RUN(es256_client_assertion_has_rfc7523_claims);
	T_RUN(a_key_that_does_not_fit_is_refused_by_name);
	return t_done();
}
