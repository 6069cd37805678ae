/*
 * libFuzzer: what janee serve --http reads of a request itself, before a
 * session or the auth hook sees it (src/mcp-http-check.c): the headers
 * mcp_http_screen judges (method, path, Origin, Host, Accept,
 * Content-Type, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method), an
 * X-Forwarded-For value, an Authorization value (http_auth_bearer), and
 * a --http listen address.
 *
 * Input: the fields separated by '\n', in that order (missing ones are
 * absent headers).  Beside memory errors, it aborts when an answer breaks
 * a promise: a request passed with a foreign Origin, a Host not allowed,
 * a malformed session id, an unknown version or another path; a bearer
 * credential with a character outside token68, or text after it; an
 * X-Forwarded-For address with a space or longer than its buffer; a
 * listen address that parses to no port.
 */
#include "common.h"

#include <sys/socket.h>

#include "http-auth.h"
#include "mcp-http.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFIELDS 12

static int
allowed(const struct janee_strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

static void
check_screen(struct mcp_http_policy *p, struct mcp_http_hdrs *r)
{
	const char *why = NULL;
	int st;

	st = mcp_http_screen(p, r, &why);
	if (st != 0) {
		if (why == NULL ||
		    (st != 400 && st != 403 && st != 404 && st != 405 &&
			st != 406 && st != 415))
			abort();
		return;
	}
	if (r->origin != NULL && !allowed(p->origins, r->origin))
		abort();
	if (p->need_host && (r->host == NULL || !allowed(p->hosts, r->host)))
		abort();
	if (r->session != NULL && !mcp_http_session_id_ok(r->session))
		abort();
	if (r->path == NULL || strcmp(r->path, p->path) != 0)
		abort();
	if (r->protocol != NULL && strcmp(r->protocol, "2025-11-25") != 0 &&
	    strcmp(r->protocol, "2025-06-18") != 0 &&
	    strcmp(r->protocol, "2025-03-26") != 0 &&
	    strcmp(r->protocol, "2024-11-05") != 0 &&
	    strcmp(r->protocol, "2026-07-28") != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct janee_strlist origins, hosts;
	static int ready;
	struct mcp_http_policy p;
	struct mcp_http_hdrs r;
	struct sockaddr_storage ss;
	char *s, *f[NFIELDS] = { 0 }, *nl, xff[64], host[80];
	const char *tok;
	unsigned len;
	uint16_t port;
	size_t n, i;
	int k = 0, lo;

	if (!ready) {
		if (janee_strlist_add(&origins, "http://127.0.0.1:8700") != 0 ||
		    janee_strlist_add(&origins, "https://app.example") != 0 ||
		    janee_strlist_add(&hosts, "127.0.0.1:8700") != 0 ||
		    janee_strlist_add(&hosts, "localhost:8700") != 0)
			abort();
		ready = 1;
	}
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (f[k++] = s;
	     k < NFIELDS && (nl = strchr(f[k - 1], '\n')) != NULL;) {
		*nl = '\0';
		f[k++] = nl + 1;
	}
	/* An empty field is an absent header. */
	for (i = 0; i < NFIELDS; i++)
		if (f[i] != NULL && f[i][0] == '\0')
			f[i] = NULL;
	memset(&r, 0, sizeof(r));
	r.method = f[0] ? f[0] : "POST";
	r.path = f[1];
	r.origin = f[2];
	r.host = f[3];
	r.accept = f[4];
	r.content_type = f[5];
	r.session = f[6];
	r.protocol = f[7];
	r.mcp_method = f[8];
	p.path = "/mcp";
	p.origins = &origins;
	p.hosts = &hosts;
	for (p.need_host = 0; p.need_host < 2; p.need_host++)
		check_screen(&p, &r);
	if (f[9] != NULL) {
		mcp_http_forwarded_for(f[9], xff, sizeof(xff));
		if (strlen(xff) >= sizeof(xff) || strchr(xff, ' ') != NULL)
			abort();
	}
	if (http_auth_bearer(f[10], &tok, &n) == 0) {
		if (n == 0 || tok[n] != '\0' ||
		    strcasestr(f[10], "bearer ") != f[10])
			abort();
		for (i = 0; i < n; i++)
			if (strchr(
				"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"
				"uvwxyz0123456789-._~+/=",
				tok[i]) == NULL ||
			    tok[i] == '\0')
				abort();
	}
	if (f[11] != NULL &&
	    mcp_http_parse_listen(
		f[11], &ss, &len, host, sizeof(host), &port, &lo) == 0) {
		if ((ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
		    len == 0 || strlen(host) >= sizeof(host))
			abort();
	} else
		janee_err_clear();
	janee_err_clear();
	free(s);
	return 0;
}
