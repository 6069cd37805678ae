/*
 * The OS Secret Service (gnome-keyring, KeePassXC, KWallet's bridge)
 * through libsecret, an optional build dependency.  Without it every
 * call answers JANEE_ERR_UNSUPPORTED with a message that says so.
 *
 * Two uses:
 *   keyring:SERVICE/ACCOUNT references: items with the attributes
 *     service=SERVICE and account=ACCOUNT, as `secret-tool store
 *     --label=L service SERVICE account ACCOUNT` makes them;
 *   the store's key-encryption key (key backend "keyring"): items of
 *     janee's own schema, one per janee home and slot.
 */
#ifndef JANEE_KEYRING_H
#define JANEE_KEYRING_H

#include "common.h"

/* Whether this janee was built with libsecret. */
int keyring_available(void);

/*
 * Look up the secret stored for service and account.  Caller frees *out.
 * JANEE_ERR_NOT_FOUND when there is no such item; JANEE_ERR_LOCKED when
 * the Secret Service cannot be reached or stays locked.
 */
int keyring_lookup(const char *service, const char *account,
    struct janee_secret **out) JANEE_WUR;

/* Slots of the store key: the current one, and one being rekeyed to. */
#define KEYRING_SLOT_CURRENT "current"
#define KEYRING_SLOT_NEXT "next"

/*
 * The store's key-encryption key for the home directory `home` (an
 * absolute path) in `slot`: get, put (replacing), delete (absent is
 * fine).  The key is kept as hex text in the item.
 */
int keyring_kek_get(const char *home, const char *slot, unsigned char *kek,
    size_t len) JANEE_WUR;
int keyring_kek_put(const char *home, const char *slot,
    const unsigned char *kek, size_t len) JANEE_WUR;
int keyring_kek_delete(const char *home, const char *slot) JANEE_WUR;

#endif
