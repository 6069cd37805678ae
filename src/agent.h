/*
 * The background agent, one per janee home (src/agent-run.c is the agent
 * itself; this is what every other janee process uses to talk to it).
 *
 * Like ssh-agent and gpg-agent it is started on demand and gone when
 * idle: whoever issues a lease makes sure one runs, and it revokes each
 * lease at its end with no other janee process running.  It may also
 * hold the store's data key for a bounded time (`janee unlock`), so that
 * a passphrase home can serve MCP clients and be swept without a person.
 *
 *   $JANEE_HOME/agent.sock   SOCK_SEQPACKET, 0600 in the 0700 home; the
 *                            agent refuses peers of another uid
 *                            (SO_PEERCRED), clients refuse an agent of
 *                            another uid
 *   $JANEE_HOME/agent.lock   flock()ed by the one agent; holds its pid,
 *                            and while it revokes, the lease it revokes
 *                            (agent_note_format)
 *   $JANEE_HOME/agent.log    the agent's stderr (no secrets, as all logs)
 *
 * One request per connection: a fixed-size struct agent_msg, answered by
 * one struct agent_reply.  Both sides are the same binary; the magic and
 * the version say when they are not (an old agent after an upgrade is
 * asked to stop, which every version honours, and a new one started).
 */
#ifndef JANEE_AGENT_H
#define JANEE_AGENT_H

#include "common.h"

#include "util.h"

#define AGENT_SOCK "agent.sock"
#define AGENT_LOCK "agent.lock"
#define AGENT_LOG "agent.log"

#define AGENT_MAGIC 0x6a6e6167u /* "jnag" */
#define AGENT_VERSION 1u
#define AGENT_KEY_LEN 32
#define AGENT_BIND_LEN 32

/* How long `janee unlock` hands the key over: by default, at most. */
#define AGENT_UNLOCK_DEFAULT_S (8 * 3600)
#define AGENT_UNLOCK_MAX_S (7 * 24 * 3600)

enum agent_op {
	AGENT_OP_PING = 1, /* status only */
	AGENT_OP_NOTIFY = 2, /* a lease became active: look again */
	AGENT_OP_GETKEY = 3, /* the data key, if held for msg.bind */
	AGENT_OP_UNLOCK = 4, /* hold msg.key for msg.bind until deadline */
	AGENT_OP_LOCK = 5, /* wipe the key */
	AGENT_OP_STOP = 6, /* wipe the key and exit (any version) */
};

/* reply.flags */
#define AGENT_HOLDS_KEY 0x1u /* a data key is held */
#define AGENT_NEEDS_KEY 0x2u /* passphrase home: revoking needs a key */
#define AGENT_NO_MLOCK 0x4u /* could not lock memory: holds no key */

struct agent_msg {
	uint32_t magic, version, op, pad;
	int64_t deadline_ms; /* UNLOCK: when the key is wiped */
	unsigned char bind[AGENT_BIND_LEN]; /* SHA-256 of the wrapped key */
	unsigned char key[AGENT_KEY_LEN]; /* UNLOCK: the data key */
};

struct agent_reply {
	uint32_t magic, version;
	int32_t status; /* 0 or a JANEE_ERR_* */
	uint32_t flags;
	int64_t pid, started_ms, deadline_ms, next_due_ms, active;
	int64_t revoked; /* leases ended since it started */
	unsigned char key[AGENT_KEY_LEN]; /* GETKEY */
};

/* What `janee status` shows; running 0 when no agent answers. */
struct agent_status {
	int running;
	int64_t pid, started_ms;
	unsigned flags;
	int64_t deadline_ms; /* when the held key is wiped */
	int64_t next_due_ms; /* INT64_MAX: nothing to do */
	int64_t active, revoked;
};

/*
 * Set by the janee CLI (main.c); 0 in unit tests and benchmarks, which
 * then never start or ask an agent.
 */
extern int agent_enabled;
/* Set in the agent process, which must never ask itself. */
extern int agent_self;
#ifdef JANEE_TEST_HOOKS
/*
 * The test binary (tests/provider-test.c) adds its own variables to the
 * agent's environment here ("NAME=VALUE" strings).  A test hook: janee
 * has no such symbol (src/util.h, Makefile.am).
 */
extern int (*agent_env_hook)(struct janee_strlist *env);
#endif

/* Ask the running agent for its status; no agent is running == 0. */
int agent_status(const char *home, struct agent_status *st) JANEE_WUR;

