/*
 * Unit tests: call_api's path check, rule matcher and "api"
 * configuration (src/api-rules.c, src/api-provider.c, src/config.c).
 */
#include "common.h"

#include "api-call.h"
#include "api-rules.h"
#include "util.h"
#include "config.h"
#include "ledger.h"

#include "t.h"

static int
refused_path(const char *path)
{
	char err[200];

	return api_path_check(path, err, sizeof(err)) != 0;
}

/*
 * Spellings of "go up", "same place" or "another separator" that some
 * server, proxy or framework has read as traversal: every one refused
 * (and none "fixed" into something else).
 */
static const char *const traversals[] = {
	"/../etc/passwd",
	"/repos/o/r/../../admin",
	"/repos/o/r/..",
	"/repos/./o/r",
	"/repos/o/r/.",
	"/%2e%2e/admin",
	"/%2E%2E/admin",
	"/%2e%2E/admin",
	"/.%2e/admin",
	"/%2e./admin",
	"/%2e/admin",
	"/repos/o/r/%2e%2e%2f%2e%2e%2fadmin",
	"/repos/o/r/..%2fadmin",
	"/repos/o/r/..%2Fadmin",
	"/repos/o%2fr/issues",
	"/repos/o/r/..%5cadmin",
	"/repos/o/r/..%5Cadmin",
	"/repos/o/r/..\\admin",
	"/repos\\o\\r",
	"//admin",
	"/repos//o/r",
	"/repos/o/r//",
	"/repos/o/r/%00",
	"/repos/o/r/..%00/x",
	"/repos/o/r\x01",
	"/repos/o/r\t",
	"/repos/o/r\x7f",
	"/repos/o/r\n/x",
	"/%c0%ae%c0%ae/admin",
	"/%C0%AE%C0%AE/admin",
	"/%e0%80%ae%e0%80%ae/admin",
	"/%f0%80%80%ae/admin",
	"/%c0%af..%c0%afadmin",
	"/%c1%9c../admin",
	"/%c0%2e%c0%2e/admin",
	"/%252e%252e/admin",
	"/%25252e%25252e/admin",
	"/%25%32%65%25%32%65/admin",
	"/repos/o/r/..;/admin",
	"/repos/o/r;x=1/issues",
	"/%ef%bc%8e%ef%bc%8e/admin",
	"/repos/o/r/%ef%bc%8fadmin",
	"/repos/o/r/%ef%bc%bcadmin",
	"/%e2%80%a4%e2%80%a4/admin",
	"/%ed%a0%80/admin",
	"/%ff/admin",
	"/%c3/admin",
	"/repos/o/r/\xc0\xae\xc0\xae/admin",
	"/repos/o/r/caf\xc3\xa9",
	"/repos/o/r/%",
	"/repos/o/r/%2",
	"/repos/o/r/%zz",
	"/repos/o/r?x=1",
	"/repos/o/r#frag",
	"repos/o/r",
	"",
	"..",
	"/..",
	"/.",
};

static void
traversal_spellings_are_all_refused(void)
{
	size_t i;

	T_ASSERT(nitems(traversals) >= 30);
	for (i = 0; i < nitems(traversals); i++)
		if (!refused_path(traversals[i])) {
			fprintf(stderr, "  accepted: \"%s\"\n", traversals[i]);
			t_case_failed = 1;
		}
}

static void
ordinary_paths_pass(void)
{
	T_ASSERT(!refused_path("/"));
	T_ASSERT(!refused_path("/repos/octo/hello-world/issues"));
	T_ASSERT(!refused_path("/repos/octo/hello.world/issues/12"));
	T_ASSERT(!refused_path("/repos/octo/r/contents/a..b"));
	T_ASSERT(!refused_path("/repos/octo/r/contents/.github"));
	T_ASSERT(!refused_path("/search/issues/caf%C3%A9"));
	T_ASSERT(!refused_path("/chat.postMessage"));
	T_ASSERT(!refused_path("/repos/o/r/issues/"));
	T_ASSERT(!refused_path("/a%20b"));
}

