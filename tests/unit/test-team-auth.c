/*
 * Unit tests: team mode's authorization (src/team-auth.h) and agent
 * registry (src/team-agents.h).  Keys are made with the openssl command,
 * assertions and forged tokens with jose (tests/peers/team-jwt.mjs), not
 * with the libjwt that janee verifies them with.  Each refusal is
 * checked to be that refusal (its error and description).
 */
#include "common.h"

#include <signal.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "home.h"
#include "keysrc.h"
#include "ledger.h"
#include "store.h"
#include "team-agents.h"
#include "team-auth.h"
#include "team-issuer.h"
#include "util.h"

#include "t.h"

#define RESOURCE "https://janee.test/mcp"
#define TOKEN_URL "https://janee.test/oauth/token"
#define ISSUER "https://janee.test"

struct fx {
	char *dir;
	struct home h;
	struct ledger *lg;
	struct keysrc ks;
	struct store *s;
	struct config *cfg;
	struct team_auth *ta;
};

static const struct janee_provider *const no_providers[] = { NULL };

static const char *
srcdir(void)
{
	const char *d = getenv("JANEE_SRCDIR");

	return d != NULL && *d != '\0' ? d : "..";
}

/* Run a shell command; its stdout (trimmed), or NULL when it failed. */
static char *
run(const char *cmd)
{
	char buf[16384];
	size_t n = 0, r;
	FILE *p;

	if ((p = popen(cmd, "r")) == NULL)
		return NULL;
	while ((r = fread(buf + n, 1, sizeof(buf) - 1 - n, p)) > 0)
		n += r;
	if (pclose(p) != 0) {
		fprintf(stderr, "  command failed: %s\n", cmd);
		return NULL;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	return strdup(buf);
}

/* The fixture with config.json's text (NULL: janee issues for
 * RESOURCE) in a scratch directory, dir when it is not NULL. */
static void
fx_open_cfg(struct fx *f, const char *dir, const char *config)
{
	char *text;

	memset(f, 0, sizeof(*f));
	f->dir = dir ? strdup(dir) : t_tmpdir();
	f->ks.fd = f->ks.new_fd = -1;
	text = config
	    ? strdup(config)
	    : janee_asprintf("{\"auth\": {\"resource\": \"%s\"}}", RESOURCE);
	if (home_resolve(f->dir, &f->h) != 0 ||
	    ledger_open(f->h.db, 1, &f->lg) != 0 || ledger_begin(f->lg) != 0 ||
	    store_create(f->lg, &f->h, "keyfile", &f->ks) != 0 ||
	    ledger_commit(f->lg) != 0 ||
	    store_unlock(f->lg, &f->h, &f->ks, &f->s) != 0 ||
	    config_parse(text, "config.json", no_providers, NULL, &f->cfg) !=
		0 ||
	    team_auth_open(f->lg, f->s, f->cfg, NULL, &f->ta) != 0) {
		fprintf(stderr, "fixture: %s\n", janee_err_msg(-1));
		abort();
	}
	free(text);
}

static void
fx_open(struct fx *f)
{
	fx_open_cfg(f, NULL, NULL);
}

static void
fx_close(struct fx *f)
{
	team_auth_free(f->ta);
	config_free(f->cfg);
	store_free(f->s);
	ledger_close(f->lg);
	home_free(&f->h);
	free(f->dir);
}

/* A key made by openssl: DIR/NAME.pem (private), the public in *spki. */
static char *
openssl_key(struct fx *f, const char *name, const char *type)
{
	char *cmd, *path = janee_asprintf("%s/%s.pem", f->dir, name), *out;

	cmd = janee_asprintf(strcmp(type, "RSA") == 0
		? "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out '%s' 2>/dev/null"
		: "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '%s' 2>/dev/null",
	    path);
	out = run(cmd);
	T_ASSERT(out != NULL);
	free(out);
	free(cmd);
	return path;
}

/* Register NAME with the public half of the private key at path. */
static void
register_agent(struct fx *f, const char *name, const char *path, int rotate)
{
	char *cmd = janee_asprintf("openssl pkey -in '%s' -pubout", path);
	char *pub = run(cmd), *spki = NULL, kid[TEAM_KID_LEN];
	enum janee_jwt_alg alg;

	T_ASSERT(pub != NULL);
	if (pub != NULL) {
		T_EQ_INT(
		    team_key_import(pub, strlen(pub), "pub", &spki, kid, &alg),
		    0);
		T_EQ_INT(rotate
			? team_agent_rotate(f->lg, name, spki, kid, alg, "user")
			: team_agent_add(f->lg, name, spki, kid, alg, "user"),
		    0);
	}
	free(spki);
	free(pub);
	free(cmd);
}

/* A JWT signed by jose: "sign KEY ALG CLAIMS [KID]", "none", "hmac". */
static char *
jose(const char *how, const char *key, const char *alg, const char *claims)
{
	char *cmd, *t;

	if (strcmp(how, "none") == 0)
		cmd = janee_asprintf(
		    "node '%s/tests/peers/team-jwt.mjs' none '%s'", srcdir(),
		    claims);
	else if (strcmp(how, "hmac") == 0 || strcmp(how, "hmac-dup") == 0)
		cmd = janee_asprintf(
		    "node '%s/tests/peers/team-jwt.mjs' %s '%s' '%s'", srcdir(),
		    how, key, claims);
	else
		cmd = janee_asprintf(
		    "node '%s/tests/peers/team-jwt.mjs' sign '%s' %s '%s'",
		    srcdir(), key, alg, claims);
	t = run(cmd);
	T_ASSERT(t != NULL);
	free(cmd);
	return t;
}

static int jti_n;

/* An RFC 7523 assertion's claims for iss, with exp now + life. */
static char *
assertion_claims(const char *iss, const char *sub, const char *aud,
    int64_t life, const char *extra)
{
	int64_t now = janee_now_ms() / 1000;

	return janee_asprintf(
	    "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",\"jti\":\"j%d-%lld\",\"iat\":%lld,\"exp\":%lld%s}",
	    iss, sub, aud, ++jti_n, (long long)now, (long long)now,
	    (long long)(now + life), extra ? extra : "");
}

static char *
form(const char *assertion, const char *extra)
{
	return janee_asprintf(
	    "grant_type=client_credentials&"
	    "client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-assertion-type%%3Ajwt-bearer&"
	    "client_assertion=%s%s",
	    assertion, extra ? extra : "");
}

/* POST the form to the token endpoint through the route hook. */
static int
post(struct fx *f, const char *body, cJSON **answer)
{
	char *ct = NULL, *out = NULL;
	int status = 0;

	T_EQ_INT(team_auth_route(f->ta, "POST", "/oauth/token",
		     "application/x-www-form-urlencoded", body, strlen(body),
		     &status, &ct, &out),
	    1);
	T_EQ_STR(ct, "application/json");
	*answer = out ? cJSON_Parse(out) : NULL;
	T_ASSERT(*answer != NULL);
	free(ct);
	free(out);
	return status;
}

static const char *
str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The assertion's answer: 200 and the access token, or NULL. */
static char *
token_for(struct fx *f, const char *assertion, const char *extra)
{
	char *body = form(assertion, extra), *tok = NULL;
	cJSON *a = NULL;

	if (post(f, body, &a) == 200 && str(a, "access_token") != NULL)
		tok = strdup(str(a, "access_token"));
	cJSON_Delete(a);
	free(body);
	return tok;
}

/* The token endpoint refuses with this status, error and description. */
static void
refused(struct fx *f, const char *assertion, const char *extra, int status,
    const char *error, const char *why)
{
	char *body = form(assertion, extra);
	cJSON *a = NULL;

	T_EQ_INT(post(f, body, &a), status);
	T_EQ_STR(str(a, "error"), error);
	if (why != NULL) {
		T_ASSERT(str(a, "error_description") != NULL &&
		    strstr(str(a, "error_description"), why) != NULL);
		if (str(a, "error_description") != NULL &&
		    strstr(str(a, "error_description"), why) == NULL)
			fprintf(stderr, "  said: %s\n",
			    str(a, "error_description"));
	}
	T_ASSERT(str(a, "access_token") == NULL);
	cJSON_Delete(a);
	free(body);
}

/* Check a bearer token: the agent, or the challenge's description. */
static int
check(struct fx *f, const char *tok, char **agent, char **www)
{
	char *h = tok ? janee_asprintf("Bearer %s", tok) : NULL;
	int rc = team_auth_check(f->ta, h, agent, www);

	free(h);
	return rc;
}

static void
bearer_refused(struct fx *f, const char *tok, const char *why)
{
	char *agent = NULL, *www = NULL;

	T_ASSERT(check(f, tok, &agent, &www) != 0);
	T_ASSERT(agent == NULL);
	T_ASSERT(www != NULL &&
	    strstr(www,
		"Bearer resource_metadata=\"https://janee.test/.well-known/oauth-protected-resource/mcp\", error=\"invalid_token\"") ==
		www);
	T_ASSERT(www != NULL && strstr(www, why) != NULL);
	if (www != NULL && strstr(www, why) == NULL)
		fprintf(stderr, "  said: %s\n", www);
	free(www);
}

/* A valid assertion for ci-bot, signed with key (ES256). */
static char *
good_assertion(const char *key)
{
	char *c = assertion_claims("ci-bot", "ci-bot", TOKEN_URL, 60, NULL);
	char *t = jose("sign", key, "ES256", c);

	free(c);
	return t;
}

static void
metadata_and_challenge_name_the_resource(void)
{
	struct team_auth *other = NULL;
	struct fx f;
	char *json = NULL, *ct = NULL, *www = NULL, *agent = NULL;
	int status = 0;
	cJSON *o;

	fx_open(&f);
	/* RFC 9728 section 3.1: the path goes after the well-known part. */
	T_EQ_INT(team_auth_route(f.ta, "GET",
		     "/.well-known/oauth-protected-resource/mcp", NULL, NULL, 0,
		     &status, &ct, &json),
	    1);
	T_EQ_INT(status, 200);
	o = json ? cJSON_Parse(json) : NULL;
	T_EQ_STR(str(o, "resource"), RESOURCE);
	T_EQ_STR(
	    cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(o, "authorization_servers"), 0)
		->valuestring,
	    ISSUER);
	T_EQ_STR(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
					o, "bearer_methods_supported"),
		     0)
		     ->valuestring,
	    "header");
	cJSON_Delete(o);
	free(json);
	free(ct);
	/* The authorization server's metadata names the token endpoint. */
	T_EQ_INT(team_auth_route(f.ta, "GET",
		     "/.well-known/oauth-authorization-server", NULL, NULL, 0,
		     &status, &ct, &json),
	    1);
	o = json ? cJSON_Parse(json) : NULL;
	T_EQ_STR(str(o, "token_endpoint"), TOKEN_URL);
	T_EQ_STR(str(o, "issuer"), ISSUER);
	/* RFC 8414 section 2's REQUIRED members are all there. */
	T_ASSERT(cJSON_IsArray(
	    cJSON_GetObjectItemCaseSensitive(o, "response_types_supported")));
	cJSON_Delete(o);
	free(json);
	free(ct);
	/* Not janee's path: not handled. */
	T_EQ_INT(team_auth_route(f.ta, "POST", "/mcp", "application/json", "{}",
		     2, &status, &ct, &json),
	    0);
	/* No credentials: a challenge with no error (RFC 6750 3.1). */
	T_ASSERT(team_auth_check(f.ta, NULL, &agent, &www) != 0);
	T_EQ_STR(www,
	    "Bearer resource_metadata=\"https://janee.test/.well-known/oauth-protected-resource/mcp\"");
	free(www);
	T_ASSERT(team_auth_check(f.ta, "Basic dTpw", &agent, &www) != 0);
	T_ASSERT(www != NULL && strstr(www, "error=") == NULL);
	free(www);
	/* janee's URL is https, or http on loopback only. */
	T_ASSERT(team_auth_open(
		     f.lg, f.s, f.cfg, "http://janee.test/mcp", &other) != 0);
	T_ASSERT(other == NULL);
	janee_err_clear();
	fx_close(&f);
}

