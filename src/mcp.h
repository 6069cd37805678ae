/*
 * The MCP server behind `janee serve`: newline-delimited JSON-RPC 2.0 on
 * stdin/stdout, both protocol eras in one process (the initialize
 * handshake of 2024-11-05 .. 2025-11-25, and the stateless 2026-07-28 era
 * with server/discover and _meta on every request).  stdout carries
 * protocol only; diagnostics go to stderr.
 */
#ifndef JANEE_MCP_H
#define JANEE_MCP_H

#include "common.h"

#include <cjson/cJSON.h>

#include "buf.h"
#include "core.h"

#define MCP_MAX_LINE (1024 * 1024)
#define MCP_STATELESS "2026-07-28"

struct mcp_pending;
struct lease;
struct mcp_batch;

struct mcp {
	struct core *core; /* the front end's: opened by mcp_ready */
	int ready; /* home, ledger, config and broker are open */
	int ready_failed; /* and could not be: ready_error says why */
	char ready_error[512];
	int initialized; /* the handshake-era initialize was answered */
	char protocol[16]; /* negotiated version (handshake era) */
	int can_elicit; /* the client offers form elicitation */
	int can_elicit_url; /* and URL-mode elicitation (2025-11-25) */
	struct approval_page *page; /* janee's page, once a link needs it */
	int page_failed; /* it could not be served: said once */
	struct notifier *notifier; /* desktop notifications, on first need */
	int log_level; /* notifications/message at or above this */
	char *client; /* clientInfo "name/version", self-reported */
	char session[33]; /* this process's session id */
	unsigned char state_key[32]; /* MACs requestState */
	int64_t next_req; /* ids of our requests to the client */
	struct mcp_pending *pending;
	struct api_lease *api_leases; /* call_api's, api-call.c */
	struct mcp_batch *batches; /* 2025-03-26 batches not answered yet */
	struct mcp_batch *filling; /* the batch being run now */
	struct buf line; /* the line being read */
	int discarding; /* skipping the rest of an oversize line */
	/*
	 * Where messages go: stdout (stdio) unless emit is set, as by the
	 * HTTP transport (mcp-http.c), which routes each to its stream.
	 */
	void (*emit)(void *arg, const cJSON *v, const char *text);
	void *emit_arg;
};

void mcp_init(struct mcp *m, struct core *core);
void mcp_free(struct mcp *m);

/* Handle the bytes read from stdin; complete lines are processed. */
void mcp_feed(struct mcp *m, const char *p, size_t n);
/* One whole message (an HTTP POST's body): validate and dispatch. */
void mcp_message(struct mcp *m, const char *p, size_t n);

/*
 * Make m's identity the broker's (its session, client): several
 * sessions share one core in janee serve --http, each entered before it
 * runs.  mcp_ready does it for stdio's one session.
 */
void mcp_enter(struct mcp *m);

/* Open janee's state if not yet (lazy: after the handshake). */
int mcp_ready(struct mcp *m);

/*
 * Timers: expire leases whose end has come (notifying the client of its
 * own), and move pending approvals on.  Returns the milliseconds until
 * the next timer is due.
 */
int64_t mcp_tick(struct mcp *m);
/*
 * mcp_tick's two halves, for a process with several sessions: one sweep
 * of the ledger (ended(arg, lease) for each lease that ended; returns the
 * milliseconds until the next is due), and each session's own timers.
 * mcp_lease_ended tells m's client of its lease's end (others ignored).
 */
int64_t mcp_sweep(struct core *core,
    void (*ended)(void *arg, const struct lease *l), void *arg);
void mcp_lease_ended(struct mcp *m, const struct lease *l);

/* The client went away (EOF, SIGTERM): cancel and audit what waits. */
void mcp_shutdown(struct mcp *m, const char *why);

/*
 * Send one JSON-RPC message (consumes v).  An answer to a request of a
 * batch is kept for the batch's array; mcp_emit writes v out as it is.
 */
void mcp_send(struct mcp *m, cJSON *v);
void mcp_emit(struct mcp *m, cJSON *v);

/* batches (mcp-batch.c): run each element through dispatch */
void
mcp_batch(struct mcp *m, cJSON *arr, void (*dispatch)(struct mcp *, cJSON *));
/* 1 when v, an answer, was kept for a batch (which it may complete). */
int mcp_batch_take(struct mcp *m, cJSON *v);
/* A cancelled request: its batch stops waiting for it. */
void mcp_batch_forget(struct mcp *m, const cJSON *id);
void mcp_batch_free_all(struct mcp *m);

