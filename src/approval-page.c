/*
 * janee's approval page (approval-page.h): capabilities, sessions and
 * CSRF, the checks every request passes, the routes, and the HTML.  No
 * script at all: forms and links work in any browser, and the CSP
 * forbids everything but the page's own inline style.
 */
#include "common.h"

#include <openssl/evp.h>

#include "approval-page.h"
#include "audit.h"
#include "grant.h"
#include "lease.h"
#include "text.h"
#include "util.h"
#include "web.h"

#define PAGE_CAPS 64
#define PAGE_SESSIONS 32
#define TOKEN_BYTES 32
#define TOKEN_LEN 44 /* base64url of 32 bytes, and a NUL */
#define PERSON_SESSION_MS (60 * 60 * 1000)
#define CLIENT_SESSION_MS (15 * 60 * 1000)
#define AUDIT_ROWS 15
#define REASON_MAX 200
#define REASON_MAX_S "200"

struct page_cap {
	unsigned char hash[32]; /* SHA-256 of the capability */
	enum broker_via via;
	char lease_id[JANEE_LEASE_ID_LEN]; /* "" for the whole page */
	int64_t expires_ms; /* 0: a free slot */
	int used;
};

struct page_session {
	unsigned char hash[32]; /* SHA-256 of the cookie's value */
	char csrf[TOKEN_LEN];
	enum broker_via via;
	char lease_id[JANEE_LEASE_ID_LEN];
	int64_t expires_ms; /* 0: a free slot */
	char flash[400]; /* the last action's outcome, as HTML */
};

struct approval_page {
	struct broker *b;
	struct web *w;
	char host_name[32]; /* "janee serve" */
	char host[32]; /* "127.0.0.1:PORT", what Host must say */
	char origin[48]; /* "http://127.0.0.1:PORT" */
	char cookie[32]; /* "janee_page_PORT" */
	char csp[200];
	struct page_cap caps[PAGE_CAPS];
	struct page_session sess[PAGE_SESSIONS];
};

/* The page's one style, allowed by its hash in the CSP. */
static const char style[] =
    "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2430;"
    "background:#f4f5f7}"
    "header{background:#1d2430;color:#fff;padding:14px 28px}"
    "header h1{margin:0;font-size:20px}header p{margin:2px 0 0;"
    "color:#b8c0cc;font-size:13px}"
    "main{max-width:980px;margin:0 auto;padding:8px 28px 40px}"
    "h2{font-size:16px;margin:26px 0 10px;color:#3a4556}"
    ".req{background:#fff;border:1px solid #d5d9e0;border-left:5px solid "
    "#d98e04;border-radius:6px;padding:14px 18px;margin:0 0 14px}"
    ".req.oob{border-left-color:#b3261e}"
    ".req h3{margin:0 0 8px;font-size:16px}"
    "dl{display:grid;grid-template-columns:130px 1fr;gap:3px 12px;"
    "margin:0 0 12px}dt{color:#5b6778}dd{margin:0}"
    ".tag{display:inline-block;font-size:11px;padding:0 6px;"
    "border-radius:8px;background:#e7eaf0;color:#4a5566;margin-left:6px}"
    ".warn{background:#fbe9e7;color:#8c1d18}"
    ".scope{font-family:ui-monospace,monospace;background:#eef1f6;"
    "padding:0 5px;border-radius:4px;margin-right:4px}"
    ".esc{color:#b3261e;font-family:ui-monospace,monospace}"
    ".reason{white-space:pre-wrap}"
    "form{display:inline-block;margin:4px 14px 4px 0}"
    "select,input[type=text]{font:inherit;padding:3px 6px}"
    "button{font:inherit;padding:4px 14px;border-radius:5px;"
    "border:1px solid #8993a4;background:#fff;cursor:pointer}"
    "button.ok{background:#1e6b3a;border-color:#1e6b3a;color:#fff}"
    "button.no{background:#fff;border-color:#b3261e;color:#b3261e}"
    "table{border-collapse:collapse;width:100%;background:#fff;"
    "font-size:13px}th,td{text-align:left;padding:5px 8px;"
    "border-bottom:1px solid #e3e6eb;vertical-align:top}"
    "th{color:#5b6778;font-weight:600}"
    ".flash{background:#e6f2ea;border:1px solid #9fcfb0;padding:8px 14px;"
    "border-radius:6px;margin:16px 0 0}"
    ".flash.err{background:#fbe9e7;border-color:#e0a39d}"
    ".none{color:#6b7686}code{font-size:12px}time,th{white-space:nowrap}";

/* --- text into HTML -------------------------------------------------- */

