/*
 * ledger-bench: how the janee CLI copes with a large ledger.
 *
 * It fills a fresh janee home with N leases and M audit rows (by default
 * the 1,000,000 and 10,000,000), then runs the real CLI
 * (tests/janee-test: janee with the test provider) in child processes
 * and measures each command from outside: wall time, CPU time and peak
 * RSS from wait4().  Measured:
 *
 *   audit verify              rows/s, peak RSS
 *   audit export --format csv rows/s, peak RSS
 *   lease sweep               with 0, 0.1% and 1% of the leases overdue,
 *                             on the same ledger: leases/s, time, RSS
 *
 * This is a measurement program, not a test: it checks only what it needs
 * to trust its own figures (the chain verifies, the sweep expired exactly
 * the overdue leases and revoked their tokens at the provider).
 *
 * The overdue sets are placed in the future (1 h and 2 h after the fill)
 * so that no command sweeps them by accident (every janee command sweeps
 * first); the two sweeps move the CLI's clock forward with
 * JANEE_TEST_CLOCK_OFFSET, which only the test binary honours.
 */
#include "common.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "audit.h"
#include "broker.h"
#include "home.h"
#include "keysrc.h"
#include "ledger.h"
#include "store.h"
#include "util.h"

#define MIN_MS (60LL * 1000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

/* Rows per write transaction while filling: one fsync per batch. */
#define FILL_BATCH 20000

/* Targets from the issue, for this 2-core machine. */
#define TARGET_EXPORT_RPS 300000.0
#define TARGET_VERIFY_RPS 500000.0
#define TARGET_RSS_KB (20 * 1024)

/* When the overdue sets fall due, after the fill started (t0). */
#define DUE_SMALL_MS (1 * HOUR_MS)
#define DUE_LARGE_MS (2 * HOUR_MS)
#define DUE_SPREAD_MS (10 * MIN_MS)
#define DUE_FUTURE_MS (30 * DAY_MS)

struct opts {
	int64_t leases;
	int64_t audit;
	int repeat;
	const char *janee;
	const char *dir;
	int keep;
};

struct paths {
	char *work, *home, *db, *config, *prov, *csv, *out, *err;
	int made_work;
};

/* One run of the CLI as seen from outside. */
struct run {
	double wall_s, cpu_s;
	long maxrss_kb;
	int status; /* exit status, or -1 when it did not exit */
};

/* One line of the results table. */
struct result {
	const char *what;
	int64_t rows;
	struct run r; /* the median run by wall time */
	double target_rps; /* 0: none */
	int runs;
};

/* Leases by kind; the active ones are the newest rows. */
struct plan {
	int64_t n, small, large, future, ended;
	int64_t t0;
};

static struct result results[16];
static size_t nresults;

static void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static char *
xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("ledger-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
die_janee(int rc, const char *what)
{
	die("%s: %s", what, janee_err_msg(rc));
}

static char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		die("out of memory");
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * splitmix64: the data set is the same on every run (apart from tokens
 * and keys, which come from the real CSPRNG), so runs compare.
 */
static uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rng_state = 0x6a616e6565ULL; /* "janee" */

static uint64_t
rng(void)
{
	return mix64(rng_state++);
}

/* Uniform in [0, n); the modulo bias is irrelevant here. */
static int64_t
rng_below(int64_t n)
{
	return n > 0 ? (int64_t)(rng() % (uint64_t)n) : 0;
}

/*
 * Lease k's id, in janee's format (lse_ and 26 base32 digits), derived
 * from k so that the audit rows can name leases without keeping a list.
 */
static void
lease_id_for(int64_t k, char out[JANEE_LEASE_ID_LEN])
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint64_t w = 0;
	int i;

	memcpy(out, "lse_", 4);
	for (i = 0; i < 26; i++) {
		if (i % 12 == 0)
			w = mix64(0x6c6561736500ULL + (uint64_t)k * 3 +
			    (uint64_t)(i / 12));
		out[4 + i] = b32[w & 31];
		w >>= 5;
	}
	out[30] = '\0';
}

/* In a child about to exec: open path as descriptor `to`, or give up. */
static void
redirect(const char *path, int flags, int to)
{
	int fd;

	if ((fd = open(path, flags, 0600)) < 0 || dup2(fd, to) < 0)
		_exit(126);
	close(fd);
}

/*
 * Run the CLI: argv[0] is replaced by the janee binary.  stdout goes to
 * paths->out, stderr to paths->err.  offset_s != 0 moves the CLI's clock.
 */
