/* The core context (core.h): home, ledger, configuration, broker. */
#include "common.h"

#include "core.h"
#include "util.h"

int
core_broker(struct core *k)
{
	int rc;

	if (k->have_broker)
		return 0;
	if ((rc = config_load(k->home.config, janee_providers, &k->cfg)) != 0)
		return rc;
	broker_init(&k->broker, k->lg, &k->home, k->cfg, &k->ks);
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