int
html_put(struct buf *b, const char *s, int agent)
{
	char esc[JANEE_TEXT_ESC];
	const char *ent;
	size_t len;
	int rc = 0;

	for (; s != NULL && *s != '\0' && rc == 0; s += len) {
		/* A run of printable ASCII with nothing to escape: as it is. */
		for (len = 0; (unsigned char)s[len] >= 0x20 &&
		     (unsigned char)s[len] < 0x7f &&
		     strchr("&<>\"'", s[len]) == NULL;
		     len++)
			;
		if (len > 0) {
			rc = buf_add(b, s, len);
			continue;
		}
		len = 1;
		switch (*s) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			ent = NULL;
		}
		if (ent != NULL)
			rc = buf_addstr(b, ent);
		else if (agent && janee_text_char(s, &len, esc))
			rc =
			    buf_printf(b, "<span class=\"esc\">%s</span>", esc);
		else if (!agent && ((unsigned char)*s < 0x20 || *s == 0x7f))
			rc = buf_addstr(b, " ");
		else if ((len = janee_utf8_seq((const unsigned char *)s,
			      strnlen(s, 4), NULL)) == 0) {
			/* janee's own text: an invalid byte becomes U+FFFD, so
			 * that the page stays UTF-8 (found by fuzz-html). */
			len = 1;
			rc = buf_addstr(b, "\xef\xbf\xbd");
		} else
			rc = buf_add(b, s, len);
	}
	return rc;
}

/* A JSON array of strings, each in a box; "(none)" when empty. */
static int
put_list(struct buf *b, const char *json)
{
	struct janee_strlist l;
	size_t i;
	int rc;

	memset(&l, 0, sizeof(l));
	if (json == NULL || lease_scopes_parse(json, &l) != 0 || l.n == 0) {
		janee_err_clear();
		janee_strlist_free(&l);
		return buf_addstr(b, "<span class=\"none\">none</span>");
	}
	for (i = 0, rc = 0; i < l.n && rc == 0; i++)
		if ((rc = buf_addstr(b, "<span class=\"scope\">")) == 0 &&
		    (rc = html_put(b, l.v[i], 1)) == 0)
			rc = buf_addstr(b, "</span>");
	janee_strlist_free(&l);
	return rc;
}

/* --- capabilities and sessions --------------------------------------- */

static void
sha256(const char *s, unsigned char out[32])
{
	EVP_Digest(s, strlen(s), out, NULL, EVP_sha256(), NULL);
}

static int
new_token(char out[TOKEN_LEN])
{
	unsigned char r[TOKEN_BYTES];
	int rc;

	if ((rc = janee_random(r, sizeof(r))) != 0)
		return rc;
	rc = janee_b64url(r, sizeof(r), out, TOKEN_LEN);
	janee_wipe(r, sizeof(r));
	return rc;
}

char *
approval_page_link(struct approval_page *p, enum broker_via via,
    const char *lease_id, int64_t ttl_ms)
{
	struct page_cap *c = NULL;
	char tok[TOKEN_LEN], *url;
	int64_t now = janee_now_ms();
	size_t i;

	/*
	 * A free slot, else the one that ends first.  A spent link keeps its
	 * slot until it would have expired, so that using it again says so.
	 */
	for (i = 0; i < PAGE_CAPS; i++) {
		struct page_cap *k = &p->caps[i];

		if (k->expires_ms <= now) {
			c = k;
			break;
		}
		if (c == NULL || k->expires_ms < c->expires_ms)
			c = k;
	}
	if (new_token(tok) != 0)
		return NULL;
	memset(c, 0, sizeof(*c));
	sha256(tok, c->hash);
	c->via = via;
	if (lease_id != NULL)
		snprintf(c->lease_id, sizeof(c->lease_id), "%s", lease_id);
	c->expires_ms = now + ttl_ms;
	url = janee_asprintf("%s/open?c=%s", p->origin, tok);
	janee_wipe(tok, sizeof(tok));
	return url;
}

/* The session a request's cookie names, if it is live. */
static struct page_session *
session_of(struct approval_page *p, struct web_request *rq)
{
	const char *v = web_cookie(rq, p->cookie);
	unsigned char h[32];
	int64_t now = janee_now_ms();
	size_t i;

	if (v == NULL || strlen(v) != TOKEN_LEN - 1)
		return NULL;
	sha256(v, h);
	for (i = 0; i < PAGE_SESSIONS; i++)
		if (p->sess[i].expires_ms > now &&
		    janee_ct_cmp(p->sess[i].hash, h, sizeof(h)) == 0)
			return &p->sess[i];
	return NULL;
}

/* Spend a capability: a new session and its cookie. */
static int
session_open(
    struct approval_page *p, const struct page_cap *c, struct web_response *rs)
{
	struct page_session *s = NULL;
	char tok[TOKEN_LEN], *cookie;
	int64_t now = janee_now_ms(), life;
	size_t i;
	int rc;

	for (i = 0; i < PAGE_SESSIONS; i++) {
		struct page_session *k = &p->sess[i];

		if (k->expires_ms <= now) {
			s = k;
			break;
		}
		if (s == NULL || k->expires_ms < s->expires_ms)
			s = k;
	}
	memset(s, 0, sizeof(*s));
	if ((rc = new_token(tok)) != 0 || (rc = new_token(s->csrf)) != 0)
		return rc;
	sha256(tok, s->hash);
	s->via = c->via;
	memcpy(s->lease_id, c->lease_id, sizeof(s->lease_id));
	life =
	    c->via == BROKER_VIA_PERSON ? PERSON_SESSION_MS : CLIENT_SESSION_MS;
	s->expires_ms = now + life;
	/*
	 * HttpOnly: no script reads it; SameSite=Strict: no other site's
	 * page sends it.  Cookies are not kept apart by port, hence the
	 * port in the name (another janee's page on 127.0.0.1).
	 */
	cookie = janee_asprintf(
	    "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld", p->cookie,
	    tok, (long long)(life / 1000));
	janee_wipe(tok, sizeof(tok));
	if (cookie == NULL)
		return JANEE_ERR_NOMEM;
	rc = web_header_add(rs, "Set-Cookie", cookie);
	janee_freezero(cookie, strlen(cookie));
	return rc;
}

