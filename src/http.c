/* The HTTP layer: libcurl with TLS always verified, no redirects, retries. */
#include "common.h"

#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "buf.h"
#include "janee/http.h"
#include "lazylib.h"
#include "util.h"

#define CONNECT_TIMEOUT_MS 10000L
#define TOTAL_TIMEOUT_MS 30000L
#define MAX_RETRIES 2
#define MAX_RETRY_AFTER_S 30

struct janee_http {
	CURL *easy;
	int trace;
};

/* Names whose values are credentials, in forms and in JSON answers. */
static const char *const secret_fields[] = { "client_secret", "refresh_token",
	"access_token", "id_token", "token", "code", "device_code",
	"code_verifier", "subject_token", "actor_token", "assertion",
	"password", "client_assertion", NULL };

static int
is_secret_field(const char *name, size_t len)
{
	size_t i;

	for (i = 0; secret_fields[i] != NULL; i++)
		if (strlen(secret_fields[i]) == len &&
		    strncmp(secret_fields[i], name, len) == 0)
			return 1;
	return 0;
}

/*
 * libcurl is opened and started at the first request, not here: every
 * provider gets a client, and a session that only uses providers without
 * HTTP (or none) never loads libcurl and its dependencies.
 */
struct janee_http *
janee_http_new(void)
{
	struct janee_http *h;
	const char *dbg = getenv("JANEE_DEBUG");

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		return NULL;
	}
	h->trace = dbg != NULL && strstr(dbg, "http") != NULL;
	return h;
}

static int
easy_start(struct janee_http *h)
{
	static int inited;

	if (h->easy != NULL)
		return 0;
	if (!inited) {
		if (janee_curl_load() != 0)
			return JANEE_ERR_UNSUPPORTED;
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return janee_err_set(
			    JANEE_ERR_NETWORK, "cannot start libcurl");
		inited = 1;
	}
	if ((h->easy = curl_easy_init()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	return 0;
}

void
janee_http_free(struct janee_http *h)
{
	if (h == NULL)
		return;
	if (h->easy != NULL)
		curl_easy_cleanup(h->easy);
	free(h);
}

void
janee_http_resp_free(struct janee_http_resp *r)
{
	if (r->body != NULL)
		janee_freezero(r->body, r->len + 1);
	free(r->content_type);
	janee_strlist_free(&r->headers);
	memset(r, 0, sizeof(*r));
	r->retry_after_s = -1;
}

int
janee_http_url_ok(const char *url, const char *what)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	int rc = 0;

	if ((u = curl_url()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		rc = janee_err_set(
		    JANEE_ERR_INVALID, "%s: '%s' is not a URL", what, url);
	else if (strcmp(scheme, "https") == 0)
		rc = 0;
	else if (strcmp(scheme, "http") != 0)
		rc = janee_err_set(JANEE_ERR_INVALID,
		    "%s: scheme '%s' is not allowed; use https", what, scheme);
	else if (strcmp(host, "127.0.0.1") != 0 && strcmp(host, "[::1]") != 0 &&
	    strcmp(host, "localhost") != 0)
		rc = janee_err_set(JANEE_ERR_INVALID,
		    "%s: plain http to '%s' is refused; use https (http is allowed only to 127.0.0.1, ::1 and localhost)",
		    what, host);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

struct sink {
	struct buf b;
	size_t max;
	int too_big, truncate;
	struct janee_strlist *headers; /* or NULL */
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	if (s->truncate && s->b.len + size * n > s->max) {
		/* Keep what fits; stop the transfer (reported as cut). */
		if (buf_add(&s->b, p, s->max - s->b.len) != 0)
			janee_err_clear();
		s->too_big = 1;
		return 0;
	}
	if (buf_add(&s->b, p, size * n) != 0) {
		janee_err_clear(); /* reported as "too large" below */
		s->too_big = 1;
		return 0;
	}
	return size * n;
}

/*
 * Each header line of the answers; a status line starts the list again,
 * so that what is left is the final answer's (not a 100 Continue's).
 */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;
	char *line;

	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		janee_strlist_free(s->headers);
		return size * n;
	}
	if (len == 0 || memchr(p, ':', len) == NULL)
		return size * n;
	if ((line = malloc(len + 1)) == NULL)
		return 0;
	memcpy(line, p, len);
	line[len] = '\0';
	if (janee_strlist_add(s->headers, line) != 0) {
		janee_err_clear();
		free(line);
		return 0;
	}
	free(line);
	return size * n;
}

/* A form body with credential values replaced, for JANEE_DEBUG=http. */
static void
trace_form(const char *body, size_t len)
{
	const char *p = body, *end = body + len, *amp, *eq;

	fputs("janee: http:   body: ", stderr);
	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq != NULL && is_secret_field(p, (size_t)(eq - p)))
			fprintf(stderr, "%.*s=[redacted]", (int)(eq - p), p);
		else
			fprintf(stderr, "%.*s", (int)(amp - p), p);
		if (amp < end)
			fputc('&', stderr);
		p = amp + 1;
	}
	fputc('\n', stderr);
}

