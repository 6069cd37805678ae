/* Shared OAuth 2.0 machinery: discovery, client auth, grants, revocation. */
#include "common.h"

#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "json.h"
#include "oauth.h"
#include "util.h"

#define GRANT_DEVICE "urn:ietf:params:oauth:grant-type:device_code"
#define GRANT_EXCHANGE "urn:ietf:params:oauth:grant-type:token-exchange"

static const char *const auth_names[] = {
	[OAUTH_AUTH_NONE] = "none",
	[OAUTH_AUTH_BASIC] = "client_secret_basic",
	[OAUTH_AUTH_POST] = "client_secret_post",
};

int
oauth_auth_parse(const char *s)
{
	size_t i;

	for (i = 0; i < nitems(auth_names); i++)
		if (strcmp(s, auth_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
oauth_auth_name(enum oauth_auth a)
{
	return auth_names[a];
}

void
oauth_form_init(struct oauth_form *f)
{
	buf_init(&f->b, 256 * 1024);
}

int
oauth_form_add(struct oauth_form *f, const char *name, const char *value)
{
	char *n, *v;
	int rc;

	n = curl_easy_escape(NULL, name, 0);
	v = curl_easy_escape(NULL, value, 0);
	if (n == NULL || v == NULL)
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	else
		rc = buf_printf(&f->b, "%s%s=%s", f->b.len ? "&" : "", n, v);
	curl_free(n);
	if (v != NULL) {
		janee_wipe(v, strlen(v));
		curl_free(v);
	}
	return rc;
}

void
oauth_form_free(struct oauth_form *f)
{
	buf_free(&f->b);
}

void
oauth_token_free(struct oauth_token *t)
{
	janee_secret_free(t->access_token);
	janee_secret_free(t->refresh_token);
	free(t->token_type);
	free(t->scope);
	free(t->issued_token_type);
	memset(t, 0, sizeof(*t));
}

void
oauth_endpoints_free(struct oauth_endpoints *ep)
{
	free(ep->issuer);
	free(ep->token);
	free(ep->device);
	free(ep->revocation);
	free(ep->introspection);
	memset(ep, 0, sizeof(*ep));
}

void
oauth_device_free(struct oauth_device *d)
{
	janee_secret_free(d->device_code);
	free(d->user_code);
	free(d->verification_uri);
	free(d->verification_uri_complete);
	memset(d, 0, sizeof(*d));
}

char *
oauth_scope_join(const struct janee_strlist *l)
{
	struct buf b;
	size_t i;

	buf_init(&b, 64 * 1024);
	for (i = 0; i < l->n; i++)
		if (buf_printf(&b, "%s%s", i ? " " : "", l->v[i]) != 0)
			return NULL;
	if (b.p == NULL && buf_add(&b, "", 0) != 0)
		return NULL;
	return b.p;
}

static int
is_json(const struct janee_http_resp *r)
{
	return r->content_type != NULL &&
	    strncmp(r->content_type, "application/json", 16) == 0;
}

/* Numbers, or numeric strings as some servers send. */
static int64_t
jint(const cJSON *o, const char *k, int64_t dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	int64_t n;

	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e12)
		return (int64_t)v->valuedouble;
	if (cJSON_IsString(v) &&
	    janee_parse_int(v->valuestring, 0, 1000000000000LL, &n) == 0)
		return n;
	return dflt;
}

static int
dup_str(const cJSON *o, const char *k, char **out)
{
	const char *s = json_str(o, k);

	*out = NULL;
	if (s != NULL && (*out = janee_strdup(s)) == NULL)
		return JANEE_ERR_NOMEM;
	return 0;
}

static int
dup_secret(const cJSON *o, const char *k, struct janee_secret **out)
{
	const char *s = json_str(o, k);

	*out = NULL;
	if (s == NULL || *s == '\0')
		return 0;
	if ((*out = janee_secret_new(s, strlen(s))) == NULL)
		return JANEE_ERR_NOMEM;
	return 0;
}

/*
 * Parse a JSON answer from `what`.  An "error" member (with any status:
 * GitHub sends device-flow errors with 200) becomes JANEE_ERR_PROVIDER
 * carrying the code in err.
 */
static int
parse_answer(const struct oauth_client *c, const char *what, const char *url,
    const struct janee_http_resp *r, cJSON **out, struct oauth_error *err)
{
	char code[64], desc[200];
	cJSON *j;

	*out = NULL;
	if (err != NULL) {
		err->status = r->status;
		err->code[0] = '\0';
	}
	if (!is_json(r) ||
	    (j = cJSON_ParseWithLength(r->body, r->len)) == NULL) {
		if (r->status >= 300 && r->status < 400)
			return janee_err_set(JANEE_ERR_PROVIDER,
			    "provider '%s': %s (%s) answered with a redirect (HTTP %ld); janee does not follow redirects: check the URL",
			    c->name, what, url, r->status);
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': %s (%s) answered HTTP %ld with %s, not a JSON document",
		    c->name, what, url, r->status,
		    is_json(r)		  ? "malformed JSON"
			: r->content_type ? r->content_type
					  : "no content type");
	}
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': %s (%s) answered HTTP %ld with JSON that is not an object",
		    c->name, what, url, r->status);
	}
	if (json_str(j, "error") != NULL) {
		janee_clean_text(json_str(j, "error"), code, sizeof(code));
		janee_clean_text(
		    json_str(j, "error_description"), desc, sizeof(desc));
		if (err != NULL)
			snprintf(err->code, sizeof(err->code), "%s", code);
		cJSON_Delete(j);
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': %s refused: %s%s%s (HTTP %ld)", c->name,
		    what, code, *desc ? ": " : "", desc, r->status);
	}
	if (r->status < 200 || r->status > 299) {
		cJSON_Delete(j);
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': %s (%s) answered HTTP %ld", c->name, what,
		    url, r->status);
	}
	*out = j;
	return 0;
}

