/* janee serve (the MCP server's loop). */
#include "common.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "agent.h"
#include "approval-page.h"
#include "cli.h"
#include "mcp.h"
#include "notify.h"
#include "store.h"
#include "util.h"

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
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