static void
run_cli(const struct opts *o, const struct paths *p, int64_t offset_s,
    struct run *r, const char *const argv[])
{
	struct rusage ru;
	char off[32];
	double t;
	pid_t pid;
	int st;

	memset(r, 0, sizeof(*r));
	fflush(NULL);
	t = mono_s();
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (offset_s != 0) {
			snprintf(off, sizeof(off), "%lld", (long long)offset_s);
			setenv("JANEE_TEST_CLOCK_OFFSET", off, 1);
		} else
			unsetenv("JANEE_TEST_CLOCK_OFFSET");
		redirect(p->out, O_WRONLY | O_CREAT | O_TRUNC, STDOUT_FILENO);
		redirect(p->err, O_WRONLY | O_CREAT | O_TRUNC, STDERR_FILENO);
		redirect("/dev/null", O_RDONLY, STDIN_FILENO);
		/* execv's prototype predates const; it does not write. */
		execv(o->janee, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	/* wait4: the rusage of this child alone, not of all children. */
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4: %s", strerror(errno));
	r->wall_s = mono_s() - t;
	r->cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	r->maxrss_kb = ru.ru_maxrss; /* kilobytes on Linux */
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The first line of a small file, for parsing the CLI's answers. */
static char *
first_line(const char *path)
{
	char line[1024];
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return xasprintf("%s", "");
	if (fgets(line, sizeof(line), fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	line[strcspn(line, "\n")] = '\0';
	return xasprintf("%s", line);
}

static void
show_file(const char *label, const char *path)
{
	char line[1024];
	FILE *fp;
	int n = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL && n++ < 20)
		fprintf(stderr, "  %s: %s", label, line);
	fclose(fp);
}

static void
run_ok(const struct run *r, const struct paths *p, const char *what)
{
	if (r->status == 0)
		return;
	show_file("stdout", p->out);
	show_file("stderr", p->err);
	die("'%s' failed (exit status %d)", what, r->status);
}

static int
by_wall(const void *a, const void *b)
{
	const struct run *x = a, *y = b;

	return (x->wall_s > y->wall_s) - (x->wall_s < y->wall_s);
}

/* Keep the median run by wall time, and the highest peak RSS of all. */
static struct result *
add_result(
    const char *what, int64_t rows, struct run *runs, int n, double target_rps)
{
	struct result *res;
	long rss = 0;
	int i;

	if (nresults == nitems(results))
		die("too many results");
	for (i = 0; i < n; i++)
		if (runs[i].maxrss_kb > rss)
			rss = runs[i].maxrss_kb;
	qsort(runs, (size_t)n, sizeof(*runs), by_wall);
	res = &results[nresults++];
	res->what = what;
	res->rows = rows;
	res->r = runs[n / 2];
	res->r.maxrss_kb = rss;
	res->target_rps = target_rps;
	res->runs = n;
	return res;
}

static void
write_text(const char *path, const char *text)
{
	int fd;
	size_t len = strlen(text);

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    write(fd, text, len) != (ssize_t)len || close(fd) != 0)
		die("cannot write '%s': %s", path, strerror(errno));
}

/*
 * The provider the sweep revokes at: the test provider, which keeps one
 * file per live token in state_dir and deletes it on revoke.
 */
static void
write_config(const struct paths *p)
{
	char *cfg;

	cfg = xasprintf(
	    "{\"providers\": {\"t\": {\"type\": \"test\", \"state_dir\": \"%s\",\n  \"scopes\": [\"read\", \"write\", \"admin\"], \"default_scopes\": [\"read\"],\n  \"max_ttl\": \"1h\", \"approval\": \"auto\"}}}\n",
	    p->prov);
	write_text(p->config, cfg);
	free(cfg);
}

static void
bind_opt(sqlite3_stmt *st, int i, int64_t v)
{
	if (v != 0)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static const char *const scope_sets[] = { "[\"read\"]", "[\"read\",\"write\"]",
	"[\"contents:read\",\"issues:write\"]", "[\"admin\",\"read\"]" };
static const char *const clients[] = { "cli", "claude-code", "cursor",
	"vscode" };

/*
 * A live token for an active lease, made the way the test provider makes
 * them: sealed in the ledger for revocation, fingerprinted, and one file
 * on "the provider's side" named by SHA-256 of the token.
 */
static void
make_token(struct store *s, const struct paths *p, const char *id,
    unsigned char **sealed, size_t *sealed_len, char fp[STORE_FP_HEX])
{
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[44], md[32];
	char tok[45], hex[65], *path;
	FILE *sf;
	size_t i;
	int rc;

	if ((rc = janee_random(r, sizeof(r))) != 0)
		die_janee(rc, "random");
	memcpy(tok, "tst_", 4);
	for (i = 4; i < 44; i++)
		tok[i] = alnum[r[i] % (sizeof(alnum) - 1)];
	tok[44] = '\0';
	if ((rc = store_seal(
		 s, "lease-token", id, tok, 44, sealed, sealed_len)) != 0 ||
	    (rc = store_fingerprint(s, tok, 44, fp)) != 0)
		die_janee(rc, "sealing a token");
	EVP_Digest(tok, 44, md, NULL, EVP_sha256(), NULL);
	janee_hex(md, sizeof(md), hex);
	path = xasprintf("%s/%s", p->prov, hex);
	if ((sf = fopen(path, "w")) == NULL)
		die("cannot write '%s': %s", path, strerror(errno));
	fprintf(sf, "%s\n", id);
	fclose(sf);
	free(path);
	janee_wipe(tok, sizeof(tok));
	janee_wipe(r, sizeof(r));
}

static const char insert_lease[] =
    "INSERT INTO leases (id, provider, account, client, session, reason, requested_scopes, granted_scopes, state, ttl_s, created_ms, approved_ms, issued_ms, expires_ms, ended_ms, fingerprint, "
    "sealed_token, revoke_attempts, next_attempt_ms, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, 0, ?18, ?19)";

/*
 * Fill the leases table.  Rows go in with one prepared INSERT rather than
 * through the broker (lease_insert plus four lease_save calls per lease
 * would only make the fill slower); the columns are those the broker
 * writes, so the CLI sees the rows it would have made.
 */
static void
fill_leases(struct ledger *lg, struct store *s, const struct paths *p,
    const struct plan *pl)
{
	sqlite3_stmt *st;
	unsigned char rnd[32], *sealed;
	size_t sealed_len;
	char id[JANEE_LEASE_ID_LEN], fp[STORE_FP_HEX], sess[20];
	const char *state, *scopes, *detail, *reason;
	int64_t i, step, created, approved, issued, expires, ended, next, ttl;
	int rc, x, has_fp;

	if ((rc = ledger_prepare(lg, insert_lease, &st)) != 0)
		die_janee(rc, "prepare");
	/* The ended leases span the year before t0, oldest first. */
	step = 365 * DAY_MS / (pl->ended > 0 ? pl->ended : 1);
	for (i = 0; i < pl->n; i++) {
		if (i % FILL_BATCH == 0 && (rc = ledger_begin(lg)) != 0)
			die_janee(rc, "begin");
		lease_id_for(i, id);
		scopes = scope_sets[rng_below(nitems(scope_sets))];
		snprintf(sess, sizeof(sess), "s%06lld", (long long)(i / 50));
		reason =
		    rng_below(4) == 0 ? "triage issues for the release" : NULL;
		ttl = 300 * (1 + rng_below(12));
		sealed = NULL;
		sealed_len = 0;
		detail = NULL;
		has_fp = 1;
		if (i < pl->ended) {
			created = pl->t0 - 365 * DAY_MS + i * step;
			approved = created + 1;
			issued = created + 150 + rng_below(300);
			expires = issued + ttl * 1000;
			x = (int)rng_below(100);
			if (x < 80) {
				state = "expired";
				ended = expires + rng_below(2000);
			} else if (x < 92) {
				state = "revoked";
				ended = issued + rng_below(ttl * 1000);
				detail = "revoked by the user";
			} else if (x < 96) {
				state = "denied";
				approved = issued = expires = 0;
				ended = created + 1;
				has_fp = 0;
				detail =
				    "scope admin is above the policy ceiling";
			} else if (x < 98) {
				state = "failed";
				issued = expires = 0;
				ended = created + 900;
				has_fp = 0;
				detail =
				    "test provider: mint failed, as configured";
			} else {
				state = "irrevocable";
				ended = expires + 8 * HOUR_MS;
				detail =
				    "test provider: revoke failed, \"timeout\"";
			}
			next = expires ? ended + BROKER_CLAIM_MS : 0;
			if (has_fp) {
				/* A fingerprint is 64 hex digits, like any. */
				if ((rc = janee_random(rnd, sizeof(rnd))) != 0)
					die_janee(rc, "random");
				janee_hex(rnd, sizeof(rnd), fp);
			}
		} else {
			int64_t k = i - pl->ended;

			/* Active: the small set, the large set, the rest. */
			state = "active";
			ended = 0;
			if (k < pl->small)
				expires = pl->t0 + DUE_SMALL_MS +
				    rng_below(DUE_SPREAD_MS);
			else if (k < pl->small + pl->large)
				expires = pl->t0 + DUE_LARGE_MS +
				    rng_below(DUE_SPREAD_MS);
			else
				expires =
				    pl->t0 + DUE_FUTURE_MS + rng_below(DAY_MS);
			issued = pl->t0 - rng_below(DUE_SPREAD_MS);
			created = issued - 200;
			approved = created + 1;
			ttl = (expires - issued) / 1000;
			next = expires;
			make_token(s, p, id, &sealed, &sealed_len, fp);
		}
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2,
		    i < pl->ended && i % 3 == 1 ? "github" : "t", -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(
		    st, 3, i % 3 == 1 ? "octo-org" : NULL, -1, SQLITE_STATIC);
		sqlite3_bind_text(
		    st, 4, clients[i % nitems(clients)], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, sess, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, reason, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, scopes, -1, SQLITE_STATIC);
		sqlite3_bind_text(
		    st, 8, issued ? scopes : NULL, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 9, state, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 10, ttl);
		sqlite3_bind_int64(st, 11, created);
		bind_opt(st, 12, approved);
		bind_opt(st, 13, issued);
		bind_opt(st, 14, expires);
		bind_opt(st, 15, ended);
		sqlite3_bind_text(
		    st, 16, has_fp ? fp : NULL, -1, SQLITE_STATIC);
		if (sealed != NULL)
			sqlite3_bind_blob(
			    st, 17, sealed, (int)sealed_len, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 17);
		bind_opt(st, 18, next);
		sqlite3_bind_text(st, 19, detail, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			die_janee(ledger_fail(lg, "insert lease"), "fill");
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		free(sealed);
		if ((i + 1) % FILL_BATCH == 0 || i + 1 == pl->n)
			if ((rc = ledger_commit(lg)) != 0)
				die_janee(rc, "commit");
	}
	sqlite3_finalize(st);
}

/* Who does what: agents ask, janee expires, people do the rest. */
static const char *
actor_for(const char *event)
{
	if (strcmp(event, "requested") == 0)
		return "agent";
	if (strcmp(event, "expired") == 0)
		return "janee";
	return "user";
}

/*
 * Fill the audit chain to `total` rows with janee's own appender (what
 * audit_append uses for each event), so that the chain, its head, its
 * keyed checkpoint and the lease snapshots are what janee itself would
 * have written.  One appender per transaction: the INSERT stays prepared
 * and the head is written once per batch, not read and written for every
 * row as audit_append does.
 *
 * `audit verify` compares every lease with its last event and counts one
 * "requested" event per lease, as the broker writes them: the first
 * rows request each lease once, the rest cycle through the other events
 * (a request there becomes an approval).
 */
static void
fill_audit(struct ledger *lg, const struct plan *pl, int64_t total)
{
	static const char *const events[] = { "requested", "approved", "issued",
		"expired", "requested", "approved", "issued", "revoked",
		"requested", "denied", "revoke_failed", "export" };
	struct audit_appender a;
	struct audit_event ev;
	char id[JANEE_LEASE_ID_LEN];
	int64_t have, i, n, step;
	int rc, x;

	if ((rc = ledger_count(lg, "SELECT count(*) FROM audit", &have)) != 0)
		die_janee(rc, "count");
	n = total - have;
	if (n < pl->n)
		die("%lld audit rows cannot record %lld leases: ask for at "
		    "least as many rows as leases",
		    (long long)total, (long long)pl->n);
	step = n > 0 ? 365 * DAY_MS / n : 1;
	for (i = 0; i < n; i++) {
		if (i % FILL_BATCH == 0 &&
		    ((rc = ledger_begin(lg)) != 0 ||
			(rc = audit_appender_init(lg, &a)) != 0))
			die_janee(rc, "begin");
		memset(&ev, 0, sizeof(ev));
		ev.ts_ms = pl->t0 - 365 * DAY_MS + i * step;
		ev.event = i < pl->n ? "requested" : events[i % nitems(events)];
		if (i >= pl->n && strcmp(ev.event, "requested") == 0)
			ev.event = "approved";
		ev.outcome = "ok";
		if (i >= pl->n && strcmp(ev.event, "export") == 0) {
			ev.actor = "user";
			ev.detail = "format=csv rows=1200 to=audit.csv";
		} else {
			lease_id_for(
			    i < pl->n ? i : (i - pl->n) / 4 % pl->n, id);
			ev.actor = actor_for(ev.event);
			ev.client = clients[i % nitems(clients)];
			ev.provider = "t";
			ev.lease_id = id;
			ev.scopes = scope_sets[i / 4 % nitems(scope_sets)];
			x = (int)(i % 10);
			if (strcmp(ev.event, "denied") == 0) {
				ev.outcome = "denied";
				ev.detail =
				    "scope admin is above the policy ceiling [read, write]";
			} else if (strcmp(ev.event, "revoke_failed") == 0) {
				ev.outcome = "error";
				ev.detail =
				    "test provider: revoke failed, \"timeout\"; retry in 30s";
			} else if (x == 0)
				ev.detail = "triage issues for the release";
		}
		if ((rc = audit_appender_add(&a, &ev)) != 0)
			die_janee(rc, "audit_appender_add");
		if ((i + 1) % FILL_BATCH == 0 || i + 1 == n) {
			if ((rc = audit_appender_finish(&a)) != 0 ||
			    (rc = ledger_commit(lg)) != 0)
				die_janee(rc, "commit");
			audit_appender_free(&a);
		}
	}
}

static void
fill(const struct opts *o, const struct paths *p, const struct plan *pl)
{
	struct keysrc ks = { -1, -1, 0 };
	struct ledger *lg;
	struct store *s;
	struct home h;
	int rc;

	if ((rc = home_resolve(p->home, &h)) != 0 ||
	    (rc = ledger_open(h.db, 0, &lg)) != 0 ||
	    (rc = store_unlock(lg, &h, &ks, &s)) != 0)
		die_janee(rc, "opening the new home");
	/*
	 * A large page cache for this connection only: the fill inserts in
	 * random key order into the id and fingerprint indexes.  The CLI
	 * runs measured later keep janee's own small cache.
	 */
	if ((rc = ledger_exec(lg, "PRAGMA cache_size = -262144")) != 0)
		die_janee(rc, "pragma");
	fill_leases(lg, s, p, pl);
	fill_audit(lg, pl, o->audit);
	store_free(s);
	ledger_close(lg); /* the last close checkpoints the WAL */
	home_free(&h);
}

/*
 * Fill in a child process.  The kernel carries a process's peak RSS over
 * fork and exec into ru_maxrss, so the measured commands must be forked
 * from a small parent: the fill, with its large page cache, must never
 * grow this one.
 */
static void
fill_apart(const struct opts *o, const struct paths *p, const struct plan *pl)
{
	pid_t pid;
	int st;

	fflush(NULL);
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		fill(o, p, pl);
		fflush(NULL);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("the fill failed");
}

static int64_t
count_files(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int64_t n = 0;

	if ((d = opendir(dir)) == NULL)
		die("cannot read '%s': %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' &&
		    strcmp(de->d_name, "calls.log") != 0)
			n++;
	closedir(d);
	return n;
}

/* Lines of /proc files like "model name\t: AMD EPYC". */
static char *
proc_value(const char *file, const char *key)
{
	char line[512], *v;
	size_t klen = strlen(key);
	FILE *fp;

	if ((fp = fopen(file, "r")) == NULL)
		return xasprintf("unknown");
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, key, klen) == 0 &&
		    (v = strchr(line, ':')) != NULL) {
			fclose(fp);
			v += strspn(v + 1, " \t") + 1;
			v[strcspn(v, "\n")] = '\0';
			return xasprintf("%s", v);
		}
	fclose(fp);
	return xasprintf("unknown");
}

static const char *
fs_name(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf) != 0)
		return "unknown";
	switch ((unsigned long)sf.f_type) {
	case 0xef53:
		return "ext4";
	case 0x01021994:
		return "tmpfs";
	case 0x58465342:
		return "xfs";
	case 0x9123683e:
		return "btrfs";
	case 0x794c7630:
		return "overlayfs";
	}
	return "other";
}

