/*
 * Unit tests: the loopback redirect of a browser login
 * (src/oauth-loopback.h) and base64url (src/util.h): PKCE S256 (RFC 7636
 * Appendix B), state comparison, the redirect parser with its negative
 * cases, and the one-shot loopback listener driven by a child process.
 */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oauth-loopback.h"
#include "util.h"

#include "t.h"

static void
b64url_is_unpadded_and_url_safe(void)
{
	static const unsigned char bytes[] = { 0xfb, 0xff, 0xfe };
	char out[8];

	T_EQ_INT(janee_b64url(bytes, 3, out, sizeof(out)), 0);
	T_EQ_STR(out, "-__-");
	T_EQ_INT(
	    janee_b64url((const unsigned char *)"ab", 2, out, sizeof(out)), 0);
	T_EQ_STR(out, "YWI");
	T_EQ_INT(
	    janee_b64url((const unsigned char *)"", 0, out, sizeof(out)), 0);
	T_EQ_STR(out, "");
	/* Too small an output buffer is refused, not overrun. */
	T_ASSERT(janee_b64url(bytes, 3, out, 4) != 0);
	janee_err_clear();
}

static void
unb64url_takes_the_canonical_spelling_only(void)
{
	unsigned char out[16];
	size_t n = 0;

	T_EQ_INT(janee_unb64url("-__-", out, sizeof(out), &n), 0);
	T_EQ_INT(n, 3);
	T_ASSERT(out[0] == 0xfb && out[1] == 0xff && out[2] == 0xfe);
	T_EQ_INT(janee_unb64url("YWI", out, sizeof(out), &n), 0);
	T_EQ_INT(n, 2);
	T_ASSERT(memcmp(out, "ab", 2) == 0);
	/* Padding, the other alphabet, stray bits, too little room. */
	T_ASSERT(janee_unb64url("YWI=", out, sizeof(out), &n) != 0);
	T_ASSERT(janee_unb64url("+//+", out, sizeof(out), &n) != 0);
	T_ASSERT(janee_unb64url("YWJ", out, sizeof(out), &n) != 0);
	T_ASSERT(janee_unb64url("YWJjZGVmZ2hpamtsbW5vcHFy", out, 4, &n) != 0);
}

