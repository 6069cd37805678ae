/*
 * The bearer authentication hook of janee serve --http (mcp-http.c): the
 * transport calls it on every request when one is set, so that who
 * authenticates agents (janee's own token endpoint, an external issuer)
 * is decided elsewhere.  Both calls may be NULL.
 *
 * check: authorization is the Authorization header's value, or NULL when
 * absent.  Returns 0 when it is valid, with *agent the verified agent's
 * name (malloc'd; it goes into the session's broker identity); non-zero
 * to refuse with 401, with *www_authenticate the WWW-Authenticate value
 * to send (malloc'd, or NULL: "Bearer").
 *
 * route: serves endpoints of its own beside the MCP one (RFC 9728's
 * /.well-known/oauth-protected-resource, a token endpoint), before any
 * check.  Returns 1 when it answered (*status, and *content_type_out and
 * *body_out malloc'd), 0 when the request is not for it.
 */
#ifndef JANEE_HTTP_AUTH_H
#define JANEE_HTTP_AUTH_H

#include <stddef.h>

struct http_auth {
	void *arg;
	int (*check)(void *arg, const char *authorization, char **agent,
	    char **www_authenticate);
	int (*route)(void *arg, const char *method, const char *path,
	    const char *content_type, const char *body, size_t len, int *status,
	    char **content_type_out, char **body_out);
};

/*
 * The credential of "Authorization: Bearer TOKEN" (RFC 6750 section 2.1):
 * 0 with *token (into authorization) and *len, -1 when the value is
 * absent, another scheme, or not one token68.
 */
int
http_auth_bearer(const char *authorization, const char **token, size_t *len);

#endif
