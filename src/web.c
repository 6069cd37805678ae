/* A loopback HTTP server in the caller's poll loop, over libmicrohttpd. */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "lazylib.h"
#include "peeruid.h"
#include "util.h"
#include "web.h"

#define WEB_MAX_BODY (16 * 1024)
#define WEB_MAX_FIELDS 16
#define WEB_MAX_FIELD 4096
#define WEB_MAX_RESPONSE (8 * 1024 * 1024)

/*
 * libmicrohttpd is opened on first use (lazylib.h): it brings GnuTLS and
 * eight more libraries, which only the processes serving a page need.
 */
enum {
	START,
	STOP,
	DAEMON_INFO,
	GET_TIMEOUT,
	RUN,
	LOOKUP,
	RESP_BUFFER,
	RESP_HEADER,
	QUEUE,
	RESP_DESTROY,
	PP_CREATE,
	PP_PROCESS,
	PP_DESTROY,
	RESP_CALLBACK,
	SUSPEND,
	RESUME,
	CONN_INFO,
	FEATURE,
	GET_VALUES,
	NSYMS
};

static const char *const syms[] = {
	[START] = "MHD_start_daemon",
	[STOP] = "MHD_stop_daemon",
	[DAEMON_INFO] = "MHD_get_daemon_info",
	[GET_TIMEOUT] = "MHD_get_timeout",
	[RUN] = "MHD_run",
	[LOOKUP] = "MHD_lookup_connection_value",
	[RESP_BUFFER] = "MHD_create_response_from_buffer",
	[RESP_HEADER] = "MHD_add_response_header",
	[QUEUE] = "MHD_queue_response",
	[RESP_DESTROY] = "MHD_destroy_response",
	[PP_CREATE] = "MHD_create_post_processor",
	[PP_PROCESS] = "MHD_post_process",
	[PP_DESTROY] = "MHD_destroy_post_processor",
	[RESP_CALLBACK] = "MHD_create_response_from_callback",
	[SUSPEND] = "MHD_suspend_connection",
	[RESUME] = "MHD_resume_connection",
	[CONN_INFO] = "MHD_get_connection_info",
	[FEATURE] = "MHD_is_feature_supported",
	[GET_VALUES] = "MHD_get_connection_values",
	[NSYMS] = NULL,
};

static const char *const files[] = { JANEE_MHD_SONAME,
	JANEE_MHD_LIBDIR "/" JANEE_MHD_SONAME, NULL };

static void *addr[NSYMS];

static struct lazylib libmhd = { "libmicrohttpd", files, syms, addr, 0, "" };

/* The calls, typed as microhttpd.h declares them. */
static struct {
	struct MHD_Daemon *(*start)(unsigned int, uint16_t,
	    MHD_AcceptPolicyCallback, void *, MHD_AccessHandlerCallback, void *,
	    ...);
	void (*stop)(struct MHD_Daemon *);
	const union MHD_DaemonInfo *(*daemon_info)(
	    struct MHD_Daemon *, enum MHD_DaemonInfoType, ...);
	enum MHD_Result (*get_timeout)(
	    struct MHD_Daemon *, MHD_UNSIGNED_LONG_LONG *);
	enum MHD_Result (*run)(struct MHD_Daemon *);
	const char *(*lookup)(
	    struct MHD_Connection *, enum MHD_ValueKind, const char *);
	struct MHD_Response *(*resp_buffer)(
	    size_t, void *, enum MHD_ResponseMemoryMode);
	enum MHD_Result (*resp_header)(
	    struct MHD_Response *, const char *, const char *);
	enum MHD_Result (*queue)(
	    struct MHD_Connection *, unsigned int, struct MHD_Response *);
	void (*resp_destroy)(struct MHD_Response *);
	struct MHD_PostProcessor *(*pp_create)(
	    struct MHD_Connection *, size_t, MHD_PostDataIterator, void *);
	enum MHD_Result (*pp_process)(
	    struct MHD_PostProcessor *, const char *, size_t);
	enum MHD_Result (*pp_destroy)(struct MHD_PostProcessor *);
	struct MHD_Response *(*resp_callback)(uint64_t, size_t,
	    MHD_ContentReaderCallback, void *, MHD_ContentReaderFreeCallback);
	void (*suspend)(struct MHD_Connection *);
	void (*resume)(struct MHD_Connection *);
	const union MHD_ConnectionInfo *(*conn_info)(
	    struct MHD_Connection *, enum MHD_ConnectionInfoType, ...);
	enum MHD_Result (*feature)(enum MHD_FEATURE);
	int (*get_values)(struct MHD_Connection *, enum MHD_ValueKind,
	    MHD_KeyValueIterator, void *);
} fn;

