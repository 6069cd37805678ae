/* Unit tests: config.json validation. */
#include "common.h"

#include "config.h"

#include "t.h"

static int
parse(const char *json, struct config **out)
{
	*out = NULL;
	janee_err_clear();
	return config_parse(json, "config.json", janee_providers, NULL, out);
}

/* Parsing fails with JANEE_ERR_CONFIG and a message holding `needle`. */
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

#define PROV(extra) \
	"{\"providers\": {\"gh\": {\"type\": \"test\", " \
	"\"state_dir\": \"/tmp\", \"scopes\": [\"read\", \"write\"]" extra \
	"}}}"

static void
valid_config_loads_with_defaults(void)
{
	struct config *c;
	struct prov *p;

	T_EQ_INT(parse(PROV(""), &c), 0);
	T_ASSERT(c != NULL && c->n == 1);
	p = config_find(c, "gh");
	T_ASSERT(p != NULL);
	T_EQ_INT(p->pol.max_ttl_s, 3600);
	T_EQ_INT(p->pol.default_ttl_s, 900);
	T_EQ_INT(p->pol.approval, APPROVAL_ASK);
	T_EQ_INT(p->pol.ceiling.n, 2);
	T_ASSERT(config_find(c, "nope") == NULL);
	config_free(c);
	T_EQ_INT(parse("{}", &c), 0);
	T_EQ_INT(c->n, 0);
	config_free(c);
}

static void
durations_take_strings_and_seconds(void)
{
	struct config *c;

	T_EQ_INT(
	    parse(PROV(", \"max_ttl\": \"5m\", \"default_ttl\": 90"), &c), 0);
	T_EQ_INT(c->provs[0].pol.max_ttl_s, 300);
	T_EQ_INT(c->provs[0].pol.default_ttl_s, 90);
	config_free(c);
	refused(PROV(", \"max_ttl\": \"5 minutes\""), "'max_ttl'");
	refused(PROV(", \"max_ttl\": 0"), "'max_ttl'");
	refused(PROV(", \"max_ttl\": 1.5"), "'max_ttl'");
	refused(PROV(", \"max_ttl\": \"5m\", \"default_ttl\": \"10m\""),
	    "'default_ttl' is longer");
}

static void
unknown_keys_are_named(void)
{
	refused(PROV(", \"scope\": [\"read\"]"), "unknown key 'scope'");
	refused("{\"provider\": {}}", "unknown key 'provider'");
	/* a key only the provider reads, misspelt */
	refused(PROV(", \"fail_mnt\": true"), "unknown key 'fail_mnt'");
}

static void
wrong_types_are_named(void)
{
	refused(PROV(", \"approval\": true"), "'approval'");
	refused(PROV(", \"fail_mint\": \"yes\""), "'fail_mint'");
	refused(PROV(", \"token_length\": \"44\""), "'token_length'");
	refused(
	    "{\"providers\": {\"gh\": {\"type\": \"test\", \"state_dir\": \"/tmp\", \"scopes\": \"read\"}}}",
	    "'scopes' must be an array");
	refused(
	    "{\"providers\": {\"gh\": {\"type\": \"test\", \"state_dir\": \"/tmp\", \"scopes\": [\"read\", 5]}}}",
	    "'scopes'");
	refused("{\"providers\": []}", "'providers' must be an object");
	refused("[]", "top level");
	refused("{\"providers\": {\"gh\": 5}}", "must be an object");
}

static void
invariant_8_empty_ceiling_is_an_error_not_everything(void)
{
	refused(
	    "{\"providers\": {\"gh\": {\"type\": \"test\", \"state_dir\": \"/tmp\", \"scopes\": []}}}",
	    "'scopes'");
	refused(
	    "{\"providers\": {\"gh\": {\"type\": \"test\", \"state_dir\": \"/tmp\"}}}",
	    "'scopes'");
	refused(PROV(", \"default_scopes\": [\"admin\"]"),
	    "default scope 'admin' is not in 'scopes'");
}

