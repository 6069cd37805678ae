/*
 * janee approvals | approve | deny: out-of-band approval by a person at a
 * terminal, of requests that wait in the ledger (from `janee serve`);
 * `approvals --open` serves janee's approval page, `--watch` prints
 * requests as they come.
 */
#include "common.h"

#include <poll.h>
#include <signal.h>
#include <time.h>

#include "approval-page.h"
#include "cli.h"
#include "grant.h"
#include "lease.h"
#include "subprocess.h"
#include "util.h"

static int
show_pending(const struct lease *l, void *arg)
{
	cJSON *arr = arg, *o;
	char t[JANEE_TIME_LEN], d[32];

	if (arr != NULL) {
		o = cli_lease_json(l);
		return o && cJSON_AddItemToArray(arr, o) ? 0 : JANEE_ERR_NOMEM;
	}
	janee_time_fmt(l->created_ms, t);
	janee_duration_fmt(l->ttl_s, d, sizeof(d));
	/* Scopes, repositories, client and reason are the agent's words. */
	printf("%s  %s  provider %s, scopes ", l->id, t, l->provider);
	cli_put_text(stdout, l->requested, 0);
	if (l->repositories != NULL) {
		fputs(", on ", stdout);
		cli_put_text(stdout, l->repositories, 0);
	}
	printf(", for %s\n    asked by ", d);
	cli_put_text(stdout, l->client, 0);
	fputs(", reason: ", stdout);
	cli_put_text(stdout, l->reason ? l->reason : "(none)", 0);
	putchar('\n');
	return 0;
}

/* A waiting request for people, counted. */
static int
pending_row(const struct lease *l, void *arg)
{
	(*(int *)arg)++;
	return show_pending(l, NULL);
}

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* SIGINT and SIGTERM end the loop; they arrive only inside ppoll. */
static void
catch_stop(sigset_t *orig)
{
	struct sigaction sa;
	sigset_t stop;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, orig);
}

/*
 * Serve the page in the foreground until Ctrl-C.  (When the background
 * agent hosts the page for the home, this asks it for a link instead.)
 */
static int
serve_page(struct cli *c)
{
	struct approval_page *p = NULL;
	struct sweep_report r = { 0 };
	struct pollfd pfd;
	struct timespec ts;
	sigset_t orig;
	int64_t wait, next_sweep = 0, now;
	char *link = NULL;
	int rc, opened = 0;

	if (!c->core.have_broker)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "the page needs a configuration that loads: fix %s first",
		    c->core.home.config);
	if ((rc = approval_page_start(
		 &c->core.broker, "janee approvals --open", &p)) != 0)
		return rc;
	/* A person's link: the whole page, to be opened within 2 minutes. */
	if ((link = approval_page_link(p, BROKER_VIA_PERSON, NULL, 120000)) ==
	    NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	if (!cli_has(c, "no-browser")) {
		/* A scrubbed opener: src/subprocess.c (janee_spawn). */
		if ((rc = janee_open_url(link, &c->core.cfg->env_names)) == 0)
			opened = 1;
		else
			janee_err_clear();
	}
	fprintf(stderr,
	    "janee: serving the approval page at %s; Ctrl-C to stop\n",
	    approval_page_origin(p));
	if (!opened) {
		/* The terminal is the person's: the link may show there. */
		printf("%s\n", link);
		fflush(stdout);
	}
	janee_freezero(link, strlen(link));
	link = NULL;
	catch_stop(&orig);
	while (!stopping) {
		now = janee_now_ms();
		/* Leases whose end comes while the page is open end on time. */
		if (now >= next_sweep) {
			if (broker_sweep(&c->core.broker, 0, &r) != 0)
				janee_err_clear();
			next_sweep = now + 5000;
		}
		wait = approval_page_timeout_ms(p);
		if (wait < 0 || wait > 1000)
			wait = 1000;
		pfd.fd = approval_page_fd(p);
		pfd.events = POLLIN;
		pfd.revents = 0;
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)(wait % 1000) * 1000000;
		if (ppoll(&pfd, 1, &ts, &orig) < 0 && errno != EINTR) {
			rc = janee_err_set(
			    JANEE_ERR_IO, "ppoll: %s", strerror(errno));
			break;
		}
		approval_page_run(p);
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	fprintf(stderr, "janee: the approval page is closed\n");
out:
	approval_page_stop(p);
	return rc;
}

struct watch {
	struct janee_strlist seen, now;
};

static int
watch_one(const struct lease *l, void *arg)
{
	struct watch *w = arg;
	int rc;

	if ((rc = janee_strlist_add(&w->now, l->id)) != 0)
		return rc;
	if (janee_strlist_has(&w->seen, l->id))
		return 0;
	return show_pending(l, NULL);
}