/* --- responses ------------------------------------------------------- */

static int
page_head(struct approval_page *p, struct buf *b, const char *title)
{
	return buf_printf(b,
	    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\"><title>janee: %s</title><style>%s</style></head>"
	    "<body><header><h1>janee: %s</h1><p>served by %s on %s</p>"
	    "</header><main>",
	    title, style, title, p->host_name, p->host);
}

static int
page_tail(struct buf *b)
{
	return buf_addstr(b, "</main></body></html>\n");
}

/* A short page that says what went wrong, and what to do. */
static void
refuse(struct approval_page *p, struct web_response *rs, int status,
    const char *why, const char *todo)
{
	rs->status = status;
	buf_reset(&rs->body);
	if (page_head(p, &rs->body, "approvals") != 0 ||
	    buf_addstr(&rs->body, "<h2>") != 0 ||
	    html_put(&rs->body, why, 0) != 0 ||
	    buf_addstr(&rs->body, "</h2><p>") != 0 ||
	    html_put(&rs->body, todo, 0) != 0 ||
	    buf_addstr(&rs->body, "</p>") != 0 || page_tail(&rs->body) != 0)
		janee_err_clear();
}

static void
redirect(struct web_response *rs, const char *to)
{
	rs->status = 303;
	if (web_header_add(rs, "Location", to) != 0)
		janee_err_clear();
}

/* On every answer: nothing external, no framing, no referrer, no cache. */
static void
common_headers(struct approval_page *p, struct web_response *rs)
{
	static const char *const h[][2] = {
		{ "X-Frame-Options", "DENY" },
		{ "Referrer-Policy", "no-referrer" },
		{ "Cache-Control", "no-store" },
		{ "X-Content-Type-Options", "nosniff" },
		{ "Cross-Origin-Opener-Policy", "same-origin" },
		{ "Cross-Origin-Resource-Policy", "same-origin" },
	};
	size_t i;

	if (web_header_add(rs, "Content-Security-Policy", p->csp) != 0)
		janee_err_clear();
	for (i = 0; i < nitems(h); i++)
		if (web_header_add(rs, h[i][0], h[i][1]) != 0)
			janee_err_clear();
}

/* --- the page -------------------------------------------------------- */

struct render {
	struct approval_page *p;
	struct page_session *s; /* NULL: rendered for a benchmark */
	struct buf *b;
	int n;
	int64_t now;
};

/*
 * Strings one after the other, up to a NULL: the page is mostly fixed
 * text around values, and printf's formatting was a third of its cost
 * (bench/page-bench).
 */
static int
cat(struct buf *b, ...)
{
	const char *s;
	va_list ap;
	int rc = 0;

	va_start(ap, b);
	while (rc == 0 && (s = va_arg(ap, const char *)) != NULL)
		rc = buf_addstr(b, s);
	va_end(ap);
	return rc;
}

static int
hidden_csrf(struct render *r)
{
	return cat(r->b, "<input type=\"hidden\" name=\"csrf\" value=\"",
	    r->s ? r->s->csrf : "", "\">", (char *)NULL);
}

/* Lifetimes a person may choose: shorter ones, then what was asked. */
static int
ttl_select(struct buf *b, int64_t ttl_s)
{
	static const int64_t opts[] = { 60, 300, 900, 1800, 3600, 14400 };
	char d[32];
	size_t i;
	int rc;

	if ((rc = buf_addstr(b, "<label>Lifetime <select name=\"ttl\">")) != 0)
		return rc;
	for (i = 0; i < nitems(opts) && rc == 0; i++)
		if (opts[i] < ttl_s) {
			janee_duration_fmt(opts[i], d, sizeof(d));
			rc = buf_printf(
			    b, "<option value=\"%s\">%s</option>", d, d);
		}
	janee_duration_fmt(ttl_s, d, sizeof(d));
	if (rc == 0)
		rc = buf_printf(b,
		    "<option value=\"%s\" selected>%s (as asked)</option>"
		    "</select></label> ",
		    d, d);
	return rc;
}

/* "and narrower requests from this session for N", up to max_s. */
static int
grant_select(struct buf *b, int64_t max_s)
{
	static const int64_t opts[] = { 300, 900, 1800, 3600, 7200, 14400 };
	char d[32];
	size_t i;
	int rc;

	if ((rc = buf_addstr(b,
		 "<label>and this session's narrower requests "
		 "<select name=\"grant\"><option value=\"\" selected>not "
		 "without asking</option>")) != 0)
		return rc;
	for (i = 0; i < nitems(opts) && rc == 0; i++)
		if (opts[i] < max_s) {
			janee_duration_fmt(opts[i], d, sizeof(d));
			rc = buf_printf(
			    b, "<option value=\"%s\">for %s</option>", d, d);
		}
	janee_duration_fmt(max_s, d, sizeof(d));
	if (rc == 0)
		rc = buf_printf(b,
		    "<option value=\"%s\">for %s</option></select></label> ", d,
		    d);
	return rc;
}

