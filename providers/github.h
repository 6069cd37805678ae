/*
 * GitHub App permissions as janee scopes, and repository names.
 *
 * A scope for GitHub is "permission:level", e.g. "issues:read".  The
 * permission names and their levels are GitHub's catalogue ("App
 * Permissions" in the REST API description, checked 2026-11): names use
 * underscores ("pull_requests"), levels are read < write < admin and not
 * every permission has every level ("workflows" is write only).  A level
 * implies the lower ones the permission has: a ceiling of "issues:write"
 * also allows "issues:read".
 */
#ifndef JANEE_GITHUB_H
#define JANEE_GITHUB_H

#include "common.h"

enum gh_level {
	GH_NONE = 0,
	GH_READ = 1,
	GH_WRITE = 2,
	GH_ADMIN = 3,
};

/* Arrays indexed by permission have this many entries. */
#define GH_PERM_MAX 64

/* The number of permissions in the catalogue (at most GH_PERM_MAX). */
size_t gh_perm_count(void);
/* The index of a permission name, or -1 when GitHub has no such name. */
int gh_perm_find(const char *name);
const char *gh_perm_name(int perm);
/* Whether the permission has that level. */
int gh_perm_has_level(int perm, enum gh_level level);
/* "read" -> GH_READ, ...; GH_NONE when it is none of them. */
enum gh_level gh_level_parse(const char *s);
const char *gh_level_name(enum gh_level level);

/*
 * Parse "name:level" against the catalogue.  JANEE_ERR_INVALID with a
 * message that starts with `who` and names the valid permissions (or the
 * valid levels of that permission) otherwise.
 */
int gh_scope_parse(const char *who, const char *scope, int *perm,
    enum gh_level *level) JANEE_WUR;

/*
 * Per-permission levels: lv[perm] for every permission of the catalogue.
 * gh_levels_from_scopes keeps the highest level asked for each one.
 */
int gh_levels_from_scopes(const char *who, const struct janee_strlist *scopes,
    enum gh_level *lv) JANEE_WUR;
/*
 * Add to out every scope that lv implies: for each permission, its level
 * and every lower level it has ("issues:write" -> issues:read,
 * issues:write).
 */
int gh_levels_to_scopes(
    const enum gh_level *lv, struct janee_strlist *out) JANEE_WUR;

/*
 * A bare repository name as GitHub allows it: 1-100 of A-Z a-z 0-9 . - _,
 * not "." or "..".  Not "owner/name".
 */
int gh_repo_name_ok(const char *name);
/* An owner (user or organization) login: 1-39 of A-Z a-z 0-9 and '-'. */
int gh_owner_ok(const char *owner);
/*
 * A repository by id as janee accepts it in a request: "id:123456".
 * 1 and *id set when s has that form, 0 when not.
 */
int gh_repo_id_parse(const char *s, int64_t *id);

/*
 * GitHub's answers as the provider (providers/github.c) takes them, with
 * no network: the mint path calls these after its HTTP request, and the
 * fuzzer (tests/fuzz/fuzz-github.c) calls them on its inputs.  ctx is a
 * configured "github-app" entry; messages name it, never a token.
 */
struct janee_http_resp;

/*
 * An installation look-up (GET /repos/{owner}/{repo}/installation and the
 * like; what names it in messages): 200 is 0 with the installation's id
 * in *id, 404 is 0 with *id 0 (not installed there), anything else is
 * JANEE_ERR_PROVIDER saying what GitHub said (rate limits too).
 */
int gh_lookup_answer(struct janee_ctx *ctx, const char *what,
    const struct janee_http_resp *r, int64_t *id) JANEE_WUR;

/*
 * The answer to POST /app/installations/{id}/access_tokens for req, as
 * mint narrows it: on 201, 0 with out's token, expiry and granted scopes,
 * checked to be no wider than asked; otherwise JANEE_ERR_PROVIDER (or the
 * request's own error) and out cleared.  A 422 about permissions is
 * explained with inst, the installation's answer to GET
 * /app/installations/{id} (NULL: none).  Unlike mint, a grant that is too
 * wide is not revoked (there is no network here).  The caller frees out
 * with janee_token_clear.  For the fuzzer.
 */
int gh_token_answer(struct janee_ctx *ctx, const struct janee_mint_req *req,
    int64_t id, const struct janee_http_resp *resp,
    const struct janee_http_resp *inst, struct janee_token *out) JANEE_WUR;

/* GET /user's answer: the login when it is one (gh_owner_ok), or NULL. */
char *gh_user_answer(const struct janee_http_resp *r);

#endif
