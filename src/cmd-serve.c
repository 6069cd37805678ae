/* janee serve (the MCP server's loop). */
#include "common.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "agent.h"
#include "approval-page.h"
#include "cli.h"
#include "mcp-http.h"
#include "mcp.h"
#include "notify.h"
#include "store.h"
#include "team-auth.h"
#include "util.h"

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * Agent authentication for --http (http-auth.h, team-auth.h): on when
 * config.json has "auth" (a resource URL or an external issuer); then
 * every request needs an agent's bearer token, and janee may listen on
 * a network.  Without it, --http serves loopback only (mcp_http_start
 * refuses anything else).  Janee's signing key is sealed in the store,
 * so team mode unlocks it first (a passphrase home: janee unlock).
 */
static int
serve_auth(struct cli *c, const struct mcp_http_opts *o, struct http_auth *ha,
    struct team_auth **ta)
{
	const struct auth_cfg *a = &c->core.cfg->auth;
	const char *colon;
	char *resource = NULL;
	int rc;

	*ta = NULL;
	if (a->resource == NULL && a->issuer == NULL)
		return 0;
	if (a->resource == NULL) {
		/* The URL agents use: known only when the port is named. */
		colon = strrchr(o->listen, ':');
		if (colon == NULL || strcmp(colon, ":0") == 0)
			return janee_err_set(JANEE_ERR_USAGE,
			    "team mode needs janee's resource URL: set "
			    "auth.resource in config.json (e.g. "
			    "https://janee.example/mcp) or name a port in --http");
		resource = janee_asprintf("%s://%s%s",
		    o->tls_cert != NULL ? "https" : "http", o->listen,
		    o->path != NULL ? o->path : "/mcp");
		if (resource == NULL)
			return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	if ((rc = core_broker(&c->core)) != 0 ||
	    (rc = broker_unlock(&c->core.broker)) != 0 ||
	    (rc = team_auth_open(c->core.lg, c->core.broker.store, c->core.cfg,
		 resource, ta)) != 0) {
		free(resource);
		return rc;
	}
	free(resource);
	ha->arg = *ta;
	ha->check = team_auth_check;
	ha->route = team_auth_route;
	return 0;
}

/* janee serve --http: many sessions, one loop, until SIGTERM/SIGINT. */
static int
serve_http(struct cli *c, const sigset_t *orig)
{
	struct mcp_http_opts o;
	struct http_auth ha;
	struct team_auth *ta = NULL;
	struct mcp_http *h;
	struct pollfd *pfd;
	struct timespec ts;
	const char *v;
	int64_t n, idle_s = 30 * 60, wait;
	int rc, npfd, maxpfd;

	memset(&o, 0, sizeof(o));
	o.listen = cli_get(c, "http");
	o.path = cli_get(c, "path");
	o.tls_cert = cli_get(c, "tls-cert");
	o.tls_key = cli_get(c, "tls-key");
	o.trust_proxy = cli_has(c, "trust-proxy");
	o.origins = cli_all(c, "allow-origin");
	o.max_sessions = 64;
	o.rate_per_min = 600;
	if (o.path != NULL && o.path[0] != '/')
		return cli_usage_error(c, "--path must start with '/'");
	if ((v = cli_get(c, "session-idle")) != NULL &&
	    (janee_duration_parse(v, &idle_s) != 0 || idle_s < 1)) {
		janee_err_clear();
		return cli_usage_error(
		    c, "--session-idle takes a duration (90s, 30m, 2h)");
	}
	o.idle_ms = idle_s * 1000;
	if ((v = cli_get(c, "max-sessions")) != NULL) {
		if (janee_parse_int(v, 1, 4096, &n) != 0) {
			janee_err_clear();
			return cli_usage_error(
			    c, "--max-sessions takes a number from 1 to 4096");
		}
		o.max_sessions = (int)n;
	}
	if ((v = cli_get(c, "rate-limit")) != NULL) {
		if (janee_parse_int(v, 0, 1000000, &n) != 0) {
			janee_err_clear();
			return cli_usage_error(c,
			    "--rate-limit takes requests per minute (0: none)");
		}
		o.rate_per_min = (int)n;
	}
	/* The ledger now: a broken home is said at once, not per session. */
	if ((rc = core_open(&c->core, CORE_LEDGER | CORE_CONFIG, NULL)) != 0)
		return rc;
	if ((rc = serve_auth(c, &o, &ha, &ta)) != 0)
		return rc;
	o.auth = ta != NULL ? &ha : NULL;
	if ((rc = mcp_http_start(&o, &c->core, &h)) != 0) {
		team_auth_free(ta);
		return rc;
	}
	/* The server's, and each session's (stateless calls: 16 more). */
	maxpfd = 1 + (o.max_sessions + 16) * MCP_HTTP_SESSION_PFDS;
	if ((pfd = calloc((size_t)maxpfd, sizeof(*pfd))) == NULL) {
		mcp_http_stop(h, "out of memory");
		team_auth_free(ta);
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	fprintf(stderr, "janee serve: MCP on %s://%s%s (port %u)\n",
	    o.tls_cert ? "https" : "http", o.listen, o.path ? o.path : "/mcp",
	    (unsigned)mcp_http_port(h));
	agent_keep(c->core.home.dir, c->core.lg);
	while (!stopping) {
		wait = 3600000;
		npfd = mcp_http_pollfds(h, pfd, maxpfd, &wait);
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)(wait % 1000) * 1000000;
		rc = ppoll(pfd, (nfds_t)npfd, &ts, orig);
		if (rc < 0 && errno != EINTR) {
			fprintf(stderr, "janee serve: ppoll: %s\n",
			    strerror(errno));
			break;
		}
		mcp_http_run(h, pfd, npfd);
	}
	mcp_http_stop(h, "cancelled: janee serve was stopped");
	team_auth_free(ta);
	free(pfd);
	return 0;
}

int
cmd_serve(struct cli *c)
{
	struct sigaction sa;
	struct pollfd pfd[2 + 8];
	struct timespec ts;
	sigset_t stop, orig;
	struct mcp m;
	char buf[65536];
	int64_t wait, pw;
	ssize_t n;
	int rc, started = 0, npfd, nnote, kept = 0;

	mcp_init(&m, &c->core);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: ppoll sees EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/*
	 * SIGTERM and SIGINT arrive only inside ppoll(): one that comes while
	 * a request or a revocation is under way waits for it to finish, and
	 * then ends the wait at once, instead of being seen only when the
	 * next poll() times out (up to 30 s later).
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, &orig);
	signal(SIGPIPE, SIG_IGN);
	/* A prompt on the terminal would hang an MCP client: never ask. */
	c->core.ks.may_prompt = 0;
	if (cli_get(c, "http") != NULL) {
		mcp_free(&m);
		rc = serve_http(c, &orig);
		sigprocmask(SIG_SETMASK, &orig, NULL);
		return rc;
	}
	if (cli_get(c, "tls-cert") != NULL || cli_get(c, "tls-key") != NULL ||
	    cli_has(c, "trust-proxy") || cli_get(c, "allow-origin") != NULL ||
	    cli_get(c, "session-idle") != NULL || cli_get(c, "path") != NULL ||
	    cli_get(c, "max-sessions") != NULL ||
	    cli_get(c, "rate-limit") != NULL) {
		mcp_free(&m);
		sigprocmask(SIG_SETMASK, &orig, NULL);
		return cli_usage_error(c, "these options go with --http");
	}
	while (!stopping) {
		/* Leases from before, and no agent (killed, a reboot): one. */
		if (m.ready && !kept) {
			agent_keep(c->core.home.dir, c->core.lg);
			kept = 1;
		}
		/*
		 * Answer the handshake first; open the ledger and sweep
		 * overdue leases once the client pauses (or a tool needs it).
		 */
		wait = started ? mcp_tick(&m) : 50;
		if (wait > 3600000)
			wait = 3600000;
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		npfd = 1;
		/* janee's page (URL-mode links) and the desktop's answers. */
		if (m.page != NULL) {
			pfd[npfd].fd = approval_page_fd(m.page);
			pfd[npfd].events = POLLIN;
			pfd[npfd++].revents = 0;
			if ((pw = approval_page_timeout_ms(m.page)) >= 0 &&
			    pw < wait)
				wait = pw;
		}
		nnote = m.notifier != NULL
		    ? notifier_pollfds(m.notifier, pfd + npfd, 8, &wait)
		    : 0;
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)(wait % 1000) * 1000000;
		rc = ppoll(pfd, (nfds_t)(npfd + nnote), &ts, &orig);
		if (m.notifier != NULL)
			notifier_dispatch(m.notifier, pfd + npfd, nnote);
		if (m.page != NULL)
			approval_page_run(m.page);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			fprintf(stderr, "janee serve: ppoll: %s\n",
			    strerror(errno));
			break;
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (!started) {
				started = 1;
				if (mcp_ready(&m) != 0)
					janee_err_clear();
			}
			continue;
		}
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the client closed stdin: the session ends */
		mcp_feed(&m, buf, (size_t)n);
		if (m.ready)
			started = 1;
	}
	mcp_shutdown(&m,
	    stopping ? "cancelled: janee serve was stopped"
		     : "cancelled: the MCP client closed the session");
	mcp_free(&m);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return 0;
}