/*
 * Other work on the machine skews the figures: print the load average
 * at the start and the end, so that a noisy run shows itself.
 */
static void
print_load(const char *when)
{
	char line[128] = "unknown";
	FILE *fp;

	if ((fp = fopen("/proc/loadavg", "r")) != NULL) {
		if (fgets(line, sizeof(line), fp) == NULL)
			snprintf(line, sizeof(line), "unknown");
		fclose(fp);
	}
	line[strcspn(line, "\n")] = '\0';
	printf("load:    %s at the %s (1, 5, 15 min; runnable/all; last pid)\n",
	    line, when);
}

static void
print_machine(const struct paths *p)
{
	struct utsname u;
	char *cpu = proc_value("/proc/cpuinfo", "model name");
	char *mem = proc_value("/proc/meminfo", "MemTotal");

	uname(&u);
	printf("machine: %ld CPUs online, %s, MemTotal %s\n",
	    sysconf(_SC_NPROCESSORS_ONLN), cpu, mem);
	printf("system:  %s %s %s; SQLite %s; %s\n", u.sysname, u.release,
	    u.machine, sqlite3_libversion(), OpenSSL_version(OPENSSL_VERSION));
	printf("ledger:  %s (%s)\n", p->db, fs_name(p->work));
	print_load("start");
	free(cpu);
	free(mem);
}

