/*
 * How the CLI's commands that mint (token, exec) reach a person: a y/N
 * question on the terminal when there is one, else a wait for
 * `janee approve` from another terminal.  The broker decides which
 * (broker_route); this file only carries the question.
 */
#include "common.h"

#include <fcntl.h>
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

int
cli_ask_tty(const struct prov *pv, const struct lease *l, void *arg)
{
	const char *purpose = arg;
	char line[16], ttl[32];
	FILE *tty;
	int yes;

	if ((tty = fopen("/dev/tty", "r+e")) == NULL)
		return janee_err_set(JANEE_ERR_DENIED,
		    "provider '%s' needs a person to approve (approval: ask) "
		    "and there is no terminal to ask on",
		    pv->name);
	janee_duration_fmt(l->ttl_s, ttl, sizeof(ttl));
	/* The reason comes from whoever asked: shown escaped, on its own. */
	if (l->reason != NULL) {
		fputs("janee: reason given: ", tty);
		cli_put_text(tty, l->reason, 0);
		fputc('\n', tty);
	}
	fprintf(
	    tty, "janee: grant %s on '%s' for %s", l->requested, pv->name, ttl);
	if (purpose != NULL) {
		fputs(" to run '", tty);
		cli_put_text(tty, purpose, 0);
		fputc('\'', tty);
	}
	fputs("? [y/N] ", tty);
	fflush(tty);
	yes = fgets(line, sizeof(line), tty) != NULL &&
	    (line[0] == 'y' || line[0] == 'Y');
	fclose(tty);
	return yes ? 0
		   : janee_err_set(JANEE_ERR_DENIED, "denied at the terminal");
}

int
cli_obtain(struct cli *c, struct broker_req *req, const char *purpose,
    const char *(*waiting)(void *arg, int64_t left_ms), void *arg,
    struct broker_grant *g)
{
	struct broker *b = &c->core.broker;
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
	    "janee: lease %s for '%s' waits for your approval: run 'janee "
	    "approve %s' (or 'janee deny %s') in another terminal\n",
	    g->lease_id, req->provider, g->lease_id, g->lease_id);
	return broker_await(b, g->lease_id, waiting, arg, g);
}
