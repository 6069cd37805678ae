/*
 * GitHub App provider ("type": "github-app").
 *
 * Two ways to mint, one per provider entry ("mint"):
 *
 *   installation (default)  an installation access token per lease
 *       (POST /app/installations/{id}/access_tokens), authenticated by
 *       an app JWT signed with the app's private key (RS256, libjwt) and
 *       narrowed to the lease's permissions and repositories; revoked at
 *       lease end (DELETE /installation/token).  The JWT is reused within
 *       a process until a minute before it expires; the key is read from
 *       the store only to sign and wiped at once.
 *
 *   user  a user-to-server token from `janee login NAME` (the device
 *       flow).  GitHub cannot narrow these tokens, and a refresh is single
 *       use: it kills the refresh token and the access token issued with
 *       it (REFERENCE.md, GitHub docs "Refreshing user access tokens").
 *       So each lease's token is fresh from a refresh, and the lease ends
 *       by refreshing again, which kills it while the login lives on.
 *       Only the newest token of a login is alive, so one user lease at a
 *       time: a second one is refused until the first ends.  `janee
 *       logout` revokes the app's authorization for the user
 *       (DELETE /applications/{client_id}/grant), which kills every token
 *       of the login, refresh tokens included.
 *
 * Scopes are "permission:level" (github.h).  Messages name the
 * provider and what to do; they never hold a token, JWT or key.
 */
#include "common.h"

#include <cjson/cJSON.h>

#include "buf.h"
#include "github.h"
#include "janee/http.h"
#include "json.h"
#include "jwt.h"
#include "oauth.h"
#include "util.h"

#define API_DEFAULT "https://api.github.com"
#define WEB_DEFAULT "https://github.com"
#define MAX_REPOS 500
#define JWT_BACKDATE_S 60 /* iat: GitHub allows for clock drift */
#define JWT_AHEAD_S 540 /* exp: 9 minutes; GitHub's limit is 10 */
#define JWT_MARGIN_S 60 /* sign a new one this long before exp */
#define MISSING_MS (5 * 60 * 1000) /* "not installed" is kept this long */
#define INSTALL_MAX_TTL_S 3600 /* GitHub's own life of the token */
#define USER_MAX_TTL_S 28800

enum mint_mode {
	MINT_INSTALLATION,
	MINT_USER,
};

/* ------------------------------------------- permissions as scopes */

#define R (1u << GH_READ)
#define W (1u << GH_WRITE)
#define A (1u << GH_ADMIN)

/*
 * GitHub's "App Permissions" (REST API description, checked 2026-11):
 * each name with the levels an installation token may ask for.
 */
static const struct {
	const char *name;
	unsigned levels;
} catalogue[] = {
	{ "actions", R | W },
	{ "administration", R | W },
	{ "checks", R | W },
	{ "codespaces", R | W },
	{ "contents", R | W },
	{ "dependabot_secrets", R | W },
	{ "deployments", R | W },
	{ "environments", R | W },
	{ "issues", R | W },
	{ "metadata", R | W },
	{ "packages", R | W },
	{ "pages", R | W },
	{ "pull_requests", R | W },
	{ "repository_custom_properties", R | W },
	{ "repository_hooks", R | W },
	{ "repository_projects", R | W | A },
	{ "secret_scanning_alerts", R | W },
	{ "secrets", R | W },
	{ "security_events", R | W },
	{ "single_file", R | W },
	{ "statuses", R | W },
	{ "vulnerability_alerts", R | W },
	{ "workflows", W },
	{ "members", R | W },
	{ "organization_administration", R | W },
	{ "organization_custom_roles", R | W },
	{ "organization_custom_org_roles", R | W },
	{ "organization_custom_properties", R | W | A },
	{ "organization_copilot_seat_management", W },
	{ "organization_announcement_banners", R | W },
	{ "organization_events", R },
	{ "organization_hooks", R | W },
	{ "organization_personal_access_tokens", R | W },
	{ "organization_personal_access_token_requests", R | W },
	{ "organization_plan", R },
	{ "organization_projects", R | W | A },
	{ "organization_packages", R | W },
	{ "organization_secrets", R | W },
	{ "organization_self_hosted_runners", R | W },
	{ "organization_user_blocking", R | W },
	{ "team_discussions", R | W },
	{ "email_addresses", R | W },
	{ "followers", R | W },
	{ "git_ssh_keys", R | W },
	{ "gpg_keys", R | W },
	{ "interaction_limits", R | W },
	{ "profile", W },
	{ "starring", R | W },
};

_Static_assert(nitems(catalogue) <= GH_PERM_MAX, "raise GH_PERM_MAX");

static const char *const level_names[] = {
	[GH_NONE] = "none",
	[GH_READ] = "read",
	[GH_WRITE] = "write",
	[GH_ADMIN] = "admin",
};

size_t
gh_perm_count(void)
{
	return nitems(catalogue);
}

int
gh_perm_find(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(catalogue); i++)
		if (strcmp(catalogue[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *
gh_perm_name(int perm)
{
	return catalogue[perm].name;
}

int
gh_perm_has_level(int perm, enum gh_level level)
{
	return level != GH_NONE && (catalogue[perm].levels & (1u << level));
}

enum gh_level
gh_level_parse(const char *s)
{
	int l;

	for (l = GH_READ; l <= GH_ADMIN; l++)
		if (strcmp(s, level_names[l]) == 0)
			return (enum gh_level)l;
	return GH_NONE;
}

const char *
gh_level_name(enum gh_level level)
{
	return level_names[level];
}

/* "read, write" for one permission. */
static void
perm_levels_text(int perm, char *out, size_t outsz)
{
	size_t n = 0;
	int l;

	out[0] = '\0';
	for (l = GH_READ; l <= GH_ADMIN; l++)
		if (gh_perm_has_level(perm, (enum gh_level)l) && n < outsz)
			n += (size_t)snprintf(out + n, outsz - n, "%s%s",
			    n ? ", " : "", level_names[l]);
}

int
gh_scope_parse(
    const char *who, const char *scope, int *perm, enum gh_level *level)
{
	const char *colon = strrchr(scope, ':');
	char name[64], valid[32];
	struct buf all;
	size_t i, n;
	int p, rc;

	n = colon ? (size_t)(colon - scope) : strlen(scope);
	if (n == 0 || n >= sizeof(name))
		n = 0;
	else
		memcpy(name, scope, n);
	name[n] = '\0';
	if (n > 0 && (p = gh_perm_find(name)) >= 0) {
		if (colon == NULL ||
		    !gh_perm_has_level(p, gh_level_parse(colon + 1))) {
			perm_levels_text(p, valid, sizeof(valid));
			return janee_err_set(JANEE_ERR_INVALID,
			    "%s: scope '%s' needs a level GitHub has for '%s': %s (as in \"%s:%s\")",
			    who, scope, name, valid, name,
			    gh_perm_has_level(p, GH_READ) ? "read" : "write");
		}
		*perm = p;
		*level = gh_level_parse(colon + 1);
		return 0;
	}
	/* Name the valid ones: "pull-requests" is a common slip. */
	buf_init(&all, 8192);
	for (i = 0; i < nitems(catalogue); i++)
		if (buf_printf(
			&all, "%s%s", i ? ", " : "", catalogue[i].name) != 0)
			break;
	rc = janee_err_set(JANEE_ERR_INVALID,
	    "%s: '%s' is not a GitHub App permission; a scope is PERMISSION:LEVEL with a name that uses underscores, one of: %s",
	    who, scope, all.p ? all.p : "");
	buf_free(&all);
	return rc;
}

int
gh_levels_from_scopes(
    const char *who, const struct janee_strlist *scopes, enum gh_level *lv)
{
	enum gh_level l;
	size_t i;
	int p, rc;

	for (i = 0; i < nitems(catalogue); i++)
		lv[i] = GH_NONE;
	for (i = 0; i < scopes->n; i++) {
		if ((rc = gh_scope_parse(who, scopes->v[i], &p, &l)) != 0)
			return rc;
		if (l > lv[p])
			lv[p] = l;
	}
	return 0;
}

int
gh_levels_to_scopes(const enum gh_level *lv, struct janee_strlist *out)
{
	char s[96];
	size_t i;
	int l, rc;

	for (i = 0; i < nitems(catalogue); i++)
		for (l = GH_READ; l <= (int)lv[i]; l++) {
			if (!gh_perm_has_level((int)i, (enum gh_level)l))
				continue;
			snprintf(s, sizeof(s), "%s:%s", catalogue[i].name,
			    level_names[l]);
			if (!janee_strlist_has(out, s) &&
			    (rc = janee_strlist_add(out, s)) != 0)
				return rc;
		}
	return 0;
}

int
gh_repo_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 100 || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
			(name[i] >= 'A' && name[i] <= 'Z') ||
			(name[i] >= '0' && name[i] <= '9') || name[i] == '.' ||
			name[i] == '-' || name[i] == '_'))
			return 0;
	return 1;
}