static void
valid_assertion_gets_a_token_that_verifies(void)
{
	struct fx f;
	char *key, *a, *tok, *agent = NULL, *www = NULL;

	fx_open(&f);
	key = openssl_key(&f, "ci", "EC");
	register_agent(&f, "ci-bot", key, 0);
	a = good_assertion(key);
	/* With client_id and resource (RFC 8707), both janee's. */
	tok = token_for(
	    &f, a, "&client_id=ci-bot&resource=https%3A%2F%2Fjanee.test%2Fmcp");
	T_ASSERT(tok != NULL);
	T_EQ_INT(check(&f, tok, &agent, &www), 0);
	T_EQ_STR(agent, "ci-bot");
	T_ASSERT(www == NULL);
	free(agent);
	free(tok);
	free(a);
	free(key);
	fx_close(&f);
}

static void
rsa_agent_key_works_too(void)
{
	struct fx f;
	char *key, *c, *a, *tok;

	fx_open(&f);
	key = openssl_key(&f, "ci", "RSA");
	register_agent(&f, "ci-bot", key, 0);
	c = assertion_claims("ci-bot", "ci-bot", TOKEN_URL, 60, NULL);
	a = jose("sign", key, "RS256", c);
	tok = token_for(&f, a, NULL);
	T_ASSERT(tok != NULL);
	free(tok);
	free(a);
	free(c);
	free(key);
	fx_close(&f);
}

