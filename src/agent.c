/*
 * Talking to the background agent, and starting it (src/agent.h).  The
 * agent's own loop is src/agent-run.c.
 */
#include "common.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "agent.h"
#include "broker.h"
#include "buf.h"
#include "ledger.h"
#include "secretref.h"
#include "store.h"
#include "subprocess.h"
#include "util.h"

int agent_enabled;
int agent_self;
#ifdef JANEE_TEST_HOOKS
int (*agent_env_hook)(struct janee_strlist *env);
#endif

/* How long a client waits for an answer, and for a new agent to listen. */
#define CALL_TIMEOUT_MS 3000
#define START_TIMEOUT_MS 5000
/* agent.log is cut back to nothing at a start when it grew past this. */
#define LOG_MAX_BYTES (1024 * 1024)

int
agent_sockaddr(const char *home, struct sockaddr_un *sa, int *dirfd)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	*dirfd = -1;
	n = snprintf(
	    sa->sun_path, sizeof(sa->sun_path), "%s/%s", home, AGENT_SOCK);
	if (n > 0 && (size_t)n < sizeof(sa->sun_path))
		return 0;
	/* A deep home: reach the socket through a descriptor of it. */
	if ((*dirfd = open(home, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return janee_err_set(JANEE_ERR_IO, "cannot open '%s': %s", home,
		    strerror(errno));
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s",
	    *dirfd, AGENT_SOCK);
	return 0;
}

static void
msg_init(struct agent_msg *m, enum agent_op op)
{
	memset(m, 0, sizeof(*m));
	m->magic = AGENT_MAGIC;
	m->version = AGENT_VERSION;
	m->op = (uint32_t)op;
}

static void
status_from(const struct agent_reply *r, struct agent_status *st)
{
	if (st == NULL)
		return;
	memset(st, 0, sizeof(*st));
	st->running = 1;
	st->pid = r->pid;
	st->started_ms = r->started_ms;
	st->flags = r->flags;
	st->deadline_ms = r->deadline_ms;
	st->next_due_ms = r->next_due_ms;
	st->active = r->active;
	st->revoked = r->revoked;
}

/*
 * One request, one answer.  JANEE_ERR_NOT_FOUND (no message) when no
 * agent answers: no socket, nobody listening, or an agent that closed
 * without answering (it was on its way out); JANEE_ERR_SCHEMA for an
 * agent of another version.
 */
static int
call(const char *home, const struct agent_msg *m, struct agent_reply *r)
{
	struct timeval tv = { CALL_TIMEOUT_MS / 1000,
		(CALL_TIMEOUT_MS % 1000) * 1000 };
	struct sockaddr_un sa;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	ssize_t n;
	int fd = -1, dirfd, rc;

	memset(r, 0, sizeof(*r));
	if ((rc = agent_sockaddr(home, &sa, &dirfd)) != 0)
		return rc;
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0) {
		rc = janee_err_set(
		    JANEE_ERR_IO, "cannot make a socket: %s", strerror(errno));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			rc = JANEE_ERR_NOT_FOUND;
		else
			rc = janee_err_set(JANEE_ERR_IO,
			    "cannot reach the janee agent at '%s/%s': %s", home,
			    AGENT_SOCK, strerror(errno));
		goto out;
	}
	/* The home is ours and 0700; an agent of another uid is refused. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    cred.uid != geteuid()) {
		rc = janee_err_set(JANEE_ERR_PERM,
		    "the janee agent socket '%s/%s' is served by another user; "
		    "remove it",
		    home, AGENT_SOCK);
		goto out;
	}
	if (send(fd, m, sizeof(*m), MSG_NOSIGNAL) != (ssize_t)sizeof(*m)) {
		rc = errno == EPIPE || errno == ECONNRESET
		    ? JANEE_ERR_NOT_FOUND
		    : janee_err_set(JANEE_ERR_IO,
			  "cannot write to the janee agent: %s",
			  strerror(errno));
		goto out;
	}
	n = recv(fd, r, sizeof(*r), 0);
	if (n == 0 || (n < 0 && errno == ECONNRESET)) {
		rc = JANEE_ERR_NOT_FOUND;
		goto out;
	}
	if (n < 0) {
		rc = janee_err_set(JANEE_ERR_IO,
		    "the janee agent did not answer: %s",
		    errno == EAGAIN ? "timed out" : strerror(errno));
		goto out;
	}
	if ((size_t)n < 2 * sizeof(uint32_t) || r->magic != AGENT_MAGIC) {
		rc = janee_err_set(JANEE_ERR_INVALID,
		    "'%s/%s' does not answer as a janee agent", home,
		    AGENT_SOCK);
		goto out;
	}
	if (r->version != AGENT_VERSION || (size_t)n != sizeof(*r)) {
		rc = JANEE_ERR_SCHEMA;
		goto out;
	}
	rc = r->status;
out:
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

/* --- starting the agent --------------------------------------------- */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *const env_keep[] = { "PATH", "HOME", "USER", "LOGNAME",
	"LANG", "LANGUAGE", "TZ", "TMPDIR", "JANEE_DEBUG", "SSL_CERT_FILE",
	"SSL_CERT_DIR", "CURL_CA_BUNDLE", "http_proxy", "HTTP_PROXY",
	"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy",
	"NO_PROXY",
	/* the keyring backend and keyring: references (libsecret, D-Bus) */
	"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", NULL };
static const char *const env_vault[] = { "VAULT_ADDR", "VAULT_NAMESPACE",
	"VAULT_CACERT", "VAULT_TOKEN", "VAULT_TOKEN_FILE", NULL };

static int
env_pass(struct janee_strlist *env, const char *name)
{
	const char *v = getenv(name);
	char *kv;
	int rc;

	/* Never a passphrase, whatever a configuration refers to. */
	if (v == NULL || strcmp(name, "JANEE_PASSPHRASE") == 0 ||
	    strcmp(name, "JANEE_NEW_PASSPHRASE") == 0)
		return 0;
	if ((kv = janee_asprintf("%s=%s", name, v)) == NULL)
		return JANEE_ERR_NOMEM;
	rc = janee_strlist_has(env, kv) ? 0 : janee_strlist_add(env, kv);
	janee_freezero(kv, strlen(kv));
	return rc;
}

/* The variables config.json's env: and vault:// references need. */
static int
env_refs(const cJSON *j, struct janee_strlist *env)
{
	const cJSON *c;
	const char *s;
	size_t i;
	int rc;

	if (cJSON_IsString(j) && (s = j->valuestring) != NULL) {
		if (secretref_kind(s) == SECRETREF_ENV)
			return env_pass(env, s + 4);
		for (i = 0; secretref_kind(s) == SECRETREF_VAULT &&
		     env_vault[i] != NULL;
		     i++)
			if ((rc = env_pass(env, env_vault[i])) != 0)
				return rc;
		return 0;
	}
	cJSON_ArrayForEach(c, j)
	{
		if ((rc = env_refs(c, env)) != 0)
			return rc;
	}
	return 0;
}

/*
 * The agent's environment: a short list of harmless variables, and the
 * ones its configuration refers to (a client secret in env:VAR is needed
 * to revoke); never JANEE_PASSPHRASE.  /proc/PID/environ shows it.
 */
static int
agent_env(const char *home, struct janee_strlist *env)
{
	extern char **environ;
	struct buf b;
	char *path;
	cJSON *j;
	size_t i;
	int rc = 0, fd;

	for (i = 0; env_keep[i] != NULL && rc == 0; i++)
		rc = env_pass(env, env_keep[i]);
	for (i = 0; environ[i] != NULL && rc == 0; i++)
		if (strncmp(environ[i], "LC_", 3) == 0 &&
		    strchr(environ[i], '=') != NULL)
			rc = janee_strlist_add(env, environ[i]);
	if (rc != 0)
		return rc;
	if ((path = janee_asprintf("%s/config.json", home)) == NULL)
		return JANEE_ERR_NOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd >= 0) {
		buf_init(&b, 4 << 20);
		if (buf_read_fd(&b, fd) == 0 && buf_add(&b, "", 0) == 0 &&
		    (j = cJSON_Parse((const char *)b.p)) != NULL) {
			rc = env_refs(j, env);
			cJSON_Delete(j);
		}
		janee_err_clear(); /* a bad config is the agent's to report */
		buf_free(&b);
		close(fd);
	}
#ifdef JANEE_TEST_HOOKS
	if (rc == 0 && agent_env_hook != NULL)
		rc = agent_env_hook(env);
#endif
	return rc;
}