int
oauth_basic_auth(const char *client_id, const struct janee_secret *secret,
    struct janee_http_req *req, char **user, struct janee_secret **pass)
{
	char *u, *p;
	int rc = 0;

	*user = NULL;
	*pass = NULL;
	/* Both parts are form-urlencoded before Basic encoding. */
	u = curl_easy_escape(NULL, client_id, 0);
	p = curl_easy_escape(NULL, secret ? (const char *)secret->data : "", 0);
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

/* Add the client's credentials per its method (RFC 6749 section 2.3.1). */
static int
client_auth(const struct oauth_client *c, struct oauth_form *f,
    struct janee_http_req *req, char **user, struct janee_secret **pass)
{
	int rc;

	*user = NULL;
	*pass = NULL;
	switch (c->auth) {
	case OAUTH_AUTH_NONE:
		return oauth_form_add(f, "client_id", c->client_id);
	case OAUTH_AUTH_POST:
		if ((rc = oauth_form_add(f, "client_id", c->client_id)) != 0)
			return rc;
		return oauth_form_add(f, "client_secret",
		    c->client_secret ? (const char *)c->client_secret->data
				     : "");
	case OAUTH_AUTH_BASIC:
		return oauth_basic_auth(
		    c->client_id, c->client_secret, req, user, pass);
	}
	return janee_err_set(JANEE_ERR_INTERNAL, "bad auth method");
}

static const char *const json_accept[] = { "Accept: application/json", NULL };

/* POST a form (with client auth) and parse the JSON answer. */
static int
post_form(const struct oauth_client *c, const char *what, const char *url,
    struct oauth_form *f, int with_auth, int no_retry, cJSON **out,
    struct oauth_error *err, struct janee_http_resp *raw)
{
	struct janee_http_req req;
	struct janee_http_resp resp;
	struct janee_secret *pass = NULL;
	char *user = NULL, label[160];
	int rc;

	memset(&req, 0, sizeof(req));
	*out = NULL;
	snprintf(label, sizeof(label), "provider '%s': %s", c->name, what);
	req.method = "POST";
	req.url = url;
	req.what = label;
	req.ca_file = c->ca_file;
	req.headers = c->headers ? c->headers : json_accept;
	req.content_type = "application/x-www-form-urlencoded";
	req.no_retry = no_retry;
	if (with_auth && (rc = client_auth(c, f, &req, &user, &pass)) != 0)
		goto out;
	if (f->b.p == NULL && (rc = buf_add(&f->b, "", 0)) != 0)
		goto out;
	req.body = f->b.p;
	req.body_len = f->b.len;
	if ((rc = janee_http_do(c->http, &req, &resp)) != 0)
		goto out;
	if (raw != NULL)
		raw->status = resp.status;
	rc = parse_answer(c, what, url, &resp, out, err);
	janee_http_resp_free(&resp);
out:
	free(user);
	janee_secret_free(pass);
	return rc;
}

static int
parse_token(const struct oauth_client *c, const char *what, cJSON *j,
    struct oauth_token *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = dup_secret(j, "access_token", &out->access_token)) != 0 ||
	    (rc = dup_secret(j, "refresh_token", &out->refresh_token)) != 0 ||
	    (rc = dup_str(j, "token_type", &out->token_type)) != 0 ||
	    (rc = dup_str(j, "scope", &out->scope)) != 0 ||
	    (rc = dup_str(j, "issued_token_type", &out->issued_token_type)) !=
		0)
		goto fail;
	out->expires_in = jint(j, "expires_in", -1);
	out->refresh_expires_in = jint(j, "refresh_token_expires_in", -1);
	if (out->access_token == NULL) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': the %s answer has no access_token", c->name,
		    what);
		goto fail;
	}
	return 0;
