/* janee token, janee provider list. */
#include "common.h"

#include "cli.h"
#include "lease.h"
#include "util.h"

int
cmd_token(struct cli *c)
{
	struct broker_req req;
	struct broker_grant g;
	const struct janee_strlist *l;
	const char *ttl = cli_get(c, "ttl");
	char exp[JANEE_TIME_LEN], *shown = NULL;
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
	/* As the broker routes it: policy, the terminal, or janee approve. */
	if ((rc = cli_obtain(c, &req, NULL, NULL, NULL, &g)) != 0) {
		broker_grant_free(&g);
		goto out;
	}
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
	if (rc == 0 && (shown = cli_scope_list(g.granted)) != NULL)
		fprintf(stderr, "janee: lease %s, scopes %s, expires %s\n",
		    g.lease_id, shown, exp);
	free(shown);
	broker_grant_free(&g);
out:
	janee_strlist_free(&req.scopes);
	janee_strlist_free(&req.repositories);
	return rc;
}
