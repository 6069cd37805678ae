/* The core context (core.h): home, ledger, configuration, broker. */
#include "common.h"

#include <cjson/cJSON.h>

#include "audit.h"
#include "core.h"
#include "json.h"
#include "util.h"

int
core_broker(struct core *k)
{
	int rc;

	struct janee_ctx services;

	if (k->have_broker)
		return 0;
	/* The broker first: its services are the providers' at configure. */
	broker_init(&k->broker, k->lg, &k->home, NULL, &k->ks);
	broker_services(&k->broker, &services);
	if ((rc = config_load(
		 k->home.config, janee_providers, &services, &k->cfg)) != 0) {
		broker_free(&k->broker);
		return rc;
	}
	k->broker.cfg = k->cfg;
	/* Before the sweep: its events go to the witness too. */
	if (k->cfg->audit_syslog && k->lg != NULL &&
	    (rc = audit_witness_syslog(k->lg)) != 0) {
		broker_free(&k->broker);
		config_free(k->cfg);
		k->cfg = NULL;
		return rc;
	}
	k->have_broker = 1;
	return 0;
}

int
core_open(struct core *k, unsigned flags, int *opened)
{
	int rc;

	if (opened != NULL)
		*opened = 0;
	if (k->home.dir == NULL &&
	    (rc = home_resolve(k->home_opt, &k->home)) != 0)
		return rc;
	if (k->lg != NULL || !(flags & CORE_LEDGER))
		return 0;
	if ((rc = home_check(&k->home)) != 0 ||
	    (rc = ledger_open(k->home.db, 0, &k->lg)) != 0)
		return rc;
	if (opened != NULL)
		*opened = 1;
	if ((rc = core_broker(k)) != 0) {
		if (flags & CORE_CONFIG)
			return rc;
		free(k->config_error);
		k->config_error = janee_strdup(janee_err_msg(rc));
		janee_err_clear();
	}
	return 0;
}

void
core_close(struct core *k)
{
	if (k->have_broker)
		broker_free(&k->broker);
	k->have_broker = 0;
	config_free(k->cfg);
	k->cfg = NULL;
	ledger_close(k->lg);
	k->lg = NULL;
	home_free(&k->home);
	free(k->config_error);
	k->config_error = NULL;
}

int
core_grant_json(
    const struct prov *pv, const struct broker_grant *g, cJSON **out)
{
	const struct janee_secret *tok =
	    janee_token_get(&g->tok, prov_primary(pv)->name);
	char exp[JANEE_TIME_LEN];
	cJSON *o, *parts;
	size_t i;
	int rc;

	*out = NULL;
	if (tok == NULL)
		return janee_err_set(
		    JANEE_ERR_INTERNAL, "a grant with no token");
	janee_time_fmt(g->expires_ms, exp);
	if ((o = cJSON_CreateObject()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if ((rc = json_put(o, "token",
		 cJSON_CreateString((const char *)tok->data))) != 0 ||
	    (rc = json_put(o, "token_type",
		 cJSON_CreateString(
		     g->tok.token_type ? g->tok.token_type : "bearer"))) != 0 ||
	    (rc = json_put(o, "lease_id", cJSON_CreateString(g->lease_id))) !=
		0 ||
	    (rc = json_put(o, "provider", cJSON_CreateString(pv->name))) != 0 ||
	    (rc = json_put(o, "scopes", cJSON_Parse(g->granted))) != 0 ||
	    (rc = json_put(o, "expires_at", cJSON_CreateString(exp))) != 0 ||
	    (rc = json_put(o, "revocable", cJSON_CreateBool(g->revocable))) !=
		0)
		goto fail;
	if (g->tok.nparts > 1 || strcmp(g->tok.parts[0].name, "token") != 0) {
		if ((rc = json_put(o, "primary",
			 cJSON_CreateString(prov_primary(pv)->name))) != 0 ||
		    (rc = json_put(o, "parts", parts = cJSON_CreateObject())) !=
			0)
			goto fail;
		for (i = 0; i < g->tok.nparts; i++)
			if ((rc = json_put(parts, g->tok.parts[i].name,
				 cJSON_CreateString(
				     (const char *)g->tok.parts[i]
					 .value->data))) != 0)
				goto fail;
	}
	*out = o;
	return 0;
fail:
	cJSON_Delete(o);
	return rc;
}
