/* janee proxy: call_api's calls over loopback HTTP (api-proxy.h). */
#include "common.h"

#include <strings.h>

#include <openssl/crypto.h>

#include "api-call.h"
#include "api-proxy.h"
#include "lease.h"
#include "util.h"
#include "web.h"

struct api_proxy {
	struct cli *c;
	struct api_ctx x;
	struct web *w;
	struct prov *pv;
	char *provider, *reason;
	struct janee_strlist scopes, resources;
	int64_t ttl_s;
	struct api_lease *leases; /* at most one: the lease in use */
	char pending[JANEE_LEASE_ID_LEN]; /* asked for, not yet approved */
	char key[API_PROXY_KEY_LEN + 1];
	char url[64];
	char *env; /* the base URL's variable */
	char ctype[256]; /* the answer's Content-Type, until it is sent */
	char lease_hdr[JANEE_LEASE_ID_LEN];
};

int
api_proxy_listen_parse(const char *s, uint16_t *port)
{
	const char *p = s, *colon = strrchr(s, ':');
	int64_t n;

	if (colon != NULL) {
		size_t hl = (size_t)(colon - s);

		if (!((hl == 9 && strncmp(s, "127.0.0.1", hl) == 0) ||
			(hl == 9 && strncasecmp(s, "localhost", hl) == 0)))
			return janee_err_set(JANEE_ERR_USAGE,
			    "--listen '%s': janee proxy listens on loopback "
			    "only; give 127.0.0.1:PORT",
			    s);
		p = colon + 1;
	}
	if (janee_parse_int(p, 0, 65535, &n) != 0) {
		janee_err_clear();
		return janee_err_set(JANEE_ERR_USAGE,
		    "--listen '%s': the port must be a number from 0 to 65535 "
		    "(127.0.0.1:PORT)",
		    s);
	}
	*port = (uint16_t)n;
	return 0;
}

char *
api_env_name(const char *name, const char *suffix)
{
	char *s;
	size_t i;

	if ((s = janee_asprintf("%s%s", name, suffix)) == NULL)
		return NULL;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			s[i] = (char)(s[i] - 'a' + 'A');
		else if (!((s[i] >= 'A' && s[i] <= 'Z') ||
			     (s[i] >= '0' && s[i] <= '9')))
			s[i] = '_';
	}
	if (s[0] >= '0' && s[0] <= '9')
		s[0] = '_';
	return s;
}

/* NAME_API_URL from the entry's name, when the provider names none. */
static char *
base_env(const struct prov *pv)
{
	if (pv->info.api_base_env != NULL)
		return janee_strdup(pv->info.api_base_env);
	return api_env_name(pv->name, "_API_URL");
}

/* --- the lease ------------------------------------------------------ */

static int
strlist_copy(struct janee_strlist *to, const struct janee_strlist *from)
{
	size_t i;

	for (i = 0; from != NULL && i < from->n; i++)
		if (janee_strlist_add(to, from->v[i]) != 0)
			return JANEE_ERR_NOMEM;
	return 0;
}

/* Ask for a lease: with wait, as janee exec does; else submit only. */
static int
obtain(struct api_proxy *p, int wait, struct broker_grant *g)
{
	struct broker_req req;
	int rc;

	memset(&req, 0, sizeof(req));
	memset(g, 0, sizeof(*g));
	req.provider = p->provider;
	req.ttl_s = p->ttl_s;
	req.reason = p->reason;
	if ((rc = strlist_copy(&req.scopes, &p->scopes)) != 0 ||
	    (rc = strlist_copy(&req.resources, &p->resources)) != 0)
		goto out;
	if (wait)
		rc = cli_obtain(p->c, &req, "janee proxy", NULL, NULL, g);
	else
		rc =
		    broker_submit(&p->c->core.broker, &req, BROKER_CAN_WAIT, g);
out:
	janee_strlist_free(&req.scopes);
	janee_strlist_free(&req.resources);
	return rc;
}

static int
keep(struct api_proxy *p, struct broker_grant *g)
{
	if (api_lease_keep(&p->leases, p->pv, "", g) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM,
		    "out of memory keeping lease %s", g->lease_id);
	fprintf(stderr, "janee proxy: lease %s for '%s' in use\n", g->lease_id,
	    p->provider);
	return 0;
}

/*
 * The lease for c: the one in use while the ledger says it runs; after
 * it ended, a new one asked for on this request and collected on a later
 * one once approved.  NULL with why in err (answered 401).
 */
