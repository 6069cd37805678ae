/* Unit tests: the sealed secret store and its key backends. */
#include "common.h"

#include <sys/stat.h>

#include "audit.h"
#include "secrets.h"
#include "store.h"
#include "util.h"

#include "t.h"

struct fixture {
	char *dir;
	struct home h;
	struct ledger *lg;
	struct keysrc ks;
};

static void
fx_open(struct fixture *fx, const char *backend)
{
	memset(fx, 0, sizeof(*fx));
	fx->dir = t_tmpdir();
	fx->ks.fd = fx->ks.new_fd = -1;
	fx->ks.may_prompt = 0;
	if (home_resolve(fx->dir, &fx->h) != 0 ||
	    ledger_open(fx->h.db, 1, &fx->lg) != 0 ||
	    ledger_begin(fx->lg) != 0 ||
	    store_create(fx->lg, &fx->h, backend, &fx->ks) != 0 ||
	    ledger_commit(fx->lg) != 0) {
		fprintf(stderr, "fixture: %s\n", janee_err_msg(-1));
		abort();
	}
}

static void
fx_close(struct fixture *fx)
{
	ledger_close(fx->lg);
	home_free(&fx->h);
	free(fx->dir);
}

static struct store *
unlock(struct fixture *fx, int want)
{
	struct store *s = NULL;
	int rc;

	janee_err_clear();
	rc = store_unlock(fx->lg, &fx->h, &fx->ks, &s);
	T_EQ_INT(rc, want);
	return s;
}

static void
seal_round_trip_with_keyfile(void)
{
	struct fixture fx;
	struct janee_secret *out = NULL;
	struct store *s;
	unsigned char *blob = NULL;
	size_t len;
	static const char val[] = "-----BEGIN KEY-----\0binary\n";

	fx_open(&fx, "keyfile");
	s = unlock(&fx, 0);
	T_ASSERT(s != NULL);
	T_EQ_INT(
	    store_seal(s, "secret", "k", val, sizeof(val), &blob, &len), 0);
	T_EQ_INT(len, 1 + 12 + sizeof(val) + 16);
	T_EQ_INT(store_open(s, "secret", "k", blob, len, &out), 0);
	T_ASSERT(out != NULL && out->len == sizeof(val) &&
	    memcmp(out->data, val, sizeof(val)) == 0);
	janee_secret_free(out);
	free(blob);
	store_free(s);
	fx_close(&fx);
}

static void
seal_uses_fresh_nonces(void)
{
	struct fixture fx;
	struct store *s;
	unsigned char *a = NULL, *b = NULL;
	size_t la, lb;

	fx_open(&fx, "keyfile");
	s = unlock(&fx, 0);
	T_EQ_INT(store_seal(s, "secret", "k", "same", 4, &a, &la), 0);
	T_EQ_INT(store_seal(s, "secret", "k", "same", 4, &b, &lb), 0);
	T_ASSERT(la == lb && memcmp(a, b, la) != 0);
	free(a);
	free(b);
	store_free(s);
	fx_close(&fx);
}

static void
tampered_or_moved_ciphertext_fails(void)
{
	struct fixture fx;
	struct janee_secret *out = NULL;
	struct store *s;
	unsigned char *blob = NULL;
	size_t len, i;

	fx_open(&fx, "keyfile");
	s = unlock(&fx, 0);
	T_EQ_INT(store_seal(s, "secret", "a", "value", 5, &blob, &len), 0);
	/* Flip each byte in turn: version, nonce, ciphertext, tag. */
	for (i = 0; i < len; i++) {
		blob[i] ^= 0x01;
		janee_err_clear();
		T_EQ_INT(store_open(s, "secret", "a", blob, len, &out),
		    JANEE_ERR_TAMPERED);
		T_ASSERT(out == NULL);
		blob[i] ^= 0x01;
	}
	/* The same bytes under another name or purpose do not open. */
	janee_err_clear();
	T_EQ_INT(
	    store_open(s, "secret", "b", blob, len, &out), JANEE_ERR_TAMPERED);
	janee_err_clear();
	T_EQ_INT(store_open(s, "lease-token", "a", blob, len, &out),
	    JANEE_ERR_TAMPERED);
	janee_err_clear();
	T_EQ_INT(
	    store_open(s, "secret", "a", blob, 10, &out), JANEE_ERR_TAMPERED);
	janee_err_clear();
	T_EQ_INT(store_open(s, "secret", "a", blob, len, &out), 0);
	janee_secret_free(out);
	free(blob);
	store_free(s);
	fx_close(&fx);
}

