/*
 * Slack: OAuth v2 installs with PKCE, rotating tokens, install profiles.
 *
 * A profile is one install of a Slack app with its bot and/or user scopes.
 * Slack cannot narrow a token on refresh (oauth.v2.access has no scope
 * parameter), so a request is served by the narrowest profile whose bot or
 * user scopes cover it; a request no profile covers is refused before any
 * request is sent.  `janee login NAME` installs one profile in the browser
 * (state and PKCE S256, a one-shot listener on 127.0.0.1 or a pasted
 * redirect) and keeps its tokens sealed.  A lease gets the profile's
 * current access token, refreshed under the login lock when less than 2 h
 * remain (as Slack's SDKs do) or when Slack says it no longer works; each
 * refresh stores the rotated refresh token at once.
 *
 * Lease end ("lease_end"): Slack documents auth.revoke as revoking the one
 * token, and revoking a bot token deactivates the bot user and removes its
 * channel memberships; a new token then needs another install.  Ending a
 * leased token therefore ends the install behind it, so by default
 * ("expire") janee does not revoke: the lease records Slack's own expiry of
 * the token.  "revoke" calls auth.revoke at lease end (each lease then gets
 * a token of its own) and checks whether the install survived.  See
 * docs/SLACK.md.
 *
 * The stored login (sealed, one per provider entry):
 *   {"v": 1, "profiles": {"NAME": {"team_id", "team_name", "enterprise_id",
 *     "app_id", "bot_user_id", "user_id" (who installed), "bot": TOKEN,
 *     "user": TOKEN}}, "minted": [...]}
 *   TOKEN: {"access_token", "refresh_token", "expires_at" (ms), "scope"
 *     (Slack's comma-separated list), "id" (the bot or user id)}
 *   "minted": the tokens refreshes made for leases, until the ledger has
 *     them (oauth_minted_*): what slack_reconcile looks for after a crash.
 */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "buf.h"
#include "janee/http.h"
#include "oauth.h"
#include "providers.h"
#include "secretref.h"
#include "slack.h"
#include "util.h"

#define DEFAULT_BASE "https://slack.com"
#define DEFAULT_REDIRECT "http://127.0.0.1:0/slack/callback"
/* Slack's SDKs refresh 2 h before expiry; so does janee. */
#define REFRESH_BEFORE_MS (2 * 3600 * 1000LL)
/* Rotating tokens live 12 h (expires_in 43200, Slack's token rotation). */
#define TOKEN_LIFETIME_S 43200
#define LOGIN_TIMEOUT_MS (300 * 1000LL)
#define MAX_PASTE 8192
#define MAX_REQUEST 8192

enum kind {
	KIND_BOT,
	KIND_USER,
	NKINDS,
};

static const char *const kind_names[] = {
	[KIND_BOT] = "bot",
	[KIND_USER] = "user",
};

struct profile {
	char *name;
	struct janee_strlist scopes[NKINDS]; /* bot scopes, user scopes */
	char *client_id; /* NULL: the provider's */
	char *client_secret_ref; /* with client_id: NULL is a public client */
	char *legacy_token_ref; /* converted once by oauth.v2.exchange */
};

struct slack {
	char *base; /* no trailing slash */
	char *client_id;
	char *client_secret_ref; /* NULL: a public (PKCE) client */
	char *ca_file;
	char *redirect_uri; /* NULL: DEFAULT_REDIRECT */
	int revoke_at_end;
	struct profile *profiles;
	size_t nprofiles;
};

/* A client of one profile, its secret resolved. */
struct client {
	const char *id;
	struct janee_secret *secret; /* NULL: public client */
};

/* Tokens Slack no longer accepts: the token is dead, not the call. */
static const char *const dead_codes[] = { "invalid_auth", "token_revoked",
	"token_expired", "account_inactive", NULL };

/* ---- configuration ---- */

static void
slack_free(void *state)
{
	struct slack *t = state;
	size_t i;
	int k;

	for (i = 0; i < t->nprofiles; i++) {
		free(t->profiles[i].name);
		for (k = 0; k < NKINDS; k++)
			janee_strlist_free(&t->profiles[i].scopes[k]);
		free(t->profiles[i].client_id);
		free(t->profiles[i].client_secret_ref);
		free(t->profiles[i].legacy_token_ref);
	}
	free(t->profiles);
	free(t->base);
	free(t->client_id);
	free(t->client_secret_ref);
	free(t->ca_file);
	free(t->redirect_uri);
	free(t);
}

/* A member that must be a non-empty string, when present. */
static int
prof_string(struct janee_ctx *ctx, const char *prof, const cJSON *o,
    const char *key, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': profiles.%s.%s must be a non-empty string",
		    ctx->name, prof, key);
	return janee_strdup_opt(v->valuestring, out);
}

static int
prof_scopes(struct janee_ctx *ctx, const char *prof, const cJSON *o,
    const char *key, struct janee_strlist *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key), *e;
	int rc;

	if (v == NULL)
		return 0;
	if (!cJSON_IsArray(v))
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': profiles.%s.%s must be an array of scopes",
		    ctx->name, prof, key);
	cJSON_ArrayForEach(e, v)
	{
		/* Slack joins scopes with commas: one cannot hold one. */
		if (!cJSON_IsString(e) || e->valuestring[0] == '\0' ||
		    strpbrk(e->valuestring, ", \t") != NULL)
			return janee_err_set(JANEE_ERR_CONFIG,
			    "provider '%s': profiles.%s.%s must hold "
			    "non-empty scope names without commas or spaces",
			    ctx->name, prof, key);
		if ((rc = janee_strlist_add(out, e->valuestring)) != 0)
			return rc;
	}
	janee_strlist_normalize(out);
	return 0;
}

static int
read_profile(struct janee_ctx *ctx, const cJSON *o, struct profile *p)
{
	static const char *const keys[] = { "scopes", "user_scopes",
		"client_id", "client_secret", "legacy_token", NULL };
	const cJSON *e;
	char where[160];
	size_t i;
	int rc;

	if (!janee_name_valid(o->string))
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': profile name '%s': use 1-64 lowercase "
		    "letters, digits, '-' or '_'",
		    ctx->name, o->string);
	if ((p->name = janee_strdup(o->string)) == NULL)
		return JANEE_ERR_NOMEM;
	if (!cJSON_IsObject(o))
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': profiles.%s must be an object", ctx->name,
		    p->name);
	cJSON_ArrayForEach(e, o)
	{
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(keys[i], e->string) == 0)
				break;
		if (keys[i] == NULL)
			return janee_err_set(JANEE_ERR_CONFIG,
			    "provider '%s': profiles.%s: unknown key '%s'",
			    ctx->name, p->name, e->string);
	}
	if ((rc = prof_scopes(
		 ctx, p->name, o, "scopes", &p->scopes[KIND_BOT])) != 0 ||
	    (rc = prof_scopes(
		 ctx, p->name, o, "user_scopes", &p->scopes[KIND_USER])) != 0 ||
	    (rc = prof_string(ctx, p->name, o, "client_id", &p->client_id)) !=
		0 ||
	    (rc = prof_string(ctx, p->name, o, "client_secret",
		 &p->client_secret_ref)) != 0 ||
	    (rc = prof_string(
		 ctx, p->name, o, "legacy_token", &p->legacy_token_ref)) != 0)
		return rc;
	snprintf(where, sizeof(where), "provider '%s': profiles.%s", ctx->name,
	    p->name);
	if ((p->client_secret_ref != NULL &&
		(rc = secretref_require(
		     where, "client_secret", p->client_secret_ref)) != 0) ||
	    (p->legacy_token_ref != NULL &&
		(rc = secretref_require(
		     where, "legacy_token", p->legacy_token_ref)) != 0))
		return rc;
	if (p->scopes[KIND_BOT].n == 0 && p->scopes[KIND_USER].n == 0)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': profile '%s' needs 'scopes' (bot) or "
		    "'user_scopes'",
		    ctx->name, p->name);
	return 0;
}

/*
 * The ceiling: without "scopes" it is what the profiles can grant; with
 * it, every profile must lie within it, or a token could do more than the
 * policy allows (a profile's token carries all of its scopes).
 */
static int
fit_ceiling(struct janee_ctx *ctx, struct slack *t)
{
	int extend = ctx->ceiling->n == 0, k, rc;
	size_t i, j;
	const char *s;

	for (i = 0; i < t->nprofiles; i++)
		for (k = 0; k < NKINDS; k++)
			for (j = 0; j < t->profiles[i].scopes[k].n; j++) {
				s = t->profiles[i].scopes[k].v[j];
				if (janee_strlist_has(ctx->ceiling, s))
					continue;
				if (!extend)
					return janee_err_set(JANEE_ERR_CONFIG,
					    "provider '%s': profile '%s' has "
					    "%s scope '%s', which is not in "
					    "'scopes' (the ceiling); its "
					    "tokens could do more than the "
					    "policy allows: add the scope to "
					    "'scopes' or drop it from the "
					    "profile",
					    ctx->name, t->profiles[i].name,
					    kind_names[k], s);
				if ((rc = janee_strlist_add(ctx->ceiling, s)) !=
				    0)
					return rc;
			}
	return 0;
}

/* https anywhere, or http to 127.0.0.1 / localhost (janee listens there). */
static int
redirect_ok(struct janee_ctx *ctx, const char *uri)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	int rc = 0;

	if ((u = curl_url()) == NULL)
		return JANEE_ERR_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'redirect_uri' '%s' is not a URL",
		    ctx->name, uri);
	else if (strcmp(scheme, "https") != 0 &&
	    !(strcmp(scheme, "http") == 0 &&
		(strcmp(host, "127.0.0.1") == 0 ||
		    strcmp(host, "localhost") == 0)))
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'redirect_uri' must be https://... (the "
		    "code is then pasted) or http://127.0.0.1:PORT/PATH (janee "
		    "listens there), not '%s'",
		    ctx->name, uri);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