static void
replayed_assertion_is_refused(void)
{
	struct fx f;
	char *key, *a, *tok;

	fx_open(&f);
	key = openssl_key(&f, "ci", "EC");
	register_agent(&f, "ci-bot", key, 0);
	a = good_assertion(key);
	tok = token_for(&f, a, NULL);
	T_ASSERT(tok != NULL);
	refused(&f, a, NULL, 401, "invalid_client", "used before");
	free(tok);
	free(a);
	free(key);
	fx_close(&f);
}

static void
assertion_for_another_client_is_refused(void)
{
	struct fx f;
	char *ci, *other, *c, *a;

	fx_open(&f);
	ci = openssl_key(&f, "ci", "EC");
	other = openssl_key(&f, "other", "EC");
	register_agent(&f, "ci-bot", ci, 0);
	register_agent(&f, "other-bot", other, 0);
	/* other-bot's key, claiming to be ci-bot: the signature fails. */
	c = assertion_claims("ci-bot", "ci-bot", TOKEN_URL, 60, NULL);
	a = jose("sign", other, "ES256", c);
	refused(&f, a, NULL, 401, "invalid_client", "signature");
	free(a);
	free(c);
	/* other-bot's own assertion for ci-bot as sub. */
	c = assertion_claims("other-bot", "ci-bot", TOKEN_URL, 60, NULL);
	a = jose("sign", other, "ES256", c);
	refused(&f, a, NULL, 401, "invalid_client", "sub is not its iss");
	free(a);
	free(c);
	/* A client_id other than the assertion's iss. */
	a = good_assertion(ci);
	refused(
	    &f, a, "&client_id=other-bot", 401, "invalid_client", "client_id");
	free(a);
	/* Nobody registered by that name. */
	c = assertion_claims("ghost", "ghost", TOKEN_URL, 60, NULL);
	a = jose("sign", ci, "ES256", c);
	refused(&f, a, NULL, 401, "invalid_client", "not a registered agent");
	free(a);
	free(c);
	free(ci);
	free(other);
	fx_close(&f);
}

