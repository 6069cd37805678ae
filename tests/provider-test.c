/*
 * A provider for the tests only, linked into tests/janee-test in place of
 * src/providers.c.  It mints random tokens and keeps "the provider's side"
 * as files in state_dir, one per live token, named by SHA-256 of the token:
 * a test can count live tokens and see revocations without any token
 * in a file name or content.  Failure injection comes from its config:
 *
 *   "state_dir": "/path"           required
 *   "credential": "secret:NAME"    read on every mint; missing -> failure
 *   "fail_mint": true              mint fails (after being called)
 *   "revoke": "ok" | "fail" | "unsupported"
 *   "expires_in": "10m"            the provider's own expiry
 *   "grant": [...]                 grant only these of the requested scopes
 *   "token_length": 520            length of minted tokens (default 44)
 *   "reconcile": "ok" | "blind" | "unreachable"
 *                                  after a crash: find the lease's tokens
 *                                  (ok); cannot look (blind: a token may
 *                                  be live, for expires_in when set); or
 *                                  a network failure (unreachable)
 *
 * calls.log has a line per call: "mint LEASE_ID", "repo NAME", "reconcile
 * LEASE_ID", and "revoke HASH @MS" with the real wall-clock time in ms
 * (not janee's test clock), so that a test can tell how late it came.
 *
 * JANEE_TEST_CLOCK_OFFSET (seconds) moves janee's clock, to test expiry.
 * The background agent gets neither that nor JANEE_TEST_CRASH_AT (its
 * environment is scrubbed: src/agent.c); JANEE_TEST_AGENT_CLOCK_OFFSET
 * and JANEE_TEST_AGENT_CRASH_AT, set for the command that starts it,
 * become them in the agent only.
 * JANEE_LEAK_SECRETS_FILE: every token minted and every credential read
 * is appended there for the suite-wide leak sweep (tests/leak-sweep.py).
 */
/* The test hooks of src/util.h (linked from libjanee_testhooks.a). */
#define JANEE_TEST_HOOKS 1
#include "common.h"

#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent.h"
#include "capture.h"
#include "config.h"
#include "providers.h"
#include "util.h"

struct tp {
	char *state_dir;
	char *credential;
	int fail_mint;
	int revoke; /* 0 ok, 1 fail, 2 unsupported */
	int reconcile; /* 0 ok, 1 blind, 2 unreachable */
	int64_t expires_in;
	int64_t token_length;
	struct janee_strlist grant;
};

void (*janee_test_capture_end)(void);

void
janee_test_leak_record(const char *kind, const char *value, size_t len)
{
	const char *path = getenv("JANEE_LEAK_SECRETS_FILE");
	unsigned char *line;
	size_t i, k = strlen(kind), n, b64 = 0;
	int fd;

	if (path == NULL || *path == '\0' || len == 0 || len > 65536)
		return;
	/* A value with a newline, a tab or a NUL (a PEM key) goes base64. */
	for (i = 0; i < len; i++)
		b64 |= value[i] == '\n' || value[i] == '\t' ||
		    value[i] == '\r' || value[i] == '\0';
	n = k + (b64 ? 4 + 4 * ((len + 2) / 3) : len) + 2;
	if ((line = malloc(n + 1)) == NULL)
		return;
	memcpy(line, kind, k);
	if (b64) {
		memcpy(line + k, ":b64\t", 5);
		EVP_EncodeBlock(
		    line + k + 5, (const unsigned char *)value, (int)len);
	} else {
		line[k] = '\t';
		memcpy(line + k + 1, value, len);
	}
	line[n - 1] = '\n';
	/* One O_APPEND write: lines of concurrent processes stay whole. */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write(fd, line, n) != (ssize_t)n)
			fprintf(stderr, "janee-test: cannot record a secret\n");
		close(fd);
	}
	janee_freezero(line, n + 1);
}

/* JANEE_TEST_CRASH_AT=POINT: die there as kill -9 would (no cleanup). */
static void
crash_at(const char *point)
{
	const char *want = getenv("JANEE_TEST_CRASH_AT");

	if (want != NULL && strcmp(want, point) == 0) {
		/* What janee wrote so far is out before the shell looks. */
		if (janee_test_capture_end != NULL)
			janee_test_capture_end();
		_exit(137);
	}
}

