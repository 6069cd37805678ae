/*
 * The one place where call_api knows providers by type: the default API
 * base URL and version header, and GitHub's repository check.  Kept
 * small so that a change of the provider interface touches only this.
 */
#include "common.h"

#include <strings.h>

#include "api-rules.h"
#include "github.h"
#include "util.h"

/* Slack's Web API lives under /api of the provider's base (slack.com). */
#define SLACK_BASE_DEFAULT "https://slack.com"
#define GITHUB_API_DEFAULT "https://api.github.com"

int
api_provider_defaults(struct api_rules *r, const char *where, const char *type,
    const char *prov_base, const char *prov_ca)
{
	if (prov_ca != NULL && (r->ca_file = janee_strdup(prov_ca)) == NULL)
		return JANEE_ERR_NOMEM;
	if (strcmp(type, "github-app") == 0) {
		r->github_repos = 1;
		/* REFERENCE.md: every REST call names the API version. */
		if ((r->version_header =
			    janee_strdup("X-GitHub-Api-Version")) == NULL ||
		    janee_strlist_add(&r->default_headers,
			"Accept: application/vnd.github+json") != 0 ||
		    janee_strlist_add(&r->default_headers,
			"X-GitHub-Api-Version: 2022-11-28") != 0)
			return JANEE_ERR_NOMEM;
		if (r->base_url == NULL &&
		    (r->base_url = janee_strdup(
			 prov_base ? prov_base : GITHUB_API_DEFAULT)) == NULL)
			return JANEE_ERR_NOMEM;
	} else if (strcmp(type, "slack") == 0 && r->base_url == NULL) {
		if ((r->base_url = janee_asprintf("%s/api",
			 prov_base ? prov_base : SLACK_BASE_DEFAULT)) == NULL)
			return JANEE_ERR_NOMEM;
	}
	if (r->base_url == NULL)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "%s: key 'base_url' is required for a provider of type "
		    "'%s' (janee does not know its API)",
		    where, type);
	return 0;
}

int
api_provider_check(const struct api_rules *r, const struct janee_strlist *repos,
    const struct api_match *m, char *err, size_t errn)
{
	const char *repo = api_match_var(m, "repo");
	size_t i;

	if (!r->github_repos || repo == NULL)
		return 0;
	if (!gh_repo_name_ok(repo)) {
		snprintf(err, errn, "'%.100s' is not a GitHub repository name",
		    repo);
		return -1;
	}
	/* An empty allow-list is "all_repositories": true (github.c). */
	if (repos->n == 0)
		return 0;
	/* GitHub's repository names are case-insensitive. */
	for (i = 0; i < repos->n; i++)
		if (strcasecmp(repos->v[i], repo) == 0)
			return 0;
	snprintf(err, errn,
	    "repository '%s' is not in the provider's repository allow-list",
	    repo);
	return -1;
}