static void
assertion_claims_are_checked(void)
{
	struct fx f;
	char *key, *c, *a;
	int64_t now = janee_now_ms() / 1000;
	char extra[64];

	fx_open(&f);
	key = openssl_key(&f, "ci", "EC");
	register_agent(&f, "ci-bot", key, 0);
	/* aud: the token endpoint, not the resource. */
	c = assertion_claims("ci-bot", "ci-bot", RESOURCE, 60, NULL);
	a = jose("sign", key, "ES256", c);
	refused(&f, a, NULL, 401, "invalid_client", "aud");
	free(a);
	free(c);
	/* Expired beyond the skew. */
	c = assertion_claims("ci-bot", "ci-bot", TOKEN_URL, -120, NULL);
	a = jose("sign", key, "ES256", c);
	refused(&f, a, NULL, 401, "invalid_client", "expired");
	free(a);
	free(c);
	/* An exp too far ahead: assertions are short-lived. */
	c = assertion_claims("ci-bot", "ci-bot", TOKEN_URL, 3600, NULL);
	a = jose("sign", key, "ES256", c);
	refused(&f, a, NULL, 401, "invalid_client", "too long");
	free(a);
	free(c);
	/* nbf beyond the skew. */
	snprintf(extra, sizeof(extra), ",\"nbf\":%lld", (long long)now + 200);
	c = assertion_claims("ci-bot", "ci-bot", TOKEN_URL, 60, extra);
	a = jose("sign", key, "ES256", c);
	refused(&f, a, NULL, 401, "invalid_client", "nbf");
	free(a);
	free(c);
	/* No exp at all. */
	a = jose("sign", key, "ES256",
	    "{\"iss\":\"ci-bot\",\"sub\":\"ci-bot\",\"aud\":\"" TOKEN_URL
	    "\",\"jti\":\"noexp\"}");
	refused(&f, a, NULL, 401, "invalid_client", "no exp");
	free(a);
	/* No jti: it could not be refused the second time. */
	snprintf(extra, sizeof(extra), "%lld", (long long)now + 60);
	c = janee_asprintf(
	    "{\"iss\":\"ci-bot\",\"sub\":\"ci-bot\",\"aud\":\"" TOKEN_URL
	    "\",\"exp\":%s}",
	    extra);
	a = jose("sign", key, "ES256", c);
	refused(&f, a, NULL, 401, "invalid_client", "jti");
	free(a);
	free(c);
	/* alg none: unsigned. */
	c = assertion_claims("ci-bot", "ci-bot", TOKEN_URL, 60, NULL);
	a = jose("none", NULL, NULL, c);
	refused(&f, a, NULL, 401, "invalid_client", "algorithm");
	free(a);
	free(c);
	free(key);
	fx_close(&f);
}

static void
token_request_is_checked(void)
{
	struct fx f;
	char *key, *a, *body;
	cJSON *o = NULL;

	fx_open(&f);
	key = openssl_key(&f, "ci", "EC");
	register_agent(&f, "ci-bot", key, 0);
	a = good_assertion(key);
	refused(&f, a, "&resource=https%3A%2F%2Fother.test%2Fmcp", 400,
	    "invalid_target", NULL);
	refused(&f, a, "&grant_type=client_credentials", 400, "invalid_request",
	    "twice");
	body = janee_asprintf("grant_type=authorization_code&code=x");
	T_EQ_INT(post(&f, body, &o), 400);
	T_EQ_STR(str(o, "error"), "invalid_request");
	cJSON_Delete(o);
	free(body);
	body = janee_asprintf(
	    "grant_type=password&client_assertion_type=x&client_assertion=%s",
	    a);
	T_EQ_INT(post(&f, body, &o), 400);
	T_EQ_STR(str(o, "error"), "unsupported_grant_type");
	cJSON_Delete(o);
	free(body);
	/* After all these refusals the assertion is still unspent. */
	body = token_for(&f, a, NULL);
	T_ASSERT(body != NULL);
	free(body);
	free(a);
	free(key);
	fx_close(&f);
}

static void
hs256_signed_with_the_public_key_is_refused(void)
{
	struct fx f;
	struct team_agent ag;
	char *key, *c, *a, *pub;
	FILE *fp;

	fx_open(&f);
	key = openssl_key(&f, "ci", "EC");
	register_agent(&f, "ci-bot", key, 0);
	/* The HMAC key: the public key's text exactly as janee keeps it. */
	T_EQ_INT(team_agent_get(f.lg, "ci-bot", &ag), 0);
	pub = janee_asprintf("%s/registered.pub", f.dir);
	fp = fopen(pub, "w");
	T_ASSERT(fp != NULL);
	if (fp != NULL) {
		fputs(ag.public_key, fp);
		fclose(fp);
	}
	c = assertion_claims("ci-bot", "ci-bot", TOKEN_URL, 60, NULL);
	a = jose("hmac", pub, NULL, c);
	refused(&f, a, NULL, 401, "invalid_client", "algorithm");
	free(a);
	/* The same with "alg" twice: ES256 for a first-member reader,
	 * HS256 for libjwt, which keeps the last. */
	a = jose("hmac-dup", pub, NULL, c);
	refused(&f, a, NULL, 401, "invalid_client", "twice");
	free(a);
	free(c);
	team_agent_free(&ag);
	free(pub);
	free(key);
	fx_close(&f);
}

/* janee's own signing key, unsealed into a file, to forge tokens with. */
static char *
janee_key_file(struct fx *f)
{
	struct janee_secret *k = NULL;
	char *path = janee_asprintf("%s/janee-signing.pem", f->dir);
	void *val = NULL;
	size_t len = 0;
	FILE *fp;

	T_EQ_INT(ledger_meta_get(f->lg, "team.signing_key", &val, &len), 0);
	T_EQ_INT(
	    store_open(f->s, "team-signing-key", "janee", val, len, &k), 0);
	if (k != NULL && (fp = fopen(path, "w")) != NULL) {
		fwrite(k->data, 1, k->len, fp);
		fclose(fp);
	}
	janee_secret_free(k);
	free(val);
	return path;
}

static char *
own_claims(const char *iss, const char *aud, const char *sub, int64_t exp_in,
    const char *key_id, const char *extra)
{
	int64_t now = janee_now_ms() / 1000;

	return janee_asprintf(
	    "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"janee_key\":\"%s\"%s}",
	    iss, aud, sub, (long long)now, (long long)(now + exp_in), key_id,
	    extra ? extra : "");
}

