/* Team mode's registry of remote agents (team-agents.h). */
#include "common.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "audit.h"
#include "team-agents.h"
#include "util.h"

void
team_agent_free(struct team_agent *a)
{
	free(a->name);
	free(a->public_key);
	memset(a, 0, sizeof(*a));
}

/* PEM of pk's SubjectPublicKeyInfo and the base64url SHA-256 of its DER. */
static int
key_export(EVP_PKEY *pk, char **spki, char kid[TEAM_KID_LEN])
{
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	BIO *b = NULL;
	char *p;
	long n;
	int len, rc = 0;

	*spki = NULL;
	if ((len = i2d_PUBKEY(pk, &der)) <= 0 ||
	    EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    janee_b64url(md, mdlen, kid, TEAM_KID_LEN) != 0 ||
	    (b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PUBKEY(b, pk) != 1 ||
	    (n = BIO_get_mem_data(b, &p)) <= 0) {
		rc = janee_err_set(JANEE_ERR_CRYPTO,
		    "cannot encode a public key (OpenSSL failed)");
		goto out;
	}
	if ((*spki = malloc((size_t)n + 1)) == NULL) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*spki, p, (size_t)n);
	(*spki)[n] = '\0';
out:
	OPENSSL_free(der);
	BIO_free(b);
	return rc;
}

/* RS256 for RSA of 2048 bits or more, ES256 for P-256; else refused. */
static int
key_alg(EVP_PKEY *pk, const char *what, enum janee_jwt_alg *alg)
{
	char group[32];
	size_t glen = 0;

	if (EVP_PKEY_is_a(pk, "RSA")) {
		if (EVP_PKEY_get_bits(pk) < 2048)
			return janee_err_set(JANEE_ERR_INVALID,
			    "%s: the RSA key has %d bits; use 2048 or more (or an EC P-256 key)",
			    what, EVP_PKEY_get_bits(pk));
		*alg = JANEE_JWT_RS256;
		return 0;
	}
	if (EVP_PKEY_is_a(pk, "EC") &&
	    EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
		group, sizeof(group), &glen) == 1 &&
	    strcmp(group, "prime256v1") == 0) {
		*alg = JANEE_JWT_ES256;
		return 0;
	}
	return janee_err_set(JANEE_ERR_INVALID,
	    "%s: the key is neither RSA nor EC P-256; make one with: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256",
	    what);
}

int
team_key_import(const char *pem, size_t len, const char *what, char **spki,
    char kid[TEAM_KID_LEN], enum janee_jwt_alg *alg)
{
	EVP_PKEY *pk = NULL;
	BIO *b;
	int rc;

	*spki = NULL;
	/* A private key handed to janee would be a secret it must not keep. */
	if (memmem(pem, len, "PRIVATE KEY", 11) != NULL)
		return janee_err_set(JANEE_ERR_INVALID,
		    "%s holds a private key; give janee the public key only (openssl pkey -in KEY -pubout)",
		    what);
	if (len > 16384 || (b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return janee_err_set(JANEE_ERR_INVALID,
		    "%s is not a public key in PEM form", what);
	pk = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	if (pk == NULL)
		return janee_err_set(JANEE_ERR_INVALID,
		    "%s is not a public key in PEM form (-----BEGIN PUBLIC KEY-----)",
		    what);
	if ((rc = key_alg(pk, what, alg)) == 0)
		rc = key_export(pk, spki, kid);
	EVP_PKEY_free(pk);
	return rc;
}

int
team_key_generate(
    struct janee_secret **priv, char **spki, char kid[TEAM_KID_LEN])
{
	EVP_PKEY *pk;
	BIO *b = NULL;
	char *p;
	long n;
	int rc = 0;

	*priv = NULL;
	*spki = NULL;
	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		return janee_err_set(
		    JANEE_ERR_CRYPTO, "cannot generate an EC P-256 key");
	if ((b = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (n = BIO_get_mem_data(b, &p)) <= 0) {
		rc = janee_err_set(
		    JANEE_ERR_CRYPTO, "cannot encode the new private key");
		goto out;
	}
	if ((*priv = janee_secret_new(p, (size_t)n)) == NULL) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = key_export(pk, spki, kid)) != 0) {
		janee_secret_free(*priv);
		*priv = NULL;
	}
out:
	BIO_free(b); /* a secure-heap BIO: cleared on free */
	EVP_PKEY_free(pk);
	return rc;
}

int
team_key_public(
    const struct janee_secret *priv, char **spki, char kid[TEAM_KID_LEN])
{
	EVP_PKEY *pk = NULL;
	BIO *b;
	int rc;

	*spki = NULL;
	if ((b = BIO_new_mem_buf(priv->data, (int)priv->len)) != NULL)
		pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (pk == NULL)
		return janee_err_set(JANEE_ERR_CRYPTO,
		    "janee's token signing key is damaged; see docs/TEAM.md");
	rc = key_export(pk, spki, kid);
	EVP_PKEY_free(pk);
	return rc;
}

/* One statement and its audit event in one transaction. */
static int
change(struct ledger *lg, const char *sql, const char *name, const char *spki,
    const char *kid, enum janee_jwt_alg alg, const struct audit_event *ev,
    int missing_rc)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = ledger_begin(lg)) != 0)
		return rc;
	if ((rc = ledger_prepare(lg, sql, &st)) != 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (spki != NULL)
		sqlite3_bind_int64(st, 2, janee_now_ms());
	if (spki != NULL) {
		sqlite3_bind_text(st, 3, spki, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, kid, -1, SQLITE_STATIC);
		sqlite3_bind_text(
		    st, 5, janee_jwt_alg_name(alg), -1, SQLITE_STATIC);
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		if ((sqlite3_extended_errcode(lg->db) & 0xff) ==
			SQLITE_CONSTRAINT &&
		    strstr(sqlite3_errmsg(lg->db), "key_id") != NULL)
			rc = janee_err_set(JANEE_ERR_EXISTS,
			    "another agent is registered with this key; each agent needs a key of its own");
		else if ((sqlite3_extended_errcode(lg->db) & 0xff) ==
		    SQLITE_CONSTRAINT)
			rc = janee_err_set(JANEE_ERR_EXISTS,
			    "agent '%s' is already registered; change its key with: janee agent rotate %s",
			    name, name);
		else
			rc =
			    ledger_fail(lg, "cannot change the agent registry");
		goto out;
	}
	if (sqlite3_changes(lg->db) == 0) {
		rc = janee_err_set(missing_rc,
		    "no agent '%s' is registered; see: janee agent list", name);
		goto out;
	}
	if (strcmp(ev->event, "agent_removed") == 0) {
		sqlite3_finalize(st);
		if ((rc = ledger_prepare(lg,
			 "DELETE FROM agent_assertions WHERE agent = ?1",
			 &st)) != 0)
			goto out;
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = ledger_fail(
			    lg, "cannot forget the agent's assertions");
			goto out;
		}
	}
	if ((rc = audit_append(lg, ev)) == 0)
		rc = ledger_commit(lg);