static struct api_lease *
current(struct api_proxy *p, const struct api_call *c, char *err, size_t n)
{
	struct broker_grant g;
	struct api_lease *l;
	int rc;

	if ((l = api_lease_find(&p->x, &p->leases, c)) != NULL)
		return l;
	if (p->pending[0] != '\0') {
		rc = broker_collect(&p->c->core.broker, p->pending, &g);
		if (rc == JANEE_ERR_PENDING) {
			janee_err_clear();
			snprintf(err, n,
			    "janee proxy's lease ended; the new lease %s for "
			    "'%s' waits for approval (janee approve %s)",
			    p->pending, p->provider, p->pending);
			broker_grant_free(&g);
			return NULL;
		}
		if (rc != 0) {
			snprintf(err, n,
			    "the new lease %s for '%s' was not granted: %s; "
			    "the next request asks for another",
			    p->pending, p->provider, janee_err_msg(rc));
			janee_err_clear();
			p->pending[0] = '\0';
			broker_grant_free(&g);
			return NULL;
		}
		p->pending[0] = '\0';
	} else {
		rc = obtain(p, 0, &g);
		if (rc == JANEE_ERR_PENDING) {
			janee_err_clear();
			memcpy(p->pending, g.lease_id, sizeof(p->pending));
			fprintf(stderr,
			    "janee proxy: lease %s for '%s' waits for your "
			    "approval: run 'janee approve %s'\n",
			    g.lease_id, p->provider, g.lease_id);
			snprintf(err, n,
			    "janee proxy's lease ended; a new lease %s for "
			    "'%s' was asked for and waits for approval "
			    "(janee approve %s)",
			    g.lease_id, p->provider, g.lease_id);
			broker_grant_free(&g);
			return NULL;
		}
		if (rc != 0) {
			snprintf(err, n,
			    "janee proxy has no lease for '%s': %s",
			    p->provider, janee_err_msg(rc));
			janee_err_clear();
			broker_grant_free(&g);
			return NULL;
		}
	}
	rc = keep(p, &g);
	broker_grant_free(&g);
	if (rc != 0) {
		snprintf(err, n, "%s", janee_err_msg(rc));
		janee_err_clear();
		return NULL;
	}
	/* err goes to the client: never left unwritten. */
	if ((l = api_lease_find(&p->x, &p->leases, c)) == NULL)
		snprintf(err, n,
		    "janee proxy's new lease for '%s' cannot be read in the "
		    "ledger, or has ended already; the next request tries "
		    "again",
		    p->provider);
	return l;
}

/* --- requests ------------------------------------------------------- */

static void
reply_error(
    struct web_response *rs, int status, const char *msg, const char *lease_id)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;

	cJSON_AddStringToObject(o, "error", msg);
	if (lease_id != NULL && *lease_id != '\0')
		cJSON_AddStringToObject(o, "lease_id", lease_id);
	cJSON_AddStringToObject(o, "from", "janee proxy");
	rs->status = status;
	rs->type = "application/json";
	if ((s = cJSON_PrintUnformatted(o)) == NULL ||
	    buf_addstr(&rs->body, s) != 0)
		janee_err_clear();
	cJSON_free(s);
	cJSON_Delete(o);
}

/* The key, from its header or as a client's token; constant time. */
static int
key_ok(const struct api_proxy *p, struct web_request *rq)
{
	const char *k = web_header(rq, API_PROXY_KEY_HEADER);
	const char *a = web_header(rq, "Authorization");

	if (k == NULL && a != NULL) {
		if (strncasecmp(a, "Bearer ", 7) == 0)
			k = a + 7;
		else if (strncasecmp(a, "token ", 6) == 0)
			k = a + 6;
	}
	return k != NULL && strlen(k) == API_PROXY_KEY_LEN &&
	    CRYPTO_memcmp(k, p->key, API_PROXY_KEY_LEN) == 0;
}

/* The request headers janee passes on: the safe list, nothing else. */
static int
add_headers(struct api_proxy *p, struct web_request *rq, struct api_call *c,
    char *err, size_t n)
{
	const char *names[] = { "Accept", "Content-Type", "If-None-Match",
		p->pv->api->version_header };
	const char *v;
	size_t i;

	for (i = 0; i < nitems(names); i++)
		if (names[i] != NULL &&
		    (v = web_header(rq, names[i])) != NULL &&
		    api_call_header(c, names[i], v, err, n) != 0)
			return -1;
	return 0;
}

