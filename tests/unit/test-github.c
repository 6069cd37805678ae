/*
 * Unit tests: the GitHub provider's permission catalogue, names and
 * configuration; and, when tests/t0200-github.sh runs this program against
 * its fake GitHub (JANEE_GH_TEST_URL, JANEE_GH_TEST_CA, JANEE_GH_TEST_KEY),
 * several mints in one process: one installation look-up, one app JWT
 * reused until shortly before it expires, then a fresh one.  The script
 * checks the fake's call log afterwards.
 */
/* The test hooks of src/util.h (linked from libjanee_testhooks.a). */
#define JANEE_TEST_HOOKS 1
#include "common.h"

#include <fcntl.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "github.h"
#include "janee/http.h"
#include "providers.h"
#include "util.h"

#include "t.h"

static const struct janee_provider *const table[] = { &github_provider, NULL };

static int
parse(const char *json, struct config **out)
{
	*out = NULL;
	janee_err_clear();
	return config_parse(json, "config.json", table, NULL, out);
}

static void
refused(const char *json, const char *needle)
{
	struct config *c;
	int rc = parse(json, &c);

	T_EQ_INT(rc, JANEE_ERR_CONFIG);
	T_ASSERT(c == NULL);
	if (strstr(janee_err_msg(rc), needle) == NULL) {
		fprintf(stderr, "  message \"%s\" lacks \"%s\"\n",
		    janee_err_msg(rc), needle);
		t_case_failed = 1;
	}
	janee_err_clear();
}

static void
catalogue_knows_names_and_levels(void)
{
	enum gh_level l;
	int p;

	T_ASSERT(gh_perm_count() >= 40 && gh_perm_count() <= GH_PERM_MAX);
	T_ASSERT(gh_perm_find("issues") >= 0);
	T_ASSERT(gh_perm_find("pull_requests") >= 0);
	T_EQ_INT(gh_perm_find("pull-requests"), -1);
	T_EQ_INT(gh_perm_find(""), -1);
	p = gh_perm_find("workflows");
	T_ASSERT(!gh_perm_has_level(p, GH_READ));
	T_ASSERT(gh_perm_has_level(p, GH_WRITE));
	p = gh_perm_find("organization_projects");
	T_ASSERT(gh_perm_has_level(p, GH_ADMIN));
	T_ASSERT(!gh_perm_has_level(gh_perm_find("issues"), GH_ADMIN));
	T_EQ_INT(gh_level_parse("write"), GH_WRITE);
	T_EQ_INT(gh_level_parse("Write"), GH_NONE);
	T_EQ_STR(gh_level_name(GH_ADMIN), "admin");

	T_EQ_INT(gh_scope_parse("t", "issues:read", &p, &l), 0);
	T_EQ_STR(gh_perm_name(p), "issues");
	T_EQ_INT(l, GH_READ);
	T_EQ_INT(gh_scope_parse("t", "repository_projects:admin", &p, &l), 0);
	T_EQ_INT(l, GH_ADMIN);
	janee_err_clear();
}

/* Each malformed scope is refused with a message that helps. */
static void
scope_parse_refuses_with_help(void)
{
	static const struct {
		const char *scope, *needle;
	} bad[] = {
		{ "pull-requests:read", "pull_requests" },
		{ "issues",
		    "needs a level GitHub has for 'issues': read, write" },
		{ "issues:", "read, write" },
		{ "issues:admin", "read, write" },
		{ "workflows:read", "'workflows': write" },
		{ ":read", "not a GitHub App permission" },
		{ "issues:read:x", "not a GitHub App permission" },
		{ "", "not a GitHub App permission" },
		{ "a_name_that_is_much_longer_than_sixty_four_characters_for_sure_x:read",
		    "not a GitHub App permission" },
	};
	enum gh_level l;
	size_t i;
	int p, rc;

	for (i = 0; i < nitems(bad); i++) {
		janee_err_clear();
		rc = gh_scope_parse("who", bad[i].scope, &p, &l);
		T_EQ_INT(rc, JANEE_ERR_INVALID);
		if (strstr(janee_err_msg(rc), bad[i].needle) == NULL ||
		    strncmp(janee_err_msg(rc), "who: ", 5) != 0) {
			fprintf(stderr, "  '%s': \"%s\" lacks \"%s\"\n",
			    bad[i].scope, janee_err_msg(rc), bad[i].needle);
			t_case_failed = 1;
		}
	}
	janee_err_clear();
}

