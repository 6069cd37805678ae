/*
 * The checks janee serve --http makes on a request itself, before any
 * session or the auth hook sees it (mcp-http.h): Origin and Host (DNS
 * rebinding), path, method, media types, the session id's form, the
 * protocol version; the listen address; X-Forwarded-For; a bearer
 * credential's form (RFC 6750).  No I/O: tests/fuzz/fuzz-http.c runs
 * them on any bytes.
 */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>

#include "http-auth.h"
#include "mcp-http.h"
#include "util.h"

static const char *const http_versions[] = { "2025-11-25", "2025-06-18",
	"2025-03-26", "2024-11-05", "2026-07-28" };

/* --- checks on a request's headers ------------------------------------ */

int
mcp_http_session_id_ok(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != MCP_HTTP_SID_LEN)
		return 0;
	for (i = 0; i < MCP_HTTP_SID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
known_version(const char *v)
{
	size_t i;

	for (i = 0; i < nitems(http_versions); i++)
		if (strcmp(v, http_versions[i]) == 0)
			return 1;
	return 0;
}

/* Whether a header's list (Accept) names type, or a wildcard for it. */
static int
accepts(const char *accept, const char *type)
{
	char major[32];
	const char *slash = strchr(type, '/');

	if (accept == NULL)
		return 0;
	if (strcasestr(accept, type) != NULL || strstr(accept, "*/*") != NULL)
		return 1;
	snprintf(major, sizeof(major), "%.*s/*", (int)(slash - type), type);
	return strcasestr(accept, major) != NULL;
}

static int
listed(const struct janee_strlist *l, const char *s)
{
	size_t i;

	for (i = 0; l != NULL && i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

int
mcp_http_screen_peer(const struct mcp_http_policy *h,
    const struct mcp_http_hdrs *r, const char **why)
{
	/*
	 * DNS rebinding (the spec's "Security Warning"): a page in a
	 * browser may reach a loopback server under a name of its own; the
	 * browser says whose page it is in Origin, and which name it used
	 * in Host.  A present Origin must be an allowed one; without
	 * authentication, Host must name this loopback server.
	 */
	if (r->origin != NULL && !listed(h->origins, r->origin)) {
		*why = "forbidden: this Origin is not allowed (janee serve "
		       "--allow-origin adds one)";
		return 403;
	}
	if (h->need_host && (r->host == NULL || !listed(h->hosts, r->host))) {
		*why = "forbidden: the Host header does not name this loopback "
		       "server";
		return 403;
	}
	return 0;
}

int
mcp_http_screen(const struct mcp_http_policy *h, const struct mcp_http_hdrs *r,
    const char **why)
{
	const char *ct = r->content_type;
	int st;

	if ((st = mcp_http_screen_peer(h, r, why)) != 0)
		return st;
	if (r->path == NULL || strcmp(r->path, h->path) != 0) {
		*why = "not found: the MCP endpoint is elsewhere";
		return 404;
	}
	if (strcmp(r->method, "POST") != 0 && strcmp(r->method, "GET") != 0 &&
	    strcmp(r->method, "DELETE") != 0) {
		*why = "method not allowed: use POST, GET or DELETE";
		return 405;
	}
	if (r->protocol != NULL && !known_version(r->protocol)) {
		*why = "bad request: unsupported MCP-Protocol-Version";
		return 400;
	}
	if (r->session != NULL && !mcp_http_session_id_ok(r->session)) {
		*why = "not found: no such session";
		return 404;
	}
	if (strcmp(r->method, "POST") == 0) {
		/* application/json, with parameters (charset) or none. */
		if (ct == NULL ||
		    strncasecmp(ct, "application/json", 16) != 0 ||
		    (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')) {
			*why = "unsupported media type: send application/json";
			return 415;
		}
		if (!accepts(r->accept, "application/json") ||
		    !accepts(r->accept, "text/event-stream")) {
			*why = "not acceptable: the client must accept "
			       "application/json and text/event-stream";
			return 406;
		}
	} else if (strcmp(r->method, "GET") == 0 &&
	    !accepts(r->accept, "text/event-stream")) {
		*why = "not acceptable: a GET opens a text/event-stream";
		return 406;
	}
	return 0;
}

/* ADDR:PORT, [V6]:PORT, localhost:PORT into a socket address. */
int
mcp_http_parse_listen(const char *s, struct sockaddr_storage *ss, unsigned *len,
    char *host, size_t hostn, uint16_t *port, int *loopback)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	const char *colon;
	char a[64];
	int64_t p;
	int v6 = s[0] == '[';

	memset(ss, 0, sizeof(*ss));
	colon = v6 ? strstr(s, "]:") : strrchr(s, ':');
	if (colon == NULL || (size_t)(colon - s) >= sizeof(a) ||
	    janee_parse_int(colon + (v6 ? 2 : 1), 0, 65535, &p) != 0) {
		janee_err_clear();
		return janee_err_set(JANEE_ERR_USAGE,
		    "--http takes ADDR:PORT (127.0.0.1:8700, [::1]:8700), not "
		    "'%s'",
		    s);
	}
	snprintf(a, sizeof(a), "%.*s", (int)(colon - s - v6), s + v6);
	if (strcmp(a, "localhost") == 0)
		snprintf(a, sizeof(a), "127.0.0.1");
	if (v6 && inet_pton(AF_INET6, a, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*in6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		snprintf(host, hostn, "[%s]", a);
	} else if (!v6 && inet_pton(AF_INET, a, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
		*len = sizeof(*in4);
		*loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
		snprintf(host, hostn, "%s", a);
	} else
		return janee_err_set(JANEE_ERR_USAGE,
		    "--http: '%s' is not a numeric IP address (or localhost)",
		    a);
	*port = (uint16_t)p;
	return 0;
}

void
mcp_http_forwarded_for(const char *xff, char *out, size_t n)
{
	const char *last = strrchr(xff, ',');
	size_t len;

	/* The proxy appends the address it saw: the last one counts. */
	last = last ? last + 1 : xff;
	while (*last == ' ' || *last == '\t')
		last++;
	len = strcspn(last, " \t");
	snprintf(out, n, "%.*s", (int)(len < n ? len : n - 1), last);
}

int
http_auth_bearer(const char *authorization, const char **token, size_t *len)
{
	const char *t;
	size_t n;

	*token = NULL;
	*len = 0;
	/* RFC 6750 section 2.1: "Bearer" (any case, RFC 7235), one or more
	 * spaces, a token68 (RFC 7235 section 2.1), nothing after it. */
	if (authorization == NULL ||
	    strncasecmp(authorization, "Bearer ", 7) != 0)
		return -1;
	for (t = authorization + 7; *t == ' '; t++)
		;
	n = strspn(t,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-._~+/");
	while (t[n] == '=')
		n++;
	if (n == 0 || t[n] != '\0' || n > 16384)
		return -1;
	*token = t;
	*len = n;
	return 0;
}