out:
	sqlite3_finalize(st);
	if (rc != 0)
		ledger_rollback(lg);
	return rc;
}

static int
audited(struct ledger *lg, const char *sql, const char *event, const char *name,
    const char *spki, const char *kid, enum janee_jwt_alg alg,
    const char *actor)
{
	char *detail;
	int rc;

	if ((detail = spki != NULL ? janee_asprintf("agent %s, key %s (%s)",
					 name, kid, janee_jwt_alg_name(alg))
				   : janee_asprintf("agent %s", name)) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	{
		struct audit_event ev = { .event = event,
			.actor = actor,
			.client = "cli",
			.outcome = "ok",
			.detail = detail };

		rc = change(
		    lg, sql, name, spki, kid, alg, &ev, JANEE_ERR_NOT_FOUND);
	}
	free(detail);
	return rc;
}

int
team_agent_add(struct ledger *lg, const char *name, const char *spki,
    const char *kid, enum janee_jwt_alg alg, const char *actor)
{
	if (!janee_name_valid(name))
		return janee_err_set(JANEE_ERR_USAGE,
		    "'%s' is not a valid agent name: 1-64 lowercase letters, digits, '-' and '_', starting with a letter or digit",
		    name);
	return audited(lg,
	    "INSERT INTO agents (name, created_ms, public_key, key_id, alg) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)",
	    "agent_added", name, spki, kid, alg, actor);
}

int
team_agent_rotate(struct ledger *lg, const char *name, const char *spki,
    const char *kid, enum janee_jwt_alg alg, const char *actor)
{
	return audited(lg,
	    "UPDATE agents SET rotated_ms = ?2, public_key = ?3, key_id = ?4, "
	    "alg = ?5 WHERE name = ?1",
	    "agent_rotated", name, spki, kid, alg, actor);
}

int
team_agent_rm(struct ledger *lg, const char *name, const char *actor)
{
	return audited(lg, "DELETE FROM agents WHERE name = ?1",
	    "agent_removed", name, NULL, NULL, JANEE_JWT_RS256, actor);
}

#define AGENT_COLS "name, public_key, key_id, alg, created_ms, rotated_ms"

static int
row(sqlite3_stmt *st, struct team_agent *a)
{
	const char *kid = (const char *)sqlite3_column_text(st, 2);
	const char *alg = (const char *)sqlite3_column_text(st, 3);
	int n;

	memset(a, 0, sizeof(*a));
	if (kid == NULL || strlen(kid) >= TEAM_KID_LEN || alg == NULL ||
	    (n = janee_jwt_alg_parse(alg)) < 0)
		return janee_err_set(
		    JANEE_ERR_SCHEMA, "the agent registry holds a damaged row");
	a->alg = (enum janee_jwt_alg)n;
	memcpy(a->key_id, kid, strlen(kid) + 1);
	a->created_ms = sqlite3_column_int64(st, 4);
	a->rotated_ms = sqlite3_column_int64(st, 5);
	if ((a->name = janee_strdup(
		 (const char *)sqlite3_column_text(st, 0))) == NULL ||
	    (a->public_key = janee_strdup(
		 (const char *)sqlite3_column_text(st, 1))) == NULL) {
		team_agent_free(a);
		return JANEE_ERR_NOMEM;
	}
	return 0;
}

int
team_agent_get(struct ledger *lg, const char *name, struct team_agent *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ledger_prepare(lg,
		 "SELECT " AGENT_COLS " FROM agents WHERE name = ?1", &st)) !=
	    0)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		rc = row(st, out);
		break;
	case SQLITE_DONE:
		rc = janee_err_set(
		    JANEE_ERR_NOT_FOUND, "no agent '%s' is registered", name);
		break;
	default:
		rc = ledger_fail(lg, "cannot read the agent registry");
	}
	sqlite3_finalize(st);
	return rc;
}

int
team_agent_each(struct ledger *lg,
    int (*fn)(const struct team_agent *a, void *arg), void *arg)
{
	struct team_agent a;
	sqlite3_stmt *st;
	int rc = 0, step;

	if ((rc = ledger_prepare(lg,
		 "SELECT " AGENT_COLS " FROM agents ORDER BY name", &st)) != 0)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = row(st, &a)) != 0)
			break;
		rc = fn(&a, arg);
		team_agent_free(&a);
		if (rc != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = ledger_fail(lg, "cannot read the agent registry");
	sqlite3_finalize(st);
	return rc;
}
