/*
 * Unit tests: helper programs janee starts (src/subprocess.c) get an
 * environment from an allow-list, none of janee's descriptors above 2 and
 * default signals; and only printable https addresses (or http to
 * loopback) are shown or opened.
 */
#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "subprocess.h"

#include "t.h"

static char *
slurp(const char *path)
{
	static char buf[8192];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (fp == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
env_allow_list(void)
{
	T_EQ_INT(janee_spawn_env_allowed("PATH=/usr/bin"), 1);
	T_EQ_INT(janee_spawn_env_allowed("HOME=/home/a"), 1);
	T_EQ_INT(janee_spawn_env_allowed("DISPLAY=:0"), 1);
	T_EQ_INT(janee_spawn_env_allowed("WAYLAND_DISPLAY=wayland-0"), 1);
	T_EQ_INT(janee_spawn_env_allowed("DBUS_SESSION_BUS_ADDRESS=unix:x"), 1);
	T_EQ_INT(janee_spawn_env_allowed("XDG_RUNTIME_DIR=/run/user/1"), 1);
	T_EQ_INT(janee_spawn_env_allowed("LC_ALL=C.UTF-8"), 1);
	T_EQ_INT(janee_spawn_env_allowed("LANG=C.UTF-8"), 1);
	T_EQ_INT(janee_spawn_env_allowed("BROWSER=firefox"), 1);
	T_EQ_INT(janee_spawn_env_allowed("JANEE_PASSPHRASE=x"), 0);
	T_EQ_INT(janee_spawn_env_allowed("JANEE_NEW_PASSPHRASE=x"), 0);
	T_EQ_INT(janee_spawn_env_allowed("JANEE_HOME=/x"), 0);
	T_EQ_INT(janee_spawn_env_allowed("VAULT_TOKEN=s.x"), 0);
	T_EQ_INT(janee_spawn_env_allowed("GITHUB_TOKEN=ghp_x"), 0);
	T_EQ_INT(janee_spawn_env_allowed("AWS_SECRET_ACCESS_KEY=x"), 0);
	T_EQ_INT(janee_spawn_env_allowed("LD_PRELOAD=/tmp/x.so"), 0);
	T_EQ_INT(janee_spawn_env_allowed("PATHX=1"), 0);
	T_EQ_INT(janee_spawn_env_allowed("LC_=1"), 0);
	T_EQ_INT(janee_spawn_env_allowed("PATH"), 1);
}

/*
 * Issue 12, finding 3: janee login handed xdg-open its whole environment
 * and every descriptor.  The helper here writes down what it got.
 */
static void
helper_gets_allow_listed_env_and_only_fds_0_1_2(void)
{
	char *dir = t_tmpdir(), cmd[2048], envf[512], fdf[512], sigf[512];
	const char *argv[] = { "sh", "-c", cmd, NULL };
	struct janee_strlist deny;
	sigset_t block, old;
	const char *s;
	pid_t pid = 0;
	int fd, st = 0;

	memset(&deny, 0, sizeof(deny));
	T_EQ_INT(janee_strlist_add(&deny, "DISPLAY"), 0);
	snprintf(envf, sizeof(envf), "%s/env", dir);
	snprintf(fdf, sizeof(fdf), "%s/fds", dir);
	snprintf(sigf, sizeof(sigf), "%s/sig", dir);
	snprintf(cmd, sizeof(cmd),
	    "env >'%s'; grep -E '^Sig(Blk|Ign)' /proc/$$/status >'%s'; exec ls /proc/self/fd >'%s'",
	    envf, sigf, fdf);
	setenv("JANEE_PASSPHRASE", "not for the helper", 1);
	setenv("DISPLAY", ":7", 1);
	setenv("LC_TIME", "C", 1);
	setenv("SOME_API_KEY", "not for the helper either", 1);
	/* A descriptor janee holds without close-on-exec, one with it. */
	fd = open("/dev/null", O_RDONLY);
	T_ASSERT(fd > 2);
	T_ASSERT(open("/dev/null", O_RDONLY | O_CLOEXEC) > 2);
	/* Blocked and ignored in janee; default in the helper. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	T_EQ_INT(janee_spawn(argv, 0, &deny, &pid), 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	T_ASSERT(pid > 0 && waitpid(pid, &st, 0) == pid);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if ((s = slurp(envf)) == NULL)
		s = "";
	T_ASSERT(strstr(s, "JANEE_") == NULL);
	T_ASSERT(strstr(s, "not for the helper") == NULL);
	T_ASSERT(strstr(s, "DISPLAY=") == NULL); /* denied */
	T_ASSERT(strstr(s, "LC_TIME=C\n") != NULL);
	T_ASSERT(strstr(s, "PATH=") != NULL);
	/* ls's own: 0, 1, 2 and the directory it lists, lowest free (3). */
	if ((s = slurp(fdf)) == NULL)
		s = "";
	T_EQ_STR(s, "0\n1\n2\n3\n");
	if ((s = slurp(sigf)) == NULL)
		s = "";
	T_ASSERT(strstr(s, "SigBlk:\t0000000000000000\n") != NULL);
	/* SIGPIPE (13) is bit 12 of the mask: not ignored in the helper. */
	s = strstr(s, "SigIgn:\t");
	T_ASSERT(s != NULL && (strtoull(s + 8, NULL, 16) & (1ULL << 12)) == 0);
	unsetenv("JANEE_PASSPHRASE");
	unsetenv("SOME_API_KEY");
	janee_strlist_free(&deny);
	free(dir);
}

static void
missing_helper_is_an_error(void)
{
	const char *argv[] = { "janee-no-such-program-here", NULL };

	janee_err_clear();
	T_EQ_INT(janee_spawn(argv, JANEE_SPAWN_QUIET, NULL, NULL),
	    JANEE_ERR_NOT_FOUND);
	janee_err_clear();
}

/* Issue 12, finding 3: only printable https (or http to loopback). */
static void
only_printable_https_addresses_are_opened(void)
{
	static const char *const good[] = { "https://github.com/login/device",
		"https://example.com/device?user_code=BCDF-GHJK",
		"HTTPS://EXAMPLE.COM/x", "http://127.0.0.1:8080/cb",
		"http://localhost/x", "http://[::1]:9/x" };
	static const char *const bad[] = { "javascript:alert(1)",
		"file:///etc/passwd", "data:text/html,<b>x</b>",
		"http://example.com/device", "https://x.example/\x1b]8;;y\x07",
		"https://x.example/\xe2\x80\xaegpj.exe", "https://x.example/ a",
		"https://x.example/\x7f", "https://x.example/\xc2\x9b", "",
		"https://", "ftp://x.example/" };
	size_t i;

	for (i = 0; i < nitems(good); i++) {
		janee_err_clear();
		if (janee_url_check(good[i], "u") != 0) {
			fprintf(stderr, "  refused %s: %s\n", good[i],
			    janee_err_msg(JANEE_ERR_INVALID));
			t_case_failed = 1;
		}
	}
	for (i = 0; i < nitems(bad); i++) {
		janee_err_clear();
		if (janee_url_check(bad[i], "u") == 0) {
			fprintf(stderr, "  accepted bad address %zu\n", i);
			t_case_failed = 1;
		}
		/* The message never quotes a control or non-ASCII byte. */
		T_ASSERT(strpbrk(janee_err_msg(JANEE_ERR_INVALID),
			     "\x1b\x07\x7f\xe2\xc2") == NULL);
	}
	janee_err_clear();
}

int
main(void)
{
	T_RUN(env_allow_list);
	T_RUN(helper_gets_allow_listed_env_and_only_fds_0_1_2);
	T_RUN(missing_helper_is_an_error);
	T_RUN(only_printable_https_addresses_are_opened);
	return t_done();
}