/* Open agent.log for the agent's stderr: private, appended, kept small. */
static int
open_log(const char *home)
{
	struct stat st;
	char *path;
	int fd;

	if ((path = janee_asprintf("%s/%s", home, AGENT_LOG)) == NULL)
		return -1;
	fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(path);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		close(fd);
		return -1;
	}
	if (st.st_size > LOG_MAX_BYTES && ftruncate(fd, 0) != 0)
		(void)0; /* appended to, then */
	return fd;
}

/* Move fd to a descriptor above the ones the agent is given (0..3). */
static int
high_fd(int fd)
{
	int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);

	close(fd);
	return h;
}

/*
 * Start an agent for home and wait until it listens (or lost the race to
 * another, which then listens).  A child that janee_spawn_as()s the agent
 * in a session of its own and exits: the agent is nobody's child (no
 * zombie in a long-running janee serve), has no controlling terminal and
 * outlives the terminal and the process that started it.  It starts with
 * default, unblocked signals, stdin and stdout on /dev/null, stderr to
 * agent.log, the readiness pipe as descriptor 3 and nothing else open;
 * its environment is agent_env()'s, never janee's own.
 */
static int
start(const char *home)
{
	struct janee_spawn_how how = { .err_fd = -1, .fd3 = -1 };
	struct janee_strlist env;
	char exe[PATH_MAX], *abs = NULL, c;
	const char *argv[] = { "janee", "--home", NULL, "agent-run",
		"--ready-fd", "3", NULL };
	struct pollfd pfd;
	ssize_t n;
	pid_t pid;
	int rc = 0, st, p[2] = { -1, -1 }, log = -1;
	int64_t until;

	memset(&env, 0, sizeof(env));
	/* readlink: /proc/self/exe itself is the loader under valgrind. */
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
		return janee_err_set(JANEE_ERR_IO,
		    "cannot find janee's own path to start the agent: %s",
		    strerror(errno));
	exe[n] = '\0';
	if ((abs = realpath(home, NULL)) == NULL)
		return janee_err_set(JANEE_ERR_IO, "cannot resolve '%s': %s",
		    home, strerror(errno));
	argv[2] = abs;
	if ((rc = agent_env(abs, &env)) != 0 ||
	    (rc = janee_strlist_add(&env, "")) != 0)
		goto out;
	/* A NULL-terminated array: the list's, its "" dropped. */
	free(env.v[env.n - 1]);
	env.v[--env.n] = NULL;
	if (pipe2(p, O_CLOEXEC) != 0) {
		rc = janee_err_set(JANEE_ERR_IO,
		    "cannot prepare the agent's start: %s", strerror(errno));
		goto out;
	}
	log = open_log(abs);
	p[1] = high_fd(p[1]);
	if (log >= 0)
		log = high_fd(log);
	if (p[1] < 0) {
		rc = janee_err_set(JANEE_ERR_IO,
		    "cannot prepare the agent's start: %s", strerror(errno));
		goto out;
	}
	if ((pid = fork()) < 0) {
		rc = janee_err_set(JANEE_ERR_IO, "cannot start the agent: %s",
		    strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* janee is single-threaded here: the agent never starts one. */
		how.path = exe;
		how.envp = env.v;
		how.err_fd = log; /* else /dev/null, as stdout */
		how.fd3 = p[1];
		if ((rc = janee_spawn_as(argv,
			 JANEE_SPAWN_QUIET | JANEE_SPAWN_DETACH, NULL, &how,
			 NULL)) != 0 &&
		    log >= 0)
			dprintf(log, "janee: %s\n", janee_err_msg(rc));
		_exit(rc != 0);
	}
	close(p[1]);
	p[1] = -1;
	/* The middle child exits at once; another handler may reap it. */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	/* One byte when the agent listens; EOF when it exits or lost. */
	pfd.fd = p[0];
	pfd.events = POLLIN;
	until = mono_ms() + START_TIMEOUT_MS;
	for (;;) {
		int64_t left = until - mono_ms();

		if (left <= 0) {
			rc = janee_err_set(JANEE_ERR_IO,
			    "the janee agent did not start within %d s; see "
			    "'%s/%s'",
			    START_TIMEOUT_MS / 1000, abs, AGENT_LOG);
			break;
		}
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR)
			;
		break; /* listening, or gone: the caller asks again */
	}
out:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	if (log >= 0)
		close(log);
	janee_strlist_free(&env);
	free(abs);
	return rc;
}