static void
redact_json(cJSON *v)
{
	cJSON *e;

	cJSON_ArrayForEach(e, v)
	{
		if (e->string != NULL && cJSON_IsString(e) &&
		    is_secret_field(e->string, strlen(e->string)))
			cJSON_SetValuestring(e, "[redacted]");
		else if (cJSON_IsObject(e) || cJSON_IsArray(e))
			redact_json(e);
	}
}

static void
trace_answer(const struct janee_http_resp *r)
{
	cJSON *j = r->body ? cJSON_ParseWithLength(r->body, r->len) : NULL;
	char *s;

	fprintf(stderr, "janee: http: < %ld %s, %zu bytes\n", r->status,
	    r->content_type ? r->content_type : "(no type)", r->len);
	if (j == NULL)
		return; /* not JSON: its content is not shown */
	redact_json(j);
	if ((s = cJSON_PrintUnformatted(j)) != NULL)
		fprintf(stderr, "janee: http:   %s\n", s);
	cJSON_free(s);
	cJSON_Delete(j);
}

static int64_t
retry_after(CURL *easy)
{
	struct curl_header *hd;
	int64_t v;
	time_t t;

	if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &hd) !=
	    CURLHE_OK)
		return -1;
	if (janee_parse_int(hd->value, 0, 86400, &v) == 0)
		return v;
	if ((t = curl_getdate(hd->value, NULL)) > 0)
		return t > time(NULL) ? (int64_t)(t - time(NULL)) : 0;
	return -1;
}