/* Make sure an agent runs for home: ask it, else start one and wait. */
int agent_ensure(const char *home, struct agent_status *st) JANEE_WUR;

/*
 * A lease became active: tell the agent (starting one if none runs), so
 * that it revokes the lease at its end.  Never fails the caller: trouble
 * is said once per process on stderr, and so is a passphrase home whose
 * agent holds no key (it then cannot revoke on time).
 */
void agent_notify(const char *home);

/*
 * The data key for the ledger whose wrapped key hashes to bind, if the
 * agent holds it; JANEE_ERR_NOT_FOUND (no message) otherwise.  Never
 * starts an agent.
 */
int agent_key_get(const char *home, const unsigned char bind[AGENT_BIND_LEN],
    unsigned char key[AGENT_KEY_LEN]) JANEE_WUR;

/* Hand the key to the agent (starting one) until deadline_ms. */
int agent_unlock(const char *home, const unsigned char key[AGENT_KEY_LEN],
    const unsigned char bind[AGENT_BIND_LEN], int64_t deadline_ms,
    struct agent_status *st) JANEE_WUR;

/* Wipe the agent's key; *held says whether there was one. */
int agent_lock(const char *home, int *held, struct agent_status *st) JANEE_WUR;

/*
 * After a command's sweep: when leases are active and no agent runs (it
 * was killed, or the machine rebooted), start one.  Never fails.
 */
struct ledger;
void agent_keep(const char *home, struct ledger *lg);

/*
 * The path of the socket (or of another file of the agent's) as bind()
 * and connect() can take it: the full path when it fits in sun_path,
 * else through /proc/self/fd/DIRFD of the home, opened into *dirfd (-1
 * when not needed; the caller closes it).
 */
struct sockaddr_un;
int
agent_sockaddr(const char *home, struct sockaddr_un *sa, int *dirfd) JANEE_WUR;

/*
 * For mcp-config and import-config: on a passphrase home, say that
 * `what` (the program the client starts) cannot ask for the passphrase,
 * what then happens (`fails`: "its request_token calls fail"), whether
 * and until when the agent holds the key, and what to run (janee unlock,
 * or a move to the keyring backend).  Returns whether anything was said.
 */
int agent_explain_locked(const char *home, struct ledger *lg, FILE *fp,
    const char *what, const char *fails);

/* --- for the agent itself (src/agent-run.c), here for the unit tests - */

/*
 * The lease the agent is revoking, noted as a second line of agent.lock
 * ("revoking ID DUE UNTIL": its due time before the claim, the claim's
 * end) before the claim, and cut away after the sweep.  Format: the
 * line's length, or 0 when it does not fit.  Parse reads it from the
 * whole file's text: 0, or JANEE_ERR_NOT_FOUND when there is none.
 */
#define AGENT_NOTE_LEN 96
int agent_note_format(
    char out[AGENT_NOTE_LEN], const char *id, int64_t due_ms, int64_t until_ms);
int agent_note_parse(const char *text, char id[JANEE_LEASE_ID_LEN],
    int64_t *due_ms, int64_t *until_ms) JANEE_WUR;

/* How often the agent looks at its home and the ledger, at the least. */
#define AGENT_CHECK_MS 1000
/*
 * The agent is the backstop: it sweeps this long after a lease's end, so
 * that a janee process alive and waiting for that end does it itself
 * (janee serve, which then tells its MCP client; janee exec, which stops
 * its command) and the agent only what nobody else does.  Well inside
 * the 2 s within which every lease is revoked.
 */
#define AGENT_BACKSTOP_MS 500

/* What the reaper knows when it decides to sweep, or how long to sleep. */
struct agent_wake {
	int64_t now;
	/*
	 * broker_next_due: the earliest end, retry or claim's end of an
	 * active lease (a claimed lease is due again when its claim runs
	 * out), or a lease left minting turning stale; INT64_MAX: none.
	 */
	int64_t due;
	int64_t key_deadline; /* INT64_MAX: no key held */
	int64_t stall_until; /* leases wait for a key: not before */
	int64_t retry_at; /* the last sweep failed: not before */
	int configured; /* config.json loaded: else nothing to sweep with */
};

/* Whether the reaper sweeps now. */
int agent_sweep_now(const struct agent_wake *w);

/*
 * How long it sleeps, 0 to AGENT_CHECK_MS: until the key's deadline, or
 * the first moment agent_sweep_now() holds, whichever is first.
 */
int64_t agent_wait_ms(const struct agent_wake *w);

#endif