static int
slack_configure(struct janee_ctx *ctx, struct janee_cfg *cfg, void **state)
{
	const char *client_id = NULL, *secret = NULL, *base = NULL, *ca = NULL,
		   *redirect = NULL, *lease_end = NULL;
	const cJSON *profiles = NULL, *e;
	char what[128];
	struct slack *t;
	size_t n;
	int rc;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	*state = t;
	if ((rc = janee_cfg_string(cfg, "client_id", 1, &client_id)) != 0 ||
	    (rc = janee_cfg_ref(cfg, "client_secret", 0, &secret)) != 0 ||
	    (rc = janee_cfg_string(cfg, "base_url", 0, &base)) != 0 ||
	    (rc = janee_cfg_string(cfg, "ca_file", 0, &ca)) != 0 ||
	    (rc = janee_cfg_string(cfg, "redirect_uri", 0, &redirect)) != 0 ||
	    (rc = janee_cfg_string(cfg, "lease_end", 0, &lease_end)) != 0 ||
	    (rc = janee_cfg_object(cfg, "profiles", &profiles)) != 0)
		return rc;
	if (base == NULL)
		base = DEFAULT_BASE;
	snprintf(
	    what, sizeof(what), "provider '%s': key 'base_url'", ctx->name);
	if ((rc = janee_http_url_ok(base, what)) != 0)
		return janee_err_set(JANEE_ERR_CONFIG, "%s", janee_err_msg(rc));
	if (redirect != NULL && (rc = redirect_ok(ctx, redirect)) != 0)
		return rc;
	if (lease_end != NULL && strcmp(lease_end, "revoke") != 0 &&
	    strcmp(lease_end, "expire") != 0)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'lease_end' must be expire or revoke, not "
		    "'%s'",
		    ctx->name, lease_end);
	t->revoke_at_end =
	    lease_end != NULL && strcmp(lease_end, "revoke") == 0;
	ctx->no_revoke = !t->revoke_at_end;
	if ((rc = janee_strdup_opt(base, &t->base)) != 0 ||
	    (rc = janee_strdup_opt(client_id, &t->client_id)) != 0 ||
	    (rc = janee_strdup_opt(secret, &t->client_secret_ref)) != 0 ||
	    (rc = janee_strdup_opt(ca, &t->ca_file)) != 0 ||
	    (rc = janee_strdup_opt(redirect, &t->redirect_uri)) != 0)
		return rc;
	n = strlen(t->base);
	while (n > 0 && t->base[n - 1] == '/')
		t->base[--n] = '\0';
	if (profiles == NULL || cJSON_GetArraySize(profiles) == 0)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'profiles' is required: name each install "
		    "and its scopes, e.g. {\"poster\": {\"scopes\": "
		    "[\"chat:write\"]}}",
		    ctx->name);
	if ((t->profiles = calloc((size_t)cJSON_GetArraySize(profiles),
		 sizeof(*t->profiles))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(e, profiles)
	{
		t->nprofiles++; /* from here on slack_free cleans it up */
		if ((rc = read_profile(
			 ctx, e, &t->profiles[t->nprofiles - 1])) != 0)
			return rc;
	}
	return fit_ceiling(ctx, t);
}

/* ---- small helpers ---- */

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t
jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15)
		return (int64_t)v->valuedouble;
	return -1;
}

static int
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* Slack's comma-separated scope list into l. */
static int
split_scopes(const char *s, struct janee_strlist *l)
{
	char *copy, *w, *save = NULL;
	int rc = 0;

	if (s == NULL)
		return 0;
	if ((copy = janee_strdup(s)) == NULL)
		return JANEE_ERR_NOMEM;
	for (w = strtok_r(copy, ", ", &save); w != NULL && rc == 0;
	     w = strtok_r(NULL, ", ", &save))
		rc = janee_strlist_add(l, w);
	free(copy);
	janee_strlist_normalize(l);
	return rc;
}

static char *
join(const struct janee_strlist *l, const char *sep)
{
	struct buf b;
	size_t i;

	buf_init(&b, 64 * 1024);
	for (i = 0; i < l->n; i++)
		if (buf_printf(&b, "%s%s", i ? sep : "", l->v[i]) != 0)
			return NULL;
	if (b.p == NULL && buf_add(&b, "", 0) != 0)
		return NULL;
	return b.p;
}

/* ---- PKCE, state, redirects (RFC 7636, RFC 8252) ---- */

int
slack_b64url(const unsigned char *p, size_t n, char *out, size_t outsz)
{
	char tmp[4 * 1024 + 1];
	size_t i, j;
	int len;

	/* EVP_EncodeBlock pads with '=' and adds a NUL: encode aside. */
	if (n > 3 * 1024)
		return janee_err_set(JANEE_ERR_INTERNAL, "base64url overflow");
	len = EVP_EncodeBlock((unsigned char *)tmp, p, (int)n);
	for (i = j = 0; i < (size_t)len && tmp[i] != '='; i++) {
		if (j + 1 >= outsz) {
			janee_wipe(tmp, sizeof(tmp));
			return janee_err_set(
			    JANEE_ERR_INTERNAL, "base64url overflow");
		}
		out[j++] = tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' : tmp[i];
	}
	out[j] = '\0';
	janee_wipe(tmp, sizeof(tmp));
	return 0;
}

int
slack_nonce(char out[SLACK_NONCE_LEN + 1])
{
	unsigned char r[32];
	int rc;

	if ((rc = janee_random(r, sizeof(r))) == 0)
		rc = slack_b64url(r, sizeof(r), out, SLACK_NONCE_LEN + 1);
	janee_wipe(r, sizeof(r));
	return rc;
}

int
slack_pkce_challenge(const char *verifier, char out[SLACK_CHALLENGE_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	/* RFC 7636 section 4.2: BASE64URL(SHA256(ASCII(code_verifier))). */
	if (EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(),
		NULL) != 1 ||
	    mdlen != 32)
		return janee_err_set(JANEE_ERR_CRYPTO, "SHA-256 failed");
	return slack_b64url(md, mdlen, out, SLACK_CHALLENGE_LEN + 1);
}

int
slack_state_equal(const char *a, const char *b)
{
	size_t n = strlen(a);

	/* The length is not secret: the state has a fixed length. */
	return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

void
slack_redirect_free(struct slack_redirect *r)
{
	janee_secret_free(r->code);
	free(r->state);
	free(r->error);
	memset(r, 0, sizeof(r[0]));
}

/* A bare code as Slack issues them: digits, letters, '.', '-', '_'. */
static int
bare_code(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 512)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
			s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/* One name=value of the query, decoded, into r. */
static int
redirect_param(const char *p, size_t n, struct slack_redirect *r)
{
	const char *eq = memchr(p, '=', n);
	char *name = NULL, *val = NULL;
	int nlen = 0, vlen = 0, rc = 0;

	if (eq == NULL)
		return 0; /* a bare word: nothing of ours */
	name = curl_easy_unescape(NULL, p, (int)(eq - p), &nlen);
	val = curl_easy_unescape(
	    NULL, eq + 1, (int)(n - (size_t)(eq - p) - 1), &vlen);
	if (name == NULL || val == NULL) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((size_t)nlen != strlen(name) || (size_t)vlen != strlen(val)) {
		rc = janee_err_set(JANEE_ERR_INVALID,
		    "the redirect holds a NUL byte; refused");
		goto out;
	}
	if (strcmp(name, "code") == 0 || strcmp(name, "state") == 0 ||
	    strcmp(name, "error") == 0) {
		if ((strcmp(name, "code") == 0 && r->code != NULL) ||
		    (strcmp(name, "state") == 0 && r->state != NULL) ||
		    (strcmp(name, "error") == 0 && r->error != NULL)) {
			rc = janee_err_set(JANEE_ERR_INVALID,
			    "the redirect carries '%s' twice; refused", name);
			goto out;
		}
		if (strcmp(name, "code") == 0)
			rc = (r->code = janee_secret_new(val, strlen(val)))
			    ? 0
			    : JANEE_ERR_NOMEM;
		else if (strcmp(name, "state") == 0)
			rc = (r->state = janee_strdup(val)) ? 0
							    : JANEE_ERR_NOMEM;
		else
			rc = (r->error = janee_strdup(val)) ? 0
							    : JANEE_ERR_NOMEM;
	}
out:
	if (val != NULL) {
		janee_wipe(val, strlen(val));
		curl_free(val);
	}
	curl_free(name);
	return rc;
}

int
slack_redirect_parse(const char *in, const char *path, struct slack_redirect *r)
{
	CURLU *u = NULL;
	char *url = NULL, *got = NULL, *query = NULL;
	const char *p, *amp, *end;
	size_t n;
	int rc = 0;

	memset(r, 0, sizeof(r[0]));
	while (*in == ' ' || *in == '\t')
		in++;
	n = strcspn(in, "\r\n");
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	if (n == 0 || n > MAX_PASTE)
		return janee_err_set(JANEE_ERR_INVALID,
		    "nothing usable was given: paste the address the browser "
		    "was sent to, or the code");
	if (memchr(in, '/', n) == NULL && memchr(in, '?', n) == NULL) {
		if (!bare_code(in, n))
			return janee_err_set(JANEE_ERR_INVALID,
			    "that is neither an address nor a code");
		if ((r->code = janee_secret_new(in, n)) == NULL)
			return JANEE_ERR_NOMEM;
		return 0;
	}
	/* A request target from the listener: give it a scheme and host. */
	url = janee_asprintf(
	    "%s%.*s", in[0] == '/' ? "http://127.0.0.1" : "", (int)n, in);
	if (url == NULL || (u = curl_url()) == NULL) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		rc = janee_err_set(JANEE_ERR_INVALID,
		    "that is not an address the browser could have been sent "
		    "to");
		goto out;
	}
	if (path != NULL &&
	    (curl_url_get(u, CURLUPART_PATH, &got, 0) != CURLUE_OK ||
		strcmp(got, path) != 0)) {
		rc = janee_err_set(JANEE_ERR_INVALID,
		    "the redirect went to another path than %s", path);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK) {
		rc = janee_err_set(JANEE_ERR_INVALID,
		    "the redirect has no query (no code, no error)");
		goto out;
	}
	end = query + strlen(query);
	for (p = query; p < end && rc == 0; p = amp + 1) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		rc = redirect_param(p, (size_t)(amp - p), r);
	}
	if (rc == 0 && r->code == NULL && r->error == NULL)
		rc = janee_err_set(JANEE_ERR_INVALID,
		    "the redirect carries neither a code nor an error");