/*
 * The rules compare the path as sent; the server decodes it.  An
 * encoded unreserved character or ';' would let a path match no deny
 * rule and still reach what the rule names: refused, in either case of
 * hex.  Bytes that must be encoded (a space, non-ASCII) still pass.
 */
static void
needless_encodings_are_refused(void)
{
	static const char *const bad[] = { "/x/%68ooks", "/x/%68OOKS",
		"/x/hoo%6bs", "/x/hoo%6Bs", "/x/%48ooks", "/x/%31", "/x/%2d",
		"/x/%2D", "/x/%5f", "/x/%5F", "/x/%7e", "/x/%7E", "/x%3B",
		"/x%3b", "/x%3Bp=1/y" };
	char err[200];
	size_t i;

	for (i = 0; i < nitems(bad); i++)
		if (api_path_check(bad[i], err, sizeof(err)) == 0) {
			fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
			t_case_failed = 1;
		}
	T_ASSERT(api_path_check("/x/%68ooks", err, sizeof(err)) != 0);
	T_ASSERT(strstr(err, "percent-encoded letter") != NULL);
	T_ASSERT(api_path_check("/x%3B", err, sizeof(err)) != 0);
	T_ASSERT(strstr(err, "encoded ';'") != NULL);
	T_ASSERT(!refused_path("/x/a%20b%2Bc%3Ad%40e%2C%C3%A9"));
}

static int
rule_matches(const char *rule, const char *method, const char *path)
{
	struct api_match m;

	memset(&m, 0, sizeof(m));
	return api_rule_match(rule, method, path, &m);
}

static void
rule_placeholders_match_one_segment(void)
{
	struct api_match m;
	const char *r = "GET /repos/{owner}/{repo}/issues";

	memset(&m, 0, sizeof(m));
	T_ASSERT(api_rule_match(r, "GET", "/repos/octo/hello/issues", &m));
	T_EQ_STR(api_match_var(&m, "owner"), "octo");
	T_EQ_STR(api_match_var(&m, "repo"), "hello");
	T_ASSERT(api_match_var(&m, "other") == NULL);
	T_ASSERT(!rule_matches(r, "GET", "/repos/octo/a/b/issues"));
	T_ASSERT(!rule_matches(r, "GET", "/repos/octo/issues"));
	T_ASSERT(!rule_matches(r, "GET", "/repos/octo/hello/issues/1"));
	T_ASSERT(!rule_matches(r, "GET", "/repos/octo/hello/issuesX"));
	T_ASSERT(!rule_matches(r, "POST", "/repos/octo/hello/issues"));
	T_ASSERT(!rule_matches(r, "get", "/repos/octo/hello/issues"));
}

static void
rule_stars_match_a_segment_or_the_rest(void)
{
	/* Inside: the rest of one segment only. */
	T_ASSERT(rule_matches("GET /a/*/c", "GET", "/a/b/c"));
	T_ASSERT(!rule_matches("GET /a/*/c", "GET", "/a/b/x/c"));
	T_ASSERT(rule_matches("GET /a/b*/c", "GET", "/a/bxy/c"));
	T_ASSERT(rule_matches("GET /a/b*/c", "GET", "/a/b/c"));
	T_ASSERT(!rule_matches("GET /a/b*/c", "GET", "/a/xb/c"));
	/* Trailing: any rest, slashes included. */
	T_ASSERT(rule_matches("GET /a/*", "GET", "/a/b/c/d"));
	T_ASSERT(rule_matches(
	    "* /repos/*/*/hooks*", "DELETE", "/repos/o/r/hooks/1/pings"));
	T_ASSERT(
	    rule_matches("* /repos/*/*/hooks*", "GET", "/repos/o/r/hooks"));
	T_ASSERT(!rule_matches("* /repos/*/*/hooks*", "GET", "/repos/o/hooks"));
	T_ASSERT(rule_matches("POST /repos/{owner}/{repo}/issues/*/comments",
	    "POST", "/repos/o/r/issues/7/comments"));
	T_ASSERT(!rule_matches("POST /repos/{owner}/{repo}/issues/*/comments",
	    "POST", "/repos/o/r/issues/7/x/comments"));
}

