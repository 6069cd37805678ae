/*
 * The loopback redirect of a browser login (RFC 8252, native apps) with
 * PKCE (RFC 7636): random state and verifiers, the S256 challenge, the
 * parser of what the browser brings back, and a one-shot HTTP listener on
 * 127.0.0.1 that waits for it.  Slack's install uses it; any provider
 * with a browser login may.
 */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "buf.h"
#include "oauth-loopback.h"
#include "util.h"

#define MAX_PASTE 8192
#define MAX_REQUEST 8192

int
oauth_nonce(char out[OAUTH_NONCE_LEN + 1])
{
	unsigned char r[32];
	int rc;

	if ((rc = janee_random(r, sizeof(r))) == 0)
		rc = janee_b64url(r, sizeof(r), out, OAUTH_NONCE_LEN + 1);
	janee_wipe(r, sizeof(r));
	return rc;
}

int
oauth_pkce_challenge(const char *verifier, char out[OAUTH_CHALLENGE_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	/* RFC 7636 section 4.2: BASE64URL(SHA256(ASCII(code_verifier))). */
	if (EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(),
		NULL) != 1 ||
	    mdlen != 32)
		return janee_err_set(JANEE_ERR_CRYPTO, "SHA-256 failed");
	return janee_b64url(md, mdlen, out, OAUTH_CHALLENGE_LEN + 1);
}

int
oauth_state_equal(const char *a, const char *b)
{
	size_t n = strlen(a);

	/* The length is not secret: the state has a fixed length. */
	return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

void
oauth_redirect_free(struct oauth_redirect *r)
{
	janee_secret_free(r->code);
	free(r->state);
	free(r->error);
	memset(r, 0, sizeof(r[0]));
}

/* A bare code as Slack issues them: digits, letters, '.', '-', '_'. */
static int
bare_code(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 512)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
			s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/* One name=value of the query, decoded, into r. */
static int
redirect_param(const char *p, size_t n, struct oauth_redirect *r)
{
	const char *eq = memchr(p, '=', n);
	char *name = NULL, *val = NULL;
	int nlen = 0, vlen = 0, rc = 0;

	if (eq == NULL)
		return 0; /* a bare word: nothing of ours */
	name = curl_easy_unescape(NULL, p, (int)(eq - p), &nlen);
	val = curl_easy_unescape(
	    NULL, eq + 1, (int)(n - (size_t)(eq - p) - 1), &vlen);
	if (name == NULL || val == NULL) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((size_t)nlen != strlen(name) || (size_t)vlen != strlen(val)) {
		rc = janee_err_set(JANEE_ERR_INVALID,
		    "the redirect holds a NUL byte; refused");
		goto out;
	}
	if (strcmp(name, "code") == 0 || strcmp(name, "state") == 0 ||
	    strcmp(name, "error") == 0) {
		if ((strcmp(name, "code") == 0 && r->code != NULL) ||
		    (strcmp(name, "state") == 0 && r->state != NULL) ||
		    (strcmp(name, "error") == 0 && r->error != NULL)) {
			rc = janee_err_set(JANEE_ERR_INVALID,
			    "the redirect carries '%s' twice; refused", name);
			goto out;
		}
		if (strcmp(name, "code") == 0)
			rc = (r->code = janee_secret_new(val, strlen(val)))
			    ? 0
			    : JANEE_ERR_NOMEM;
		else if (strcmp(name, "state") == 0)
			rc = (r->state = janee_strdup(val)) ? 0
							    : JANEE_ERR_NOMEM;
		else
			rc = (r->error = janee_strdup(val)) ? 0
							    : JANEE_ERR_NOMEM;
	}
out:
	if (val != NULL) {
		janee_wipe(val, strlen(val));
		curl_free(val);
	}
	curl_free(name);
	return rc;
}

int
oauth_redirect_parse(const char *in, const char *path, struct oauth_redirect *r)
{
	CURLU *u = NULL;
	char *url = NULL, *got = NULL, *query = NULL;
	const char *p, *amp, *end;
	size_t n;
	int rc = 0;

	memset(r, 0, sizeof(r[0]));
	while (*in == ' ' || *in == '\t')
		in++;
	n = strcspn(in, "\r\n");
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	if (n == 0 || n > MAX_PASTE)
		return janee_err_set(JANEE_ERR_INVALID,
		    "nothing usable was given: paste the address the browser was sent to, or the code");
	if (memchr(in, '/', n) == NULL && memchr(in, '?', n) == NULL) {
		if (!bare_code(in, n))
			return janee_err_set(JANEE_ERR_INVALID,
			    "that is neither an address nor a code");
		if ((r->code = janee_secret_new(in, n)) == NULL)
			return JANEE_ERR_NOMEM;
		return 0;
	}
	/* A request target from the listener: give it a scheme and host. */
	url = janee_asprintf(
	    "%s%.*s", in[0] == '/' ? "http://127.0.0.1" : "", (int)n, in);
	if (url == NULL || (u = curl_url()) == NULL) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		rc = janee_err_set(JANEE_ERR_INVALID,
		    "that is not an address the browser could have been sent to");
		goto out;
	}
	if (path != NULL &&
	    (curl_url_get(u, CURLUPART_PATH, &got, 0) != CURLUE_OK ||
		strcmp(got, path) != 0)) {
		rc = janee_err_set(JANEE_ERR_INVALID,
		    "the redirect went to another path than %s", path);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK) {
		rc = janee_err_set(JANEE_ERR_INVALID,
		    "the redirect has no query (no code, no error)");
		goto out;
	}
	end = query + strlen(query);
	for (p = query; p < end && rc == 0; p = amp + 1) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		rc = redirect_param(p, (size_t)(amp - p), r);
	}
	if (rc == 0 && r->code == NULL && r->error == NULL)
		rc = janee_err_set(JANEE_ERR_INVALID,
		    "the redirect carries neither a code nor an error");
