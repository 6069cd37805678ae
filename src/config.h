/*
 * config.json: providers and their policies.  No secret values live
 * here, only references ("secret:NAME").  Shape:
 *
 *   {"providers": {"NAME": {"type": "...", "scopes": [...],
 *       "default_scopes": [...], "max_ttl": "1h", "default_ttl": "15m",
 *       "approval": "auto" | "ask" | "out-of-band" | "deny",
 *       "resources": [...], ...}},
 *    "audit": {"syslog": true}}
 *
 * "resources" is also spelt as the provider names its resources
 * ("repositories" for GitHub, "databases" for PostgreSQL).
 *
 * Keys common to all providers are read here; the provider's configure()
 * reads its own; any key nobody read is an error that names it.
 */
#ifndef JANEE_CONFIG_H
#define JANEE_CONFIG_H

#include "common.h"

#include <cjson/cJSON.h>

/* From the laxest to the strictest: policy_agent_narrow takes the max. */
enum approval {
	APPROVAL_AUTO,
	APPROVAL_ASK,
	APPROVAL_OUT_OF_BAND,
	APPROVAL_DENY,
};

const char *approval_name(enum approval a);

struct policy;
struct api_rules;
/* Whether any of scopes needs out-of-band approval under p. */
int
policy_needs_oob(const struct policy *p, const struct janee_strlist *scopes);

struct policy {
	struct janee_strlist ceiling; /* never empty */
	struct janee_strlist defaults; /* within the ceiling; may be empty */
	struct janee_strlist resources; /* the allow-list; may be empty */
	/* Scopes ("issues:write", or "*:write" for any) that need a person
	 * at a terminal (`janee approve`), whatever "approval" says. */
	struct janee_strlist oob_scopes;
	int64_t approval_wait_s; /* how long request_token waits for it */
	/* The longest session grant a person may give (src/grant.h); 0: none
	 * ("session_grant_max", off unless set).  Never above max_ttl. */
	int64_t session_grant_max_s;
	int64_t max_ttl_s;
	int64_t default_ttl_s;
	enum approval approval;
};

struct prov {
	char *name;
	const struct janee_provider *impl;
	struct janee_ctx ctx;
	struct janee_info info; /* what configure() said the entry can do */
	struct policy pol;
	struct api_rules *api; /* "api": call_api's rules, or NULL */
	int login_fd; /* held login lock, or -1 */
};

/*
 * "auth": team mode (src/team-auth.h): janee's resource URL, and an
 * external issuer whose tokens it accepts instead of its own.
 */
struct auth_cfg {
	char *resource; /* janee's resource URL (RFC 8707), or NULL */
	char *issuer; /* an external issuer's URL, or NULL: janee issues */
	char *audience; /* the issuer's "aud" for janee; default resource */
	int64_t token_ttl_s; /* the life of tokens janee issues; 0: default */
};

/*
 * "agents": what each remote agent (src/team-agents.h) may use, per
 * provider; the narrower of this and the provider's policy wins
 * (policy_agent_narrow).  An empty list is the provider's own.
 */
struct agent_prov_pol {
	char *provider;
	struct janee_strlist scopes;
	struct janee_strlist resources;
	int has_approval;
	enum approval approval;
	int64_t max_ttl_s; /* 0: the provider's */
};

struct agent_pol {
	char *name;
	struct agent_prov_pol *provs;
	size_t n;
};

struct config {
	char *path;
	struct prov *provs;
	size_t n;
	/*
	 * The environment variables its secret references and ${VAR}
	 * expansions read (secretref_env_names): kept out of what janee
	 * runs (janee exec's command, a browser opener).
	 */
	struct janee_strlist env_names;
	int audit_syslog; /* "audit": {"syslog": true} (src/audit-witness.c) */
	struct auth_cfg auth;
	struct agent_pol *agents;
	size_t nagents;
};

/*
 * The policy of agent for provider: NULL when the config names no such
 * agent, or the agent may not use the provider (*agent_known says which).
 */
const struct agent_prov_pol *config_agent_policy(const struct config *c,
    const char *agent, const char *provider, int *agent_known);

/*
 * Load and validate path against the provider table (NULL-terminated).
 * A missing file is an empty configuration.  Each entry's context starts
 * as a copy of services (the broker's, broker_services), so that the
 * core's services are there when configure() runs; NULL gives services
 * that refuse (secret_get, the login) or answer plainly (the clock, the
 * log), for a parse that only checks the file.
 */
int config_load(const char *path, const struct janee_provider *const *table,
    const struct janee_ctx *services, struct config **out) JANEE_WUR;
/* Parse a configuration from memory; `origin` names it in messages. */
int config_parse(const char *text, const char *origin,
    const struct janee_provider *const *table, const struct janee_ctx *services,
    struct config **out) JANEE_WUR;

/* A provider's diagnostics: "janee: NAME: ..." on stderr (ctx->log). */
void config_ctx_log(struct janee_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The part of pv's tokens named name, or NULL; pv's primary part. */
const struct janee_part_info *
prov_part(const struct prov *pv, const char *name);
const struct janee_part_info *prov_primary(const struct prov *pv);
/*
 * The configuration file as written, unvalidated (for commands that edit
 * it, and doctor's look at its references): a missing file is {}.
 */
int config_read_json(const char *path, cJSON **out) JANEE_WUR;
struct prov *config_find(struct config *c, const char *name);
/*
 * config_find, or NULL with a JANEE_ERR_NOT_FOUND message naming the
 * configuration file (with_path; not for an agent), the closest provider
 * names ("did you mean 'github'?") and then hint ("list them with: janee
 * provider list").
 */
struct prov *config_lookup(
    struct config *c, const char *name, int with_path, const char *hint);
void config_free(struct config *c);

/* The provider table compiled into this binary (src/providers.c). */
extern const struct janee_provider *const janee_providers[];

#endif