/* --- requests -------------------------------------------------------- */

static int
ping(const char *home, struct agent_reply *r)
{
	struct agent_msg m;

	msg_init(&m, AGENT_OP_PING);
	return call(home, &m, r);
}

int
agent_status(const char *home, struct agent_status *st)
{
	struct agent_reply r;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = ping(home, &r);
	if (rc == JANEE_ERR_NOT_FOUND)
		return 0;
	if (rc == JANEE_ERR_SCHEMA)
		return janee_err_set(rc,
		    "the janee agent (pid %lld) is of another janee version; "
		    "any janee command that issues a lease replaces it",
		    (long long)r.pid);
	if (rc == 0)
		status_from(&r, st);
	return rc;
}

/* Ask an agent of another version to go, and wait until it is gone. */
static void
stop_other(const char *home)
{
	struct agent_reply r;
	struct agent_msg m;
	int i;

	msg_init(&m, AGENT_OP_STOP);
	if (call(home, &m, &r) != 0)
		janee_err_clear();
	for (i = 0; i < 100 && ping(home, &r) != JANEE_ERR_NOT_FOUND; i++)
		usleep(20000);
	janee_err_clear();
}

int
agent_ensure(const char *home, struct agent_status *st)
{
	struct agent_reply r;
	int rc, tries;

	for (tries = 0; tries < 3; tries++) {
		rc = ping(home, &r);
		if (rc == 0) {
			status_from(&r, st);
			return 0;
		}
		if (rc == JANEE_ERR_SCHEMA)
			stop_other(home);
		else if (rc != JANEE_ERR_NOT_FOUND)
			return rc;
		if ((rc = start(home)) != 0)
			return rc;
	}
	return janee_err_set(JANEE_ERR_IO,
	    "the janee agent does not answer after starting; see '%s/%s'", home,
	    AGENT_LOG);
}

