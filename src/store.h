/*
 * The secret store: AES-256-GCM sealing under a data key, the data key
 * wrapped by a key-encryption key from the chosen backend.
 *
 *   passphrase  scrypt(passphrase, salt) -> KEK; salt and cost in the ledger
 *   keyfile     32 random bytes in $JANEE_HOME/master.key (0600), outside
 *               the database; weaker: whoever reads the home reads all
 *
 * Every sealed value carries its purpose and name as associated data, so
 * a ciphertext moved to another row does not open.
 */
#ifndef JANEE_STORE_H
#define JANEE_STORE_H

#include "common.h"

#include "home.h"
#include "keysrc.h"
#include "ledger.h"

#define STORE_KEY_LEN 32
#define STORE_FP_HEX 65 /* HMAC-SHA256 as hex, with NUL */

struct store;

/* Backends by name; NULL-terminated. */
extern const char *const store_backends[];
/* Whether name is one of them. */
int store_backend_known(const char *name);

/*
 * Create a new data key, wrap it with the backend's key and record it in
 * the ledger (within the caller's transaction).  Writes master.key for
 * the keyfile backend.
 */
int store_create(struct ledger *lg, const struct home *h, const char *backend,
    struct keysrc *ks) JANEE_WUR;

/* The backend's name and a description of its parameters; caller frees. */
int store_describe(struct ledger *lg, char **backend, char **params) JANEE_WUR;

/* Whether store_unlock can succeed without asking a person. */
int store_quiet(struct ledger *lg, const struct keysrc *ks);

/*
 * Unwrap the data key.  A wrong passphrase or key file is
 * JANEE_ERR_BAD_KEY; nothing is changed either way.  A passphrase home
 * with no passphrase given asks the agent first (src/agent.h), unless
 * ks->no_agent.
 */
int store_unlock(struct ledger *lg, const struct home *h, struct keysrc *ks,
    struct store **out) JANEE_WUR;
void store_free(struct store *s);

/*
 * A store whose key was borrowed from the agent (store_unlock found the
 * home locked and the agent holding the key): ask the agent whether it
 * still holds it, so that `janee lock` and the unlock's deadline reach
 * processes that unlocked earlier (the broker then drops the store and
 * unlocks afresh).  JANEE_ERR_LOCKED, saying what to run, when it no
 * longer does; 0 at once for a key of the process's own.
 */
int store_check(struct store *s) JANEE_WUR;

/* For the agent (src/agent-run.c) and `janee unlock`: */
/* SHA-256 of the wrapped data key, to which a key handed over is bound. */
int store_binding(struct ledger *lg, unsigned char bind[32]) JANEE_WUR;
/* The data key of an unlocked store. */
void store_key(const struct store *s, unsigned char dek[STORE_KEY_LEN]);
/* sizeof(struct store), for a store in memory the caller provides. */
size_t store_size(void);
/*
 * A store from a data key, in store_size() bytes at s that the caller
 * owns (the agent's locked page) and wipes; never store_free() it.
 */
int store_init_key(
    struct store *s, const unsigned char dek[STORE_KEY_LEN]) JANEE_WUR;

/*
 * Seal pt under the data key with "purpose/name" as associated data.
 * *blob is malloc'd: version byte, 12-byte nonce, ciphertext, 16-byte tag.
 */
int store_seal(struct store *s, const char *purpose, const char *name,
    const void *pt, size_t ptlen, unsigned char **blob,
    size_t *bloblen) JANEE_WUR;
/* Open a sealed blob; JANEE_ERR_TAMPERED when it does not authenticate. */
int store_open(struct store *s, const char *purpose, const char *name,
    const void *blob, size_t bloblen, struct janee_secret **out) JANEE_WUR;

/* The keyed fingerprint of a token: HMAC-SHA256 under a derived key. */
int store_fingerprint(
    struct store *s, const void *p, size_t n, char out[STORE_FP_HEX]) JANEE_WUR;

/*
 * A key for `label` ("audit-checkpoint"), derived from the data key with
 * HKDF-SHA256 (info "janee/v1/LABEL"), as the fingerprint key is: the
 * same for as long as the store exists, whatever rekeys it.  Wipe it.
 */
int store_derive_key(struct store *s, const char *label,
    unsigned char out[STORE_KEY_LEN]) JANEE_WUR;

/*
 * Re-wrap the data key under a new key-encryption key (new passphrase,
 * new key file, or another backend).  Sealed values do not change.
 * ev is appended to the audit chain in the same transaction.
 */
struct audit_event;
int store_rekey(struct store *s, struct ledger *lg, const struct home *h,
    const char *backend, struct keysrc *ks,
    const struct audit_event *ev) JANEE_WUR;

#endif
