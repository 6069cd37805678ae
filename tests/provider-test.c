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
 *   "repositories": [...]          its resources' allow-list
 *   "parts": "login"               tokens of parts: user, password (secret),
 *                                  url (secret, the primary) and host, in
 *                                  TEST_USER, TEST_PASSWORD, TEST_URL and
 *                                  TEST_HOST for janee exec
 *   "revocable": false             info.revocable 0 (tokens run out)
 *   "default_max_ttl": "20m"       info.max_ttl_s
 *   "api_base": "https://..."      info.api_base, sent as "Bearer"
 *   "configure_secret": "secret:N" resolved in configure(), which checks
 *                                  that every service of the context is
 *                                  there before it runs
 *   "mint_delay": "2s"             the mint waits this long once its token
 *                                  exists (a slow provider, for races)
 *   "revoke_delay": "2s"           the revocation waits this long first
 *   "ledger_fails_after_mint": true  the ledger turns read-only once the
 *                                  token exists: the broker must fail
 *                                  closed (what the unit test's wrapped
 *                                  provider does, in the real binary)
 *   "reconcile": "ok" | "blind" | "unreachable"
 *                                  after a crash: find the lease's tokens
 *                                  (ok); cannot look (blind: a token may
 *                                  be live, for expires_in when set); or
 *                                  a network failure (unreachable)
 *
 * JANEE_TEST_CLOCK_OFFSET (seconds) moves janee's clock, to test expiry.
 * JANEE_LEAK_SECRETS_FILE: every token minted and every credential read
 * is appended there for the suite-wide leak sweep (tests/leak-sweep.py).
 */
/* The test hooks of src/util.h (linked from libjanee_testhooks.a). */
#define JANEE_TEST_HOOKS 1
#include "common.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <time.h>

#include <openssl/evp.h>

#include "broker.h"
#include "capture.h"
#include "config.h"
#include "providers.h"
#include "util.h"

struct tp {
	char *state_dir;
	char *credential;
	char *api_base;
	int fail_mint;
	int revoke; /* 0 ok, 1 fail, 2 unsupported */
	int login_parts; /* "parts": "login" */
	int reconcile; /* 0 ok, 1 blind, 2 unreachable */
	int64_t expires_in;
	int64_t token_length;
	int64_t mint_delay, revoke_delay;
	int ledger_fails_after_mint;
	struct janee_strlist grant;
};

