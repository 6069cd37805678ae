/* Policy checks: requested scopes within the ceiling, TTL within bounds. */
#ifndef JANEE_POLICY_H
#define JANEE_POLICY_H

#include "common.h"

#include "config.h"

/*
 * Check a request against p.  An empty scope list takes the policy's
 * default scopes (and is refused when there are none: never
 * "everything"); a ttl of 0 takes the default TTL.  scopes is normalized.
 * Resources (GitHub's repositories) must be on the policy's allow-list;
 * none asked for with an allow-list means the allow-list.
 * JANEE_ERR_POLICY with a message naming what is out of bounds.
 */
int policy_check(const struct prov *pv, struct janee_strlist *scopes,
    struct janee_strlist *repos, int64_t *ttl_s) JANEE_WUR;

/*
 * Team mode: the policy of pv for a verified remote agent, the narrower
 * of the provider's and the agent's ("agents": {NAME: {"providers":
 * {PROVIDER: {...}}}} in config.json) in each part:
 *   scopes      the ceilings' intersection (the agent's list empty: the
 *               provider's); the provider's defaults within it
 *   resources   the allow-lists' intersection (either empty: the other)
 *   approval    the stricter (auto < ask < out-of-band < deny)
 *   max_ttl     the shorter; default_ttl and session_grant_max within it
 * An agent the config does not name, or not for pv, or whose lists miss
 * the provider's altogether, may use nothing: JANEE_ERR_POLICY naming
 * the agent.  *out is the caller's (policy_agent_free); it shares the
 * provider's out-of-band scopes, so pv must outlive it.
 */
int policy_agent_narrow(const struct config *cfg, const struct prov *pv,
    const char *agent, struct policy *out) JANEE_WUR;
void policy_agent_free(struct policy *p);

#endif
