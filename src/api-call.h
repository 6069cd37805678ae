/*
 * One API call made with a lease's token, from "a request" to "a scrubbed
 * answer": the one place for what call_api (mcp-api.c) and janee proxy
 * (api-proxy.c) both do, so that the two front ends cannot drift apart.
 *
 *   api_call_start     provider, method, path: the provider's "api" rules,
 *                      the path check (refused, never "fixed"), deny then
 *                      allow, the resource allow-list (GitHub's {repo})
 *   api_call_header    a request header: the safe list only
 *   api_call_body      a body (not for GET or HEAD), at most 1 MiB
 *   api_call_finish    the provider's default headers, the URL
 *   api_call_refused   a refusal, audited once it names a method
 *   api_lease_find     a kept lease for the same provider and key that the
 *                      ledger says still runs (forgotten once it says the
 *                      lease ended; kept, unused, while it cannot be read)
 *   api_lease_keep     keep a lease just granted, with the secrets of the
 *                      call (token, refresh token, client secret)
 *   api_call_send      send with the lease's token; the answer capped,
 *                      its headers filtered and every secret redacted;
 *                      one "api_call" audit event (never a body or query)
 */
#ifndef JANEE_API_CALL_H
#define JANEE_API_CALL_H

#include "common.h"

#include "api-rules.h"
#include "broker.h"
#include "buf.h"

#define API_BODY_MAX (1024 * 1024)
#define API_MAX_SECRETS 8

/* Who makes the calls, for the audit, and the HTTP client to use. */
struct api_ctx {
	struct config *cfg;
	struct ledger *lg;
	struct janee_http **http; /* created on first need */
	const char *actor; /* "agent" */
	const char *client; /* the MCP client's name, "proxy" */
	const char *tool; /* in messages: "call_api", "janee proxy" */
};

/* A lease that later calls may use again, with what to redact. */
struct api_lease {
	char *provider;
	char *key; /* scopes and resources as asked */
	char lease_id[JANEE_LEASE_ID_LEN];
	struct janee_secret *token;
	struct janee_secret *secrets[API_MAX_SECRETS];
	size_t nsec;
	int64_t expires_ms;
	struct api_lease *next;
};

/* One call, checked and ready to send. */
struct api_call {
	struct prov *pv;
	const char *method, *path;
	char *url;
	char *key; /* the lease's identity (api_lease_find) */
	struct janee_strlist headers; /* "Name: value" */
	const char *body;
	size_t body_len;
	int has_type;
	int audit; /* a refusal from here on is worth an audit event */
	struct api_match match;
};

/* A scrubbed answer. */
struct api_answer {
	long status;
	struct janee_strlist headers; /* "Name: value", filtered, redacted */
	struct buf body; /* redacted */
	int truncated;
};

/* 0, or -1 with why in err (no secret: it is the caller's request). */
int api_call_start(const struct api_ctx *x, struct api_call *c,
    const char *provider, const char *method, const char *path, char *err,
    size_t n);
int api_call_header(struct api_call *c, const char *name, const char *value,
    char *err, size_t n);
int api_call_body(
    struct api_call *c, const char *body, size_t len, char *err, size_t n);
/* query: "name=value&..." as it goes on the wire (checked), or NULL. */
int api_call_finish(struct api_call *c, const char *query, const char *key,
    char *err, size_t n);
void api_call_free(struct api_call *c);

/* Audit the refusal (when c->audit); JANEE_ERR_POLICY with err. */
int api_call_refused(
    const struct api_ctx *x, const struct api_call *c, const char *err);

struct api_lease *api_lease_find(
    const struct api_ctx *x, struct api_lease **list, const struct api_call *c);
/* Keep g's lease as provider pv's under key (the call's c->key). */
struct api_lease *api_lease_keep(struct api_lease **list, struct prov *pv,
    const char *key, const struct broker_grant *g);
void api_lease_free_all(struct api_lease **list);

/* 0 with *a filled (free it), or an error (audited, message scrubbed). */
int api_call_send(const struct api_ctx *x, const struct api_call *c,
    const struct api_lease *l, struct api_answer *a) JANEE_WUR;
void api_answer_free(struct api_answer *a);

/* RFC 3986 2.3: unreserved characters as they are, the rest %XX. */
int api_urlencode(struct buf *b, const char *s) JANEE_WUR;
/* Whether b is UTF-8 text without NUL. */
int api_is_text(const char *p, size_t len);

#endif