static void
levels_imply_lower_levels(void)
{
	struct janee_strlist in, out;
	enum gh_level lv[GH_PERM_MAX];

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	T_EQ_INT(janee_strlist_add(&in, "issues:read"), 0);
	T_EQ_INT(janee_strlist_add(&in, "issues:write"), 0);
	T_EQ_INT(janee_strlist_add(&in, "contents:read"), 0);
	T_EQ_INT(janee_strlist_add(&in, "workflows:write"), 0);
	T_EQ_INT(janee_strlist_add(&in, "organization_projects:admin"), 0);
	T_EQ_INT(gh_levels_from_scopes("t", &in, lv), 0);
	T_EQ_INT(lv[gh_perm_find("issues")], GH_WRITE);
	T_EQ_INT(lv[gh_perm_find("contents")], GH_READ);
	T_EQ_INT(lv[gh_perm_find("metadata")], GH_NONE);
	T_EQ_INT(gh_levels_to_scopes(lv, &out), 0);
	janee_strlist_normalize(&out);
	T_EQ_INT(out.n, 7);
	T_ASSERT(janee_strlist_has(&out, "issues:read"));
	T_ASSERT(janee_strlist_has(&out, "issues:write"));
	T_ASSERT(janee_strlist_has(&out, "contents:read"));
	T_ASSERT(janee_strlist_has(&out, "workflows:write"));
	T_ASSERT(!janee_strlist_has(&out, "workflows:read"));
	T_ASSERT(janee_strlist_has(&out, "organization_projects:read"));
	T_ASSERT(janee_strlist_has(&out, "organization_projects:write"));
	T_ASSERT(janee_strlist_has(&out, "organization_projects:admin"));
	T_EQ_INT(janee_strlist_add(&in, "issue:read"), 0);
	T_EQ_INT(gh_levels_from_scopes("t", &in, lv), JANEE_ERR_INVALID);
	janee_err_clear();
	janee_strlist_free(&in);
	janee_strlist_free(&out);
}

static void
repository_and_owner_names(void)
{
	char longname[102];
	int64_t id = 0;

	T_ASSERT(gh_repo_name_ok("api"));
	T_ASSERT(gh_repo_name_ok("my.repo-name_2"));
	T_ASSERT(gh_repo_name_ok(".github"));
	T_ASSERT(!gh_repo_name_ok("acme/api"));
	T_ASSERT(!gh_repo_name_ok(""));
	T_ASSERT(!gh_repo_name_ok("."));
	T_ASSERT(!gh_repo_name_ok(".."));
	T_ASSERT(!gh_repo_name_ok("a b"));
	T_ASSERT(!gh_repo_name_ok("id:12"));
	memset(longname, 'a', 101);
	longname[101] = '\0';
	T_ASSERT(!gh_repo_name_ok(longname));
	longname[100] = '\0';
	T_ASSERT(gh_repo_name_ok(longname));

	T_ASSERT(gh_repo_id_parse("id:12345", &id));
	T_EQ_INT(id, 12345);
	T_ASSERT(!gh_repo_id_parse("id:0", &id));
	T_ASSERT(!gh_repo_id_parse("id:-3", &id));
	T_ASSERT(!gh_repo_id_parse("id:12x", &id));
	T_ASSERT(!gh_repo_id_parse("12345", &id));

	T_ASSERT(gh_owner_ok("acme"));
	T_ASSERT(gh_owner_ok("octo-cat"));
	T_ASSERT(!gh_owner_ok("-acme"));
	T_ASSERT(!gh_owner_ok("a_b"));
	T_ASSERT(!gh_owner_ok(""));
	T_ASSERT(!gh_owner_ok("0123456789012345678901234567890123456789"));
}