static int
put_time(struct buf *b, int64_t ms)
{
	char t[JANEE_TIME_LEN];

	if (ms <= 0)
		return buf_addstr(b, "<span class=\"none\">-</span>");
	janee_time_fmt(ms, t);
	/* "2026-11-28T10:01:39.123Z" -> "2026-11-28 10:01:39 UTC" */
	t[10] = ' ';
	t[19] = '\0';
	return cat(b, "<time>", t, " UTC</time>", (char *)NULL);
}

/* One request waiting, with what a person may do about it. */
static int
put_request(const struct lease *l, void *arg)
{
	struct render *r = arg;
	struct buf *b = r->b;
	int via_client_ok, person, can_grant, rc;
	int64_t grant_max = 0;
	char d[32], sess[9];

	r->n++;
	/* Whether a client could approve it: else only a person may. */
	via_client_ok = broker_may_approve(r->p->b, l, BROKER_VIA_CLIENT) == 0;
	janee_err_clear();
	person = r->s == NULL || r->s->via == BROKER_VIA_PERSON;
	/* Grants only from a person's own session (the broker says whether
	 * the policy allows one, and how long). */
	can_grant = person && broker_may_grant(r->p->b, l, &grant_max) == 0;
	janee_err_clear();
	janee_duration_fmt(l->ttl_s, d, sizeof(d));
	snprintf(sess, sizeof(sess), "%.8s", l->session ? l->session : "");
	if ((rc = cat(b, "<article class=\"req", via_client_ok ? "" : " oob",
		 "\" id=\"", l->id, "\"><h3>", (char *)NULL)) != 0 ||
	    (rc = html_put(b, l->provider, 0)) != 0 ||
	    (rc = buf_addstr(b, "</h3><dl><dt>Client</dt><dd>")) != 0 ||
	    (rc = html_put(b, l->client, 1)) != 0 ||
	    (rc = cat(b, "<span class=\"tag\">self-reported</span>",
		 l->session ? " session " : "", sess,
		 "</dd><dt>Scopes</dt><dd>", (char *)NULL)) != 0 ||
	    (rc = put_list(b, l->requested)) != 0 ||
	    (rc = buf_addstr(b, "</dd><dt>Repositories</dt><dd>")) != 0 ||
	    (rc = put_list(b, l->repositories)) != 0 ||
	    (rc = cat(b, "</dd><dt>Lifetime</dt><dd>", d,
		 "</dd><dt>Reason</dt><dd class=\"reason\">", (char *)NULL)) !=
		0 ||
	    (rc = l->reason ? html_put(b, l->reason, 1)
			    : buf_addstr(b,
				  "<span class=\"none\">(none "
				  "given)</span>")) != 0 ||
	    (rc = buf_addstr(b, "</dd><dt>Asked</dt><dd>")) != 0 ||
	    (rc = put_time(b, l->created_ms)) != 0 ||
	    (rc = cat(b, "</dd><dt>Request</dt><dd><code>", l->id, "</code>",
		 via_client_ok
		     ? ""
		     : "<span class=\"tag warn\">out of band only</span>",
		 "</dd></dl>", (char *)NULL)) != 0)
		return rc;
	if (l->state != LEASE_REQUESTED)
		return buf_printf(b,
		    "<p>This request is <b>%s</b>%s</p></article>",
		    lease_state_name(l->state),
		    l->state == LEASE_APPROVED || l->state == LEASE_MINTING ||
			    l->state == LEASE_ACTIVE
			? ": you can go back to the program that asked."
			: ".");
	if (person || via_client_ok) {
		if ((rc = cat(b,
			 "<div><form method=\"post\" action=\"/approve\">"
			 "<input type=\"hidden\" name=\"lease\" value=\"",
			 l->id, "\">", (char *)NULL)) != 0 ||
		    (rc = hidden_csrf(r)) != 0 ||
		    (rc = ttl_select(b, l->ttl_s)) != 0 ||
		    (can_grant && (rc = grant_select(b, grant_max)) != 0) ||
		    (rc = buf_addstr(b,
			 "<button class=\"ok\" type=\"submit\">Approve"
			 "</button></form>")) != 0)
			return rc;
	} else if ((rc = buf_printf(b,
			"<p>A scope of this request must be approved out of "
			"band, not through the program that asked: open this "
			"page with <code>janee approvals --open</code> or from "
			"the desktop notification, or run <code>janee approve "
			"%s</code>.</p><div>",
			l->id)) != 0)
		return rc;
	if ((rc = cat(b,
		 "<form method=\"post\" action=\"/deny\">"
		 "<input type=\"hidden\" name=\"lease\" value=\"",
		 l->id, "\">", (char *)NULL)) != 0 ||
	    (rc = hidden_csrf(r)) != 0)
		return rc;
	return buf_addstr(b,
	    "<input type=\"text\" name=\"reason\" maxlength=\"" REASON_MAX_S
	    "\" placeholder=\"why (optional)\" aria-label=\"reason\"> "
	    "<button class=\"no\" type=\"submit\">Deny</button></form>"
	    "</div></article>");
}