static void
print_table(void)
{
	const struct result *r;
	char rate[32], target[32];
	const char *verdict;
	size_t i;

	printf("\n%-28s %9s %8s %7s %10s %8s  %-16s %s\n", "operation", "rows",
	    "wall s", "cpu s", "rows/s", "RSS MiB", "target", "met");
	for (i = 0; i < nresults; i++) {
		r = &results[i];
		if (r->rows > 0 && r->r.wall_s > 0)
			snprintf(rate, sizeof(rate), "%.0f",
			    (double)r->rows / r->r.wall_s);
		else
			snprintf(rate, sizeof(rate), "-");
		if (r->target_rps > 0)
			snprintf(target, sizeof(target), ">= %.0fk rows/s",
			    r->target_rps / 1000);
		else
			snprintf(target, sizeof(target), "RSS < 20 MiB");
		if (r->r.maxrss_kb >= TARGET_RSS_KB)
			verdict = "NO (RSS)";
		else if (r->target_rps > 0 &&
		    (double)r->rows / r->r.wall_s < r->target_rps)
			verdict = "NO (rate)";
		else
			verdict = "yes";
		printf("%-28s %9lld %8.3f %7.3f %10s %8.1f  %-16s %s\n",
		    r->what, (long long)r->rows, r->r.wall_s, r->r.cpu_s, rate,
		    (double)r->r.maxrss_kb / 1024, target, verdict);
	}
}

