/*
 * The loopback redirect of a browser login: RFC 8252 (OAuth 2.0 for
 * native apps: a one-shot listener on the loopback literal) and RFC 7636
 * (PKCE S256).  Used by the Slack provider's install; nothing in it is
 * Slack's own.
 */
#ifndef JANEE_OAUTH_LOOPBACK_H
#define JANEE_OAUTH_LOOPBACK_H

#include "common.h"

/* 32 random bytes as base64url: a PKCE verifier or a state value. */
#define OAUTH_NONCE_LEN 43
int oauth_nonce(char out[OAUTH_NONCE_LEN + 1]) JANEE_WUR;

/* The S256 challenge of a verifier: BASE64URL(SHA256(verifier)). */
#define OAUTH_CHALLENGE_LEN 43
int oauth_pkce_challenge(
    const char *verifier, char out[OAUTH_CHALLENGE_LEN + 1]) JANEE_WUR;

/* 1 when a and b are the same string, compared in constant time. */
int oauth_state_equal(const char *a, const char *b);

/* What came back from the authorize page; all NULL when absent. */
struct oauth_redirect {
	struct janee_secret *code;
	char *state;
	char *error; /* "access_denied", ... */
};
void oauth_redirect_free(struct oauth_redirect *r);

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
int oauth_redirect_parse(
    const char *in, const char *path, struct oauth_redirect *r) JANEE_WUR;

/*
 * A request head the loopback listener read ("GET /path?code=...
 * HTTP/1.1\r\n..."; NULL when nothing usable came): *ours is 0 when it is
 * not a GET of path (with or without a query), which the listener answers
 * with 404; else the target's oauth_redirect_parse.
 */
int oauth_request_parse(const char *head, const char *path,
    struct oauth_redirect *r, int *ours) JANEE_WUR;

/* A one-shot HTTP listener on 127.0.0.1 for the loopback redirect. */
struct oauth_listener {
	int fd;
	int port;
};

/* Bind 127.0.0.1:port (0: any free port) and listen; l->port is the port. */
int oauth_listen(int port, struct oauth_listener *l) JANEE_WUR;
void oauth_listener_close(struct oauth_listener *l);

/*
 * Wait at most timeout_ms for a GET of path and parse it into r.  Other
 * paths are answered 404 and the wait goes on (a browser may ask for
 * /favicon.ico); the first request for path ends the wait, whatever it
 * carries.  waiting(arg) is called about every 100 ms; non-zero cancels.
 * JANEE_ERR_DENIED when the time is up, JANEE_ERR_USAGE when cancelled.
 */
int oauth_listen_wait(struct oauth_listener *l, const char *path,
    int64_t timeout_ms, int (*waiting)(void *arg), void *arg,
    struct oauth_redirect *r) JANEE_WUR;

#endif