fail:
	oauth_token_free(out);
	return rc;
}

int
oauth_parse_token_answer(const struct oauth_client *c,
    const struct janee_http_resp *r, struct oauth_token *out,
    struct oauth_error *err)
{
	cJSON *j;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = parse_answer(c, "token endpoint", "(test)", r, &j, err)) != 0)
		return rc;
	rc = parse_token(c, "token endpoint", j, out);
	cJSON_Delete(j);
	return rc;
}

int
oauth_token_request(const struct oauth_client *c, const char *url,
    struct oauth_form *f, struct oauth_token *out, struct oauth_error *err)
{
	cJSON *j;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = post_form(
		 c, "token endpoint", url, f, 1, 0, &j, err, NULL)) != 0)
		return rc;
	rc = parse_token(c, "token endpoint", j, out);
	cJSON_Delete(j);
	return rc;
}

int
oauth_refresh(const struct oauth_client *c, const char *url,
    const struct janee_secret *rt, const char *scope, struct oauth_token *out,
    struct oauth_error *err)
{
	struct oauth_form f;
	int rc;

	oauth_form_init(&f);
	if ((rc = oauth_form_add(&f, "grant_type", "refresh_token")) == 0 &&
	    (rc = oauth_form_add(
		 &f, "refresh_token", (const char *)rt->data)) == 0 &&
	    (scope == NULL || (rc = oauth_form_add(&f, "scope", scope)) == 0))
		rc = oauth_token_request(c, url, &f, out, err);
	oauth_form_free(&f);
	return rc;
}

int
oauth_client_credentials(const struct oauth_client *c, const char *url,
    const char *scope, struct oauth_token *out, struct oauth_error *err)
{
	struct oauth_form f;
	int rc;

	oauth_form_init(&f);
	if ((rc = oauth_form_add(&f, "grant_type", "client_credentials")) ==
		0 &&
	    (scope == NULL || (rc = oauth_form_add(&f, "scope", scope)) == 0))
		rc = oauth_token_request(c, url, &f, out, err);
	oauth_form_free(&f);
	return rc;
}

int
oauth_token_exchange(const struct oauth_client *c, const char *url,
    const struct janee_secret *subject, const char *subject_type,
    const char *scope, const char *audience, const char *resource,
    struct oauth_token *out, struct oauth_error *err)
{
	struct oauth_form f;
	int rc;

	oauth_form_init(&f);
	if ((rc = oauth_form_add(&f, "grant_type", GRANT_EXCHANGE)) == 0 &&
	    (rc = oauth_form_add(
		 &f, "subject_token", (const char *)subject->data)) == 0 &&
	    (rc = oauth_form_add(&f, "subject_token_type", subject_type)) ==
		0 &&
	    (scope == NULL || (rc = oauth_form_add(&f, "scope", scope)) == 0) &&
	    (audience == NULL ||
		(rc = oauth_form_add(&f, "audience", audience)) == 0) &&
	    (resource == NULL ||
		(rc = oauth_form_add(&f, "resource", resource)) == 0))
		rc = oauth_token_request(c, url, &f, out, err);
	oauth_form_free(&f);
	return rc;
}

int
oauth_revoke(const struct oauth_client *c, const char *url,
    const struct janee_secret *token, const char *hint)
{
	struct janee_http_resp raw;
	struct oauth_form f;
	cJSON *j = NULL;
	int rc;

	oauth_form_init(&f);
	memset(&raw, 0, sizeof(raw));
	if ((rc = oauth_form_add(&f, "token", (const char *)token->data)) !=
		0 ||
	    (hint != NULL && *hint != '\0' &&
		(rc = oauth_form_add(&f, "token_type_hint", hint)) != 0))
		goto out;
	/* RFC 7009 section 2.2: 200 with any (often empty) body is success. */
	rc = post_form(c, "revocation endpoint", url, &f, 1, 0, &j, NULL, &raw);
	if (rc != 0 && raw.status == 200) {
		janee_err_clear();
		rc = 0;
	}
out:
	cJSON_Delete(j);
	oauth_form_free(&f);
	return rc;
}