#define MAX_RUNS 16

/* The process alone: exec, dynamic linking, no ledger. */
static void
measure_version(const struct opts *o, const struct paths *p)
{
	const char *argv[] = { "janee-test", "version", NULL };
	struct run runs[MAX_RUNS];
	int i;

	for (i = 0; i < o->repeat; i++) {
		run_cli(o, p, 0, &runs[i], argv);
		run_ok(&runs[i], p, "version");
	}
	add_result("janee version (baseline)", 0, runs, o->repeat, 0);
}

/* Also the check that the fill made a valid chain of the right length. */
static void
measure_verify(const struct opts *o, const struct paths *p)
{
	const char *argv[] = { "janee-test", "--home", p->home, "audit",
		"verify", NULL };
	struct run runs[MAX_RUNS];
	long long rows = -1;
	char *line;
	int i;

	for (i = 0; i < o->repeat; i++) {
		run_cli(o, p, 0, &runs[i], argv);
		run_ok(&runs[i], p, "audit verify");
		line = first_line(p->out);
		if (sscanf(line, "audit chain ok: %lld events", &rows) != 1 ||
		    rows != o->audit)
			die("audit verify said '%s'", line);
		free(line);
	}
	add_result("audit verify", rows, runs, o->repeat, TARGET_VERIFY_RPS);
}

