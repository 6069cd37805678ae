/*
 * How the CLI's commands that mint (token, exec) reach a person: a y/N
 * question on the terminal when there is one, else a wait for
 * `janee approve` from another terminal.  The broker decides which
 * (broker_route); this file only carries the question.
 */
#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "cli.h"
#include "lease.h"
#include "util.h"

int
cli_can_prompt(void)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* "? [y/N] " and the person's answer: 1 for yes. */
static int
read_yes(FILE *tty)
{
	char line[16];

	fputs("? [y/N] ", tty);
	fflush(tty);
	return fgets(line, sizeof(line), tty) != NULL &&
	    (line[0] == 'y' || line[0] == 'Y');
}

int
cli_confirm(const char *fmt, ...)
{
	va_list ap;
	FILE *tty;
	int yes;

	if ((tty = fopen("/dev/tty", "r+e")) == NULL)
		return -1;
	fputs("janee: ", tty);
	va_start(ap, fmt);
	vfprintf(tty, fmt, ap);
	va_end(ap);
	yes = read_yes(tty);
	fclose(tty);
	return yes;
}

int
cli_ask_tty(const struct prov *pv, const struct lease *l, void *arg)
{
	const char *purpose = arg;
	char ttl[32];
	FILE *tty;
	int yes;

	if ((tty = fopen("/dev/tty", "r+e")) == NULL)
		return janee_err_set(JANEE_ERR_DENIED,
		    "provider '%s' needs a person to approve (approval: ask) and there is no terminal to ask on",
		    pv->name);
	janee_duration_fmt(l->ttl_s, ttl, sizeof(ttl));
	/* The reason comes from whoever asked: shown escaped, on its own. */
	if (l->reason != NULL) {
		fputs("janee: reason given: ", tty);
		cli_put_text(tty, l->reason, 0);
		fputc('\n', tty);
	}
	fputs("janee: grant ", tty);
	cli_put_text(tty, l->requested, 0);
	fprintf(tty, " on '%s' for %s", pv->name, ttl);
	if (purpose != NULL) {
		fputs(" to run '", tty);
		cli_put_text(tty, purpose, 0);
		fputc('\'', tty);
	}
	yes = read_yes(tty);
	fclose(tty);
	return yes ? 0
		   : janee_err_set(JANEE_ERR_DENIED, "denied at the terminal");
}

/* How much of the terminal line the wait line drew, for cli_wait_done. */
static int wait_drawn;

void
cli_wait_line(const char *what, int64_t left_ms)
{
	static const char spin[] = "|/-\\";
	static int64_t last_draw_ms;
	int64_t now = janee_now_ms(), left = left_ms / 1000;
	int n;

	if (!isatty(STDERR_FILENO) || now - last_draw_ms < 250)
		return;
	if (left < 0)
		left = 0;
	n = fprintf(stderr, "\r%c %s (%lld:%02lld left; Ctrl-C cancels) ",
	    spin[(now / 250) % 4], what, (long long)(left / 60),
	    (long long)(left % 60));
	if (n > wait_drawn)
		wait_drawn = n;
	last_draw_ms = now;
}

void
cli_wait_done(void)
{
	/* Blank what the line drew (no escape sequence: plain spaces). */
	if (wait_drawn > 0)
		fprintf(stderr, "\r%*s\r", wait_drawn, "");
	wait_drawn = 0;
}

static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
	interrupted = sig;
}

/* The wait at the terminal: the wait line, and the front end's own. */
struct obtain_wait {
	const char *(*waiting)(void *arg, int64_t left_ms);
	void *arg;
	char what[96];
};

static const char *
obtain_waiting(void *arg, int64_t left_ms)
{
	struct obtain_wait *w = arg;

	cli_wait_line(w->what, left_ms);
	if (w->waiting != NULL)
		return w->waiting(w->arg, left_ms);
	return interrupted ? "interrupted at the terminal" : NULL;
}

int
cli_obtain(struct cli *c, struct broker_req *req, const char *purpose,
    const char *(*waiting)(void *arg, int64_t left_ms), void *arg,
    struct broker_grant *g)
{
	struct sigaction sa, old_int, old_term;
	struct broker *b = &c->core.broker;
	struct obtain_wait w;
	int rc;

	b->ask = cli_can_prompt() ? cli_ask_tty : NULL;
	b->ask_arg = (void *)(uintptr_t)purpose;
	rc = broker_submit(b, req, BROKER_CAN_PROMPT | BROKER_CAN_WAIT, g);
	b->ask = NULL;
	b->ask_arg = NULL;
	if (rc != JANEE_ERR_PENDING)
		return rc;
	janee_err_clear();
	fprintf(stderr,
	    "janee: lease %s for '%s' waits for your approval: run 'janee approve %s' (or 'janee deny %s') in another terminal\n",
	    g->lease_id, req->provider, g->lease_id, g->lease_id);
	w.waiting = waiting;
	w.arg = arg;
	snprintf(w.what, sizeof(w.what), "waiting for janee approve %s",
	    g->lease_id);
	/*
	 * Without the caller's own signal handling (janee exec has it), a
	 * Ctrl-C denies the request instead of leaving it waiting.
	 */
	if (waiting == NULL) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_interrupt;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
	}
	rc = broker_await(b, g->lease_id, obtain_waiting, &w, g);
	cli_wait_done();
	if (waiting == NULL) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	return rc;
}