out:
	if (rc != 0)
		slack_redirect_free(r);
	if (query != NULL) {
		janee_wipe(query, strlen(query));
		curl_free(query);
	}
	curl_free(got);
	curl_url_cleanup(u);
	if (url != NULL)
		janee_freezero(url, strlen(url));
	return rc;
}

int
slack_listen(int port, struct slack_listener *l)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int one = 1;

	l->fd = -1;
	l->port = 0;
	if (port < 0 || port > 65535)
		return janee_err_set(JANEE_ERR_INVALID, "bad port %d", port);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	/* RFC 8252 section 7.3: the loopback literal, never all addresses. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) !=
		0 ||
	    bind(l->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(l->fd, 4) != 0 ||
	    getsockname(l->fd, (struct sockaddr *)&sin, &len) != 0) {
		int e = errno;

		slack_listener_close(l);
		return janee_err_set(JANEE_ERR_NETWORK,
		    "cannot listen on 127.0.0.1:%d for the redirect: %s", port,
		    strerror(e));
	}
	l->port = ntohs(sin.sin_port);
	return 0;
}

void
slack_listener_close(struct slack_listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

static void
answer(int fd, const char *status, const char *text)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head),
	    "HTTP/1.1 %s\r\nContent-Type: text/html; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n\r\n",
	    status, strlen(text));
	/* MSG_NOSIGNAL: a browser that went away must not kill janee. */
	if (n > 0 && (size_t)n < sizeof(head) &&
	    send(fd, head, (size_t)n, MSG_NOSIGNAL) == n)
		(void)send(fd, text, strlen(text), MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
}

/* Read one request head (to the blank line, at most MAX_REQUEST bytes, 5 s). */
static int
read_request(int fd, struct buf *b)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char tmp[1024];
	ssize_t n;
	int i;

	for (i = 0; i < 50 && (b->p == NULL || !strstr(b->p, "\r\n\r\n"));) {
		if (poll(&pfd, 1, 100) <= 0) {
			i++;
			continue;
		}
		if ((n = read(fd, tmp, sizeof(tmp))) <= 0)
			break;
		if (buf_add(b, tmp, (size_t)n) != 0) {
			janee_err_clear();
			return 0; /* too long: not ours */
		}
	}
	return 1;
}

int
slack_request_parse(
    const char *head, const char *path, struct slack_redirect *r, int *ours)
{
	const char *target, *sp;
	size_t tlen, plen = strlen(path);
	char *copy;
	int rc;

	*ours = 0;
	if (head == NULL || strncmp(head, "GET ", 4) != 0 ||
	    (sp = strchr(head + 4, ' ')) == NULL ||
	    strncmp(sp + 1, "HTTP/1.", 7) != 0)
		return 0;
	target = head + 4;
	tlen = (size_t)(sp - target);
	if (tlen < plen || strncmp(target, path, plen) != 0 ||
	    (tlen != plen && target[plen] != '?'))
		return 0;
	*ours = 1;
	if ((copy = janee_asprintf("%.*s", (int)tlen, target)) == NULL)
		return JANEE_ERR_NOMEM;
	rc = slack_redirect_parse(copy, path, r);
	janee_freezero(copy, strlen(copy));
	return rc;
}

int
slack_listen_wait(struct slack_listener *l, const char *path,
    int64_t timeout_ms, int (*waiting)(void *arg), void *arg,
    struct slack_redirect *r)
{
	struct pollfd pfd = { l->fd, POLLIN, 0 };
	int64_t deadline = janee_now_ms() + timeout_ms;
	struct buf b;
	int fd, rc, ours, strays = 0;

	memset(r, 0, sizeof(r[0]));
	for (;;) {
		if (waiting != NULL && waiting(arg) != 0)
			return janee_err_set(JANEE_ERR_USAGE, "cancelled");
		if (janee_now_ms() > deadline)
			return janee_err_set(JANEE_ERR_DENIED,
			    "no answer came back from the browser in time; "
			    "run the login again");
		if (poll(&pfd, 1, 100) <= 0)
			continue; /* timeout, or EINTR: ask waiting() */
		if ((fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		buf_init(&b, MAX_REQUEST);
		rc = 0;
		ours = 0;
		if (read_request(fd, &b))
			rc = slack_request_parse(b.p, path, r, &ours);
		if (!ours) {
			answer(fd, "404 Not Found", "<p>Not found.</p>\n");
			close(fd);
			buf_free(&b);
			if (++strays > 32)
				return janee_err_set(JANEE_ERR_NETWORK,
				    "too many stray requests on 127.0.0.1:%d; "
				    "the login stopped",
				    l->port);
			continue;
		}
		answer(fd, rc == 0 ? "200 OK" : "400 Bad Request",
		    rc == 0 ? "<p>janee received Slack's answer. You can close "
			      "this tab and return to the terminal.</p>\n"
			    : "<p>janee could not read this answer; see the "
			      "terminal.</p>\n");
		close(fd);
		buf_free(&b);
		return rc;
	}
}

/* ---- calling Slack ---- */

static const char *const accept_json[] = { "Accept: application/json", NULL };

static const struct {
	const char *code, *hint;
} hints[] = {
	{ "invalid_auth", "the token is not valid" },
	{ "not_authed", "no token was sent" },
	{ "token_revoked", "the token was revoked or the app uninstalled" },
	{ "token_expired", "the token has expired" },
	{ "account_inactive", "the token's user or workspace is gone" },
	{ "invalid_refresh_token",
	    "the refresh token was used already, revoked or has expired" },
	{ "invalid_code",
	    "the code was used already or has expired: run the login again" },
	{ "bad_client_secret",
	    "the client secret is wrong: check the secret that "
	    "'client_secret' names" },
	{ "invalid_client_id", "the client_id is wrong: check 'client_id'" },
	{ "bad_redirect_uri",
	    "the redirect_uri does not match the authorize request or the "
	    "app's settings (OAuth & Permissions, Redirect URLs)" },
	{ "invalid_grant_type", "Slack does not accept this grant_type" },
	{ "token_already_exchanged",
	    "the legacy token was converted already; log in in the browser "
	    "instead" },
	{ "token_rotation_not_enabled",
	    "turn on token rotation in the app's settings (OAuth & "
	    "Permissions)" },
	{ "ratelimited", "Slack's rate limit: try again later" },
};

/* Turn {"ok": false, "error": ...} into a message; code gets the error. */
static int
slack_fail(struct janee_ctx *ctx, const char *method, const cJSON *j,
    char *code, size_t codesz)
{
	char err[64], needed[256], provided[256];
	const char *hint = NULL;
	size_t i;

	janee_clean_text(jstr(j, "error"), err, sizeof(err));
	if (*err == '\0')
		snprintf(err, sizeof(err), "unknown_error");
	if (code != NULL)
		snprintf(code, codesz, "%s", err);
	if (strcmp(err, "missing_scope") == 0) {
		janee_clean_text(jstr(j, "needed"), needed, sizeof(needed));
		janee_clean_text(
		    jstr(j, "provided"), provided, sizeof(provided));
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': Slack refused %s: missing_scope: the token "
		    "lacks a scope (needed: %s; provided: %s); add it to the "
		    "profile and install the profile again (janee login %s)",
		    ctx->name, method, *needed ? needed : "not said",
		    *provided ? provided : "not said", ctx->name);
	}
	for (i = 0; i < nitems(hints); i++)
		if (strcmp(err, hints[i].code) == 0)
			hint = hints[i].hint;
	return janee_err_set(JANEE_ERR_PROVIDER,
	    "provider '%s': Slack refused %s: %s%s%s%s", ctx->name, method, err,
	    hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
}

/*
 * The profile's client: a profile with its own client_id (its own Slack
 * app) has its own secret or none (a public PKCE client); else the entry's.
 */
static int
client_get(struct janee_ctx *ctx, const struct profile *p, struct client *cl)
{
	struct slack *t = ctx->state;
	const char *ref =
	    p->client_id ? p->client_secret_ref : t->client_secret_ref;

	cl->id = p->client_id ? p->client_id : t->client_id;
	cl->secret = NULL;
	return ref == NULL ? 0 : ctx->secret_get(ctx, ref, &cl->secret);
}

/*
 * Client authentication: HTTP Basic with both parts form-encoded first
 * (RFC 6749 section 2.3.1), as Slack prefers; a public PKCE client sends
 * its client_id alone.
 */
static int
client_auth(const struct client *cl, struct oauth_form *f,
    struct janee_http_req *req, char **user, struct janee_secret **pass)
{
	char *u, *p;
	int rc = 0;

	if (cl->secret == NULL)
		return oauth_form_add(f, "client_id", cl->id);
	u = curl_easy_escape(NULL, cl->id, 0);
	p = curl_easy_escape(NULL, (const char *)cl->secret->data, 0);
	if (u == NULL || p == NULL || (*user = janee_strdup(u)) == NULL ||
	    (*pass = janee_secret_new(p, strlen(p))) == NULL)
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	curl_free(u);
	if (p != NULL) {
		janee_wipe(p, strlen(p));
		curl_free(p);
	}
	req->basic_user = *user;
	req->basic_pass = *pass;
	return rc;
}

/*
 * POST a Web API method (BASE/api/METHOD) with form f, authenticated as
 * the client cl or by the bearer token; 0 when an answer came.  The HTTP
 * layer has honoured Retry-After on 429 already.
 */
static int
slack_post(struct janee_ctx *ctx, const char *method, struct oauth_form *f,
    const struct client *cl, const struct janee_secret *bearer,
    struct janee_http_resp *resp)
{
	struct slack *t = ctx->state;
	struct janee_http_req req;
	struct janee_secret *pass = NULL;
	struct oauth_form empty;
	char *url = NULL, *user = NULL, label[160];
	int rc;

	memset(&req, 0, sizeof(req));
	memset(resp, 0, sizeof(*resp));
	oauth_form_init(&empty);
	if (f == NULL)
		f = &empty;
	snprintf(
	    label, sizeof(label), "provider '%s': Slack %s", ctx->name, method);
	if ((url = janee_asprintf("%s/api/%s", t->base, method)) == NULL) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (cl != NULL && (rc = client_auth(cl, f, &req, &user, &pass)) != 0)
		goto out;
	if (f->b.p == NULL && (rc = buf_add(&f->b, "", 0)) != 0)
		goto out;
	req.method = "POST";
	req.url = url;
	req.what = label;
	req.ca_file = t->ca_file;
	req.headers = accept_json;
	req.content_type = "application/x-www-form-urlencoded";
	req.body = f->b.p;
	req.body_len = f->b.len;
	req.bearer = bearer;
	rc = janee_http_do(ctx->http, &req, resp);
out:
	free(url);
	free(user);
	janee_secret_free(pass);
	oauth_form_free(&empty);
	return rc;
}

int
slack_answer(struct janee_ctx *ctx, const char *method,
    const struct janee_http_resp *r, cJSON **out, char *code, size_t codesz)
{
	struct slack *t = ctx->state;
	char label[160];
	const cJSON *ok;
	cJSON *j = NULL;
	int rc;

	*out = NULL;
	if (code != NULL)
		*code = '\0';
	snprintf(
	    label, sizeof(label), "provider '%s': Slack %s", ctx->name, method);
	if (r->status == 429)
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "%s: Slack's rate limit (HTTP 429, Retry-After %lld s) "
		    "held after janee waited as told and retried; try again "
		    "later",
		    label, (long long)r->retry_after_s);
	if (r->content_type == NULL ||
	    strncmp(r->content_type, "application/json", 16) != 0 ||
	    (j = cJSON_ParseWithLength(r->body, r->len)) == NULL ||
	    !cJSON_IsObject(j)) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "%s (%s/api/%s) answered HTTP %ld without a JSON object; "
		    "check 'base_url'",
		    label, t->base, method, r->status);
		goto out;
	}
	ok = cJSON_GetObjectItemCaseSensitive(j, "ok");
	if (!cJSON_IsBool(ok)) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "%s (%s/api/%s) answered HTTP %ld without \"ok\"; it is "
		    "not Slack's Web API",
		    label, t->base, method, r->status);
		goto out;
	}
	if (cJSON_IsFalse(ok)) {
		rc = slack_fail(ctx, method, j, code, codesz);
		goto out;
	}
	*out = j;
	j = NULL;
	rc = 0;