static int
load(void)
{
	int rc;

	if ((rc = lazylib_load(&libmhd)) != 0)
		return rc;
	fn.start = (struct MHD_Daemon *
	    (*)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
		MHD_AccessHandlerCallback, void *, ...)) addr[START];
	fn.stop = (void (*)(struct MHD_Daemon *))addr[STOP];
	fn.daemon_info = (const union MHD_DaemonInfo *(*)(struct MHD_Daemon *,
	    enum MHD_DaemonInfoType, ...))addr[DAEMON_INFO];
	fn.get_timeout = (enum MHD_Result(*)(
	    struct MHD_Daemon *, MHD_UNSIGNED_LONG_LONG *))addr[GET_TIMEOUT];
	fn.run = (enum MHD_Result(*)(struct MHD_Daemon *))addr[RUN];
	fn.lookup = (const char *(*)(struct MHD_Connection *,
	    enum MHD_ValueKind, const char *))addr[LOOKUP];
	fn.resp_buffer = (struct MHD_Response *
	    (*)(size_t, void *, enum MHD_ResponseMemoryMode)) addr[RESP_BUFFER];
	fn.resp_header = (enum MHD_Result(*)(struct MHD_Response *,
	    const char *, const char *))addr[RESP_HEADER];
	fn.queue = (enum MHD_Result(*)(struct MHD_Connection *, unsigned int,
	    struct MHD_Response *))addr[QUEUE];
	fn.resp_destroy = (void (*)(struct MHD_Response *))addr[RESP_DESTROY];
	fn.pp_create = (struct MHD_PostProcessor *
	    (*)(struct MHD_Connection *, size_t, MHD_PostDataIterator, void *))
	    addr[PP_CREATE];
	fn.pp_process = (enum MHD_Result(*)(
	    struct MHD_PostProcessor *, const char *, size_t))addr[PP_PROCESS];
	fn.pp_destroy =
	    (enum MHD_Result(*)(struct MHD_PostProcessor *))addr[PP_DESTROY];
	fn.resp_callback = (struct MHD_Response *
	    (*)(uint64_t, size_t, MHD_ContentReaderCallback, void *,
		MHD_ContentReaderFreeCallback)) addr[RESP_CALLBACK];
	fn.suspend = (void (*)(struct MHD_Connection *))addr[SUSPEND];
	fn.resume = (void (*)(struct MHD_Connection *))addr[RESUME];
	fn.conn_info =
	    (const union MHD_ConnectionInfo *(*)(struct MHD_Connection *,
		enum MHD_ConnectionInfoType, ...))addr[CONN_INFO];
	fn.feature = (enum MHD_Result(*)(enum MHD_FEATURE))addr[FEATURE];
	fn.get_values = (int (*)(struct MHD_Connection *, enum MHD_ValueKind,
	    MHD_KeyValueIterator, void *))addr[GET_VALUES];
	return 0;
}