out:
	if (rc != 0)
		oauth_redirect_free(r);
	if (query != NULL) {
		janee_wipe(query, strlen(query));
		curl_free(query);
	}
	curl_free(got);
	curl_url_cleanup(u);
	if (url != NULL)
		janee_freezero(url, strlen(url));
	return rc;
}

int
oauth_listen(int port, struct oauth_listener *l)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int one = 1;

	l->fd = -1;
	l->port = 0;
	if (port < 0 || port > 65535)
		return janee_err_set(JANEE_ERR_INVALID, "bad port %d", port);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	/* RFC 8252 section 7.3: the loopback literal, never all addresses. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) !=
		0 ||
	    bind(l->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(l->fd, 4) != 0 ||
	    getsockname(l->fd, (struct sockaddr *)&sin, &len) != 0) {
		int e = errno;

		oauth_listener_close(l);
		return janee_err_set(JANEE_ERR_NETWORK,
		    "cannot listen on 127.0.0.1:%d for the redirect: %s", port,
		    strerror(e));
	}
	l->port = ntohs(sin.sin_port);
	return 0;
}

void
oauth_listener_close(struct oauth_listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

static void
answer(int fd, const char *status, const char *text)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head),
	    "HTTP/1.1 %s\r\nContent-Type: text/html; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n\r\n",
	    status, strlen(text));
	/* MSG_NOSIGNAL: a browser that went away must not kill janee. */
	if (n > 0 && (size_t)n < sizeof(head) &&
	    send(fd, head, (size_t)n, MSG_NOSIGNAL) == n)
		(void)send(fd, text, strlen(text), MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
}

/* Read one request head (to the blank line, at most MAX_REQUEST bytes, 5 s). */
static int
read_request(int fd, struct buf *b)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char tmp[1024];
	ssize_t n;
	int i;

	for (i = 0; i < 50 && (b->p == NULL || !strstr(b->p, "\r\n\r\n"));) {
		if (poll(&pfd, 1, 100) <= 0) {
			i++;
			continue;
		}
		if ((n = read(fd, tmp, sizeof(tmp))) <= 0)
			break;
		if (buf_add(b, tmp, (size_t)n) != 0) {
			janee_err_clear();
			return 0; /* too long: not ours */
		}
	}
	return 1;
}

int
oauth_request_parse(
    const char *head, const char *path, struct oauth_redirect *r, int *ours)
{
	const char *target, *sp;
	size_t tlen, plen = strlen(path);
	char *copy;
	int rc;

	*ours = 0;
	if (head == NULL || strncmp(head, "GET ", 4) != 0 ||
	    (sp = strchr(head + 4, ' ')) == NULL ||
	    strncmp(sp + 1, "HTTP/1.", 7) != 0)
		return 0;
	target = head + 4;
	tlen = (size_t)(sp - target);
	if (tlen < plen || strncmp(target, path, plen) != 0 ||
	    (tlen != plen && target[plen] != '?'))
		return 0;
	*ours = 1;
	if ((copy = janee_asprintf("%.*s", (int)tlen, target)) == NULL)
		return JANEE_ERR_NOMEM;
	rc = oauth_redirect_parse(copy, path, r);
	janee_freezero(copy, strlen(copy));
	return rc;
}

int
oauth_listen_wait(struct oauth_listener *l, const char *path,
    int64_t timeout_ms, int (*waiting)(void *arg), void *arg,
    struct oauth_redirect *r)
{
	struct pollfd pfd = { l->fd, POLLIN, 0 };
	int64_t deadline = janee_now_ms() + timeout_ms;
	struct buf b;
	int fd, rc, ours, strays = 0;

	memset(r, 0, sizeof(r[0]));
	for (;;) {
		if (waiting != NULL && waiting(arg) != 0)
			return janee_err_set(JANEE_ERR_USAGE, "cancelled");
		if (janee_now_ms() > deadline)
			return janee_err_set(JANEE_ERR_DENIED,
			    "no answer came back from the browser in time; run the login again");
		if (poll(&pfd, 1, 100) <= 0)
			continue; /* timeout, or EINTR: ask waiting() */
		if ((fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		buf_init(&b, MAX_REQUEST);
		rc = 0;
		ours = 0;
		if (read_request(fd, &b))
			rc = oauth_request_parse(b.p, path, r, &ours);
		if (!ours) {
			answer(fd, "404 Not Found", "<p>Not found.</p>\n");
			close(fd);
			buf_free(&b);
			if (++strays > 32)
				return janee_err_set(JANEE_ERR_NETWORK,
				    "too many stray requests on 127.0.0.1:%d; the login stopped",
				    l->port);
			continue;
		}
		answer(fd, rc == 0 ? "200 OK" : "400 Bad Request",
		    rc == 0
			? "<p>janee received the answer. You can close this tab and return to the terminal.</p>\n"
			: "<p>janee could not read this answer; see the terminal.</p>\n");
		close(fd);
		buf_free(&b);
		return rc;
	}
}
