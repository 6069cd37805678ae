/* Helper programs with a scrubbed environment and descriptors (subprocess.h). */
#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <strings.h>

#ifndef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
#include <dirent.h>
#endif

#include "janee/http.h"
#include "subprocess.h"
#include "util.h"

extern char **environ;

/*
 * What a browser opener needs: where programs are, who and where the
 * person is, the locale, and how to reach the desktop (xdg-open looks at
 * XDG_CURRENT_DESKTOP, KDE_FULL_SESSION, GNOME_DESKTOP_SESSION_ID and
 * DESKTOP_SESSION to pick the opener, and at BROWSER).
 */
static const char *const allowed[] = { "PATH", "HOME", "USER", "LOGNAME",
	"SHELL", "TERM", "TMPDIR", "TZ", "LANG", "LANGUAGE", "DISPLAY",
	"WAYLAND_DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS",
	"DESKTOP_SESSION", "KDE_FULL_SESSION", "KDE_SESSION_VERSION",
	"GNOME_DESKTOP_SESSION_ID", "BROWSER", "WSL_DISTRO_NAME" };

/* Allowed by prefix: the locale's categories, the XDG session. */
static const char *const allowed_prefix[] = { "LC_", "XDG_" };

int
janee_spawn_env_allowed(const char *entry)
{
	size_t i, n = strcspn(entry, "=");

	if (strncmp(entry, "JANEE_", 6) == 0)
		return 0;
	for (i = 0; i < nitems(allowed); i++)
		if (strlen(allowed[i]) == n &&
		    strncmp(entry, allowed[i], n) == 0)
			return 1;
	for (i = 0; i < nitems(allowed_prefix); i++)
		if (n > strlen(allowed_prefix[i]) &&
		    strncmp(entry, allowed_prefix[i],
			strlen(allowed_prefix[i])) == 0)
			return 1;
	return 0;
}

static int
denied(const char *entry, const struct janee_strlist *deny)
{
	size_t i, n = strcspn(entry, "=");

	for (i = 0; deny != NULL && i < deny->n; i++)
		if (strlen(deny->v[i]) == n &&
		    strncmp(entry, deny->v[i], n) == 0)
			return 1;
	return 0;
}

/* The helper's environment: pointers into environ, NULL-terminated. */
static char **
helper_env(const struct janee_strlist *deny)
{
	size_t n = 0, i, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 1, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (janee_spawn_env_allowed(environ[i]) &&
		    !denied(environ[i], deny))
			env[k++] = environ[i];
	return env;
}

/*
 * Whether argv0 names a program janee can run: searched on PATH here
 * rather than left to posix_spawnp, because where glibc cannot use
 * CLONE_VFORK (under valgrind, say) posix_spawnp succeeds and the child
 * exits 127, and the person would see nothing happen instead of an error.
 */
static int
runnable(const char *argv0)
{
	const char *path, *p, *end;
	char *full;
	int ok = 0;

	if (strchr(argv0, '/') != NULL)
		return access(argv0, X_OK) == 0;
	if ((path = getenv("PATH")) == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; !ok; p = end + 1) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		/* An empty PATH element means the current directory. */
		full = janee_asprintf("%.*s/%s", end == p ? 1 : (int)(end - p),
		    end == p ? "." : p, argv0);
		if (full == NULL)
			return -1;
		ok = access(full, X_OK) == 0;
		free(full);
		if (*end == '\0')
			break;
	}
	return ok;
}

#ifndef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
/* Without closefrom: close each descriptor above 2 that is open now. */
static int
close_all_above_2(posix_spawn_file_actions_t *fa)
{
	struct dirent *d;
	DIR *dir;
	int fd, self;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		return janee_err_set(JANEE_ERR_IO,
		    "cannot list open descriptors (/proc/self/fd): %s",
		    strerror(errno));
	self = dirfd(dir);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		fd = (int)strtol(d->d_name, NULL, 10);
		if (fd > 2 && fd != self &&
		    posix_spawn_file_actions_addclose(fa, fd) != 0) {
			closedir(dir);
			return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		}
	}
	closedir(dir);
	return 0;
}
#endif

int
janee_spawn(const char *const argv[], unsigned flags,
    const struct janee_strlist *deny, pid_t *pidp)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	char **env;
	short aflags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	pid_t pid;
	int rc = 0, err;

	if ((rc = runnable(argv[0])) <= 0)
		return rc < 0
		    ? janee_err_set(JANEE_ERR_NOMEM, "out of memory")
		    : janee_err_set(JANEE_ERR_NOT_FOUND,
			  "cannot run %s: no such program on PATH", argv[0]);
	rc = 0;
	if ((env = helper_env(deny)) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	if (flags & JANEE_SPAWN_DETACH)
		aflags |= POSIX_SPAWN_SETSID;
	if (posix_spawn_file_actions_addopen(
		&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
	    ((flags & JANEE_SPAWN_QUIET) &&
		(posix_spawn_file_actions_addopen(
		     &fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
		    posix_spawn_file_actions_addopen(
			&fa, 2, "/dev/null", O_WRONLY, 0) != 0)) ||
	    posix_spawnattr_setflags(&attr, aflags) != 0 ||
	    posix_spawnattr_setsigmask(&attr, &none) != 0 ||
	    posix_spawnattr_setsigdefault(&attr, &all) != 0) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Not only what janee marked close-on-exec: everything above 2. */
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
	if (posix_spawn_file_actions_addclosefrom_np(&fa, 3) != 0) {
		rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
#else
	if ((rc = close_all_above_2(&fa)) != 0)
		goto out;
#endif
	if ((err = posix_spawnp(&pid, argv[0], &fa, &attr,
		 (char *const *)(uintptr_t)argv, env)) != 0) {
		rc = janee_err_set(JANEE_ERR_NOT_FOUND, "cannot run %s: %s",
		    argv[0], strerror(err));
		goto out;
	}
	if (pidp != NULL)
		*pidp = pid;
out:
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	return rc;
}

int
janee_url_check(const char *url, const char *what)
{
	const unsigned char *p;

	for (p = (const unsigned char *)url; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return janee_err_set(JANEE_ERR_INVALID,
			    "%s holds a character that is not printable ASCII (byte %zu), which no address has; not shown or opened",
			    what, (size_t)(p - (const unsigned char *)url));
	/* Named, never quoted: javascript:, file:, data: and the like. */
	if (strncasecmp(url, "https://", 8) != 0 &&
	    strncasecmp(url, "http://", 7) != 0)
		return janee_err_set(JANEE_ERR_INVALID,
		    "%s is not an https:// address; not shown or opened", what);
	return janee_http_url_ok(url, what);
}

int
janee_open_url(const char *url, const struct janee_strlist *deny)
{
	const char *argv[] = { "xdg-open", url, NULL };
	int rc;

	if ((rc = janee_url_check(url, "the address to open")) != 0)
		return rc;
	return janee_spawn(
	    argv, JANEE_SPAWN_QUIET | JANEE_SPAWN_DETACH, deny, NULL);
}
