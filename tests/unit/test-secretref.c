/* Unit tests for src/secretref.c: kinds, resolution, expansion, detection. */
#include "common.h"

#include <sys/stat.h>

#include "secretref.h"
#include "t.h"
#include "util.h"

static void
test_kinds(void)
{
	T_EQ_INT(secretref_kind("secret:x"), SECRETREF_SECRET);
	T_EQ_INT(secretref_kind("env:X"), SECRETREF_ENV);
	T_EQ_INT(secretref_kind("file:/x"), SECRETREF_FILE);
	T_EQ_INT(secretref_kind("keyring:s/a"), SECRETREF_KEYRING);
	T_EQ_INT(secretref_kind("vault://m/p#f"), SECRETREF_VAULT);
	T_EQ_INT(secretref_kind("vault:m/p"), SECRETREF_NONE);
	T_EQ_INT(secretref_kind("Secret:x"), SECRETREF_NONE);
	T_EQ_INT(secretref_kind("ghp_abc"), SECRETREF_NONE);
	T_EQ_INT(secretref_kind(""), SECRETREF_NONE);
	T_EQ_INT(secretref_kind(NULL), SECRETREF_NONE);
}

static int
sealed(void *arg, const char *name, struct janee_secret **out)
{
	if (strcmp(name, "known") != 0)
		return janee_err_set(
		    JANEE_ERR_NOT_FOUND, "no secret '%s'", name);
	*out = janee_secret_new("sealed-value", 12);
	return 0;
}

static void
test_resolve_env_secret(void)
{
	struct janee_secret *s = NULL;

	setenv("SR_TEST_VAR", "v4lue", 1);
	T_EQ_INT(secretref_resolve("env:SR_TEST_VAR", NULL, NULL, &s), 0);
	T_ASSERT(s != NULL && s->len == 5 && memcmp(s->data, "v4lue", 5) == 0);
	janee_secret_free(s);
	unsetenv("SR_TEST_VAR");
	janee_err_clear();
	T_ASSERT(secretref_resolve("env:SR_TEST_VAR", NULL, NULL, &s) != 0);
	T_ASSERT(s == NULL);
	T_ASSERT(strstr(janee_err_msg(-1),
		     "cannot resolve 'env:SR_TEST_VAR'") != NULL);
	janee_err_clear();
	setenv("SR_TEST_VAR", "", 1);
	T_ASSERT(secretref_resolve("env:SR_TEST_VAR", NULL, NULL, &s) != 0);
	janee_err_clear();
	T_ASSERT(secretref_resolve("env:1BAD", NULL, NULL, &s) != 0);
	janee_err_clear();
	T_ASSERT(secretref_resolve("env:", NULL, NULL, &s) != 0);
	janee_err_clear();
	T_EQ_INT(secretref_resolve("secret:known", sealed, NULL, &s), 0);
	T_ASSERT(s != NULL && s->len == 12);
	janee_secret_free(s);
	T_ASSERT(secretref_resolve("secret:other", sealed, NULL, &s) != 0);
	T_ASSERT(strstr(janee_err_msg(-1), "secret:other") != NULL);
	janee_err_clear();
	/* No store: refused, not crashed. */
	T_ASSERT(secretref_resolve("secret:known", NULL, NULL, &s) != 0);
	janee_err_clear();
	/* Not a reference: refused without echoing it. */
	T_EQ_INT(secretref_resolve("ghp_notareference", NULL, NULL, &s),
	    JANEE_ERR_CONFIG);
	T_ASSERT(strstr(janee_err_msg(-1), "ghp_") == NULL);
	janee_err_clear();
}

static void
test_resolve_file(void)
{
	struct janee_secret *s = NULL;
	char *dir = t_tmpdir(), path[512], ref[600];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/tok", dir);
	snprintf(ref, sizeof(ref), "file:%s", path);
	fp = fopen(path, "w");
	fputs("filevalue\r\n", fp);
	fclose(fp);
	chmod(path, 0600);
	T_EQ_INT(secretref_resolve(ref, NULL, NULL, &s), 0);
	T_ASSERT(
	    s != NULL && s->len == 9 && memcmp(s->data, "filevalue", 9) == 0);
	janee_secret_free(s);
	chmod(path, 0604);
	T_EQ_INT(secretref_resolve(ref, NULL, NULL, &s), JANEE_ERR_PERM);
	janee_err_clear();
	chmod(path, 0600);
	fp = fopen(path, "w");
	fclose(fp);
	T_ASSERT(secretref_resolve(ref, NULL, NULL, &s) != 0); /* empty */
	janee_err_clear();
	T_ASSERT(secretref_resolve("file:", NULL, NULL, &s) != 0);
	janee_err_clear();
	snprintf(ref, sizeof(ref), "file:%s/missing", dir);
	T_ASSERT(secretref_resolve(ref, NULL, NULL, &s) != 0);
	janee_err_clear();
	free(dir);
}

