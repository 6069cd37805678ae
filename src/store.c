/* The secret store: data key, key-encryption backends, sealing. */
#include "common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "audit.h"
#include "keyring.h"
#include "store.h"
#include "util.h"

#define SEAL_VERSION 1
#define NONCE_LEN 12
#define TAG_LEN 16
#define SALT_LEN 16
#define DEK_AAD "janee/v1/data-key"

/*
 * scrypt cost: N = 2^15, r = 8, p = 1 needs 32 MiB and about 0.1 s here,
 * the parameters RFC 7914 suggests for interactive use.  Stored with the
 * salt, so a later janee can raise them on rekey.
 */
#define SCRYPT_N 32768
#define SCRYPT_R 8
#define SCRYPT_P 1

const char *const store_backends[] = { "passphrase", "keyfile", "keyring",
	NULL };

struct store {
	unsigned char dek[STORE_KEY_LEN];
	unsigned char fpkey[STORE_KEY_LEN];
};

static int
ossl_fail(const char *what)
{
	return janee_err_set(JANEE_ERR_CRYPTO, "%s failed in OpenSSL", what);
}

/* AES-256-GCM with a fresh random nonce; layout in store.h. */
static int
seal_raw(const unsigned char key[STORE_KEY_LEN], const char *aad,
    const void *pt, size_t ptlen, unsigned char **blob, size_t *bloblen)
{
	EVP_CIPHER_CTX *c = NULL;
	unsigned char *out;
	int n, rc = 0;

	if (ptlen > INT32_MAX - 64)
		return janee_err_set(JANEE_ERR_INVALID, "value too large");
	*bloblen = 1 + NONCE_LEN + ptlen + TAG_LEN;
	if ((out = malloc(*bloblen)) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	out[0] = SEAL_VERSION;
	if ((rc = janee_random(out + 1, NONCE_LEN)) != 0)
		goto fail;
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, out + 1) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)aad,
		(int)strlen(aad)) != 1 ||
	    EVP_EncryptUpdate(c, out + 1 + NONCE_LEN, &n, pt, (int)ptlen) !=
		1 ||
	    EVP_EncryptFinal_ex(c, out + 1 + NONCE_LEN + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
		out + 1 + NONCE_LEN + ptlen) != 1) {
		rc = ossl_fail("sealing");
		goto fail;
	}
	EVP_CIPHER_CTX_free(c);
	*blob = out;
	return 0;
fail:
	EVP_CIPHER_CTX_free(c);
	janee_freezero(out, *bloblen);
	*blob = NULL;
	return rc;
}

static int
open_raw(const unsigned char key[STORE_KEY_LEN], const char *aad,
    const unsigned char *blob, size_t bloblen, unsigned char **pt,
    size_t *ptlen)
{
	EVP_CIPHER_CTX *c = NULL;
	unsigned char *out;
	size_t len;
	int n, ok;

	if (bloblen < 1 + NONCE_LEN + TAG_LEN || blob[0] != SEAL_VERSION ||
	    bloblen > INT32_MAX)
		return JANEE_ERR_TAMPERED;
	len = bloblen - 1 - NONCE_LEN - TAG_LEN;
	if ((out = malloc(len + 1)) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	ok = (c = EVP_CIPHER_CTX_new()) != NULL &&
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, blob + 1) ==
		1 &&
	    EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)aad,
		(int)strlen(aad)) == 1 &&
	    EVP_DecryptUpdate(c, out, &n, blob + 1 + NONCE_LEN, (int)len) ==
		1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
		(void *)(uintptr_t)(blob + bloblen - TAG_LEN)) == 1 &&
	    EVP_DecryptFinal_ex(c, out + n, &n) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		janee_freezero(out, len + 1);
		return JANEE_ERR_TAMPERED;
	}
	out[len] = '\0';
	*pt = out;
	*ptlen = len;
	return 0;
}

static char *
aad_for(const char *purpose, const char *name)
{
	return janee_asprintf("janee/v1/%s/%s", purpose, name);
}

