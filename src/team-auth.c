/* Team mode's authorization: metadata, bearer tokens, token endpoint. */
#include "common.h"

#include <curl/curl.h>

#include "audit.h"
#include "janee/http.h"
#include "jwt.h"
#include "team-agents.h"
#include "team-auth.h"
#include "team-issuer.h"
#include "util.h"

/* Where janee's signing key is kept, sealed under the store's key. */
#define SIGNING_META "team.signing_key"
#define SIGNING_PURPOSE "team-signing-key"
#define WELL_KNOWN_PR "/.well-known/oauth-protected-resource"
#define WELL_KNOWN_AS "/.well-known/oauth-authorization-server"
#define FORM_MAX 16384

struct team_auth {
	struct ledger *lg;
	const struct config *cfg;
	char *resource; /* janee's resource URL */
	char *origin; /* scheme://authority of the resource */
	char *path; /* the resource's path, "" for "/" */
	char *metadata_url;
	char *issuer; /* janee's own (the origin), or the external one */
	char *token_endpoint; /* janee's own, or NULL */
	struct janee_secret *sign_key; /* janee's private key, or NULL */
	char *verify_key; /* its public key, PEM */
	char kid[TEAM_KID_LEN];
	int64_t token_ttl_s;
	struct team_issuer *ext; /* an external issuer, or NULL */
	int64_t clock_offset_s;
	/* Why the last token failed, when the reason is a message of
	 * janee_err's: the hooks run on the transport's one thread. */
	char why[200];
};

static int64_t
now_s(const struct team_auth *ta)
{
	return janee_now_ms() / 1000 + ta->clock_offset_s;
}

void
team_auth_set_clock(struct team_auth *ta, int64_t offset_s)
{
	ta->clock_offset_s = offset_s;
}

const char *
team_auth_metadata_url(const struct team_auth *ta)
{
	return ta->metadata_url;
}

/* The origin and path of an http(s) URL that config.c accepted. */
static int
split_url(struct team_auth *ta)
{
	const char *u = ta->resource, *a = strstr(u, "://"), *p;

	if (a == NULL || strchr(u, '#') != NULL || strchr(u, '?') != NULL)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "janee's resource URL '%s' must be an absolute URL with no query or fragment (RFC 8707 section 2)",
		    u);
	p = strchr(a + 3, '/');
	if (p == NULL)
		p = u + strlen(u);
	ta->origin = janee_asprintf("%.*s", (int)(p - u), u);
	/* "https://h/" and "https://h" are the same resource: no path. */
	ta->path = janee_strdup(strcmp(p, "/") == 0 ? "" : p);
	if (ta->origin == NULL || ta->path == NULL)
		return JANEE_ERR_NOMEM;
	/* RFC 9728 section 3.1: the well-known part goes before the path. */
	ta->metadata_url =
	    janee_asprintf("%s%s%s", ta->origin, WELL_KNOWN_PR, ta->path);
	return ta->metadata_url ? 0 : JANEE_ERR_NOMEM;
}

/*
 * janee's signing key: unsealed from the ledger, or made and sealed on
 * first use.  The check for an existing key runs again inside the write
 * transaction, so two servers starting at once keep one key.
 */
static int
load_signing_key(struct team_auth *ta, struct store *s)
{
	struct janee_secret *priv = NULL;
	unsigned char *blob = NULL;
	size_t bloblen = 0, len;
	void *val = NULL;
	char *spki = NULL;
	int rc, tries;

	for (tries = 0; tries < 2; tries++) {
		rc = ledger_meta_get(ta->lg, SIGNING_META, &val, &len);
		if (rc == 0) {
			rc = store_open(s, SIGNING_PURPOSE, "janee", val, len,
			    &ta->sign_key);
			free(val);
			if (rc != 0)
				return rc;
			return team_key_public(
			    ta->sign_key, &ta->verify_key, ta->kid);
		}
		if (rc != JANEE_ERR_NOT_FOUND)
			return rc;
		janee_err_clear();
		if (tries > 0)
			break;
		if ((rc = team_key_generate(&priv, &spki, ta->kid)) != 0 ||
		    (rc = store_seal(s, SIGNING_PURPOSE, "janee", priv->data,
			 priv->len, &blob, &bloblen)) != 0)
			goto out;
		if ((rc = ledger_begin(ta->lg)) != 0)
			goto out;
		rc = ledger_meta_get(ta->lg, SIGNING_META, &val, &len);
		free(val);
		val = NULL;
		if (rc == JANEE_ERR_NOT_FOUND) {
			janee_err_clear();
			rc = ledger_meta_set(
			    ta->lg, SIGNING_META, blob, bloblen);
		}
		if (rc == 0)
			rc = ledger_commit(ta->lg);
		else
			ledger_rollback(ta->lg);
		if (rc != 0)
			goto out;
		janee_secret_free(priv);
		priv = NULL;
		free(spki);
		spki = NULL;
		free(blob);
		blob = NULL;
	}
	rc = janee_err_set(JANEE_ERR_INTERNAL, "janee's signing key vanished");
out:
	janee_secret_free(priv);
	free(spki);
	free(blob);
	return rc;
}