static void
pkce_matches_rfc7636_appendix_b(void)
{
	static const unsigned char octets[] = { 116, 24, 223, 180, 151, 153,
		224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77,
		105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121 };
	char v[OAUTH_NONCE_LEN + 1], c[OAUTH_CHALLENGE_LEN + 1];

	T_EQ_INT(janee_b64url(octets, sizeof(octets), v, sizeof(v)), 0);
	T_EQ_STR(v, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	T_EQ_INT(oauth_pkce_challenge(v, c), 0);
	T_EQ_STR(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

static void
nonces_are_43_chars_and_differ(void)
{
	char a[OAUTH_NONCE_LEN + 1], b[OAUTH_NONCE_LEN + 1];
	size_t i;

	T_EQ_INT(oauth_nonce(a), 0);
	T_EQ_INT(oauth_nonce(b), 0);
	T_EQ_INT(strlen(a), 43);
	T_ASSERT(strcmp(a, b) != 0);
	/* RFC 7636 section 4.1: unreserved characters only. */
	for (i = 0; a[i] != '\0'; i++)
		T_ASSERT(
		    strchr(
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
			a[i]) != NULL);
}

static void
state_comparison(void)
{
	T_ASSERT(oauth_state_equal("abc", "abc"));
	T_ASSERT(!oauth_state_equal("abc", "abd"));
	T_ASSERT(!oauth_state_equal("abc", "abcd"));
	T_ASSERT(!oauth_state_equal("", "a"));
}

static int
parse(const char *in, const char *path, struct oauth_redirect *r)
{
	int rc = oauth_redirect_parse(in, path, r);

	janee_err_clear();
	return rc;
}

static void
redirect_parse_accepts(void)
{
	struct oauth_redirect r;

	T_EQ_INT(parse("https://janee.example/slack/oauth?code=12.ab&state=s1",
		     NULL, &r),
	    0);
	T_EQ_STR((const char *)r.code->data, "12.ab");
	T_EQ_STR(r.state, "s1");
	T_ASSERT(r.error == NULL);
	oauth_redirect_free(&r);
	/* A request target from the listener; escapes are decoded. */
	T_EQ_INT(parse("/slack/callback?state=a%2Db&code=x%2Ey&other=1",
		     "/slack/callback", &r),
	    0);
	T_EQ_STR((const char *)r.code->data, "x.y");
	T_EQ_STR(r.state, "a-b");
	oauth_redirect_free(&r);
	T_EQ_INT(parse("/cb?error=access_denied&state=z", "/cb", &r), 0);
	T_EQ_STR(r.error, "access_denied");
	T_ASSERT(r.code == NULL);
	oauth_redirect_free(&r);
	/* A bare pasted code, with the newline and blanks around it. */
	T_EQ_INT(parse("  4242.abc-DEF_9 \r\n", NULL, &r), 0);
	T_EQ_STR((const char *)r.code->data, "4242.abc-DEF_9");
	T_ASSERT(r.state == NULL);
	oauth_redirect_free(&r);
}

static void
redirect_parse_refuses(void)
{
	struct oauth_redirect r;

	T_ASSERT(parse("", NULL, &r) != 0);
	T_ASSERT(parse("   \n", NULL, &r) != 0);
	T_ASSERT(parse("/cb?code=a&code=b&state=s", "/cb", &r) != 0);
	T_ASSERT(parse("/cb?code=a&state=s&state=t", "/cb", &r) != 0);
	T_ASSERT(parse("/cb?error=x&error=y", "/cb", &r) != 0);
	T_ASSERT(parse("/cb?code=a%00b&state=s", "/cb", &r) != 0);
	T_ASSERT(parse("/cb?state=a%00&code=b", "/cb", &r) != 0);
	T_ASSERT(parse("/cb?state=only", "/cb", &r) != 0);
	T_ASSERT(parse("/cb", "/cb", &r) != 0);
	T_ASSERT(parse("/other?code=a&state=s", "/cb", &r) != 0);
	T_ASSERT(parse("/cb/../x?code=a", "/cb", &r) != 0);
	T_ASSERT(parse("not a code!", NULL, &r) != 0);
	T_ASSERT(parse("code with spaces", NULL, &r) != 0);
	T_ASSERT(parse("https://[::1/x?code=a", NULL, &r) != 0);
	T_ASSERT(r.code == NULL && r.state == NULL && r.error == NULL);
}

/* In a child: send raw to 127.0.0.1:port, read the answer, exit. */
static pid_t
client(int port, const char *raw)
{
	struct sockaddr_in sin;
	char buf[512];
	pid_t pid;
	int fd;

	if ((pid = fork()) != 0)
		return pid;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    write(fd, raw, strlen(raw)) != (ssize_t)strlen(raw))
		_exit(1);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

static void
listener_takes_one_redirect(void)
{
	struct oauth_listener l;
	struct oauth_redirect r;
	int status;
	pid_t a, b;

	T_EQ_INT(oauth_listen(0, &l), 0);
	T_ASSERT(l.port > 0);
	/* A stray request first (a favicon), then the redirect. */
	a = client(l.port, "GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n");
	usleep(200000); /* connected first: the backlog keeps the order */
	b = client(l.port,
	    "GET /cb?code=c1&state=s1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	T_EQ_INT(oauth_listen_wait(&l, "/cb", 10000, NULL, NULL, &r), 0);
	waitpid(a, &status, 0);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	waitpid(b, &status, 0);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	T_ASSERT(r.code != NULL && strcmp((char *)r.code->data, "c1") == 0);
	T_EQ_STR(r.state, "s1");
	oauth_redirect_free(&r);
	oauth_listener_close(&l);
}

static int
cancel_now(void *arg)
{
	return ++*(int *)arg > 3;
}

static void
listener_times_out_and_cancels(void)
{
	struct oauth_listener l;
	struct oauth_redirect r;
	int64_t t0;
	int n = 0, rc;
	pid_t a;

	T_EQ_INT(oauth_listen(0, &l), 0);
	/* Not a GET of the path: 404, and the wait goes on to its end. */
	a = client(l.port, "POST /cb?code=x HTTP/1.1\r\n\r\n");
	t0 = janee_now_ms();
	rc = oauth_listen_wait(&l, "/cb", 600, NULL, NULL, &r);
	T_EQ_INT(rc, JANEE_ERR_DENIED);
	T_ASSERT(janee_now_ms() - t0 >= 600);
	janee_err_clear();
	waitpid(a, NULL, 0);
	rc = oauth_listen_wait(&l, "/cb", 60000, cancel_now, &n, &r);
	T_EQ_INT(rc, JANEE_ERR_USAGE);
	janee_err_clear();
	oauth_listener_close(&l);
}

int
main(void)
{
	T_RUN(b64url_is_unpadded_and_url_safe);
	T_RUN(unb64url_takes_the_canonical_spelling_only);
	T_RUN(pkce_matches_rfc7636_appendix_b);
	T_RUN(nonces_are_43_chars_and_differ);
	T_RUN(state_comparison);
	T_RUN(redirect_parse_accepts);
	T_RUN(redirect_parse_refuses);
	T_RUN(listener_takes_one_redirect);
	T_RUN(listener_times_out_and_cancels);
	return t_done();
}