static void
test_resolve_malformed(void)
{
	static const char *const bad[] = { "vault://", "vault://mount",
		"vault://m/", "vault:///p", "vault://m//p", "vault://m/../p",
		"vault://m/./p", "vault://m/p#", "vault://m/p q#f",
		"vault://m/p%2f#f", "keyring:", "keyring:svc", "keyring:/acct",
		"keyring:svc/", NULL };
	struct janee_secret *s = NULL;
	size_t i;

	setenv("VAULT_ADDR", "https://127.0.0.1:1", 1);
	for (i = 0; bad[i] != NULL; i++) {
		if (secretref_resolve(bad[i], NULL, NULL, &s) == 0) {
			fprintf(stderr, "  accepted '%s'\n", bad[i]);
			t_case_failed = 1;
		}
		T_ASSERT(s == NULL);
		janee_err_clear();
	}
	unsetenv("VAULT_ADDR");
	T_EQ_INT(secretref_resolve("vault://m/p#f", NULL, NULL, &s),
	    JANEE_ERR_CONFIG);
	T_ASSERT(strstr(janee_err_msg(-1), "VAULT_ADDR") != NULL);
	janee_err_clear();
	/* Plain http to another host is refused by the HTTP layer. */
	setenv("VAULT_ADDR", "http://vault.example.com", 1);
	setenv("VAULT_TOKEN", "t", 1);
	T_ASSERT(secretref_resolve("vault://m/p#f", NULL, NULL, &s) != 0);
	T_ASSERT(strstr(janee_err_msg(-1), "plain http") != NULL);
	janee_err_clear();
	unsetenv("VAULT_ADDR");
	unsetenv("VAULT_TOKEN");
}

static void
test_expand(void)
{
	char *out = NULL;

	setenv("SR_A", "alpha", 1);
	T_EQ_INT(secretref_expand("x-${SR_A}-y", &out), 0);
	T_EQ_STR(out, "x-alpha-y");
	free(out);
	T_EQ_INT(secretref_expand("$${SR_A} $SR_A ${SR_A}", &out), 0);
	T_EQ_STR(out, "${SR_A} $SR_A alpha");
	free(out);
	T_EQ_INT(secretref_expand("", &out), 0);
	T_EQ_STR(out, "");
	free(out);
	unsetenv("SR_UNSET");
	T_EQ_INT(secretref_expand("${SR_UNSET}", &out), JANEE_ERR_NOT_FOUND);
	T_ASSERT(out == NULL);
	janee_err_clear();
	T_ASSERT(secretref_expand("${", &out) != 0);
	janee_err_clear();
	T_ASSERT(secretref_expand("${1X}", &out) != 0);
	janee_err_clear();
	T_ASSERT(secretref_expand("${A B}", &out) != 0);
	janee_err_clear();
}

static void
test_looks_secret(void)
{
	/* Known shapes, whatever the name. */
	T_ASSERT(secretref_looks_secret(
		     NULL, "ghp_0123456789abcdefghijABCDEFGHIJ012345") != NULL);
	T_ASSERT(
	    secretref_looks_secret("X",
		"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvw") !=
	    NULL);
	T_ASSERT(
	    secretref_looks_secret(NULL, "xoxb-1234567890-abcdefghij") != NULL);
	T_ASSERT(secretref_looks_secret(
		     NULL, "sk-proj-abcdefghijklmnopqrstuvwxyz012345") != NULL);
	T_ASSERT(secretref_looks_secret(NULL, "AKIAABCDEFGHIJKLMNOP") != NULL);
	T_ASSERT(secretref_looks_secret(
		     NULL, "postgres://user:hunter2@db:5432/app") != NULL);
	/* High entropy under a secret-like name. */
	T_ASSERT(secretref_looks_secret(
		     "API_KEY", "a8F3kLm92QwErTyUiOp01ZxC") != NULL);
	T_ASSERT(secretref_looks_secret(
		     "clientSecret", "a8F3kLm92QwErTyUiOp01ZxC") != NULL);
	T_ASSERT(secretref_looks_secret(
		     "api-key", "a8F3kLm92QwErTyUiOp01ZxC") != NULL);
	T_ASSERT(secretref_looks_secret(
		     "ACCESSTOKEN", "a8F3kLm92QwErTyUiOp01ZxC") != NULL);
	/* Not secrets. */
	T_ASSERT(secretref_looks_secret("MONKEY", "a8F3kLm92QwErTyUiOp01ZxC") ==
	    NULL);
	T_ASSERT(secretref_looks_secret("REGION", "a8F3kLm92QwErTyUiOp01ZxC") ==
	    NULL);
	T_ASSERT(secretref_looks_secret("API_KEY", "changeme") == NULL);
	T_ASSERT(secretref_looks_secret("TOKEN", "secret:name") == NULL);
	T_ASSERT(secretref_looks_secret("TOKEN", "${input:tok}") == NULL);
	T_ASSERT(secretref_looks_secret("TOKEN", "${env:GH}") == NULL);
	T_ASSERT(secretref_looks_secret(
		     "KEY_FILE", "/home/me/.ssh/id_ed25519") == NULL);
	T_ASSERT(secretref_looks_secret("TOKEN_TTL", "3600") == NULL);
	T_ASSERT(secretref_looks_secret("SECRET", "true") == NULL);
	T_ASSERT(
	    secretref_looks_secret(NULL, "https://example.com/a?b=c") == NULL);
	T_ASSERT(
	    secretref_looks_secret(NULL, "https://user@example.com/") == NULL);
	T_ASSERT(secretref_looks_secret(
		     NULL, "postgres://user:${DB_PASSWORD}@db/app") == NULL);
	T_ASSERT(secretref_looks_secret(NULL, "ghp_short") == NULL);
	T_ASSERT(secretref_looks_secret(NULL, "sk-learn") == NULL);
	T_ASSERT(secretref_looks_secret(NULL, "AKIA") == NULL);
	T_ASSERT(secretref_looks_secret(
		     "PASSWORD", "correct horse battery staple") == NULL);
	T_ASSERT(secretref_looks_secret("KEY", "") == NULL);
	T_ASSERT(secretref_looks_secret("KEY", NULL) == NULL);
}