/* The scrubbed answer as the response. */
static void
reply_answer(struct api_proxy *p, const struct api_answer *a,
    const struct api_lease *l, struct web_response *rs)
{
	char name[128];
	const char *ln, *val;
	size_t i, nl;

	rs->status = (int)a->status;
	rs->type = "application/octet-stream";
	for (i = 0; i < a->headers.n; i++) {
		ln = a->headers.v[i];
		nl = strcspn(ln, ":");
		if (ln[nl] != ':' || nl >= sizeof(name))
			continue;
		memcpy(name, ln, nl);
		name[nl] = '\0';
		for (val = ln + nl + 1; *val == ' ' || *val == '\t'; val++)
			;
		/* libmicrohttpd sets these itself. */
		if (strcasecmp(name, "Content-Length") == 0 ||
		    strcasecmp(name, "Date") == 0)
			continue;
		if (strcasecmp(name, "Content-Type") == 0) {
			snprintf(p->ctype, sizeof(p->ctype), "%s", val);
			rs->type = p->ctype;
			continue;
		}
		if (web_header_add(rs, name, val) != 0)
			janee_err_clear();
	}
	if (web_header_add(rs, "Janee-Lease-Id", l->lease_id) != 0 ||
	    (a->truncated && web_header_add(rs, "Janee-Truncated", "1") != 0))
		janee_err_clear();
	if (a->body.len > 0 &&
	    buf_add(&rs->body, a->body.p, a->body.len) != 0) {
		janee_err_clear();
		buf_reset(&rs->body);
		reply_error(
		    rs, 502, "the answer is too large to pass on", NULL);
	}
}

static void
handle(void *arg, struct web_request *rq, struct web_response *rs)
{
	struct api_proxy *p = arg;
	struct api_lease *l;
	struct api_answer a;
	struct api_call c;
	const char *body, *query;
	char err[512];
	size_t blen;
	int rc;

	memset(&c, 0, sizeof(c));
	if (!key_ok(p, rq)) {
		reply_error(rs, 401,
		    "missing or wrong janee proxy key: send the key janee "
		    "proxy printed in the header " API_PROXY_KEY_HEADER,
		    NULL);
		return;
	}
	if ((body = web_body(rq, &blen)) == NULL) {
		reply_error(
		    rs, 413, "the request body is larger than 1 MiB", NULL);
		return;
	}
	if ((query = web_query_string(rq)) == NULL) {
		reply_error(rs, 414, "the query is too long", NULL);
		return;
	}
	if (api_call_start(&p->x, &c, p->provider, web_method(rq), web_path(rq),
		err, sizeof(err)) != 0 ||
	    add_headers(p, rq, &c, err, sizeof(err)) != 0 ||
	    (blen > 0 &&
		api_call_body(&c, body, blen, err, sizeof(err)) != 0) ||
	    api_call_finish(&c, query, NULL, err, sizeof(err)) != 0) {
		rc = api_call_refused(&p->x, &c, err);
		reply_error(rs, 403, janee_err_msg(rc), NULL);
		janee_err_clear();
		goto out;
	}
	if ((l = current(p, &c, err, sizeof(err))) == NULL) {
		reply_error(rs, 401, err, p->pending);
		goto out;
	}
	if ((rc = api_call_send(&p->x, &c, l, &a)) != 0) {
		reply_error(rs, 502, janee_err_msg(rc), l->lease_id);
		janee_err_clear();
		goto out;
	}
	reply_answer(p, &a, l, rs);
	api_answer_free(&a);
out:
	api_call_free(&c);
}

/* --- life ----------------------------------------------------------- */

int
api_proxy_start(
    struct cli *c, const struct api_proxy_opts *o, struct api_proxy **out)
{
	unsigned char raw[API_PROXY_KEY_LEN / 2];
	struct broker_grant g;
	struct api_proxy *p;
	int rc;