out:
	cJSON_Delete(j);
	return rc;
}

/*
 * A Web API call (slack_post) and its answer (slack_answer): *out on
 * "ok": true; otherwise an actionable message, and the error in code.
 */
static int
slack_api(struct janee_ctx *ctx, const char *method, struct oauth_form *f,
    const struct client *cl, const struct janee_secret *bearer, cJSON **out,
    char *code, size_t codesz)
{
	struct janee_http_resp resp;
	int rc;

	*out = NULL;
	if (code != NULL)
		*code = '\0';
	if ((rc = slack_post(ctx, method, f, cl, bearer, &resp)) == 0)
		rc = slack_answer(ctx, method, &resp, out, code, codesz);
	janee_http_resp_free(&resp);
	return rc;
}

/* auth.test with token; *out (may be NULL) gets the answer. */
static int
auth_test(struct janee_ctx *ctx, const struct janee_secret *token, cJSON **out,
    char *code, size_t codesz)
{
	cJSON *j = NULL;
	int rc;

	rc = slack_api(ctx, "auth.test", NULL, NULL, token, &j, code, codesz);
	if (out != NULL) {
		*out = j;
		j = NULL;
	}
	cJSON_Delete(j);
	return rc;
}

int
slack_revoke_answer(struct janee_ctx *ctx, const struct janee_http_resp *r,
    char *code, size_t codesz)
{
	cJSON *j = NULL;
	int rc;

	rc = slack_answer(ctx, "auth.revoke", r, &j, code, codesz);
	if (rc != 0 && in_list(code, dead_codes)) {
		janee_err_clear();
		rc = 0;
	} else if (rc == 0 &&
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "revoked")))
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': Slack answered auth.revoke without "
		    "\"revoked\": true; the token may still work",
		    ctx->name);
	cJSON_Delete(j);
	return rc;
}

/*
 * auth.revoke; a token Slack no longer accepts counts as revoked (code
 * says why, e.g. token_expired: the token, not the install, is over).
 */
static int
auth_revoke(struct janee_ctx *ctx, const struct janee_secret *token, char *code,
    size_t codesz)
{
	struct janee_http_resp resp;
	int rc;

	*code = '\0';
	if ((rc = slack_post(ctx, "auth.revoke", NULL, NULL, token, &resp)) ==
	    0)
		rc = slack_revoke_answer(ctx, &resp, code, codesz);
	janee_http_resp_free(&resp);
	return rc;
}

/* ---- the stored login ---- */

static const struct profile *
find_profile(const struct slack *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->nprofiles; i++)
		if (strcmp(t->profiles[i].name, name) == 0)
			return &t->profiles[i];
	return NULL;
}

/* The stored login, parsed; JANEE_ERR_NOT_FOUND (with a message) if none. */
static int
login_load(struct janee_ctx *ctx, cJSON **root)
{
	struct janee_secret *cred = NULL;
	int rc;

	*root = NULL;
	if ((rc = ctx->cred_get(ctx, &cred)) != 0)
		return rc;
	*root = cJSON_ParseWithLength((const char *)cred->data, cred->len);
	janee_secret_free(cred);
	if (!cJSON_IsObject(*root) ||
	    !cJSON_IsObject(
		cJSON_GetObjectItemCaseSensitive(*root, "profiles"))) {
		cJSON_Delete(*root);
		*root = NULL;
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': the stored login is damaged; run: janee "
		    "login %s",
		    ctx->name, ctx->name);
	}
	return 0;
}

static cJSON *
profile_entry(cJSON *root, const char *profile)
{
	return cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "profiles"), profile);
}

/* Replace (or add) member k of o with v; v is o's (or freed) afterwards. */
static int
put(cJSON *o, const char *k, cJSON *v)
{
	int done;

	if (v == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if (cJSON_GetObjectItemCaseSensitive(o, k) != NULL)
		done = cJSON_ReplaceItemInObjectCaseSensitive(o, k, v);
	else
		done = cJSON_AddItemToObject(o, k, v);
	if (done)
		return 0;
	cJSON_Delete(v);
	return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
}

/*
 * Fill token object tk from a Slack token answer a (oauth.v2.access for a
 * code or a refresh, or oauth.v2.exchange): a rotating token needs
 * access_token, refresh_token and expires_in.
 */
static int
take_token(struct janee_ctx *ctx, const char *what, const cJSON *a, cJSON *tk)
{
	const char *at = jstr(a, "access_token"),
		   *rt = jstr(a, "refresh_token");
	int64_t in = jnum(a, "expires_in");
	int rc;

	if (at == NULL || *at == '\0')
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': Slack's %s answer has no access token",
		    ctx->name, what);
	if (rt == NULL || *rt == '\0' || in <= 0)
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': Slack's %s answer has no refresh token or "
		    "expiry: token rotation is off for this Slack app, and "
		    "janee leases only expiring tokens; turn it on (OAuth & "
		    "Permissions, Advanced token security) and log in again",
		    ctx->name, what);
	if ((rc = put(tk, "access_token", cJSON_CreateString(at))) != 0 ||
	    (rc = put(tk, "refresh_token", cJSON_CreateString(rt))) != 0 ||
	    (rc = put(tk, "expires_at",
		 cJSON_CreateNumber((double)(ctx->now_ms() + in * 1000)))) !=
		0 ||
	    (jstr(a, "scope") != NULL &&
		(rc = put(tk, "scope", cJSON_CreateString(jstr(a, "scope")))) !=
		    0))
		return rc;
	return 0;
}

/*
 * Refresh token kind k of profile p in root (oauth.v2.access,
 * grant_type=refresh_token; the caller holds the login lock) and store
 * the rotated pair at once: the old refresh token is dead from now on.
 * A refresh for a lease (lease_id not NULL) keeps its token in the same
 * write, until the ledger has it (oauth_minted_add).
 */
static int
refresh(struct janee_ctx *ctx, const struct profile *p, enum kind k,
    cJSON *root, cJSON *tk, const char *lease_id)
{
	struct janee_secret *at = NULL;
	struct oauth_form f;
	struct client cl = { NULL, NULL };
	const char *rt = jstr(tk, "refresh_token");
	char code[64], *why;
	cJSON *a = NULL;
	int rc;

	oauth_form_init(&f);
	if (rt == NULL) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': the stored %s token of profile '%s' has no "
		    "refresh token; run: janee login %s",
		    ctx->name, kind_names[k], p->name, ctx->name);
		goto out;
	}
	if ((rc = client_get(ctx, p, &cl)) != 0 ||
	    (rc = oauth_form_add(&f, "grant_type", "refresh_token")) != 0 ||
	    (rc = oauth_form_add(&f, "refresh_token", rt)) != 0)
		goto out;
	rc = slack_api(
	    ctx, "oauth.v2.access", &f, &cl, NULL, &a, code, sizeof(code));
	if (rc != 0 &&
	    (strcmp(code, "invalid_refresh_token") == 0 ||
		in_list(code, dead_codes))) {
		/* The install is gone: say so once, for everyone. */
		why =
		    janee_asprintf("Slack refused the refresh token of the %s "
				   "token of profile '%s' (%s): the install "
				   "was revoked, uninstalled, expired or "
				   "ended by a lease_end \"revoke\"",
			kind_names[k], p->name, code);
		janee_err_clear(); /* why says it better than the answer */
		rc = ctx->login_gone(ctx, rc, why ? why : code, p->name);
		free(why);
		goto out;
	}
	if (rc != 0)
		goto out;
	/* Slack answered; nothing is stored yet (crash tests). */
	janee_crash_point("after_refresh");
	if ((rc = take_token(ctx, "refresh", a, tk)) != 0)
		goto out;
	if (lease_id == NULL)
		oauth_minted_prune(ctx, root);
	else if ((at = janee_secret_new(jstr(tk, "access_token"),
		      strlen(jstr(tk, "access_token")))) == NULL ||
	    (rc = oauth_minted_add(
		 ctx, root, lease_id, at, jnum(tk, "expires_at"))) != 0) {
		rc = rc ? rc : janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = oauth_login_put(ctx, root, NULL)) != 0) {
		why = janee_strdup(janee_err_msg(rc));
		janee_err_clear();
		rc = janee_err_set(rc,
		    "provider '%s': could not store the rotated refresh token "
		    "(%s); the login may need: janee login %s",
		    ctx->name, why ? why : "", ctx->name);
		free(why);
	}
