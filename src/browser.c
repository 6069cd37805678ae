/* Opening janee's page in a browser (browser.h: a stand-in, see there). */
#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "browser.h"

extern char **environ;

/* What xdg-open needs to find the person's browser, and no more. */
static int
env_allowed(const char *e)
{
	static const char *const names[] = { "PATH", "HOME", "USER", "LOGNAME",
		"LANG", "LANGUAGE", "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY",
		"DBUS_SESSION_BUS_ADDRESS", "DESKTOP_SESSION", "BROWSER",
		"TMPDIR", "TERM" };
	size_t i, n = strcspn(e, "=");

	if (strncmp(e, "LC_", 3) == 0 || strncmp(e, "XDG_", 4) == 0)
		return 1;
	for (i = 0; i < nitems(names); i++)
		if (strlen(names[i]) == n && strncmp(e, names[i], n) == 0)
			return 1;
	return 0;
}

/* Openers started earlier, reaped when they are done (no zombies). */
static pid_t started[8];

static void
reap(void)
{
	size_t i;

	for (i = 0; i < nitems(started); i++)
		if (started[i] > 0 && waitpid(started[i], NULL, WNOHANG) != 0)
			started[i] = 0;
}

int
browser_open(const char *url)
{
	const char *argv[] = { "xdg-open", url, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	size_t n = 0, i, k = 0;
	char **env;
	pid_t pid;
	int err, rc = 0;

	if (strncmp(url, "http://127.0.0.1:", 17) != 0 ||
	    strcspn(url, " \"'<>\\`") != strlen(url))
		return janee_err_set(JANEE_ERR_INVALID,
		    "only janee's own page is opened in a browser");
	reap();
	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 1, sizeof(*env))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++)
		if (env_allowed(environ[i]))
			env[k++] = environ[i];
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	if (posix_spawn_file_actions_addopen(
		&fa, 0, "/dev/null", O_RDONLY, 0) ||
	    posix_spawn_file_actions_addopen(
		&fa, 1, "/dev/null", O_WRONLY, 0) ||
	    posix_spawn_file_actions_addopen(
		&fa, 2, "/dev/null", O_WRONLY, 0) ||
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
	    posix_spawn_file_actions_addclosefrom_np(&fa, 3) ||
#endif
	    posix_spawnattr_setflags(&attr,
		POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
		    POSIX_SPAWN_SETSID) ||
	    posix_spawnattr_setsigmask(&attr, &none) ||
	    posix_spawnattr_setsigdefault(&attr, &all)) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((err = posix_spawnp(&pid, argv[0], &fa, &attr,
		 (char *const *)(uintptr_t)argv, env)) != 0)
		rc = janee_err_set(JANEE_ERR_NOT_FOUND,
		    "cannot run xdg-open to open a browser: %s", strerror(err));
	for (i = 0; rc == 0 && i < nitems(started); i++)
		if (started[i] == 0) {
			started[i] = pid;
			break;
		}
out:
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	return rc;
}
