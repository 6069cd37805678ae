/* janee login, janee logout: a person's own sign-in for a provider. */
#include "common.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "cli.h"
#include "subprocess.h"
#include "util.h"

static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct login_tty {
	int ttyfd; /* watched for Enter, or -1 */
	char url[1024]; /* opened on Enter */
	int tty; /* stderr is a terminal */
	int browser; /* may open a browser */
	int64_t deadline_ms;
	/* Kept out of the browser's environment (config's references). */
	const struct janee_strlist *deny;
};

/*
 * Open url in a browser, quietly; it is only a convenience.  The opener
 * gets none of janee's secrets: no JANEE_PASSPHRASE, nothing a secret
 * reference reads, no descriptor but 0, 1 and 2 (src/subprocess.c).  The
 * address passed janee_url_check in broker_login already.
 */
static void
open_browser(struct login_tty *lt, const char *url)
{
	int rc;

	if ((rc = janee_open_url(url, lt->deny)) == 0)
		fprintf(stderr, "janee: opening the page in your browser\n");
	else {
		janee_err_clear();
		fprintf(
		    stderr, "janee: open the page yourself (no xdg-open)\n");
	}
}

static void
show_code(void *arg, const char *user_code, const char *uri,
    const char *uri_complete, int64_t expires_in)
{
	struct login_tty *lt = arg;

	lt->deadline_ms = janee_now_ms() + expires_in * 1000;
	/* The code first, as gh does: the person types it on the page. */
	fprintf(stderr, "! First copy your one-time code: ");
	cli_put_text(stderr, user_code, 0);
	fprintf(stderr, "\n  Then open: ");
	fflush(stdout);
	fprintf(stderr, "%s\n", uri);
	if (uri_complete != NULL)
		fprintf(stderr, "  (or, with the code filled in: %s)\n",
		    uri_complete);
	/*
	 * As gh does: the browser opens when the person presses Enter,
	 * once the code is copied; the wait watches the terminal for it.
	 */
	if (lt->browser &&
	    (lt->ttyfd = open("/dev/tty", O_RDONLY | O_CLOEXEC | O_NONBLOCK)) >=
		0) {
		snprintf(lt->url, sizeof(lt->url), "%s",
		    uri_complete ? uri_complete : uri);
		fprintf(
		    stderr, "- Press Enter to open it in your browser...\n");
	}
	if (!lt->tty)
		fprintf(stderr, "janee: waiting for approval\n");
}

/* Enter pressed on the terminal (device flow): open the browser. */
static void
enter_pressed(struct login_tty *lt)
{
	struct pollfd pfd = { lt->ttyfd, POLLIN, 0 };
	char buf[256];
	ssize_t n;

	if (lt->ttyfd < 0 || poll(&pfd, 1, 0) != 1)
		return;
	if ((n = read(lt->ttyfd, buf, sizeof(buf))) > 0 &&
	    memchr(buf, '\n', (size_t)n) != NULL) {
		fputc('\n', stderr);
		open_browser(lt, lt->url);
		close(lt->ttyfd);
		lt->ttyfd = -1;
	}
}

static void
show_url(void *arg, const char *url)
{
	struct login_tty *lt = arg;

	fprintf(stderr, "! Open this address in a browser and approve:\n  %s\n",
	    url);
	if (lt->browser)
		open_browser(lt, url);
	/* The listener waits five minutes at most (providers/slack.c). */
	lt->deadline_ms = janee_now_ms() + 5 * 60 * 1000;
}

/* Called about every 100 ms while the login waits. */
static int
waiting(void *arg)
{
	struct login_tty *lt = arg;

	if (interrupted)
		return 1;
	enter_pressed(lt);
	if (lt->tty)
		cli_wait_line("waiting for approval (the code expires)",
		    lt->deadline_ms - janee_now_ms());
	return 0;
}

int
cmd_login(struct cli *c)
{
	struct sigaction sa, old_int, old_term;
	struct login_tty lt;
	struct janee_login_ui ui = { .show_code = show_code,
		.waiting = waiting,
		.arg = &lt,
		.show_url = show_url,
		.profile = cli_get(c, "profile"),
		.paste = cli_has(c, "paste") };
	int rc;

	memset(&lt, 0, sizeof(lt));
	lt.ttyfd = -1;
	lt.tty = isatty(STDERR_FILENO);
	lt.browser = lt.tty && !cli_has(c, "no-browser");
	lt.deny = c->core.cfg != NULL ? &c->core.cfg->env_names : NULL;
	/* Ctrl-C cancels the wait cleanly instead of killing janee. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	rc = broker_login(&c->core.broker, c->pos[0], &ui);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (lt.tty)
		cli_wait_done();
	if (lt.ttyfd >= 0)
		close(lt.ttyfd);
	if (rc == 0)
		fprintf(
		    stderr, "janee: logged in to provider '%s'\n", c->pos[0]);
	else if (interrupted)
		janee_err_set(rc, "login cancelled; nothing was stored");
	return rc;
}

int
cmd_logout(struct cli *c)
{
	int rc;

	if ((rc = broker_logout(&c->core.broker, c->pos[0])) == 0)
		fprintf(stderr,
		    "janee: logged out of provider '%s'; its session grants "
		    "and leases are ended\n",
		    c->pos[0]);
	return rc;
}
