/*
 * The background agent itself: `janee agent-run`, a hidden command that
 * src/agent.c starts (double fork, setsid, a scrubbed environment).
 *
 * Two threads:
 * - the main thread is the reaper: it waits in ppoll() until the
 *   earliest due lease (broker_next_due), a notification, the key's
 *   deadline or a one-second check, and runs broker_sweep(), whose
 *   compare-and-set claims keep it from revoking what another janee
 *   process revokes at the same time;
 * - the socket thread answers requests at once, even while a revocation
 *   waits on a slow provider: status, notifications, the key.
 *
 * The data key lives in one mmap()ed page, mlock()ed (never swapped) and
 * MADV_DONTDUMP, in a process that is not dumpable and has no core
 * limit; it is wiped at `janee lock`, at the deadline, on SIGTERM and
 * SIGINT, when the ledger's wrapped key changes (rekey, init) and at
 * exit.  It is never written anywhere.
 *
 * It exits when no lease is active, it holds no key and nobody spoke to
 * it for a moment; when its home or its socket is gone; or when asked.
 */
#include "common.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "cli.h"
#include "store.h"
#include "util.h"

/* It stays this long after the last request, even with nothing to do. */
#define IDLE_GRACE_MS 3000
/* A sweep that left leases waiting for a key is tried again after this. */
#define STALL_MS 5000
/* How long a second agent waits for the first to go (or stay). */
#define LOCK_WAIT_MS 3000

/*
 * The lease the agent is revoking, as a second line of agent.lock:
 * "revoking ID DUE UNTIL\n" (its due time before the claim, the claim's
 * end), written before the claim and cut away after the sweep.  The
 * next agent holds the lock only once this one is dead, so a note it
 * finds there is a claim nobody will settle: it gives it back
 * (broker_unclaim) and revokes the lease again at once, instead of after
 * BROKER_CLAIM_MS.  The page cache keeps the note across a kill -9; a
 * crash of the machine may lose it, and then the claim runs out.
 */
struct claim_note {
	char id[JANEE_LEASE_ID_LEN];
	int64_t due_ms, until_ms;
};

/* In the locked page: the key and the store the sweeps use. */
struct keypage {
	unsigned char dek[AGENT_KEY_LEN];
	unsigned char bind[AGENT_BIND_LEN];
	int held;
	int64_t deadline_ms;
	unsigned char store[]; /* store_size() bytes, for one sweep */
};

struct agent {
	struct cli *c;
	struct ledger *lg;
	struct config *cfg;
	struct broker b; /* its config NULL until config.json loads */
	struct broker spare; /* a new config.json, tried before it is used */
	struct keysrc ks;
	int have_broker, cfg_tried;
	struct timespec cfg_mtime;
	ino_t cfg_ino;

	int home_fd, lock_fd, listen_fd;
	size_t pid_len; /* agent.lock's first line, "PID\n" */
	struct claim_note dead; /* the note a dead agent left, if any */
	int noted; /* a note is in agent.lock */
	int wake[2], stop[2];
	dev_t sock_dev;
	ino_t sock_ino;
	pthread_t thread;
	int thread_up;

	struct keypage *kp;
	size_t kp_len;
	int mlocked;