int
team_auth_open(struct ledger *lg, struct store *s, const struct config *cfg,
    const char *resource, struct team_auth **out)
{
	struct team_auth *ta;
	int rc;

	*out = NULL;
	if (resource == NULL)
		resource = cfg->auth.resource;
	if (resource == NULL)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "team mode needs janee's resource URL: set \"auth\": {\"resource\": \"https://HOST/mcp\"} in config.json");
	if (janee_http_url_ok(resource, "janee's resource URL") != 0)
		return JANEE_ERR_CONFIG;
	if ((ta = calloc(1, sizeof(*ta))) == NULL ||
	    (ta->resource = janee_strdup(resource)) == NULL) {
		free(ta);
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	ta->lg = lg;
	ta->cfg = cfg;
	ta->token_ttl_s = cfg->auth.token_ttl_s > 0 ? cfg->auth.token_ttl_s
						    : TEAM_TOKEN_TTL_S;
	if ((rc = split_url(ta)) != 0)
		goto out;
	if (cfg->auth.issuer != NULL) {
		rc = team_issuer_open(cfg->auth.issuer,
		    cfg->auth.audience ? cfg->auth.audience : ta->resource,
		    &ta->ext);
		if (rc == 0)
			rc = (ta->issuer = janee_strdup(cfg->auth.issuer))
			    ? 0
			    : JANEE_ERR_NOMEM;
		goto out;
	}
	/* janee is its own authorization server, at the resource's origin. */
	if ((ta->issuer = janee_strdup(ta->origin)) == NULL ||
	    (ta->token_endpoint = janee_asprintf(
		 "%s%s", ta->origin, TEAM_TOKEN_PATH)) == NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	if (s == NULL)
		rc = janee_err_set(JANEE_ERR_LOCKED,
		    "team mode needs the store unlocked for janee's signing key");
	else
		rc = load_signing_key(ta, s);
out:
	if (rc != 0)
		team_auth_free(ta);
	else
		*out = ta;
	return rc;
}

void
team_auth_free(struct team_auth *ta)
{
	if (ta == NULL)
		return;
	free(ta->resource);
	free(ta->origin);
	free(ta->path);
	free(ta->metadata_url);
	free(ta->issuer);
	free(ta->token_endpoint);
	janee_secret_free(ta->sign_key);
	free(ta->verify_key);
	team_issuer_free(ta->ext);
	free(ta);
}

static int
print_json(cJSON *o, char **out)
{
	*out = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return *out ? 0 : janee_err_set(JANEE_ERR_NOMEM, "out of memory");
}

int
team_auth_metadata(const struct team_auth *ta, char **json)
{
	cJSON *o = cJSON_CreateObject(), *a, *m;

	/* RFC 9728 section 2; bearer tokens in the header only (RFC 6750
	 * section 2.1): never in a query, where logs would keep them. */
	if (o == NULL ||
	    !cJSON_AddStringToObject(o, "resource", ta->resource) ||
	    (a = cJSON_AddArrayToObject(o, "authorization_servers")) == NULL ||
	    !cJSON_AddItemToArray(a, cJSON_CreateString(ta->issuer)) ||
	    (m = cJSON_AddArrayToObject(o, "bearer_methods_supported")) ==
		NULL ||
	    !cJSON_AddItemToArray(m, cJSON_CreateString("header")) ||
	    !cJSON_AddStringToObject(o, "resource_name", "janee")) {
		cJSON_Delete(o);
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	return print_json(o, json);
}

/* RFC 8414 section 2, for janee's own token endpoint. */
static int
as_metadata(const struct team_auth *ta, char **json)
{
	static const char *const algs[] = { "RS256", "ES256" };
	cJSON *o = cJSON_CreateObject();
	const char *g = "client_credentials", *m = "private_key_jwt";

	if (o == NULL || !cJSON_AddStringToObject(o, "issuer", ta->issuer) ||
	    !cJSON_AddStringToObject(o, "token_endpoint", ta->token_endpoint) ||
	    !cJSON_AddItemToObject(
		o, "grant_types_supported", cJSON_CreateStringArray(&g, 1)) ||
	    !cJSON_AddItemToObject(o, "token_endpoint_auth_methods_supported",
		cJSON_CreateStringArray(&m, 1)) ||
	    !cJSON_AddItemToObject(o,
		"token_endpoint_auth_signing_alg_values_supported",
		cJSON_CreateStringArray(algs, 2)) ||
	    /* REQUIRED by RFC 8414 section 2; no authorization endpoint,
	     * so no response type. */
	    !cJSON_AddItemToObject(
		o, "response_types_supported", cJSON_CreateArray())) {
		cJSON_Delete(o);
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	return print_json(o, json);
}

/* A quoted-string's text (RFC 9110 section 5.6.4): no '"' or '\\'. */
static void
unquote(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
			*s = '\'';
}

int
team_auth_challenge(const struct team_auth *ta, const char *error,
    const char *description, char **out)
{
	char *d = NULL;

	if (error == NULL)
		*out = janee_asprintf(
		    "Bearer resource_metadata=\"%s\"", ta->metadata_url);
	else {
		if ((d = janee_strdup(description ? description : error)) ==
		    NULL)
			return JANEE_ERR_NOMEM;
		unquote(d);
		*out = janee_asprintf(
		    "Bearer resource_metadata=\"%s\", error=\"%s\", error_description=\"%s\"",
		    ta->metadata_url, error, d);
		free(d);
	}
	return *out ? 0 : janee_err_set(JANEE_ERR_NOMEM, "out of memory");
}

/* ---- claims ---- */

static const char *
claim_str(const cJSON *claims, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "aud" is one string or an array of them (RFC 7519 section 4.1.3). */
int
team_claims_aud_has(const cJSON *claims, const char *want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, "aud"), *e;

	if (cJSON_IsString(v))
		return strcmp(v->valuestring, want) == 0;
	if (!cJSON_IsArray(v))
		return 0;
	cJSON_ArrayForEach(e, v) if (cJSON_IsString(e) &&
	    strcmp(e->valuestring, want) == 0) return 1;
	return 0;
}

/* A NumericDate claim; 0 when absent, -1 when not a number. */
static int
claim_time(const cJSON *claims, const char *name, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);

	*out = 0;
	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e12)
		return -1;
	*out = (int64_t)v->valuedouble;
	return 1;
}

int
team_claims_times(
    const cJSON *claims, int64_t now, int64_t max_life_s, const char **why)
{
	int64_t exp, nbf, iat;
	int r;

	if ((r = claim_time(claims, "exp", &exp)) <= 0) {
		*why = r < 0 ? "its exp is not a number" : "it has no exp";
		return -1;
	}
	if (exp <= now - TEAM_SKEW_S) {
		*why = "it has expired";
		return -1;
	}
	if (max_life_s > 0 && exp > now + max_life_s + TEAM_SKEW_S) {
		*why = "it lives too long (exp too far ahead)";
		return -1;
	}
	if ((r = claim_time(claims, "nbf", &nbf)) < 0 ||
	    (r > 0 && nbf > now + TEAM_SKEW_S)) {
		*why = "it is not valid yet (nbf)";
		return -1;
	}
	if ((r = claim_time(claims, "iat", &iat)) < 0 ||
	    (r > 0 && iat > now + TEAM_SKEW_S)) {
		*why = "it was issued in the future (iat)";
		return -1;
	}
	return 0;
}

/* ---- bearer tokens ---- */

/* A token janee issued: its key, issuer, audience, times, agent. */
static int
verify_own(
    struct team_auth *ta, const char *token, char **agent, const char **why)
{
	struct team_agent a;
	cJSON *claims = NULL;
	const char *sub, *kid;
	int rc;

	memset(&a, 0, sizeof(a));
	if (janee_jwt_verify(token, JANEE_JWT_ES256, ta->verify_key, &claims) !=
	    0) {
		snprintf(ta->why, sizeof(ta->why), "%s",
		    janee_err_msg(JANEE_ERR_CRYPTO));
		*why = ta->why;
		rc = -1;
		goto out;
	}
	rc = -1;
	if (claim_str(claims, "iss") == NULL ||
	    strcmp(claim_str(claims, "iss"), ta->issuer) != 0)
		*why = "the token is from another issuer";
	else if (!team_claims_aud_has(claims, ta->resource))
		*why = "the token is for another audience";
	else if (team_claims_times(claims, now_s(ta), 0, why) != 0)
		;
	else if ((sub = claim_str(claims, "sub")) == NULL ||
	    team_agent_get(ta->lg, sub, &a) != 0)
		*why = "the token's agent is not registered";
	/* Tokens die with the key they were issued under (a rotation). */
	else if ((kid = claim_str(claims, "janee_key")) == NULL ||
	    strcmp(kid, a.key_id) != 0)
		*why = "the token was issued under the agent's former key";
	else
		rc = (*agent = janee_strdup(sub)) ? 0 : JANEE_ERR_NOMEM;
out:
	janee_err_clear();
	team_agent_free(&a);
	cJSON_Delete(claims);
	return rc;
}

int
team_auth_check(void *arg, const char *authorization, char **agent, char **www)
{
	struct team_auth *ta = arg;
	const char *why = NULL, *t;
	int rc = -1;

	*agent = NULL;
	*www = NULL;
	/* Each request starts afresh: its messages are its own. */
	janee_err_clear();
	/* RFC 6750 section 3.1: no credentials, no error code. */
	if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7))
		return team_auth_challenge(ta, NULL, NULL, www) == 0
		    ? JANEE_ERR_DENIED
		    : JANEE_ERR_NOMEM;
	for (t = authorization + 7; *t == ' '; t++)
		;
	if (*t == '\0' || strlen(t) > JANEE_JWT_MAX)
		why = "the bearer token is empty or too long";
	else if (ta->ext != NULL)
		rc = team_issuer_verify(ta->ext, t, now_s(ta), agent, &why);
	else
		rc = verify_own(ta, t, agent, &why);
	if (why == NULL && rc == 0)
		return 0;
	/* The issuer's keys out of reach: refused all the same. */
	if (why == NULL && rc < -1) {
		fprintf(stderr, "janee: %s\n", janee_err_msg(rc));
		janee_err_clear();
		why =
		    "janee cannot fetch the token issuer's keys now; try again later";
	}
	free(*agent);
	*agent = NULL;
	if (why == NULL)
		why = "the token does not verify";
	return team_auth_challenge(ta, "invalid_token", why, www) == 0
	    ? JANEE_ERR_DENIED
	    : JANEE_ERR_NOMEM;
}