static void
measure_export(const struct opts *o, const struct paths *p)
{
	const char *argv[] = { "janee-test", "--home", p->home, "audit",
		"export", "--format", "csv", "-o", p->csv, NULL };
	struct run runs[MAX_RUNS];
	struct stat st;
	long long rows = -1, first = -1;
	char *line, *at;
	int i;

	for (i = 0; i < o->repeat; i++) {
		run_cli(o, p, 0, &runs[i], argv);
		run_ok(&runs[i], p, "audit export");
		line = first_line(p->err);
		if ((at = strstr(line, "exported ")) == NULL ||
		    sscanf(at, "exported %lld", &rows) != 1 || rows < o->audit)
			die("audit export said '%s'", line);
		free(line);
		if (first < 0)
			first = rows;
	}
	if (stat(p->csv, &st) != 0)
		die("stat '%s': %s", p->csv, strerror(errno));
	printf("export:  %lld rows, %.0f MiB of CSV\n", rows,
	    (double)st.st_size / (1024 * 1024));
	/* Each export adds its own audit row: count the first run's rows. */
	add_result("audit export --format csv", first, runs, o->repeat,
	    TARGET_EXPORT_RPS);
}

/* Seconds to add to the CLI's clock so that it reads t0 + at_ms. */
static int64_t
offset_to(const struct plan *pl, int64_t at_ms)
{
	int64_t now = janee_now_ms();

	if (now >= pl->t0 + DUE_SMALL_MS - 5 * MIN_MS)
		die("the run took too long: the overdue sets are due already");
	return (pl->t0 + at_ms - now) / 1000 + 1;
}

