/* Policy checks: scopes and resources within bounds, TTL too. */
#include "common.h"

#include "buf.h"
#include "policy.h"
#include "suggest.h"
#include "util.h"

/*
 * Resources asked for must be on the allow-list; with an allow-list and
 * none asked for, the allow-list itself is asked for (never "all").  A
 * provider that narrows to no resources takes none.
 */
static int
check_resources(const struct prov *pv, struct janee_strlist *repos)
{
	const struct janee_strlist *allow = &pv->pol.resources;
	size_t i;
	int rc;

	if (pv->impl->resources == NULL) {
		if (repos->n == 0)
			return 0;
		return janee_err_set(JANEE_ERR_POLICY,
		    "provider '%s' narrows tokens to scopes alone; it takes no resources ('%s')",
		    pv->name, repos->v[0]);
	}
	if (repos->n == 0) {
		for (i = 0; i < allow->n; i++)
			if ((rc = janee_strlist_add(repos, allow->v[i])) != 0)
				return rc;
		return 0;
	}
	janee_strlist_normalize(repos);
	if (allow->n == 0)
		return 0;
	for (i = 0; i < repos->n; i++)
		if (!janee_strlist_has(allow, repos->v[i]))
			return janee_err_set(JANEE_ERR_POLICY,
			    "%s '%s' is not on the allow-list of provider '%s'",
			    pv->impl->resource ? pv->impl->resource
					       : "resource",
			    repos->v[i], pv->name);
	return 0;
}

int
policy_check(const struct prov *pv, struct janee_strlist *scopes,
    struct janee_strlist *repos, int64_t *ttl_s)
{
	const struct policy *p = &pv->pol;
	char max[32];
	struct buf allowed;
	size_t i;
	int rc, open;

	if (scopes->n == 0) {
		if (p->defaults.n == 0)
			return janee_err_set(JANEE_ERR_POLICY,
			    "no scope requested and provider '%s' has no default_scopes; name the scopes you need",
			    pv->name);
		for (i = 0; i < p->defaults.n; i++)
			if ((rc = janee_strlist_add(
				 scopes, p->defaults.v[i])) != 0)
				return rc;
	}
	janee_strlist_normalize(scopes);
	for (i = 0; i < scopes->n; i++) {
		if (janee_strlist_has(&p->ceiling, scopes->v[i]))
			continue;
		/* A long ceiling: the closest and where to see them all. */
		buf_init(&allowed, 1 << 16);
		open = janee_suggest_list(scopes->v[i],
		    (const char *const *)p->ceiling.v, p->ceiling.n,
		    "allowed scopes", &allowed);
		rc = janee_err_set(JANEE_ERR_POLICY,
		    "scope '%s' is not within the policy of provider '%s'; %s%s%s%s",
		    scopes->v[i], pv->name, allowed.p ? allowed.p : "",
		    open > 0 ? "; see them all with: janee provider show " : "",
		    open > 0 ? pv->name : "", open > 0 ? " --scopes)" : "");
		buf_free(&allowed);
		return rc;
	}
	if ((rc = check_resources(pv, repos)) != 0)
		return rc;
	if (*ttl_s == 0)
		*ttl_s = p->default_ttl_s;
	if (*ttl_s < 1 || *ttl_s > p->max_ttl_s) {
		janee_duration_fmt(p->max_ttl_s, max, sizeof(max));
		return janee_err_set(JANEE_ERR_POLICY,
		    "ttl %llds is outside 1s..%s, the limit of provider '%s'",
		    (long long)*ttl_s, max, pv->name);
	}
	return 0;
}

void
policy_agent_free(struct policy *p)
{
	/* The out-of-band list is the provider's own, shared: not freed. */
	janee_strlist_free(&p->ceiling);
	janee_strlist_free(&p->defaults);
	janee_strlist_free(&p->resources);
	memset(p, 0, sizeof(*p));
}

/* out = a within b, or all of a when b is empty. */
static int
intersect(const struct janee_strlist *a, const struct janee_strlist *b,
    struct janee_strlist *out)
{
	size_t i;
	int rc;

	for (i = 0; i < a->n; i++)
		if ((b->n == 0 || janee_strlist_has(b, a->v[i])) &&
		    (rc = janee_strlist_add(out, a->v[i])) != 0)
			return rc;
	return 0;
}

static int
copy(const struct janee_strlist *a, struct janee_strlist *out)
{
	static const struct janee_strlist none;

	return intersect(a, &none, out);
}

int
policy_agent_narrow(const struct config *cfg, const struct prov *pv,
    const char *agent, struct policy *out)
{
	const struct policy *p = &pv->pol;
	const struct agent_prov_pol *ap;
	int known, rc;

	memset(out, 0, sizeof(*out));
	if ((ap = config_agent_policy(cfg, agent, pv->name, &known)) == NULL)
		return janee_err_set(JANEE_ERR_POLICY,
		    known
			? "agent '%s' may not use provider '%s': its entry in config.json's \"agents\" does not name it"
			: "agent '%s' has no policy in config.json's \"agents\", so it may use no provider ('%s' asked)",
		    agent, pv->name);
	*out = *p;
	memset(&out->ceiling, 0, sizeof(out->ceiling));
	memset(&out->defaults, 0, sizeof(out->defaults));
	memset(&out->resources, 0, sizeof(out->resources));
	if ((rc = intersect(&p->ceiling, &ap->scopes, &out->ceiling)) != 0 ||
	    (rc = intersect(&p->defaults, &out->ceiling, &out->defaults)) != 0)
		goto fail;
	/* The resources the agent names, within the provider's list. */
	if (ap->resources.n > 0)
		rc = intersect(&ap->resources, &p->resources, &out->resources);
	else
		rc = copy(&p->resources, &out->resources);
	if (rc != 0)
		goto fail;
	/* Nothing in common is "nothing", never the empty list's "all". */
	if (out->ceiling.n == 0 ||
	    (ap->resources.n > 0 && out->resources.n == 0)) {
		rc = janee_err_set(JANEE_ERR_POLICY,
		    "agent '%s' may use none of provider '%s': the %s it is allowed are not the provider's",
		    agent, pv->name,
		    out->ceiling.n == 0 ? "scopes" : "resources");
		goto fail;
	}
	janee_strlist_normalize(&out->ceiling);
	if (ap->has_approval && ap->approval > out->approval)
		out->approval = ap->approval;
	if (ap->max_ttl_s > 0 && ap->max_ttl_s < out->max_ttl_s)
		out->max_ttl_s = ap->max_ttl_s;
	if (out->default_ttl_s > out->max_ttl_s)
		out->default_ttl_s = out->max_ttl_s;
	if (out->session_grant_max_s > out->max_ttl_s)
		out->session_grant_max_s = out->max_ttl_s;
	return 0;
fail:
	policy_agent_free(out);
	return rc;
}