static int
put_grant(const struct grant *g, void *arg)
{
	struct render *r = arg;
	struct buf *b = r->b;
	char d[32];
	int rc;

	r->n++;
	janee_duration_fmt(g->max_ttl_s, d, sizeof(d));
	if ((rc = buf_printf(b, "<tr><td><code>%s</code></td><td>", g->id)) !=
		0 ||
	    (rc = html_put(b, g->provider, 0)) != 0 ||
	    (rc = buf_addstr(b, "</td><td>")) != 0 ||
	    (rc = put_list(b, g->scopes)) != 0 ||
	    (g->repositories != NULL &&
		((rc = buf_addstr(b, "<br>on ")) != 0 ||
		    (rc = put_list(b, g->repositories)) != 0)) ||
	    (rc = buf_addstr(b, "</td><td>")) != 0 ||
	    (rc = html_put(b, g->client, 1)) != 0 ||
	    (rc = buf_printf(b,
		 "<span class=\"tag\">self-reported</span><br>session "
		 "%.8s</td><td>%s</td><td>",
		 g->session, d)) != 0 ||
	    (rc = put_time(b, g->expires_ms)) != 0 ||
	    (rc = buf_printf(b,
		 "</td><td><form method=\"post\" action=\"/revoke-grant\">"
		 "<input type=\"hidden\" name=\"grant\" value=\"%s\">",
		 g->id)) != 0 ||
	    (rc = hidden_csrf(r)) != 0)
		return rc;
	return buf_addstr(b,
	    "<button class=\"no\" type=\"submit\">Revoke</button></form>"
	    "</td></tr>");
}

static int
put_active(const struct lease *l, void *arg)
{
	struct render *r = arg;
	struct buf *b = r->b;
	int rc;

	if (l->state != LEASE_ACTIVE)
		return 0;
	r->n++;
	if ((rc = cat(b, "<tr><td><code>", l->id, "</code></td><td>",
		 (char *)NULL)) != 0 ||
	    (rc = html_put(b, l->provider, 0)) != 0 ||
	    (rc = buf_addstr(b, "</td><td>")) != 0 ||
	    (rc = put_list(b, l->granted ? l->granted : l->requested)) != 0 ||
	    (rc = buf_addstr(b, "</td><td>")) != 0 ||
	    (rc = html_put(b, l->client, 1)) != 0 ||
	    (rc = buf_addstr(b,
		 "<span class=\"tag\">self-reported</span></td><td>")) != 0 ||
	    (rc = put_time(b, l->expires_ms)) != 0 ||
	    (rc = cat(b,
		 "</td><td><form method=\"post\" action=\"/revoke\">"
		 "<input type=\"hidden\" name=\"lease\" value=\"",
		 l->id, "\">", (char *)NULL)) != 0 ||
	    (rc = hidden_csrf(r)) != 0)
		return rc;
	return buf_addstr(b,
	    "<button class=\"no\" type=\"submit\">Revoke</button></form>"
	    "</td></tr>");
}

static int
put_event(const struct audit_row *a, void *arg)
{
	struct render *r = arg;
	struct buf *b = r->b;
	int rc;

	r->n++;
	if ((rc = buf_addstr(b, "<tr><td>")) != 0 ||
	    (rc = put_time(b, a->ts_ms)) != 0 ||
	    (rc = buf_addstr(b, "</td><td>")) != 0 ||
	    (rc = html_put(b, a->event, 1)) != 0 ||
	    (rc = buf_addstr(b, "</td><td>")) != 0 ||
	    (rc = html_put(b, a->actor, 1)) != 0 ||
	    (rc = buf_addstr(b, "</td><td>")) != 0 ||
	    (rc = html_put(b, a->provider, 1)) != 0 ||
	    (rc = buf_addstr(b, "</td><td><code>")) != 0 ||
	    (rc = html_put(b, a->lease_id, 1)) != 0 ||
	    (rc = buf_addstr(b, "</code></td><td>")) != 0 ||
	    (rc = html_put(b, a->detail, 1)) != 0)
		return rc;
	return buf_addstr(b, "</td></tr>");
}

static int
put_table(struct render *r, const char *title, const char *cols,
    const char *empty, int (*fill)(struct render *r))
{
	size_t at;
	int rc;

	if ((rc = buf_printf(r->b, "<h2>%s</h2>", title)) != 0)
		return rc;
	at = r->b->len;
	r->n = 0;
	if ((rc = buf_printf(r->b, "<table><tr>%s</tr>", cols)) != 0 ||
	    (rc = fill(r)) != 0)
		return rc;
	if (r->n == 0) {
		/* Nothing to list: a line instead of an empty table. */
		r->b->len = at;
		r->b->p[at] = '\0';
		return buf_printf(r->b, "<p class=\"none\">%s</p>", empty);
	}
	return buf_addstr(r->b, "</table>");
}