int
gh_owner_ok(const char *owner)
{
	size_t i, n = strlen(owner);

	if (n == 0 || n > 39 || owner[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((owner[i] >= 'a' && owner[i] <= 'z') ||
			(owner[i] >= 'A' && owner[i] <= 'Z') ||
			(owner[i] >= '0' && owner[i] <= '9') ||
			owner[i] == '-'))
			return 0;
	return 1;
}

int
gh_repo_id_parse(const char *s, int64_t *id)
{
	if (strncmp(s, "id:", 3) != 0)
		return 0;
	return janee_parse_int(s + 3, 1, INT64_MAX / 2, id) == 0;
}

#undef R
#undef W
#undef A

/* ------------------------------------------------------ configuration */

struct gh {
	enum mint_mode mode;
	int64_t app_id; /* 0: not set */
	char *client_id;
	int iss_app_id; /* the JWT's "iss" is the app ID */
	char *key_ref;
	char *secret_ref;
	int64_t installation_id; /* 0: looked up */
	char *owner;
	char *repo; /* with owner: the "repository" key */
	char *api; /* base URL, no trailing slash */
	char *web; /* the device-login host, no trailing slash */
	char *ca_file;
	int all_repositories;
	enum gh_level full[GH_PERM_MAX]; /* the ceiling, per permission */

	/* Kept for the life of the process. */
	struct janee_secret *jwt;
	int64_t jwt_exp_s;
	int64_t found_id; /* looked-up installation */
	int64_t missing_until_ms;
	char missing[512];
};

static const char *const api_headers[] = {
	"Accept: application/vnd.github+json",
	"X-GitHub-Api-Version: 2022-11-28",
	NULL,
};

static void
gh_free(void *state)
{
	struct gh *g = state;

	free(g->client_id);
	free(g->key_ref);
	free(g->secret_ref);
	free(g->owner);
	free(g->repo);
	free(g->api);
	free(g->web);
	free(g->ca_file);
	janee_secret_free(g->jwt);
	free(g);
}

/* A base URL janee may use, without its trailing slashes. */
static int
base_url(struct janee_ctx *ctx, const char *key, const char *v,
    const char *dflt, char **out)
{
	char what[128];
	size_t n;
	int rc;

	if (v == NULL)
		v = dflt;
	snprintf(what, sizeof(what), "provider '%s': key '%s'", ctx->name, key);
	if ((rc = janee_http_url_ok(v, what)) != 0)
		return janee_err_wrap(
		    JANEE_ERR_CONFIG, "%s", janee_err_msg(rc));
	if ((rc = janee_strdup_opt(v, out)) != 0)
		return rc;
	for (n = strlen(*out); n > 0 && (*out)[n - 1] == '/'; n--)
		(*out)[n - 1] = '\0';
	return 0;
}

static int
cfg_fail(int rc)
{
	return rc == JANEE_ERR_CONFIG || rc == JANEE_ERR_NOMEM
	    ? rc
	    : janee_err_wrap(JANEE_ERR_CONFIG, "%s", janee_err_msg(rc));
}

/*
 * The ceiling: the policy's "scopes" and "permissions" (a list of
 * "name:level" or, as GitHub writes it, a map of name to level), each a
 * permission of GitHub's catalogue, with the lower levels they imply.
 */
static int
ceiling(struct janee_ctx *ctx, struct gh *g, const struct janee_strlist *perms)
{
	struct janee_strlist all;
	char who[160];
	size_t i;
	int rc = 0;

	memset(&all, 0, sizeof(all));
	snprintf(
	    who, sizeof(who), "provider '%s': key 'permissions'", ctx->name);
	for (i = 0; i < perms->n && rc == 0; i++) {
		int p;
		enum gh_level l;

		if ((rc = gh_scope_parse(who, perms->v[i], &p, &l)) == 0)
			rc = janee_strlist_add(&all, perms->v[i]);
	}
	snprintf(who, sizeof(who), "provider '%s': key 'scopes'", ctx->name);
	for (i = 0; i < ctx->ceiling->n && rc == 0; i++)
		rc = janee_strlist_add(&all, ctx->ceiling->v[i]);
	if (rc == 0 && (rc = gh_levels_from_scopes(who, &all, g->full)) == 0)
		rc = gh_levels_to_scopes(g->full, ctx->ceiling);
	janee_strlist_free(&all);
	return rc;
}

/* The repository allow-list: bare names or "id:N", at most 500. */
static int
allow_list(struct janee_ctx *ctx, struct gh *g)
{
	const struct janee_strlist *r = ctx->resources;
	int64_t id;
	size_t i;

	if (g->mode == MINT_USER) {
		if (r->n > 0)
			return janee_err_set(JANEE_ERR_CONFIG,
			    "provider '%s': key 'repositories' cannot apply to \"mint\": \"user\": GitHub cannot narrow a user token to repositories",
			    ctx->name);
		return 0;
	}
	if (r->n == 0 && !g->all_repositories)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': the repository allow-list is empty; list the repositories tokens may cover in 'repositories' (bare names), or set \"all_repositories\": true to allow tokens for every "
		    "repository of the installation",
		    ctx->name);
	if (r->n > MAX_REPOS)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': key 'repositories' lists %zu repositories; GitHub takes at most %d in one token",
		    ctx->name, r->n, MAX_REPOS);
	for (i = 0; i < r->n; i++) {
		if (gh_repo_name_ok(r->v[i]) || gh_repo_id_parse(r->v[i], &id))
			continue;
		if (strchr(r->v[i], '/') != NULL)
			return janee_err_set(JANEE_ERR_CONFIG,
			    "provider '%s': repository '%s' in 'repositories' must be a bare name, as GitHub wants it ('%s'); the owner is the installation's",
			    ctx->name, r->v[i], strrchr(r->v[i], '/') + 1);
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': '%s' in 'repositories' is not a repository name (A-Z, a-z, 0-9, '.', '-', '_') nor \"id:NUMBER\"",
		    ctx->name, r->v[i]);
	}
	return 0;
}

/* The token's variable for janee exec: what GitHub's MCP server reads. */
static const struct janee_part_info gh_parts[] = {
	{ "token", "GITHUB_PERSONAL_ACCESS_TOKEN", JANEE_PART_SECRET },
	{ NULL, NULL, 0 },
};

static int
gh_configure(struct janee_ctx *ctx, struct janee_cfg *cfg, void **state,
    struct janee_info *info)
{
	const char *mint = NULL, *cid = NULL, *iss = NULL, *key = NULL,
		   *secret = NULL, *owner = NULL, *repo = NULL, *api = NULL,
		   *web = NULL, *ca = NULL;
	struct janee_strlist perms;
	int64_t max_ttl = 0, limit;
	const char *slash = NULL;
	struct gh *g;
	int rc, nsel;