int
store_seal(struct store *s, const char *purpose, const char *name,
    const void *pt, size_t ptlen, unsigned char **blob, size_t *bloblen)
{
	char *aad;
	int rc;

	if ((aad = aad_for(purpose, name)) == NULL)
		return JANEE_ERR_NOMEM;
	JANEE_SECRET_HOOK(purpose, pt, ptlen);
	rc = seal_raw(s->dek, aad, pt, ptlen, blob, bloblen);
	free(aad);
	return rc;
}

int
store_open(struct store *s, const char *purpose, const char *name,
    const void *blob, size_t bloblen, struct janee_secret **out)
{
	unsigned char *pt;
	size_t ptlen;
	char *aad;
	int rc;

	*out = NULL;
	if ((aad = aad_for(purpose, name)) == NULL)
		return JANEE_ERR_NOMEM;
	rc = open_raw(s->dek, aad, blob, bloblen, &pt, &ptlen);
	free(aad);
	if (rc == JANEE_ERR_TAMPERED)
		return janee_err_set(rc,
		    "sealed %s '%s' failed authentication: it was altered or moved; restore the ledger from a backup",
		    purpose, name);
	if (rc != 0)
		return rc;
	if ((*out = calloc(1, sizeof(**out))) == NULL) {
		janee_freezero(pt, ptlen + 1);
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	(*out)->data = pt;
	(*out)->len = ptlen;
	return 0;
}

int
store_fingerprint(
    struct store *s, const void *p, size_t n, char out[STORE_FP_HEX])
{
	unsigned char mac[32];
	size_t maclen = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, s->fpkey,
		sizeof(s->fpkey), p, n, mac, sizeof(mac), &maclen) == NULL ||
	    maclen != sizeof(mac))
		return ossl_fail("HMAC-SHA256");
	janee_hex(mac, sizeof(mac), out);
	return 0;
}

/* HKDF-SHA256(dek, info): keys for other purposes, stable across rekeys. */
static int
hkdf_dek(const unsigned char dek[STORE_KEY_LEN], const char *info,
    unsigned char out[STORE_KEY_LEN])
{
	EVP_KDF *kdf;
	EVP_KDF_CTX *kc = NULL;
	OSSL_PARAM params[4];
	int ok;

	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
		return ossl_fail("HKDF");
	kc = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_KDF_PARAM_DIGEST, (char *)(uintptr_t) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)dek, STORE_KEY_LEN);
	params[2] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_INFO, (void *)(uintptr_t)info, strlen(info));
	params[3] = OSSL_PARAM_construct_end();
	ok = kc != NULL && EVP_KDF_derive(kc, out, STORE_KEY_LEN, params) == 1;
	EVP_KDF_CTX_free(kc);
	return ok ? 0 : ossl_fail("HKDF");
}

static int
derive_fpkey(struct store *s)
{
	return hkdf_dek(s->dek, "janee/v1/token-fingerprint", s->fpkey);
}

int
store_derive_key(
    struct store *s, const char *label, unsigned char out[STORE_KEY_LEN])
{
	char *info;
	int rc;

	if ((info = janee_asprintf("janee/v1/%s", label)) == NULL)
		return JANEE_ERR_NOMEM;
	rc = hkdf_dek(s->dek, info, out);
	free(info);
	return rc;
}

/* --- key-encryption keys ------------------------------------------- */

struct kdf_params {
	uint64_t n, r, p;
	unsigned char salt[SALT_LEN];
};

static int
kek_from_passphrase(const struct janee_secret *pw, const struct kdf_params *kp,
    unsigned char kek[STORE_KEY_LEN])
{
	/* scrypt needs 128 * N * r bytes; allow that plus slack. */
	uint64_t maxmem = 128 * kp->n * kp->r * kp->p + (16u << 20);

	JANEE_SECRET_HOOK("passphrase", pw->data, pw->len);
	if (EVP_PBE_scrypt((const char *)pw->data, pw->len, kp->salt,
		sizeof(kp->salt), kp->n, kp->r, kp->p, maxmem, kek,
		STORE_KEY_LEN) != 1)
		return ossl_fail("scrypt");
	return 0;
}

