/*
 * Output capture for the suite-wide leak sweep (tests/leak-sweep.py),
 * linked into tests/janee-test only, never into janee.
 *
 * When JANEE_TEST_CAPTURE_DIR is set, a constructor (before main) puts a
 * pipe in place of fd 1 and of fd 2 and forks a copier that passes every
 * byte on to the original descriptor and also appends it to a file in
 * the capture directory:
 *
 *   CMD.PID.argv     the command line (NUL-separated, from /proc)
 *   CMD.PID.out      what janee wrote on stdout
 *   CMD.PID.err      ... on stderr
 *   CMD.PID.outerr   both, when they are one file (2>&1): one pipe keeps
 *                    their order
 *   CMD.PID.paths    "home DIR" for the janee home, "file PATH" for each
 *                    file janee wrote (through janee_file_hook)
 *   CMD.PID.fileN    a copy of that file, taken when it was written
 *   CMD.PID.wal      the ledger's WAL as janee left it, when one is left
 *
 * Why in the binary and not a wrapper (like tests/vg-janee.sh): the
 * process the tests start, signal, wait for and find in /proc stays
 * janee itself, with its own pid, exit status and signals; the node MCP
 * clients, the background servers and `$JANEE ... &` all get it without
 * a change.
 *
 * What tests see does not change:
 * - A descriptor that is a terminal is left alone (janee asks isatty()),
 *   so output to a terminal (the script(1) tests) is not captured.
 * - At exit (atexit, the crash hook, or a SIGTERM/SIGINT/SIGHUP that
 *   would have ended janee) the original descriptors are put back and
 *   janee waits until the copier has passed on everything already
 *   written: `janee ... >file; cat file` sees all of it.  A signal that
 *   ends janee is raised again, so the exit status is the same.
 * - A forked child (the command of `janee exec`) gets the original
 *   descriptors back (pthread_atfork): its output is not janee's, it
 *   goes straight through, and a child that outlives janee holds no
 *   pipe of the copier.
 * - The copier ends when janee does: janee holds the write end of a
 *   control pipe; when it closes (exit, or kill -9), the copier takes
 *   what is left in the pipes and exits.
 * - A write error on the original descriptor (a reader that went away)
 *   closes the pipe, so janee sees EPIPE as it would have.
 */
/* The test hooks of src/util.h (linked from libjanee_testhooks.a). */
#define JANEE_TEST_HOOKS 1
#include "common.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "util.h"

struct stream {
	const char *suffix; /* "out", "err", "outerr" */
	int rd, wr; /* the pipe */
	int orig; /* the original descriptor (a dup) */
	int cap; /* the capture file */
};

static struct stream streams[2];
static int nstreams;
static int saved[3] = { -1, -1, -1 }; /* dups of the original fd 1, 2 */
static int ctl_wr = -1;
static pid_t copier = -1;
static char base[PATH_MAX];
static int nfiles;
static char home[PATH_MAX];

/* Write all of it; -1 when the descriptor refuses (the reader left). */
static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;
	struct pollfd pfd;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				pfd.fd = fd;
				pfd.events = POLLOUT;
				poll(&pfd, 1, -1);
				continue;
			}
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy one read's worth; 0 when the pipe is at its end (or closed). */
static int
copy_some(struct stream *s)
{
	static char buf[65536];
	ssize_t n;

	if (s->rd < 0)
		return 0;
	while ((n = read(s->rd, buf, sizeof(buf))) < 0 && errno == EINTR)
		;
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return 0;
		close(s->rd);
		s->rd = -1;
		return 0;
	}
	(void)write_all(s->cap, buf, (size_t)n);
	if (s->orig >= 0 && write_all(s->orig, buf, (size_t)n) != 0) {
		/* The reader went away: janee's next write fails too. */
		close(s->orig);
		s->orig = -1;
		close(s->rd);
		s->rd = -1;
		return 0;
	}
	return 1;
}