	memset(&perms, 0, sizeof(perms));
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	*state = g;
	if ((rc = janee_cfg_string(cfg, "mint", 0, &mint)) != 0 ||
	    (rc = janee_cfg_int(cfg, "app_id", &g->app_id)) != 0 ||
	    (rc = janee_cfg_string(cfg, "client_id", 0, &cid)) != 0 ||
	    (rc = janee_cfg_string(cfg, "jwt_issuer", 0, &iss)) != 0 ||
	    (rc = janee_cfg_ref(cfg, "private_key", 0, &key)) != 0 ||
	    (rc = janee_cfg_ref(cfg, "client_secret", 0, &secret)) != 0 ||
	    (rc = janee_cfg_int(cfg, "installation_id", &g->installation_id)) !=
		0 ||
	    (rc = janee_cfg_string(cfg, "owner", 0, &owner)) != 0 ||
	    (rc = janee_cfg_string(cfg, "repository", 0, &repo)) != 0 ||
	    (rc = janee_cfg_string(cfg, "base_url", 0, &api)) != 0 ||
	    (rc = janee_cfg_string(cfg, "oauth_base_url", 0, &web)) != 0 ||
	    (rc = janee_cfg_string(cfg, "ca_file", 0, &ca)) != 0 ||
	    (rc = janee_cfg_scopes(cfg, "permissions", &perms)) != 0 ||
	    (rc = janee_cfg_bool(
		 cfg, "all_repositories", &g->all_repositories)) != 0 ||
	    /* A policy key, read again to hold it to GitHub's limits. */
	    (rc = janee_cfg_duration(cfg, "max_ttl", &max_ttl)) != 0)
		goto out;
	rc = JANEE_ERR_CONFIG;
	if (mint == NULL || strcmp(mint, "installation") == 0)
		g->mode = MINT_INSTALLATION;
	else if (strcmp(mint, "user") == 0)
		g->mode = MINT_USER;
	else {
		janee_err_set(rc,
		    "provider '%s': 'mint' must be installation or user, not '%s'",
		    ctx->name, mint);
		goto out;
	}
	if (g->app_id < 0 || g->installation_id < 0) {
		janee_err_set(rc,
		    "provider '%s': 'app_id' and 'installation_id' are positive integers",
		    ctx->name);
		goto out;
	}
	/* The client ID goes into URL paths: GitHub's are plain. */
	if (cid != NULL &&
	    strspn(cid,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
		strlen(cid)) {
		janee_err_set(rc,
		    "provider '%s': 'client_id' '%s' is not a GitHub client ID",
		    ctx->name, cid);
		goto out;
	}
	nsel = (g->installation_id > 0) + (owner != NULL) + (repo != NULL);
	if (g->mode == MINT_INSTALLATION) {
		if (key == NULL) {
			janee_err_set(rc,
			    "provider '%s': installation tokens need 'private_key', a reference to the app's key (\"secret:NAME\", stored with: janee secret set NAME --from-file KEY.pem); for tokens that "
			    "act as you, set \"mint\": \"user\"",
			    ctx->name);
			goto out;
		}
		if (g->app_id == 0 && cid == NULL) {
			janee_err_set(rc,
			    "provider '%s': set 'client_id' (preferred) or 'app_id': the app JWT names its issuer",
			    ctx->name);
			goto out;
		}
		if (nsel != 1) {
			janee_err_set(rc,
			    "provider '%s': set exactly one of 'installation_id', 'owner' (a user or organization) or 'repository' (\"owner/repo\") to find the installation",
			    ctx->name);
			goto out;
		}
	} else {
		if (cid == NULL) {
			janee_err_set(rc,
			    "provider '%s': \"mint\": \"user\" needs the app's 'client_id' for the device login",
			    ctx->name);
			goto out;
		}
		if (nsel != 0 || g->all_repositories) {
			janee_err_set(rc,
			    "provider '%s': 'installation_id', 'owner', 'repository' and 'all_repositories' are for installation tokens, not \"mint\": \"user\"",
			    ctx->name);
			goto out;
		}
	}
	if (iss != NULL && strcmp(iss, "app_id") == 0 && g->app_id > 0)
		g->iss_app_id = 1;
	else if (iss != NULL && strcmp(iss, "client_id") == 0 && cid != NULL)
		g->iss_app_id = 0;
	else if (iss != NULL) {
		janee_err_set(rc,
		    "provider '%s': 'jwt_issuer' must be client_id or app_id, and that key must be set",
		    ctx->name);
		goto out;
	} else
		g->iss_app_id = cid == NULL;
	if (owner != NULL && !gh_owner_ok(owner)) {
		janee_err_set(rc,
		    "provider '%s': 'owner' '%s' is not a GitHub user or organization name",
		    ctx->name, owner);
		goto out;
	}
	if (repo != NULL && (slash = strchr(repo, '/')) == NULL) {
		janee_err_set(rc,
		    "provider '%s': 'repository' must be \"owner/repo\", not '%s'",
		    ctx->name, repo);
		goto out;
	}
	if (repo != NULL) {
		if ((g->owner = janee_strdup(repo)) == NULL ||
		    (g->repo = janee_strdup(slash + 1)) == NULL) {
			rc = JANEE_ERR_NOMEM;
			goto out;
		}
		g->owner[slash - repo] = '\0';
		if (!gh_owner_ok(g->owner) || !gh_repo_name_ok(g->repo)) {
			janee_err_set(rc,
			    "provider '%s': 'repository' must be \"owner/repo\" with GitHub names, not '%s'",
			    ctx->name, repo);
			goto out;
		}
	} else if ((rc = janee_strdup_opt(owner, &g->owner)) != 0)
		goto out;
	limit = g->mode == MINT_USER ? USER_MAX_TTL_S : INSTALL_MAX_TTL_S;
	if (max_ttl > limit) {
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'max_ttl' may be at most %s: GitHub's own life of %s tokens",
		    ctx->name, g->mode == MINT_USER ? "8h" : "1h",
		    g->mode == MINT_USER ? "user" : "installation");
		goto out;
	}
	if ((rc = base_url(ctx, "base_url", api, API_DEFAULT, &g->api)) != 0 ||
	    (rc = base_url(ctx, "oauth_base_url", web, WEB_DEFAULT, &g->web)) !=
		0 ||
	    (rc = janee_strdup_opt(cid, &g->client_id)) != 0 ||
	    (rc = janee_strdup_opt(key, &g->key_ref)) != 0 ||
	    (rc = janee_strdup_opt(secret, &g->secret_ref)) != 0 ||
	    (rc = janee_strdup_opt(ca, &g->ca_file)) != 0)
		goto out;
	if ((rc = ceiling(ctx, g, &perms)) != 0 ||
	    (rc = allow_list(ctx, g)) != 0)
		goto out;
	/* Installation tokens need the app's key alone; user tokens a login. */
	info->needs_login = g->mode == MINT_USER;
	info->revocable = 1;
	/*
	 * After a crash mid-mint, reconcile() finds a user token by its
	 * login; an installation token it cannot find, but it says why and
	 * how long one lives (one hour), which the orphaned lease shows.
	 */
	info->reconcilable = 1;
	info->parts = gh_parts;
	info->api_base = g->api;
	info->auth_header = "Authorization";
	info->auth_scheme = "Bearer";
	/* REFERENCE.md: every REST call names the API version. */
	info->api_headers = api_headers;
	info->api_version_header = "X-GitHub-Api-Version";
	info->api_resource_var = "repo";
	/* GitHub Actions' name, which scripts and Octokit users read. */
	info->api_base_env = "GITHUB_API_URL";
out:
	janee_strlist_free(&perms);
	return rc == 0 ? 0 : cfg_fail(rc);
}

/* ------------------------------------------------------------ the API */

/*
 * Server text for a message: bounded, one line.  Unlike janee_clean_text,
 * each run of unsafe characters (text.h) becomes one space: GitHub's
 * messages span lines, and their words must stay apart.
 */
static void
one_line_text(const char *in, char *out, size_t outsz)
{
	char esc[JANEE_TEXT_ESC];
	size_t j = 0, len;

	for (; in != NULL && *in != '\0'; in += len) {
		if (janee_text_char(in, &len, esc)) {
			if (j > 0 && out[j - 1] != ' ' && j + 2 <= outsz)
				out[j++] = ' ';
		} else if (j + len + 1 <= outsz) {
			memcpy(out + j, in, len);
			j += len;
		} else
			break;
	}
	while (j > 0 && out[j - 1] == ' ')
		j--;
	out[j] = '\0';
}

/* What GitHub said about a failed call. */
struct gh_err {
	long status;
	char msg[256];
	int64_t retry_after; /* -1: not said */
	int rate; /* a rate limit */
};

static void
err_read(const struct janee_http_resp *r, struct gh_err *e)
{
	cJSON *j = cJSON_ParseWithLength(r->body, r->len);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");

	e->status = r->status;
	e->retry_after = r->retry_after_s;
	if (cJSON_IsString(m))
		one_line_text(m->valuestring, e->msg, sizeof(e->msg));
	else
		snprintf(e->msg, sizeof(e->msg), "%s",
		    j == NULL ? "no JSON error body" : "no message");
	cJSON_Delete(j);
	e->rate = r->status == 429 ||
	    (r->status == 403 &&
		(r->retry_after_s >= 0 || strstr(e->msg, "rate limit")));
}

/* A failed call as a message a person can act on. */
static int
api_fail(struct janee_ctx *ctx, const char *what, const struct gh_err *e)
{
	struct gh *g = ctx->state;
	char wait[64];

	if (e->rate) {
		if (e->retry_after >= 0)
			snprintf(wait, sizeof(wait), "try again in %lld s",
			    (long long)e->retry_after);
		else
			snprintf(wait, sizeof(wait), "try again later");
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': GitHub's rate limit stopped %s (HTTP %ld: %s); %s, as GitHub asks",
		    ctx->name, what, e->status, e->msg, wait);
	}
	switch (e->status) {
	case 401:
		if (strstr(e->msg, "'exp'") || strstr(e->msg, "'iat'"))
			return janee_err_set(JANEE_ERR_PROVIDER,
			    "provider '%s': GitHub refused the app JWT for %s (HTTP 401: %s); this machine's clock is probably off by more than a minute: set it right (e.g. enable NTP)",
			    ctx->name, what, e->msg);
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': GitHub refused the app JWT for %s (HTTP 401: %s); check that 'private_key' is a current private key of the app and that '%s' is the app's",
		    ctx->name, what, e->msg,
		    g->iss_app_id ? "app_id" : "client_id");
	case 403:
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': GitHub forbids %s (HTTP 403: %s); the installation may be suspended, or a policy of its owner may block the app: see the installation's settings",
		    ctx->name, what, e->msg);
	case 404:
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': GitHub found nothing for %s (HTTP 404: %s); check 'base_url' and the installation",
		    ctx->name, what, e->msg);
	case 422:
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': GitHub refused %s (HTTP 422: %s)",
		    ctx->name, what, e->msg);
	}
	return janee_err_set(JANEE_ERR_PROVIDER,
	    "provider '%s': GitHub answered HTTP %ld to %s: %s", ctx->name,
	    e->status, what, e->msg);
}

/* One REST call with GitHub's headers; 0 when any answer came. */
static int
api_call(struct janee_ctx *ctx, const char *method, const char *url,
    const char *what, const char *json, const struct janee_secret *bearer,
    const struct janee_secret *basic_pass, struct janee_http_resp *resp)
{
	struct gh *g = ctx->state;
	struct janee_http_req req;
	char label[192];

	memset(&req, 0, sizeof(req));
	snprintf(
	    label, sizeof(label), "provider '%s': GitHub %s", ctx->name, what);
	req.method = method;
	req.url = url;
	req.what = label;
	req.ca_file = g->ca_file;
	req.headers = api_headers;
	if (json != NULL) {
		req.content_type = "application/json";
		req.body = json;
		req.body_len = strlen(json);
	}
	req.bearer = bearer;
	if (basic_pass != NULL) {
		req.basic_user = g->client_id;
		req.basic_pass = basic_pass;
	}
	return janee_http_do(ctx->http, &req, resp);
}