static void
test_mask(void)
{
	char *m;

	m = secretref_mask("ghp_0123456789abcdefghijABCDEFGHIJ012345");
	T_EQ_STR(m, "ghp_********");
	free(m);
	m = secretref_mask("postgres://user:hunter2@db:5432/app");
	T_EQ_STR(m, "postgres://user:********@db:5432/app");
	free(m);
	m = secretref_mask("a8F3kLm92QwErTyUiOp01ZxC");
	T_EQ_STR(m, "********");
	free(m);
}

/* Issue 12, finding 4: the names janee reads, for keeping them out of
 * what it runs. */
static void
env_names_are_what_a_reference_reads(void)
{
	struct janee_strlist l;

	memset(&l, 0, sizeof(l));
	T_EQ_INT(secretref_env_names("env:TP_LONGLIVED_SECRET", &l), 0);
	T_EQ_INT(secretref_env_names("vault://kv/app#token", &l), 0);
	T_EQ_INT(secretref_env_names(
		     "https://${API_HOST}:${API_PORT}/x$${LITERAL}", &l),
	    0);
	/* Again: each name once. */
	T_EQ_INT(secretref_env_names("env:TP_LONGLIVED_SECRET", &l), 0);
	T_EQ_INT(l.n, 8);
	T_ASSERT(janee_strlist_has(&l, "TP_LONGLIVED_SECRET"));
	T_ASSERT(janee_strlist_has(&l, "VAULT_TOKEN"));
	T_ASSERT(janee_strlist_has(&l, "VAULT_ADDR"));
	T_ASSERT(janee_strlist_has(&l, "VAULT_TOKEN_FILE"));
	T_ASSERT(janee_strlist_has(&l, "VAULT_NAMESPACE"));
	T_ASSERT(janee_strlist_has(&l, "VAULT_CACERT"));
	T_ASSERT(janee_strlist_has(&l, "API_HOST"));
	T_ASSERT(janee_strlist_has(&l, "API_PORT"));
	T_ASSERT(!janee_strlist_has(&l, "LITERAL"));
	janee_strlist_free(&l);
	/* The session's basics, other references and malformed names: none. */
	T_EQ_INT(secretref_env_names("${HOME}/ca.pem:${PATH}:${USER}", &l), 0);
	T_EQ_INT(secretref_env_names("secret:gh-key", &l), 0);
	T_EQ_INT(secretref_env_names("file:~/.token", &l), 0);
	T_EQ_INT(secretref_env_names("keyring:svc/acct", &l), 0);
	T_EQ_INT(secretref_env_names("env:1BAD", &l), 0);
	T_EQ_INT(secretref_env_names("${} ${A-B} ${unterminated", &l), 0);
	T_EQ_INT(l.n, 0);
	janee_strlist_free(&l);
}

int
main(void)
{
	T_RUN(test_kinds);
	T_RUN(test_resolve_env_secret);
	T_RUN(test_resolve_file);
	T_RUN(test_resolve_malformed);
	T_RUN(test_expand);
	T_RUN(test_looks_secret);
	T_RUN(test_mask);
	T_RUN(env_names_are_what_a_reference_reads);
	return t_done();
}