static int
fill_grants(struct render *r)
{
	struct grant_filter f = { .live_only = 1, .now_ms = r->now };

	return grant_each(r->p->b->lg, &f, put_grant, r);
}

static int
fill_active(struct render *r)
{
	struct lease_filter f = { .active_only = 1 };

	return lease_each(r->p->b->lg, &f, put_active, r);
}

static int
fill_events(struct render *r)
{
	struct audit_filter f;

	audit_filter_init(&f);
	f.limit = AUDIT_ROWS;
	return audit_each(r->p->b->lg, &f, put_event, r);
}

/* The page of a person's session: everything waiting, live, recent. */
static int
render_person(struct render *r)
{
	struct lease_filter f = { .requested_only = 1 };
	int rc;

	if ((rc = buf_addstr(r->b, "<h2>Waiting for you</h2>")) != 0)
		return rc;
	r->n = 0;
	if ((rc = lease_each(r->p->b->lg, &f, put_request, r)) != 0)
		return rc;
	if (r->n == 0 &&
	    (rc = buf_addstr(r->b,
		 "<p class=\"none\">Nothing waits for approval.</p>")) != 0)
		return rc;
	if ((rc = put_table(r, "Session grants",
		 "<th>Grant</th><th>Provider</th><th>Scopes</th>"
		 "<th>Session of</th><th>Leases up to</th><th>Until</th>"
		 "<th></th>",
		 "No session grant is in force.", fill_grants)) != 0 ||
	    (rc = put_table(r, "Active leases",
		 "<th>Lease</th><th>Provider</th><th>Scopes</th>"
		 "<th>Client</th><th>Ends</th><th></th>",
		 "No lease is active.", fill_active)) != 0 ||
	    (rc = put_table(r, "Last events",
		 "<th>When</th><th>Event</th><th>By</th><th>Provider</th>"
		 "<th>Lease</th><th>Detail</th>",
		 "No events yet.", fill_events)) != 0)
		return rc;
	return buf_addstr(r->b, "<p><a href=\"/\">Refresh</a></p>");
}

/* The page of a link a client carried: that one request. */
static int
render_client(struct render *r)
{
	struct lease l;
	int rc;

	if ((rc = lease_load(r->p->b->lg, r->s->lease_id, &l)) != 0)
		return rc;
	rc = buf_addstr(r->b, "<h2>A request for your approval</h2>");
	if (rc == 0)
		rc = put_request(&l, r);
	lease_free(&l);
	if (rc == 0)
		rc = buf_addstr(r->b,
		    "<p class=\"none\">This link shows this one request. "
		    "To see everything that waits, run <code>janee approvals "
		    "--open</code>.</p><p><a href=\"/\">Refresh</a></p>");
	return rc;
}

static int
render(struct approval_page *p, struct page_session *s, struct buf *b)
{
	struct render r = { p, s, b, 0, janee_now_ms() };
	int rc;

	if ((rc = page_head(p, b, "approvals")) != 0)
		return rc;
	if (s != NULL && s->flash[0] != '\0') {
		if ((rc = buf_addstr(b, s->flash)) != 0)
			return rc;
		s->flash[0] = '\0';
	}
	if ((rc = s != NULL && s->via == BROKER_VIA_CLIENT
		    ? render_client(&r)
		    : render_person(&r)) != 0)
		return rc;
	return page_tail(b);
}

int
approval_page_render(struct approval_page *p, struct buf *b)
{
	return render(p, NULL, b);
}

/* --- actions --------------------------------------------------------- */