static void
bearer_token_claims_are_checked(void)
{
	struct fx f;
	struct team_agent ag;
	char *key, *jk, *c, *t, *agent = NULL, *www = NULL, extra[64];
	int64_t now = janee_now_ms() / 1000;

	fx_open(&f);
	key = openssl_key(&f, "ci", "EC");
	register_agent(&f, "ci-bot", key, 0);
	T_EQ_INT(team_agent_get(f.lg, "ci-bot", &ag), 0);
	jk = janee_key_file(&f);
	/* Forged with janee's own key and right claims: accepted (so the
	 * refusals below are for the one claim each one changes). */
	c = own_claims(ISSUER, RESOURCE, "ci-bot", 300, ag.key_id, NULL);
	t = jose("sign", jk, "ES256", c);
	T_EQ_INT(check(&f, t, &agent, &www), 0);
	T_EQ_STR(agent, "ci-bot");
	free(agent);
	free(t);
	free(c);
	/* Wrong issuer. */
	c = own_claims(
	    "https://evil.test", RESOURCE, "ci-bot", 300, ag.key_id, NULL);
	t = jose("sign", jk, "ES256", c);
	bearer_refused(&f, t, "another issuer");
	free(t);
	free(c);
	/* Wrong audience (RFC 8707). */
	c = own_claims(
	    ISSUER, "https://janee.test/other", "ci-bot", 300, ag.key_id, NULL);
	t = jose("sign", jk, "ES256", c);
	bearer_refused(&f, t, "another audience");
	free(t);
	free(c);
	/* Expired beyond the skew. */
	c = own_claims(
	    ISSUER, RESOURCE, "ci-bot", -(TEAM_SKEW_S + 5), ag.key_id, NULL);
	t = jose("sign", jk, "ES256", c);
	bearer_refused(&f, t, "expired");
	free(t);
	free(c);
	/* Expired, but within the skew: accepted. */
	c = own_claims(
	    ISSUER, RESOURCE, "ci-bot", -(TEAM_SKEW_S - 20), ag.key_id, NULL);
	t = jose("sign", jk, "ES256", c);
	T_EQ_INT(check(&f, t, &agent, &www), 0);
	free(agent);
	free(t);
	free(c);
	/* nbf in the future beyond the skew. */
	snprintf(extra, sizeof(extra), ",\"nbf\":%lld",
	    (long long)(now + TEAM_SKEW_S + 60));
	c = own_claims(ISSUER, RESOURCE, "ci-bot", 600, ag.key_id, extra);
	t = jose("sign", jk, "ES256", c);
	bearer_refused(&f, t, "nbf");
	free(t);
	free(c);
	/* An agent nobody registered. */
	c = own_claims(ISSUER, RESOURCE, "ghost", 300, ag.key_id, NULL);
	t = jose("sign", jk, "ES256", c);
	bearer_refused(&f, t, "not registered");
	free(t);
	free(c);
	/* Bad signature: signed by the agent's key, not janee's. */
	c = own_claims(ISSUER, RESOURCE, "ci-bot", 300, ag.key_id, NULL);
	t = jose("sign", key, "ES256", c);
	bearer_refused(&f, t, "signature");
	free(t);
	/* alg none. */
	t = jose("none", NULL, NULL, c);
	bearer_refused(&f, t, "algorithm");
	free(t);
	free(c);
	/* Not a JWT at all. */
	bearer_refused(&f, "abc.def", "not a JWT");
	team_agent_free(&ag);
	free(jk);
	free(key);
	fx_close(&f);
}

static void
issued_token_expires(void)
{
	struct fx f;
	char *key, *a, *tok, *agent = NULL, *www = NULL;

	fx_open(&f);
	key = openssl_key(&f, "ci", "EC");
	register_agent(&f, "ci-bot", key, 0);
	a = good_assertion(key);
	tok = token_for(&f, a, NULL);
	T_ASSERT(tok != NULL);
	team_auth_set_clock(f.ta, TEAM_TOKEN_TTL_S + TEAM_SKEW_S + 1);
	bearer_refused(&f, tok, "expired");
	team_auth_set_clock(f.ta, 0);
	T_EQ_INT(check(&f, tok, &agent, &www), 0);
	free(agent);
	free(tok);
	free(a);
	free(key);
	fx_close(&f);
}

static void
token_for_another_resource_is_refused(void)
{
	struct fx f;
	struct team_auth *other = NULL;
	char *key, *a, *tok, *agent = NULL, *www = NULL;

	fx_open(&f);
	key = openssl_key(&f, "ci", "EC");
	register_agent(&f, "ci-bot", key, 0);
	a = good_assertion(key);
	tok = token_for(&f, a, NULL);
	free(a);
	/* The same janee, key and issuer, serving another resource. */
	T_EQ_INT(team_auth_open(
		     f.lg, f.s, f.cfg, "https://janee.test/other", &other),
	    0);
	T_ASSERT(team_auth_check(other, NULL, &agent, &www) != 0);
	free(www);
	www = janee_asprintf("Bearer %s", tok);
	T_ASSERT(team_auth_check(other, www, &agent, &a) != 0);
	T_ASSERT(a != NULL && strstr(a, "another audience") != NULL);
	T_ASSERT(agent == NULL);
	free(a);
	free(www);
	team_auth_free(other);
	free(tok);
	free(key);
	fx_close(&f);
}

static void
rotated_key_old_refused_new_accepted(void)
{
	struct fx f;
	char *old, *new, *a, *tok, *agent = NULL, *www = NULL;

	fx_open(&f);
	old = openssl_key(&f, "old", "EC");
	new = openssl_key(&f, "new", "EC");
	register_agent(&f, "ci-bot", old, 0);
	a = good_assertion(old);
	tok = token_for(&f, a, NULL);
	T_ASSERT(tok != NULL);
	free(a);
	register_agent(&f, "ci-bot", new, 1);
	/* The old key's assertions, and tokens issued under it: refused. */
	a = good_assertion(old);
	refused(&f, a, NULL, 401, "invalid_client", "signature");
	free(a);
	bearer_refused(&f, tok, "former key");
	free(tok);
	a = good_assertion(new);
	tok = token_for(&f, a, NULL);
	T_ASSERT(tok != NULL);
	T_EQ_INT(check(&f, tok, &agent, &www), 0);
	T_EQ_STR(agent, "ci-bot");
	free(agent);
	free(tok);
	free(a);
	free(old);
	free(new);
	fx_close(&f);
}

