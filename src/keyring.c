/* The Secret Service through libsecret, when janee is built with it. */
#include "common.h"

#include "keyring.h"
#include "util.h"

#ifdef HAVE_LIBSECRET

#include <libsecret/secret.h>

#include "lazylib.h"

/*
 * libsecret (and GLib under it) is opened on first use: see lazylib.h.
 * The calls go through these, typed as libsecret declares them.
 */
enum { LOOKUP, STORE, CLEAR, PW_FREE, ERROR_FREE, NSYMS };

static const char *const syms[] = {
	[LOOKUP] = "secret_password_lookup_sync",
	[STORE] = "secret_password_store_sync",
	[CLEAR] = "secret_password_clear_sync",
	[PW_FREE] = "secret_password_free",
	[ERROR_FREE] = "g_error_free", /* GLib, found through libsecret */
	[NSYMS] = NULL,
};

static const char *const files[] = { JANEE_SECRET_SONAME,
	JANEE_SECRET_LIBDIR "/" JANEE_SECRET_SONAME, NULL };

static void *addr[NSYMS];

static struct lazylib libsecret = { "libsecret", files, syms, addr, 0, "" };

static struct {
	gchar *(*lookup)(const SecretSchema *, GCancellable *, GError **, ...);
	gboolean (*store)(const SecretSchema *, const gchar *, const gchar *,
	    const gchar *, GCancellable *, GError **, ...);
	gboolean (*clear)(const SecretSchema *, GCancellable *, GError **, ...);
	void (*pw_free)(gchar *);
	void (*error_free)(GError *);
} fn;

/* 0, or the error naming what to install. */
static int
load(void)
{
	int rc;

	if ((rc = lazylib_load(&libsecret)) != 0)
		return rc;
	fn.lookup =
	    (gchar * (*)(const SecretSchema *, GCancellable *, GError **, ...))
		addr[LOOKUP];
	fn.store =
	    (gboolean(*)(const SecretSchema *, const gchar *, const gchar *,
		const gchar *, GCancellable *, GError **, ...))addr[STORE];
	fn.clear = (gboolean(*)(
	    const SecretSchema *, GCancellable *, GError **, ...))addr[CLEAR];
	fn.pw_free = (void (*)(gchar *))addr[PW_FREE];
	fn.error_free = (void (*)(GError *))addr[ERROR_FREE];
	return 0;
}

/*
 * Items made by secret-tool and most programs: the generic schema, with
 * the schema name not matched (secret-tool sets none of its own).
 */
