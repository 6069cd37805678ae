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
 * JANEE_ERR_BAD_KEY; nothing is changed either way.
 */
int store_unlock(struct ledger *lg, const struct home *h, struct keysrc *ks,
    struct store **out) JANEE_WUR;
void store_free(struct store *s);

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
