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
	char line[16], ttl[32];
	ssize_t n;
	int fd;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0)
		return janee_err_set(JANEE_ERR_DENIED,
		    "provider '%s' needs a "
		    "person to approve (approval: ask) and there is no "
		    "terminal to ask on",
		    pv->name);
	janee_duration_fmt(l->ttl_s, ttl, sizeof(ttl));
	dprintf(fd, "janee: grant %s on '%s' for %s%s%s? [y/N] ", l->requested,
	    pv->name, ttl, l->reason ? ", reason: " : "",
	    l->reason ? l->reason : "");
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
	l = cli_all(c, "scope");
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
		/* cJSON's copy of the token is freed unwiped: keep it short. */
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

static cJSON *
strlist_json(const struct janee_strlist *l)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a != NULL && i < l->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]));
	return a;
}

int
cmd_provider_list(struct cli *c)
{
	const struct prov *pv;
	char max[32], def[32];
	cJSON *arr = NULL, *o;
	size_t i, j;

	if (cli_has(c, "json"))
		arr = cJSON_CreateArray();
	else
		printf("%-16s %-12s %-12s %-8s %s\n", "NAME", "TYPE",
		    "APPROVAL", "MAX TTL", "SCOPES");
	for (i = 0; i < c->cfg->n; i++) {
		pv = &c->cfg->provs[i];
		janee_duration_fmt(pv->pol.max_ttl_s, max, sizeof(max));
		janee_duration_fmt(pv->pol.default_ttl_s, def, sizeof(def));
		if (arr == NULL) {
			printf("%-16s %-12s %-12s %-8s ", pv->name,
			    pv->impl->type, approval_name(pv->pol.approval),
			    max);
			for (j = 0; j < pv->pol.ceiling.n; j++)
				printf(
				    "%s%s", j ? "," : "", pv->pol.ceiling.v[j]);
			putchar('\n');
			continue;
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", pv->name);
		cJSON_AddStringToObject(o, "type", pv->impl->type);
		cJSON_AddStringToObject(
		    o, "approval", approval_name(pv->pol.approval));
		cJSON_AddNumberToObject(
		    o, "max_ttl_seconds", (double)pv->pol.max_ttl_s);
		cJSON_AddNumberToObject(
		    o, "default_ttl_seconds", (double)pv->pol.default_ttl_s);
		cJSON_AddItemToObject(
		    o, "scopes", strlist_json(&pv->pol.ceiling));
		cJSON_AddItemToObject(
		    o, "default_scopes", strlist_json(&pv->pol.defaults));
		cJSON_AddBoolToObject(o, "revocable", pv->impl->revoke != NULL);
		cJSON_AddItemToArray(arr, o);
	}
	return arr ? cli_print_json(arr) : 0;
}
