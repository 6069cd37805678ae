/*
 * Unit tests: janee serve --http's authentication hook (http-auth.h) and
 * where it may listen.  A server with a test hook runs in a child process
 * (no home: its sessions answer the handshake and tools/list, which need
 * no ledger); the parent speaks HTTP/1.1 to it on a socket.  The hook's
 * check is called on every request, its 401 carries the hook's
 * WWW-Authenticate, its route answers before any check, and a session
 * belongs to the agent that started it.  The transport with the SDK is
 * tests/t0840-serve-http.sh.
 */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http-auth.h"
#include "mcp-http.h"

#include "t.h"

#define WWW \
	"Bearer resource_metadata=\"http://127.0.0.1/.well-known/oauth-protected-resource\""

static int
check(void *arg, const char *authorization, char **agent, char **www)
{
	const char *tok;
	size_t n;

	(void)arg;
	*agent = NULL;
	*www = NULL;
	if (http_auth_bearer(authorization, &tok, &n) == 0 && n == 6 &&
	    strncmp(tok, "good-", 5) == 0) {
		*agent = janee_asprintf("agent-%c", tok[5]);
		return 0;
	}
	*www = strdup(WWW);
	return -1;
}

static int
route(void *arg, const char *method, const char *path, const char *ct,
    const char *body, size_t len, int *status, char **ct_out, char **out)
{
	(void)arg;
	(void)ct;
	(void)body;
	(void)len;
	if (strcmp(method, "GET") != 0 ||
	    strcmp(path, "/.well-known/oauth-protected-resource") != 0)
		return 0;
	*status = 200;
	*ct_out = strdup("application/json");
	*out = strdup("{\"resource\":\"http://127.0.0.1/mcp\"}");
	return 1;
}

static const struct http_auth auth = { NULL, check, route };

/* A server in a child process; its port, or 0. */
static pid_t child;

static uint16_t
serve(void)
{
	struct mcp_http_opts o;
	static struct core core;
	struct mcp_http *h;
	struct pollfd pfd[64];
	int p[2], n;
	int64_t wait;
	uint16_t port = 0;

	if (pipe(p) != 0)
		abort();
	if ((child = fork()) == 0) {
		close(p[0]);
		core.home_opt = "/nonexistent/janee-home";
		memset(&o, 0, sizeof(o));
		o.listen = "127.0.0.1:0";
		o.auth = &auth;
		o.max_sessions = 8;
		if (mcp_http_start(&o, &core, &h) != 0)
			_exit(2);
		port = mcp_http_port(h);
		if (write(p[1], &port, sizeof(port)) != sizeof(port))
			_exit(2);
		for (;;) {
			wait = 1000;
			n = mcp_http_pollfds(h, pfd, 64, &wait);
			poll(pfd, (nfds_t)n, (int)wait);
			mcp_http_run(h, pfd, n);
		}
	}
	close(p[1]);
	if (read(p[0], &port, sizeof(port)) != sizeof(port))
		port = 0;
	close(p[0]);
	return port;
}