struct web {
	struct MHD_Daemon *d;
	/* One body for every answer: libmicrohttpd copies it, and keeping
	 * the storage spares a page's worth of page faults per answer. */
	struct buf body;
	struct sockaddr_in local;
	size_t max_body;
	unsigned flags;
	web_handler handler;
	void *arg;
	int epoll_fd;
	uint16_t port;
	int64_t refused;
};

struct web_field {
	char *name;
	struct buf value;
};

struct web_request {
	struct web *w;
	struct MHD_Connection *conn;
	char method[8];
	char *path;
	struct MHD_PostProcessor *pp;
	size_t body_len;
	struct buf raw; /* a body that is not a form, up to max_body */
	int too_large; /* it was longer */
	int form_bad;
	int nfields;
	struct web_field fields[WEB_MAX_FIELDS];
	struct buf query; /* WEB_RAW: the query as sent (web_query_string) */
};

int
web_header_add(struct web_response *rs, const char *name, const char *value)
{
	char *n, *v;

	if (rs->nhdr >= WEB_MAX_HEADERS)
		return janee_err_set(JANEE_ERR_INTERNAL,
		    "too many response headers (header '%s' dropped)", name);
	if ((n = janee_strdup(name)) == NULL ||
	    (v = janee_strdup(value)) == NULL) {
		free(n);
		return JANEE_ERR_NOMEM;
	}
	rs->hdr[rs->nhdr][0] = n;
	rs->hdr[rs->nhdr][1] = v;
	rs->nhdr++;
	return 0;
}

static void
response_free(struct web *w, struct web_response *rs)
{
	int i;

	for (i = 0; i < rs->nhdr; i++) {
		free(rs->hdr[i][0]);
		free(rs->hdr[i][1]);
	}
	/* Kept for the next answer (wiped: a page may hold a CSRF token). */
	w->body = rs->body;
	buf_reset(&w->body);
}

/* Before a byte is read: refuse other uids, and peers nobody can name. */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
	struct web *w = cls;
	struct sockaddr_in peer;
	uid_t uid;

	if (!(w->flags & WEB_SAME_UID))
		return MHD_YES;
	if (sa == NULL || sa->sa_family != AF_INET ||
	    len < (socklen_t)sizeof(peer))
		goto refuse;
	memcpy(&peer, sa, sizeof(peer));
	if (loopback_peer_uid(&peer, &w->local, &uid) == 0 && uid == geteuid())
		return MHD_YES;
refuse:
	w->refused++;
	return MHD_NO;
}

/* Form fields as the post processor decodes them, chunk by chunk. */
static enum MHD_Result
on_field(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *filename, const char *content_type,
    const char *transfer_encoding, const char *data, uint64_t off, size_t size)
{
	struct web_request *rq = cls;
	struct web_field *f;
	int i;

	(void)kind;
	(void)filename;
	(void)content_type;
	(void)transfer_encoding;
	if (key == NULL)
		return MHD_NO;
	for (i = 0; i < rq->nfields; i++)
		if (strcmp(rq->fields[i].name, key) == 0)
			break;
	if (i == rq->nfields) {
		if (off != 0 || rq->nfields == WEB_MAX_FIELDS)
			goto bad;
		f = &rq->fields[rq->nfields];
		if ((f->name = janee_strdup(key)) == NULL)
			goto bad;
		buf_init(&f->value, WEB_MAX_FIELD);
		rq->nfields++;
	} else if (off == 0)
		goto bad; /* the same name twice: which one meant? */
	f = &rq->fields[i];
	/* A NUL would cut the value short for every C reader after us. */
	if (size > 0 &&
	    (memchr(data, '\0', size) != NULL ||
		buf_add(&f->value, data, size) != 0))
		goto bad;
	return MHD_YES;
bad:
	janee_err_clear();
	rq->form_bad = 1;
	return MHD_NO;
}