/* A JSON answer's object, or NULL with a message. */
static cJSON *
answer_json(
    struct janee_ctx *ctx, const char *what, const struct janee_http_resp *r)
{
	cJSON *j = cJSON_ParseWithLength(r->body, r->len);

	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': GitHub answered %s with HTTP %ld but no JSON object",
		    ctx->name, what, r->status);
		return NULL;
	}
	return j;
}

static int64_t
jid(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (cJSON_IsNumber(v) && v->valuedouble >= 1 &&
	    v->valuedouble < 9007199254740992.0 &&
	    v->valuedouble == (double)(int64_t)v->valuedouble)
		return (int64_t)v->valuedouble;
	return 0;
}

/* Print j and wipe cJSON's copy later: the caller frees with json_done. */
static char *
json_text(cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);

	if (s == NULL)
		janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	return s;
}

static void
json_done(char *s)
{
	if (s != NULL) {
		janee_wipe(s, strlen(s));
		cJSON_free(s);
	}
}

/* ------------------------------------------------------------ app JWT */

/*
 * The app JWT (RS256): iat a minute back for clock drift, exp 9 minutes
 * ahead, iss the client ID (or the app ID).  Reused until a minute
 * before it expires; the private key is in memory only while signing.
 */
static int
app_jwt(struct janee_ctx *ctx, const struct janee_secret **out)
{
	struct gh *g = ctx->state;
	struct janee_secret *pem = NULL;
	int64_t now = ctx->now_ms() / 1000;
	struct janee_jwt_claim claims[] = {
		{ "iat", NULL, now - JWT_BACKDATE_S },
		{ "exp", NULL, now + JWT_AHEAD_S },
		{ "iss", g->iss_app_id ? NULL : g->client_id, g->app_id },
		{ NULL, NULL, 0 },
	};
	char what[256];
	int rc;

	*out = NULL;
	if (g->jwt != NULL && now + JWT_MARGIN_S < g->jwt_exp_s) {
		*out = g->jwt;
		return 0;
	}
	janee_secret_free(g->jwt);
	g->jwt = NULL;
	if ((rc = ctx->secret_get(ctx, g->key_ref, &pem)) != 0)
		return rc;
	snprintf(what, sizeof(what),
	    "provider '%s': the app's private key '%s'", ctx->name, g->key_ref);
	if ((rc = janee_jwt_sign(
		 JANEE_JWT_RS256, pem, what, NULL, claims, &g->jwt)) == 0) {
		g->jwt_exp_s = now + JWT_AHEAD_S;
		*out = g->jwt;
	}
	janee_secret_free(pem);
	return rc;
}

/* ------------------------------------------------------ installations */

int
gh_lookup_answer(struct janee_ctx *ctx, const char *what,
    const struct janee_http_resp *r, int64_t *id)
{
	struct gh_err e;
	cJSON *j;
	int rc = 0;

	*id = 0;
	if (r->status == 200) {
		if ((j = answer_json(ctx, what, r)) == NULL)
			rc = JANEE_ERR_PROVIDER;
		else if ((*id = jid(j, "id")) == 0)
			rc = janee_err_set(JANEE_ERR_PROVIDER,
			    "provider '%s': GitHub's answer to %s has no installation id",
			    ctx->name, what);
		cJSON_Delete(j);
	} else if (r->status != 404) {
		err_read(r, &e);
		rc = api_fail(ctx, what, &e);
	}
	return rc;
}

/* GET one installation look-up URL: 0 and *id, or *status 404. */
static int
lookup_one(struct janee_ctx *ctx, const struct janee_secret *jwt,
    const char *url, const char *what, int64_t *id, long *status)
{
	struct janee_http_resp resp;
	int rc;

	*id = 0;
	*status = 0;
	if ((rc = api_call(ctx, "GET", url, what, NULL, jwt, NULL, &resp)) != 0)
		return rc;
	*status = resp.status;
	rc = gh_lookup_answer(ctx, what, &resp, id);
	janee_http_resp_free(&resp);
	return rc;
}

/*
 * The installation to mint from: configured, or looked up by repository
 * or owner (organization, then user).  A found ID is kept for the life of
 * the process; "not installed" for five minutes only.
 */
static int
installation(struct janee_ctx *ctx, const struct janee_secret *jwt, int64_t *id,
    int *cached)
{
	struct gh *g = ctx->state;
	char *url = NULL, what[160];
	int64_t now = ctx->now_ms();
	long status = 0;
	int rc;

	*cached = 0;
	if (g->installation_id > 0) {
		*id = g->installation_id;
		return 0;
	}
	if (g->found_id > 0) {
		*id = g->found_id;
		*cached = 1;
		return 0;
	}
	if (g->missing_until_ms > now)
		return janee_err_set(JANEE_ERR_PROVIDER, "%s", g->missing);
	if (g->repo != NULL) {
		snprintf(what, sizeof(what),
		    "installation look-up (GET /repos/%s/%s/installation)",
		    g->owner, g->repo);
		if ((url = janee_asprintf("%s/repos/%s/%s/installation", g->api,
			 g->owner, g->repo)) == NULL)
			return JANEE_ERR_NOMEM;
		rc = lookup_one(ctx, jwt, url, what, id, &status);
	} else {
		snprintf(what, sizeof(what),
		    "installation look-up (GET /orgs/%s/installation)",
		    g->owner);
		if ((url = janee_asprintf(
			 "%s/orgs/%s/installation", g->api, g->owner)) == NULL)
			return JANEE_ERR_NOMEM;
		rc = lookup_one(ctx, jwt, url, what, id, &status);
		if (rc == 0 && status == 404) {
			free(url);
			snprintf(what, sizeof(what),
			    "installation look-up (GET /users/%s/installation)",
			    g->owner);
			if ((url = janee_asprintf("%s/users/%s/installation",
				 g->api, g->owner)) == NULL)
				return JANEE_ERR_NOMEM;
			rc = lookup_one(ctx, jwt, url, what, id, &status);
		}
	}
	free(url);
	if (rc != 0)
		return rc;
	if (status == 404) {
		snprintf(g->missing, sizeof(g->missing),
		    "provider '%s': the GitHub App is not installed on '%s%s%s' (HTTP 404 from %s); install it (the app's public page, Install) on that %s, or set 'installation_id'",
		    ctx->name, g->owner, g->repo ? "/" : "",
		    g->repo ? g->repo : "", what,
		    g->repo ? "repository" : "account");
		g->missing_until_ms = now + MISSING_MS;
		return janee_err_set(JANEE_ERR_PROVIDER, "%s", g->missing);
	}
	g->found_id = *id;
	return 0;
}

/* ------------------------------------------------- installation tokens */

/* What a lease asks for, as GitHub's body wants it. */
struct narrow {
	enum gh_level lv[GH_PERM_MAX];
	struct janee_strlist names;
	int64_t ids[MAX_REPOS];
	size_t nids;
};

static void
narrow_free(struct narrow *n)
{
	janee_strlist_free(&n->names);
}

static int
narrow_read(
    struct janee_ctx *ctx, const struct janee_mint_req *req, struct narrow *n)
{
	struct gh *g = ctx->state;
	const char *r;
	char who[160];
	size_t i;
	int rc;

	memset(n, 0, sizeof(*n));
	snprintf(who, sizeof(who), "provider '%s': request", ctx->name);
	if ((rc = gh_levels_from_scopes(who, req->scopes, n->lv)) != 0)
		return janee_err_wrap(
		    JANEE_ERR_POLICY, "%s", janee_err_msg(rc));
	/* An empty "permissions" could read as "all of them": never. */
	for (i = 0; i < gh_perm_count() && n->lv[i] == GH_NONE; i++)
		;
	if (i == gh_perm_count())
		return janee_err_set(JANEE_ERR_POLICY,
		    "provider '%s': no permission asked for; name one (janee token %s --scope issues:read)",
		    ctx->name, ctx->name);
	if (req->resources->n > MAX_REPOS)
		return janee_err_set(JANEE_ERR_POLICY,
		    "provider '%s': %zu repositories asked for; GitHub takes at most %d in one token",
		    ctx->name, req->resources->n, MAX_REPOS);
	for (i = 0; i < req->resources->n; i++) {
		r = req->resources->v[i];
		if (gh_repo_id_parse(r, &n->ids[n->nids])) {
			n->nids++;
			continue;
		}
		if (!gh_repo_name_ok(r))
			return janee_err_set(JANEE_ERR_POLICY,
			    "provider '%s': repository '%s' is not a bare repository name (GitHub wants 'api', not 'owner/api') nor \"id:NUMBER\"",
			    ctx->name, r);
		if ((rc = janee_strlist_add(&n->names, r)) != 0)
			return rc;
	}
	/* Never "omit": that would mean every repository. */
	if (n->names.n + n->nids == 0 && !g->all_repositories)
		return janee_err_set(JANEE_ERR_POLICY,
		    "provider '%s': no repository asked for and none allowed; name them (janee token %s --repo NAME) or list them in 'repositories': an empty list would give the token every repository of the installation",
		    ctx->name, ctx->name);
	return 0;
}