void
agent_notify(const char *home)
{
	static int warned, noted;
	struct agent_reply r;
	struct agent_msg m;
	int rc;

	if (!agent_enabled || agent_self || home == NULL)
		return;
	msg_init(&m, AGENT_OP_NOTIFY);
	rc = call(home, &m, &r);
	if (rc == JANEE_ERR_NOT_FOUND || rc == JANEE_ERR_SCHEMA) {
		janee_err_clear();
		if ((rc = agent_ensure(home, NULL)) == 0)
			rc = call(home, &m, &r);
	}
	if (rc != 0) {
		if (!warned++)
			fprintf(stderr,
			    "janee: warning: the background agent is not "
			    "available (%s); a lease ends on time only while "
			    "a janee command runs, else at the next one\n",
			    janee_err_msg(rc));
		janee_err_clear();
		return;
	}
	if ((r.flags & AGENT_NEEDS_KEY) && !(r.flags & AGENT_HOLDS_KEY) &&
	    !noted++)
		fprintf(stderr,
		    "janee: note: this home's key comes from a passphrase and "
		    "the background agent does not hold it, so it cannot "
		    "revoke leases at their end; run: janee unlock (or move "
		    "the home to the keyring: janee secret rekey --key-backend "
		    "keyring)\n");
}

int
agent_key_get(const char *home, const unsigned char bind[AGENT_BIND_LEN],
    unsigned char key[AGENT_KEY_LEN])
{
	struct agent_reply r;
	struct agent_msg m;
	int rc;

	msg_init(&m, AGENT_OP_GETKEY);
	memcpy(m.bind, bind, AGENT_BIND_LEN);
	rc = call(home, &m, &r);
	if (rc == 0 && (r.flags & AGENT_HOLDS_KEY))
		memcpy(key, r.key, AGENT_KEY_LEN);
	else if (rc == 0 || rc == JANEE_ERR_SCHEMA)
		rc = JANEE_ERR_NOT_FOUND;
	janee_wipe(&r, sizeof(r));
	if (rc == JANEE_ERR_NOT_FOUND)
		janee_err_clear();
	return rc;
}

