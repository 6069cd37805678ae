/*
 * janee's core context: the home, its ledger, the configuration and the
 * broker, opened on demand.  Every front end uses it: the CLI (struct cli
 * holds one) and the MCP server (struct mcp points to one); neither reads
 * the other's state.
 */
#ifndef JANEE_CORE_H
#define JANEE_CORE_H

#include "common.h"

#include "broker.h"
#include "config.h"
#include "home.h"
#include "keysrc.h"
#include "ledger.h"

/* What core_open opens. */
#define CORE_LEDGER 0x01 /* an initialised home and its ledger */
#define CORE_CONFIG 0x02 /* config.json must load (else config_error) */

struct core {
	const char *home_opt; /* --home, or NULL */
	struct keysrc ks; /* how the store's key is obtained */
	/* opened on demand by core_open */
	struct home home;
	struct ledger *lg;
	struct config *cfg;
	struct broker broker;
	int have_broker;
	/*
	 * Without CORE_CONFIG a configuration that does not load is no
	 * failure: its message is kept here (core_close frees it) and the
	 * ledger is open without a broker, for status, audit and the like.
	 */
	char *config_error;
};

/*
 * Resolve the home, and with CORE_LEDGER open its ledger, config.json and
 * the broker.  Opened in steps (janee serve opens the ledger later): each
 * part once; *opened is set when this call opened the ledger.
 */
int core_open(struct core *k, unsigned flags, int *opened) JANEE_WUR;
/*
 * An issued lease as a client sees it (request_token, `janee token
 * --json`): "token" (the primary part), "token_type", "lease_id",
 * "provider", "scopes", "expires_at", "revocable"; for a token of more
 * than one part also "primary" (its name) and "parts" (every part by
 * name).  *out is the caller's; it holds the token: wipe it on free.
 */
struct cJSON;
int core_grant_json(const struct prov *pv, const struct broker_grant *g,
    struct cJSON **out) JANEE_WUR;

/* Load config.json and start the broker (for commands that mint). */
int core_broker(struct core *k) JANEE_WUR;
void core_close(struct core *k);

#endif