/* What the test binary passes on to the agent it starts (src/agent.c). */
static int
agent_env(struct janee_strlist *env)
{
	static const char *const keep[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS",
		"LSAN_OPTIONS", NULL };
	static const char *const renamed[][2] = {
		{ "JANEE_TEST_AGENT_CLOCK_OFFSET", "JANEE_TEST_CLOCK_OFFSET" },
		{ "JANEE_TEST_AGENT_CRASH_AT", "JANEE_TEST_CRASH_AT" },
	};
	const char *v;
	char *kv;
	size_t i;
	int rc;

	for (i = 0; keep[i] != NULL; i++)
		if ((v = getenv(keep[i])) != NULL) {
			if ((kv = janee_asprintf("%s=%s", keep[i], v)) == NULL)
				return JANEE_ERR_NOMEM;
			rc = janee_strlist_add(env, kv);
			free(kv);
			if (rc != 0)
				return rc;
		}
	for (i = 0; i < nitems(renamed); i++)
		if ((v = getenv(renamed[i][0])) != NULL) {
			if ((kv = janee_asprintf("%s=%s", renamed[i][1], v)) ==
			    NULL)
				return JANEE_ERR_NOMEM;
			rc = janee_strlist_add(env, kv);
			free(kv);
			if (rc != 0)
				return rc;
		}
	return 0;
}

__attribute__((constructor)) static void
test_hooks(void)
{
	agent_env_hook = agent_env;
	const char *v = getenv("JANEE_TEST_CLOCK_OFFSET");
	int64_t off;

	if (v != NULL && janee_parse_int(v, -1000000000, 1000000000, &off) == 0)
		janee_clock_offset_ms = off * 1000;
	if (getenv("JANEE_TEST_CRASH_AT") != NULL)
		janee_crash_hook = crash_at;
}
static void
tp_free(void *state)
{
	struct tp *t = state;

	free(t->state_dir);
	free(t->credential);
	janee_strlist_free(&t->grant);
	free(t);
}

static int
tp_configure(struct janee_ctx *ctx, struct janee_cfg *cfg, void **state)
{
	struct tp *t;
	const char *dir = NULL, *cred = NULL, *revoke = NULL, *recon = NULL;
	int rc;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return JANEE_ERR_NOMEM;
	t->token_length = 44;
	*state = t;
	if ((rc = janee_cfg_string(cfg, "state_dir", 1, &dir)) != 0 ||
	    (rc = janee_cfg_string(cfg, "credential", 0, &cred)) != 0 ||
	    (rc = janee_cfg_bool(cfg, "fail_mint", &t->fail_mint)) != 0 ||
	    (rc = janee_cfg_string(cfg, "revoke", 0, &revoke)) != 0 ||
	    (rc = janee_cfg_duration(cfg, "expires_in", &t->expires_in)) != 0 ||
	    (rc = janee_cfg_int(cfg, "token_length", &t->token_length)) != 0 ||
	    (rc = janee_cfg_strlist(cfg, "grant", &t->grant)) != 0 ||
	    (rc = janee_cfg_string(cfg, "reconcile", 0, &recon)) != 0)
		return rc;
	if (recon != NULL && strcmp(recon, "blind") == 0)
		t->reconcile = 1;
	else if (recon != NULL && strcmp(recon, "unreachable") == 0)
		t->reconcile = 2;
	else if (recon != NULL && strcmp(recon, "ok") != 0)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "reconcile must be ok, blind or unreachable");
	if (t->token_length < 8 || t->token_length > 4096)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "token_length must be "
		    "8..4096");
	if (revoke != NULL && strcmp(revoke, "fail") == 0)
		t->revoke = 1;
	else if (revoke != NULL && strcmp(revoke, "unsupported") == 0)
		t->revoke = 2;
	else if (revoke != NULL && strcmp(revoke, "ok") != 0)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "revoke must be ok, fail "
		    "or unsupported");
	if ((t->state_dir = janee_strdup(dir)) == NULL ||
	    (cred != NULL && (t->credential = janee_strdup(cred)) == NULL))
		return JANEE_ERR_NOMEM;
	return 0;
}

/* state_dir/<sha256 hex of the token> */
static char *
token_path(const struct tp *t, const struct janee_secret *tok)
{
	unsigned char md[32];
	char hex[65];

	EVP_Digest(tok->data, tok->len, md, NULL, EVP_sha256(), NULL);
	janee_hex(md, sizeof(md), hex);
	return janee_asprintf("%s/%s", t->state_dir, hex);
}

static void
log_line(const struct tp *t, const char *what, const char *arg)
{
	char *p = janee_asprintf("%s/calls.log", t->state_dir);
	FILE *fp;

	if (p != NULL && (fp = fopen(p, "a")) != NULL) {
		fprintf(fp, "%s %s\n", what, arg);
		fclose(fp);
	}
	free(p);
}

