/*
 * The one HTTP layer (libcurl) that every provider uses.
 *
 * TLS verification is always on (peer and host name); a provider may
 * name its own CA file.  Plain http:// is refused unless the host is
 * 127.0.0.1, ::1 or localhost.  Redirects are never followed: an OAuth
 * endpoint that redirects is misconfigured, and following it could send
 * credentials elsewhere.  Connections are reused within a process.
 * Connection failures and 429/503 answers are retried a bounded number
 * of times, honouring Retry-After.  JANEE_DEBUG=http traces requests to
 * stderr with credentials and token fields redacted.
 */
#ifndef JANEE_HTTP_H
#define JANEE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "janee/provider.h"

struct janee_http;

/* Answers larger than this are refused (a token answer is a few KiB). */
#define JANEE_HTTP_MAX_BODY (1024 * 1024)

struct janee_http_req {
	const char *method; /* "GET", "POST", "DELETE"; NULL: GET */
	const char *url;
	const char *what; /* for messages: "provider 'x' token endpoint" */
	const char *ca_file; /* NULL: the system's CAs */
	const char *const *headers; /* NULL-terminated "Name: value" */
	const char *content_type; /* of the body */
	const char *body; /* may hold secrets: never logged raw */
	size_t body_len;
	/* HTTP Basic (client_secret_basic) or a bearer token; never both. */
	const char *basic_user;
	const struct janee_secret *basic_pass;
	const struct janee_secret *bearer;
	/*
	 * The header that carries bearer (NULL: "Authorization") and the
	 * scheme before it (NULL: "Bearer"; "": the token alone).
	 */
	const char *bearer_header;
	const char *bearer_scheme;
	int no_retry; /* e.g. device polling: never resend */
	/*
	 * The answer's body is a secret whatever its field names (a Vault KV
	 * read): JANEE_DEBUG=http traces its size only, not its redacted
	 * JSON, whose redaction knows only the usual credential fields.
	 */
	int secret_answer;
	/*
	 * For call_api (src/mcp-api.c): the answer's size cap (0:
	 * JANEE_HTTP_MAX_BODY); with truncate, a larger answer is cut there
	 * and marked truncated instead of refused; the total timeout (0:
	 * 30 s); the path sent exactly as given (libcurl otherwise removes
	 * dot segments, RFC 3986 section 5.2.4); and the answer's headers.
	 */
	size_t max_body;
	int truncate;
	int64_t timeout_ms;
	int path_as_is;
	int want_headers;
};

struct janee_http_resp {
	long status;
	char *body; /* NUL-terminated; wiped when freed */
	size_t len;
	char *content_type; /* NULL when absent */
	int64_t retry_after_s; /* -1 when absent */
	int truncated; /* cut at max_body (req->truncate) */
	/* With req->want_headers: the final answer's "Name: value" lines. */
	struct janee_strlist headers;
};

/* A client with its connection cache; NULL on failure (message set). */
struct janee_http *janee_http_new(void);
void janee_http_free(struct janee_http *h);

/*
 * Perform req.  0 when an HTTP answer arrived, whatever its status (the
 * caller judges it); JANEE_ERR_NETWORK (connection, TLS, timeout, size)
 * or JANEE_ERR_INVALID (a refused URL) with a message naming req->what.
 */
int janee_http_do(struct janee_http *h, const struct janee_http_req *req,
    struct janee_http_resp *resp) __attribute__((warn_unused_result));
void janee_http_resp_free(struct janee_http_resp *resp);

/* Whether url's scheme and host are acceptable (https, or http to loopback). */
int janee_http_url_ok(const char *url, const char *what)
    __attribute__((warn_unused_result));

#endif