static void
copier_main(int ctl_rd)
{
	struct pollfd pfd[3];
	struct rlimit rl = { 0, 0 };
	int i, n, keep, fd;

	/* What passes through here can be a token: no core file. */
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* Hold nothing of janee's or of the test's but our own. */
	for (fd = 0; fd < 1024; fd++) {
		keep = fd == ctl_rd;
		for (i = 0; i < nstreams; i++)
			keep |= fd == streams[i].rd || fd == streams[i].orig ||
			    fd == streams[i].cap;
		if (!keep)
			close(fd);
	}
	for (;;) {
		for (i = 0; i < nstreams; i++) {
			pfd[i].fd = streams[i].rd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		pfd[nstreams].fd = ctl_rd;
		pfd[nstreams].events = POLLIN;
		pfd[nstreams].revents = 0;
		if ((n = poll(pfd, (nfds_t)nstreams + 1, -1)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < nstreams; i++)
			if (pfd[i].revents != 0)
				copy_some(&streams[i]);
		if (pfd[nstreams].revents != 0)
			break;
	}
	/*
	 * janee has ended or has put the original descriptors back: what it
	 * wrote is in the pipes now.  Take it without waiting for writers
	 * that may still hold a pipe (a process janee started without fork).
	 */
	for (i = 0; i < nstreams; i++) {
		if (streams[i].rd < 0)
			continue;
		fcntl(streams[i].rd, F_SETFL,
		    fcntl(streams[i].rd, F_GETFL) | O_NONBLOCK);
		while (copy_some(&streams[i]))
			;
	}
	_exit(0);
}

static void
copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in, out;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >=
	    0) {
		while ((n = read(in, buf, sizeof(buf))) > 0)
			(void)write_all(out, buf, (size_t)n);
		close(out);
	}
	close(in);
}

/* Put the original descriptors back (async-signal-safe). */
static void
restore_fds(void)
{
	if (saved[1] >= 0)
		dup2(saved[1], 1);
	if (saved[2] >= 0)
		dup2(saved[2], 2);
}

/* The copier is done with everything written so far once this returns. */
static void
finish(void)
{
	int st;

	if (copier <= 0)
		return;
	restore_fds();
	close(ctl_wr);
	ctl_wr = -1;
	while (waitpid(copier, &st, 0) < 0 && errno == EINTR)
		;
	copier = -1;
}

static void
finish_at_exit(void)
{
	char p[PATH_MAX + 16], to[PATH_MAX + 16];
	struct stat st;

	fflush(stdout);
	fflush(stderr);
	finish();
	/*
	 * The ledger's WAL is gone once the last connection closes; one that
	 * is left (another janee has the ledger open) is kept as it is now.
	 */
	if (home[0] != '\0') {
		snprintf(p, sizeof(p), "%s/janee.db-wal", home);
		snprintf(to, sizeof(to), "%s.wal", base);
		if (stat(p, &st) == 0 && st.st_size > 0)
			copy_file(p, to);
	}
}

static void
in_child(void)
{
	/* Not the copier's writer any more, and not its parent. */
	restore_fds();
	if (ctl_wr >= 0)
		close(ctl_wr);
	ctl_wr = -1;
	copier = -1;
}

static void
on_fatal_signal(int sig)
{
	int e = errno;

	finish();
	signal(sig, SIG_DFL);
	raise(sig);
	errno = e;
}

static void
on_file(const char *path, int is_home)
{
	char p[PATH_MAX + 16], *real;
	FILE *fp;

	real = realpath(path, NULL);
	snprintf(p, sizeof(p), "%s.paths", base);
	if ((fp = fopen(p, "ae")) != NULL) {
		fprintf(fp, "%s\t%s\n", is_home ? "home" : "file",
		    real ? real : path);
		fclose(fp);
	}
	if (is_home)
		snprintf(home, sizeof(home), "%s", real ? real : path);
	free(real);
	if (is_home)
		return;
	snprintf(p, sizeof(p), "%s.file%d", base, nfiles++);
	copy_file(path, p);
}

static void
on_secret(const char *kind, const void *value, size_t len)
{
	char k[64];

	snprintf(k, sizeof(k), "%s%s",
	    strcmp(kind, "passphrase") == 0 ? "" : "sealed-", kind);
	janee_test_leak_record(k, value, len);
}

/* The command words (not options, not their values) for the file name. */
static void
command_name(const char *args, size_t len, char *name, size_t size)
{
	const char *a = args, *end = args + len;
	size_t o = 0;
	int words = 0, skip = 0;

	a += strlen(a) + 1; /* argv[0] */
	for (; a < end && words < 2; a += strlen(a) + 1) {
		if (skip) {
			skip = 0;
			continue;
		}
		if (a[0] == '-') {
			/* janee's global options with a separate value */
			if (words == 0 &&
			    (strcmp(a, "--home") == 0 ||
				strcmp(a, "--passphrase-fd") == 0))
				skip = 1;
			if (words > 0)
				break;
			continue;
		}
		if (words++ > 0 && o + 1 < size)
			name[o++] = '-';
		for (; *a != '\0' && o + 1 < size && o < 40; a++)
			name[o++] = (isalnum((unsigned char)*a) || *a == '_')
			    ? *a
			    : '_';
	}
	if (o == 0 && size > 4) {
		memcpy(name, "none", 4);
		o = 4;
	}
	name[o] = '\0';
}