	/* Shared with the socket thread, under mu. */
	pthread_mutex_t mu;
	int notified; /* a request asked the reaper to look again */
	int closing; /* on its way out: requests get no answer */
	int stop_asked; /* AGENT_OP_STOP */
	int needs_key; /* passphrase backend */
	int64_t started_ms, last_request_ms;
	int64_t next_due_ms, active, revoked;
};

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* A line in agent.log (the agent's stderr). */
static void __attribute__((format(printf, 1, 2))) alog(const char *fmt, ...)
{
	char t[JANEE_TIME_LEN];
	va_list ap;

	janee_time_fmt(janee_now_ms(), t);
	fprintf(stderr, "%s janee agent[%ld]: ", t, (long)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
wake_main(struct agent *a)
{
	char c = 1;

	if (write(a->wake[1], &c, 1) < 0)
		(void)0; /* the pipe is full: the reaper wakes anyway */
}

/* Under a->mu. */
static void
key_wipe(struct agent *a, const char *why)
{
	if (a->kp == NULL || !a->kp->held)
		return;
	janee_wipe(a->kp->dek, sizeof(a->kp->dek));
	janee_wipe(a->kp->bind, sizeof(a->kp->bind));
	a->kp->held = 0;
	a->kp->deadline_ms = 0;
	alog("wiped the store's key: %s", why);
}

/* --- the socket thread --------------------------------------------- */

/* Under a->mu: what every answer says. */
static void
reply_fill(struct agent *a, struct agent_reply *r)
{
	r->magic = AGENT_MAGIC;
	r->version = AGENT_VERSION;
	r->pid = getpid();
	r->started_ms = a->started_ms;
	r->next_due_ms = a->next_due_ms;
	r->active = a->active;
	r->revoked = a->revoked;
	r->flags = (a->needs_key ? AGENT_NEEDS_KEY : 0) |
	    (a->mlocked ? 0 : AGENT_NO_MLOCK);
	if (a->kp != NULL && a->kp->held) {
		r->flags |= AGENT_HOLDS_KEY;
		r->deadline_ms = a->kp->deadline_ms;
	}
}

/* Under a->mu. */
static void
handle(struct agent *a, const struct agent_msg *m, const struct ucred *who,
    struct agent_reply *r)
{
	char t[JANEE_TIME_LEN];
	int64_t now = janee_now_ms();

	if (a->kp != NULL && a->kp->held && now >= a->kp->deadline_ms)
		key_wipe(a, "its time ran out");
	reply_fill(a, r);
	switch (m->op) {
	case AGENT_OP_PING:
		break;
	case AGENT_OP_NOTIFY:
		a->notified = 1;
		wake_main(a);
		break;
	case AGENT_OP_GETKEY:
		/* Only for the wrapping it was given for (rekey, init). */
		if ((r->flags & AGENT_HOLDS_KEY) &&
		    janee_ct_cmp(m->bind, a->kp->bind, AGENT_BIND_LEN) == 0)
			memcpy(r->key, a->kp->dek, AGENT_KEY_LEN);
		else
			r->flags &= ~AGENT_HOLDS_KEY;
		break;
	case AGENT_OP_UNLOCK:
		if (!a->mlocked) {
			r->status = JANEE_ERR_CRYPTO;
			break;
		}
		if (m->deadline_ms <= now ||
		    m->deadline_ms >
			now + (AGENT_UNLOCK_MAX_S + 60) * (int64_t)1000) {
			r->status = JANEE_ERR_INVALID;
			break;
		}
		memcpy(a->kp->dek, m->key, AGENT_KEY_LEN);
		memcpy(a->kp->bind, m->bind, AGENT_BIND_LEN);
		a->kp->held = 1;
		a->kp->deadline_ms = m->deadline_ms;
		a->notified = 1; /* leases that waited for the key */
		wake_main(a);
		janee_time_fmt(m->deadline_ms, t);
		alog("holding the store's key until %s (janee unlock, pid %ld)",
		    t, (long)who->pid);
		reply_fill(a, r);
		break;
	case AGENT_OP_LOCK:
		reply_fill(a, r); /* says whether it held one */
		key_wipe(a, "janee lock");
		break;
	case AGENT_OP_STOP:
		key_wipe(a, "asked to stop");
		a->stop_asked = 1;
		wake_main(a);
		reply_fill(a, r);
		break;
	default:
		r->status = JANEE_ERR_INVALID;
	}
}

static void
serve_one(struct agent *a, int fd)
{
	struct timeval tv = { 1, 0 };
	struct ucred who;
	socklen_t len = sizeof(who);
	struct agent_msg m;
	struct agent_reply r;
	ssize_t n;

	/* The home is 0700; this holds even if someone loosened it. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &who, &len) != 0 ||
	    who.uid != geteuid()) {
		alog(
		    "refused a connection from uid %ld (pid %ld): only uid %ld "
		    "may use this agent",
		    len == sizeof(who) ? (long)who.uid : -1L,
		    len == sizeof(who) ? (long)who.pid : -1L, (long)geteuid());
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&m, 0, sizeof(m));
	memset(&r, 0, sizeof(r));
	n = recv(fd, &m, sizeof(m), MSG_TRUNC);
	pthread_mutex_lock(&a->mu);
	a->last_request_ms = janee_now_ms();
	if (a->closing) {
		/* No answer: the client starts the next agent. */
		pthread_mutex_unlock(&a->mu);
		janee_wipe(&m, sizeof(m));
		return;
	}
	if (n >= 12 && m.magic == AGENT_MAGIC && m.op == AGENT_OP_STOP) {
		/* Every version stops when asked, whatever its layout. */
		m.version = AGENT_VERSION;
		n = sizeof(m);
	}
	if (n != (ssize_t)sizeof(m) || m.magic != AGENT_MAGIC ||
	    m.version != AGENT_VERSION) {
		reply_fill(a, &r);
		r.status = JANEE_ERR_SCHEMA;
	} else
		handle(a, &m, &who, &r);
	pthread_mutex_unlock(&a->mu);
	janee_wipe(&m, sizeof(m));
	if (send(fd, &r, sizeof(r), MSG_NOSIGNAL) != (ssize_t)sizeof(r))
		alog("could not answer pid %ld: %s", (long)who.pid,
		    strerror(errno));
	janee_wipe(&r, sizeof(r));
}

static void *
socket_thread(void *arg)
{
	struct agent *a = arg;
	struct pollfd p[2];
	int fd;

	p[0].fd = a->listen_fd;
	p[0].events = POLLIN;
	p[1].fd = a->stop[0];
	p[1].events = POLLIN;
	for (;;) {
		p[0].revents = p[1].revents = 0;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			alog("poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents != 0)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		if ((fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		serve_one(a, fd);
		close(fd);
	}
	return NULL;
}

/* --- the note of the lease being revoked (struct claim_note) -------- */

/* What the agent before this one left in agent.lock (under the lock). */
static void
note_read(struct agent *a)
{
	char text[256];
	ssize_t n;

	memset(&a->dead, 0, sizeof(a->dead));
	n = pread(a->lock_fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	if (agent_note_parse(
		text, a->dead.id, &a->dead.due_ms, &a->dead.until_ms) != 0)
		memset(&a->dead, 0, sizeof(a->dead));
}

/* broker_sweep's r->claiming: the note, before the claim. */
static void
note_claiming(void *arg, const char *id, int64_t due_ms, int64_t until_ms)
{
	struct agent *a = arg;
	char line[AGENT_NOTE_LEN];
	int n;

	a->noted = 1;
	n = agent_note_format(line, id, due_ms, until_ms);
	if (n <= 0 ||
	    pwrite(a->lock_fd, line, (size_t)n, (off_t)a->pid_len) != n ||
	    ftruncate(a->lock_fd, (off_t)(a->pid_len + (size_t)n)) != 0)
		alog("cannot note lease %s in %s (%s): if this agent dies "
		     "revoking it, the next one waits for its claim to run out",
		    id, AGENT_LOCK, strerror(errno));
}

/* After the sweep: nothing is being revoked. */
static void
note_clear(struct agent *a)
{
	if (!a->noted)
		return;
	a->noted = 0;
	if (ftruncate(a->lock_fd, (off_t)a->pid_len) != 0)
		alog("cannot clear %s: %s", AGENT_LOCK, strerror(errno));
}

/*
 * The agent before this one died revoking a lease: give its claim back,
 * so that this agent's first sweep revokes the lease again at once.
 */
static void
note_finish(struct agent *a)
{
	int rc;

	if (a->dead.id[0] == '\0')
		return;
	rc =
	    broker_unclaim(&a->b, a->dead.id, a->dead.due_ms, a->dead.until_ms);
	if (rc == 0)
		alog("the agent before this one died revoking lease %s; "
		     "revoking it again now",
		    a->dead.id);
	else if (rc != JANEE_ERR_STATE)
		alog("lease %s: %s", a->dead.id, janee_err_msg(rc));
	/* JANEE_ERR_STATE: settled or taken since; nothing to do. */
	janee_err_clear();
	memset(&a->dead, 0, sizeof(a->dead));
}

/* --- start-up -------------------------------------------------------- */

/* One agent per home: the lock, waited for a moment (one may be exiting). */
static int
take_lock(struct agent *a)
{
	struct agent_status st;
	char pid[32], *path;
	int i, n;

	if ((path = janee_asprintf("%s/%s", a->c->core.home.dir, AGENT_LOCK)) ==
	    NULL)
		return JANEE_ERR_NOMEM;
	a->lock_fd = open(
	    path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (a->lock_fd < 0) {
		free(path);
		return janee_err_set(JANEE_ERR_IO, "cannot open '%s': %s",
		    a->c->core.home.dir, strerror(errno));
	}
	free(path);
	for (i = 0; flock(a->lock_fd, LOCK_EX | LOCK_NB) != 0; i++) {
		if (errno != EWOULDBLOCK)
			return janee_err_set(JANEE_ERR_IO,
			    "cannot lock '%s/%s': %s", a->c->core.home.dir,
			    AGENT_LOCK, strerror(errno));
		/*
		 * An agent that answers keeps the home: go at once.  One
		 * that does not may be on its way out: wait for its lock.
		 */
		if (agent_status(a->c->core.home.dir, &st) == 0 && st.running)
			return janee_err_set(JANEE_ERR_EXISTS,
			    "an agent already runs for '%s' (pid %lld)",
			    a->c->core.home.dir, (long long)st.pid);
		janee_err_clear();
		if (i * 20 >= LOCK_WAIT_MS) {
			n = (int)pread(a->lock_fd, pid, sizeof(pid) - 1, 0);
			pid[n > 0 ? n : 0] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
			return janee_err_set(JANEE_ERR_EXISTS,
			    "an agent already runs for '%s' (pid %s)",
			    a->c->core.home.dir, *pid ? pid : "?");
		}
		usleep(20000);
	}
	note_read(a);
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	a->pid_len = (size_t)n;
	if (ftruncate(a->lock_fd, 0) != 0 ||
	    pwrite(a->lock_fd, pid, (size_t)n, 0) != n)
		alog("cannot write its pid into %s: %s", AGENT_LOCK,
		    strerror(errno));
	return 0;
}

static int
key_page(struct agent *a)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *p;

	a->kp_len = sizeof(struct keypage) + store_size();
	if (pg > 0)
		a->kp_len =
		    (a->kp_len + (size_t)pg - 1) / (size_t)pg * (size_t)pg;
	p = mmap(NULL, a->kp_len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return janee_err_set(JANEE_ERR_NOMEM,
		    "cannot map memory for the key: %s", strerror(errno));
	a->kp = p;
	madvise(p, a->kp_len, MADV_DONTDUMP);
	madvise(p, a->kp_len, MADV_WIPEONFORK);
	if (mlock(p, a->kp_len) == 0)
		a->mlocked = 1;
	else
		alog("cannot lock memory for the key (%s): it will hold none, "
		     "and janee unlock is refused; raise 'ulimit -l'",
		    strerror(errno));
	return 0;
}

static int
listen_socket(struct agent *a)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int rc, dirfd;

	if ((rc = agent_sockaddr(a->c->core.home.dir, &sa, &dirfd)) != 0)
		return rc;
	/* We hold the lock: a socket left here is from a dead agent. */
	if (unlinkat(a->home_fd, AGENT_SOCK, 0) != 0 && errno != ENOENT) {
		rc = janee_err_set(JANEE_ERR_IO, "cannot remove '%s/%s': %s",
		    a->c->core.home.dir, AGENT_SOCK, strerror(errno));
		goto out;
	}
	if ((a->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) <
	    0) {
		rc = janee_err_set(
		    JANEE_ERR_IO, "cannot make a socket: %s", strerror(errno));
		goto out;
	}
	old = umask(0177); /* the socket file: 0600 */
	rc = bind(a->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0 || listen(a->listen_fd, 64) != 0 ||
	    fstatat(a->home_fd, AGENT_SOCK, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		rc = janee_err_set(JANEE_ERR_IO, "cannot listen on '%s/%s': %s",
		    a->c->core.home.dir, AGENT_SOCK, strerror(errno));
		goto out;
	}
	a->sock_dev = st.st_dev;
	a->sock_ino = st.st_ino;
	rc = 0;
out:
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

/*
 * Whether our socket is still where clients look for it: not when the
 * home was removed, moved or made anew, or the socket removed.
 */
static int
still_home(struct agent *a)
{
	struct stat st;
	char *path;
	int rc;

	if ((path = janee_asprintf("%s/%s", a->c->core.home.dir, AGENT_SOCK)) ==
	    NULL)
		return 1; /* look again next time */
	rc = lstat(path, &st);
	free(path);
	return rc == 0 && st.st_dev == a->sock_dev && st.st_ino == a->sock_ino;
}

/* --- the reaper ------------------------------------------------------ */

/* (Re)load config.json when it changed; the old one stays on failure. */
/* A broker at b with config.json loaded as core_broker does. */
static int
agent_config(struct agent *a, struct broker *b, struct config **cfg)
{
	struct janee_ctx services;
	int rc;

	broker_init(b, a->lg, &a->c->core.home, NULL, &a->ks);
	broker_services(b, &services);
	if ((rc = config_load(a->c->core.home.config, janee_providers,
		 &services, cfg)) != 0) {
		broker_free(b);
		return rc;
	}
	b->cfg = *cfg;
	return 0;
}

static void
load_config(struct agent *a)
{
	struct config *cfg = NULL;
	struct stat st;
	int rc;

	if (stat(a->c->core.home.config, &st) != 0)
		memset(&st, 0, sizeof(st));
	if (a->cfg_tried && st.st_ino == a->cfg_ino &&
	    st.st_mtim.tv_sec == a->cfg_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == a->cfg_mtime.tv_nsec)
		return;
	a->cfg_tried = 1;
	a->cfg_ino = st.st_ino;
	a->cfg_mtime = st.st_mtim;
	/*
	 * Loaded once aside to see that it loads (the providers' context
	 * points into its broker, so it cannot be moved), then again in
	 * place: the one loaded before stays until a new one loads.
	 */
	if ((rc = agent_config(a, &a->spare, &cfg)) != 0) {
		/* Being edited, say: no sweep may burn revocation attempts. */
		alog("%s; %s", janee_err_msg(rc),
		    a->cfg != NULL
			? "revoking with the configuration loaded before"
			: "revoking nothing until it loads");
		janee_err_clear();
		return;
	}
	broker_free(&a->spare);
	config_free(cfg);
	cfg = NULL;
	broker_free(&a->b);
	config_free(a->cfg);
	a->cfg = NULL;
	if ((rc = agent_config(a, &a->b, &cfg)) != 0) {
		alog("%s; revoking nothing until it loads", janee_err_msg(rc));
		janee_err_clear();
		return;
	}
	a->cfg = cfg;
	a->b.client = "janee-agent";
}

/*
 * The ledger's wrapped key: a key held for another one (the home was
 * rekeyed or initialised again) is wiped.  Also learns the backend.
 */
static void
check_binding(struct agent *a)
{
	unsigned char bind[AGENT_BIND_LEN];
	char *backend = NULL, *params = NULL;

	if (store_binding(a->lg, bind) != 0) {
		janee_err_clear();
		return;
	}
	if (store_describe(a->lg, &backend, &params) == 0) {
		pthread_mutex_lock(&a->mu);
		a->needs_key = strcmp(backend, "passphrase") == 0;
		pthread_mutex_unlock(&a->mu);
	}
	janee_err_clear();
	free(backend);
	free(params);
	pthread_mutex_lock(&a->mu);
	if (a->kp->held && janee_ct_cmp(bind, a->kp->bind, AGENT_BIND_LEN) != 0)
		key_wipe(a, "the store was rekeyed or created again");
	pthread_mutex_unlock(&a->mu);
	janee_wipe(bind, sizeof(bind));
}

static void
on_ended(void *arg, const struct lease *l)
{
	struct agent *a = arg;
	alog("lease %s (%s) %s %lld ms after its end", l->id, l->provider,
	    lease_state_name(l->state),
	    (long long)(l->ended_ms - l->expires_ms));
	pthread_mutex_lock(&a->mu);
	a->revoked++;
	pthread_mutex_unlock(&a->mu);
}

/*
 * Revoke what is due.  With a held key the sweep uses a store in the
 * locked page, made from the key for this sweep and wiped after it; a
 * key-file or keyring home is unlocked by the broker as needed and its
 * store freed after.  Returns how many leases wait for a key.
 */
static int64_t
sweep(struct agent *a, int *failed)
{
	struct sweep_report r = { 0 };
	struct store *s = (struct store *)(void *)a->kp->store;
	int held, rc;

	*failed = 0;
	pthread_mutex_lock(&a->mu);
	held = a->kp->held && janee_now_ms() < a->kp->deadline_ms;
	rc = held ? store_init_key(s, a->kp->dek) : 0;
	pthread_mutex_unlock(&a->mu);
	if (rc != 0) {
		alog("%s", janee_err_msg(rc));
		janee_err_clear();
		held = 0;
	}
	if (held)
		a->b.store = s;
	r.ended = on_ended;
	r.claiming = note_claiming;
	r.arg = a;
	if ((rc = broker_sweep(&a->b, 0, &r)) != 0) {
		alog("sweep: %s", janee_err_msg(rc));
		janee_err_clear();
		*failed = 1;
	}
	note_clear(a);
	if (held)
		a->b.store = NULL;
	else {
		store_free(a->b.store);
		a->b.store = NULL;
	}
	janee_wipe(s, store_size());
	if (r.retrying > 0)
		alog("%lld revocation(s) failed and will be retried",
		    (long long)r.retrying);
	return r.waiting;
}

static int64_t
count_active(struct agent *a)
{
	int64_t n = 0;

	if (ledger_count(a->lg,
		"SELECT count(*) FROM leases WHERE state = 'active'", &n) != 0)
		janee_err_clear();
	return n;
}

static int
reap(struct agent *a, const sigset_t *unblocked)
{
	struct pollfd p = { a->wake[0], POLLIN, 0 };
	struct timespec ts;
	struct agent_wake w = { .due = INT64_MAX };
	int64_t waiting, active, wait;
	int notified, failed, stop, closing;
	char drain[64];

	for (;;) {
		w.now = janee_now_ms();
		pthread_mutex_lock(&a->mu);
		if (a->kp->held && w.now >= a->kp->deadline_ms)
			key_wipe(a, "its time ran out");
		notified = a->notified;
		a->notified = 0;
		stop = a->stop_asked;
		pthread_mutex_unlock(&a->mu);
		if (stopping || stop)
			return 0;
		if (!still_home(a)) {
			alog("its socket or home is gone; exiting");
			return 0;
		}
		if (notified)
			w.stall_until = w.retry_at = 0;
		check_binding(a);
		load_config(a);
		w.configured = a->cfg != NULL;
		if (broker_next_due(&a->b, &w.due) != 0) {
			alog("%s", janee_err_msg(JANEE_ERR_DB));
			janee_err_clear();
			w.due = w.now + AGENT_CHECK_MS;
		}
		if (agent_sweep_now(&w)) {
			waiting = sweep(a, &failed);
			w.now = janee_now_ms();
			/* Leases that need a key it has not: try again later. */
			w.stall_until = waiting > 0 ? w.now + STALL_MS : 0;
			w.retry_at = failed ? w.now + AGENT_CHECK_MS : 0;
			if (broker_next_due(&a->b, &w.due) != 0) {
				janee_err_clear();
				w.due = w.now + AGENT_CHECK_MS;
			}
		}
		active = count_active(a);
		pthread_mutex_lock(&a->mu);
		a->next_due_ms = w.due;
		a->active = active;
		/* Nothing to revoke, no key, nobody talking: go. */
		if (w.due == INT64_MAX && !a->kp->held && !a->notified &&
		    w.now - a->last_request_ms >= IDLE_GRACE_MS)
			a->closing = 1;
		closing = a->closing;
		w.key_deadline = a->kp->held ? a->kp->deadline_ms : INT64_MAX;
		pthread_mutex_unlock(&a->mu);
		if (closing) {
			alog("no active lease and no key; exiting");
			return 0;
		}
		/*
		 * Wake at the next due lease (a claimed one at its claim's
		 * end), the key's deadline, or for the one-second check.
		 */
		wait = agent_wait_ms(&w);
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)(wait % 1000) * 1000000;
		p.revents = 0;
		if (ppoll(&p, 1, &ts, unblocked) > 0 && (p.revents & POLLIN))
			while (read(a->wake[0], drain, sizeof(drain)) ==
			    (ssize_t)sizeof(drain))
				;
	}
}

static void
agent_close(struct agent *a, int unlink_sock)
{
	char c = 1;

	if (a->thread_up) {
		if (write(a->stop[1], &c, 1) < 0)
			(void)0;
		pthread_join(a->thread, NULL);
	}
	if (unlink_sock && a->listen_fd >= 0 && still_home(a))
		unlinkat(a->home_fd, AGENT_SOCK, 0);
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	if (a->kp != NULL) {
		janee_wipe(a->kp, a->kp_len);
		munlock(a->kp, a->kp_len);
		munmap(a->kp, a->kp_len);
	}
	if (a->have_broker)
		broker_free(&a->b);
	config_free(a->cfg);
	ledger_close(a->lg);
	if (a->home_fd >= 0)
		close(a->home_fd);
	/* Last: the next agent may take over once the lock is free. */
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	close(a->wake[0]);
	close(a->wake[1]);
	close(a->stop[0]);
	close(a->stop[1]);
	pthread_mutex_destroy(&a->mu);
}

int
cmd_agent_run(struct cli *c)
{
	struct rlimit core = { 0, 0 };
	struct sigaction sa;
	sigset_t block, orig;
	struct agent a;
	const char *ready_arg = cli_get(c, "ready-fd");
	int64_t ready = -1;
	char one = 'r';
	int rc;

	if (ready_arg != NULL &&
	    janee_parse_int(ready_arg, 3, 1024, &ready) != 0)
		return cli_usage_error(c, "--ready-fd takes a descriptor");
	memset(&a, 0, sizeof(a));
	a.c = c;
	a.home_fd = a.lock_fd = a.listen_fd = -1;
	a.wake[0] = a.wake[1] = a.stop[0] = a.stop[1] = -1;
	pthread_mutex_init(&a.mu, NULL);
	agent_self = 1;
	/* main() did this too; said again here because it is the point. */
	setrlimit(RLIMIT_CORE, &core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Keep no directory busy; janee starts it with an absolute home. */
	if (c->core.home.dir[0] == '/' && chdir("/") != 0)
		(void)0; /* then it stays where it is */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL); /* no terminal to lose, but still */
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_stop; /* no SA_RESTART: ppoll sees EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Only the reaper's ppoll() takes them; the thread never does. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);
	a.ks.fd = a.ks.new_fd = -1;
	a.ks.no_agent = 1;
	if ((rc = home_check(&c->core.home)) != 0)
		goto out;
	if ((a.home_fd = open(
		 c->core.home.dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = janee_err_set(JANEE_ERR_IO, "cannot open '%s': %s",
		    c->core.home.dir, strerror(errno));
		goto out;
	}
	if ((rc = take_lock(&a)) != 0) {
		/* Another agent serves this home: that is the one promise. */
		fprintf(
		    stderr, "janee: %s; this one exits\n", janee_err_msg(rc));
		janee_err_clear();
		rc = 0;
		goto out;
	}
	if (pipe2(a.wake, O_CLOEXEC | O_NONBLOCK) != 0 ||
	    pipe2(a.stop, O_CLOEXEC) != 0) {
		rc = janee_err_set(JANEE_ERR_IO, "pipe: %s", strerror(errno));
		goto out;
	}
	a.started_ms = a.last_request_ms = janee_now_ms();
	a.next_due_ms = INT64_MAX;
	if ((rc = key_page(&a)) != 0 ||
	    (rc = ledger_open(c->core.home.db, 0, &a.lg)) != 0)
		goto out;
	broker_init(&a.b, a.lg, &c->core.home, NULL, &a.ks);
	a.have_broker = 1;
	load_config(&a);
	check_binding(&a);
	note_finish(&a);
	if ((rc = listen_socket(&a)) != 0)
		goto out;
	if ((rc = pthread_create(&a.thread, NULL, socket_thread, &a)) != 0) {
		rc = janee_err_set(JANEE_ERR_INTERNAL, "cannot start a thread");
		goto out;
	}
	a.thread_up = 1;
	alog("serving '%s'", c->core.home.dir);
	if (ready >= 0) {
		if (write((int)ready, &one, 1) != 1)
			(void)0; /* the starter went away: serve all the same */
		close((int)ready);
		ready = -1;
	}
	sigdelset(&orig, SIGTERM);
	sigdelset(&orig, SIGINT);
	rc = reap(&a, &orig);
	if (stopping)
		alog("stopped by a signal");
	pthread_mutex_lock(&a.mu);
	a.closing = 1;
	key_wipe(&a, "exiting");
	pthread_mutex_unlock(&a.mu);
out:
	agent_close(&a, rc == 0);
	if (ready >= 0)
		close((int)ready);
	if (rc != 0)
		alog("%s", janee_err_msg(rc));
	return rc;
}
