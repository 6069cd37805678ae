/*
 * janee approvals | approve | deny: out-of-band approval by a person at a
 * terminal, of requests that wait in the ledger (from `janee serve`).
 */
#include "common.h"

#include "cli.h"
#include "lease.h"
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
		fputs(", repositories ", stdout);
		cli_put_text(stdout, l->repositories, 0);
	}
	printf(", for %s\n    asked by ", d);
	cli_put_text(stdout, l->client, 0);
	fputs(", reason: ", stdout);
	cli_put_text(stdout, l->reason ? l->reason : "(none)", 0);
	putchar('\n');
	return 0;
}

int
cmd_approvals(struct cli *c)
{
	struct lease_filter f = { .requested_only = 1 };
	cJSON *arr = NULL;
	int rc;

	if (cli_has(c, "json") && (arr = cJSON_CreateArray()) == NULL)
		return JANEE_ERR_NOMEM;
	if ((rc = lease_each(c->lg, &f, show_pending, arr)) != 0) {
		cJSON_Delete(arr);
		return rc;
	}
	return arr ? cli_print_json(arr) : 0;
}

int
cmd_approve(struct cli *c)
{
	const char *t = cli_get(c, "ttl");
	int64_t ttl = 0;
	int rc;

	if (t != NULL && (rc = janee_duration_parse(t, &ttl)) != 0)
		return rc;
	if ((rc = broker_decide(&c->broker, c->pos[0], 1, "user",
		 "approved at the terminal", ttl)) != 0)
		return rc;
	fprintf(stderr,
	    "janee: approved lease %s; the agent can collect it "
	    "now\n",
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
	rc = broker_decide(&c->broker, c->pos[0], 0, "user", msg, 0);
	free(msg);
	if (rc == 0)
		fprintf(stderr, "janee: denied lease %s\n", c->pos[0]);
	return rc;
}