/* Print each request as it arrives, and when it stops waiting. */
static int
watch(struct cli *c)
{
	struct lease_filter f = { .requested_only = 1 };
	struct watch w;
	struct timespec ts = { 0, 250 * 1000000L };
	struct lease l;
	sigset_t orig;
	size_t i;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	fprintf(stderr,
	    "janee: watching for requests that wait for approval; Ctrl-C to "
	    "stop\n");
	catch_stop(&orig);
	while (!stopping) {
		if ((rc = lease_each(c->core.lg, &f, watch_one, &w)) != 0)
			break;
		for (i = 0; i < w.seen.n; i++) {
			if (janee_strlist_has(&w.now, w.seen.v[i]))
				continue;
			if (lease_load(c->core.lg, w.seen.v[i], &l) != 0) {
				janee_err_clear();
				continue;
			}
			printf("%s  no longer waits: %s", l.id,
			    lease_state_name(l.state));
			if (l.state == LEASE_DENIED && l.detail != NULL) {
				fputs(" (", stdout);
				cli_put_text(stdout, l.detail, 0);
				putchar(')');
			}
			putchar('\n');
			lease_free(&l);
		}
		fflush(stdout);
		janee_strlist_free(&w.seen);
		w.seen = w.now;
		memset(&w.now, 0, sizeof(w.now));
		if (pselect(0, NULL, NULL, NULL, &ts, &orig) < 0 &&
		    errno != EINTR)
			break;
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	janee_strlist_free(&w.seen);
	janee_strlist_free(&w.now);
	return rc;
}

int
cmd_approvals(struct cli *c)
{
	struct lease_filter f = { .requested_only = 1 };
	struct grant_filter gf = { .live_only = 1, .now_ms = janee_now_ms() };
	cJSON *arr = NULL;
	int rc, nwaiting = 0;

	if (cli_has(c, "open") + cli_has(c, "watch") + cli_has(c, "json") > 1)
		return cli_usage_error(
		    c, "--open, --watch and --json go one at a time");
	if (cli_has(c, "no-browser") && !cli_has(c, "open"))
		return cli_usage_error(c, "--no-browser goes with --open");
	if (cli_has(c, "open"))
		return serve_page(c);
	if (cli_has(c, "watch"))
		return watch(c);
	if (cli_has(c, "json") && (arr = cJSON_CreateArray()) == NULL)
		return JANEE_ERR_NOMEM;
	if ((rc = lease_each(c->core.lg, &f, arr ? show_pending : pending_row,
		 arr ? (void *)arr : &nwaiting)) != 0) {
		cJSON_Delete(arr);
		return rc;
	}
	if (arr != NULL)
		return cli_print_json(arr);
	if (nwaiting == 0)
		printf("no requests wait for approval\n");
	return grant_each(c->core.lg, &gf, cli_grant_row, NULL);
}

/*
 * --json: the decided lease in the MCP tools' words (list_leases:
 * lease_id, provider, state, scopes), and the session grant's id.
 */
static int
print_decided(struct cli *c, const char *grant_id, int64_t grant_s)
{
	struct lease l;
	cJSON *o;
	char t[JANEE_TIME_LEN];
	int rc;

	if ((rc = lease_load(c->core.lg, c->pos[0], &l)) != 0)
		return rc;
	if ((o = cJSON_CreateObject()) == NULL) {
		lease_free(&l);
		return JANEE_ERR_NOMEM;
	}
	cJSON_AddStringToObject(o, "lease_id", l.id);
	cJSON_AddStringToObject(o, "provider", l.provider);
	cJSON_AddStringToObject(o, "state", lease_state_name(l.state));
	cJSON_AddItemToObject(
	    o, "scopes", cJSON_Parse(l.granted ? l.granted : l.requested));
	cJSON_AddNumberToObject(o, "ttl_seconds", (double)l.ttl_s);
	if (l.state == LEASE_DENIED && l.detail != NULL)
		cJSON_AddStringToObject(o, "detail", l.detail);
	if (grant_id != NULL) {
		janee_time_fmt(janee_now_ms() + grant_s * 1000, t);
		cJSON_AddStringToObject(o, "grant_id", grant_id);
		cJSON_AddStringToObject(o, "grant_expires_at", t);
	}
	lease_free(&l);
	return cli_print_json(o);
}

int
cmd_approve(struct cli *c)
{
	const char *t = cli_get(c, "ttl"), *gs = cli_get(c, "grant");
	char grant_id[JANEE_LEASE_ID_LEN], d[32];
	int64_t ttl = 0, grant = 0;
	int rc;

	if ((t != NULL && (rc = janee_duration_parse(t, &ttl)) != 0) ||
	    (gs != NULL && (rc = janee_duration_parse(gs, &grant)) != 0))
		return rc;
	if (grant > 0) {
		if ((rc = broker_approve_grant(&c->core.broker, c->pos[0],
			 "user", "approved at the terminal", ttl, grant,
			 grant_id)) != 0)
			return rc;
		if (cli_has(c, "json"))
			return print_decided(c, grant_id, grant);
		janee_duration_fmt(grant, d, sizeof(d));
		fprintf(stderr,
		    "janee: approved lease %s, and session grant %s for %s: "
		    "that session's narrower requests are approved without "
		    "asking (revoke: janee lease revoke %s)\n",
		    c->pos[0], grant_id, d, grant_id);
		return 0;
	}
	if ((rc = broker_decide(&c->core.broker, c->pos[0], 1, "user",
		 "approved at the terminal", ttl)) != 0)
		return rc;
	if (cli_has(c, "json"))
		return print_decided(c, NULL, 0);
	fprintf(stderr,
	    "janee: approved lease %s; the agent can collect it now\n",
	    c->pos[0]);
	return 0;
}

int
cmd_deny(struct cli *c)
{
	const char *why = cli_get(c, "reason");
	char *msg;
	int rc;

	if ((msg = janee_asprintf("denied at the terminal%s%s", why ? ": " : "",
		 why ? why : "")) == NULL)
		return JANEE_ERR_NOMEM;
	rc = broker_decide(&c->core.broker, c->pos[0], 0, "user", msg, 0);
	free(msg);
	if (rc != 0)
		return rc;
	if (cli_has(c, "json"))
		return print_decided(c, NULL, 0);
	fprintf(stderr, "janee: denied lease %s\n", c->pos[0]);
	return 0;
}
