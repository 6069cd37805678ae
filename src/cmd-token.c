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
	const struct janee_secret *tok;
	const struct prov *pv;
	const char *ttl = cli_get(c, "ttl");
	static const char *const scope_opts[] = { "scope", "permission" };
	static const char *const resource_opts[] = { "resource", "repo" };
	char exp[JANEE_TIME_LEN], *shown = NULL;
	cJSON *o;
	size_t i, k;
	int rc;

	memset(&req, 0, sizeof(req));
	if (ttl != NULL && (rc = janee_duration_parse(ttl, &req.ttl_s)) != 0)
		return rc;
	req.provider = c->pos[0];
	req.reason = cli_get(c, "reason");
	/* --permission is --scope, --repo is --resource, by other names. */
	for (k = 0; k < nitems(scope_opts); k++)
		for (l = cli_all(c, scope_opts[k]), i = 0; i < l->n; i++)
			if ((rc = janee_strlist_add(&req.scopes, l->v[i])) != 0)
				goto out;
	for (k = 0; k < nitems(resource_opts); k++)
		for (l = cli_all(c, resource_opts[k]), i = 0; i < l->n; i++)
			if ((rc = janee_strlist_add(&req.resources, l->v[i])) !=
			    0)
				goto out;
	/* As the broker routes it: policy, the terminal, or janee approve. */
	if ((rc = cli_obtain(c, &req, NULL, NULL, NULL, &g)) != 0) {
		broker_grant_free(&g);
		goto out;
	}
	janee_time_fmt(g.expires_ms, exp);
	pv = config_find(c->core.cfg, req.provider);
	tok = janee_token_get(&g.tok, prov_primary(pv)->name);
	if (cli_has(c, "json")) {
		/* cJSON's blocks are wiped on free (main.c's hooks). */
		if ((rc = core_grant_json(pv, &g, &o)) == 0)
			rc = cli_print_json(o);
	} else if (puts((const char *)tok->data) == EOF)
		rc = janee_err_set(JANEE_ERR_IO, "cannot write the token");
	if (rc == 0 && (shown = cli_scope_list(g.granted)) != NULL)
		fprintf(stderr, "janee: lease %s, scopes %s, expires %s\n",
		    g.lease_id, shown, exp);
	free(shown);
	broker_grant_free(&g);
out:
	janee_strlist_free(&req.scopes);
	janee_strlist_free(&req.resources);
	return rc;
}