/*
 * Found by fuzz-api: several '*' in one segment backtracked exponentially
 * on a long path an agent sends.  Past API_MATCH_MAX_STEPS the call is
 * denied, whatever an allow rule says, and at once.
 */
static void
backtracking_rules_fail_closed_quickly(void)
{
	struct api_rules r;
	struct api_match m;
	char path[128];
	int64_t t0;

	memset(&r, 0, sizeof(r));
	memset(path, 'x', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	T_ASSERT(janee_strlist_add(&r.allow, "GET /*x*x*x*x*x*x*x*x*x*y") == 0);
	t0 = janee_now_ms();
	T_EQ_INT(api_decide(&r, "GET", path, &m), API_DENY);
	T_ASSERT(m.too_complex);
	T_ASSERT(janee_now_ms() - t0 < 2000);
	/* A path that matches without much backtracking is still allowed. */
	T_EQ_INT(api_decide(&r, "GET", "/xxxxxxxxxy", &m), API_ALLOW);
	janee_strlist_free(&r.allow);
}

static void
deny_wins_and_no_allow_allows_nothing(void)
{
	struct api_rules r;
	struct api_match m;

	memset(&r, 0, sizeof(r));
	T_EQ_INT(api_decide(&r, "GET", "/repos/o/r/issues", &m), API_UNLISTED);
	T_ASSERT(m.rule == NULL);
	T_ASSERT(
	    janee_strlist_add(&r.allow, "GET /repos/{owner}/{repo}/*") == 0);
	T_ASSERT(janee_strlist_add(&r.deny, "* /repos/*/*/hooks*") == 0);
	T_EQ_INT(api_decide(&r, "GET", "/repos/o/r/issues", &m), API_ALLOW);
	T_EQ_STR(m.rule, "GET /repos/{owner}/{repo}/*");
	T_EQ_STR(api_match_var(&m, "repo"), "r");
	T_EQ_INT(api_decide(&r, "GET", "/repos/o/r/hooks/1", &m), API_DENY);
	T_EQ_STR(m.rule, "* /repos/*/*/hooks*");
	T_EQ_INT(api_decide(&r, "POST", "/repos/o/r/issues", &m), API_UNLISTED);
	janee_strlist_free(&r.allow);
	janee_strlist_free(&r.deny);
}

/*
 * A {name} value too long for a match to hold leaves the rule
 * unevaluated: the call is denied, not let past a deny rule.
 */
static void
unevaluated_rules_fail_closed(void)
{
	struct api_rules r;
	struct api_match m;
	char path[400];

	memset(&r, 0, sizeof(r));
	T_ASSERT(janee_strlist_add(&r.allow, "GET /files/*") == 0);
	T_ASSERT(janee_strlist_add(&r.deny, "GET /files/{id}/secret") == 0);
	memcpy(path, "/files/", 7);
	memset(path + 7, 'a', 300);
	memcpy(path + 307, "/secret", 8);
	T_EQ_INT(api_decide(&r, "GET", path, &m), API_DENY);
	T_EQ_STR(m.rule, "GET /files/{id}/secret");
	T_ASSERT(m.too_complex);
	/* 255 bytes fit: the deny rule matches as written. */
	memcpy(path + 7 + 255, "/secret", 8);
	T_EQ_INT(api_decide(&r, "GET", path, &m), API_DENY);
	T_ASSERT(!m.too_complex);
	T_EQ_INT(api_decide(&r, "GET", "/files/1/public", &m), API_ALLOW);
	janee_strlist_free(&r.allow);
	janee_strlist_free(&r.deny);
	/* No rule names more {name} than a match holds. */
	T_EQ_INT(
	    api_rule_check("api", "GET /{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}"), 0);
	T_EQ_INT(
	    api_rule_check("api", "GET /{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}"),
	    JANEE_ERR_CONFIG);
	janee_err_clear();
}

static void
bad_rules_are_refused(void)
{
	static const char *const bad[] = { "GET", "GET  /a", "get /a",
		"FETCH /a", "GET a", "GET /a/{Owner}", "GET /a/{}", "GET /a/{x",
		"GET /a/x{y}", "GET /a/{y}z", "GET /a/../b", "GET /a//b",
		"GET /a/%2e%2e", "GET /a?x", "/a", "GET /a}" };
	size_t i;

	for (i = 0; i < nitems(bad); i++) {
		if (api_rule_check("api", bad[i]) != JANEE_ERR_CONFIG) {
			fprintf(stderr, "  accepted rule \"%s\"\n", bad[i]);
			t_case_failed = 1;
		}
		janee_err_clear();
	}
	T_EQ_INT(api_rule_check("api", "GET /repos/{owner}/{repo}/issues"), 0);
	T_EQ_INT(api_rule_check("api", "* /repos/*/*/hooks*"), 0);
	T_EQ_INT(api_rule_check("api", "DELETE /a/*"), 0);
}

static void
sizes_parse_with_units_and_limits(void)
{
	size_t v = 0;

	T_EQ_INT(api_size_parse("1MiB", &v), 0);
	T_EQ_INT(v, 1024 * 1024);
	T_EQ_INT(api_size_parse("512KiB", &v), 0);
	T_EQ_INT(v, 512 * 1024);
	T_EQ_INT(api_size_parse("2MB", &v), 0);
	T_EQ_INT(v, 2000000);
	T_EQ_INT(api_size_parse("4096", &v), 0);
	T_EQ_INT(v, 4096);
	T_EQ_INT(api_size_parse("65MiB", &v), -1);
	T_EQ_INT(api_size_parse("0", &v), -1);
	T_EQ_INT(api_size_parse("1 MiB", &v), -1);
	T_EQ_INT(api_size_parse("1GiB", &v), -1);
	T_EQ_INT(api_size_parse("-1", &v), -1);
	T_EQ_INT(api_size_parse("", &v), -1);
}

/* --- configuration ------------------------------------------------- */

static int
parse(const char *json, struct config **out)
{
	*out = NULL;
	janee_err_clear();
	return config_parse(json, "config.json", janee_providers, NULL, out);
}

#define API(extra) \
	"{\"providers\": {\"t\": {\"type\": \"test\", " \
	"\"state_dir\": \"/tmp\", \"scopes\": [\"read\"], \"api\": {" extra \
	"}}}}"

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
api_config_reads_and_defaults(void)
{
	struct config *c;
	struct prov *p = NULL;

	T_EQ_INT(parse(API("\"base_url\": \"http://127.0.0.1:9/v1/\", "
			   "\"allow\": [\"GET /x/{id}\"], \"deny\": "
			   "[\"* /x/admin*\"], \"max_response\": \"64KiB\", "
			   "\"timeout\": \"5s\""),
		     &c),
	    0);
	T_ASSERT(
	    c != NULL && (p = config_find(c, "t")) != NULL && p->api != NULL);
	if (c == NULL || p == NULL || p->api == NULL)
		return;
	T_EQ_STR(p->api->base_url, "http://127.0.0.1:9/v1");
	T_EQ_INT(p->api->allow.n, 1);
	T_EQ_INT(p->api->deny.n, 1);
	T_EQ_INT(p->api->max_response, 65536);
	T_EQ_INT(p->api->timeout_s, 5);
	config_free(c);
	/* Without "api", call_api has nothing to allow. */
	T_EQ_INT(parse("{\"providers\": {\"t\": {\"type\": \"test\", "
		       "\"state_dir\": \"/tmp\", \"scopes\": [\"read\"]}}}",
		     &c),
	    0);
	T_ASSERT(c != NULL && config_find(c, "t")->api == NULL);
	config_free(c);
	T_EQ_INT(
	    parse(API("\"base_url\": \"https://api.example.com\""), &c), 0);
	T_EQ_INT(
	    config_find(c, "t")->api->max_response, API_MAX_RESPONSE_DEFAULT);
	T_EQ_INT(config_find(c, "t")->api->timeout_s, API_TIMEOUT_DEFAULT_S);
	config_free(c);
}

static void
api_config_mistakes_are_named(void)
{
	refused(API("\"base_url\": \"https://a.example\", \"alow\": []"),
	    "config.json: providers.t.api: unknown key 'alow'; did you mean "
	    "'allow'?");
	refused(API("\"allow\": [\"GET /x\"]"), "key 'base_url' is required");
	refused(API("\"base_url\": \"http://example.com\""), "'base_url'");
	refused(API("\"base_url\": \"https://a.example/?q=1\""), "'base_url'");
	refused(API("\"base_url\": \"https://a.example\", \"allow\": "
		    "[\"GET /a/../b\"]"),
	    "rule 'GET /a/../b'");
	refused(API("\"base_url\": \"https://a.example\", \"deny\": "
		    "[\"fetch /a\"]"),
	    "rule 'fetch /a'");
	refused(API("\"base_url\": \"https://a.example\", \"max_response\": "
		    "\"1GiB\""),
	    "key 'max_response' must be a size");
	refused(API("\"base_url\": \"https://a.example\", \"timeout\": "
		    "\"1h\""),
	    "key 'timeout' must be at most 5m");
	refused("{\"providers\": {\"t\": {\"type\": \"test\", "
		"\"state_dir\": \"/tmp\", \"scopes\": [\"read\"], \"api\": "
		"[]}}}",
	    "key 'api' must be an object");
}

static void
provider_defaults_come_from_its_info(void)
{
	static const char *const hdrs[] = { "Accept: application/x+json",
		"X-Api-Version: 7", NULL };
	struct janee_info info;
	struct api_rules *r;

	/* What a provider declares: base, token header, version, headers. */
	memset(&info, 0, sizeof(info));
	info.api_base = "https://api.example.com";
	info.auth_header = "X-Token";
	info.api_headers = hdrs;
	info.api_version_header = "X-Api-Version";
	info.api_resource_var = "repo";
	T_ASSERT((r = calloc(1, sizeof(*r))) != NULL);
	T_EQ_INT(api_provider_defaults(r, "w", "t", &info, "ca"), 0);
	T_EQ_STR(r->base_url, "https://api.example.com");
	T_EQ_STR(r->ca_file, "ca");
	T_EQ_STR(r->auth_header, "X-Token");
	T_EQ_STR(r->auth_scheme, ""); /* no scheme: the token alone */
	T_EQ_STR(r->version_header, "X-Api-Version");
	T_EQ_STR(r->resource_var, "repo");
	T_EQ_INT(r->default_headers.n, 2);
	T_EQ_STR(r->default_headers.v[1], "X-Api-Version: 7");
	api_rules_free(r);
	/* The configuration's base_url wins over the provider's. */
	T_ASSERT((r = calloc(1, sizeof(*r))) != NULL);
	T_ASSERT((r->base_url = strdup("https://ghe.example/api/v3")) != NULL);
	info.auth_scheme = "Bearer";
	T_EQ_INT(api_provider_defaults(r, "w", "t", &info, NULL), 0);
	T_EQ_STR(r->base_url, "https://ghe.example/api/v3");
	T_EQ_STR(r->auth_scheme, "Bearer");
	T_ASSERT(r->ca_file == NULL);
	api_rules_free(r);
	/* No default base: the configuration must name one. */
	T_ASSERT((r = calloc(1, sizeof(*r))) != NULL);
	info.api_base = NULL;
	T_EQ_INT(
	    api_provider_defaults(r, "w", "t", &info, NULL), JANEE_ERR_CONFIG);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_CONFIG),
		     "key 'base_url' is required") != NULL);
	janee_err_clear();
	api_rules_free(r);
	/* No token header: no HTTP API to call. */
	T_ASSERT((r = calloc(1, sizeof(*r))) != NULL);
	info.api_base = "https://api.example.com";
	info.auth_header = NULL;
	T_EQ_INT(
	    api_provider_defaults(r, "w", "t", &info, NULL), JANEE_ERR_CONFIG);
	T_ASSERT(
	    strstr(janee_err_msg(JANEE_ERR_CONFIG), "no HTTP API") != NULL);
	janee_err_clear();
	api_rules_free(r);
}