static void
passphrase_backend_round_trip_and_wrong_passphrase(void)
{
	struct fixture fx;
	struct janee_secret *out = NULL;
	struct store *s;
	void *before = NULL, *after = NULL;
	size_t lb, la;

	setenv("JANEE_PASSPHRASE", "correct horse battery", 1);
	fx_open(&fx, "passphrase");
	s = unlock(&fx, 0);
	T_ASSERT(s != NULL);
	T_EQ_INT(secret_put(fx.lg, s, "db-url", "postgres://x", 12, "user"), 0);
	store_free(s);
	T_EQ_INT(ledger_meta_get(fx.lg, "store.dek", &before, &lb), 0);

	setenv("JANEE_PASSPHRASE", "wrong horse battery", 1);
	s = unlock(&fx, JANEE_ERR_BAD_KEY);
	T_ASSERT(s == NULL);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_BAD_KEY), "wrong passphrase") !=
	    NULL);
	/* A failed unlock changes nothing. */
	T_EQ_INT(ledger_meta_get(fx.lg, "store.dek", &after, &la), 0);
	T_ASSERT(la == lb && memcmp(before, after, la) == 0);

	unsetenv("JANEE_PASSPHRASE");
	s = unlock(&fx, JANEE_ERR_LOCKED);
	T_ASSERT(s == NULL);

	setenv("JANEE_PASSPHRASE", "correct horse battery", 1);
	s = unlock(&fx, 0);
	T_EQ_INT(secret_get(fx.lg, s, "db-url", &out), 0);
	T_ASSERT(out != NULL && strcmp((char *)out->data, "postgres://x") == 0);
	janee_secret_free(out);
	store_free(s);
	unsetenv("JANEE_PASSPHRASE");
	free(before);
	free(after);
	fx_close(&fx);
}

static void
short_new_passphrase_is_refused(void)
{
	struct fixture fx;
	struct ledger *lg;
	struct keysrc ks = { -1, -1, 0, 0 };
	struct home h;
	char *dir = t_tmpdir();

	(void)fx;
	setenv("JANEE_NEW_PASSPHRASE", "short", 1);
	T_EQ_INT(home_resolve(dir, &h), 0);
	T_EQ_INT(ledger_open(h.db, 1, &lg), 0);
	T_EQ_INT(ledger_begin(lg), 0);
	janee_err_clear();
	T_EQ_INT(store_create(lg, &h, "passphrase", &ks), JANEE_ERR_USAGE);
	ledger_rollback(lg);
	unsetenv("JANEE_NEW_PASSPHRASE");
	janee_err_clear();
	ledger_close(lg);
	home_free(&h);
	free(dir);
}

static void
wrong_or_loose_key_file_is_refused(void)
{
	struct fixture fx;
	unsigned char other[32];
	char *saved;

	fx_open(&fx, "keyfile");
	saved = janee_asprintf("%s.saved", fx.h.keyfile);
	T_EQ_INT(rename(fx.h.keyfile, saved), 0);
	memset(other, 0x42, sizeof(other));
	T_EQ_INT(write_file_atomic(fx.h.keyfile, other, sizeof(other)), 0);
	T_ASSERT(unlock(&fx, JANEE_ERR_BAD_KEY) == NULL);
	T_EQ_INT(rename(saved, fx.h.keyfile), 0);
	T_EQ_INT(chmod(fx.h.keyfile, 0644), 0);
	T_ASSERT(unlock(&fx, JANEE_ERR_PERM) == NULL);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_PERM), "chmod 600") != NULL);
	T_EQ_INT(chmod(fx.h.keyfile, 0600), 0);
	store_free(unlock(&fx, 0));
	free(saved);
	fx_close(&fx);
}

static const struct audit_event rekey_ev = {
	.event = "secret_rekey", .actor = "user", .outcome = "ok"
};

static void
rekey_keeps_values_and_fingerprints(void)
{
	struct fixture fx;
	struct janee_secret *out = NULL;
	struct store *s;
	char fp1[STORE_FP_HEX], fp2[STORE_FP_HEX];
	struct stat st;

	setenv("JANEE_PASSPHRASE", "first passphrase", 1);
	fx_open(&fx, "passphrase");
	s = unlock(&fx, 0);
	T_EQ_INT(secret_put(fx.lg, s, "key", "sealed-value", 12, "user"), 0);
	T_EQ_INT(store_fingerprint(s, "tok", 3, fp1), 0);
	/* passphrase -> new passphrase */
	setenv("JANEE_NEW_PASSPHRASE", "second passphrase", 1);
	T_EQ_INT(store_rekey(s, fx.lg, &fx.h, NULL, &fx.ks, &rekey_ev), 0);
	store_free(s);
	T_ASSERT(unlock(&fx, JANEE_ERR_BAD_KEY) == NULL);
	setenv("JANEE_PASSPHRASE", "second passphrase", 1);
	s = unlock(&fx, 0);
	T_EQ_INT(secret_get(fx.lg, s, "key", &out), 0);
	T_ASSERT(out && strcmp((char *)out->data, "sealed-value") == 0);
	janee_secret_free(out);
	T_EQ_INT(store_fingerprint(s, "tok", 3, fp2), 0);
	T_EQ_STR(fp1, fp2);
	/* passphrase -> keyfile: no passphrase needed any more */
	T_EQ_INT(store_rekey(s, fx.lg, &fx.h, "keyfile", &fx.ks, &rekey_ev), 0);
	store_free(s);
	unsetenv("JANEE_PASSPHRASE");
	T_EQ_INT(stat(fx.h.keyfile, &st), 0);
	T_EQ_INT(st.st_mode & 0777, 0600);
	s = unlock(&fx, 0);
	T_EQ_INT(secret_get(fx.lg, s, "key", &out), 0);
	janee_secret_free(out);
	/* keyfile -> passphrase: the key file goes away */
	setenv("JANEE_NEW_PASSPHRASE", "third passphrase", 1);
	T_EQ_INT(
	    store_rekey(s, fx.lg, &fx.h, "passphrase", &fx.ks, &rekey_ev), 0);
	store_free(s);
	T_ASSERT(stat(fx.h.keyfile, &st) != 0);
	setenv("JANEE_PASSPHRASE", "third passphrase", 1);
	s = unlock(&fx, 0);
	T_EQ_INT(store_fingerprint(s, "tok", 3, fp2), 0);
	T_EQ_STR(fp1, fp2);
	store_free(s);
	unsetenv("JANEE_PASSPHRASE");
	unsetenv("JANEE_NEW_PASSPHRASE");
	fx_close(&fx);
}