/*
 * A line on janee serve's stderr, which a person reads: "janee serve: "
 * and the formatted text, unsafe characters escaped (text.h), since it
 * may quote what an agent sent.
 */
void mcp_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log to the client (notifications/message) when its level allows. */
void mcp_notify_log(struct mcp *m, int level, cJSON *data);

/*
 * Tool results: an error the model can read (isError), a result with
 * structuredContent (and the same as text); mcp_answer sends one as the
 * answer to request id (resultType "complete" in the stateless era).
 */
cJSON *
mcp_tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
cJSON *mcp_tool_ok(cJSON *structured);
/*
 * A tool's return code and structured result as its answer: rc 0 is
 * mcp_tool_ok(structured), anything else the pending message as an error
 * (structured is freed, the message cleared).  NULL when out of memory.
 */
cJSON *mcp_tool_result(int rc, cJSON *structured);
void mcp_answer(struct mcp *m, cJSON *id, cJSON *result, int stateless);

/*
 * A tool that works with a lease (request_token; call_api).  granted()
 * makes the tool's structured result once the lease is issued, or fails
 * with a JANEE_ERR_* (and a message); args are the tools/call arguments,
 * g is the caller's.
 */
struct broker_grant;
struct broker_req;
struct mcp_lease_tool {
	const char *name;
	int (*granted)(struct mcp *m, const cJSON *args,
	    const struct broker_grant *g, cJSON **out);
};

/*
 * mcp-lease.c: obtain a lease for tool t.  mcp_lease_obtain submits req
 * to the broker (which decides how it is approved) and returns the
 * result now, or NULL with *pending set when it answers later (after an
 * elicitation, `janee approve`, or in the stateless era the repeated call
 * that mcp_lease_resume takes, which may itself wait for janee's page).
 * mcp_lease_collect hands over a lease of this session that was approved
 * after its call was answered "pending", or answers -32042 (the URL
 * elicitation it still needs); *pending then says it was answered.
 */
cJSON *
mcp_lease_obtain(struct mcp *m, const struct mcp_lease_tool *t, cJSON *id,
    const cJSON *params, struct broker_req *req, int stateless, int *pending);
cJSON *mcp_lease_resume(struct mcp *m, const struct mcp_lease_tool *t,
    cJSON *id, const cJSON *params, int *pending);
cJSON *mcp_lease_collect(struct mcp *m, const struct mcp_lease_tool *t,
    cJSON *id, const cJSON *args, const char *lease_id, int *pending);

/*
 * mcp-api.c: the call_api tool (answers like the lease tools), and the
 * session's leases it keeps for reuse, wiped at the end.
 */
/*
 * mcp-tools.c: read a lease tool's common arguments (reason,
 * ttl_seconds, scopes, resources or repositories; the schema checked
 * their types) into req; NULL, or the tool error to answer.  The caller
 * frees req's lists either way.
 */
cJSON *mcp_lease_args(const cJSON *args, struct broker_req *req);
cJSON *mcp_call_api(
    struct mcp *m, cJSON *id, const cJSON *params, int stateless, int *pending);
void mcp_api_free(struct mcp *m);

/* tools (mcp-tools.c; responses, ticks and shutdown in mcp-lease.c) */
cJSON *mcp_tools_list(void);
/* Run a tools/call; answers through mcp_send now or later (pending). */
void mcp_tools_call(struct mcp *m, cJSON *id, cJSON *params, int stateless);
/* A response from the client to one of our requests. */
void mcp_tools_response(struct mcp *m, cJSON *msg);
void mcp_tools_cancel(struct mcp *m, cJSON *request_id);
int64_t mcp_tools_tick(struct mcp *m);
void mcp_tools_shutdown(struct mcp *m, const char *why);
/*
 * Free what still waits (no lease is decided): a stateless call's
 * requestState entry outlives nothing once its session ends.
 */
void mcp_tools_free(struct mcp *m);

/* JSON-RPC helpers */
cJSON *mcp_result(cJSON *id, cJSON *result);
cJSON *mcp_error(cJSON *id, int code, const char *msg);

#endif