static void
test_provider_api_base_is_the_default_base_url(void)
{
	struct config *c;
	struct prov *p = NULL;

	T_EQ_INT(parse("{\"providers\": {\"t\": {\"type\": \"test\", "
		       "\"state_dir\": \"/tmp\", \"scopes\": [\"read\"], "
		       "\"api_base\": \"http://127.0.0.1:9/base/\", "
		       "\"api\": {\"allow\": [\"GET /x\"]}}}}",
		     &c),
	    0);
	T_ASSERT(
	    c != NULL && (p = config_find(c, "t")) != NULL && p->api != NULL);
	if (c == NULL || p == NULL || p->api == NULL)
		return;
	T_EQ_STR(p->api->base_url, "http://127.0.0.1:9/base");
	T_EQ_STR(p->api->auth_header, "Authorization");
	T_EQ_STR(p->api->auth_scheme, "Bearer");
	T_ASSERT(p->api->resource_var == NULL);
	config_free(c);
}

static void
resource_variable_must_be_in_the_allow_list(void)
{
	struct api_rules r;
	struct api_match m;
	struct janee_strlist repos = { 0 };
	char err[200], var[] = "repo";

	memset(&r, 0, sizeof(r));
	r.resource_var = var;
	T_ASSERT(janee_strlist_add(&repos, "hello") == 0);
	T_ASSERT(janee_strlist_add(&repos, "id:42") == 0);
	memset(&m, 0, sizeof(m));
	T_ASSERT(api_rule_match("GET /repos/{owner}/{repo}/issues", "GET",
	    "/repos/octo/Hello/issues", &m));
	T_EQ_INT(
	    api_provider_check(&r, "repository", &repos, &m, err, sizeof(err)),
	    0);
	T_ASSERT(api_rule_match("GET /repos/{owner}/{repo}/issues", "GET",
	    "/repos/octo/other/issues", &m));
	T_EQ_INT(
	    api_provider_check(&r, "repository", &repos, &m, err, sizeof(err)),
	    -1);
	T_EQ_STR(err,
	    "repository 'other' is not in the provider's repository "
	    "allow-list");
	T_ASSERT(api_rule_match("GET /repos/{owner}/{repo}/issues", "GET",
	    "/repos/octo/a%20b/issues", &m));
	T_EQ_INT(
	    api_provider_check(&r, NULL, &repos, &m, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "resource 'a%20b' is not in") != NULL);
	/* An empty allow-list is all the provider's resources. */
	janee_strlist_free(&repos);
	T_EQ_INT(api_provider_check(&r, NULL, &repos, &m, err, sizeof(err)), 0);
	T_ASSERT(janee_strlist_add(&repos, "hello") == 0);
	/* A provider that names no resource variable: no check. */
	r.resource_var = NULL;
	T_ASSERT(api_rule_match("GET /repos/{owner}/{repo}/issues", "GET",
	    "/repos/octo/other/issues", &m));
	T_EQ_INT(api_provider_check(&r, NULL, &repos, &m, err, sizeof(err)), 0);
	janee_strlist_free(&repos);
}