out:
	cJSON_Delete(a);
	janee_secret_free(cl.secret);
	janee_secret_free(at);
	oauth_form_free(&f);
	return rc;
}

enum when {
	REFRESH_IF_DUE, /* less than REFRESH_BEFORE_MS left */
	REFRESH_ALWAYS,
};

struct current {
	struct janee_secret *token;
	int64_t expires_ms;
	char *scope; /* Slack's comma list; NULL when not known */
	int refreshed;
};

static void
current_free(struct current *c)
{
	janee_secret_free(c->token);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

/*
 * The token of kind k of profile p, refreshed first when `when` says so or
 * when it is still `stale` (a token Slack refused); a refresh for a lease
 * (lease_id) keeps its token for reconcile.  Takes the login lock for the
 * read, the refresh and the store: two processes never refresh one token
 * at once, and the second one finds the first one's token.
 */
static int
current_token(struct janee_ctx *ctx, const struct profile *p, enum kind k,
    enum when when, const struct janee_secret *stale, const char *lease_id,
    struct current *c)
{
	cJSON *root = NULL, *ent, *tk;
	const char *at;
	int64_t exp;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = ctx->cred_lock(ctx)) != 0)
		return rc;
	if ((rc = login_load(ctx, &root)) != 0) {
		if (rc == JANEE_ERR_NOT_FOUND) {
			janee_err_clear();
			rc = janee_err_set(JANEE_ERR_NOT_FOUND,
			    "provider '%s' has no usable login; install "
			    "profile '%s' with: janee login %s --profile %s",
			    ctx->name, p->name, ctx->name, p->name);
		}
		goto out;
	}
	if ((ent = profile_entry(root, p->name)) == NULL ||
	    (tk = cJSON_GetObjectItemCaseSensitive(ent, kind_names[k])) ==
		NULL) {
		rc = janee_err_set(JANEE_ERR_NOT_FOUND,
		    "provider '%s': profile '%s' is not installed (no %s "
		    "token); install it with: janee login %s --profile %s",
		    ctx->name, p->name, kind_names[k], ctx->name, p->name);
		goto out;
	}
	at = jstr(tk, "access_token");
	exp = jnum(tk, "expires_at");
	if (when == REFRESH_ALWAYS || at == NULL || exp < 0 ||
	    exp - ctx->now_ms() < REFRESH_BEFORE_MS ||
	    (stale != NULL && strcmp(at, (const char *)stale->data) == 0)) {
		if ((rc = refresh(ctx, p, k, root, tk, lease_id)) != 0)
			goto out;
		c->refreshed = 1;
		at = jstr(tk, "access_token");
		exp = jnum(tk, "expires_at");
	}
	if ((c->token = janee_secret_new(at, strlen(at))) == NULL ||
	    (jstr(tk, "scope") != NULL &&
		(c->scope = janee_strdup(jstr(tk, "scope"))) == NULL)) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	c->expires_ms = exp;
out:
	ctx->cred_unlock(ctx);
	cJSON_Delete(root);
	if (rc != 0)
		current_free(c);
	return rc;
}

/* ---- minting ---- */

/* The narrowest profile token whose scopes cover the request. */
static int
pick(struct janee_ctx *ctx, const struct janee_strlist *want,
    const struct profile **best, enum kind *bk)
{
	struct slack *t = ctx->state;
	const struct janee_strlist *have;
	struct buf b;
	char *w;
	size_t i, j, bestn = SIZE_MAX;
	int k, rc;

	*best = NULL;
	for (i = 0; i < t->nprofiles; i++)
		for (k = 0; k < NKINDS; k++) {
			have = &t->profiles[i].scopes[k];
			if (have->n == 0 || have->n >= bestn)
				continue;
			for (j = 0; j < want->n; j++)
				if (!janee_strlist_has(have, want->v[j]))
					break;
			if (j < want->n)
				continue;
			*best = &t->profiles[i];
			*bk = (enum kind)k;
			bestn = have->n;
		}
	if (*best != NULL)
		return 0;
	/* Refused before anything is sent: say what would cover it. */
	buf_init(&b, 64 * 1024);
	rc = 0;
	for (i = 0; i < t->nprofiles && rc == 0; i++)
		for (k = 0; k < NKINDS && rc == 0; k++) {
			if (t->profiles[i].scopes[k].n == 0)
				continue;
			if ((w = join(&t->profiles[i].scopes[k], " ")) == NULL)
				return JANEE_ERR_NOMEM;
			rc = buf_printf(&b, "%s%s (%s): %s", b.len ? "; " : "",
			    t->profiles[i].name, kind_names[k], w);
			free(w);
		}
	if (rc != 0 || (w = join(want, " ")) == NULL) {
		buf_free(&b);
		return JANEE_ERR_NOMEM;
	}
	rc = janee_err_set(JANEE_ERR_POLICY,
	    "provider '%s': no install profile covers the scopes %s (one "
	    "token comes from one profile; profiles: %s); ask for fewer "
	    "scopes or add a profile",
	    ctx->name, w, b.p ? b.p : "none");
	free(w);
	buf_free(&b);
	return rc;
}

static int
slack_mint(struct janee_ctx *ctx, const struct janee_mint_req *req,
    struct janee_token *out)
{
	struct slack *t = ctx->state;
	const struct profile *p;
	struct janee_strlist granted;
	struct janee_secret *stale;
	struct current c;
	enum kind k = KIND_BOT;
	char code[64], *w;
	size_t i;
	int rc;

	memset(&granted, 0, sizeof(granted));
	if ((rc = pick(ctx, req->scopes, &p, &k)) != 0)
		return rc;
	/*
	 * A lease that is revoked at its end needs a token of its own; one
	 * that expires shares the install's current token.
	 */
	if ((rc = current_token(ctx, p, k,
		 t->revoke_at_end ? REFRESH_ALWAYS : REFRESH_IF_DUE, NULL,
		 req->lease_id, &c)) != 0)
		return rc;
	if (!c.refreshed &&
	    (rc = auth_test(ctx, c.token, NULL, code, sizeof(code))) != 0) {
		if (!in_list(code, dead_codes))
			goto out;
		/* Slack says the token no longer works: refresh it now. */
		janee_err_clear();
		stale = c.token;
		c.token = NULL;
		current_free(&c);
		rc = current_token(
		    ctx, p, k, REFRESH_IF_DUE, stale, req->lease_id, &c);
		janee_secret_free(stale);
		if (rc != 0)
			return rc;
	}
	/* What Slack granted must cover what was asked. */
	if (c.scope != NULL) {
		if ((rc = split_scopes(c.scope, &granted)) != 0)
			goto out;
	} else {
		for (i = 0; i < p->scopes[k].n && rc == 0; i++)
			rc = janee_strlist_add(&granted, p->scopes[k].v[i]);
		if (rc != 0)
			goto out;
	}
	/*
	 * And lie within the profile (so within the ceiling): an install
	 * that Slack widened since (someone installed the app again with
	 * more scopes) would hand out more than the policy allows.
	 */
	for (i = 0; i < granted.n; i++)
		if (!janee_strlist_has(&p->scopes[k], granted.v[i])) {
			rc = janee_err_set(JANEE_ERR_PROVIDER,
			    "provider '%s': Slack now grants the %s token of "
			    "profile '%s' the scope '%s', which the profile "
			    "does not have (the app was installed again with "
			    "more scopes); refused: remove the scope at Slack "
			    "or add it to the profile",
			    ctx->name, kind_names[k], p->name, granted.v[i]);
			goto out;
		}
	for (i = 0; i < req->scopes->n; i++)
		if (!janee_strlist_has(&granted, req->scopes->v[i])) {
			w = join(&granted, " ");
			rc = janee_err_set(JANEE_ERR_PROVIDER,
			    "provider '%s': Slack granted the %s token of "
			    "profile '%s' only %s, not '%s'; install the "
			    "profile again (janee login %s)",
			    ctx->name, kind_names[k], p->name, w ? w : "",
			    req->scopes->v[i], ctx->name);
			free(w);
			goto out;
		}
	out->token = c.token;
	c.token = NULL;
	out->granted = granted;
	memset(&granted, 0, sizeof(granted));
	out->expires_ms = c.expires_ms;
out:
	janee_strlist_free(&granted);
	current_free(&c);
	return rc;
}

/* ---- lease end and logout ---- */

/*
 * Which profile and kind an auth.test answer belongs to: the stored app
 * and the bot or user id.
 */
static const struct profile *
owner_of(struct janee_ctx *ctx, const cJSON *who, cJSON *root, enum kind *k)
{
	struct slack *t = ctx->state;
	const char *app = jstr(who, "app_id"), *bot = jstr(who, "bot_id"),
		   *user = jstr(who, "user_id"), *id, *sapp;
	cJSON *ent, *tk;
	size_t i;

	*k = bot != NULL ? KIND_BOT : KIND_USER;
	id = bot != NULL ? bot : user;
	for (i = 0; id != NULL && i < t->nprofiles; i++) {
		if ((ent = profile_entry(root, t->profiles[i].name)) == NULL ||
		    (tk = cJSON_GetObjectItemCaseSensitive(
			 ent, kind_names[*k])) == NULL)
			continue;
		sapp = jstr(ent, "app_id");
		if (jstr(tk, "id") != NULL && strcmp(jstr(tk, "id"), id) == 0 &&
		    (app == NULL || sapp == NULL || strcmp(app, sapp) == 0))
			return &t->profiles[i];
	}
	return NULL;
}