#define GH(extra) \
	"{\"providers\": {\"gh\": {\"type\": \"github-app\", " \
	"\"client_id\": \"Iv23liX\", \"private_key\": \"secret:k\", " \
	"\"installation_id\": 7, \"permissions\": [\"issues:write\", " \
	"\"contents:read\"]" extra "}}}"

static void
config_extends_the_ceiling(void)
{
	struct config *c;
	struct prov *p;

	T_EQ_INT(
	    parse(
		GH(", \"repositories\": [\"api\", \"id:99\"], \"scopes\": [\"checks:read\"]"),
		&c),
	    0);
	if (c == NULL)
		return;
	p = config_find(c, "gh");
	T_EQ_INT(p->pol.ceiling.n, 4);
	T_ASSERT(janee_strlist_has(&p->pol.ceiling, "issues:read"));
	T_ASSERT(janee_strlist_has(&p->pol.ceiling, "issues:write"));
	T_ASSERT(janee_strlist_has(&p->pol.ceiling, "contents:read"));
	T_ASSERT(janee_strlist_has(&p->pol.ceiling, "checks:read"));
	T_EQ_INT(p->pol.resources.n, 2);
	config_free(c);
	/* The allow-list may be waived only by name. */
	T_EQ_INT(parse(GH(", \"all_repositories\": true"), &c), 0);
	config_free(c);
}

static void
config_refusals(void)
{
	refused(
	    "{\"providers\": {\"gh\": {\"type\": \"github-app\", \"client_id\": \"Iv1\", \"installation_id\": 7, \"private_key\": \"secret:k\", \"permissions\": "
	    "[\"pull-requests:read\"], \"repositories\": [\"api\"]}}}",
	    "key 'permissions': 'pull-requests:read' is not a GitHub App permission; a scope is PERMISSION:LEVEL with a name that uses underscores, one of: actions, administration");
	refused(GH(", \"repositories\": [\"api\"], \"scopes\": [\"repo\"]"),
	    "key 'scopes': 'repo' is not a GitHub App permission");
	refused(GH(""), "repository allow-list is empty");
	refused(GH(", \"repositories\": []"), "repository allow-list is empty");
	refused(GH(", \"repositories\": [\"acme/api\"]"),
	    "must be a bare name, as GitHub wants it ('api')");
	refused(GH(", \"repositories\": [\"a b\"]"), "is not a repository");
	refused(GH(", \"repositories\": [\"api\"], \"max_ttl\": \"2h\""),
	    "'max_ttl' may be at most 1h");
	refused(GH(", \"repositories\": [\"api\"], \"owner\": \"acme\""),
	    "exactly one of 'installation_id', 'owner'");
	refused(
	    GH(", \"repositories\": [\"api\"], \"base_url\": \"http://api.example.com\""),
	    "plain http to 'api.example.com' is refused");
	refused(GH(", \"repositories\": [\"api\"], \"mint\": \"robot\""),
	    "'mint' must be installation or user");
	refused(GH(", \"repositories\": [\"api\"], \"jwt_issuer\": \"app_id\""),
	    "'jwt_issuer' must be client_id or app_id");
	refused(
	    "{\"providers\": {\"gh\": {\"type\": \"github-app\", \"client_id\": \"Iv1\", \"installation_id\": 7, \"permissions\": [\"issues:read\"], \"repositories\": [\"api\"]}}}",
	    "installation tokens need 'private_key'");
	refused(
	    "{\"providers\": {\"gh\": {\"type\": \"github-app\", \"private_key\": \"secret:k\", \"repository\": \"acme\", \"app_id\": 3, \"permissions\": [\"issues:read\"], \"repositories\": [\"api\"]}}}",
	    "'repository' must be \"owner/repo\"");
	refused(
	    "{\"providers\": {\"gh\": {\"type\": \"github-app\", \"mint\": \"user\", \"client_id\": \"Iv1\", \"permissions\": [\"issues:read\"], \"repositories\": [\"api\"]}}}",
	    "cannot narrow a user token to repositories");
	refused(
	    "{\"providers\": {\"gh\": {\"type\": \"github-app\", \"mint\": \"user\", \"client_id\": \"Iv1/x\", \"permissions\": [\"issues:read\"]}}}",
	    "is not a GitHub client ID");
	refused(
	    "{\"providers\": {\"gh\": {\"type\": \"github-app\", \"mint\": \"user\", \"client_id\": \"Iv1\", \"permissions\": [\"issues:read\"], \"max_ttl\": \"9h\"}}}",
	    "'max_ttl' may be at most 8h");
	refused(
	    "{\"providers\": {\"gh\": {\"type\": \"github-app\", \"mint\": \"user\", \"client_id\": \"Iv1\"}}}",
	    "key 'scopes'");
}