/* janee proxy's query goes on as sent, or is refused: never re-encoded. */
static void
proxy_query_is_sent_as_is_or_refused(void)
{
	static const char *const bad[] = { "a=b c", "a=%zz", "a=%2", "a=%",
		"a=b#f", "a=\x01", "a=\x7f", "a=caf\xc3\xa9" };
	char base[] = "http://127.0.0.1:1/api", err[200];
	struct api_rules r;
	struct api_call c;
	struct prov pv;
	size_t i;

	memset(&r, 0, sizeof(r));
	memset(&pv, 0, sizeof(pv));
	r.base_url = base;
	pv.api = &r;
	memset(&c, 0, sizeof(c));
	c.pv = &pv;
	c.method = "GET";
	c.path = "/x";
	T_ASSERT(api_call_finish(
		     &c, "a=b%20c&d&e=%2F", NULL, err, sizeof(err)) == 0);
	T_ASSERT(
	    strcmp(c.url, "http://127.0.0.1:1/api/x?a=b%20c&d&e=%2F") == 0);
	api_call_free(&c);
	for (i = 0; i < nitems(bad); i++) {
		c.pv = &pv;
		c.method = "GET";
		c.path = "/x";
		T_ASSERT(
		    api_call_finish(&c, bad[i], NULL, err, sizeof(err)) != 0);
		T_ASSERT(strstr(err, "query") != NULL);
		api_call_free(&c);
	}
}

