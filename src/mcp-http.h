/*
 * janee serve --http: the MCP Streamable HTTP transport (protocol
 * 2025-11-25: one endpoint, POST answered with JSON or an SSE stream, GET
 * for the server's own messages, Mcp-Session-Id, DELETE) and the
 * 2026-07-28 stateless form (a POST per request, no session), over
 * src/web.c in janee serve's poll loop.  Each session is a struct mcp of
 * its own (mcp.c's dispatcher, unchanged) sharing the process's core.
 */
#ifndef JANEE_MCP_HTTP_H
#define JANEE_MCP_HTTP_H

#include "common.h"

#include <poll.h>

#include "core.h"
#include "http-auth.h"

#define MCP_HTTP_SID_LEN 64 /* hex digits of an Mcp-Session-Id */
#define MCP_HTTP_SESSION_PFDS 9 /* a session's page and notifier */

struct mcp_http_opts {
	const char *listen; /* ADDR:PORT ([v6]:PORT) */
	const char *path; /* the endpoint; "/mcp" when NULL */
	const char *tls_cert, *tls_key; /* PEM files, or NULL */
	int trust_proxy; /* a reverse proxy in front: X-Forwarded-For */
	const struct janee_strlist *origins; /* more allowed Origins */
	int64_t idle_ms; /* a session unused this long ends */
	int max_sessions;
	int rate_per_min; /* requests per client and minute (burst: same) */
	const struct http_auth *auth; /* NULL: loopback only */
};

struct mcp_http;

/* Check the options, load the TLS files, listen; a message on error. */
int mcp_http_start(const struct mcp_http_opts *o, struct core *core,
    struct mcp_http **out) JANEE_WUR;
/* End every session (their waiting requests answered why), stop. */
void mcp_http_stop(struct mcp_http *h, const char *why);

/* The port bound (for a port 0 given). */
uint16_t mcp_http_port(const struct mcp_http *h);
/*
 * The descriptors to poll (the server's, each session's page and
 * desktop notifier), at most max; *wait lowered to the next timer.
 */
int mcp_http_pollfds(
    struct mcp_http *h, struct pollfd *pfd, int max, int64_t *wait);
/* After the poll: serve what is ready, run the timers. */
void mcp_http_run(struct mcp_http *h, struct pollfd *pfd, int n);

/*
 * mcp-http-check.c: the checks on a request's headers before any session
 * (or the auth hook) sees it.  0 when acceptable, else the HTTP status
 * to answer and *why, a short message.
 */
struct mcp_http_policy {
	const char *path; /* the endpoint */
	const struct janee_strlist *origins; /* allowed Origin values */
	const struct janee_strlist *hosts; /* allowed Host values */
	int need_host; /* no authentication: Host must be one of hosts */
};
struct mcp_http_hdrs {
	const char *method, *path, *origin, *host, *accept, *content_type;
	const char *session, *protocol, *mcp_method;
};
int mcp_http_screen(const struct mcp_http_policy *p,
    const struct mcp_http_hdrs *r, const char **why);
/* Its first part, Origin and Host, which every request passes (even to
 * the auth hook's endpoints). */
int mcp_http_screen_peer(const struct mcp_http_policy *p,
    const struct mcp_http_hdrs *r, const char **why);
/* A session id as janee makes them (64 lowercase hex): 1 when so. */
int mcp_http_session_id_ok(const char *s);
/* ADDR:PORT, [V6]:PORT or localhost:PORT; host as a Host header has it. */
struct sockaddr_storage;
int
mcp_http_parse_listen(const char *s, struct sockaddr_storage *ss, unsigned *len,
    char *host, size_t hostn, uint16_t *port, int *loopback) JANEE_WUR;
/* The client a trusted proxy saw: X-Forwarded-For's last address. */
void mcp_http_forwarded_for(const char *xff, char *out, size_t n);

#endif
