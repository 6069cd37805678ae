/*
 * call_api's defaults from the provider's own declarations (struct
 * janee_info): the API base URL, the header that carries the token, the
 * API version and default headers, and the rule variable that names a
 * resource.  The core knows no provider by type (tests/t0002).
 */
#include "common.h"

#include <strings.h>

#include "api-rules.h"
#include "util.h"

static int
dup_opt(const char *s, char **out)
{
	if (s == NULL || *out != NULL)
		return 0;
	return (*out = janee_strdup(s)) == NULL ? JANEE_ERR_NOMEM : 0;
}

int
api_provider_defaults(struct api_rules *r, const char *where, const char *type,
    const struct janee_info *info, const char *prov_ca)
{
	const char *const *h;
	int rc;

	if (info->auth_header == NULL)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "%s: a provider of type '%s' has no HTTP API that call_api "
		    "can call; remove 'api'",
		    where, type);
	if ((rc = dup_opt(prov_ca, &r->ca_file)) != 0 ||
	    (rc = dup_opt(info->api_base, &r->base_url)) != 0 ||
	    (rc = dup_opt(info->auth_header, &r->auth_header)) != 0 ||
	    (rc = dup_opt(info->auth_scheme ? info->auth_scheme : "",
		 &r->auth_scheme)) != 0 ||
	    (rc = dup_opt(info->api_version_header, &r->version_header)) != 0 ||
	    (rc = dup_opt(info->api_resource_var, &r->resource_var)) != 0)
		return janee_err_set(rc, "out of memory");
	for (h = info->api_headers; h != NULL && *h != NULL; h++)
		if (janee_strlist_add(&r->default_headers, *h) != 0)
			return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if (r->base_url == NULL)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "%s: key 'base_url' is required for a provider of type "
		    "'%s' (janee does not know its API)",
		    where, type);
	return 0;
}

int
api_provider_check(const struct api_rules *r, const char *word,
    const struct janee_strlist *allow, const struct api_match *m, char *err,
    size_t errn)
{
	const char *v;
	size_t i;

	if (r->resource_var == NULL ||
	    (v = api_match_var(m, r->resource_var)) == NULL)
		return 0;
	/* An empty allow-list is all the provider's resources. */
	if (allow->n == 0)
		return 0;
	/* Compared without case: the names are (GitHub's repositories). */
	for (i = 0; i < allow->n; i++)
		if (strcasecmp(allow->v[i], v) == 0)
			return 0;
	snprintf(err, errn,
	    "%s '%.100s' is not in the provider's %s allow-list",
	    word ? word : "resource", v, word ? word : "resource");
	return -1;
}