static struct api_lease *
kept(const char *id)
{
	struct api_lease *l = calloc(1, sizeof(*l));

	T_ASSERT(l != NULL);
	l->provider = janee_strdup("p");
	l->key = janee_strdup("k");
	snprintf(l->lease_id, sizeof(l->lease_id), "%s", id);
	return l;
}

/*
 * A kept lease is forgotten only when the ledger says it ended (here: it
 * has no row); while the ledger cannot be read it is not used but kept,
 * so that janee proxy's stop can still end it.
 */
static void
kept_lease_outlives_an_unreadable_ledger(void)
{
	struct api_lease *list = NULL;
	struct api_call c;
	struct api_ctx x;
	struct prov pv;
	char *dir = t_tmpdir(), *path = janee_asprintf("%s/janee.db", dir);
	char name[] = "p", key[] = "k";

	memset(&x, 0, sizeof(x));
	memset(&c, 0, sizeof(c));
	memset(&pv, 0, sizeof(pv));
	pv.name = name;
	c.pv = &pv;
	c.key = key;
	T_EQ_INT(ledger_open(path, 1, &x.lg), 0);
	list = kept("lse_nosuchleaseaaaaaaaaaaaaaa");
	T_ASSERT(api_lease_find(&x, &list, &c) == NULL);
	T_ASSERT(list == NULL);
	list = kept("lse_nosuchleaseaaaaaaaaaaaaaa");
	T_EQ_INT(ledger_exec(x.lg, "ALTER TABLE leases RENAME TO gone"), 0);
	T_ASSERT(api_lease_find(&x, &list, &c) == NULL);
	T_ASSERT(list != NULL);
	api_lease_free_all(&list);
	janee_err_clear();
	ledger_close(x.lg);
	free(path);
	free(dir);
}

int
main(void)
{
	T_RUN(traversal_spellings_are_all_refused);
	T_RUN(ordinary_paths_pass);
	T_RUN(needless_encodings_are_refused);
	T_RUN(rule_placeholders_match_one_segment);
	T_RUN(rule_stars_match_a_segment_or_the_rest);
	T_RUN(deny_wins_and_no_allow_allows_nothing);
	T_RUN(unevaluated_rules_fail_closed);
	T_RUN(bad_rules_are_refused);
	T_RUN(sizes_parse_with_units_and_limits);
	T_RUN(api_config_reads_and_defaults);
	T_RUN(api_config_mistakes_are_named);
	T_RUN(provider_defaults_come_from_its_info);
	T_RUN(test_provider_api_base_is_the_default_base_url);
	T_RUN(resource_variable_must_be_in_the_allow_list);
	T_RUN(backtracking_rules_fail_closed_quickly);
	T_RUN(proxy_query_is_sent_as_is_or_refused);
	T_RUN(kept_lease_outlives_an_unreadable_ledger);
	return t_done();
}