static void
request_free(struct web_request *rq)
{
	int i;

	if (rq == NULL)
		return;
	if (rq->pp != NULL)
		fn.pp_destroy(rq->pp);
	for (i = 0; i < rq->nfields; i++) {
		free(rq->fields[i].name);
		buf_free(&rq->fields[i].value);
	}
	buf_free(&rq->raw);
	free(rq->path);
	buf_free(&rq->raw);
	buf_free(&rq->query);
	free(rq);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	request_free(*con_cls);
	*con_cls = NULL;
}

/* The start of a request: its state, and a post processor for a form. */
static struct web_request *
request_new(struct web *w, struct MHD_Connection *conn, const char *url,
    const char *method)
{
	struct web_request *rq = calloc(1, sizeof(*rq));
	const char *ct, *cl;
	int64_t n;

	if (rq == NULL)
		return NULL;
	rq->w = w;
	rq->conn = conn;
	snprintf(rq->method, sizeof(rq->method), "%s", method);
	if ((rq->path = janee_strdup(url)) == NULL) {
		janee_err_clear();
		free(rq);
		return NULL;
	}
	buf_init(&rq->raw, w->max_body);
	cl = fn.lookup(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL &&
	    (janee_parse_int(cl, 0, INT64_MAX, &n) != 0 ||
		(uint64_t)n > w->max_body)) {
		janee_err_clear();
		rq->form_bad = 1;
		rq->too_large = 1;
	}
	if (w->flags & WEB_RAW) {
		buf_init(&rq->query, WEB_RAW_QUERY_MAX);
		return rq;
	}
	if (w->flags & WEB_BODIES)
		return rq;
	ct = fn.lookup(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	/* Only urlencoded forms: never multipart, files or anything else. */
	if (ct != NULL &&
	    strncmp(ct, MHD_HTTP_POST_ENCODING_FORM_URLENCODED,
		strlen(MHD_HTTP_POST_ENCODING_FORM_URLENCODED)) == 0)
		rq->pp = fn.pp_create(conn, 1024, on_field, rq);
	return rq;
}

/*
 * A response sent as it is made (text/event-stream): libmicrohttpd pulls
 * bytes through stream_read; with none to give, the connection is
 * suspended (the only way not to be asked again at once, microhttpd.h)
 * until web_stream_write or web_stream_end resumes it.
 */
struct web_stream {
	struct MHD_Connection *conn;
	struct buf out;
	size_t off; /* bytes of out already sent */
	int suspended;
	int ended; /* the owner is done with it */
	web_stream_gone gone;
	void *arg;
};

#define WEB_MAX_STREAM (4 * 1024 * 1024)

static ssize_t
stream_read(void *cls, uint64_t pos, char *p, size_t max)
{
	struct web_stream *s = cls;
	size_t n;

	(void)pos;
	if (s->off < s->out.len) {
		n = s->out.len - s->off;
		if (n > max)
			n = max;
		memcpy(p, s->out.p + s->off, n);
		s->off += n;
		if (s->off == s->out.len) {
			buf_reset(&s->out);
			s->off = 0;
		}
		return (ssize_t)n;
	}
	if (s->ended)
		return MHD_CONTENT_READER_END_OF_STREAM;
	fn.suspend(s->conn);
	s->suspended = 1;
	return 0;
}

/* The connection is done (finished, or the peer went away). */
static void
stream_free(void *cls)
{
	struct web_stream *s = cls;

	if (!s->ended && s->gone != NULL)
		s->gone(s->arg);
	buf_free(&s->out);
	free(s);
}

struct web_stream *
web_stream_open(struct web_response *rs, web_stream_gone gone, void *arg)
{
	struct web_stream *s;

	if (rs->stream != NULL || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	buf_init(&s->out, WEB_MAX_STREAM);
	s->gone = gone;
	s->arg = arg;
	rs->stream = s;
	return s;
}

static void
stream_wake(struct web_stream *s)
{
	if (s->suspended && s->conn != NULL) {
		s->suspended = 0;
		fn.resume(s->conn);
	}
}

int
web_stream_write(struct web_stream *s, const char *p, size_t n)
{
	int rc;

	/*
	 * A failed append frees what was not sent yet (buf.c): the offset
	 * into it goes too, or later data would be read from past its
	 * start and bytes of it skipped.
	 */
	if ((rc = buf_add(&s->out, p, n)) != 0) {
		s->off = 0;
		return rc;
	}
	stream_wake(s);
	return 0;
}

void
web_stream_end(struct web_stream *s)
{
	if (s == NULL)
		return;
	s->ended = 1;
	stream_wake(s);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	static char empty[1];
	struct web *w = cls;
	struct web_request *rq = *con_cls;
	struct web_response rs;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int i;

	(void)version;
	if (rq == NULL) {
		if ((rq = request_new(w, conn, url, method)) == NULL)
			return MHD_NO; /* out of memory: drop the connection */
		*con_cls = rq;
		/*
		 * A Content-Length over the limit is answered now, before a
		 * byte of the body is read (or, with Expect: 100-continue,
		 * sent): libmicrohttpd takes a response queued on this first
		 * call and closes the connection after it.
		 */
		if (!rq->too_large)
			return MHD_YES;
	} else if (*upload_size != 0) {
		rq->body_len += *upload_size;
		if (rq->body_len > w->max_body)
			rq->too_large = 1;
		/* Not a form: kept as it came (bounded), for the handler. */
		if (rq->pp == NULL && !rq->too_large &&
		    buf_add(&rq->raw, upload, *upload_size) != 0) {
			janee_err_clear();
			rq->too_large = 1;
		}
		/* A page's form is bad when its body is not one (WEB_RAW
		 * takes any body). */
		if (rq->too_large || (rq->pp == NULL && !(w->flags & WEB_RAW)))
			rq->form_bad = 1;
		else if (rq->pp != NULL && !rq->form_bad &&
		    fn.pp_process(rq->pp, upload, *upload_size) != MHD_YES)
			rq->form_bad = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	/* The last field comes out when the processor is finished. */
	if (rq->pp != NULL) {
		if (fn.pp_destroy(rq->pp) != MHD_YES)
			rq->form_bad = 1;
		rq->pp = NULL;
	}
	memset(&rs, 0, sizeof(rs));
	rs.status = 200;
	rs.type = "text/html; charset=utf-8";
	rs.body = w->body;
	w->handler(w->arg, rq, &rs);
	janee_err_clear();
	if (rs.stream != NULL) {
		rs.stream->conn = conn;
		resp = fn.resp_callback(MHD_SIZE_UNKNOWN, 4096, stream_read,
		    rs.stream, stream_free);
		if (resp == NULL)
			stream_free(rs.stream);
	} else
		resp = fn.resp_buffer(rs.body.len,
		    rs.body.p ? rs.body.p : empty, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL) {
		response_free(w, &rs);
		return MHD_NO;
	}
	fn.resp_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rs.type);
	for (i = 0; i < rs.nhdr; i++)
		fn.resp_header(resp, rs.hdr[i][0], rs.hdr[i][1]);
	ret = fn.queue(conn, (unsigned)rs.status, resp);
	fn.resp_destroy(resp);
	response_free(w, &rs);
	return ret;
}

/* WEB_RAW: the path and query stay as sent (%XX is not decoded). */
static size_t
unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

int
web_start(
    uint16_t port, unsigned flags, web_handler h, void *arg, struct web **out)
{
	struct web_opts o;

	memset(&o, 0, sizeof(o));
	o.port = port;
	o.flags = flags;
	return web_start_opts(&o, h, arg, out);
}

int
web_start_opts(
    const struct web_opts *o, web_handler h, void *arg, struct web **out)
{
	const union MHD_DaemonInfo *di;
	struct MHD_OptionItem tls[3];
	struct sockaddr_storage ss;
	const struct sockaddr *sa;
	struct web *w;
	unsigned mflags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
	int rc, e;

	*out = NULL;
	if ((rc = load()) != 0)
		return rc;
	if (o->tls_cert_pem != NULL && fn.feature(MHD_FEATURE_TLS) != MHD_YES)
		return janee_err_set(JANEE_ERR_UNSUPPORTED,
		    "this libmicrohttpd has no TLS; serve plain HTTP behind a "
		    "reverse proxy (--trust-proxy) or install one built with "
		    "GnuTLS");
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	buf_init(&w->body, WEB_MAX_RESPONSE);
	w->flags = o->flags;
	w->max_body = o->max_body  ? o->max_body
	    : (o->flags & WEB_RAW) ? WEB_RAW_BODY_MAX
				   : WEB_MAX_BODY;
	w->handler = h;
	w->arg = arg;
	w->local.sin_family = AF_INET;
	w->local.sin_port = htons(o->port);
	w->local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa = (const struct sockaddr *)&w->local;
	if (o->addr != NULL) {
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, o->addr,
		    o->addrlen < sizeof(ss) ? o->addrlen : sizeof(ss));
		sa = (const struct sockaddr *)&ss;
		if (sa->sa_family == AF_INET6)
			mflags |= MHD_USE_IPv6;
		else if (sa->sa_family == AF_INET)
			memcpy(&w->local, &ss, sizeof(w->local));
	}
	if (o->tls_cert_pem != NULL)
		mflags |= MHD_USE_TLS;
	/*
	 * External polling through epoll: one descriptor for the caller's
	 * loop (MHD_DAEMON_INFO_EPOLL_FD); no thread of MHD's own.  Quiet
	 * (no MHD_USE_ERROR_LOG): stderr may be an MCP client's log.
	 * Suspension (and its wake-up pipe) serves streamed answers.
	 */
	/* HTTPS when asked: the PEM key and chain, through an option array. */
	memset(tls, 0, sizeof(tls));
	tls[0].option =
	    o->tls_cert_pem != NULL ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END;
	tls[0].ptr_value = (void *)(uintptr_t)o->tls_key_pem;
	tls[1].option = MHD_OPTION_HTTPS_MEM_CERT;
	tls[1].ptr_value = (void *)(uintptr_t)o->tls_cert_pem;
	tls[2].option = MHD_OPTION_END;
	errno = 0;
	/* WEB_RAW's callback leaves the path and query as sent; the option
	 * is given only then (a NULL callback is no default to MHD). */
#define WEB_OPTIONS \
	MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_CONNECTION_LIMIT, \
	    o->max_conns ? o->max_conns : 64u, \
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_conns_per_ip, \
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, \
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), \
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_ARRAY, \
	    tls
	if (o->flags & WEB_RAW)
		w->d = fn.start(mflags, o->port, on_accept, w, on_request, w,
		    MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, NULL,
		    WEB_OPTIONS, MHD_OPTION_END);
	else
		w->d = fn.start(mflags, o->port, on_accept, w, on_request, w,
		    WEB_OPTIONS, MHD_OPTION_END);
#undef WEB_OPTIONS
	if (w->d == NULL) {
		e = errno;
		buf_free(&w->body);
		free(w);
		if (o->tls_cert_pem != NULL && e == 0)
			return janee_err_set(JANEE_ERR_IO,
			    "cannot serve TLS: libmicrohttpd refused the "
			    "certificate or key (PEM, matching each other)");
		return janee_err_set(JANEE_ERR_IO, "cannot listen on %s: %s",
		    o->addr != NULL ? "the address" : "127.0.0.1",
		    e ? strerror(e) : "libmicrohttpd refused to start");
	}
	di = fn.daemon_info(w->d, MHD_DAEMON_INFO_EPOLL_FD);
	w->epoll_fd = di ? di->epoll_fd : -1;
	di = fn.daemon_info(w->d, MHD_DAEMON_INFO_BIND_PORT);
	w->port = di ? di->port : 0;
	if (w->epoll_fd < 0 || w->port == 0) {
		web_stop(w);
		return janee_err_set(JANEE_ERR_IO,
		    "libmicrohttpd gave no descriptor or port to poll");
	}
	w->local.sin_port = htons(w->port);
	*out = w;
	return 0;
}