int
oauth_introspect(const struct oauth_client *c, const char *url,
    const struct janee_secret *token, const char *hint, int *active)
{
	struct oauth_form f;
	cJSON *j = NULL;
	int rc;

	oauth_form_init(&f);
	*active = 0;
	if ((rc = oauth_form_add(&f, "token", (const char *)token->data)) ==
		0 &&
	    (hint == NULL ||
		(rc = oauth_form_add(&f, "token_type_hint", hint)) == 0) &&
	    (rc = post_form(c, "introspection endpoint", url, &f, 1, 0, &j,
		 NULL, NULL)) == 0)
		*active =
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "active"));
	cJSON_Delete(j);
	oauth_form_free(&f);
	return rc;
}

static int
get_json(const struct oauth_client *c, const char *what, const char *url,
    cJSON **out)
{
	struct janee_http_req req;
	struct janee_http_resp resp;
	char label[160];
	int rc;

	memset(&req, 0, sizeof(req));
	snprintf(label, sizeof(label), "provider '%s': %s", c->name, what);
	req.url = url;
	req.what = label;
	req.ca_file = c->ca_file;
	req.headers = json_accept;
	if ((rc = janee_http_do(c->http, &req, &resp)) != 0)
		return rc;
	rc = parse_answer(c, what, url, &resp, out, NULL);
	janee_http_resp_free(&resp);
	return rc;
}

/* Endpoint URLs from metadata must pass the same scheme rules. */
static int
take_url(
    const struct oauth_client *c, const cJSON *j, const char *k, char **out)
{
	const char *s = json_str(j, k);
	char what[96];

	*out = NULL;
	if (s == NULL)
		return 0;
	snprintf(
	    what, sizeof(what), "provider '%s': discovered %s", c->name, k);
	if (janee_http_url_ok(s, what) != 0)
		return JANEE_ERR_PROVIDER;
	return (*out = janee_strdup(s)) ? 0 : JANEE_ERR_NOMEM;
}

int
oauth_discover(const struct oauth_client *c, const char *issuer,
    struct oauth_endpoints *ep)
{
	static const char *const paths[] = {
		"/.well-known/oauth-authorization-server",
		"/.well-known/openid-configuration",
	};
	const char *got;
	char *url = NULL, first[512] = "";
	const cJSON *sup, *e;
	cJSON *j = NULL;
	size_t i, n = strlen(issuer);
	int rc = JANEE_ERR_PROVIDER;

	memset(ep, 0, sizeof(*ep));
	/* An issuer with a trailing slash is not the same issuer. */
	while (n > 0 && issuer[n - 1] == '/')
		n--;
	for (i = 0; i < nitems(paths); i++) {
		free(url);
		if ((url = janee_asprintf(
			 "%.*s%s", (int)n, issuer, paths[i])) == NULL)
			return JANEE_ERR_NOMEM;
		if ((rc = get_json(c, "discovery", url, &j)) == 0)
			break;
		if (i == 0)
			snprintf(first, sizeof(first), "%s", janee_err_msg(rc));
		janee_err_clear();
	}
	if (rc != 0) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': no discovery document at '%s' (%s); set the endpoints in config.json instead",
		    c->name, issuer, first);
		goto out;
	}
	if ((got = json_str(j, "issuer")) == NULL || strcmp(got, issuer) != 0) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': the discovery document at %s names issuer '%s', not the configured '%s'; refusing it (RFC 8414 section 3.3)",
		    c->name, url, got ? got : "(none)", issuer);
		goto out;
	}
	if ((ep->issuer = janee_strdup(issuer)) == NULL ||
	    (rc = take_url(c, j, "token_endpoint", &ep->token)) != 0 ||
	    (rc = take_url(
		 c, j, "device_authorization_endpoint", &ep->device)) != 0 ||
	    (rc = take_url(c, j, "revocation_endpoint", &ep->revocation)) !=
		0 ||
	    (rc = take_url(
		 c, j, "introspection_endpoint", &ep->introspection)) != 0)
		goto out;
	sup = cJSON_GetObjectItemCaseSensitive(j, "scopes_supported");
	cJSON_ArrayForEach(e, sup)
	{
		if (cJSON_IsString(e) &&
		    strcmp(e->valuestring, "offline_access") == 0)
			ep->offline_access = 1;
	}
	if (ep->token == NULL)
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': the discovery document at %s has no token_endpoint",
		    c->name, url);