/*
 * One sweep, as if run at t0 + at_ms (0: now).  It must expire exactly
 * `expect` leases, every one revoked at the provider.
 */
static void
measure_sweep(const struct opts *o, const struct paths *p,
    const struct plan *pl, const char *what, int64_t at_ms, int64_t expect)
{
	const char *argv[] = { "janee-test", "--home", p->home, "lease",
		"sweep", NULL };
	struct run r;
	long long ex = -1, re = -1, ir = -1;
	int64_t live;
	char *line;

	live = count_files(p->prov);
	run_cli(o, p, at_ms ? offset_to(pl, at_ms) : 0, &r, argv);
	run_ok(&r, p, "lease sweep");
	line = first_line(p->out);
	if (sscanf(line, "expired %lld, retrying %lld, irrevocable %lld", &ex,
		&re, &ir) != 3 ||
	    ex != expect || re != 0 || ir != 0)
		die("lease sweep said '%s'; expected %lld expired", line,
		    (long long)expect);
	free(line);
	if (count_files(p->prov) != live - expect)
		die("%lld tokens still live at the provider after the sweep; expected %lld",
		    (long long)count_files(p->prov),
		    (long long)(live - expect));
	add_result(what, expect, &r, 1, 0);
}

/* What is left after the sweeps: the not-yet-due leases, a valid chain. */
static void
check_after(const struct opts *o, const struct paths *p, const struct plan *pl)
{
	const char *argv[] = { "janee-test", "--home", p->home, "audit",
		"verify", NULL };
	struct run r;

	if (count_files(p->prov) != pl->future)
		die("%lld tokens live at the provider; expected %lld",
		    (long long)count_files(p->prov), (long long)pl->future);
	run_cli(o, p, 0, &r, argv);
	run_ok(&r, p, "audit verify after the sweeps");
}

static void
print_summary(const struct opts *o)
{
	const struct result *z, *a, *b;
	double ta, tb;
	struct rusage self;

	/* The last three results: no, 0.1% and 1% overdue. */
	z = &results[nresults - 3];
	a = &results[nresults - 2];
	b = &results[nresults - 1];
	ta = a->r.wall_s - z->r.wall_s;
	tb = b->r.wall_s - z->r.wall_s;
	printf(
	    "\nsweep: %lld vs %lld overdue leases took %.2fx the time (%.2fx net of the empty sweep); %.3f ms per lease at 1%%\n",
	    (long long)b->rows, (long long)a->rows, b->r.wall_s / a->r.wall_s,
	    ta > 0 ? tb / ta : 0.0,
	    b->rows > 0 ? tb * 1000 / (double)b->rows : 0.0);
	printf(
	    "times: median of %d runs for version, verify and export; one run per sweep\n",
	    o->repeat);
	/* The floor under every RSS figure: see fill_apart. */
	if (getrusage(RUSAGE_SELF, &self) == 0)
		printf(
		    "RSS: peak of each child (wait4 ru_maxrss; the highest of its runs), which counts this parent's %.1f MiB at fork\n",
		    (double)self.ru_maxrss / 1024);
}

static void
setup_paths(const struct opts *o, struct paths *p)
{
	const char *tmp;
	char *tmpl;

	memset(p, 0, sizeof(*p));
	if (o->dir != NULL) {
		if (mkdir(o->dir, 0700) != 0 && errno != EEXIST)
			die("cannot create '%s': %s", o->dir, strerror(errno));
		p->work = xasprintf("%s", o->dir);
	} else {
		if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
			tmp = "/tmp";
		tmpl = xasprintf("%s/janee-bench.XXXXXX", tmp);
		if (mkdtemp(tmpl) == NULL)
			die("mkdtemp '%s': %s", tmpl, strerror(errno));
		p->work = tmpl;
		p->made_work = 1;
	}
	p->home = xasprintf("%s/home", p->work);
	p->db = xasprintf("%s/janee.db", p->home);
	p->config = xasprintf("%s/config.json", p->home);
	p->prov = xasprintf("%s/prov", p->work);
	p->csv = xasprintf("%s/audit.csv", p->work);
	p->out = xasprintf("%s/stdout.txt", p->work);
	p->err = xasprintf("%s/stderr.txt", p->work);
	if (access(p->home, F_OK) == 0)
		die("'%s' exists; give an empty or new directory with -d",
		    p->home);
	if (mkdir(p->prov, 0700) != 0)
		die("cannot create '%s': %s", p->prov, strerror(errno));
}

