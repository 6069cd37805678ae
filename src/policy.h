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

#endif