out:
	if (rc != 0)
		oauth_endpoints_free(ep);
	cJSON_Delete(j);
	free(url);
	return rc;
}

/* A device authorization answer (RFC 8628 section 3.2) into out. */
static int
take_device(
    const struct oauth_client *c, const cJSON *j, struct oauth_device *out)
{
	int rc;

	if ((rc = dup_secret(j, "device_code", &out->device_code)) != 0 ||
	    (rc = dup_str(j, "user_code", &out->user_code)) != 0 ||
	    (rc = dup_str(j, "verification_uri", &out->verification_uri)) !=
		0 ||
	    (rc = dup_str(j, "verification_uri_complete",
		 &out->verification_uri_complete)) != 0)
		return rc;
	out->expires_in = jint(j, "expires_in", -1);
	out->interval = jint(j, "interval", 5);
	if (out->interval < 1)
		out->interval = 5;
	if (out->device_code == NULL || out->user_code == NULL ||
	    out->verification_uri == NULL || out->expires_in <= 0)
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': the device authorization answer lacks device_code, user_code, verification_uri or expires_in (RFC 8628 section 3.2)",
		    c->name);
	return 0;
}

int
oauth_device_start(const struct oauth_client *c, const char *url,
    const char *scope, struct oauth_device *out)
{
	struct oauth_form f;
	cJSON *j = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	oauth_form_init(&f);
	if ((scope != NULL && *scope != '\0' &&
		(rc = oauth_form_add(&f, "scope", scope)) != 0) ||
	    (rc = post_form(c, "device authorization endpoint", url, &f, 1, 0,
		 &j, NULL, NULL)) != 0)
		goto out;
	rc = take_device(c, j, out);
out:
	if (rc != 0)
		oauth_device_free(out);
	cJSON_Delete(j);
	oauth_form_free(&f);
	return rc;
}

int
oauth_parse_device_answer(const struct oauth_client *c,
    const struct janee_http_resp *r, struct oauth_device *out)
{
	cJSON *j;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = parse_answer(c, "device authorization endpoint", "(test)", r,
		 &j, NULL)) != 0)
		return rc;
	if ((rc = take_device(c, j, out)) != 0)
		oauth_device_free(out);
	cJSON_Delete(j);
	return rc;
}

/* Sleep s seconds in 100 ms steps, asking waiting() whether to go on. */
static int
wait_s(int64_t s, int (*waiting)(void *), void *arg)
{
	struct timespec ts = { 0, 100000000L };
	int64_t i;

	for (i = 0; i < s * 10; i++) {
		if (waiting != NULL && waiting(arg) != 0)
			return janee_err_set(JANEE_ERR_USAGE, "cancelled");
		nanosleep(&ts, NULL);
	}
	return 0;
}

int
oauth_device_poll(const struct oauth_client *c, const char *url,
    const struct oauth_device *d, int (*waiting)(void *arg), void *arg,
    struct oauth_token *out)
{
	struct oauth_error err;
	struct oauth_form f;
	int64_t interval = d->interval, deadline, backoff = 0;
	cJSON *j;
	int rc;

