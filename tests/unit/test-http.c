/* Unit tests: URL rules of the HTTP layer, OAuth form encoding. */
#include "common.h"

#include "janee/http.h"
#include "oauth.h"

#include "t.h"

static int
url_ok(const char *u)
{
	int rc = janee_http_url_ok(u, "test");

	janee_err_clear();
	return rc == 0;
}

static void
invariant_4_plain_http_only_to_loopback(void)
{
	T_ASSERT(url_ok("https://example.com/token"));
	T_ASSERT(url_ok("https://10.0.0.1:8443/x"));
	T_ASSERT(url_ok("http://127.0.0.1:8080/token"));
	T_ASSERT(url_ok("http://[::1]:8080/token"));
	T_ASSERT(url_ok("http://localhost/token"));
	T_ASSERT(!url_ok("http://example.com/token"));
	T_ASSERT(!url_ok("http://127.0.0.2/token"));
	T_ASSERT(!url_ok("http://localhost.example.com/token"));
	T_ASSERT(!url_ok("http://127.0.0.1.nip.io/token"));
	T_ASSERT(!url_ok("ftp://127.0.0.1/token"));
	T_ASSERT(!url_ok("file:///etc/passwd"));
	T_ASSERT(!url_ok("not a url"));
	T_ASSERT(!url_ok(""));
}

static void
refused_url_message_names_the_fix(void)
{
	int rc;

	janee_err_clear();
	rc = janee_http_url_ok("http://auth.example.com/t", "provider 'x'");
	T_EQ_INT(rc, JANEE_ERR_INVALID);
	T_ASSERT(strstr(janee_err_msg(rc), "provider 'x'") != NULL);
	T_ASSERT(strstr(janee_err_msg(rc), "use https") != NULL);
	janee_err_clear();
}

static void
form_values_are_percent_encoded(void)
{
	struct oauth_form f;

	oauth_form_init(&f);
	T_EQ_INT(oauth_form_add(&f, "grant_type", "refresh_token"), 0);
	T_EQ_INT(oauth_form_add(&f, "scope", "issues:read a&b=c"), 0);
	T_EQ_INT(oauth_form_add(&f, "x", ""), 0);
	T_EQ_STR(f.b.p,
	    "grant_type=refresh_token&scope=issues%3Aread%20a%26b%3Dc&x=");
	oauth_form_free(&f);
}

static void
scopes_join_with_spaces(void)
{
	struct janee_strlist l;
	char *s;

	memset(&l, 0, sizeof(l));
	s = oauth_scope_join(&l);
	T_EQ_STR(s, "");
	free(s);
	T_EQ_INT(janee_strlist_add(&l, "a:read"), 0);
	T_EQ_INT(janee_strlist_add(&l, "b:write"), 0);
	s = oauth_scope_join(&l);
	T_EQ_STR(s, "a:read b:write");
	free(s);
	janee_strlist_free(&l);
}

static void
auth_method_names_round_trip(void)
{
	T_EQ_INT(oauth_auth_parse("client_secret_basic"), OAUTH_AUTH_BASIC);
	T_EQ_INT(oauth_auth_parse("client_secret_post"), OAUTH_AUTH_POST);
	T_EQ_INT(oauth_auth_parse("none"), OAUTH_AUTH_NONE);
	T_EQ_INT(oauth_auth_parse("private_key_jwt"), -1);
	T_EQ_STR(oauth_auth_name(OAUTH_AUTH_POST), "client_secret_post");
}

int
main(void)
{
	T_RUN(invariant_4_plain_http_only_to_loopback);
	T_RUN(refused_url_message_names_the_fix);
	T_RUN(form_values_are_percent_encoded);
	T_RUN(scopes_join_with_spaces);
	T_RUN(auth_method_names_round_trip);
	return t_done();
}