/* The outcome of an action, shown once on the next page. */
static void flash(struct page_session *s, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
flash(struct page_session *s, int ok, const char *fmt, ...)
{
	char text[300];
	struct buf b;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	buf_init(&b, sizeof(s->flash) - 1);
	if (buf_printf(&b, "<p class=\"flash%s\">", ok ? "" : " err") != 0 ||
	    html_put(&b, text, 1) != 0 || buf_addstr(&b, "</p>") != 0)
		janee_err_clear();
	snprintf(s->flash, sizeof(s->flash), "%s", b.p ? b.p : "");
	buf_free(&b);
}

/* A lease this session may act on: any for a person, its own for a
 * client's link. */
static const char *
lease_field(struct page_session *s, struct web_request *rq)
{
	const char *id = web_form(rq, "lease");

	if (id == NULL || !janee_lease_id_valid(id))
		return NULL;
	if (s->via == BROKER_VIA_CLIENT && strcmp(id, s->lease_id) != 0)
		return NULL;
	return id;
}

static void
do_approve(
    struct approval_page *p, struct page_session *s, struct web_request *rq)
{
	const char *id = lease_field(s, rq), *t = web_form(rq, "ttl");
	const char *gs = web_form(rq, "grant");
	char grant_id[JANEE_LEASE_ID_LEN], d[32];
	int64_t ttl = 0, grant = 0;
	int rc;

	if (id == NULL) {
		flash(s, 0, "that request is not one this page may answer");
		return;
	}
	if ((t != NULL && *t != '\0' && janee_duration_parse(t, &ttl) != 0) ||
	    (gs != NULL && *gs != '\0' &&
		janee_duration_parse(gs, &grant) != 0)) {
		janee_err_clear();
		flash(s, 0, "%s was not approved: a lifetime is not a duration",
		    id);
		return;
	}
	/* Grants only from a person's own session, never a client's link. */
	if (grant > 0 && s->via != BROKER_VIA_PERSON) {
		flash(s, 0,
		    "%s was not approved: a session grant is given "
		    "only from janee approvals --open",
		    id);
		return;
	}
	if (grant > 0)
		rc = broker_approve_grant(p->b, id, "user",
		    "approved on janee's page", ttl, grant, grant_id);
	else
		rc = broker_decide_via(p->b, id, 1, s->via, "user",
		    s->via == BROKER_VIA_PERSON
			? "approved on janee's page"
			: "approved on janee's page (a link the MCP client "
			  "carried)",
		    ttl);
	if (rc != 0) {
		flash(s, 0, "%s was not approved: %s", id, janee_err_msg(rc));
		janee_err_clear();
		return;
	}
	janee_duration_fmt(grant, d, sizeof(d));
	if (grant > 0)
		flash(s, 1, "Approved %s, and session grant %s for %s.", id,
		    grant_id, d);
	else
		flash(s, 1, "Approved %s.", id);
}

static void
do_deny(struct approval_page *p, struct page_session *s, struct web_request *rq)
{
	const char *id = lease_field(s, rq), *why = web_form(rq, "reason");
	char *msg;
	int rc;

	if (id == NULL) {
		flash(s, 0, "that request is not one this page may answer");
		return;
	}
	if (why != NULL && strlen(why) > REASON_MAX) {
		flash(s, 0,
		    "%s was not denied: the reason is longer than %d "
		    "bytes",
		    id, REASON_MAX);
		return;
	}
	if ((msg = janee_asprintf("denied on janee's page%s%s",
		 why && *why ? ": " : "", why && *why ? why : "")) == NULL) {
		janee_err_clear();
		return;
	}
	rc = broker_decide_via(p->b, id, 0, s->via, "user", msg, 0);
	free(msg);
	if (rc != 0) {
		flash(s, 0, "%s was not denied: %s", id, janee_err_msg(rc));
		janee_err_clear();
	} else
		flash(s, 1, "Denied %s.", id);
}

static void
do_revoke(struct approval_page *p, struct page_session *s,
    struct web_request *rq, int grant)
{
	const char *id = web_form(rq, grant ? "grant" : "lease");
	const char *saved = p->b->actor;
	int rc;

	if (s->via != BROKER_VIA_PERSON || id == NULL ||
	    !(grant ? grant_id_valid(id) : janee_lease_id_valid(id))) {
		flash(s, 0,
		    "only janee's own page revokes, and only what it "
		    "lists");
		return;
	}
	p->b->actor = "user";
	rc = grant ? broker_grant_end(p->b, id, "revoked on janee's page")
		   : broker_end(p->b, id, "revoked on janee's page");
	p->b->actor = saved;
	if (rc != 0) {
		flash(s, 0, "%s: %s", id, janee_err_msg(rc));
		janee_err_clear();
	} else
		flash(s, 1, "Revoked %s%s.", id,
		    grant ? " and the leases it approved" : "");
}

/* --- routing --------------------------------------------------------- */

static void
open_link(
    struct approval_page *p, struct web_request *rq, struct web_response *rs)
{
	const char *c = web_query(rq, "c");
	unsigned char h[32];
	int64_t now = janee_now_ms();
	size_t i;

	if (c != NULL && strlen(c) == TOKEN_LEN - 1) {
		sha256(c, h);
		for (i = 0; i < PAGE_CAPS; i++) {
			struct page_cap *k = &p->caps[i];

			if (k->expires_ms == 0 ||
			    janee_ct_cmp(k->hash, h, sizeof(h)) != 0)
				continue;
			if (k->used) {
				refuse(p, rs, 403,
				    "This link was used already.",
				    "Each link to janee's page opens it once. "
				    "Run janee approvals --open for a new "
				    "one.");
				return;
			}
			if (k->expires_ms <= now)
				break;
			k->used = 1;
			if (session_open(p, k, rs) != 0) {
				janee_err_clear();
				refuse(p, rs, 500,
				    "janee could not open a session.",
				    "Try again with a new link.");
				return;
			}
			redirect(rs, "/");
			return;
		}
	}
	refuse(p, rs, 403, "This link is not valid, or has expired.",
	    "Run janee approvals --open for a new one.");
}

/*
 * Where a request comes from: Host must name this page exactly (a DNS
 * rebinding attack sends its own name).  Origin, when the browser sends
 * one, must be this page's; but under Referrer-Policy: no-referrer a
 * browser sends "Origin: null" with a form's POST even to its own origin
 * (Fetch, "serializing a request origin"), so "null" passes only with
 * Sec-Fetch-Site: same-origin, which says the same thing and is never
 * sent for a page of another origin, sandboxed or not.  Sec-Fetch-Site,
 * when sent, must be same-origin for a state change, and never another
 * site for the page itself (the links come from outside the browser:
 * "none"); /open may be reached from anywhere, its capability decides.
 */
static const char *
bad_source(struct approval_page *p, struct web_request *rq, int post)
{
	const char *host = web_header(rq, "Host");
	const char *origin = web_header(rq, "Origin");
	const char *site = web_header(rq, "Sec-Fetch-Site");
	int same = site != NULL && strcmp(site, "same-origin") == 0;

	if (host == NULL || strcmp(host, p->host) != 0)
		return "This page answers only at its own address";
	if (origin != NULL && strcmp(origin, p->origin) != 0 &&
	    !(strcmp(origin, "null") == 0 && same))
		return "A page from another origin may not use janee's page";
	if (site != NULL && post && !same)
		return "A page from another origin may not use janee's page";
	if (site != NULL && !post && !same && strcmp(site, "none") != 0 &&
	    strcmp(web_path(rq), "/open") != 0)
		return "Another site may not show janee's page";
	return NULL;
}

static void
handle(void *arg, struct web_request *rq, struct web_response *rs)
{
	struct approval_page *p = arg;
	const char *m = web_method(rq), *path = web_path(rq), *why, *csrf;
	int post = strcmp(m, "POST") == 0;
	int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
	struct page_session *s;

	common_headers(p, rs);
	if ((why = bad_source(p, rq, post)) != NULL) {
		refuse(p, rs, 403, why, "Open it from its own link.");
		return;
	}
	if (strcmp(path, "/open") == 0 && get) {
		open_link(p, rq, rs);
		return;
	}
	if ((strcmp(path, "/") == 0 && !get) ||
	    (strcmp(path, "/") != 0 && strcmp(path, "/open") != 0 && !post)) {
		refuse(p, rs, strcmp(path, "/") == 0 ? 405 : 404,
		    "There is no such page.", "Go back to janee's page.");
		return;
	}
	if ((s = session_of(p, rq)) == NULL) {
		refuse(p, rs, 403, "You are not signed in to this page.",
		    "Open it with janee approvals --open, or from the link "
		    "you were given.");
		return;
	}
	if (get) {
		if (render(p, s, &rs->body) != 0) {
			janee_err_clear();
			refuse(p, rs, 500, "janee could not read its ledger.",
			    "Try again.");
		}
		return;
	}
	csrf = web_form(rq, "csrf");
	if (web_form_state(rq) != 0 || csrf == NULL ||
	    strlen(csrf) != TOKEN_LEN - 1 ||
	    janee_ct_cmp(csrf, s->csrf, TOKEN_LEN - 1) != 0) {
		refuse(p, rs, 403,
		    "This form is not one janee's page "
		    "gave you.",
		    "Go back to janee's page and try again.");
		return;
	}
	if (strcmp(path, "/approve") == 0)
		do_approve(p, s, rq);
	else if (strcmp(path, "/deny") == 0)
		do_deny(p, s, rq);
	else if (strcmp(path, "/revoke") == 0)
		do_revoke(p, s, rq, 0);
	else if (strcmp(path, "/revoke-grant") == 0)
		do_revoke(p, s, rq, 1);
	else {
		refuse(p, rs, 404, "There is no such page.",
		    "Go back to janee's page.");
		return;
	}
	redirect(rs, "/");
}

/* --- hosting --------------------------------------------------------- */

int
approval_page_start(
    struct broker *b, const char *host, struct approval_page **out)
{
	unsigned char h[32];
	char h64[48];
	struct approval_page *p;
	int rc;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	p->b = b;
	snprintf(p->host_name, sizeof(p->host_name), "%s", host);
	if ((rc = web_start(0, WEB_SAME_UID, handle, p, &p->w)) != 0) {
		free(p);
		return rc;
	}
	snprintf(
	    p->host, sizeof(p->host), "127.0.0.1:%u", (unsigned)web_port(p->w));
	snprintf(p->origin, sizeof(p->origin), "http://%s", p->host);
	snprintf(p->cookie, sizeof(p->cookie), "janee_page_%u",
	    (unsigned)web_port(p->w));
	/* CSP 3: the inline style by its hash; nothing else, from anywhere. */
	EVP_Digest(style, strlen(style), h, NULL, EVP_sha256(), NULL);
	EVP_EncodeBlock((unsigned char *)h64, h, sizeof(h));
	snprintf(p->csp, sizeof(p->csp),
	    "default-src 'none'; style-src 'sha256-%s'; form-action 'self'; "
	    "frame-ancestors 'none'; base-uri 'none'",
	    h64);
	*out = p;
	return 0;
}

void
approval_page_stop(struct approval_page *p)
{
	if (p == NULL)
		return;
	web_stop(p->w);
	janee_wipe(p->caps, sizeof(p->caps));
	janee_wipe(p->sess, sizeof(p->sess));
	free(p);
}

int
approval_page_fd(const struct approval_page *p)
{
	return web_fd(p->w);
}

int64_t
approval_page_timeout_ms(struct approval_page *p)
{
	return web_timeout_ms(p->w);
}

void
approval_page_run(struct approval_page *p)
{
	web_run(p->w);
}

const char *
approval_page_origin(const struct approval_page *p)
{
	return p->origin;
}