	memset(out, 0, sizeof(*out));
	deadline = janee_now_ms() + d->expires_in * 1000;
	for (;;) {
		if ((rc = wait_s(interval + backoff, waiting, arg)) != 0)
			return rc;
		if (janee_now_ms() > deadline)
			return janee_err_set(JANEE_ERR_DENIED,
			    "provider '%s': the code expired before it was approved; run the login again",
			    c->name);
		oauth_form_init(&f);
		j = NULL;
		/* Never resent by the HTTP layer: a duplicate poll after
		 * success can make the server revoke what it issued. */
		if ((rc = oauth_form_add(&f, "grant_type", GRANT_DEVICE)) ==
			0 &&
		    (rc = oauth_form_add(&f, "device_code",
			 (const char *)d->device_code->data)) == 0)
			rc = post_form(
			    c, "token endpoint", url, &f, 1, 1, &j, &err, NULL);
		oauth_form_free(&f);
		if (rc == 0) {
			rc = parse_token(c, "token endpoint", j, out);
			cJSON_Delete(j);
			return rc;
		}
		if (rc == JANEE_ERR_NETWORK) {
			/* RFC 8628 section 3.5: back off, keep polling. */
			backoff = backoff ? backoff * 2 : interval;
			if (backoff > 60)
				backoff = 60;
			janee_err_clear();
			continue;
		}
		backoff = 0;
		if (strcmp(err.code, "authorization_pending") == 0) {
			janee_err_clear();
			continue;
		}
		if (strcmp(err.code, "slow_down") == 0) {
			interval += 5;
			janee_err_clear();
			continue;
		}
		janee_err_clear();
		if (strcmp(err.code, "access_denied") == 0)
			return janee_err_set(JANEE_ERR_DENIED,
			    "provider '%s': the login was denied", c->name);
		if (strcmp(err.code, "expired_token") == 0)
			return janee_err_set(JANEE_ERR_DENIED,
			    "provider '%s': the code expired before it was approved; run the login again",
			    c->name);
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': the token endpoint refused the device code: %s",
		    c->name, *err.code ? err.code : "unknown error");
	}
}

/* ---- tokens kept in the login until the ledger has them ---- */

int
oauth_login_put(struct janee_ctx *ctx, const cJSON *root, const char *account)
{
	struct janee_secret *val = NULL;
	char *s;
	int rc;

	if ((s = cJSON_PrintUnformatted(root)) == NULL ||
	    (val = janee_secret_new(s, strlen(s))) == NULL)
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	else
		rc = ctx->cred_put(ctx, val, account);
	if (s != NULL) {
		janee_wipe(s, strlen(s));
		cJSON_free(s);
	}
	janee_secret_free(val);
	return rc;
}

static int64_t
entry_expiry(const cJSON *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "expires_at");

	return cJSON_IsNumber(v) && v->valuedouble > 0 ? (int64_t)v->valuedouble
						       : 0;
}

void
oauth_minted_prune(struct janee_ctx *ctx, cJSON *root)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "minted"), *e, *next;
	const cJSON *id;
	int64_t now = ctx->now_ms(), exp;
	int n = 0;

	if (a == NULL)
		return;
	if (!cJSON_IsArray(a)) {
		cJSON_DeleteItemFromObjectCaseSensitive(root, "minted");
		return;
	}
	for (e = a->child; e != NULL; e = next) {
		next = e->next;
		id = cJSON_GetObjectItemCaseSensitive(e, "lease");
		exp = entry_expiry(e);
		if (!cJSON_IsString(id) || (exp != 0 && exp <= now) ||
		    !ctx->lease_minting(ctx, id->valuestring))
			cJSON_Delete(cJSON_DetachItemViaPointer(a, e));
		else
			n++;
	}
	while (n-- > OAUTH_MINTED_MAX - 1)
		cJSON_Delete(cJSON_DetachItemFromArray(a, 0));
}

int
oauth_minted_add(struct janee_ctx *ctx, cJSON *root, const char *lease_id,
    const struct janee_secret *token, int64_t expires_ms)
{
	cJSON *a, *e;

	oauth_minted_prune(ctx, root);
	if ((a = cJSON_GetObjectItemCaseSensitive(root, "minted")) == NULL &&
	    (a = cJSON_AddArrayToObject(root, "minted")) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if ((e = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(a, e)) {
		cJSON_Delete(e);
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	if (cJSON_AddStringToObject(e, "lease", lease_id) == NULL ||
	    cJSON_AddStringToObject(
		e, "access_token", (const char *)token->data) == NULL ||
	    cJSON_AddNumberToObject(e, "expires_at", (double)expires_ms) ==
		NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	return 0;
}

int
oauth_minted_find(const cJSON *root, const char *lease_id,
    struct janee_secret **token, int64_t *expires_ms)
{
	const cJSON *e, *id, *at;

	*token = NULL;
	*expires_ms = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "minted"))
	{
		id = cJSON_GetObjectItemCaseSensitive(e, "lease");
		at = cJSON_GetObjectItemCaseSensitive(e, "access_token");
		if (!cJSON_IsString(id) ||
		    strcmp(id->valuestring, lease_id) != 0 ||
		    !cJSON_IsString(at))
			continue;
		*expires_ms = entry_expiry(e);
		if ((*token = janee_secret_new(
			 at->valuestring, strlen(at->valuestring))) == NULL)
			return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		return 0;
	}
	return JANEE_ERR_NOT_FOUND;
}