__attribute__((constructor)) static void
capture_start(void)
{
	static char args[16384];
	const char *dir = getenv("JANEE_TEST_CAPTURE_DIR");
	struct stat st[3];
	struct sigaction sa, old;
	char name[64], p[PATH_MAX + 16];
	int ok[3], ctl[2], pp[2], fd, i, try;
	ssize_t n;
	size_t len = 0;

	if (getenv("JANEE_LEAK_SECRETS_FILE") != NULL)
		janee_secret_hook = on_secret;
	if (dir == NULL || *dir == '\0')
		return;
	if ((fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC)) < 0)
		return;
	while (len < sizeof(args) - 1 &&
	    (n = read(fd, args + len, sizeof(args) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	args[len] = '\0';
	command_name(args, len, name, sizeof(name));
	for (try = 0, fd = -1; try < 100 && fd < 0; try++) {
		if (try == 0)
			snprintf(base, sizeof(base), "%s/%s.%ld", dir, name,
			    (long)getpid());
		else
			snprintf(base, sizeof(base), "%s/%s.%ld.%d", dir, name,
			    (long)getpid(), try);
		snprintf(p, sizeof(p), "%s.argv", base);
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return;
	}
	if (fd < 0)
		return;
	(void)write_all(fd, args, len);
	close(fd);
	janee_file_hook = on_file;

	for (i = 1; i <= 2; i++)
		ok[i] = fstat(i, &st[i]) == 0 && !isatty(i);
	nstreams = 0;
	if (ok[1] && ok[2] && st[1].st_dev == st[2].st_dev &&
	    st[1].st_ino == st[2].st_ino &&
	    !(S_ISCHR(st[1].st_mode) && st[1].st_rdev == makedev(1, 3))) {
		/* 2>&1 into one file (not /dev/null): one pipe, one order */
		streams[nstreams++].suffix = "outerr";
	} else {
		if (ok[1])
			streams[nstreams++].suffix = "out";
		if (ok[2])
			streams[nstreams++].suffix = "err";
	}
	if (nstreams == 0)
		return;
	for (i = 0; i < nstreams; i++)
		streams[i].rd = streams[i].wr = streams[i].orig =
		    streams[i].cap = -1;
	for (i = 0; i < 2; i++)
		if (ok[i + 1])
			saved[i + 1] = fcntl(i + 1, F_DUPFD_CLOEXEC, 10);
	for (i = 0; i < nstreams; i++) {
		struct stream *s = &streams[i];
		int target = strcmp(s->suffix, "err") == 0 ? 2 : 1;

		snprintf(p, sizeof(p), "%s.%s", base, s->suffix);
		s->cap =
		    open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		s->orig = saved[target];
		if (s->cap < 0 || s->orig < 0 || pipe2(pp, O_CLOEXEC) != 0)
			goto undo;
		s->rd = pp[0];
		s->wr = pp[1];
	}
	if (pipe2(ctl, O_CLOEXEC) != 0)
		goto undo;
	if ((copier = fork()) < 0) {
		close(ctl[0]);
		close(ctl[1]);
		goto undo;
	}
	if (copier == 0) {
		close(ctl[1]);
		copier_main(ctl[0]);
	}
	close(ctl[0]);
	ctl_wr = ctl[1];
	for (i = 0; i < nstreams; i++) {
		struct stream *s = &streams[i];

		if (strcmp(s->suffix, "err") != 0)
			dup2(s->wr, 1);
		if (strcmp(s->suffix, "out") != 0)
			dup2(s->wr, 2);
		close(s->wr);
		close(s->rd);
		close(s->cap);
	}
	atexit(finish_at_exit);
	pthread_atfork(NULL, NULL, in_child);
	janee_test_capture_end = finish;
	/* A signal that would end janee first lets the copier finish. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 3; i++) {
		static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };

		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_DFL)
			sigaction(sigs[i], &sa, NULL);
	}
	return;
undo:
	for (i = 0; i < nstreams; i++) {
		if (streams[i].cap >= 0)
			close(streams[i].cap);
		if (streams[i].rd >= 0)
			close(streams[i].rd);
		if (streams[i].wr >= 0)
			close(streams[i].wr);
	}
	for (i = 1; i <= 2; i++)
		if (saved[i] >= 0)
			close(saved[i]);
	saved[1] = saved[2] = -1;
	nstreams = 0;
	copier = -1;
}