static const SecretSchema ref_schema = {
	.name = "org.freedesktop.Secret.Generic",
	.flags = SECRET_SCHEMA_DONT_MATCH_NAME,
	.attributes = {
	    { "service", SECRET_SCHEMA_ATTRIBUTE_STRING },
	    { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
	    { NULL, 0 },
	},
};

/* janee's store key: one item per home directory and slot. */
static const SecretSchema kek_schema = {
	.name = "dev.janee.StoreKey",
	.flags = SECRET_SCHEMA_NONE,
	.attributes = {
	    { "home", SECRET_SCHEMA_ATTRIBUTE_STRING },
	    { "slot", SECRET_SCHEMA_ATTRIBUTE_STRING },
	    { NULL, 0 },
	},
};

int
keyring_available(void)
{
	return 1;
}

/* A GError as our error; its text names D-Bus trouble, never a secret. */
static int
gerr(GError *e, const char *what)
{
	int rc;

	rc = janee_err_set(JANEE_ERR_LOCKED,
	    "%s: the Secret Service did not answer: %s; is a keyring daemon (gnome-keyring, KeePassXC) running and unlocked in this session?",
	    what, e && e->message ? e->message : "unknown error");
	if (e != NULL)
		fn.error_free(e);
	return rc;
}

int
keyring_lookup(
    const char *service, const char *account, struct janee_secret **out)
{
	GError *e = NULL;
	gchar *pw;
	char what[300];
	int rc;

	*out = NULL;
	if ((rc = load()) != 0)
		return rc;
	snprintf(what, sizeof(what), "keyring:%s/%s", service, account);
	pw = fn.lookup(&ref_schema, NULL, &e, "service", service, "account",
	    account, NULL);
	if (e != NULL)
		return gerr(e, what);
	if (pw == NULL)
		return janee_err_set(JANEE_ERR_NOT_FOUND,
		    "%s: no item with service '%s' and account '%s' in the Secret Service; store one with: secret-tool store --label=NAME service '%s' account '%s'",
		    what, service, account, service, account);
	*out = janee_secret_new(pw, strlen(pw));
	fn.pw_free(pw);
	return *out ? 0 : janee_err_set(JANEE_ERR_NOMEM, "out of memory");
}

static int
xdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
unhex(const char *s, unsigned char *out, size_t len)
{
	size_t i;
	int hi, lo;

	if (strlen(s) != 2 * len)
		return -1;
	for (i = 0; i < len; i++) {
		hi = xdigit(s[2 * i]);
		lo = xdigit(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int
keyring_kek_get(
    const char *home, const char *slot, unsigned char *kek, size_t len)
{
	GError *e = NULL;
	gchar *pw;
	int bad;

	if ((bad = load()) != 0)
		return bad;
	pw = fn.lookup(&kek_schema, NULL, &e, "home", home, "slot", slot, NULL);
	if (e != NULL)
		return gerr(e, "the store key");
	if (pw == NULL)
		return janee_err_set(JANEE_ERR_NOT_FOUND,
		    "the Secret Service has no janee store key for '%s' (%s); was the home moved, or the keyring reset?",
		    home, slot);
	bad = unhex(pw, kek, len);
	fn.pw_free(pw);
	if (bad) {
		janee_wipe(kek, len);
		return janee_err_set(JANEE_ERR_BAD_KEY,
		    "the janee store key for '%s' in the Secret Service is malformed",
		    home);
	}
	return 0;
}

int
keyring_kek_put(
    const char *home, const char *slot, const unsigned char *kek, size_t len)
{
	GError *e = NULL;
	char *hex, *label;
	gboolean ok;
	int rc;

	if ((rc = load()) != 0)
		return rc;
	if ((hex = malloc(2 * len + 1)) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	janee_hex(kek, len, hex);
	if ((label = janee_asprintf("janee store key for %s", home)) == NULL) {
		janee_freezero(hex, 2 * len + 1);
		return JANEE_ERR_NOMEM;
	}
	ok = fn.store(&kek_schema, SECRET_COLLECTION_DEFAULT, label, hex, NULL,
	    &e, "home", home, "slot", slot, NULL);
	janee_freezero(hex, 2 * len + 1);
	free(label);
	if (!ok || e != NULL)
		return gerr(e, "storing the store key");
	return 0;
}

int
keyring_kek_delete(const char *home, const char *slot)
{
	GError *e = NULL;
	int rc;

	if ((rc = load()) != 0)
		return rc;
	/* FALSE without an error: there was nothing to remove. */
	(void)fn.clear(&kek_schema, NULL, &e, "home", home, "slot", slot, NULL);
	if (e != NULL)
		return gerr(e, "removing the store key");
	return 0;
}

#else /* !HAVE_LIBSECRET */

static int
absent(void)
{
	return janee_err_set(JANEE_ERR_UNSUPPORTED,
	    "this janee was built without libsecret, so the Secret Service (keyring) cannot be used; rebuild with libsecret-1-dev installed");
}

int
keyring_available(void)
{
	return 0;
}

int
keyring_lookup(
    const char *service, const char *account, struct janee_secret **out)
{
	*out = NULL;
	return absent();
}

int
keyring_kek_get(
    const char *home, const char *slot, unsigned char *kek, size_t len)
{
	return absent();
}

int
keyring_kek_put(
    const char *home, const char *slot, const unsigned char *kek, size_t len)
{
	return absent();
}

int
keyring_kek_delete(const char *home, const char *slot)
{
	return absent();
}

#endif