static void
stop(void)
{
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

/* One request (Connection: close); the whole answer, or "". */
static char *
request(uint16_t port, const char *method, const char *path,
    const char *headers, const char *body)
{
	struct sockaddr_in a;
	char *req, *out = NULL;
	size_t len = 0, cap = 0;
	ssize_t r;
	int fd;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		abort();
	req = janee_asprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
			     "Connection: close\r\n%s"
			     "Content-Length: %zu\r\n\r\n%s",
	    method, path, (unsigned)port, headers, strlen(body), body);
	if (req == NULL || write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		abort();
	free(req);
	for (;;) {
		if (len + 4097 > cap &&
		    (out = realloc(out, cap = cap * 2 + 8192)) == NULL)
			abort();
		if ((r = read(fd, out + len, 4096)) <= 0)
			break;
		len += (size_t)r;
	}
	out[len] = '\0';
	close(fd);
	return out;
}

#define MCP_HDRS \
	"Content-Type: application/json\r\n" \
	"Accept: application/json, text/event-stream\r\n"
#define INIT \
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":" \
	"{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{}," \
	"\"clientInfo\":{\"name\":\"unit\",\"version\":\"1\"}}}"
#define LIST "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}"

static int
status_of(const char *answer)
{
	int st = 0;

	if (sscanf(answer, "HTTP/1.1 %d", &st) != 1)
		return 0;
	return st;
}

/* The Mcp-Session-Id of an answer, into sid (65 bytes). */
static void
session_of(const char *answer, char *sid)
{
	const char *p = strcasestr(answer, "\r\nMcp-Session-Id: ");

	sid[0] = '\0';
	if (p != NULL)
		snprintf(sid, 65, "%.64s", p + 18);
}

static void
the_auth_hook_guards_every_request(void)
{
	uint16_t port = serve();
	char sid[65], hdr[256], *r;

	T_ASSERT(port != 0);
	/* No token, another scheme, a bad token: 401 with the hook's say. */
	r = request(port, "POST", "/mcp", MCP_HDRS, INIT);
	T_EQ_INT(status_of(r), 401);
	T_ASSERT(strstr(r, "WWW-Authenticate: " WWW "\r\n") != NULL);
	free(r);
	r = request(port, "POST", "/mcp",
	    MCP_HDRS "Authorization: Basic Z29vZC1hOg==\r\n", INIT);
	T_EQ_INT(status_of(r), 401);
	free(r);
	r = request(port, "POST", "/mcp",
	    MCP_HDRS "Authorization: Bearer wrong!\r\n", INIT);
	T_EQ_INT(status_of(r), 401);
	free(r);
	/* A good token: the handshake, and a session. */
	r = request(port, "POST", "/mcp",
	    MCP_HDRS "Authorization: Bearer good-a\r\n", INIT);
	T_EQ_INT(status_of(r), 200);
	session_of(r, sid);
	T_EQ_INT((int)strlen(sid), 64);
	free(r);
	/* The session without the token: 401, not served. */
	snprintf(hdr, sizeof(hdr), MCP_HDRS "Mcp-Session-Id: %s\r\n", sid);
	r = request(port, "POST", "/mcp", hdr, LIST);
	T_EQ_INT(status_of(r), 401);
	free(r);
	/* Another agent's token: the session is not theirs (404). */
	snprintf(hdr, sizeof(hdr),
	    MCP_HDRS "Mcp-Session-Id: %s\r\nAuthorization: Bearer good-b\r\n",
	    sid);
	r = request(port, "POST", "/mcp", hdr, LIST);
	T_EQ_INT(status_of(r), 404);
	free(r);
	r = request(port, "DELETE", "/mcp", hdr, "");
	T_EQ_INT(status_of(r), 404);
	free(r);
	/* Its own agent's: served (the control). */
	snprintf(hdr, sizeof(hdr),
	    MCP_HDRS "Mcp-Session-Id: %s\r\nAuthorization: Bearer good-a\r\n",
	    sid);
	r = request(port, "POST", "/mcp", hdr, LIST);
	T_EQ_INT(status_of(r), 200);
	T_ASSERT(strstr(r, "request_token") != NULL);
	free(r);
	/* The hook's own endpoint needs no token, but Origin still counts. */
	r = request(
	    port, "GET", "/.well-known/oauth-protected-resource", "", "");
	T_EQ_INT(status_of(r), 200);
	T_ASSERT(strstr(r, "\"resource\":\"http://127.0.0.1/mcp\"") != NULL);
	free(r);
	r = request(port, "GET", "/.well-known/oauth-protected-resource",
	    "Origin: http://evil.example\r\n", "");
	T_EQ_INT(status_of(r), 403);
	free(r);
	/* A third agent starts a session of its own. */
	r = request(port, "POST", "/mcp",
	    MCP_HDRS "Authorization: Bearer good-c\r\n", INIT);
	T_EQ_INT(status_of(r), 200);
	free(r);
	stop();
}

static void
where_it_may_listen(void)
{
	struct mcp_http_opts o;
	struct core core;
	struct mcp_http *h = NULL;

	memset(&core, 0, sizeof(core));
	memset(&o, 0, sizeof(o));
	/* No authentication: no network. */
	o.listen = "0.0.0.0:0";
	T_EQ_INT(mcp_http_start(&o, &core, &h), JANEE_ERR_USAGE);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_USAGE),
		     "unauthenticated credential broker must not listen on a "
		     "network") != NULL);
	janee_err_clear();
	/* Authentication but clear text on a network: refused too. */
	o.auth = &auth;
	T_EQ_INT(mcp_http_start(&o, &core, &h), JANEE_ERR_USAGE);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_USAGE), "clear text") != NULL);
	janee_err_clear();
	/* Behind a proxy that terminates TLS: allowed. */
	o.trust_proxy = 1;
	T_EQ_INT(mcp_http_start(&o, &core, &h), 0);
	mcp_http_stop(h, "done");
	/* Not an address. */
	o.listen = "example.com:80";
	T_EQ_INT(mcp_http_start(&o, &core, &h), JANEE_ERR_USAGE);
	janee_err_clear();
	o.listen = "127.0.0.1:65536";
	T_EQ_INT(mcp_http_start(&o, &core, &h), JANEE_ERR_USAGE);
	janee_err_clear();
}

static void
bearer_values_are_read_strictly(void)
{
	const char *t;
	size_t n;

	T_EQ_INT(http_auth_bearer("Bearer abc.DEF-_~+/==", &t, &n), 0);
	T_EQ_INT((int)n, 14);
	T_EQ_INT(http_auth_bearer("bearer   x", &t, &n), 0);
	T_EQ_STR(t, "x");
	T_EQ_INT(http_auth_bearer(NULL, &t, &n), -1);
	T_EQ_INT(http_auth_bearer("Bearer", &t, &n), -1);
	T_EQ_INT(http_auth_bearer("Bearer ", &t, &n), -1);
	T_EQ_INT(http_auth_bearer("Bearer a b", &t, &n), -1);
	T_EQ_INT(http_auth_bearer("Bearer a=b", &t, &n), -1);
	T_EQ_INT(http_auth_bearer("Basic abc", &t, &n), -1);
	T_EQ_INT(http_auth_bearer("Bearerabc", &t, &n), -1);
	T_ASSERT(t == NULL);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	T_RUN(bearer_values_are_read_strictly);
	T_RUN(where_it_may_listen);
	T_RUN(the_auth_hook_guards_every_request);
	return t_done();
}