static void
removed_agent_is_refused(void)
{
	struct fx f;
	char *key, *a, *tok;

	fx_open(&f);
	key = openssl_key(&f, "ci", "EC");
	register_agent(&f, "ci-bot", key, 0);
	a = good_assertion(key);
	tok = token_for(&f, a, NULL);
	T_ASSERT(tok != NULL);
	free(a);
	T_EQ_INT(team_agent_rm(f.lg, "ci-bot", "user"), 0);
	bearer_refused(&f, tok, "not registered");
	a = good_assertion(key);
	refused(&f, a, NULL, 401, "invalid_client", "not a registered agent");
	free(a);
	free(tok);
	free(key);
	fx_close(&f);
}

static void
signing_key_is_sealed_and_kept(void)
{
	struct fx f;
	struct team_auth *again = NULL;
	char *key, *a, *tok, *agent = NULL, *www = NULL, *challenge = NULL;
	void *val = NULL;
	size_t len = 0;

	fx_open(&f);
	/* Sealed: no PEM in the ledger's row. */
	T_EQ_INT(ledger_meta_get(f.lg, "team.signing_key", &val, &len), 0);
	T_ASSERT(val != NULL && memmem(val, len, "PRIVATE", 7) == NULL);
	free(val);
	/* A second opening (another janee) verifies the first's tokens. */
	key = openssl_key(&f, "ci", "EC");
	register_agent(&f, "ci-bot", key, 0);
	a = good_assertion(key);
	tok = token_for(&f, a, NULL);
	T_EQ_INT(team_auth_open(f.lg, f.s, f.cfg, NULL, &again), 0);
	www = janee_asprintf("Bearer %s", tok);
	T_EQ_INT(team_auth_check(again, www, &agent, &challenge), 0);
	T_EQ_STR(agent, "ci-bot");
	T_ASSERT(challenge == NULL);
	free(agent);
	free(www);
	team_auth_free(again);
	free(tok);
	free(a);
	free(key);
	fx_close(&f);
}