static void
cleanup(const struct opts *o, const struct paths *p)
{
	const char *argv[] = { "rm", "-rf", p->work, NULL };
	pid_t pid;
	int st;

	if (o->keep || !p->made_work) {
		printf("\nkept %s\n", p->work);
		return;
	}
	/* The home holds a ledger of gigabytes: let rm(1) take it away. */
	if ((pid = fork()) == 0) {
		execv("/bin/rm", (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ledger-bench [-k] [-n leases] [-a audit_rows] [-r repeat]\n"
	    "                    [-j janee-test] [-d workdir]\n"
	    "  -n N   leases in the ledger (default 1000000)\n"
	    "  -a N   audit rows in the chain, init's included (default 10000000)\n"
	    "  -r N   runs of verify and export; the median is shown (default 3)\n"
	    "  -j P   the test build of the CLI (default tests/janee-test)\n"
	    "  -d D   work directory (default: a new one under $TMPDIR)\n"
	    "  -k     keep the work directory\n");
	exit(2);
}

static int64_t
num_arg(const char *s, int64_t min, int64_t max)
{
	int64_t v;

	if (janee_parse_int(s, min, max, &v) != 0)
		usage();
	return v;
}

int
main(int argc, char **argv)
{
	const char *argv_init[] = { "janee-test", "--home", NULL, "init",
		"--key-backend", "keyfile", NULL };
	struct opts o = { 1000000, 10000000, 3, "tests/janee-test", NULL, 0 };
	struct paths p;
	struct plan pl;
	struct run r;
	struct stat st;
	double t;
	int ch;

	while ((ch = getopt(argc, argv, "a:d:j:kn:r:")) != -1) {
		switch (ch) {
		case 'a':
			o.audit = num_arg(optarg, 1, INT64_MAX / 2);
			break;
		case 'd':
			o.dir = optarg;
			break;
		case 'j':
			o.janee = optarg;
			break;
		case 'k':
			o.keep = 1;
			break;
		case 'n':
			o.leases = num_arg(optarg, 1000, INT64_MAX / 2);
			break;
		case 'r':
			o.repeat = (int)num_arg(optarg, 1, MAX_RUNS);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (access(o.janee, X_OK) != 0)
		die("no '%s': build it first (make tests/janee-test) or give its path with -j",
		    o.janee);
	umask(077);
	setup_paths(&o, &p);
	print_machine(&p);

	memset(&pl, 0, sizeof(pl));
	pl.n = o.leases;
	pl.small = o.leases / 1000; /* 0.1% */
	pl.large = o.leases / 100; /* 1% */
	pl.future = o.leases / 100; /* active, not yet due */
	pl.ended = pl.n - pl.small - pl.large - pl.future;

	argv_init[2] = p.home;
	run_cli(&o, &p, 0, &r, argv_init);
	run_ok(&r, &p, "init");
	write_config(&p);
	pl.t0 = janee_now_ms();
	t = mono_s();
	fill_apart(&o, &p, &pl);
	/* Write the fill out now, not during the measured runs. */
	sync();
	t = mono_s() - t;
	if (stat(p.db, &st) != 0)
		die("stat '%s': %s", p.db, strerror(errno));
	printf(
	    "fill:    %lld leases (%lld ended; active: %lld due at +1h, %lld at +2h, %lld in 30 days), %lld audit rows: %.1f s, janee.db %.0f MiB\n",
	    (long long)pl.n, (long long)pl.ended, (long long)pl.small,
	    (long long)pl.large, (long long)pl.future, (long long)o.audit, t,
	    (double)st.st_size / (1024 * 1024));

	measure_version(&o, &p);
	measure_verify(&o, &p);
	measure_export(&o, &p);
	measure_sweep(&o, &p, &pl, "lease sweep, none overdue", 0, 0);
	measure_sweep(&o, &p, &pl, "lease sweep, 0.1% overdue",
	    DUE_SMALL_MS + DUE_SPREAD_MS + 5 * MIN_MS, pl.small);
	measure_sweep(&o, &p, &pl, "lease sweep, 1% overdue",
	    DUE_LARGE_MS + DUE_SPREAD_MS + 5 * MIN_MS, pl.large);
	check_after(&o, &p, &pl);

	print_load("end");
	print_table();
	print_summary(&o);
	cleanup(&o, &p);
	return 0;
}