int
agent_unlock(const char *home, const unsigned char key[AGENT_KEY_LEN],
    const unsigned char bind[AGENT_BIND_LEN], int64_t deadline_ms,
    struct agent_status *st)
{
	struct agent_reply r;
	struct agent_msg m;
	int rc;

	if ((rc = agent_ensure(home, NULL)) != 0)
		return rc;
	msg_init(&m, AGENT_OP_UNLOCK);
	m.deadline_ms = deadline_ms;
	memcpy(m.bind, bind, AGENT_BIND_LEN);
	memcpy(m.key, key, AGENT_KEY_LEN);
	rc = call(home, &m, &r);
	janee_wipe(&m, sizeof(m));
	if (rc == 0)
		status_from(&r, st);
	else if (rc == JANEE_ERR_NOT_FOUND)
		rc = janee_err_set(JANEE_ERR_IO,
		    "the janee agent went away before it took the key; try "
		    "again");
	else if (rc == JANEE_ERR_CRYPTO && (r.flags & AGENT_NO_MLOCK))
		rc = janee_err_set(rc,
		    "the janee agent cannot lock memory (mlock) for the key, "
		    "so it holds none; see 'ulimit -l' and '%s/%s'",
		    home, AGENT_LOG);
	else if (!janee_err_pending())
		rc = janee_err_set(rc, "the janee agent refused the key: %s",
		    janee_strerror(rc));
	janee_wipe(&r, sizeof(r));
	return rc;
}

int
agent_lock(const char *home, int *held, struct agent_status *st)
{
	struct agent_reply r;
	struct agent_msg m;
	int rc;

	*held = 0;
	if (st != NULL)
		memset(st, 0, sizeof(*st));
	msg_init(&m, AGENT_OP_LOCK);
	rc = call(home, &m, &r);
	if (rc == JANEE_ERR_NOT_FOUND) {
		janee_err_clear();
		return 0;
	}
	if (rc == JANEE_ERR_SCHEMA) {
		/* An older agent: stopping it wipes its key all the same. */
		stop_other(home);
		*held = 1;
		return 0;
	}
	if (rc == 0) {
		*held = (r.flags & AGENT_HOLDS_KEY) != 0;
		status_from(&r, st);
		if (st != NULL)
			st->flags &= ~AGENT_HOLDS_KEY;
	}
	return rc;
}

void
agent_keep(const char *home, struct ledger *lg)
{
	static int warned;
	int64_t due = 0;
	int rc;

	if (!agent_enabled || agent_self || home == NULL || lg == NULL)
		return;
	/* Active leases, or one left minting that may need reconciling. */
	if (broker_ledger_due(lg, &due) != 0 || due == INT64_MAX) {
		janee_err_clear();
		return;
	}
	if ((rc = agent_ensure(home, NULL)) != 0 && !warned++)
		fprintf(stderr,
		    "janee: warning: cannot start the background agent (%s); "
		    "active leases end on time only while a janee command "
		    "runs\n",
		    janee_err_msg(rc));
	janee_err_clear();
}