static int
keyfile_read(const char *path, unsigned char kek[STORE_KEY_LEN])
{
	unsigned char tmp[STORE_KEY_LEN + 1];
	ssize_t n;
	int fd, rc;

	if ((rc = path_check_private(path, 0, 0)) != 0)
		return rc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return janee_err_set(JANEE_ERR_IO,
		    "cannot open key file '%s': %s", path, strerror(errno));
	n = read(fd, tmp, sizeof(tmp));
	close(fd);
	if (n != STORE_KEY_LEN) {
		janee_wipe(tmp, sizeof(tmp));
		return janee_err_set(JANEE_ERR_BAD_KEY,
		    "key file '%s' is not a janee key (%d bytes expected)",
		    path, STORE_KEY_LEN);
	}
	memcpy(kek, tmp, STORE_KEY_LEN);
	janee_wipe(tmp, sizeof(tmp));
	return 0;
}

static char *
keyfile_next(const struct home *h)
{
	return janee_asprintf("%s.new", h->keyfile);
}

/*
 * The keyring backend keeps the KEK in the Secret Service, one item per
 * home, named by the home's absolute path; a rekey writes the "next"
 * slot first and promotes it once the ledger committed, as the keyfile
 * backend does with master.key.new.
 */
static int
keyring_home(const struct home *h, char **abs)
{
	if ((*abs = realpath(h->dir, NULL)) == NULL)
		return janee_err_set(JANEE_ERR_IO, "cannot resolve '%s': %s",
		    h->dir, strerror(errno));
	return 0;
}

/* next -> current, after a commit (or found so at unlock). */
static int
keyring_promote(const char *abs, const unsigned char kek[STORE_KEY_LEN])
{
	int rc;

	if ((rc = keyring_kek_put(
		 abs, KEYRING_SLOT_CURRENT, kek, STORE_KEY_LEN)) != 0)
		return rc;
	return keyring_kek_delete(abs, KEYRING_SLOT_NEXT);
}

/* Make a KEK for backend (a new salt or key file) and wrap dek under it. */
static int
wrap_new(struct ledger *lg, const struct home *h, const char *backend,
    struct keysrc *ks, const unsigned char dek[STORE_KEY_LEN], int for_init)
{
	unsigned char kek[STORE_KEY_LEN], *blob = NULL;
	struct janee_secret *pw = NULL;
	struct kdf_params kp;
	size_t bloblen;
	char kdf[64], *next = NULL;
	int rc;

	if (strcmp(backend, "passphrase") == 0) {
		kp.n = SCRYPT_N;
		kp.r = SCRYPT_R;
		kp.p = SCRYPT_P;
		if ((rc = keysrc_get_new(ks, for_init, &pw)) != 0 ||
		    (rc = janee_random(kp.salt, sizeof(kp.salt))) != 0 ||
		    (rc = kek_from_passphrase(pw, &kp, kek)) != 0)
			goto out;
		snprintf(kdf, sizeof(kdf), "scrypt:%llu:%llu:%llu",
		    (unsigned long long)kp.n, (unsigned long long)kp.r,
		    (unsigned long long)kp.p);
		if ((rc = ledger_meta_set(lg, "store.kdf", kdf, strlen(kdf))) !=
			0 ||
		    (rc = ledger_meta_set(
			 lg, "store.salt", kp.salt, sizeof(kp.salt))) != 0)
			goto out;
	} else if (strcmp(backend, "keyfile") == 0) {
		/*
		 * The new key goes to master.key.new first; it replaces
		 * master.key only after the ledger commits, and unlock tries
		 * it when master.key does not open: a crash in between loses
		 * nothing.
		 */
		if ((next = keyfile_next(h)) == NULL) {
			rc = JANEE_ERR_NOMEM;
			goto out;
		}
		if ((rc = janee_random(kek, sizeof(kek))) != 0 ||
		    (rc = write_file_atomic(
			 for_init ? h->keyfile : next, kek, sizeof(kek))) != 0)
			goto out;
	} else if (strcmp(backend, "keyring") == 0) {
		/* A rekey writes the next slot; store_rekey promotes it. */
		if ((rc = keyring_home(h, &next)) != 0 ||
		    (rc = janee_random(kek, sizeof(kek))) != 0 ||
		    (rc = keyring_kek_put(next,
			 for_init ? KEYRING_SLOT_CURRENT : KEYRING_SLOT_NEXT,
			 kek, sizeof(kek))) != 0)
			goto out;
	} else {
		rc = janee_err_set(JANEE_ERR_USAGE,
		    "unknown key backend '%s'; use passphrase, keyfile or keyring",
		    backend);
		goto out;
	}
	if ((rc = seal_raw(
		 kek, DEK_AAD, dek, STORE_KEY_LEN, &blob, &bloblen)) != 0 ||
	    (rc = ledger_meta_set(lg, "store.dek", blob, bloblen)) != 0 ||
	    (rc = ledger_meta_set(
		 lg, "store.backend", backend, strlen(backend))) != 0)
		goto out;
out:
	janee_wipe(kek, sizeof(kek));
	janee_secret_free(pw);
	free(blob);
	free(next);
	return rc;
}