static void
bad_documents_and_names_are_refused(void)
{
	refused("{\"providers\": ", "not valid JSON");
	refused("", "not valid JSON");
	refused(PROV(", \"approval\": \"sometimes\""),
	    "auto, ask, out-of-band or deny");
	refused(
	    "{\"providers\": {\"gh\": {\"type\": \"gitlab\", \"scopes\": [\"x\"]}}}",
	    "unknown provider type 'gitlab'");
	refused("{\"providers\": {\"gh\": {\"scopes\": [\"x\"]}}}",
	    "'type' is required");
	refused("{\"providers\": {\"Bad Name\": {\"type\": \"test\"}}}",
	    "provider name");
	refused(
	    "{\"providers\": {\"gh\": {\"type\": \"test\", \"scopes\": [\"x\"]}}}",
	    "'state_dir' is required");
	refused(
	    "{\"providers\": {\"a\": {\"type\": \"test\", \"state_dir\": \"/tmp\", \"scopes\": [\"x\"]}, \"a\": {\"type\": \"test\", \"state_dir\": \"/tmp\", \"scopes\": [\"x\"]}}}",
	    "twice");
}

static void
out_of_band_patterns_match_levels_and_names(void)
{
	struct config *c;
	struct janee_strlist sc;

	memset(&sc, 0, sizeof(sc));
	T_EQ_INT(
	    parse(
		"{\"providers\": {\"gh\": {\"type\": \"test\", \"state_dir\": \"/tmp\", \"scopes\": [\"issues:read\", \"issues:write\", \"admin\"], \"require_out_of_band\": [\"*:write\", \"admin\"]}}}",
		&c),
	    0);
	T_EQ_INT(janee_strlist_add(&sc, "issues:read"), 0);
	T_ASSERT(!policy_needs_oob(&c->provs[0].pol, &sc));
	T_EQ_INT(janee_strlist_add(&sc, "issues:write"), 0);
	T_ASSERT(policy_needs_oob(&c->provs[0].pol, &sc));
	janee_strlist_free(&sc);
	T_EQ_INT(janee_strlist_add(&sc, "admin"), 0);
	T_ASSERT(policy_needs_oob(&c->provs[0].pol, &sc));
	janee_strlist_free(&sc);
	/* "*:write" is about levels: a bare "write" is not "x:write". */
	T_EQ_INT(janee_strlist_add(&sc, "write"), 0);
	T_ASSERT(!policy_needs_oob(&c->provs[0].pol, &sc));
	janee_strlist_free(&sc);
	config_free(c);
}

static void
strings_expand_environment_variables(void)
{
	struct config *c;

	setenv("JANEE_T_STATE", "/tmp", 1);
	T_EQ_INT(
	    parse(
		"{\"providers\": {\"gh\": {\"type\": \"oauth2\", \"issuer\": \"https://${JANEE_T_HOST}/x\", \"client_id\": \"c\", \"scopes\": [\"a\"]}}}",
		&c),
	    JANEE_ERR_CONFIG);
	T_ASSERT(
	    strstr(janee_err_msg(JANEE_ERR_CONFIG), "JANEE_T_HOST") != NULL);
	janee_err_clear();
	setenv("JANEE_T_HOST", "auth.example.com", 1);
	T_EQ_INT(
	    parse(
		"{\"providers\": {\"gh\": {\"type\": \"test\", \"state_dir\": \"${JANEE_T_STATE}\", \"scopes\": [\"a\"]}}}",
		&c),
	    0);
	config_free(c);
	unsetenv("JANEE_T_HOST");
	unsetenv("JANEE_T_STATE");
}

