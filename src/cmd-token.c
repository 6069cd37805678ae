/* janee token, janee provider list. */
#include "common.h"

#include <fcntl.h>
#include <unistd.h>

#include "cli.h"
#include "lease.h"
#include "util.h"

/* approval "ask" at the CLI: a y/N question on the terminal. */
static int
ask_tty(const struct prov *pv, const struct lease *l, void *arg)
{
	char line[16], ttl[32], *reason;
	ssize_t n;
	int fd;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0)
		return janee_err_set(JANEE_ERR_DENIED,
		    "provider '%s' needs a "
		    "person to approve (approval: ask) and there is no "
		    "terminal to ask on",
		    pv->name);
	if ((reason = janee_text_escape(l->reason)) == NULL) {
		close(fd);
		return JANEE_ERR_NOMEM;
	}
	janee_duration_fmt(l->ttl_s, ttl, sizeof(ttl));
	dprintf(fd, "janee: grant %s on '%s' for %s%s%s? [y/N] ", l->requested,
	    pv->name, ttl, l->reason ? ", reason: " : "", reason);
	free(reason);
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n > 0 && (line[0] == 'y' || line[0] == 'Y'))
		return 0;
	return janee_err_set(JANEE_ERR_DENIED, "denied at the terminal");
}

int
cmd_token(struct cli *c)
{
	struct broker_req req;
	struct broker_grant g;
	const struct janee_strlist *l;
	const char *ttl = cli_get(c, "ttl");
	char exp[JANEE_TIME_LEN];
	cJSON *o;
	size_t i;
	int rc;

	memset(&req, 0, sizeof(req));
	if (ttl != NULL && (rc = janee_duration_parse(ttl, &req.ttl_s)) != 0)
		return rc;
	req.provider = c->pos[0];
	req.reason = cli_get(c, "reason");
	/* --permission is --scope by the name GitHub people use. */
	l = cli_all(c, "scope");
	for (i = 0; i < l->n; i++)
		if ((rc = janee_strlist_add(&req.scopes, l->v[i])) != 0)
			goto out;
	l = cli_all(c, "permission");
	for (i = 0; i < l->n; i++)
		if ((rc = janee_strlist_add(&req.scopes, l->v[i])) != 0)
			goto out;
	l = cli_all(c, "repo");
	for (i = 0; i < l->n; i++)
		if ((rc = janee_strlist_add(&req.repositories, l->v[i])) != 0)
			goto out;
	c->broker.ask = ask_tty;
	if ((rc = broker_issue(&c->broker, &req, &g)) != 0)
		goto out;
	janee_time_fmt(g.expires_ms, exp);
	if (cli_has(c, "json")) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "token", (char *)g.tok.token->data);
		cJSON_AddStringToObject(o, "token_type",
		    g.tok.token_type ? g.tok.token_type : "bearer");
		cJSON_AddStringToObject(o, "lease_id", g.lease_id);
		cJSON_AddStringToObject(o, "provider", req.provider);
		cJSON_AddItemToObject(o, "scopes", cJSON_Parse(g.granted));
		cJSON_AddStringToObject(o, "expires_at", exp);
		cJSON_AddBoolToObject(o, "revocable", g.revocable);
		/* cJSON's blocks are wiped on free (main.c's hooks). */
		rc = cli_print_json(o);
	} else if (puts((char *)g.tok.token->data) == EOF)
		rc = janee_err_set(JANEE_ERR_IO, "cannot write the token");
	if (rc == 0)
		fprintf(stderr, "janee: lease %s, scopes %s, expires %s\n",
		    g.lease_id, g.granted, exp);
	broker_grant_free(&g);
out:
	janee_strlist_free(&req.scopes);
	janee_strlist_free(&req.repositories);
	return rc;
}