int
store_backend_known(const char *name)
{
	size_t i;

	for (i = 0; store_backends[i] != NULL; i++)
		if (strcmp(name, store_backends[i]) == 0)
			return 1;
	return 0;
}

int
store_create(struct ledger *lg, const struct home *h, const char *backend,
    struct keysrc *ks)
{
	struct store s;
	int rc;

	if ((rc = janee_random(s.dek, sizeof(s.dek))) != 0)
		return rc;
	/* The new chain's first event is keyed from the start. */
	if ((rc = wrap_new(lg, h, backend, ks, s.dek, 1)) == 0)
		rc = audit_key_use(lg, &s);
	janee_wipe(&s, sizeof(s));
	return rc;
}

static int
meta_str(struct ledger *lg, const char *key, char **out)
{
	size_t len;
	int rc;

	rc = ledger_meta_get(lg, key, (void **)out, &len);
	if (rc == JANEE_ERR_NOT_FOUND)
		return janee_err_set(JANEE_ERR_NOT_INIT,
		    "ledger '%s' has no secret store (%s missing); run: janee init",
		    lg->path, key);
	return rc;
}

int
store_describe(struct ledger *lg, char **backend, char **params)
{
	char *kdf = NULL;
	int rc;

	*params = NULL;
	if ((rc = meta_str(lg, "store.backend", backend)) != 0)
		return rc;
	if (strcmp(*backend, "passphrase") == 0) {
		if ((rc = meta_str(lg, "store.kdf", &kdf)) != 0)
			return rc;
		*params = kdf;
	} else if (strcmp(*backend, "keyring") == 0)
		*params = janee_strdup(
		    "key in the Secret Service (libsecret), unlocked with the desktop session");
	else
		*params = janee_strdup(
		    "key in master.key, readable by whoever can read the home");
	return *params ? 0 : JANEE_ERR_NOMEM;
}

int
store_quiet(struct ledger *lg, const struct keysrc *ks)
{
	char *backend = NULL;
	int quiet;

	if (meta_str(lg, "store.backend", &backend) != 0) {
		janee_err_clear();
		return 0;
	}
	quiet = strcmp(backend, "keyfile") == 0 ||
	    strcmp(backend, "keyring") == 0 || keysrc_quiet(ks);
	free(backend);
	return quiet;
}

static int
parse_kdf(const char *s, struct kdf_params *kp)
{
	unsigned long long n, r, p;
	char tail;

	if (sscanf(s, "scrypt:%llu:%llu:%llu%c", &n, &r, &p, &tail) != 3 ||
	    n < 2 || (n & (n - 1)) != 0 || n > (1u << 24) || r < 1 || r > 64 ||
	    p < 1 || p > 16)
		return janee_err_set(JANEE_ERR_SCHEMA,
		    "unknown key derivation '%s' in the ledger", s);
	kp->n = n;
	kp->r = r;
	kp->p = p;
	return 0;
}