/* ------------------------------------------ GitHub's answers, no network */

#define NOW_MS 1790000000000LL /* 2026-09-21T14:13:20Z */

static int64_t
fixed_now(void)
{
	return NOW_MS;
}

static int
token_answer(struct prov *p, long status, const char *body,
    const char *inst_body, struct janee_token *tok)
{
	struct janee_strlist scopes, repos;
	struct janee_mint_req req = { "lse_aaaaaaaaaaaaaaaaaaaaaaaaaa", &scopes,
		&repos, 600 };
	struct janee_http_resp r = { .status = status,
		.body = (char *)(uintptr_t)body,
		.len = strlen(body),
		.retry_after_s = -1 };
	struct janee_http_resp inst = { .status = 200,
		.body = (char *)(uintptr_t)inst_body,
		.len = inst_body ? strlen(inst_body) : 0,
		.retry_after_s = -1 };
	int rc;

	memset(&scopes, 0, sizeof(scopes));
	memset(&repos, 0, sizeof(repos));
	memset(tok, 0, sizeof(*tok));
	T_EQ_INT(janee_strlist_add(&scopes, "issues:write"), 0);
	T_EQ_INT(janee_strlist_add(&repos, "api"), 0);
	janee_err_clear();
	rc = gh_token_answer(
	    &p->ctx, &req, 77, &r, inst_body ? &inst : NULL, tok);
	janee_strlist_free(&scopes);
	janee_strlist_free(&repos);
	return rc;
}

static int64_t
expiry_of(struct prov *p, const char *expires_at)
{
	struct janee_token tok;
	char *body = janee_asprintf(
	    "{\"token\": \"ghs_x\", \"expires_at\": \"%s\", \"permissions\": {\"issues\": \"write\", \"metadata\": \"read\"}}",
	    expires_at);
	int64_t ms = -1;

	T_EQ_INT(token_answer(p, 201, body, NULL, &tok), 0);
	if (janee_token_get(&tok, "token") != NULL)
		ms = tok.expires_ms;
	janee_token_clear(&tok);
	free(body);
	return ms;
}

/*
 * The token answer (POST .../access_tokens), as the fuzzer drives it:
 * expires_at is kept within [now, now + 1 h] (found by fuzz-github: an
 * expires_at of 1474 gave the lease an expiry before 1970), a grant wider
 * than asked is refused (also "permissions" as an array, whose items have no
 * name: a NULL dereference found by fuzz-github), and a 422 names the
 * permissions the installation lacks.
 */