static char *
narrow_body(const struct narrow *n)
{
	cJSON *j = cJSON_CreateObject(), *p, *a;
	char *s = NULL;
	size_t i;

	if (j == NULL ||
	    (p = cJSON_AddObjectToObject(j, "permissions")) == NULL)
		goto out;
	for (i = 0; i < gh_perm_count(); i++)
		if (n->lv[i] != GH_NONE &&
		    cJSON_AddStringToObject(p, gh_perm_name((int)i),
			gh_level_name(n->lv[i])) == NULL)
			goto out;
	if (n->names.n > 0) {
		if ((a = cJSON_AddArrayToObject(j, "repositories")) == NULL)
			goto out;
		for (i = 0; i < n->names.n; i++)
			if (!cJSON_AddItemToArray(
				a, cJSON_CreateString(n->names.v[i])))
				goto out;
	}
	if (n->nids > 0) {
		if ((a = cJSON_AddArrayToObject(j, "repository_ids")) == NULL)
			goto out;
		for (i = 0; i < n->nids; i++)
			if (!cJSON_AddItemToArray(
				a, cJSON_CreateNumber((double)n->ids[i])))
				goto out;
	}
	s = json_text(j);
out:
	cJSON_Delete(j);
	if (s == NULL)
		janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	return s;
}

/* "issues:write, contents:read" for messages. */
static void
levels_text(const enum gh_level *lv, char *out, size_t outsz)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < gh_perm_count() && n < outsz; i++)
		if (lv[i] != GH_NONE)
			n += (size_t)snprintf(out + n, outsz - n, "%s%s:%s",
			    n ? ", " : "", gh_perm_name((int)i),
			    gh_level_name(lv[i]));
}

static int
revoke_installation_token(struct janee_ctx *ctx, const struct janee_secret *t)
{
	struct gh *g = ctx->state;
	struct janee_http_resp resp;
	struct gh_err e;
	char *url;
	int rc;

	if ((url = janee_asprintf("%s/installation/token", g->api)) == NULL)
		return JANEE_ERR_NOMEM;
	rc = api_call(ctx, "DELETE", url,
	    "revocation (DELETE /installation/token)", NULL, t, NULL, &resp);
	free(url);
	if (rc != 0)
		return rc;
	/* 401: GitHub no longer knows it (revoked or expired): done. */
	if (resp.status != 204 && resp.status != 401) {
		err_read(&resp, &e);
		rc = api_fail(
		    ctx, "revocation (DELETE /installation/token)", &e);
	}
	janee_http_resp_free(&resp);
	return rc;
}

/*
 * A 422 about permissions: inst, the installation's answer to GET
 * /app/installations/{id} (NULL when there is none), says which ones it
 * lacks.
 */
static int
perm_gap(struct janee_ctx *ctx, const struct narrow *n, int64_t id,
    const struct gh_err *e, const struct janee_http_resp *inst)
{
	enum gh_level have;
	const cJSON *perms;
	cJSON *j = NULL;
	char missing[512], asked[512];
	size_t i, k = 0;
	int count = 0;

	missing[0] = '\0';
	if (inst != NULL && inst->status == 200 &&
	    (j = cJSON_ParseWithLength(inst->body, inst->len)) != NULL) {
		perms = cJSON_GetObjectItemCaseSensitive(j, "permissions");
		for (i = 0; i < gh_perm_count(); i++) {
			if (n->lv[i] == GH_NONE)
				continue;
			have = gh_level_parse(
			    json_str(perms, gh_perm_name((int)i)) != NULL
				? json_str(perms, gh_perm_name((int)i))
				: "");
			if (have >= n->lv[i])
				continue;
			count++;
			if (k < sizeof(missing))
				k += (size_t)snprintf(missing + k,
				    sizeof(missing) - k,
				    "%s'%s:%s' (it has %s%s%s)", k ? ", " : "",
				    gh_perm_name((int)i),
				    gh_level_name(n->lv[i]),
				    have == GH_NONE ? "none"
						    : gh_perm_name((int)i),
				    have == GH_NONE ? "" : ":",
				    have == GH_NONE ? "" : gh_level_name(have));
		}
	}
	cJSON_Delete(j);
	janee_err_clear(); /* the 422 is what matters */
	if (count > 0)
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': permission%s %s %s not granted to installation %lld; add %s in the app's settings (Permissions), then have the installation's owner accept the new permissions",
		    ctx->name, count > 1 ? "s" : "", missing,
		    count > 1 ? "are" : "is", (long long)id,
		    count > 1 ? "them" : "it");
	levels_text(n->lv, asked, sizeof(asked));
	return janee_err_set(JANEE_ERR_PROVIDER,
	    "provider '%s': the permissions asked for (%s) are not all granted to installation %lld (HTTP 422: %s); compare them with the app's settings (Permissions)",
	    ctx->name, asked, (long long)id, e->msg);
}

/* The installation's own permissions, to say which one is missing. */
static int
explain_422_permissions(struct janee_ctx *ctx, const struct janee_secret *jwt,
    int64_t id, const struct narrow *n, const struct gh_err *e)
{
	struct gh *g = ctx->state;
	struct janee_http_resp resp;
	char *url, what[96];
	int rc;

	snprintf(what, sizeof(what),
	    "installation (GET /app/installations/%lld)", (long long)id);
	if ((url = janee_asprintf(
		 "%s/app/installations/%lld", g->api, (long long)id)) == NULL)
		return JANEE_ERR_NOMEM;
	if (api_call(ctx, "GET", url, what, NULL, jwt, NULL, &resp) == 0) {
		rc = perm_gap(ctx, n, id, e, &resp);
		janee_http_resp_free(&resp);
	} else
		rc = perm_gap(ctx, n, id, e, NULL);
	free(url);
	return rc;
}

/* A 422 that names repositories, or another one. */
static int
explain_422(struct janee_ctx *ctx, int64_t id, const struct narrow *n,
    const struct gh_err *e)
{
	char asked[1024];
	size_t i, k = 0;

	if (strstr(e->msg, "repository that does not exist")) {
		asked[0] = '\0';
		for (i = 0; i < n->names.n && k < sizeof(asked); i++)
			k += (size_t)snprintf(asked + k, sizeof(asked) - k,
			    "%s'%s'", k ? ", " : "", n->names.v[i]);
		for (i = 0; i < n->nids && k < sizeof(asked); i++)
			k += (size_t)snprintf(asked + k, sizeof(asked) - k,
			    "%sid:%lld", k ? ", " : "", (long long)n->ids[i]);
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': a repository asked for (%s) does not exist or is not accessible to installation %lld (HTTP 422: %s); check the names, or add it to the installation's repository access "
		    "(the installation's Configure page)",
		    ctx->name, asked, (long long)id, e->msg);
	}
	return api_fail(ctx, "the token request", e);
}

/*
 * Check GitHub's grant against the request: never wider.  GitHub adds
 * metadata:read to every token, asked or not; that one is recorded.
 */
static int
check_grant(struct janee_ctx *ctx, const struct narrow *n, const cJSON *j,
    struct janee_token *out)
{
	const cJSON *perms = cJSON_GetObjectItemCaseSensitive(j, "permissions");
	const cJSON *repos =
	    cJSON_GetObjectItemCaseSensitive(j, "repositories");
	const char *sel = json_str(j, "repository_selection"), *name;
	enum gh_level got[GH_PERM_MAX], l;
	const cJSON *e;
	int64_t id;
	size_t i;
	int p, ok;

	for (i = 0; i < GH_PERM_MAX; i++)
		got[i] = GH_NONE;
	/* An array's items have no names: never read them as permissions. */
	if (perms != NULL && !cJSON_IsObject(perms))
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': GitHub's token answer has \"permissions\" that is not an object; the token was revoked and not issued",
		    ctx->name);
	cJSON_ArrayForEach(e, perms)
	{
		p = gh_perm_find(e->string);
		l = cJSON_IsString(e) ? gh_level_parse(e->valuestring)
				      : GH_NONE;
		if (p >= 0 && l != GH_NONE &&
		    (l <= n->lv[p] ||
			(strcmp(e->string, "metadata") == 0 && l == GH_READ))) {
			got[p] = l;
			continue;
		}
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': GitHub granted permission '%s:%s', which was not asked for; the token was revoked and not issued",
		    ctx->name, e->string,
		    cJSON_IsString(e) ? e->valuestring : "?");
	}
	if (n->names.n + n->nids > 0) {
		if (sel != NULL && strcmp(sel, "selected") != 0)
			return janee_err_set(JANEE_ERR_PROVIDER,
			    "provider '%s': GitHub granted repository selection '%s' where repositories were named; the token was revoked and not issued",
			    ctx->name, sel);
		cJSON_ArrayForEach(e, repos)
		{
			name = json_str(e, "name");
			id = jid(e, "id");
			ok = name != NULL && janee_strlist_has(&n->names, name);
			for (i = 0; !ok && i < n->nids; i++)
				ok = id == n->ids[i];
			if (!ok)
				return janee_err_set(JANEE_ERR_PROVIDER,
				    "provider '%s': GitHub granted repository '%s', which was not asked for; the token was revoked and not issued",
				    ctx->name, name ? name : "?");
		}
	}
	return gh_levels_to_scopes(got, &out->granted);
}

/*
 * A 201 answer: the token, its expiry, what it may do.  When the grant is
 * wider than asked, the error comes with out's token set: the caller
 * revokes it.
 */