int
agent_explain_locked(const char *home, struct ledger *lg, FILE *fp,
    const char *what, const char *fails)
{
	struct agent_status st;
	char *backend = NULL, *params = NULL, until[JANEE_TIME_LEN];
	int passphrase;

	if (store_describe(lg, &backend, &params) != 0) {
		janee_err_clear();
		return 0;
	}
	passphrase = strcmp(backend, "passphrase") == 0;
	free(backend);
	free(params);
	if (!passphrase)
		return 0;
	if (agent_status(home, &st) != 0) {
		janee_err_clear();
		st.running = 0;
	}
	if (st.running && (st.flags & AGENT_HOLDS_KEY)) {
		janee_time_fmt(st.deadline_ms, until);
		fprintf(fp,
		    "janee: note: this home's key comes from a passphrase; "
		    "the background agent holds it until %s and %s works "
		    "until then; after that %s until you run janee unlock "
		    "[--for DURATION] (at most 7d) again, or move the home to "
		    "the desktop keyring once: janee secret rekey "
		    "--key-backend keyring\n",
		    until, what, fails);
		return 1;
	}
	fprintf(fp,
	    "janee: warning: this home's key comes from a passphrase, which "
	    "%s cannot ask for (it has no terminal), and the background "
	    "agent does not hold the key: %s, and leases are not revoked at "
	    "their end, until you run: janee unlock [--for DURATION] "
	    "(default 8h, at most 7d); or move the home to the desktop "
	    "keyring once: janee secret rekey --key-backend keyring.  Never "
	    "put the passphrase in the client's configuration.\n",
	    what, fails);
	return 1;
}

/* --- for the agent itself --------------------------------------------- */

int
agent_note_format(
    char out[AGENT_NOTE_LEN], const char *id, int64_t due_ms, int64_t until_ms)
{
	int n = snprintf(out, AGENT_NOTE_LEN, "revoking %s %lld %lld\n", id,
	    (long long)due_ms, (long long)until_ms);

	return n > 0 && n < AGENT_NOTE_LEN ? n : 0;
}

int
agent_note_parse(const char *text, char id[JANEE_LEASE_ID_LEN], int64_t *due_ms,
    int64_t *until_ms)
{
	const char *line = strchr(text, '\n');
	char word[16], lid[32];
	long long due, until;
	int end = -1;

	/* lid takes %31s; a lease id is shorter. */
	_Static_assert(JANEE_LEASE_ID_LEN <= 32, "lid is too short");
	if (line == NULL ||
	    sscanf(line + 1, "%15s %31s %lld %lld%n", word, lid, &due, &until,
		&end) != 4 ||
	    end < 0 || line[1 + end] != '\n' || strcmp(word, "revoking") != 0 ||
	    strlen(lid) >= JANEE_LEASE_ID_LEN || strncmp(lid, "lse_", 4) != 0 ||
	    due <= 0 || until <= due)
		return JANEE_ERR_NOT_FOUND;
	memcpy(id, lid, strlen(lid) + 1);
	*due_ms = due;
	*until_ms = until;
	return 0;
}

/* The first moment the reaper may sweep; INT64_MAX: not before news. */
static int64_t
sweep_from(const struct agent_wake *w)
{
	int64_t t;

	if (w->due == INT64_MAX || !w->configured)
		return INT64_MAX;
	t = w->due > INT64_MAX - AGENT_BACKSTOP_MS ? INT64_MAX
						   : w->due + AGENT_BACKSTOP_MS;
	if (t < w->stall_until)
		t = w->stall_until;
	if (t < w->retry_at)
		t = w->retry_at;
	return t;
}

int
agent_sweep_now(const struct agent_wake *w)
{
	return w->now >= sweep_from(w);
}

int64_t
agent_wait_ms(const struct agent_wake *w)
{
	int64_t wait = AGENT_CHECK_MS, t = sweep_from(w);

	if (w->key_deadline != INT64_MAX && w->key_deadline - w->now < wait)
		wait = w->key_deadline - w->now;
	if (t != INT64_MAX && t - w->now < wait)
		wait = t - w->now;
	return wait < 0 ? 0 : wait;
}