static void
token_answers(void)
{
	struct janee_token tok;
	struct config *c = NULL;
	struct prov *p;

	T_EQ_INT(
	    parse(
		"{\"providers\": {\"gh\": {\"type\": \"github-app\", \"client_id\": \"Iv1\", \"private_key\": \"secret:k\", \"installation_id\": 77, \"permissions\": [\"issues:write\"], \"repositories\": [\"api\"]}}}",
		&c),
	    0);
	if (c == NULL)
		return;
	p = config_find(c, "gh");
	p->ctx.now_ms = fixed_now;
	T_ASSERT(expiry_of(p, "2026-09-21T14:43:20Z") == NOW_MS + 1800000);
	T_ASSERT(expiry_of(p, "2026-09-21T15:13:20Z") == NOW_MS + 3600000);
	T_ASSERT(expiry_of(p, "2027-01-01T00:00:00Z") == NOW_MS + 3600000);
	T_ASSERT(expiry_of(p, "1474-09-21T14:13:20Z") == NOW_MS);
	T_ASSERT(expiry_of(p, "2026-09-21T14:13:19Z") == NOW_MS);
	T_ASSERT(expiry_of(p, "soon") == NOW_MS + 3600000);

	T_EQ_INT(
	    token_answer(p, 201,
		"{\"token\": \"ghs_x\", \"permissions\": {\"administration\": \"write\"}}",
		NULL, &tok),
	    JANEE_ERR_PROVIDER);
	T_ASSERT(janee_token_get(&tok, "token") == NULL);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_PROVIDER),
		     "'administration:write', which was not asked") != NULL);

	/* Found by fuzz-github: items of an array have no name. */
	T_EQ_INT(
	    token_answer(p, 201,
		"{\"token\": \"ghs_x\", \"permissions\": [{\"issues\": \"write\"}, \"issues\"]}",
		NULL, &tok),
	    JANEE_ERR_PROVIDER);
	T_ASSERT(janee_token_get(&tok, "token") == NULL);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_PROVIDER),
		     "\"permissions\" that is not an object") != NULL);

	T_EQ_INT(
	    token_answer(p, 422,
		"{\"message\": \"The permissions requested are not granted to this installation.\"}",
		"{\"id\": 77, \"permissions\": {\"issues\": \"read\"}}", &tok),
	    JANEE_ERR_PROVIDER);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_PROVIDER),
		     "'issues:write' (it has issues:read)") != NULL);
	janee_err_clear();
	config_free(c);
}

/*
 * Invariant 8 at its edges: asked issues:write on api.  Exactly that (and
 * GitHub's own metadata:read) passes; one level more, one permission
 * more, metadata above read, one repository more or every repository is
 * refused.
 */