static int
take_token(struct janee_ctx *ctx, const struct narrow *n,
    const struct janee_http_resp *resp, struct janee_token *out)
{
	const char *tok, *exp;
	int64_t now, at;
	cJSON *j;
	int rc = 0;

	if ((j = answer_json(ctx, "the token request", resp)) == NULL)
		return JANEE_ERR_PROVIDER;
	if ((tok = json_str(j, "token")) == NULL || *tok == '\0') {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': GitHub's token answer has no token",
		    ctx->name);
		goto out;
	}
	if ((rc = janee_token_put(out, "token",
		 janee_secret_new(tok, strlen(tok)), JANEE_PART_SECRET)) != 0)
		goto out;
	/*
	 * GitHub's tokens live one hour; expires_at says exactly.  What it
	 * says is kept within [now, now + 1 h]: never later than GitHub's
	 * own limit (a lease must not outlive its token in the ledger), and
	 * never before now (not 1474, not before 1970).
	 */
	now = ctx->now_ms();
	out->expires_ms = now + INSTALL_MAX_TTL_S * 1000LL;
	if ((exp = json_str(j, "expires_at")) != NULL &&
	    janee_time_parse(exp, now, &at) == 0)
		out->expires_ms = at < now ? now
		    : at < out->expires_ms ? at
					   : out->expires_ms;
	janee_err_clear();
	rc = check_grant(ctx, n, j, out);
out:
	cJSON_Delete(j);
	return rc;
}

/*
 * The token request's answer, with no network: 201 (take_token), or
 * GitHub's error as a message a person can act on.  *perms is set for a
 * 422 about permissions: the installation's own permissions
 * (explain_422_permissions) can then name the missing ones.
 */
static int
token_answer(struct janee_ctx *ctx, const struct narrow *n, int64_t id,
    const struct janee_http_resp *resp, struct janee_token *out,
    struct gh_err *e, int *perms)
{
	struct gh *g = ctx->state;
	char what[96];

	*perms = 0;
	if (resp->status == 201)
		return take_token(ctx, n, resp, out);
	err_read(resp, e);
	if (e->status == 404 && !e->rate)
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': installation %lld of the app was not found (HTTP 404: %s); the app was uninstalled there, or '%s' is wrong: see the installation's settings (its URL ends with the "
		    "ID), or set 'owner' or 'repository' instead",
		    ctx->name, (long long)id, e->msg,
		    g->installation_id > 0 ? "installation_id" : "owner");
	if (e->status == 422 &&
	    strstr(e->msg, "permissions requested are not granted")) {
		*perms = 1;
		return perm_gap(ctx, n, id, e, NULL);
	}
	if (e->status == 422)
		return explain_422(ctx, id, n, e);
	snprintf(what, sizeof(what), "token request for installation %lld",
	    (long long)id);
	return api_fail(ctx, what, e);
}

int
gh_token_answer(struct janee_ctx *ctx, const struct janee_mint_req *req,
    int64_t id, const struct janee_http_resp *resp,
    const struct janee_http_resp *inst, struct janee_token *out)
{
	struct narrow n;
	struct gh_err e;
	int rc, perms = 0;

	if ((rc = narrow_read(ctx, req, &n)) == 0 &&
	    (rc = token_answer(ctx, &n, id, resp, out, &e, &perms)) != 0 &&
	    perms && inst != NULL)
		rc = perm_gap(ctx, &n, id, &e, inst);
	if (rc != 0)
		janee_token_clear(out);
	narrow_free(&n);
	return rc;
}

static int
mint_installation(struct janee_ctx *ctx, const struct janee_mint_req *req,
    struct janee_token *out)
{
	struct gh *g = ctx->state;
	const struct janee_secret *jwt;
	struct janee_http_resp resp;
	struct narrow n;
	struct gh_err e;
	char *body = NULL, *url = NULL, *msg, what[96];
	int64_t id;
	int rc, cached, tries, perms;

	memset(&resp, 0, sizeof(resp));
	if ((rc = narrow_read(ctx, req, &n)) != 0 ||
	    (body = narrow_body(&n)) == NULL) {
		rc = rc ? rc : JANEE_ERR_NOMEM;
		goto out;
	}
	for (tries = 0;; tries++) {
		if ((rc = app_jwt(ctx, &jwt)) != 0 ||
		    (rc = installation(ctx, jwt, &id, &cached)) != 0)
			goto out;
		free(url);
		if ((url = janee_asprintf(
			 "%s/app/installations/%lld/access_tokens", g->api,
			 (long long)id)) == NULL) {
			rc = JANEE_ERR_NOMEM;
			goto out;
		}
		snprintf(what, sizeof(what),
		    "token request for installation %lld", (long long)id);
		if ((rc = api_call(
			 ctx, "POST", url, what, body, jwt, NULL, &resp)) != 0)
			goto out;
		/* A looked-up ID kept from earlier may be stale: once more. */
		if (resp.status == 404 && cached && tries == 0) {
			g->found_id = 0;
			janee_http_resp_free(&resp);
			continue;
		}
		break;
	}
	rc = token_answer(ctx, &n, id, &resp, out, &e, &perms);
	if (perms)
		rc = explain_422_permissions(ctx, jwt, id, &n, &e);
	else if (rc != 0 && janee_token_get(out, "token") != NULL) {
		/* Never hand out more than asked: kill it at once. */
		msg = janee_strdup(janee_err_msg(rc));
		janee_err_clear();
		if (revoke_installation_token(
			ctx, janee_token_get(out, "token")) != 0)
			janee_err_clear();
		rc = janee_err_set(rc, "%s", msg ? msg : "grant too wide");
		free(msg);
		janee_token_clear(out);
	}
out:
	janee_http_resp_free(&resp);
	json_done(body);
	free(url);
	narrow_free(&n);
	return rc;
}

/* ------------------------------------------------------- user tokens */

/* The stored login: JSON, sealed by the core. */
struct ucred {
	struct janee_secret *at; /* the newest user token: the only live one */
	struct janee_secret *rt; /* its single-use refresh token */
	int64_t at_exp_ms;
	int64_t rt_exp_ms;
	char holder[JANEE_LEASE_ID_LEN]; /* the lease that has at, or "" */
	int64_t holder_until_ms;
};

static void
ucred_free(struct ucred *u)
{
	janee_secret_free(u->at);
	janee_secret_free(u->rt);
	memset(u, 0, sizeof(*u));
}

static int64_t
jms(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* Load the login, holding the lock already. */
static int
ucred_load(struct janee_ctx *ctx, struct ucred *u)
{
	struct janee_secret *raw = NULL;
	const char *at, *rt, *h;
	cJSON *j = NULL;
	int rc;

	memset(u, 0, sizeof(*u));
	if ((rc = ctx->cred_get(ctx, &raw)) != 0)
		return rc;
	j = cJSON_ParseWithLength((const char *)raw->data, raw->len);
	at = json_str(j, "access_token");
	rt = json_str(j, "refresh_token");
	h = json_str(j, "holder");
	if (at == NULL || rt == NULL) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': the stored login is damaged; run: janee login %s",
		    ctx->name, ctx->name);
		goto out;
	}
	if ((u->at = janee_secret_new(at, strlen(at))) == NULL ||
	    (u->rt = janee_secret_new(rt, strlen(rt))) == NULL) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	u->at_exp_ms = jms(j, "access_expires_ms");
	u->rt_exp_ms = jms(j, "refresh_expires_ms");
	if (h != NULL && janee_lease_id_valid(h)) {
		snprintf(u->holder, sizeof(u->holder), "%s", h);
		u->holder_until_ms = jms(j, "holder_until_ms");
	}
out:
	cJSON_Delete(j);
	janee_secret_free(raw);
	if (rc != 0)
		ucred_free(u);
	return rc;
}

static int
ucred_store(struct janee_ctx *ctx, const struct ucred *u, const char *account)
{
	struct janee_secret *val = NULL;
	cJSON *j;
	char *s = NULL;
	int rc;

	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(
		j, "access_token", (const char *)u->at->data) == NULL ||
	    cJSON_AddStringToObject(
		j, "refresh_token", (const char *)u->rt->data) == NULL ||
	    cJSON_AddNumberToObject(
		j, "access_expires_ms", (double)u->at_exp_ms) == NULL ||
	    cJSON_AddNumberToObject(
		j, "refresh_expires_ms", (double)u->rt_exp_ms) == NULL ||
	    (u->holder[0] != '\0' &&
		(cJSON_AddStringToObject(j, "holder", u->holder) == NULL ||
		    cJSON_AddNumberToObject(j, "holder_until_ms",
			(double)u->holder_until_ms) == NULL)) ||
	    (s = json_text(j)) == NULL ||
	    (val = janee_secret_new(s, strlen(s))) == NULL)
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	else
		rc = ctx->cred_put(ctx, val, account);
	json_done(s);
	cJSON_Delete(j);
	janee_secret_free(val);
	return rc;
}

/* The OAuth client of the device login and refreshes. */
static int
user_client(struct janee_ctx *ctx, struct oauth_client *c,
    struct janee_secret **secret, int with_secret)
{
	struct gh *g = ctx->state;
	int rc;

	memset(c, 0, sizeof(*c));
	*secret = NULL;
	c->name = ctx->name;
	c->http = ctx->http;
	c->ca_file = g->ca_file;
	c->client_id = g->client_id;
	c->auth = OAUTH_AUTH_NONE; /* GitHub takes client_id in the form */
	if (with_secret && g->secret_ref != NULL) {
		if ((rc = ctx->secret_get(ctx, g->secret_ref, secret)) != 0)
			return rc;
		c->client_secret = *secret;
		c->auth = OAUTH_AUTH_POST;
	}
	return 0;
}