/* ---- the token endpoint ---- */

enum { F_GRANT, F_ATYPE, F_ASSERTION, F_CLIENT, F_RESOURCE, NFORM };
static const char *const form_names[NFORM] = { "grant_type",
	"client_assertion_type", "client_assertion", "client_id", "resource" };

struct form {
	char *v[NFORM];
};

static void
form_free(struct form *f)
{
	size_t i;

	for (i = 0; i < NFORM; i++)
		if (f->v[i] != NULL)
			janee_freezero(f->v[i], strlen(f->v[i]));
	memset(f, 0, sizeof(*f));
}

/* One application/x-www-form-urlencoded part, '+' being a space. */
static char *
form_decode(const char *p, size_t n)
{
	char *tmp, *d, *out = NULL;
	int len = 0;
	size_t i;

	if ((tmp = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		tmp[i] = p[i] == '+' ? ' ' : p[i];
	tmp[n] = '\0';
	d = curl_easy_unescape(NULL, tmp, (int)n, &len);
	janee_freezero(tmp, n + 1);
	if (d == NULL)
		return NULL;
	/* A NUL inside a value would cut it short: refused as invalid. */
	if ((size_t)len == strlen(d))
		out = janee_strdup(d);
	else
		out = janee_strdup("\x01");
	janee_wipe(d, (size_t)len);
	curl_free(d);
	return out;
}

/*
 * The body's parameters (RFC 6749 appendix B); one given twice is an
 * error (section 3.2), unknown ones are ignored.  *bad names the problem.
 */
static int
form_parse(const char *body, size_t len, struct form *f, const char **bad)
{
	const char *p = body, *end = body + len, *amp, *eq;
	char *name;
	size_t i;

	memset(f, 0, sizeof(*f));
	if (len > FORM_MAX || memchr(body, '\0', len) != NULL) {
		*bad = "the request body is too long or holds a NUL byte";
		return -1;
	}
	while (p < end) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			eq = amp;
		if ((name = form_decode(p, (size_t)(eq - p))) == NULL)
			return JANEE_ERR_NOMEM;
		for (i = 0; i < NFORM; i++)
			if (strcmp(name, form_names[i]) == 0)
				break;
		free(name);
		if (i < NFORM) {
			if (f->v[i] != NULL) {
				*bad = "a parameter is given twice";
				return -1;
			}
			if ((f->v[i] = form_decode(eq < amp ? eq + 1 : amp,
				 eq < amp ? (size_t)(amp - eq - 1) : 0)) ==
			    NULL)
				return JANEE_ERR_NOMEM;
			if (f->v[i][0] == '\x01') {
				*bad = "a parameter holds a NUL byte";
				return -1;
			}
		}
		p = amp + 1;
	}
	return 0;
}

/* The RFC 6749 section 5.2 answer. */
static int
token_error(
    int code, const char *error, const char *desc, int *status, char **json)
{
	cJSON *o = cJSON_CreateObject();

	*status = code;
	if (o == NULL || !cJSON_AddStringToObject(o, "error", error) ||
	    (desc != NULL &&
		!cJSON_AddStringToObject(o, "error_description", desc))) {
		cJSON_Delete(o);
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	return print_json(o, json);
}

/* The agent's use of the token endpoint, good or bad, on the record. */
static int
audit_token(struct team_auth *ta, const char *agent, const char *outcome,
    const char *detail)
{
	struct audit_event ev = { .event = "agent_token",
		.actor = "agent",
		.client = agent,
		.outcome = outcome,
		.detail = detail };

	return audit_record(ta->lg, &ev);
}

/*
 * RFC 7523 section 3: the assertion's claims, its signature with the
 * agent's registered key, and its jti not seen before (remembered until
 * its exp, section 3 item 7).  0, or -1 with *why; the agent is known.
 */
static int
check_assertion(struct team_auth *ta, const struct team_agent *a,
    const char *assertion, const char *client_id, const char **why)
{
	sqlite3_stmt *st = NULL;
	cJSON *claims = NULL;
	const char *iss, *jti, *sub;
	int64_t now = now_s(ta), exp;
	int rc = -1, step;

	if (janee_jwt_verify(assertion, a->alg, a->public_key, &claims) != 0) {
		snprintf(ta->why, sizeof(ta->why), "%s",
		    janee_err_msg(JANEE_ERR_CRYPTO));
		janee_err_clear();
		*why = ta->why;
		return -1;
	}
	if ((iss = claim_str(claims, "iss")) == NULL ||
	    strcmp(iss, a->name) != 0)
		*why =
		    "the assertion's iss is not the agent whose key signed it";
	else if ((sub = claim_str(claims, "sub")) == NULL ||
	    strcmp(sub, a->name))
		*why =
		    "the assertion's sub is not its iss (RFC 7523 section 3)";
	else if (client_id != NULL && strcmp(client_id, a->name) != 0)
		*why = "client_id is not the assertion's iss";
	else if (!team_claims_aud_has(claims, ta->token_endpoint))
		*why = "the assertion's aud is not janee's token endpoint";
	else if (team_claims_times(claims, now, TEAM_ASSERTION_MAX_S, why) != 0)
		;
	else if ((jti = claim_str(claims, "jti")) == NULL || jti[0] == '\0' ||
	    strlen(jti) > 256)
		*why = "the assertion has no jti (or one over 256 bytes)";
	else {
		claim_time(claims, "exp", &exp);
		if ((rc = ledger_begin(ta->lg)) != 0)
			goto out;
		/* Forget what has expired, skew included, then remember. */
		if ((rc = ledger_prepare(ta->lg,
			 "DELETE FROM agent_assertions WHERE expires_ms < ?1",
			 &st)) != 0)
			goto fail;
		sqlite3_bind_int64(st, 1, (now - TEAM_SKEW_S) * 1000);
		step = sqlite3_step(st);
		sqlite3_finalize(st);
		st = NULL;
		if (step != SQLITE_DONE) {
			rc =
			    ledger_fail(ta->lg, "cannot forget old assertions");
			goto fail;
		}
		if ((rc = ledger_prepare(ta->lg,
			 "INSERT OR IGNORE INTO agent_assertions (agent, jti, "
			 "expires_ms) VALUES (?1, ?2, ?3)",
			 &st)) != 0)
			goto fail;
		sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, jti, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, exp * 1000);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = ledger_fail(
			    ta->lg, "cannot remember the assertion");
			goto fail;
		}
		if (sqlite3_changes(ta->lg->db) == 0) {
			*why =
			    "the assertion was used before (its jti is spent)";
			rc = -1;
			goto fail;
		}
		rc = ledger_commit(ta->lg);
		goto out;
	fail:
		ledger_rollback(ta->lg);
	}
out:
	sqlite3_finalize(st);
	cJSON_Delete(claims);
	return rc;
}