static void
grant_wider_than_asked_is_refused_at_every_edge(void)
{
	static const struct {
		const char *body, *says;
	} wider[] = {
		{ "{\"issues\": \"admin\"}", "'issues:admin'" },
		{ "{\"issues\": \"write\", \"members\": \"read\"}",
		    "'members:read'" },
		{ "{\"issues\": \"write\", \"metadata\": \"write\"}",
		    "'metadata:write'" },
	};
	struct janee_token tok;
	struct config *c = NULL;
	struct prov *p;
	char *body;
	size_t i;

	T_EQ_INT(parse("{\"providers\": {\"gh\": {\"type\": "
		       "\"github-app\", \"client_id\": \"Iv1\", "
		       "\"private_key\": \"secret:k\", \"installation_id\": "
		       "77, \"permissions\": [\"issues:write\"], "
		       "\"repositories\": [\"api\", \"web\"]}}}",
		     &c),
	    0);
	if (c == NULL)
		return;
	p = config_find(c, "gh");
	p->ctx.now_ms = fixed_now;
	T_EQ_INT(
	    token_answer(p, 201,
		"{\"token\": \"ghs_x\", \"permissions\": {\"issues\": "
		"\"write\", \"metadata\": \"read\"}, "
		"\"repository_selection\": \"selected\", \"repositories\": "
		"[{\"id\": 1, \"name\": \"api\"}]}",
		NULL, &tok),
	    0);
	T_ASSERT(tok.nparts == 1 && tok.parts[0].value != NULL);
	janee_token_clear(&tok);
	for (i = 0; i < nitems(wider); i++) {
		body = janee_asprintf(
		    "{\"token\": \"ghs_x\", \"permissions\": %s}",
		    wider[i].body);
		T_EQ_INT(
		    token_answer(p, 201, body, NULL, &tok), JANEE_ERR_PROVIDER);
		T_ASSERT(strstr(janee_err_msg(JANEE_ERR_PROVIDER),
			     wider[i].says) != NULL);
		janee_token_clear(&tok);
		free(body);
	}
	T_EQ_INT(token_answer(p, 201,
		     "{\"token\": \"ghs_x\", \"permissions\": {\"issues\": "
		     "\"write\"}, \"repository_selection\": \"selected\", "
		     "\"repositories\": [{\"id\": 1, \"name\": \"api\"}, "
		     "{\"id\": 2, \"name\": \"web\"}]}",
		     NULL, &tok),
	    JANEE_ERR_PROVIDER);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_PROVIDER),
		     "repository 'web', which was not asked") != NULL);
	janee_token_clear(&tok);
	T_EQ_INT(token_answer(p, 201,
		     "{\"token\": \"ghs_x\", \"permissions\": {\"issues\": "
		     "\"write\"}, \"repository_selection\": \"all\"}",
		     NULL, &tok),
	    JANEE_ERR_PROVIDER);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_PROVIDER),
		     "selection 'all' where repositories were named") != NULL);
	janee_token_clear(&tok);
	janee_err_clear();
	config_free(c);
}

/* ------------------------------------------ against the fake GitHub */

static const char *key_path;

static int
fake_secret_get(
    struct janee_ctx *ctx, const char *ref, struct janee_secret **out)
{
	struct buf b;
	int fd, rc;

	(void)ctx;
	*out = NULL;
	if (strcmp(ref, "secret:app-key") != 0)
		return janee_err_set(JANEE_ERR_NOT_FOUND, "no secret %s", ref);
	if ((fd = open(key_path, O_RDONLY | O_CLOEXEC)) < 0)
		return janee_err_set(JANEE_ERR_IO, "cannot open the key");
	buf_init(&b, 1 << 16);
	rc = buf_read_fd(&b, fd);
	close(fd);
	if (rc == 0 && (*out = janee_secret_new(b.p, b.len)) == NULL)
		rc = JANEE_ERR_NOMEM;
	buf_free(&b);
	return rc;
}