static void
sleep_s(int64_t s)
{
	struct timespec ts = { (time_t)s, 0 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One attempt.  *transient tells whether trying again may help. */
static int
attempt(struct janee_http *h, const struct janee_http_req *req,
    struct janee_http_resp *resp, int *transient)
{
	CURL *e = h->easy;
	struct curl_slist *hdrs = NULL, *n;
	struct sink sink;
	struct buf auth;
	char ua[64], errbuf[CURL_ERROR_SIZE] = "";
	const char *const *hp;
	const char *method = req->method ? req->method : "GET";
	char *ctype;
	CURLcode cc;
	int rc = 0;

	*transient = 0;
	memset(&sink, 0, sizeof(sink));
	sink.max = req->max_body ? req->max_body : JANEE_HTTP_MAX_BODY;
	sink.truncate = req->truncate;
	buf_init(&sink.b, sink.max);
	buf_init(&auth, 64 * 1024);
	curl_easy_reset(e);
	snprintf(ua, sizeof(ua), "janee/%s", PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
	    req->timeout_ms > 0 ? (long)req->timeout_ms : TOTAL_TIMEOUT_MS);
	if (req->path_as_is)
		curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	if (req->want_headers) {
		sink.headers = &resp->headers;
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, &sink);
	}
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(e, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	if (req->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
	/* HEAD as a custom method would wait for the body its headers
	 * announce: libcurl's NOBODY sends HEAD and reads none. */
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (req->body != NULL) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(
		    e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	for (hp = req->headers; hp != NULL && *hp != NULL; hp++)
		if ((n = curl_slist_append(hdrs, *hp)) != NULL)
			hdrs = n;
	if (req->content_type != NULL &&
	    buf_printf(&auth, "Content-Type: %s", req->content_type) == 0 &&
	    (n = curl_slist_append(hdrs, auth.p)) != NULL)
		hdrs = n;
	buf_reset(&auth);
	/* "Expect: 100-continue" only slows small token requests down. */
	if ((n = curl_slist_append(hdrs, "Expect:")) != NULL)
		hdrs = n;
	if (req->bearer != NULL &&
	    buf_printf(&auth, "%s: %s%s%s",
		req->bearer_header ? req->bearer_header : "Authorization",
		req->bearer_scheme ? req->bearer_scheme : "Bearer",
		req->bearer_scheme && *req->bearer_scheme == '\0' ? "" : " ",
		(const char *)req->bearer->data) == 0 &&
	    (n = curl_slist_append(hdrs, auth.p)) != NULL)
		hdrs = n;
	if (req->basic_user != NULL) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, req->basic_user);
		curl_easy_setopt(e, CURLOPT_PASSWORD,
		    req->basic_pass ? (const char *)req->basic_pass->data : "");
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	if (h->trace) {
		fprintf(stderr, "janee: http: > %s %s%s%s\n", method, req->url,
		    req->basic_user ? " (basic auth: [redacted])" : "",
		    req->bearer ? " (bearer: [redacted])" : "");
		if (req->body != NULL && req->content_type != NULL &&
		    strstr(req->content_type, "x-www-form-urlencoded"))
			trace_form(req->body, req->body_len);
		else if (req->body != NULL)
			fprintf(stderr, "janee: http:   body: %zu bytes\n",
			    req->body_len);
	}

	cc = curl_easy_perform(e);

	/* The curl handle keeps copies: overwrite them before returning. */
	curl_easy_setopt(e, CURLOPT_PASSWORD, "");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	for (n = hdrs; n != NULL; n = n->next)
		janee_wipe(n->data, strlen(n->data));
	curl_slist_free_all(hdrs);
	buf_free(&auth);

	if (sink.too_big && sink.truncate &&
	    (cc == CURLE_OK || cc == CURLE_WRITE_ERROR)) {
		resp->truncated = 1;
		cc = CURLE_OK;
	} else if (sink.too_big) {
		rc = janee_err_set(JANEE_ERR_NETWORK,
		    "%s (%s): the answer is larger than %zu bytes; refused",
		    req->what, req->url, sink.max);
		goto out;
	}
	if (cc != CURLE_OK) {
		/*
		 * Only when nothing reached the server: a POST that may have
		 * been processed (a rotated refresh token) must not be resent.
		 */
		*transient = cc == CURLE_COULDNT_CONNECT ||
		    cc == CURLE_COULDNT_RESOLVE_HOST;
		rc = janee_err_set(JANEE_ERR_NETWORK, "%s (%s): %s%s%s",
		    req->what, req->url, curl_easy_strerror(cc),
		    *errbuf ? ": " : "", errbuf);
		goto out;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
	if (curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK &&
	    ctype != NULL &&
	    (resp->content_type = janee_strdup(ctype)) == NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	resp->retry_after_s = retry_after(e);
	if (sink.b.p == NULL && buf_add(&sink.b, "", 0) != 0) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	resp->body = sink.b.p;
	resp->len = sink.b.len;
	sink.b.p = NULL;
	*transient = resp->status == 429 || resp->status == 503;
	if (h->trace && req->secret_answer)
		fprintf(stderr,
		    "janee: http: < %ld, %zu bytes (a secret: not traced)\n",
		    resp->status, resp->len);
	else if (h->trace)
		trace_answer(resp);
out:
	buf_free(&sink.b);
	return rc;
}

int
janee_http_do(struct janee_http *h, const struct janee_http_req *req,
    struct janee_http_resp *resp)
{
	int rc, transient, tries;
	int64_t wait;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after_s = -1;
	if ((rc = janee_http_url_ok(req->url, req->what)) != 0 ||
	    (rc = easy_start(h)) != 0)
		return rc;
	for (tries = 0;; tries++) {
		rc = attempt(h, req, resp, &transient);
		if (!transient || req->no_retry || tries >= MAX_RETRIES)
			return rc;
		/* Honour Retry-After within reason; else back off 1 s, 2 s. */
		wait = resp->retry_after_s >= 0 ? resp->retry_after_s
						: (int64_t)1 << tries;
		if (wait > MAX_RETRY_AFTER_S)
			return rc;
		if (h->trace)
			fprintf(stderr, "janee: http: retrying in %llds\n",
			    (long long)wait);
		janee_http_resp_free(resp);
		janee_err_clear();
		sleep_s(wait);
	}
}