/*
 * lease_end "revoke": auth.revoke the lease's token, which still works
 * (who: its auth.test answer).  Slack may end the install with it (revoking a bot token deactivates the bot user), so
 * janee then refreshes that install's token: when Slack refuses, the
 * login is marked broken at once, saying so, rather than at the next
 * request.
 */
static int
end_live(
    struct janee_ctx *ctx, const struct janee_secret *token, const cJSON *who)
{
	const struct profile *p = NULL;
	struct current c;
	cJSON *root = NULL;
	char code[64];
	enum kind k = KIND_BOT;
	int rc;

	if ((rc = auth_revoke(ctx, token, code, sizeof(code))) != 0)
		goto out;
	if (ctx->cred_lock(ctx) == 0) {
		if (login_load(ctx, &root) == 0)
			p = owner_of(ctx, who, root, &k);
		ctx->cred_unlock(ctx);
	}
	janee_err_clear();
	if (p != NULL) {
		if ((rc = current_token(
			 ctx, p, k, REFRESH_ALWAYS, NULL, NULL, &c)) == 0)
			current_free(&c);
		else
			ctx->log(ctx, "%s", janee_err_msg(rc));
		janee_err_clear();
		rc = 0; /* the token is revoked, which is what was asked */
	}
out:
	cJSON_Delete(root);
	return rc;
}

/*
 * Whether token still works (auth.test): 1 with *who its answer, 0 when
 * Slack no longer accepts it.
 */
static int
token_live(struct janee_ctx *ctx, const struct janee_secret *token, cJSON **who,
    int *live)
{
	char code[64];
	int rc;

	*live = 0;
	if ((rc = auth_test(ctx, token, who, code, sizeof(code))) == 0)
		*live = 1;
	else if (in_list(code, dead_codes)) {
		janee_err_clear(); /* it ended already */
		rc = 0;
	}
	return rc;
}

static int
slack_revoke(struct janee_ctx *ctx, const struct janee_secret *token)
{
	cJSON *who = NULL;
	int rc, live;

	if ((rc = token_live(ctx, token, &who, &live)) == 0 && live)
		rc = end_live(ctx, token, who);
	cJSON_Delete(who);
	return rc;
}

/*
 * Whether a mint starting at minting_ms would have refreshed a stored
 * token (less than REFRESH_BEFORE_MS left then; a minute's grace for the
 * login lock): a refresh Slack answered and janee never stored would
 * leave a token nobody knows.
 */
static int
refresh_was_due(const cJSON *root, int64_t minting_ms)
{
	const cJSON *ent, *tk;
	int k;

	cJSON_ArrayForEach(
	    ent, cJSON_GetObjectItemCaseSensitive(root, "profiles"))
	{
		for (k = 0; k < NKINDS; k++) {
			tk = cJSON_GetObjectItemCaseSensitive(
			    ent, kind_names[k]);
			if (tk != NULL &&
			    jnum(tk, "expires_at") - REFRESH_BEFORE_MS <
				minting_ms + 60 * 1000)
				return 1;
		}
	}
	return 0;
}

/*
 * A janee process died while minting lease_id.  A mint that refreshed
 * (always with lease_end "revoke": each lease gets a token of its own)
 * kept its token in the login it wrote anyway.  Found: with "revoke" it
 * is checked (auth.test) and revoked as at a lease's end; with "expire"
 * it is the install's shared token, stored and never revoked.  Not
 * found: the mint may have refreshed and lost Slack's answer, when a
 * refresh was due (always with "revoke"): Slack cannot list tokens, so
 * such a token is orphaned, for Slack's 12 h.
 */
static int
slack_reconcile(
    struct janee_ctx *ctx, const char *lease_id, struct janee_reconcile *r)
{
	struct slack *t = ctx->state;
	struct janee_secret *tok = NULL;
	cJSON *root = NULL, *who = NULL;
	int rc, live = 0;

	r->lifetime_s = TOKEN_LIFETIME_S;
	if ((rc = ctx->cred_lock(ctx)) != 0)
		return rc;
	if ((rc = login_load(ctx, &root)) == 0)
		rc = oauth_minted_find(root, lease_id, &tok, &r->live_until_ms);
	ctx->cred_unlock(ctx);
	if (rc == JANEE_ERR_NOT_FOUND && root != NULL) {
		if (t->revoke_at_end || refresh_was_due(root, r->minting_ms))
			rc = janee_err_set(JANEE_ERR_PROVIDER,
			    "provider '%s': no token is kept for lease %s: a "
			    "refresh for it may have been answered and never "
			    "stored, and Slack cannot list tokens",
			    ctx->name, lease_id);
		else
			rc = 0; /* the install's shared token, not refreshed */
		goto out;
	}
	if (rc != 0 || !t->revoke_at_end)
		goto out;
	if ((rc = token_live(ctx, tok, &who, &live)) == 0 && live &&
	    (rc = end_live(ctx, tok, who)) == 0)
		r->revoked = 1;
out:
	janee_secret_free(tok);
	cJSON_Delete(root);
	cJSON_Delete(who);
	return rc;
}

/* Revoke one stored token; an expired one is refreshed and revoked. */
static int
logout_one(struct janee_ctx *ctx, const struct profile *p, enum kind k,
    cJSON *root, cJSON *tk)
{
	struct janee_secret *tok = NULL;
	const char *at;
	char code[64];
	int rc = 0, tries;

	for (tries = 0; tries < 2; tries++) {
		if ((at = jstr(tk, "access_token")) == NULL)
			return 0;
		if ((tok = janee_secret_new(at, strlen(at))) == NULL)
			return JANEE_ERR_NOMEM;
		rc = auth_revoke(ctx, tok, code, sizeof(code));
		janee_secret_free(tok);
		/* An expired token cannot end its install: refresh first. */
		if (rc != 0 || strcmp(code, "token_expired") != 0)
			return rc;
		if (refresh(ctx, p, k, root, tk, NULL) != 0) {
			janee_err_clear(); /* the install is gone already */
			return 0;
		}
	}
	return rc;
}

/* Revoke every stored token (Slack uninstalls the app with the last). */
static int
slack_logout(struct janee_ctx *ctx)
{
	struct slack *t = ctx->state;
	cJSON *root = NULL, *ent, *tk;
	int rc, first = 0, k;
	size_t i;

	if ((rc = ctx->cred_lock(ctx)) != 0)
		return rc;
	if ((rc = login_load(ctx, &root)) != 0)
		goto out;
	for (i = 0; i < t->nprofiles; i++) {
		if ((ent = profile_entry(root, t->profiles[i].name)) == NULL)
			continue;
		for (k = 0; k < NKINDS; k++)
			/* The first failure's message is kept. */
			if ((tk = cJSON_GetObjectItemCaseSensitive(
				 ent, kind_names[k])) != NULL &&
			    (rc = logout_one(ctx, &t->profiles[i], (enum kind)k,
				 root, tk)) != 0 &&
			    first == 0)
				first = rc;
	}
	rc = first;
out:
	ctx->cred_unlock(ctx);
	cJSON_Delete(root);
	return rc;
}

/* ---- login: the browser install ---- */

/* The profile to install: --profile, or the only one. */
static int
login_profile(struct janee_ctx *ctx, const struct janee_login_ui *ui,
    const struct profile **p)
{
	struct slack *t = ctx->state;
	const char *name = ui->profile;
	struct buf b;
	size_t i;
	int rc = 0;

	if (name == NULL && t->nprofiles == 1) {
		*p = &t->profiles[0];
		return 0;
	}
	if (name != NULL && (*p = find_profile(t, name)) != NULL)
		return 0;
	buf_init(&b, 4096);
	for (i = 0; i < t->nprofiles && rc == 0; i++)
		rc = buf_printf(&b, "%s%s", i ? ", " : "", t->profiles[i].name);
	if (rc == 0)
		rc = janee_err_set(JANEE_ERR_USAGE,
		    "provider '%s': %s%s%s; name the profile to install (%s) "
		    "with --profile",
		    ctx->name,
		    name ? "there is no profile '" : "it has several profiles",
		    name ? name : "", name ? "'" : "", b.p);
	buf_free(&b);
	return rc;
}

static int
is_loopback(const char *uri)
{
	return strncmp(uri, "http://", 7) == 0;
}

/* Host, port and path of a loopback redirect_uri. */
static int
loopback_parts(
    struct janee_ctx *ctx, const char *uri, char **host, int *port, char **path)
{
	CURLU *u;
	char *p = NULL;
	int64_t n = 0;
	int rc = 0;

	*host = *path = NULL;
	*port = 0;
	if ((u = curl_url()) == NULL)
		return JANEE_ERR_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, path, 0) != CURLUE_OK)
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'redirect_uri' is not a URL", ctx->name);
	else if (curl_url_get(u, CURLUPART_PORT, &p, 0) == CURLUE_OK &&
	    janee_parse_int(p, 0, 65535, &n) != 0)
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': bad port in 'redirect_uri'", ctx->name);
	*port = (int)n;
	curl_free(p);
	curl_url_cleanup(u);
	if (rc != 0) {
		curl_free(*host);
		curl_free(*path);
		*host = *path = NULL;
	}
	return rc;
}

