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

#endif