/* Get the KEK for the recorded backend. */
static int
current_kek(struct ledger *lg, const struct home *h, struct keysrc *ks,
    const char *backend, unsigned char kek[STORE_KEY_LEN])
{
	struct janee_secret *pw = NULL;
	struct kdf_params kp;
	unsigned char *salt = NULL;
	char *kdf = NULL;
	size_t saltlen;
	int rc;

	if (strcmp(backend, "keyfile") == 0)
		return keyfile_read(h->keyfile, kek);
	if (strcmp(backend, "keyring") == 0) {
		if ((rc = keyring_home(h, &kdf)) != 0)
			return rc;
		rc = keyring_kek_get(
		    kdf, KEYRING_SLOT_CURRENT, kek, STORE_KEY_LEN);
		if (rc == JANEE_ERR_NOT_FOUND)
			rc = JANEE_ERR_TAMPERED; /* store_unlock tries "next" */
		free(kdf);
		return rc;
	}
	if (strcmp(backend, "passphrase") != 0)
		return janee_err_set(JANEE_ERR_SCHEMA,
		    "unknown key backend '%s' in the ledger", backend);
	if ((rc = meta_str(lg, "store.kdf", &kdf)) != 0 ||
	    (rc = parse_kdf(kdf, &kp)) != 0 ||
	    (rc = ledger_meta_get(
		 lg, "store.salt", (void **)&salt, &saltlen)) != 0)
		goto out;
	if (saltlen != SALT_LEN) {
		rc = janee_err_set(JANEE_ERR_SCHEMA, "bad salt in the ledger");
		goto out;
	}
	memcpy(kp.salt, salt, SALT_LEN);
	if ((rc = keysrc_get(ks, "janee passphrase: ", &pw)) != 0)
		goto out;
	rc = kek_from_passphrase(pw, &kp, kek);
out:
	janee_secret_free(pw);
	free(kdf);
	free(salt);
	return rc;
}

int
store_unlock(struct ledger *lg, const struct home *h, struct keysrc *ks,
    struct store **out)
{
	unsigned char kek[STORE_KEY_LEN], *blob = NULL, *dek = NULL;
	struct store *s = NULL;
	char *backend = NULL, *next = NULL;
	size_t bloblen, deklen;
	int rc;