/* BASE/oauth/v2/authorize with the install's parameters, encoded by curl. */
static char *
authorize_url(struct janee_ctx *ctx, const struct profile *p,
    const char *client_id, const char *redirect, const char *state,
    const char *challenge)
{
	struct slack *t = ctx->state;
	char *base, *bot = NULL, *user = NULL, *url = NULL, *pair = NULL,
		    *got = NULL;
	const char *names[] = { "client_id", "scope", "user_scope",
		"redirect_uri", "state", "code_challenge",
		"code_challenge_method" };
	const char *vals[nitems(names)];
	CURLU *u = NULL;
	size_t i;

	if ((base = janee_asprintf("%s/oauth/v2/authorize", t->base)) == NULL ||
	    (bot = join(&p->scopes[KIND_BOT], ",")) == NULL ||
	    (user = join(&p->scopes[KIND_USER], ",")) == NULL ||
	    (u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
		goto out;
	vals[0] = client_id;
	vals[1] = bot;
	vals[2] = user;
	vals[3] = redirect;
	vals[4] = state;
	vals[5] = challenge;
	vals[6] = "S256";
	for (i = 0; i < nitems(names); i++) {
		if (*vals[i] == '\0')
			continue; /* no bot or no user scopes */
		free(pair);
		if ((pair = janee_asprintf("%s=%s", names[i], vals[i])) ==
			NULL ||
		    curl_url_set(u, CURLUPART_QUERY, pair,
			CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
			goto out;
	}
	if (curl_url_get(u, CURLUPART_URL, &got, 0) == CURLUE_OK)
		url = janee_strdup(got);
	curl_free(got);
out:
	free(pair);
	free(base);
	free(bot);
	free(user);
	curl_url_cleanup(u);
	if (url == NULL)
		janee_err_set(
		    JANEE_ERR_NOMEM, "cannot build the authorize URL");
	return url;
}

/*
 * Read one pasted line from stdin.  waiting() is asked only when a signal
 * interrupts the read (Ctrl-C): asked all the time, it would draw over
 * what the person types.
 */
static int
read_paste(const struct janee_login_ui *ui, struct buf *b)
{
	char ch;
	ssize_t n;

	for (;;) {
		if ((n = read(STDIN_FILENO, &ch, 1)) < 0 && errno == EINTR) {
			if (ui != NULL && ui->waiting != NULL &&
			    ui->waiting(ui->arg))
				return janee_err_set(
				    JANEE_ERR_USAGE, "cancelled");
			continue;
		}
		if (n <= 0 || ch == '\n')
			break;
		if (buf_add(b, &ch, 1) != 0)
			return janee_err_set(
			    JANEE_ERR_INVALID, "the pasted text is too long");
	}
	if (b->len == 0)
		return janee_err_set(JANEE_ERR_INVALID, "nothing was pasted");
	return 0;
}

/* The grant must lie within the profile (Slack may add earlier scopes). */
static int
check_grant(struct janee_ctx *ctx, const struct profile *p, enum kind k,
    const char *scope)
{
	struct janee_strlist got;
	size_t i;
	int rc;

	memset(&got, 0, sizeof(got));
	if ((rc = split_scopes(scope, &got)) != 0)
		return rc;
	for (i = 0; i < got.n; i++)
		if (!janee_strlist_has(&p->scopes[k], got.v[i])) {
			rc = janee_err_set(JANEE_ERR_PROVIDER,
			    "provider '%s': Slack granted profile '%s' the %s "
			    "scope '%s', which the profile does not have "
			    "(Slack keeps the scopes of earlier installs of "
			    "the same app); nothing was stored: give this "
			    "profile a Slack app of its own ('client_id' in "
			    "the profile)",
			    ctx->name, p->name, kind_names[k], got.v[i]);
			break;
		}
	janee_strlist_free(&got);
	return rc;
}

/*
 * Check one token of a fresh install with auth.test and record whose it
 * is: the bot or user id, and the app; the team must be the install's.
 * test: auth.test's answer already at hand (the fuzzer's), NULL: ask Slack.
 */
static int
identify(struct janee_ctx *ctx, cJSON *ent, cJSON *tk, enum kind k,
    const struct janee_http_resp *test)
{
	struct janee_secret *tok;
	const char *at = jstr(tk, "access_token"), *id, *team;
	cJSON *who = NULL;
	char code[64];
	int rc;

	if (test != NULL)
		rc = slack_answer(
		    ctx, "auth.test", test, &who, code, sizeof(code));
	else {
		if ((tok = janee_secret_new(at, strlen(at))) == NULL)
			return JANEE_ERR_NOMEM;
		rc = auth_test(ctx, tok, &who, code, sizeof(code));
		janee_secret_free(tok);
	}
	if (rc != 0)
		return rc;
	team = jstr(who, "team_id");
	id = jstr(who, k == KIND_BOT ? "bot_id" : "user_id");
	if (team == NULL || jstr(ent, "team_id") == NULL ||
	    strcmp(team, jstr(ent, "team_id")) != 0)
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': auth.test names another team than the "
		    "install; nothing was stored",
		    ctx->name);
	if (rc == 0 && id != NULL)
		rc = put(tk, "id", cJSON_CreateString(id));
	if (rc == 0 && jstr(who, "app_id") != NULL &&
	    jstr(ent, "app_id") == NULL)
		rc =
		    put(ent, "app_id", cJSON_CreateString(jstr(who, "app_id")));
	cJSON_Delete(who);
	return rc;
}

/*
 * The install's entry from an oauth.v2.access or oauth.v2.exchange answer;
 * test as for identify.
 */
static int
take_install(struct janee_ctx *ctx, const struct profile *p, const cJSON *a,
    int exchange, cJSON *ent, const struct janee_http_resp *test)
{
	const cJSON *team = cJSON_GetObjectItemCaseSensitive(a, "team"),
		    *ent_o = cJSON_GetObjectItemCaseSensitive(a, "enterprise"),
		    *user = cJSON_GetObjectItemCaseSensitive(a, "authed_user");
	const cJSON *src[NKINDS];
	const char *tt = jstr(a, "token_type");
	cJSON *tk;
	int k, rc;

	if (jstr(team, "id") == NULL)
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': Slack's answer names no team", ctx->name);
	if ((rc = put(ent, "team_id", cJSON_CreateString(jstr(team, "id")))) !=
		0 ||
	    (jstr(team, "name") != NULL &&
		(rc = put(ent, "team_name",
		     cJSON_CreateString(jstr(team, "name")))) != 0) ||
	    (jstr(ent_o, "id") != NULL &&
		(rc = put(ent, "enterprise_id",
		     cJSON_CreateString(jstr(ent_o, "id")))) != 0) ||
	    (jstr(a, "app_id") != NULL &&
		(rc = put(ent, "app_id",
		     cJSON_CreateString(jstr(a, "app_id")))) != 0) ||
	    (jstr(a, "bot_user_id") != NULL &&
		(rc = put(ent, "bot_user_id",
		     cJSON_CreateString(jstr(a, "bot_user_id")))) != 0) ||
	    (jstr(user, "id") != NULL &&
		(rc = put(ent, "user_id",
		     cJSON_CreateString(jstr(user, "id")))) != 0))
		return rc;
	/* The bot token comes first, the user's under authed_user. */
	src[KIND_BOT] = src[KIND_USER] = NULL;
	if (exchange) {
		/* One token: its token_type says which, else the profile. */
		if (tt != NULL && strcmp(tt, "user") == 0)
			src[KIND_USER] = a;
		else if (tt != NULL && strcmp(tt, "bot") == 0)
			src[KIND_BOT] = a;
		else
			src[p->scopes[KIND_BOT].n ? KIND_BOT : KIND_USER] = a;
	} else {
		if (jstr(a, "access_token") != NULL)
			src[KIND_BOT] = a;
		if (jstr(user, "access_token") != NULL)
			src[KIND_USER] = user;
	}
	for (k = 0; k < NKINDS; k++) {
		if (src[k] == NULL) {
			if (p->scopes[k].n > 0 && !exchange)
				return janee_err_set(JANEE_ERR_PROVIDER,
				    "provider '%s': Slack's answer has no %s "
				    "token for profile '%s'",
				    ctx->name, kind_names[k], p->name);
			continue;
		}
		if (p->scopes[k].n == 0)
			return janee_err_set(JANEE_ERR_PROVIDER,
			    "provider '%s': Slack issued a %s token, which "
			    "profile '%s' has no scopes for; nothing was "
			    "stored",
			    ctx->name, kind_names[k], p->name);
		if ((rc = put(ent, kind_names[k], tk = cJSON_CreateObject())) !=
		    0)
			return rc;
		if ((rc = take_token(ctx,
			 exchange ? "oauth.v2.exchange" : "install", src[k],
			 tk)) != 0 ||
		    (rc = check_grant(
			 ctx, p, (enum kind)k, jstr(src[k], "scope"))) != 0 ||
		    (rc = identify(ctx, ent, tk, (enum kind)k, test)) != 0)
			return rc;
	}
	return 0;
}

int
slack_install_answer(struct janee_ctx *ctx, const char *profile, int exchange,
    const struct janee_http_resp *r, const struct janee_http_resp *test)
{
	const struct profile *p = find_profile(ctx->state, profile);
	cJSON *a = NULL, *ent;
	char code[64];
	int rc;

	if (p == NULL)
		return janee_err_set(JANEE_ERR_USAGE,
		    "provider '%s': there is no profile '%s'", ctx->name,
		    profile);
	if ((ent = cJSON_CreateObject()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if ((rc = slack_answer(ctx,
		 exchange ? "oauth.v2.exchange" : "oauth.v2.access", r, &a,
		 code, sizeof(code))) == 0)
		rc = take_install(ctx, p, a, exchange, ent, test);
	cJSON_Delete(a);
	cJSON_Delete(ent);
	return rc;
}

int
slack_refresh_answer(struct janee_ctx *ctx, const struct janee_http_resp *r)
{
	cJSON *a = NULL, *tk;
	char code[64];
	int rc;

	if ((tk = cJSON_CreateObject()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if ((rc = slack_answer(
		 ctx, "oauth.v2.access", r, &a, code, sizeof(code))) == 0)
		rc = take_token(ctx, "refresh", a, tk);
	cJSON_Delete(a);
	cJSON_Delete(tk);
	return rc;
}

/* Keep the install under the login lock, beside the other profiles. */
static int
store_install(struct janee_ctx *ctx, const struct profile *p, cJSON *ent)
{
	cJSON *root = NULL, *profiles;
	char *account = NULL;
	int rc;

	if ((rc = ctx->cred_lock(ctx)) != 0) {
		cJSON_Delete(ent);
		return rc;
	}
	if ((rc = login_load(ctx, &root)) == JANEE_ERR_NOT_FOUND) {
		/* None yet, or a broken one, which this login replaces. */
		janee_err_clear();
		rc = 0;
		if ((root = cJSON_CreateObject()) == NULL ||
		    cJSON_AddNumberToObject(root, "v", 1) == NULL ||
		    cJSON_AddObjectToObject(root, "profiles") == NULL)
			rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	if (rc != 0) {
		cJSON_Delete(ent);
		goto out;
	}
	profiles = cJSON_GetObjectItemCaseSensitive(root, "profiles");
	if ((rc = put(profiles, p->name, ent)) != 0)
		goto out;
	/* The team's id names the account in the audit trail. */
	account = janee_strdup(
	    jstr(ent, "team_id") ? jstr(ent, "team_id") : "unknown team");
	rc = oauth_login_put(ctx, root, account);
out:
	ctx->cred_unlock(ctx);
	cJSON_Delete(root);
	free(account);
	return rc;
}

/* Convert a legacy long-lived token once (oauth.v2.exchange). */
static int
login_exchange(struct janee_ctx *ctx, const struct profile *p, cJSON *ent)
{
	struct janee_secret *legacy = NULL;
	struct client cl = { NULL, NULL };
	struct oauth_form f;
	cJSON *a = NULL;
	char code[64];
	int rc;

	oauth_form_init(&f);
	if ((rc = ctx->secret_get(ctx, p->legacy_token_ref, &legacy)) != 0 ||
	    (rc = client_get(ctx, p, &cl)) != 0 ||
	    (rc = oauth_form_add(&f, "token", (const char *)legacy->data)) !=
		0 ||
	    (rc = slack_api(ctx, "oauth.v2.exchange", &f, &cl, NULL, &a, code,
		 sizeof(code))) != 0 ||
	    (rc = take_install(ctx, p, a, 1, ent, NULL)) != 0)
		goto out;
	ctx->log(ctx,
	    "converted the legacy token of profile '%s' (oauth.v2.exchange); "
	    "Slack converts a token only once: remove the secret '%s' now",
	    p->name, p->legacy_token_ref);
out:
	cJSON_Delete(a);
	janee_secret_free(cl.secret);
	janee_secret_free(legacy);
	oauth_form_free(&f);
	return rc;
}

/* A failed wait or paste, said with the provider's name (not a cancel). */
static int
nothing_stored(struct janee_ctx *ctx, int rc)
{
	char *m;

	if (rc == JANEE_ERR_USAGE)
		return rc;
	m = janee_strdup(janee_err_msg(rc));
	janee_err_clear();
	rc = janee_err_set(rc, "provider '%s': %s; nothing was stored",
	    ctx->name, m ? m : "the answer was not usable");
	free(m);
	return rc;
}

/*
 * The browser install: state and PKCE S256; the code comes back to a
 * one-shot listener on 127.0.0.1, or is pasted (https redirect_uri, or
 * --paste); then oauth.v2.access with the client secret as
 * HTTP Basic, the verifier and the same redirect_uri.
 */
static int
login_browser(struct janee_ctx *ctx, const struct janee_login_ui *ui,
    const struct profile *p, cJSON *ent)
{
	struct slack *t = ctx->state;
	const char *conf = t->redirect_uri ? t->redirect_uri : DEFAULT_REDIRECT;
	struct slack_listener l = { -1, 0 };
	struct slack_redirect r;
	struct client cl = { NULL, NULL };
	struct oauth_form f;
	struct buf pasted;
	char state[SLACK_NONCE_LEN + 1], verifier[SLACK_NONCE_LEN + 1],
	    challenge[SLACK_CHALLENGE_LEN + 1], code[64];
	char *host = NULL, *path = NULL, *redirect = NULL, *url = NULL;
	int loopback = is_loopback(conf), port = 0, bare, rc;
	int paste = !loopback || ui->paste;
	cJSON *a = NULL;

	memset(&r, 0, sizeof(r));
	oauth_form_init(&f);
	buf_init(&pasted, MAX_PASTE);
	/* Slack: desktop (localhost) redirects cannot request bot scopes. */
	if (loopback && p->scopes[KIND_BOT].n > 0) {
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': profile '%s' has bot scopes, which Slack "
		    "refuses on a loopback (desktop) redirect; set "
		    "'redirect_uri' to an https:// address registered for the "
		    "app and paste the code",
		    ctx->name, p->name);
		goto out;
	}
	if ((rc = client_get(ctx, p, &cl)) != 0 ||
	    (rc = slack_nonce(state)) != 0 ||
	    (rc = slack_nonce(verifier)) != 0 ||
	    (rc = slack_pkce_challenge(verifier, challenge)) != 0)
		goto out;
	if (loopback) {
		if ((rc = loopback_parts(ctx, conf, &host, &port, &path)) != 0)
			goto out;
		if (paste && port == 0) {
			rc = janee_err_set(JANEE_ERR_CONFIG,
			    "provider '%s': pasting the answer of a loopback "
			    "redirect needs its port in 'redirect_uri' "
			    "(http://127.0.0.1:PORT/PATH)",
			    ctx->name);
			goto out;
		}
		if (!paste && (rc = slack_listen(port, &l)) != 0)
			goto out;
		redirect = janee_asprintf(
		    "http://%s:%d%s", host, paste ? port : l.port, path);
	} else
		redirect = janee_strdup(conf);
	if (redirect == NULL ||
	    (url = authorize_url(ctx, p, cl.id, redirect, state, challenge)) ==
		NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	if (ui->show_url != NULL)
		ui->show_url(ui->arg, url);
	else
		ctx->log(ctx,
		    "to install profile '%s', open this address in a browser "
		    "and approve:\n  %s",
		    p->name, url);
	if (paste) {
		ctx->log(ctx,
		    "then paste the address the browser was sent to "
		    "(or just the code) here and press Enter:");
		if ((rc = read_paste(ui, &pasted)) != 0 ||
		    (rc = slack_redirect_parse(pasted.p, NULL, &r)) != 0) {
			rc = nothing_stored(ctx, rc);
			goto out;
		}
	} else {
		ctx->log(ctx,
		    "waiting for the browser on 127.0.0.1:%d (at most "
		    "%lld minutes; Ctrl-C cancels)",
		    l.port, (long long)(LOGIN_TIMEOUT_MS / 60000));
		if ((rc = slack_listen_wait(&l, path, LOGIN_TIMEOUT_MS,
			 ui ? ui->waiting : NULL, ui ? ui->arg : NULL, &r)) !=
		    0) {
			rc = nothing_stored(ctx, rc);
			goto out;
		}
	}
	slack_listener_close(&l);
	if (r.error != NULL) {
		char e[64];

		janee_clean_text(r.error, e, sizeof(e));
		rc = strcmp(e, "access_denied") == 0
		    ? janee_err_set(JANEE_ERR_DENIED,
			  "provider '%s': the install of profile '%s' was "
			  "denied in the browser; nothing was stored",
			  ctx->name, p->name)
		    : janee_err_set(JANEE_ERR_PROVIDER,
			  "provider '%s': Slack ended the install with error "
			  "'%s'; nothing was stored",
			  ctx->name, e);
		goto out;
	}
	/*
	 * A URL must carry our state (CSRF, RFC 6749 section 10.12).  A
	 * bare pasted code has none: PKCE binds it to this login instead,
	 * since only this login knows the verifier.
	 */
	bare = paste && strpbrk(pasted.p, "/?") == NULL;
	if (!bare && (r.state == NULL || !slack_state_equal(r.state, state))) {
		rc = janee_err_set(JANEE_ERR_DENIED,
		    "provider '%s': the answer's state does not match this "
		    "login (a forged or stale redirect); nothing was stored: "
		    "run the login again",
		    ctx->name);
		goto out;
	}
	if ((rc = oauth_form_add(&f, "code", (const char *)r.code->data)) ==
		0 &&
	    (rc = oauth_form_add(&f, "code_verifier", verifier)) == 0 &&
	    (rc = oauth_form_add(&f, "redirect_uri", redirect)) == 0 &&
	    (rc = slack_api(ctx, "oauth.v2.access", &f, &cl, NULL, &a, code,
		 sizeof(code))) == 0)
		rc = take_install(ctx, p, a, 0, ent, NULL);
out:
	slack_listener_close(&l);
	slack_redirect_free(&r);
	cJSON_Delete(a);
	janee_secret_free(cl.secret);
	oauth_form_free(&f);
	buf_free(&pasted);
	janee_wipe(state, sizeof(state));
	janee_wipe(verifier, sizeof(verifier));
	curl_free(host);
	curl_free(path);
	free(redirect);
	free(url);
	return rc;
}

static int
slack_login(struct janee_ctx *ctx, const struct janee_login_ui *ui)
{
	const struct profile *p;
	const cJSON *tk;
	cJSON *ent;
	int rc, k;

	if ((rc = login_profile(ctx, ui, &p)) != 0)
		return rc;
	if ((ent = cJSON_CreateObject()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if (p->legacy_token_ref != NULL)
		rc = login_exchange(ctx, p, ent);
	else
		rc = login_browser(ctx, ui, p, ent);
	if (rc != 0) {
		cJSON_Delete(ent);
		return rc;
	}
	for (k = 0; k < NKINDS; k++)
		if ((tk = cJSON_GetObjectItemCaseSensitive(
			 ent, kind_names[k])) != NULL)
			ctx->log(ctx,
			    "profile '%s': %s token for team %s, scopes %s; it "
			    "rotates by itself",
			    p->name, kind_names[k], jstr(ent, "team_id"),
			    jstr(tk, "scope") ? jstr(tk, "scope")
					      : "(not said)");
	return store_install(ctx, p, ent);
}

const struct janee_provider slack_provider = {
	.version = JANEE_PROVIDER_VERSION,
	.type = "slack",
	.summary = "Slack app installs with rotating tokens",
	.caps = JANEE_CAP_BROWSER_LOGIN | JANEE_CAP_NARROW | JANEE_CAP_REFRESH |
	    JANEE_CAP_REVOKE,
	.configure = slack_configure,
	.unconfigure = slack_free,
	.mint = slack_mint,
	.revoke = slack_revoke,
	.reconcile = slack_reconcile,
	.login = slack_login,
	.logout = slack_logout,
};
