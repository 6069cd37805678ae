/*
 * janee's approval page: the screen where a person sees what waits and
 * answers it, served on 127.0.0.1 by whichever janee process hosts it
 * (janee serve for its URL-mode elicitations, `janee approvals --open`
 * in the foreground; the background agent when it hosts one page for a
 * home).  Hosting it is a few lines in any poll loop:
 *
 *   approval_page_start(broker, "janee serve", &p);
 *   loop: poll approval_page_fd(p) for POLLIN, at most
 *         approval_page_timeout_ms(p); then approval_page_run(p)
 *   link = approval_page_link(p, BROKER_VIA_PERSON, NULL, ttl)
 *   approval_page_stop(p)
 *
 * What it shows: the requests waiting (client, marked self-reported;
 * provider, scopes, repositories, lifetime with shorter choices, reason,
 * when asked), with Approve (a lifetime, and a session grant where the
 * policy allows one) and Deny (a reason); the live session grants and
 * the active leases, each with Revoke; the last audit events.  Never a
 * token or a secret: what it reads is the ledger's lease and audit rows,
 * which hold none.  Decisions go to the broker (broker_decide_via,
 * broker_approve_grant, broker_end, broker_grant_end): the page changes
 * no lease itself.
 *
 * Who may see it: a link carries a one-time capability (256 random bits,
 * kept hashed) that opens a session (an HttpOnly, SameSite=Strict cookie
 * named for the port) and is then spent; a link for a person opens the
 * whole page, a link a client carried (URL-mode elicitation) opens that
 * one request, whose approval the broker accepts only where the client
 * could have approved it (BROKER_VIA_CLIENT).  Every state change is a
 * POST with the session's CSRF token; Host must be 127.0.0.1:PORT (DNS
 * rebinding), Origin, when sent, the page's own, Sec-Fetch-Site, when
 * sent, same-origin; answers forbid everything external (CSP), framing,
 * referrers and caching; a connection from another uid is closed unread
 * (web.h, peeruid.h).  docs/SECURITY.md has the threat model.
 */
#ifndef JANEE_APPROVAL_PAGE_H
#define JANEE_APPROVAL_PAGE_H

#include "common.h"

#include "broker.h"
#include "buf.h"

struct approval_page;

/*
 * Serve the page for b's ledger on a random port of 127.0.0.1; host
 * names the hosting process on the page ("janee serve").  b must outlive
 * the page.
 */
int approval_page_start(
    struct broker *b, const char *host, struct approval_page **out) JANEE_WUR;
void approval_page_stop(struct approval_page *p);

/* For the host's poll loop: see above. */
int approval_page_fd(const struct approval_page *p);
int64_t approval_page_timeout_ms(struct approval_page *p);
void approval_page_run(struct approval_page *p);

/* "http://127.0.0.1:PORT" */
const char *approval_page_origin(const struct approval_page *p);

/*
 * A one-time link ("ORIGIN/open?c=CAPABILITY"), valid for ttl_ms or until
 * used: for a person (via BROKER_VIA_PERSON, lease_id NULL: the whole
 * page; the desktop notification, `janee approvals --open`) or for the
 * person behind a client (BROKER_VIA_CLIENT: lease_id's request alone).
 * malloc'd; NULL on failure (janee_err_set).
 */
char *approval_page_link(struct approval_page *p, enum broker_via via,
    const char *lease_id, int64_t ttl_ms);

/*
 * Text for a person, into HTML: &, <, >, " and ' as entities; with
 * agent set (an agent's reason, a client's name, scopes), also each
 * character that must not reach a person as it is (C0 and C1 controls,
 * bidi controls, line separators, invalid UTF-8), shown as a visible
 * escape ("\u202e") instead, as janee_text_char (src/text.h) decides
 * for every place agent text reaches a person.  The one HTML escaper of
 * the page.
 */
int html_put(struct buf *b, const char *s, int agent) JANEE_WUR;

/*
 * The whole page for a person's session, into b (for the benchmark and
 * the tests): what GET / answers.
 */
int approval_page_render(struct approval_page *p, struct buf *b) JANEE_WUR;

#endif