	*out = NULL;
	if ((rc = meta_str(lg, "store.backend", &backend)) != 0 ||
	    (rc = ledger_meta_get(lg, "store.dek", (void **)&blob, &bloblen)) !=
		0)
		goto out;
	rc = current_kek(lg, h, ks, backend, kek);
	if (rc == 0)
		rc = open_raw(kek, DEK_AAD, blob, bloblen, &dek, &deklen);
	else if (rc != JANEE_ERR_TAMPERED || strcmp(backend, "keyring") != 0)
		goto out;
	if (rc == JANEE_ERR_TAMPERED && strcmp(backend, "keyring") == 0) {
		/* A rekey committed but did not promote its key. */
		janee_err_clear();
		if ((rc = keyring_home(h, &next)) == 0 &&
		    (rc = keyring_kek_get(
			 next, KEYRING_SLOT_NEXT, kek, STORE_KEY_LEN)) == 0 &&
		    (rc = open_raw(
			 kek, DEK_AAD, blob, bloblen, &dek, &deklen)) == 0)
			rc = keyring_promote(next, kek);
		if (rc == JANEE_ERR_NOT_FOUND) {
			janee_err_clear();
			rc = janee_err_set(JANEE_ERR_BAD_KEY,
			    "the Secret Service has no janee store key that opens '%s'; was the home moved, or the keyring reset?",
			    h->dir);
			goto out;
		}
	}
	if (rc == JANEE_ERR_TAMPERED && strcmp(backend, "keyfile") == 0 &&
	    (next = keyfile_next(h)) != NULL && access(next, F_OK) == 0) {
		/* A rekey committed but crashed before renaming its key. */
		if ((rc = keyfile_read(next, kek)) == 0 &&
		    (rc = open_raw(
			 kek, DEK_AAD, blob, bloblen, &dek, &deklen)) == 0 &&
		    rename(next, h->keyfile) != 0)
			rc = janee_err_set(JANEE_ERR_IO,
			    "cannot rename '%s': %s", next, strerror(errno));
	}
	if (rc == JANEE_ERR_TAMPERED) {
		rc = janee_err_set(JANEE_ERR_BAD_KEY,
		    strcmp(backend, "keyfile") == 0
			? "key file '%s' does not open this ledger"
			: strcmp(backend, "keyring") == 0
			? "the store key in the Secret Service does not open '%s'"
			: "wrong passphrase for '%s'",
		    strcmp(backend, "keyfile") == 0 ? h->keyfile : h->dir);
		goto out;
	}
	if (rc != 0)
		goto out;
	if (deklen != STORE_KEY_LEN) {
		rc = janee_err_set(JANEE_ERR_SCHEMA, "bad data key length");
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(s->dek, dek, STORE_KEY_LEN);
	if ((rc = derive_fpkey(s)) != 0 || (rc = audit_key_use(lg, s)) != 0)
		goto out;
	*out = s;
	s = NULL;
out:
	janee_wipe(kek, sizeof(kek));
	if (dek != NULL)
		janee_freezero(dek, deklen);
	store_free(s);
	free(backend);
	free(blob);
	free(next);
	return rc;
}

void
store_free(struct store *s)
{
	janee_freezero(s, sizeof(*s));
}

int
store_rekey(struct store *s, struct ledger *lg, const struct home *h,
    const char *backend, struct keysrc *ks, const struct audit_event *ev)
{
	unsigned char kek[STORE_KEY_LEN];
	char *old = NULL, *next = NULL, *abs = NULL;
	int rc;

	if ((rc = meta_str(lg, "store.backend", &old)) != 0)
		return rc;
	if ((next = keyfile_next(h)) == NULL) {
		free(old);
		return JANEE_ERR_NOMEM;
	}
	if (backend == NULL)
		backend = old;
	if ((rc = ledger_begin(lg)) != 0)
		goto out;
	if ((rc = wrap_new(lg, h, backend, ks, s->dek, 0)) != 0 ||
	    (rc = audit_append(lg, ev)) != 0 || (rc = ledger_commit(lg)) != 0) {
		ledger_rollback(lg);
		unlink(next);
		if (strcmp(backend, "keyring") == 0 &&
		    keyring_home(h, &abs) == 0 &&
		    keyring_kek_delete(abs, KEYRING_SLOT_NEXT) != 0)
			janee_err_clear(); /* the first failure's text wins */
		goto out;
	}
	if (strcmp(old, "keyring") == 0 && strcmp(backend, "keyring") != 0) {
		/* The key now lives elsewhere: forget the keyring's copy. */
		if ((rc = keyring_home(h, &abs)) == 0 &&
		    (rc = keyring_kek_delete(abs, KEYRING_SLOT_CURRENT)) != 0)
			rc = janee_err_set(rc,
			    "the old store key is still in the Secret Service; remove it with: secret-tool clear home '%s'",
			    abs);
	}
	if (strcmp(backend, "keyring") == 0) {
		if ((rc = keyring_home(h, &abs)) == 0 &&
		    (rc = keyring_kek_get(
			 abs, KEYRING_SLOT_NEXT, kek, sizeof(kek))) == 0)
			rc = keyring_promote(abs, kek);
		janee_wipe(kek, sizeof(kek));
		if (rc != 0)
			rc = janee_err_set(rc,
			    "the new store key is in the Secret Service but not yet in place; janee finishes it on the next unlock");
	}
	if (strcmp(backend, "keyfile") == 0) {
		if (rename(next, h->keyfile) != 0)
			rc = janee_err_set(JANEE_ERR_IO,
			    "cannot rename '%s': %s; janee will finish it on the next unlock",
			    next, strerror(errno));
	} else if (strcmp(old, "keyfile") == 0 && unlink(h->keyfile) != 0 &&
	    errno != ENOENT)
		rc = janee_err_set(JANEE_ERR_IO,
		    "cannot remove the old key file '%s': %s; remove it by hand",
		    h->keyfile, strerror(errno));
out:
	free(old);
	free(next);
	free(abs);
	return rc;
}
