/*
 * What call_api may do with a provider's token: its "api" configuration
 * and the request rules.
 *
 *   "api": {"base_url": "https://api.github.com",
 *           "allow": ["GET /repos/{owner}/{repo}/issues"],
 *           "deny": ["* /repos/{o}/{r}/hooks*"],
 *           "max_response": "1MiB", "timeout": "30s"}
 *
 * A rule is "METHOD PATH": METHOD is a method or "*"; in PATH "{name}"
 * matches one segment, "*" the rest of a segment, and a "*" that ends
 * the rule any rest, slashes included.  Deny wins; without an allow that
 * matches, nothing is allowed.
 *
 * A path is checked before it is matched and refused, never "fixed",
 * when it holds anything a server could read as another path: "." and
 * ".." segments, encoded dots, slashes, backslashes and percent signs,
 * "//", control bytes, raw non-ASCII, overlong or invalid UTF-8.  The
 * path sent is then byte for byte the path that matched.
 */
#ifndef JANEE_API_RULES_H
#define JANEE_API_RULES_H

#include "common.h"

#define API_MAX_RESPONSE_DEFAULT (1024 * 1024)
#define API_MAX_RESPONSE_LIMIT (64 * 1024 * 1024)
#define API_TIMEOUT_DEFAULT_S 30
#define API_TIMEOUT_LIMIT_S 300
#define API_PATH_MAX 2048

struct api_rules {
	char *base_url; /* without trailing slashes */
	char *ca_file; /* the provider's, or NULL: the system's CAs */
	char *version_header; /* the provider's API version header, or NULL */
	/* The rule's "{name}" that is a resource: within the allow-list. */
	char *resource_var;
	/* The header carrying the token, and its scheme ("": none). */
	char *auth_header, *auth_scheme;
	/* Sent unless the agent sets the name (the provider's api_headers). */
	struct janee_strlist default_headers;
	/* The provider's "client_secret" reference: redacted from answers. */
	char *client_secret_ref;
	struct janee_strlist allow, deny;
	size_t max_response;
	int64_t timeout_s;
};

/* What a rule's "{name}" segments matched (raw, as in the path). */
#define API_MAX_VARS 8
/*
 * Several '*' in one segment make matching backtrack; past this many steps
 * a rule is given up on and the call denied (fail closed), so that no path
 * an agent sends can make matching take exponential time (fuzz-api).
 */
#define API_MATCH_MAX_STEPS 100000

struct api_match {
	const char *rule; /* the rule that decided; NULL when none did */
	unsigned long steps; /* of match_path, for API_MATCH_MAX_STEPS */
	int too_complex; /* a rule needed more: the call is denied */
	size_t nvars;
	struct {
		char name[32];
		char value[256];
	} vars[API_MAX_VARS];
};

enum api_verdict { API_ALLOW, API_DENY, API_UNLISTED };

/*
 * Check a path as the agent gave it (without query); 0 when it may be
 * matched, -1 with why in err (no secret: the path is the agent's own).
 */
int api_path_check(const char *path, char *err, size_t errn);

/* Whether s is a method call_api sends: GET HEAD POST PUT PATCH DELETE. */
int api_method_ok(const char *s);

/*
 * Check a rule's syntax; 0, or JANEE_ERR_CONFIG naming where and the
 * rule.
 */
int api_rule_check(const char *where, const char *rule) JANEE_WUR;

/* Whether rule matches method and path (path_check'ed); fills m's vars. */
int api_rule_match(const char *rule, const char *method, const char *path,
    struct api_match *m);

/*
 * Decide method and path (which must pass api_path_check) under r: deny
 * rules first, then allow; m->rule names the rule that decided.
 */
enum api_verdict api_decide(const struct api_rules *r, const char *method,
    const char *path, struct api_match *m);

/* The value of "{name}" in m, or NULL. */
const char *api_match_var(const struct api_match *m, const char *name);

/* "1MiB", "512KiB", "1MB", "2048" (bytes) within the limit; 0 or -1. */
int api_size_parse(const char *s, size_t *out);

void api_rules_free(struct api_rules *r);

struct janee_info;

/*
 * api-provider.c: fill r's defaults from what the provider's configure()
 * declared in info (the API base URL when the configuration names none,
 * the auth header, the API version and default headers, the resource
 * variable) and the entry's "ca_file" (NULL when absent).
 * JANEE_ERR_CONFIG naming where when a base URL is needed and missing,
 * or the provider has no HTTP API (no auth header); type only names it.
 */
int
api_provider_defaults(struct api_rules *r, const char *where, const char *type,
    const struct janee_info *info, const char *prov_ca) JANEE_WUR;

/*
 * A matched call's resource, when the provider names one (GitHub's
 * {repo}), must be within the resource allow-list (empty: all); 0, or -1
 * with why in err, which calls the resource word (the provider's own,
 * "repository"; NULL: "resource").
 */
int api_provider_check(const struct api_rules *r, const char *word,
    const struct janee_strlist *allow, const struct api_match *m, char *err,
    size_t errn);

#endif