static void
take_user_token(struct janee_ctx *ctx, struct ucred *u, struct oauth_token *t)
{
	int64_t now = ctx->now_ms();

	janee_secret_free(u->at);
	janee_secret_free(u->rt);
	u->at = t->access_token;
	u->rt = t->refresh_token;
	t->access_token = NULL;
	t->refresh_token = NULL;
	u->at_exp_ms = t->expires_in > 0 ? now + t->expires_in * 1000 : 0;
	u->rt_exp_ms =
	    t->refresh_expires_in > 0 ? now + t->refresh_expires_in * 1000 : 0;
	u->holder[0] = '\0';
	u->holder_until_ms = 0;
}

/*
 * Rotate the login: a new user token and refresh token; GitHub kills the
 * old pair.  *dead is set when GitHub no longer takes the refresh token
 * (the login is marked broken then).  The caller stores u.
 */
static int
user_refresh(struct janee_ctx *ctx, struct ucred *u, int *dead)
{
	struct gh *g = ctx->state;
	struct janee_secret *secret = NULL;
	struct oauth_client c;
	struct oauth_error err;
	struct oauth_token tok;
	char *url = NULL;
	int rc;

	*dead = 0;
	memset(&tok, 0, sizeof(tok));
	memset(&err, 0, sizeof(err));
	if ((rc = user_client(ctx, &c, &secret, 1)) != 0)
		goto out;
	if ((url = janee_asprintf("%s/login/oauth/access_token", g->web)) ==
	    NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	rc = oauth_refresh(&c, url, u->rt, NULL, &tok, &err);
	if (rc != 0 && strcmp(err.code, "bad_refresh_token") == 0) {
		*dead = 1;
		rc = ctx->login_gone(ctx, rc,
		    "GitHub refused its refresh token (bad_refresh_token)",
		    NULL);
		goto out;
	}
	if (rc != 0)
		goto out;
	if (tok.refresh_token == NULL) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': GitHub sent no new refresh token; enable expiring user tokens in the app's settings and run: janee login %s",
		    ctx->name, ctx->name);
		goto out;
	}
	take_user_token(ctx, u, &tok);
out:
	oauth_token_free(&tok);
	janee_secret_free(secret);
	free(url);
	return rc;
}

/* DELETE /applications/{client_id}/{token|grant}: needs the secret. */
static int
app_revoke(
    struct janee_ctx *ctx, const char *what_path, const struct janee_secret *at)
{
	struct gh *g = ctx->state;
	struct janee_secret *secret = NULL;
	struct janee_http_resp resp;
	struct gh_err e;
	cJSON *j = NULL;
	char *url = NULL, *body = NULL, what[160];
	int rc;

	memset(&resp, 0, sizeof(resp));
	snprintf(what, sizeof(what),
	    "user token revocation (DELETE /applications/%s/%s)", g->client_id,
	    what_path);
	if (g->secret_ref == NULL)
		return janee_err_set(JANEE_ERR_UNSUPPORTED,
		    "provider '%s': without 'client_secret' janee cannot revoke user tokens at GitHub",
		    ctx->name);
	if ((rc = ctx->secret_get(ctx, g->secret_ref, &secret)) != 0)
		return rc;
	if ((url = janee_asprintf("%s/applications/%s/%s", g->api, g->client_id,
		 what_path)) == NULL ||
	    (j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(
		j, "access_token", (const char *)at->data) == NULL ||
	    (body = json_text(j)) == NULL) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = api_call(
		 ctx, "DELETE", url, what, body, NULL, secret, &resp)) != 0)
		goto out;
	/* 404: GitHub no longer knows the token: it is dead already. */
	if (resp.status != 204 && resp.status != 404) {
		err_read(&resp, &e);
		rc = api_fail(ctx, what, &e);
	}
	janee_http_resp_free(&resp);
out:
	json_done(body);
	cJSON_Delete(j);
	free(url);
	janee_secret_free(secret);
	return rc;
}

/*
 * A user token cannot be narrowed: the request must be the whole ceiling
 * (the app's permissions), and no repositories.
 */
static int
user_request_ok(struct janee_ctx *ctx, const struct janee_mint_req *req)
{
	struct gh *g = ctx->state;
	enum gh_level lv[GH_PERM_MAX];
	char who[160], all[1024];
	size_t i;
	int rc;

	snprintf(who, sizeof(who), "provider '%s': request", ctx->name);
	if ((rc = gh_levels_from_scopes(who, req->scopes, lv)) != 0)
		return janee_err_wrap(
		    JANEE_ERR_POLICY, "%s", janee_err_msg(rc));
	levels_text(g->full, all, sizeof(all));
	for (i = 0; i < gh_perm_count(); i++)
		if (lv[i] != g->full[i])
			return janee_err_set(JANEE_ERR_POLICY,
			    "provider '%s' mints user tokens, which GitHub cannot narrow: each carries every permission of the app (%s); ask for all of them (or set 'default_scopes'), or use a provider with "
			    "\"mint\": \"installation\" for narrower tokens",
			    ctx->name, all);
	if (req->resources->n > 0)
		return janee_err_set(JANEE_ERR_POLICY,
		    "provider '%s' mints user tokens, which GitHub cannot narrow to repositories; use a provider with \"mint\": \"installation\"",
		    ctx->name);
	return 0;
}

static int
mint_user(struct janee_ctx *ctx, const struct janee_mint_req *req,
    struct janee_token *out)
{
	struct gh *g = ctx->state;
	struct ucred u;
	char until[JANEE_TIME_LEN];
	int64_t now, end;
	int rc, dead;

	memset(&u, 0, sizeof(u));
	if ((rc = user_request_ok(ctx, req)) != 0)
		return rc;
	if ((rc = ctx->cred_lock(ctx)) != 0)
		return rc;
	if ((rc = ucred_load(ctx, &u)) != 0)
		goto out;
	now = ctx->now_ms();
	if (u.holder[0] != '\0' && u.holder_until_ms > now) {
		janee_time_fmt(u.holder_until_ms, until);
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': the login's token is leased to %s until %s; GitHub keeps one live user token per login, and a new one would end that one early: end it first (janee lease revoke %s) or wait",
		    ctx->name, u.holder, until, u.holder);
		goto out;
	}
	if ((rc = user_refresh(ctx, &u, &dead)) != 0)
		goto out;
	if ((rc = janee_token_put(out, "token",
		 janee_secret_new(u.at->data, u.at->len), JANEE_PART_SECRET)) !=
		0 ||
	    (rc = gh_levels_to_scopes(g->full, &out->granted)) != 0)
		goto out;
	out->expires_ms = u.at_exp_ms;
	end = now + req->ttl_s * 1000;
	snprintf(u.holder, sizeof(u.holder), "%s", req->lease_id);
	u.holder_until_ms =
	    u.at_exp_ms > 0 && u.at_exp_ms < end ? u.at_exp_ms : end;
	if ((rc = ucred_store(ctx, &u, NULL)) != 0)
		rc = janee_err_wrap(rc,
		    "provider '%s': could not store the rotated login (%s); run: janee login %s",
		    ctx->name, janee_err_msg(rc), ctx->name);
out:
	if (rc != 0)
		janee_token_clear(out);
	ctx->cred_unlock(ctx);
	ucred_free(&u);
	return rc;
}

/*
 * End a user token: when it is the login's newest, refresh, which kills
 * it (the login lives on with a fresh pair); an older one is dead since
 * the refresh that made its successor.  When the login itself is gone,
 * the app's token-revocation API is the last resort.
 */
static int
revoke_user(struct janee_ctx *ctx, const struct janee_secret *token)
{
	struct ucred u;
	int rc, dead = 0;

	if ((rc = ctx->cred_lock(ctx)) != 0)
		return rc;
	if ((rc = ucred_load(ctx, &u)) == JANEE_ERR_NOT_FOUND) {
		janee_err_clear();
		rc = app_revoke(ctx, "token", token);
		goto out;
	}
	if (rc != 0)
		goto out;
	if (token->len != u.at->len ||
	    janee_ct_cmp(token->data, u.at->data, token->len) != 0)
		goto out; /* rotated away already: dead */
	if ((rc = user_refresh(ctx, &u, &dead)) == 0)
		rc = ucred_store(ctx, &u, NULL);
	else if (dead) {
		janee_err_clear();
		rc = app_revoke(ctx, "token", token);
	}
out:
	if (rc == JANEE_ERR_UNSUPPORTED) {
		janee_err_clear();
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': the login is gone, so janee cannot end this user token by a refresh, and without 'client_secret' it cannot revoke it either; it expires by itself within 8 hours",
		    ctx->name);
	}
	ctx->cred_unlock(ctx);
	ucred_free(&u);
	return rc;
}

/*
 * A janee process died while minting lease_id.  A user token minted for it
 * is the login's newest while the login names the lease as its holder: a
 * refresh kills it.  Otherwise any token of that mint is dead already (a
 * later refresh, which needed the stored refresh token, killed it), or the
 * mint never got one; unless the stored refresh token no longer works,
 * which is what a mint cut short between GitHub's answer and the store
 * leaves: then the token cannot be found.  GitHub cannot list
 * installation tokens: those live to their own expiry (one hour).
 */
static int
gh_reconcile(
    struct janee_ctx *ctx, const char *lease_id, struct janee_reconcile *r)
{
	struct gh *g = ctx->state;
	struct ucred u;
	int rc, dead = 0, other;

