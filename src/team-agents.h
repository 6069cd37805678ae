/*
 * Team mode's registry of remote agents (`janee agent add|list|rm|rotate`,
 * docs/TEAM.md): each agent is a name and one public key, RSA (2048 bits
 * or more, RS256) or EC P-256 (ES256), with which it signs its RFC 7523
 * client assertions at janee's token endpoint (src/team-auth.h).  Only
 * the public key is kept; a key janee generates is handed to the person
 * once and never stored.  Every change is audited.
 */
#ifndef JANEE_TEAM_AGENTS_H
#define JANEE_TEAM_AGENTS_H

#include "common.h"

#include "jwt.h"
#include "ledger.h"

/* base64url of a SHA-256 (43 characters) and the NUL. */
#define TEAM_KID_LEN 44

struct team_agent {
	char *name;
	char *public_key; /* SubjectPublicKeyInfo, PEM */
	char key_id[TEAM_KID_LEN]; /* base64url SHA-256 of the DER key */
	enum janee_jwt_alg alg;
	int64_t created_ms, rotated_ms; /* rotated_ms 0: never */
};

void team_agent_free(struct team_agent *a);

/*
 * A public key from PEM text: *spki (free) is its SubjectPublicKeyInfo
 * PEM, kid its id, *alg the one algorithm it signs with.  A private key,
 * an RSA key under 2048 bits or an EC key off P-256 is JANEE_ERR_INVALID
 * naming `what` (the file).
 */
int team_key_import(const char *pem, size_t len, const char *what, char **spki,
    char kid[TEAM_KID_LEN], enum janee_jwt_alg *alg) JANEE_WUR;

/*
 * A new EC P-256 key pair: *priv (janee_secret_free) the private key as
 * PKCS #8 PEM, *spki and kid as team_key_import.
 */
int team_key_generate(
    struct janee_secret **priv, char **spki, char kid[TEAM_KID_LEN]) JANEE_WUR;

/* The public half of a private key in PEM form, as team_key_import. */
int team_key_public(const struct janee_secret *priv, char **spki,
    char kid[TEAM_KID_LEN]) JANEE_WUR;

/*
 * The registry.  add: JANEE_ERR_EXISTS when the name is taken; rotate,
 * rm, get: JANEE_ERR_NOT_FOUND when it is not.  rotate replaces the key
 * (assertions signed with the old one fail from then on, and tokens
 * issued under it: src/team-auth.c); rm also forgets its assertions.
 * actor is who does it, for the audit event.
 */
int team_agent_add(struct ledger *lg, const char *name, const char *spki,
    const char *kid, enum janee_jwt_alg alg, const char *actor) JANEE_WUR;
int team_agent_rotate(struct ledger *lg, const char *name, const char *spki,
    const char *kid, enum janee_jwt_alg alg, const char *actor) JANEE_WUR;
int
team_agent_rm(struct ledger *lg, const char *name, const char *actor) JANEE_WUR;
int team_agent_get(
    struct ledger *lg, const char *name, struct team_agent *out) JANEE_WUR;
/* fn for each agent by name; fn's non-zero stops and is returned. */
int team_agent_each(struct ledger *lg,
    int (*fn)(const struct team_agent *a, void *arg), void *arg) JANEE_WUR;

#endif
