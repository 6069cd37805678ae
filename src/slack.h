/*
 * The Slack provider's helpers for the browser install (RFC 8252 native
 * app redirects, RFC 7636 PKCE), exposed for the unit tests.  They live in
 * providers/slack.c; nothing else in janee uses them yet.
 */
#ifndef JANEE_SLACK_H
#define JANEE_SLACK_H

#include "common.h"

/*
 * base64url without padding (RFC 4648 section 5) of at most 3072 bytes
 * into out (outsz bytes with the NUL: 43 + 1 for 32 bytes).  0, or
 * JANEE_ERR_INTERNAL when it does not fit.
 */
int slack_b64url(
    const unsigned char *p, size_t n, char *out, size_t outsz) JANEE_WUR;

/* 32 random bytes as base64url: a PKCE verifier or a state value. */
#define SLACK_NONCE_LEN 43
int slack_nonce(char out[SLACK_NONCE_LEN + 1]) JANEE_WUR;

/* The S256 challenge of a verifier: BASE64URL(SHA256(verifier)). */
#define SLACK_CHALLENGE_LEN 43
int slack_pkce_challenge(
    const char *verifier, char out[SLACK_CHALLENGE_LEN + 1]) JANEE_WUR;

/* 1 when a and b are the same string, compared in constant time. */
int slack_state_equal(const char *a, const char *b);

/* What came back from the authorize page; all NULL when absent. */
struct slack_redirect {
	struct janee_secret *code;
	char *state;
	char *error; /* "access_denied", ... */
};
void slack_redirect_free(struct slack_redirect *r);

/*
 * Parse what the person or the browser brought back: a redirect URL
 * ("https://host/path?code=...&state=..."), a request target
 * ("/path?code=..."), or a bare code.  With path non-NULL a URL's path
 * must be exactly path.  The query is split with libcurl's URL API and
 * each part decoded with curl_easy_unescape; a repeated code, state or
 * error, a NUL byte in a value, or a URL with neither code nor error is
 * refused (JANEE_ERR_INVALID).  A bare code has no state: the caller
 * decides whether that is acceptable.
 */
int slack_redirect_parse(
    const char *in, const char *path, struct slack_redirect *r) JANEE_WUR;

/*
 * A request head the loopback listener read ("GET /path?code=...
 * HTTP/1.1\r\n..."; NULL when nothing usable came): *ours is 0 when it is
 * not a GET of path (with or without a query), which the listener answers
 * with 404; else the target's slack_redirect_parse.
 */
int slack_request_parse(const char *head, const char *path,
    struct slack_redirect *r, int *ours) JANEE_WUR;

/* A one-shot HTTP listener on 127.0.0.1 for the loopback redirect. */
struct slack_listener {
	int fd;
	int port;
};

/* Bind 127.0.0.1:port (0: any free port) and listen; l->port is the port. */
int slack_listen(int port, struct slack_listener *l) JANEE_WUR;
void slack_listener_close(struct slack_listener *l);

/*
 * Wait at most timeout_ms for a GET of path and parse it into r.  Other
 * paths are answered 404 and the wait goes on (a browser may ask for
 * /favicon.ico); the first request for path ends the wait, whatever it
 * carries.  waiting(arg) is called about every 100 ms; non-zero cancels.
 * JANEE_ERR_DENIED when the time is up, JANEE_ERR_USAGE when cancelled.
 */
int slack_listen_wait(struct slack_listener *l, const char *path,
    int64_t timeout_ms, int (*waiting)(void *arg), void *arg,
    struct slack_redirect *r) JANEE_WUR;

/*
 * Slack's answers as the provider (providers/slack.c) takes them, with no
 * network: the provider calls them after its HTTP request, the fuzzer
 * (tests/fuzz/fuzz-slack.c) on its inputs.  ctx is a configured "slack"
 * entry; messages name it and never hold a token.
 */
struct cJSON;
struct janee_http_resp;

/*
 * A Web API answer to method: HTTP 200 JSON with "ok".  0 and *out (the
 * caller's, cJSON_Delete) on "ok": true; otherwise JANEE_ERR_PROVIDER with
 * an actionable message (a 429 that held, no JSON object, no "ok",
 * Slack's error and what to do about it), the error code in code.
 */
int slack_answer(struct janee_ctx *ctx, const char *method,
    const struct janee_http_resp *r, struct cJSON **out, char *code,
    size_t codesz) JANEE_WUR;

/*
 * auth.revoke's answer: 0 on "revoked": true, or when Slack no longer
 * accepts the token (code says why); else JANEE_ERR_PROVIDER.
 */
int slack_revoke_answer(struct janee_ctx *ctx, const struct janee_http_resp *r,
    char *code, size_t codesz) JANEE_WUR;

/*
 * For the fuzzer: an install of profile, oauth.v2.access's answer r (or
 * oauth.v2.exchange's, with exchange set) and auth.test's answer test for
 * each token in it, taken as `janee login` does, but nothing is stored.
 */
int slack_install_answer(struct janee_ctx *ctx, const char *profile,
    int exchange, const struct janee_http_resp *r,
    const struct janee_http_resp *test) JANEE_WUR;

/* For the fuzzer: a refresh's answer (oauth.v2.access), taken as a mint
 * takes it, but nothing is stored. */
int slack_refresh_answer(
    struct janee_ctx *ctx, const struct janee_http_resp *r) JANEE_WUR;

#endif