	*out = NULL;
	memset(&g, 0, sizeof(g));
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	p->c = c;
	p->x.cfg = c->core.cfg;
	p->x.lg = c->core.lg;
	p->x.http = &c->core.broker.http;
	p->x.actor = "agent";
	p->x.client = "proxy";
	p->x.tool = "janee proxy";
	p->ttl_s = o->ttl_s;
	if ((p->pv = config_lookup(c->core.cfg, o->provider, 0,
		 "list them with: janee provider list")) == NULL) {
		rc = JANEE_ERR_NOT_FOUND;
		goto fail;
	}
	if (p->pv->api == NULL) {
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s' has no \"api\" rules in config.json, so "
		    "janee proxy may not use it; add an \"api\" object with "
		    "its \"allow\" rules",
		    o->provider);
		goto fail;
	}
	if ((p->provider = janee_strdup(o->provider)) == NULL ||
	    (p->reason = janee_strdup(o->reason ? o->reason : "janee proxy")) ==
		NULL ||
	    (p->env = base_env(p->pv)) == NULL ||
	    strlist_copy(&p->scopes, o->scopes) != 0 ||
	    strlist_copy(&p->resources, o->resources) != 0) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = janee_random(raw, sizeof(raw))) != 0)
		goto fail;
	janee_hex(raw, sizeof(raw), p->key);
	janee_wipe(raw, sizeof(raw));
	/* Listen first: a port in use fails before anyone approves. */
	if ((rc = web_start(
		 o->port, WEB_SAME_UID | WEB_RAW, handle, p, &p->w)) != 0)
		goto fail;
	snprintf(p->url, sizeof(p->url), "http://127.0.0.1:%u",
	    (unsigned)web_port(p->w));
	if ((rc = obtain(p, 1, &g)) != 0 || (rc = keep(p, &g)) != 0)
		goto fail;
	broker_grant_free(&g);
	*out = p;
	return 0;
fail:
	broker_grant_free(&g);
	api_proxy_stop(p, "janee proxy did not start");
	return rc;
}

const char *
api_proxy_url(const struct api_proxy *p)
{
	return p->url;
}

const char *
api_proxy_key(const struct api_proxy *p)
{
	return p->key;
}

const char *
api_proxy_env(const struct api_proxy *p)
{
	return p->env;
}

int
api_proxy_fd(const struct api_proxy *p)
{
	return web_fd(p->w);
}

int64_t
api_proxy_timeout_ms(struct api_proxy *p)
{
	int64_t t = web_timeout_ms(p->w), left;

	/* Wake at the lease's end, to have the sweep revoke it. */
	if (p->leases != NULL) {
		left = p->leases->expires_ms - janee_now_ms();
		if (left < 0)
			left = 0;
		if (t < 0 || left < t)
			t = left;
	}
	return t;
}

void
api_proxy_run(struct api_proxy *p)
{
	struct sweep_report r;
	int rc;

	web_run(p->w);
	if (p->leases != NULL && janee_now_ms() >= p->leases->expires_ms) {
		fprintf(stderr,
		    "janee proxy: lease %s for '%s' expired; the next request "
		    "asks for a new one\n",
		    p->leases->lease_id, p->provider);
		api_lease_free_all(&p->leases);
		memset(&r, 0, sizeof(r));
		if ((rc = broker_sweep(&p->c->core.broker, 1, &r)) != 0) {
			fprintf(
			    stderr, "janee: warning: %s\n", janee_err_msg(rc));
			janee_err_clear();
		}
	}
}

/* End id when it has not ended. */
static void
end_lease(struct api_proxy *p, const char *id, const char *why)
{
	struct lease l;
	int rc, live;

	if (lease_load(p->c->core.lg, id, &l) != 0) {
		janee_err_clear();
		return;
	}
	live = l.state == LEASE_ACTIVE || l.state == LEASE_REQUESTED ||
	    l.state == LEASE_APPROVED;
	lease_free(&l);
	if (live && (rc = broker_end(&p->c->core.broker, id, why)) != 0) {
		fprintf(stderr, "janee: warning: %s\n", janee_err_msg(rc));
		janee_err_clear();
	}
}

void
api_proxy_stop(struct api_proxy *p, const char *why)
{
	struct api_lease *l;

	if (p == NULL)
		return;
	web_stop(p->w);
	for (l = p->leases; l != NULL; l = l->next)
		end_lease(p, l->lease_id, why);
	if (p->pending[0] != '\0')
		end_lease(p, p->pending, why);
	api_lease_free_all(&p->leases);
	janee_strlist_free(&p->scopes);
	janee_strlist_free(&p->resources);
	free(p->provider);
	free(p->reason);
	free(p->env);
	janee_wipe(p->key, sizeof(p->key));
	free(p);
}