static void
key_import_refuses_private_and_weak_keys(void)
{
	struct fx f;
	char *k, *cmd, *pem, *spki = NULL, kid[TEAM_KID_LEN];
	enum janee_jwt_alg alg;

	fx_open(&f);
	k = openssl_key(&f, "ci", "EC");
	cmd = janee_asprintf("cat '%s'", k);
	pem = run(cmd);
	/* Refused as a private key, not merely as "not a public key". */
	T_EQ_INT(team_key_import(pem, strlen(pem), "k", &spki, kid, &alg),
	    JANEE_ERR_INVALID);
	T_ASSERT(strstr(janee_err_msg(0), "holds a private key") != NULL);
	janee_err_clear();
	free(pem);
	free(cmd);
	cmd = janee_asprintf(
	    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 2>/dev/null | openssl pkey -pubout");
	pem = run(cmd);
	T_EQ_INT(team_key_import(pem, strlen(pem), "k", &spki, kid, &alg),
	    JANEE_ERR_INVALID);
	free(pem);
	free(cmd);
	cmd = janee_asprintf(
	    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 2>/dev/null | openssl pkey -pubout");
	pem = run(cmd);
	T_EQ_INT(team_key_import(pem, strlen(pem), "k", &spki, kid, &alg),
	    JANEE_ERR_INVALID);
	free(pem);
	free(cmd);
	T_EQ_INT(team_key_import("junk", 4, "k", &spki, kid, &alg),
	    JANEE_ERR_INVALID);
	T_ASSERT(spki == NULL);
	janee_err_clear();
	free(k);
	fx_close(&f);
}

/* ---- an external issuer ---- */

struct issuer {
	char *dir, *keylist, *url;
	long pid;
};

/* Start tests/peers/team-issuer.mjs on loopback with keylist's keys. */
static int
issuer_start(struct issuer *is, const char *override)
{
	char *cmd, *portfile, buf[64];
	long port = 0;
	FILE *fp;
	int i;

	memset(is, 0, sizeof(*is));
	is->dir = t_tmpdir();
	is->keylist = janee_asprintf("%s/keys", is->dir);
	portfile = janee_asprintf("%s/port", is->dir);
	if ((fp = fopen(is->keylist, "w")) != NULL)
		fclose(fp);
	cmd = janee_asprintf(
	    "node '%s/tests/peers/team-issuer.mjs' '%s' '%s' %s </dev/null >/dev/null 2>&1 &",
	    srcdir(), portfile, is->keylist, override ? override : "");
	if (system(cmd) != 0)
		port = -1;
	for (i = 0; i < 200 && port == 0; i++) {
		if ((fp = fopen(portfile, "r")) != NULL) {
			if (fgets(buf, sizeof(buf), fp) != NULL &&
			    sscanf(buf, "%ld %ld", &port, &is->pid) != 2)
				port = 0;
			fclose(fp);
		}
		if (port == 0)
			usleep(50000);
	}
	free(cmd);
	free(portfile);
	if (port <= 0) {
		fprintf(stderr, "  the test issuer did not start\n");
		return -1;
	}
	is->url = janee_asprintf("http://127.0.0.1:%ld", port);
	return 0;
}

static void
issuer_stop(struct issuer *is)
{
	if (is->pid > 0)
		kill((pid_t)is->pid, SIGTERM);
	free(is->dir);
	free(is->keylist);
	free(is->url);
}

/* How often the issuer was asked for what ("fetches": the JWKS,
 * "metadata"); -1 when it cannot say. */
static int
issuer_count(struct issuer *is, const char *what)
{
	char *cmd = janee_asprintf("curl -sf '%s/fetches'", is->url);
	char *out = run(cmd);
	cJSON *j = out != NULL ? cJSON_Parse(out) : NULL;
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, what);
	int v = cJSON_IsNumber(n) ? n->valueint : -1;

	cJSON_Delete(j);
	free(out);
	free(cmd);
	return v;
}

/* Publish the key at path with kid and alg in the issuer's JWKS. */
static void
issuer_add_key(
    struct issuer *is, const char *path, const char *kid, const char *alg)
{
	FILE *fp = fopen(is->keylist, "a");

	T_ASSERT(fp != NULL);
	if (fp != NULL) {
		fprintf(fp, "%s %s %s\n", path, kid, alg);
		fclose(fp);
	}
}

static void
fx_open_issuer(struct fx *f, const struct issuer *is)
{
	char *cfg = janee_asprintf(
	    "{\"auth\": {\"resource\": \"%s\", \"issuer\": \"%s\", \"audience\": \"janee-team\"}}",
	    RESOURCE, is->url);

	fx_open_cfg(f, NULL, cfg);
	free(cfg);
}

/* An external token's claims for sub, exp now + life, kid in header. */
static char *
ext_token(const char *key, const char *alg, const char *kid, const char *iss,
    const char *aud, const char *sub, int64_t life, const char *extra)
{
	int64_t now = janee_now_ms() / 1000;
	char *c = janee_asprintf(
	    "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld%s}",
	    iss, aud, sub, (long long)now, (long long)(now + life),
	    extra ? extra : "");
	char *cmd = janee_asprintf(
	    "node '%s/tests/peers/team-jwt.mjs' sign '%s' %s '%s' %s", srcdir(),
	    key, alg, c, kid);
	char *t = run(cmd);

	T_ASSERT(t != NULL);
	free(cmd);
	free(c);
	return t;
}

/* A 401 of the external issuer's kind: invalid_token, saying why. */
static void
ext_refused(struct fx *f, const char *tok, const char *why)
{
	bearer_refused(f, tok, why);
}

static void
external_issuer_tokens_are_verified(void)
{
	struct issuer is;
	struct fx f;
	char *ec, *rsa, *rogue, *t, *agent = NULL, *www = NULL, *json = NULL;
	char extra[64];

	if (issuer_start(&is, NULL) != 0) {
		T_ASSERT(0);
		return;
	}
	fx_open_issuer(&f, &is);
	ec = openssl_key(&f, "ec", "EC");
	rsa = openssl_key(&f, "rsa", "RSA");
	rogue = openssl_key(&f, "rogue", "EC");
	issuer_add_key(&is, ec, "k-ec", "ES256");
	issuer_add_key(&is, rsa, "k-rsa", "RS256");
	/* The metadata sends agents to the issuer. */
	T_EQ_INT(team_auth_metadata(f.ta, &json), 0);
	T_ASSERT(json != NULL && strstr(json, is.url) != NULL);
	free(json);
	/* ES256 and RS256 tokens of the issuer, for janee: accepted. */
	t = ext_token(
	    ec, "ES256", "k-ec", is.url, "janee-team", "ci-bot", 300, NULL);
	T_EQ_INT(check(&f, t, &agent, &www), 0);
	T_EQ_STR(agent, "ci-bot");
	free(agent);
	agent = NULL;
	free(t);
	t = ext_token(
	    rsa, "RS256", "k-rsa", is.url, "janee-team", "deploy", 300, NULL);
	T_EQ_INT(check(&f, t, &agent, &www), 0);
	T_EQ_STR(agent, "deploy");
	free(agent);
	free(t);
	/* Each claim wrong in turn. */
	t = ext_token(ec, "ES256", "k-ec", "https://evil.test", "janee-team",
	    "ci-bot", 300, NULL);
	ext_refused(&f, t, "another issuer");
	free(t);
	t = ext_token(
	    ec, "ES256", "k-ec", is.url, "someone-else", "ci-bot", 300, NULL);
	ext_refused(&f, t, "another audience");
	free(t);
	t = ext_token(ec, "ES256", "k-ec", is.url, "janee-team", "ci-bot",
	    -(TEAM_SKEW_S + 10), NULL);
	ext_refused(&f, t, "expired");
	free(t);
	snprintf(extra, sizeof(extra), ",\"nbf\":%lld",
	    (long long)(janee_now_ms() / 1000 + TEAM_SKEW_S + 60));
	t = ext_token(
	    ec, "ES256", "k-ec", is.url, "janee-team", "ci-bot", 600, extra);
	ext_refused(&f, t, "nbf");
	free(t);
	/* Signed by a key the issuer never published, under its kid. */
	t = ext_token(
	    rogue, "ES256", "k-ec", is.url, "janee-team", "ci-bot", 300, NULL);
	ext_refused(&f, t, "signature");
	free(t);
	/* The RSA key's kid on an ES256 token: the key decides the alg. */
	t = ext_token(
	    ec, "ES256", "k-rsa", is.url, "janee-team", "ci-bot", 300, NULL);
	ext_refused(&f, t, "algorithm");
	free(t);
	/* A sub that is no agent name. */
	t = ext_token(
	    ec, "ES256", "k-ec", is.url, "janee-team", "Bad Sub", 300, NULL);
	ext_refused(&f, t, "sub");
	free(t);
	free(ec);
	free(rsa);
	free(rogue);
	fx_close(&f);
	issuer_stop(&is);
}

static void
external_issuer_refuses_none_and_hs256(void)
{
	struct issuer is;
	struct fx f;
	char *ec, *pub, *cmd, *c, *t, *out;
	int64_t now = janee_now_ms() / 1000;

	if (issuer_start(&is, NULL) != 0) {
		T_ASSERT(0);
		return;
	}
	fx_open_issuer(&f, &is);
	ec = openssl_key(&f, "ec", "EC");
	issuer_add_key(&is, ec, "k-ec", "ES256");
	c = janee_asprintf(
	    "{\"iss\":\"%s\",\"aud\":\"janee-team\",\"sub\":\"ci-bot\",\"exp\":%lld}",
	    is.url, (long long)(now + 300));
	t = jose("none", NULL, NULL, c);
	ext_refused(&f, t, "algorithm");
	free(t);
	/* HS256 keyed with the public key's PEM, as janee converts it. */
	pub = janee_asprintf("%s/ec.pub", f.dir);
	cmd =
	    janee_asprintf("openssl pkey -in '%s' -pubout -out '%s'", ec, pub);
	out = run(cmd);
	free(out);
	t = jose("hmac", pub, NULL, c);
	ext_refused(&f, t, "algorithm");
	free(t);
	/* And with "alg" twice (ES256 first, HS256 last, as libjwt reads). */
	t = jose("hmac-dup", pub, NULL, c);
	ext_refused(&f, t, "twice");
	free(t);
	free(cmd);
	free(pub);
	free(c);
	free(ec);
	fx_close(&f);
	issuer_stop(&is);
}

static void
external_issuer_key_rollover_is_fetched(void)
{
	struct issuer is;
	struct fx f;
	char *k1, *k2, *t, *agent = NULL, *www = NULL;

	if (issuer_start(&is, NULL) != 0) {
		T_ASSERT(0);
		return;
	}
	fx_open_issuer(&f, &is);
	k1 = openssl_key(&f, "k1", "EC");
	k2 = openssl_key(&f, "k2", "EC");
	issuer_add_key(&is, k1, "one", "ES256");
	t = ext_token(
	    k1, "ES256", "one", is.url, "janee-team", "ci-bot", 600, NULL);
	T_EQ_INT(check(&f, t, &agent, &www), 0);
	free(agent);
	agent = NULL;
	free(t);
	/* A new key: unknown until the cache may be refreshed. */
	issuer_add_key(&is, k2, "two", "ES256");
	t = ext_token(
	    k2, "ES256", "two", is.url, "janee-team", "ci-bot", 600, NULL);
	ext_refused(&f, t, "kid");
	team_auth_set_clock(f.ta, TEAM_JWKS_MIN_REFETCH_S);
	T_EQ_INT(check(&f, t, &agent, &www), 0);
	T_EQ_STR(agent, "ci-bot");
	free(agent);
	free(t);
	free(k1);
	free(k2);
	fx_close(&f);
	issuer_stop(&is);
}

static void
external_issuer_metadata_for_another_issuer_is_refused(void)
{
	struct issuer is;
	struct fx f;
	char *k, *t;

	if (issuer_start(&is, "https://evil.test") != 0) {
		T_ASSERT(0);
		return;
	}
	fx_open_issuer(&f, &is);
	k = openssl_key(&f, "k", "EC");
	issuer_add_key(&is, k, "one", "ES256");
	t = ext_token(
	    k, "ES256", "one", is.url, "janee-team", "ci-bot", 600, NULL);
	ext_refused(&f, t, "cannot fetch the token issuer's keys");
	T_EQ_INT(issuer_count(&is, "metadata"), 1);
	/* Refused again without asking (a fetch blocks janee's loop)... */
	ext_refused(&f, t, "cannot fetch the token issuer's keys");
	ext_refused(&f, t, "cannot fetch the token issuer's keys");
	T_EQ_INT(issuer_count(&is, "metadata"), 1);
	/* ...until TEAM_JWKS_MIN_REFETCH_S have passed. */
	team_auth_set_clock(f.ta, TEAM_JWKS_MIN_REFETCH_S);
	ext_refused(&f, t, "cannot fetch the token issuer's keys");
	T_EQ_INT(issuer_count(&is, "metadata"), 2);
	free(t);
	free(k);
	fx_close(&f);
	issuer_stop(&is);
}

int
main(void)
{
	T_RUN(metadata_and_challenge_name_the_resource);
	T_RUN(valid_assertion_gets_a_token_that_verifies);
	T_RUN(rsa_agent_key_works_too);
	T_RUN(replayed_assertion_is_refused);
	T_RUN(assertion_for_another_client_is_refused);
	T_RUN(assertion_claims_are_checked);
	T_RUN(token_request_is_checked);
	T_RUN(hs256_signed_with_the_public_key_is_refused);
	T_RUN(bearer_token_claims_are_checked);
	T_RUN(issued_token_expires);
	T_RUN(token_for_another_resource_is_refused);
	T_RUN(rotated_key_old_refused_new_accepted);
	T_RUN(removed_agent_is_refused);
	T_RUN(signing_key_is_sealed_and_kept);
	T_RUN(key_import_refuses_private_and_weak_keys);
	T_RUN(external_issuer_tokens_are_verified);
	T_RUN(external_issuer_refuses_none_and_hs256);
	T_RUN(external_issuer_key_rollover_is_fetched);
	T_RUN(external_issuer_metadata_for_another_issuer_is_refused);
	return t_done();
}