static void
fake_log(struct janee_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	(void)ctx;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
mint_one(struct prov *p, struct janee_strlist *scopes,
    struct janee_strlist *repos, struct janee_token *tok)
{
	struct janee_mint_req req = { "lse_aaaaaaaaaaaaaaaaaaaaaaaaaa", scopes,
		repos, 600 };
	int rc;

	memset(tok, 0, sizeof(*tok));
	rc = p->impl->mint(&p->ctx, &req, tok);
	if (rc != 0)
		fprintf(stderr, "  mint: %s\n", janee_err_msg(rc));
	T_EQ_INT(rc, 0);
	T_ASSERT(janee_token_get(tok, "token") != NULL &&
	    janee_token_get(tok, "token")->len >= 100);
	T_ASSERT(janee_strlist_has(&tok->granted, "issues:read"));
	T_ASSERT(janee_strlist_has(&tok->granted, "metadata:read"));
	T_ASSERT(!janee_strlist_has(&tok->granted, "issues:write"));
	T_ASSERT(tok->expires_ms > janee_now_ms());
	janee_err_clear();
}

/*
 * Three mints in one process: one look-up of the installation, the same
 * JWT for the first two; then, with the clock past the reuse window, a
 * new JWT for the third.  Every token is revoked again.
 */
static void
several_mints_in_one_process(void)
{
	const char *url = getenv("JANEE_GH_TEST_URL");
	const char *ca = getenv("JANEE_GH_TEST_CA");
	struct janee_strlist scopes, repos;
	struct janee_token tok[3];
	struct config *c = NULL;
	struct prov *p;
	char *json;
	int i;

	memset(&scopes, 0, sizeof(scopes));
	memset(&repos, 0, sizeof(repos));
	json = janee_asprintf(
	    "{\"providers\": {\"gh\": {\"type\": \"github-app\", \"client_id\": \"Iv23liJaneeFake0001\", \"private_key\": \"secret:app-key\", \"repository\": \"acme/api\", "
	    "\"base_url\": \"%s\", \"ca_file\": \"%s\", \"permissions\": [\"issues:write\"], \"repositories\": [\"api\", \"web\"]}}}",
	    url, ca);
	T_EQ_INT(parse(json, &c), 0);
	free(json);
	if (c == NULL)
		return;
	p = config_find(c, "gh");
	p->ctx.http = janee_http_new();
	p->ctx.secret_get = fake_secret_get;
	p->ctx.now_ms = janee_now_ms;
	p->ctx.log = fake_log;
	T_EQ_INT(janee_strlist_add(&scopes, "issues:read"), 0);
	T_EQ_INT(janee_strlist_add(&repos, "api"), 0);

	/* A JWT signed 8 minutes "ago" has a minute left: reused once. */
	janee_clock_offset_ms = -8 * 60 * 1000;
	mint_one(p, &scopes, &repos, &tok[0]);
	mint_one(p, &scopes, &repos, &tok[1]);
	janee_clock_offset_ms = 0;
	mint_one(p, &scopes, &repos, &tok[2]);
	T_ASSERT(janee_token_get(&tok[0], "token") &&
	    janee_token_get(&tok[1], "token") &&
	    janee_token_get(&tok[2], "token") &&
	    strcmp((char *)janee_token_get(&tok[0], "token")->data,
		(char *)janee_token_get(&tok[1], "token")->data) &&
	    strcmp((char *)janee_token_get(&tok[1], "token")->data,
		(char *)janee_token_get(&tok[2], "token")->data));
	for (i = 0; i < 3; i++) {
		if (janee_token_get(&tok[i], "token") != NULL)
			T_EQ_INT(
			    p->impl->revoke(&p->ctx, "lse_test", &tok[i]), 0);
		/* Revoking again: GitHub no longer knows it, which is done. */
		if (i == 0 && janee_token_get(&tok[i], "token") != NULL)
			T_EQ_INT(
			    p->impl->revoke(&p->ctx, "lse_test", &tok[i]), 0);
		janee_token_clear(&tok[i]);
	}
	janee_http_free(p->ctx.http);
	config_free(c);
	janee_strlist_free(&scopes);
	janee_strlist_free(&repos);
	janee_err_clear();
}

int
main(void)
{
	T_RUN(catalogue_knows_names_and_levels);
	T_RUN(scope_parse_refuses_with_help);
	T_RUN(levels_imply_lower_levels);
	T_RUN(repository_and_owner_names);
	T_RUN(config_extends_the_ceiling);
	T_RUN(config_refusals);
	T_RUN(token_answers);
	T_RUN(grant_wider_than_asked_is_refused_at_every_edge);
	key_path = getenv("JANEE_GH_TEST_KEY");
	if (key_path != NULL && getenv("JANEE_GH_TEST_URL") != NULL &&
	    getenv("JANEE_GH_TEST_CA") != NULL)
		T_RUN(several_mints_in_one_process);
	else
		printf(
		    "ok - several_mints_in_one_process # SKIP run by tests/t0200-github.sh against its fake GitHub\n");
	return t_done();
}