static void
keyfile_rekey_interrupted_before_rename_recovers(void)
{
	struct fixture fx;
	struct store *s;
	char *old, *next;

	fx_open(&fx, "keyfile");
	old = janee_asprintf("%s.old", fx.h.keyfile);
	next = janee_asprintf("%s.new", fx.h.keyfile);
	T_EQ_INT(link(fx.h.keyfile, old), 0);
	s = unlock(&fx, 0);
	T_EQ_INT(store_rekey(s, fx.lg, &fx.h, NULL, &fx.ks, &rekey_ev), 0);
	store_free(s);
	/* As if janee died after the commit, before the rename. */
	T_EQ_INT(rename(fx.h.keyfile, next), 0);
	T_EQ_INT(rename(old, fx.h.keyfile), 0);
	s = unlock(&fx, 0);
	T_ASSERT(s != NULL);
	T_ASSERT(access(next, F_OK) != 0); /* finished the rename */
	store_free(s);
	store_free(unlock(&fx, 0));
	free(old);
	free(next);
	fx_close(&fx);
}

static void
fingerprints_are_keyed_per_install(void)
{
	struct fixture a, b;
	struct store *sa, *sb;
	char fa[STORE_FP_HEX], fb[STORE_FP_HEX];

	fx_open(&a, "keyfile");
	fx_open(&b, "keyfile");
	sa = unlock(&a, 0);
	sb = unlock(&b, 0);
	T_EQ_INT(store_fingerprint(sa, "ghs_token", 9, fa), 0);
	T_EQ_INT(store_fingerprint(sb, "ghs_token", 9, fb), 0);
	T_EQ_INT(strlen(fa), 64);
	T_ASSERT(strcmp(fa, fb) != 0);
	store_free(sa);
	store_free(sb);
	fx_close(&a);
	fx_close(&b);
}

/* Search a file for a byte string. */
static int
file_has(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "rb");
	char *data;
	long n;
	int found = 0;

	if (fp == NULL)
		return 0;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	data = malloc((size_t)n + 1);
	if (data != NULL && fread(data, 1, (size_t)n, fp) == (size_t)n)
		found = memmem(data, (size_t)n, needle, strlen(needle)) != NULL;
	free(data);
	fclose(fp);
	return found;
}

static void
invariant_2_secrets_never_in_plaintext_in_ledger_files(void)
{
	static const char val[] = "PLAINTEXT-CANARY-4f1d9a";
	struct fixture fx;
	struct store *s;
	char *wal;

	fx_open(&fx, "keyfile");
	s = unlock(&fx, 0);
	T_EQ_INT(secret_put(fx.lg, s, "canary", val, strlen(val), "user"), 0);
	T_EQ_INT(secret_put(fx.lg, s, "canary", val, strlen(val), "user"), 0);
	wal = janee_asprintf("%s-wal", fx.h.db);
	T_ASSERT(!file_has(fx.h.db, val));
	T_ASSERT(!file_has(wal, val));
	T_ASSERT(!file_has(fx.h.keyfile, val));
	/* The name is not secret and is there: the search works. */
	T_ASSERT(file_has(wal, "canary") || file_has(fx.h.db, "canary"));
	free(wal);
	store_free(s);
	fx_close(&fx);
}

int
main(void)
{
	T_RUN(seal_round_trip_with_keyfile);
	T_RUN(seal_uses_fresh_nonces);
	T_RUN(tampered_or_moved_ciphertext_fails);
	T_RUN(passphrase_backend_round_trip_and_wrong_passphrase);
	T_RUN(short_new_passphrase_is_refused);
	T_RUN(wrong_or_loose_key_file_is_refused);
	T_RUN(rekey_keeps_values_and_fingerprints);
	T_RUN(keyfile_rekey_interrupted_before_rename_recovers);
	T_RUN(fingerprints_are_keyed_per_install);
	T_RUN(invariant_2_secrets_never_in_plaintext_in_ledger_files);
	return t_done();
}