	r->lifetime_s =
	    g->mode == MINT_USER ? USER_MAX_TTL_S : INSTALL_MAX_TTL_S;
	if (g->mode != MINT_USER)
		return janee_err_set(JANEE_ERR_UNSUPPORTED,
		    "provider '%s': GitHub cannot list installation tokens; one minted for lease %s lives until its own expiry (one hour)",
		    ctx->name, lease_id);
	if ((rc = ctx->cred_lock(ctx)) != 0)
		return rc;
	if ((rc = ucred_load(ctx, &u)) != 0)
		goto out;
	if (strcmp(u.holder, lease_id) == 0) {
		if ((rc = user_refresh(ctx, &u, &dead)) == 0 &&
		    (rc = ucred_store(ctx, &u, NULL)) == 0)
			r->revoked = 1;
		goto out;
	}
	/* Another lease holds the newest token: the chain worked since. */
	other = u.holder[0] != '\0' && u.holder_until_ms > ctx->now_ms();
	if (!other && (rc = user_refresh(ctx, &u, &dead)) == 0)
		rc = ucred_store(ctx, &u, NULL);
out:
	ctx->cred_unlock(ctx);
	ucred_free(&u);
	return rc;
}

char *
gh_user_answer(const struct janee_http_resp *r)
{
	char *name = NULL;
	const char *s;
	cJSON *j;

	if (r->status == 200 &&
	    (j = cJSON_ParseWithLength(r->body, r->len)) != NULL) {
		if ((s = json_str(j, "login")) != NULL && gh_owner_ok(s))
			name = janee_strdup(s);
		cJSON_Delete(j);
	}
	return name;
}

/* Who logged in: GET /user with the new token; NULL when unknown. */
static char *
user_login_name(struct janee_ctx *ctx, const struct janee_secret *at)
{
	struct gh *g = ctx->state;
	struct janee_http_resp resp;
	char *url, *name = NULL;

	if ((url = janee_asprintf("%s/user", g->api)) == NULL)
		return NULL;
	if (api_call(ctx, "GET", url, "user look-up (GET /user)", NULL, at,
		NULL, &resp) == 0) {
		name = gh_user_answer(&resp);
		janee_http_resp_free(&resp);
	}
	free(url);
	janee_err_clear();
	return name;
}

/* Turn GitHub's device_flow_disabled into what to do about it. */
static int
device_disabled(struct janee_ctx *ctx, int rc)
{
	if (rc == 0 ||
	    strstr(janee_err_msg(rc), "device_flow_disabled") == NULL)
		return rc;
	janee_err_clear();
	return janee_err_set(JANEE_ERR_PROVIDER,
	    "provider '%s': the GitHub App does not allow the device flow; enable it in the app's settings (General, \"Enable Device Flow\"), then run: janee login %s",
	    ctx->name, ctx->name);
}

/*
 * With the lock held: a new login must not replace one whose token a
 * live lease holds (that lease could no longer be ended by a refresh).
 */
static int
holder_check(struct janee_ctx *ctx)
{
	struct ucred old;
	int rc = 0;

	if (ucred_load(ctx, &old) == 0 && old.holder[0] != '\0' &&
	    old.holder_until_ms > ctx->now_ms())
		rc = janee_err_set(JANEE_ERR_STATE,
		    "provider '%s': lease %s holds a token of the current login; end it first (janee lease revoke %s) or run: janee logout %s",
		    ctx->name, old.holder, old.holder, ctx->name);
	else
		janee_err_clear(); /* no login, or a broken one: replace it */
	ucred_free(&old);
	return rc;
}

static int
login_replaceable(struct janee_ctx *ctx)
{
	int rc;

	if ((rc = ctx->cred_lock(ctx)) != 0)
		return rc;
	rc = holder_check(ctx);
	ctx->cred_unlock(ctx);
	return rc;
}

static int
gh_login(struct janee_ctx *ctx, const struct janee_login_ui *ui)
{
	struct gh *g = ctx->state;
	struct janee_secret *secret = NULL;
	struct oauth_device dev;
	struct oauth_client c;
	struct oauth_token tok;
	struct ucred u;
	char *url = NULL, *turl = NULL, *account = NULL;
	int rc, locked = 0;

	memset(&dev, 0, sizeof(dev));
	memset(&tok, 0, sizeof(tok));
	memset(&u, 0, sizeof(u));
	if (g->mode != MINT_USER)
		return janee_err_set(JANEE_ERR_UNSUPPORTED,
		    "provider '%s' mints installation tokens with the app's key and needs no login; for tokens that act as you, add a provider entry with \"mint\": \"user\"",
		    ctx->name);
	if ((url = janee_asprintf("%s/login/device/code", g->web)) == NULL ||
	    (turl = janee_asprintf("%s/login/oauth/access_token", g->web)) ==
		NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	/* Refuse before anything is issued; checked again when storing. */
	if ((rc = login_replaceable(ctx)) != 0)
		goto out;
	/* The device flow takes no secret (a public client). */
	if ((rc = user_client(ctx, &c, &secret, 0)) != 0)
		goto out;
	if ((rc = device_disabled(
		 ctx, oauth_device_start(&c, url, NULL, &dev))) != 0)
		goto out;
	ui->show_code(ui->arg, dev.user_code, dev.verification_uri,
	    dev.verification_uri_complete, dev.expires_in);
	if ((rc = device_disabled(ctx,
		 oauth_device_poll(
		     &c, turl, &dev, ui->waiting, ui->arg, &tok))) != 0)
		goto out;
	if (tok.refresh_token == NULL) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': the app issues user tokens that never expire, and janee ends a lease's user token by a refresh: enable \"User-to-server token expiration\" in the app's settings "
		    "(Optional features), then run: janee login %s",
		    ctx->name, ctx->name);
		if (app_revoke(ctx, "token", tok.access_token) != 0)
			janee_err_clear();
		goto out;
	}
	account = user_login_name(ctx, tok.access_token);
	take_user_token(ctx, &u, &tok);
	if ((rc = ctx->cred_lock(ctx)) != 0)
		goto out;
	locked = 1;
	if ((rc = holder_check(ctx)) != 0) {
		/* Raced by a lease: this login's token must not stay. */
		if (app_revoke(ctx, "token", u.at) != 0)
			janee_err_clear();
		goto out;
	}
	rc = ucred_store(ctx, &u, account);
out:
	if (locked)
		ctx->cred_unlock(ctx);
	oauth_device_free(&dev);
	oauth_token_free(&tok);
	ucred_free(&u);
	janee_secret_free(secret);
	free(url);
	free(turl);
	free(account);
	return rc;
}

/*
 * Revoke the app's authorization for the user: every token of the login
 * dies, refresh tokens too.  GitHub wants a live user token to name it.
 */
static int
gh_logout(struct janee_ctx *ctx)
{
	struct gh *g = ctx->state;
	struct ucred u;
	char until[JANEE_TIME_LEN];
	int rc, dead = 0;

	if (g->mode != MINT_USER)
		return JANEE_ERR_NOT_FOUND;
	if ((rc = ctx->cred_lock(ctx)) != 0)
		return rc;
	if ((rc = ucred_load(ctx, &u)) != 0)
		goto out;
	if (g->secret_ref == NULL) {
		if (u.rt_exp_ms > 0)
			janee_time_fmt(u.rt_exp_ms, until);
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': without 'client_secret' janee cannot revoke the login at GitHub; revoke the app's authorization at https://github.com/settings/apps/authorizations (its "
		    "refresh token would work until %s)",
		    ctx->name, u.rt_exp_ms > 0 ? until : "it expires");
		goto out;
	}
	if (u.at_exp_ms > 0 && u.at_exp_ms <= ctx->now_ms() + 60000) {
		/* An expired token cannot name the grant: refresh first. */
		if ((rc = user_refresh(ctx, &u, &dead)) != 0) {
			if (dead) /* nothing of the login works any more */
				janee_err_clear();
			rc = dead ? 0 : rc;
			goto out;
		}
	}
	rc = app_revoke(ctx, "grant", u.at);
out:
	ctx->cred_unlock(ctx);
	ucred_free(&u);
	return rc;
}

/* ------------------------------------------------------- the provider */

static int
gh_mint(struct janee_ctx *ctx, const struct janee_mint_req *req,
    struct janee_token *out)
{
	struct gh *g = ctx->state;

	if (g->mode == MINT_USER)
		return mint_user(ctx, req, out);
	return mint_installation(ctx, req, out);
}

static int
gh_revoke(
    struct janee_ctx *ctx, const char *lease_id, const struct janee_token *tok)
{
	const struct janee_secret *token = janee_token_get(tok, "token");
	struct gh *g = ctx->state;

	(void)lease_id;
	if (token == NULL)
		return 0; /* nothing of ours to end */
	if (g->mode == MINT_USER)
		return revoke_user(ctx, token);
	return revoke_installation_token(ctx, token);
}

const struct janee_provider github_provider = {
	.version = JANEE_PROVIDER_VERSION,
	.type = "github-app",
	.summary =
	    "GitHub App: installation tokens narrowed per lease, and the user's own login",
	.resources = "repositories",
	.resource = "repository",
	.configure = gh_configure,
	.unconfigure = gh_free,
	.mint = gh_mint,
	.revoke = gh_revoke,
	.reconcile = gh_reconcile,
	.login = gh_login,
	.logout = gh_logout,
};