void
web_stop(struct web *w)
{
	if (w == NULL)
		return;
	if (w->d != NULL)
		fn.stop(w->d);
	buf_free(&w->body);
	free(w);
}

uint16_t
web_port(const struct web *w)
{
	return w->port;
}

int
web_fd(const struct web *w)
{
	return w->epoll_fd;
}

int64_t
web_timeout_ms(struct web *w)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (fn.get_timeout(w->d, &t) != MHD_YES)
		return -1;
	return t > INT64_MAX ? INT64_MAX : (int64_t)t;
}

void
web_run(struct web *w)
{
	fn.run(w->d);
}

int64_t
web_refused(const struct web *w)
{
	return w->refused;
}

const char *
web_method(const struct web_request *rq)
{
	return rq->method;
}

const char *
web_path(const struct web_request *rq)
{
	return rq->path;
}

const char *
web_header(const struct web_request *rq, const char *name)
{
	return fn.lookup(rq->conn, MHD_HEADER_KIND, name);
}

const char *
web_query(const struct web_request *rq, const char *name)
{
	return fn.lookup(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
web_cookie(const struct web_request *rq, const char *name)
{
	return fn.lookup(rq->conn, MHD_COOKIE_KIND, name);
}

const char *
web_form(const struct web_request *rq, const char *name)
{
	int i;

	for (i = 0; i < rq->nfields; i++)
		if (strcmp(rq->fields[i].name, name) == 0)
			return rq->fields[i].value.p ? rq->fields[i].value.p
						     : "";
	return NULL;
}

int
web_form_state(const struct web_request *rq)
{
	return rq->form_bad ? -1 : 0;
}

/* Each argument back as it was sent, in order (WEB_RAW keeps it raw). */
static enum MHD_Result
on_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct web_request *rq = cls;

	(void)kind;
	if ((rq->query.len > 0 && buf_add(&rq->query, "&", 1) != 0) ||
	    buf_addstr(&rq->query, key) != 0 ||
	    (value != NULL &&
		(buf_add(&rq->query, "=", 1) != 0 ||
		    buf_addstr(&rq->query, value) != 0))) {
		janee_err_clear();
		rq->form_bad = 1;
		return MHD_NO;
	}
	return MHD_YES;
}

const char *
web_query_string(struct web_request *rq)
{
	if (!(rq->w->flags & WEB_RAW) || rq->form_bad)
		return NULL;
	buf_reset(&rq->query);
	fn.get_values(rq->conn, MHD_GET_ARGUMENT_KIND, on_arg, rq);
	if (rq->form_bad)
		return NULL;
	return rq->query.p ? rq->query.p : "";
}

const char *
web_body(const struct web_request *rq, size_t *len)
{
	*len = rq->raw.len;
	/* Too large (or, WEB_RAW, a query that could not be kept): none. */
	if (rq->too_large || ((rq->w->flags & WEB_RAW) && rq->form_bad))
		return NULL;
	return rq->raw.p ? rq->raw.p : "";
}

int
web_body_too_large(const struct web_request *rq)
{
	return rq->too_large;
}

int
web_peer(const struct web_request *rq, struct sockaddr_storage *out)
{
	const union MHD_ConnectionInfo *ci =
	    fn.conn_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	memset(out, 0, sizeof(*out));
	if (ci == NULL || ci->client_addr == NULL)
		return -1;
	memcpy(out, ci->client_addr,
	    ci->client_addr->sa_family == AF_INET6
		? sizeof(struct sockaddr_in6)
		: sizeof(struct sockaddr_in));
	return 0;
}
