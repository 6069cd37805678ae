/*
 * A small HTTP/1.1 server on 127.0.0.1 for janee's own pages: a thin
 * wrapper over libmicrohttpd (opened on first use, src/lazylib.c), made
 * to run inside any process's poll loop (janee serve's, the agent's,
 * `janee approvals --open`'s): MHD in external-epoll mode gives one
 * descriptor to poll for reading and a timeout; web_run does the work
 * that is ready and never blocks.  Nothing here knows what is served:
 * the handler gets a request (method, path, headers, cookies, query and
 * form fields) and fills a response.
 *
 *   web_start -> loop { poll(web_fd, web_timeout_ms); web_run } -> web_stop
 *
 * A connection from a process of another uid is closed before a byte of
 * it is read (WEB_SAME_UID; peeruid.h says how and what it cannot tell).
 */
#ifndef JANEE_WEB_H
#define JANEE_WEB_H

#include "common.h"

#include "buf.h"

struct web;
struct web_request;
struct web_stream;
struct sockaddr;
struct sockaddr_storage;

#define WEB_SAME_UID 0x01 /* refuse peers of another uid (or unknown) */
/*
 * The path and query as sent (no %XX decoding: a proxy checks what it
 * forwards) and any body kept as it came (web_body), for janee proxy.
 */
#define WEB_RAW 0x02
#define WEB_RAW_BODY_MAX (1024 * 1024)
#define WEB_RAW_QUERY_MAX (16 * 1024)
/*
 * Every body kept as it came (web_body), a form too: for janee serve
 * --http, whose token endpoint reads its form itself (team-auth.c).
 */
#define WEB_BODIES 0x04

#define WEB_MAX_HEADERS 40

struct web_response {
	int status; /* 200 unless set */
	const char *type; /* Content-Type; text/html; charset=utf-8 */
	struct buf body;
	int nhdr;
	char *hdr[WEB_MAX_HEADERS][2]; /* name, value (owned) */
	struct web_stream *stream; /* web_stream_open: body sent as made */
};

/* Add a header to the response; a full table drops it (and says so). */
int web_header_add(
    struct web_response *rs, const char *name, const char *value) JANEE_WUR;

typedef void (*web_handler)(
    void *arg, struct web_request *rq, struct web_response *rs);

/*
 * Listen on 127.0.0.1:port (0: a port the kernel picks) and serve every
 * request through h.  JANEE_ERR_UNSUPPORTED when libmicrohttpd cannot be
 * loaded, JANEE_ERR_IO when the port cannot be bound; with a message.
 */
int web_start(uint16_t port, unsigned flags, web_handler h, void *arg,
    struct web **out) JANEE_WUR;
void web_stop(struct web *w);

/* Where and how to listen (web_start is 127.0.0.1:port, flags). */
struct web_opts {
	const struct sockaddr *addr; /* NULL: 127.0.0.1 */
	unsigned addrlen;
	uint16_t port; /* when addr is NULL */
	unsigned flags;
	size_t max_body; /* 0: 16 KiB; longer bodies: web_body_too_large */
	unsigned max_conns; /* 0: 64 */
	unsigned max_conns_per_ip; /* 0: no limit of its own */
	const char *tls_cert_pem, *tls_key_pem; /* HTTPS when set (both) */
};
int web_start_opts(const struct web_opts *o, web_handler h, void *arg,
    struct web **out) JANEE_WUR;

/*
 * Answer with a stream (text/event-stream): the body is what
 * web_stream_write adds, sent as it comes, until web_stream_end (after
 * which the caller forgets s).  gone(arg) is called instead when the
 * connection ends first (the peer left, the server stops); s is then
 * freed.  NULL when out of memory.
 */
typedef void (*web_stream_gone)(void *arg);
struct web_stream *
web_stream_open(struct web_response *rs, web_stream_gone gone, void *arg);
int web_stream_write(struct web_stream *s, const char *p, size_t n) JANEE_WUR;
void web_stream_end(struct web_stream *s);

/* The port bound; the descriptor to poll for POLLIN. */
uint16_t web_port(const struct web *w);
int web_fd(const struct web *w);
/* Milliseconds until web_run has work without input; -1: none. */
int64_t web_timeout_ms(struct web *w);
/* Serve what is ready, without blocking. */
void web_run(struct web *w);
/* Connections refused since the start (another uid, unknown peer). */
int64_t web_refused(const struct web *w);

/* The request: method ("GET"), path without the query, and fields. */
const char *web_method(const struct web_request *rq);
const char *web_path(const struct web_request *rq);
/* A header, a query argument, a cookie; NULL when absent. */
const char *web_header(const struct web_request *rq, const char *name);
const char *web_query(const struct web_request *rq, const char *name);
const char *web_cookie(const struct web_request *rq, const char *name);
/*
 * A field of an application/x-www-form-urlencoded body (POST), decoded
 * by libmicrohttpd's post processor; NULL when absent.  web_form_state:
 * 0 a well-formed form (or no body), -1 a body that is not such a form,
 * has a field twice or is too large.
 */
const char *web_form(const struct web_request *rq, const char *name);
int web_form_state(const struct web_request *rq);
/*
 * A body that is not a form, as sent ("" when none); NULL when it was
 * longer than web_opts.max_body (or, WEB_RAW, its query could not be
 * kept); web_body_too_large says it was too long.  WEB_RAW also keeps
 * the query as sent ("a=b&c", "" for none; NULL when too large or the
 * server is not WEB_RAW).
 */
const char *web_body(const struct web_request *rq, size_t *len);
int web_body_too_large(const struct web_request *rq);
const char *web_query_string(struct web_request *rq);
/* The peer's address; -1 when unknown. */
int web_peer(const struct web_request *rq, struct sockaddr_storage *out);

#endif