/* A key that stands for a secret takes a reference, never the value. */
static void
secret_keys_take_references_only(void)
{
	static const char *const entries[] = {
		"\"o\": {\"type\": \"oauth2\", \"issuer\": \"https://a.example\", \"client_id\": \"c\", \"scopes\": [\"a\"], \"client_secret\": \"plain-Value-9x\"}",
		"\"o\": {\"type\": \"oauth2\", \"issuer\": \"https://a.example\", \"client_id\": \"c\", \"scopes\": [\"a\"], \"grant\": \"token_exchange\", \"subject_token\": \"plain-Value-9x\"}",
		"\"g\": {\"type\": \"github-app\", \"client_id\": \"Iv1\", \"installation_id\": 1, \"permissions\": [\"issues:read\"], \"repositories\": [\"r\"], \"private_key\": \"plain-Value-9x\"}",
		"\"s\": {\"type\": \"slack\", \"client_id\": \"1.2\", \"client_secret\": \"plain-Value-9x\", \"profiles\": {\"p\": {\"scopes\": [\"chat:write\"]}}}",
		"\"s\": {\"type\": \"slack\", \"client_id\": \"1.2\", \"client_secret\": \"secret:s\", \"profiles\": {\"p\": {\"scopes\": [\"chat:write\"], \"legacy_token\": \"plain-Value-9x\"}}}",
	};
	struct config *c;
	const char *msg;
	char json[1024];
	size_t i;

	for (i = 0; i < nitems(entries); i++) {
		snprintf(
		    json, sizeof(json), "{\"providers\": {%s}}", entries[i]);
		T_EQ_INT(parse(json, &c), JANEE_ERR_CONFIG);
		T_ASSERT(c == NULL);
		msg = janee_err_msg(JANEE_ERR_CONFIG);
		T_ASSERT(
		    strstr(msg, "must be a reference to the secret") != NULL);
		/* The message names the key, never the value. */
		T_ASSERT(strstr(msg, "plain-Value") == NULL);
		janee_err_clear();
	}
	snprintf(json, sizeof(json), "{\"providers\": {%s}}",
	    "\"o\": {\"type\": \"oauth2\", \"issuer\": \"https://a.example\", \"client_id\": \"c\", \"scopes\": [\"a\"], \"client_secret\": \"env:O_SECRET\"}");
	T_EQ_INT(parse(json, &c), 0);
	config_free(c);
}

/* The audit trail's witness: "audit": {"syslog": true} (issue 12, #5). */
static void
audit_syslog_is_read_and_other_audit_keys_refused(void)
{
	struct config *c;

	T_EQ_INT(parse("{\"audit\": {\"syslog\": true}}", &c), 0);
	T_ASSERT(c != NULL && c->audit_syslog == 1);
	config_free(c);
	T_EQ_INT(
	    parse("{\"audit\": {\"syslog\": false}, \"providers\": {}}", &c),
	    0);
	T_ASSERT(c != NULL && c->audit_syslog == 0);
	config_free(c);
	T_EQ_INT(parse("{}", &c), 0);
	T_ASSERT(c != NULL && c->audit_syslog == 0);
	config_free(c);
	refused("{\"audit\": {\"sylog\": true}}", "audit: unknown key 'sylog'");
	refused("{\"audit\": {\"syslog\": \"yes\"}}",
	    "audit.syslog must be true or false");
	refused("{\"audit\": true}", "'audit' must be an object");
}

/* What janee exec and the browser opener keep out: every reference's
 * variables, in any provider, and ${VAR} expansions. */
static void
config_knows_the_variables_its_references_read(void)
{
	struct config *c;

	setenv("TP_HOST", "example", 1);
	T_EQ_INT(
	    parse(
		"{\"providers\": {\"a\": {\"type\": \"test\", \"state_dir\": \"/tmp\", \"scopes\": [\"env:read\"], \"credential\": \"env:TP_LONGLIVED_SECRET\"},\"b\": {\"type\": \"test\", \"state_dir\": "
		"\"/tmp/${TP_HOST}\", \"scopes\": [\"read\"], \"credential\": \"vault://kv/x#y\"}}}",
		&c),
	    0);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		T_ASSERT(
		    janee_strlist_has(&c->env_names, "TP_LONGLIVED_SECRET"));
		T_ASSERT(janee_strlist_has(&c->env_names, "TP_HOST"));
		T_ASSERT(janee_strlist_has(&c->env_names, "VAULT_TOKEN"));
		T_ASSERT(janee_strlist_has(&c->env_names, "VAULT_ADDR"));
		/* A scope that looks like env:X names nothing. */
		T_ASSERT(!janee_strlist_has(&c->env_names, "read"));
		T_EQ_INT(c->env_names.n, 7);
	}
	config_free(c);
	unsetenv("TP_HOST");
}

int
main(void)
{
	T_RUN(valid_config_loads_with_defaults);
	T_RUN(durations_take_strings_and_seconds);
	T_RUN(unknown_keys_are_named);
	T_RUN(audit_syslog_is_read_and_other_audit_keys_refused);
	T_RUN(wrong_types_are_named);
	T_RUN(invariant_8_empty_ceiling_is_an_error_not_everything);
	T_RUN(bad_documents_and_names_are_refused);
	T_RUN(out_of_band_patterns_match_levels_and_names);
	T_RUN(strings_expand_environment_variables);
	T_RUN(secret_keys_take_references_only);
	T_RUN(config_knows_the_variables_its_references_read);
	return t_done();
}