static int
tp_mint(struct janee_ctx *ctx, const struct janee_mint_req *req,
    struct janee_token *out)
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				    "qrstuvwxyz0123456789";
	struct tp *t = ctx->state;
	struct janee_secret *cred = NULL;
	unsigned char r[4096];
	char *tok = NULL, *path = NULL;
	size_t i, n = (size_t)t->token_length;
	FILE *fp;
	int rc;

	log_line(t, "mint", req->lease_id);
	for (i = 0; i < req->repositories->n; i++)
		log_line(t, "repo", req->repositories->v[i]);
	if (t->credential != NULL &&
	    (rc = ctx->secret_get(ctx, t->credential, &cred)) != 0)
		return rc;
	if (cred != NULL)
		janee_test_leak_record(
		    "credential", (const char *)cred->data, cred->len);
	janee_secret_free(cred);
	if (t->fail_mint)
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "test provider: mint "
		    "failed as configured");
	if ((tok = malloc(n + 1)) == NULL)
		return JANEE_ERR_NOMEM;
	if ((rc = janee_random(r, n)) != 0)
		goto out;
	memcpy(tok, "tst_", 4);
	for (i = 4; i < n; i++)
		tok[i] = alnum[r[i] % (sizeof(alnum) - 1)];
	tok[n] = '\0';
	janee_test_leak_record("token", tok, n);
	if ((out->token = janee_secret_new(tok, n)) == NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < req->scopes->n; i++)
		if ((t->grant.n == 0 ||
			janee_strlist_has(&t->grant, req->scopes->v[i])) &&
		    (rc = janee_strlist_add(
			 &out->granted, req->scopes->v[i])) != 0)
			goto out;
	if (t->expires_in > 0)
		out->expires_ms = ctx->now_ms() + t->expires_in * 1000;
	if ((path = token_path(t, out->token)) == NULL ||
	    (fp = fopen(path, "w")) == NULL) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "test provider: cannot "
		    "write its state in '%s'",
		    t->state_dir);
		goto out;
	}
	fprintf(fp, "%s\n", req->lease_id);
	fclose(fp);
out:
	janee_freezero(tok, n + 1);
	janee_wipe(r, sizeof(r));
	free(path);
	return rc;
}

static int
tp_revoke(struct janee_ctx *ctx, const struct janee_secret *token)
{
	struct tp *t = ctx->state;
	struct timespec now;
	char *path, at[96];
	int rc = 0;

	if (t->revoke == 2)
		return JANEE_ERR_UNSUPPORTED;
	if ((path = token_path(t, token)) == NULL)
		return JANEE_ERR_NOMEM;
	/* "revoke HASH @MS": when, on the real clock, for the agent's tests. */
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(at, sizeof(at), "%s @%lld", strrchr(path, '/') + 1,
	    (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	log_line(t, "revoke", at);
	if (t->revoke == 1)
		rc = janee_err_set(JANEE_ERR_NETWORK,
		    "test provider: revoke "
		    "failed as configured");
	else if (unlink(path) != 0 && errno != ENOENT)
		rc = janee_err_set(
		    JANEE_ERR_PROVIDER, "test provider: %s", strerror(errno));
	free(path);
	return rc;
}

/* Every token file whose content names lease_id: revoke (remove) it. */
static int
tp_reconcile(
    struct janee_ctx *ctx, const char *lease_id, struct janee_reconcile *r)
{
	struct tp *t = ctx->state;
	struct dirent *e;
	char line[64], *p;
	DIR *d;
	FILE *fp;

	log_line(t, "reconcile", lease_id);
	if (t->reconcile == 1) {
		r->lifetime_s = t->expires_in;
		return janee_err_set(JANEE_ERR_UNSUPPORTED,
		    "test provider: cannot look for the tokens of a lease");
	}
	if (t->reconcile == 2)
		return janee_err_set(JANEE_ERR_NETWORK,
		    "test provider: unreachable as configured");
	if ((d = opendir(t->state_dir)) == NULL)
		return janee_err_set(
		    JANEE_ERR_PROVIDER, "test provider: %s", strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (strlen(e->d_name) != 64 ||
		    (p = janee_asprintf("%s/%s", t->state_dir, e->d_name)) ==
			NULL)
			continue;
		if ((fp = fopen(p, "r")) != NULL) {
			if (fgets(line, sizeof(line), fp) != NULL &&
			    strncmp(line, lease_id, strlen(lease_id)) == 0 &&
			    unlink(p) == 0)
				r->revoked++;
			fclose(fp);
		}
		free(p);
	}
	closedir(d);
	return 0;
}

const struct janee_provider test_provider = {
	.version = JANEE_PROVIDER_VERSION,
	.type = "test",
	.summary = "test-only provider with failure injection",
	.caps = JANEE_CAP_NARROW | JANEE_CAP_REVOKE,
	.configure = tp_configure,
	.unconfigure = tp_free,
	.mint = tp_mint,
	.revoke = tp_revoke,
	.reconcile = tp_reconcile,
};

/* The built-in providers and the test provider. */
const struct janee_provider *const janee_providers[] = {
	JANEE_BUILTIN_PROVIDERS & test_provider,
	NULL,
};