static const struct janee_part_info login_parts[] = {
	{ "user", "TEST_USER", 0 },
	{ "password", "TEST_PASSWORD", JANEE_PART_SECRET },
	{ "url", "TEST_URL", JANEE_PART_SECRET },
	{ "host", "TEST_HOST", 0 },
	{ NULL, NULL, 0 },
};
static void
pause_s(int64_t s)
{
	struct timespec ts = { (time_t)s, 0 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

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

__attribute__((constructor)) static void
test_hooks(void)
{
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
	free(t->api_base);
	janee_strlist_free(&t->grant);
	free(t);
}

/* Every service of the context, there before configure() runs. */
static int
services_there(const struct janee_ctx *ctx)
{
	return ctx->name != NULL && ctx->ceiling != NULL &&
	    ctx->resources != NULL && ctx->secret_get != NULL &&
	    ctx->cred_get != NULL && ctx->cred_put != NULL &&
	    ctx->cred_broken != NULL && ctx->login_gone != NULL &&
	    ctx->cred_lock != NULL && ctx->cred_unlock != NULL &&
	    ctx->lease_live != NULL && ctx->now_ms != NULL && ctx->log != NULL;
}

static int
tp_configure(struct janee_ctx *ctx, struct janee_cfg *cfg, void **state,
    struct janee_info *info)
{
	struct tp *t;
	struct janee_secret *sec = NULL;
	const char *dir = NULL, *cred = NULL, *revoke = NULL, *parts = NULL,
		   *api = NULL, *csec = NULL, *recon = NULL;
	int rc, revocable = 1;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return JANEE_ERR_NOMEM;
	t->token_length = 44;
	*state = t;
	if (!services_there(ctx))
		return janee_err_set(JANEE_ERR_INTERNAL,
		    "test provider: a service of the context is missing in configure()");
	if ((rc = janee_cfg_string(cfg, "state_dir", 1, &dir)) != 0 ||
	    (rc = janee_cfg_string(cfg, "credential", 0, &cred)) != 0 ||
	    (rc = janee_cfg_bool(cfg, "fail_mint", &t->fail_mint)) != 0 ||
	    (rc = janee_cfg_string(cfg, "revoke", 0, &revoke)) != 0 ||
	    (rc = janee_cfg_duration(cfg, "expires_in", &t->expires_in)) != 0 ||
	    (rc = janee_cfg_int(cfg, "token_length", &t->token_length)) != 0 ||
	    (rc = janee_cfg_strlist(cfg, "grant", &t->grant)) != 0 ||
	    (rc = janee_cfg_string(cfg, "parts", 0, &parts)) != 0 ||
	    (rc = janee_cfg_bool(cfg, "revocable", &revocable)) != 0 ||
	    (rc = janee_cfg_duration(
		 cfg, "default_max_ttl", &info->max_ttl_s)) != 0 ||
	    (rc = janee_cfg_string(cfg, "api_base", 0, &api)) != 0 ||
	    (rc = janee_cfg_ref(cfg, "configure_secret", 0, &csec)) != 0 ||
	    (rc = janee_cfg_duration(cfg, "mint_delay", &t->mint_delay)) != 0 ||
	    (rc = janee_cfg_duration(cfg, "revoke_delay", &t->revoke_delay)) !=
		0 ||
	    (rc = janee_cfg_bool(cfg, "ledger_fails_after_mint",
		 &t->ledger_fails_after_mint)) != 0 ||
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
		return janee_err_set(
		    JANEE_ERR_CONFIG, "token_length must be 8..4096");
	if (revoke != NULL && strcmp(revoke, "fail") == 0)
		t->revoke = 1;
	else if (revoke != NULL && strcmp(revoke, "unsupported") == 0)
		t->revoke = 2;
	else if (revoke != NULL && strcmp(revoke, "ok") != 0)
		return janee_err_set(
		    JANEE_ERR_CONFIG, "revoke must be ok, fail or unsupported");
	if (parts != NULL && strcmp(parts, "login") != 0)
		return janee_err_set(JANEE_ERR_CONFIG, "parts must be login");
	/* The services work in configure(), not only exist. */
	if (csec != NULL) {
		if ((rc = ctx->secret_get(ctx, csec, &sec)) != 0)
			return rc;
		janee_test_leak_record(
		    "credential", (const char *)sec->data, sec->len);
		/* The clock and the log are there too. */
		ctx->log(
		    ctx, "configure() read a secret of %zu bytes", sec->len);
		janee_secret_free(sec);
		if (ctx->now_ms() <= 0)
			return janee_err_set(JANEE_ERR_INTERNAL,
			    "test provider: no clock in configure()");
	}
	t->login_parts = parts != NULL;
	if ((t->state_dir = janee_strdup(dir)) == NULL ||
	    (cred != NULL && (t->credential = janee_strdup(cred)) == NULL) ||
	    (api != NULL && (t->api_base = janee_strdup(api)) == NULL))
		return JANEE_ERR_NOMEM;
	info->revocable = revocable;
	info->reconcilable = 1;
	if (t->login_parts) {
		info->parts = login_parts;
		info->primary = "url";
	}
	info->api_base = t->api_base;
	info->auth_header = "Authorization";
	info->auth_scheme = "Bearer";
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

/* n random characters of [A-Za-z0-9] after prefix, in a new secret. */
static struct janee_secret *
random_text(const char *prefix, size_t n)
{
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[4096];
	struct janee_secret *s = NULL;
	size_t i, k = strlen(prefix);
	char *tok;

	if (n > sizeof(r) || k >= n || (tok = malloc(n + 1)) == NULL)
		return NULL;
	if (janee_random(r, n) == 0) {
		memcpy(tok, prefix, k);
		for (i = k; i < n; i++)
			tok[i] = alnum[r[i] % (sizeof(alnum) - 1)];
		tok[n] = '\0';
		s = janee_secret_new(tok, n);
	}
	janee_freezero(tok, n + 1);
	janee_wipe(r, sizeof(r));
	return s;
}

/* The part the provider's side is kept by: the url, or the token. */
static const struct janee_secret *
primary(const struct janee_token *tok)
{
	const struct janee_secret *v = janee_token_get(tok, "url");

	return v != NULL ? v : janee_token_get(tok, "token");
}

/* user, password, url and host: a database login's shape. */
static int
mint_login(const struct janee_mint_req *req, struct janee_token *out)
{
	struct janee_secret *pw, *url;
	char *u, user[64];
	int rc;

	snprintf(user, sizeof(user), "tst_%s", req->lease_id);
	if ((pw = random_text("pw_", 32)) == NULL)
		return JANEE_ERR_NOMEM;
	janee_test_leak_record("token", (const char *)pw->data, pw->len);
	u = janee_asprintf(
	    "test://%s:%s@test.invalid/db", user, (const char *)pw->data);
	url = u ? janee_secret_new(u, strlen(u)) : NULL;
	if (u != NULL)
		janee_freezero(u, strlen(u));
	if (url != NULL)
		janee_test_leak_record(
		    "token", (const char *)url->data, url->len);
	if ((rc = janee_token_put(out, "password", pw, JANEE_PART_SECRET)) !=
		0 ||
	    (rc = janee_token_put(out, "url", url, JANEE_PART_SECRET)) != 0 ||
	    (rc = janee_token_put(
		 out, "user", janee_secret_new(user, strlen(user)), 0)) != 0 ||
	    (rc = janee_token_put(
		 out, "host", janee_secret_new("test.invalid", 12), 0)) != 0)
		return rc;
	return 0;
}

static int
tp_mint(struct janee_ctx *ctx, const struct janee_mint_req *req,
    struct janee_token *out)
{
	struct tp *t = ctx->state;
	struct janee_secret *cred = NULL, *tok;
	char *path = NULL;
	size_t i;
	FILE *fp;
	int rc;

	log_line(t, "mint", req->lease_id);
	for (i = 0; i < req->resources->n; i++)
		log_line(t, "repo", req->resources->v[i]);
	if (t->credential != NULL &&
	    (rc = ctx->secret_get(ctx, t->credential, &cred)) != 0)
		return rc;
	if (cred != NULL)
		janee_test_leak_record(
		    "credential", (const char *)cred->data, cred->len);
	janee_secret_free(cred);
	if (t->fail_mint)
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "test provider: mint failed as configured");
	if (t->login_parts)
		rc = mint_login(req, out);
	else if ((tok = random_text("tst_", (size_t)t->token_length)) == NULL)
		rc = JANEE_ERR_NOMEM;
	else {
		janee_test_leak_record(
		    "token", (const char *)tok->data, tok->len);
		rc = janee_token_put(out, "token", tok, JANEE_PART_SECRET);
	}
	if (rc != 0)
		goto out;
	for (i = 0; i < req->scopes->n; i++)
		if ((t->grant.n == 0 ||
			janee_strlist_has(&t->grant, req->scopes->v[i])) &&
		    (rc = janee_strlist_add(
			 &out->granted, req->scopes->v[i])) != 0)
			goto out;
	if (t->expires_in > 0)
		out->expires_ms = ctx->now_ms() + t->expires_in * 1000;
	if ((path = token_path(t, primary(out))) == NULL ||
	    (fp = fopen(path, "w")) == NULL) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "test provider: cannot write its state in '%s'",
		    t->state_dir);
		goto out;
	}
	fprintf(fp, "%s\n", req->lease_id);
	fclose(fp);
	if (t->mint_delay > 0)
		pause_s(t->mint_delay);
	/* The core's ledger, reached as only a test may (the broker). */
	if (t->ledger_fails_after_mint)
		sqlite3_exec(((struct broker *)ctx->core)->lg->db,
		    "PRAGMA query_only = 1", NULL, NULL, NULL);
out:
	free(path);
	return rc;
}

static int
tp_revoke(
    struct janee_ctx *ctx, const char *lease_id, const struct janee_token *tok)
{
	struct tp *t = ctx->state;
	char *path;
	int rc = 0;

	if (t->revoke == 2)
		return JANEE_ERR_UNSUPPORTED;
	if (primary(tok) == NULL)
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "test provider: lease %s's token came back without its primary part",
		    lease_id);
	if ((path = token_path(t, primary(tok))) == NULL)
		return JANEE_ERR_NOMEM;
	log_line(t, "revoke", strrchr(path, '/') + 1);
	if (t->revoke_delay > 0)
		pause_s(t->revoke_delay);
	if (t->revoke == 1)
		rc = janee_err_set(JANEE_ERR_NETWORK,
		    "test provider: revoke failed as configured");
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
	.resources = "repositories",
	.resource = "repository",
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