/* The access token: ES256, for janee's resource, tied to the key. */
static int
issue(
    struct team_auth *ta, const struct team_agent *a, int *status, char **json)
{
	unsigned char r[16];
	char jti[2 * sizeof(r) + 1];
	int64_t now = now_s(ta);
	struct janee_jwt_claim claims[] = {
		{ "iss", ta->issuer, 0 },
		{ "sub", a->name, 0 },
		{ "aud", ta->resource, 0 },
		{ "client_id", a->name, 0 },
		{ "janee_key", a->key_id, 0 },
		{ "jti", jti, 0 },
		{ "iat", NULL, now },
		{ "exp", NULL, now + ta->token_ttl_s },
		{ NULL, NULL, 0 },
	};
	struct janee_secret *tok = NULL;
	cJSON *o = NULL;
	int rc;

	if ((rc = janee_random(r, sizeof(r))) != 0)
		return rc;
	janee_hex(r, sizeof(r), jti);
	if ((rc = janee_jwt_sign(JANEE_JWT_ES256, ta->sign_key,
		 "janee's token signing key", ta->kid, claims, &tok)) != 0)
		return rc;
	/* RFC 6749 section 5.1 */
	if ((o = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(
		o, "access_token", (const char *)tok->data) ||
	    !cJSON_AddStringToObject(o, "token_type", "Bearer") ||
	    !cJSON_AddNumberToObject(
		o, "expires_in", (double)ta->token_ttl_s)) {
		cJSON_Delete(o);
		janee_secret_free(tok);
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	janee_secret_free(tok);
	*status = 200;
	return print_json(o, json);
}

int
team_auth_token(struct team_auth *ta, const char *body, size_t len, int *status,
    char **json)
{
	struct team_agent a;
	struct form f;
	cJSON *hdr = NULL, *claims = NULL;
	const char *bad = NULL, *iss;
	char *detail;
	int rc;

	*json = NULL;
	memset(&a, 0, sizeof(a));
	if (ta->token_endpoint == NULL)
		return token_error(404, "invalid_request",
		    "janee issues no tokens: its agents get theirs from the issuer in its metadata",
		    status, json);
	if ((rc = form_parse(body, len, &f, &bad)) != 0) {
		form_free(&f);
		return rc < -1
		    ? rc
		    : token_error(400, "invalid_request", bad, status, json);
	}
	if (f.v[F_GRANT] == NULL || f.v[F_ASSERTION] == NULL ||
	    f.v[F_ATYPE] == NULL)
		rc = token_error(400, "invalid_request",
		    "grant_type, client_assertion_type and client_assertion are required",
		    status, json);
	else if (strcmp(f.v[F_GRANT], "client_credentials") != 0)
		rc = token_error(400, "unsupported_grant_type",
		    "janee grants client_credentials only", status, json);
	else if (strcmp(f.v[F_ATYPE], TEAM_ASSERTION_TYPE) != 0)
		rc = token_error(401, "invalid_client",
		    "client_assertion_type must be " TEAM_ASSERTION_TYPE,
		    status, json);
	/* RFC 8707 section 2: a resource janee is not is invalid_target. */
	else if (f.v[F_RESOURCE] != NULL &&
	    strcmp(f.v[F_RESOURCE], ta->resource) != 0)
		rc = token_error(400, "invalid_target",
		    "janee issues tokens for its own resource only", status,
		    json);
	else if (janee_jwt_peek(f.v[F_ASSERTION], &hdr, &claims) != 0) {
		snprintf(ta->why, sizeof(ta->why), "client_assertion: %s",
		    janee_err_msg(JANEE_ERR_INVALID));
		janee_err_clear();
		rc = token_error(401, "invalid_client", ta->why, status, json);
	} else if ((iss = claim_str(claims, "iss")) == NULL ||
	    !janee_name_valid(iss) || team_agent_get(ta->lg, iss, &a) != 0) {
		janee_err_clear();
		rc = token_error(401, "invalid_client",
		    "the assertion's iss is not a registered agent", status,
		    json);
	} else if ((rc = check_assertion(
			ta, &a, f.v[F_ASSERTION], f.v[F_CLIENT], &bad)) != 0) {
		if (rc == -1) {
			detail = janee_asprintf("refused: %s", bad);
			rc = audit_token(
			    ta, a.name, "denied", detail ? detail : "refused");
			free(detail);
			if (rc == 0)
				rc = token_error(
				    401, "invalid_client", bad, status, json);
		}
	} else if ((rc = issue(ta, &a, status, json)) == 0) {
		if ((detail = janee_asprintf("access token for %s, %llds",
			 ta->resource, (long long)ta->token_ttl_s)) == NULL ||
		    (rc = audit_token(ta, a.name, "ok", detail)) != 0) {
			/* Not on record: not handed out. */
			janee_freezero(*json, strlen(*json));
			*json = NULL;
			rc = rc ? rc : JANEE_ERR_NOMEM;
		}
		free(detail);
	}
	cJSON_Delete(hdr);
	cJSON_Delete(claims);
	team_agent_free(&a);
	form_free(&f);
	return rc;
}

/* ---- the transport's route hook ---- */

static int
answer(int code, char *body, int *status, char **ct, char **out)
{
	*status = code;
	*out = body;
	*ct = janee_strdup("application/json");
	return 1;
}

int
team_auth_route(void *arg, const char *method, const char *path,
    const char *content_type, const char *body, size_t len, int *status,
    char **ct, char **out)
{
	struct team_auth *ta = arg;
	char *json = NULL;
	size_t plen = strcspn(path, "?");
	int rc, get = strcmp(method, "GET") == 0;

	*ct = *out = NULL;
	janee_err_clear();
#define IS(p) (plen == strlen(p) && strncmp(path, p, plen) == 0)
	if (IS(WELL_KNOWN_PR) ||
	    (plen == strlen(WELL_KNOWN_PR) + strlen(ta->path) &&
		strncmp(path, WELL_KNOWN_PR, strlen(WELL_KNOWN_PR)) == 0 &&
		strncmp(path + strlen(WELL_KNOWN_PR), ta->path,
		    strlen(ta->path)) == 0)) {
		if (!get)
			rc = token_error(
			    405, "invalid_request", "use GET", status, &json);
		else
			rc = team_auth_metadata(ta, &json);
		if (rc == 0 && get)
			*status = 200;
	} else if (ta->token_endpoint != NULL && IS(WELL_KNOWN_AS)) {
		if (!get)
			rc = token_error(
			    405, "invalid_request", "use GET", status, &json);
		else if ((rc = as_metadata(ta, &json)) == 0)
			*status = 200;
	} else if (ta->token_endpoint != NULL && IS(TEAM_TOKEN_PATH)) {
		if (strcmp(method, "POST") != 0)
			rc = token_error(
			    405, "invalid_request", "use POST", status, &json);
		else if (content_type == NULL ||
		    strncasecmp(content_type,
			"application/x-www-form-urlencoded", 33) != 0 ||
		    (content_type[33] != '\0' && content_type[33] != ';'))
			rc = token_error(400, "invalid_request",
			    "the body must be application/x-www-form-urlencoded",
			    status, &json);
		else
			rc = team_auth_token(ta, body, len, status, &json);
	} else
		return 0;
#undef IS
	if (rc != 0) {
		free(json);
		json = janee_strdup("{\"error\":\"server_error\"}");
		janee_err_clear();
		return answer(500, json, status, ct, out);
	}
	return answer(*status, json, status, ct, out);
}
