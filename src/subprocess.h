/*
 * Helper programs janee starts for a person (a browser opener): they get
 * nothing of janee's they do not need.  janee may hold a passphrase in
 * its environment (JANEE_PASSPHRASE), long-lived credentials that secret
 * references read (env:VAR, VAULT_TOKEN) and descriptors (the
 * --passphrase-fd file, the ledger, sockets); a helper gets an
 * environment from an allow-list and descriptors 0, 1 and 2 only.
 */
#ifndef JANEE_SUBPROCESS_H
#define JANEE_SUBPROCESS_H

#include "common.h"

#include <sys/types.h>

#define JANEE_SPAWN_QUIET 0x01 /* stdout and stderr go to /dev/null */
#define JANEE_SPAWN_DETACH 0x02 /* a session of its own: no Ctrl-C */

/*
 * Whether the variable of environment entry "NAME=value" (or a bare NAME)
 * may pass to a helper: PATH, HOME, the user, the locale (LANG,
 * LANGUAGE, LC_*), the display and desktop session (DISPLAY,
 * WAYLAND_DISPLAY, XAUTHORITY, XDG_*, DBUS_SESSION_BUS_ADDRESS,
 * DESKTOP_SESSION, ...), TERM, TMPDIR, BROWSER; never JANEE_*.
 */
int janee_spawn_env_allowed(const char *entry);

/*
 * Start argv[0], searched in PATH, with argv; do not wait for it.  Its
 * environment: janee's entries that janee_spawn_env_allowed passes, less
 * any variable named in deny (NULL: none).  Its stdin is /dev/null, its
 * stdout and stderr janee's (or /dev/null, JANEE_SPAWN_QUIET), and no
 * other descriptor is open in it.  Signals are at their defaults and
 * unblocked.  *pid (pid may be NULL) gets its process id; the caller may
 * reap it.  JANEE_ERR_NOT_FOUND when it cannot be started.
 */
int janee_spawn(const char *const argv[], unsigned flags,
    const struct janee_strlist *deny, pid_t *pid) JANEE_WUR;

/*
 * What janee_spawn_as changes from janee_spawn (the background agent,
 * src/agent.c, which is no helper for a person: it needs its own
 * environment, a log and a readiness pipe).
 */
struct janee_spawn_how {
	const char *path; /* run this file (no PATH search); NULL: argv[0] */
	char *const *envp; /* this environment; NULL: the allow-list's */
	int err_fd; /* stderr goes here; -1: as flags say */
	int fd3; /* becomes descriptor 3 (then 0..3 stay open); -1: none */
};

/*
 * janee_spawn, changed as how says (how NULL: janee_spawn itself).
 * err_fd and fd3 must be above 3.
 */
int janee_spawn_as(const char *const argv[], unsigned flags,
    const struct janee_strlist *deny, const struct janee_spawn_how *how,
    pid_t *pid) JANEE_WUR;

/*
 * Whether url may be shown to a person and opened in a browser: printable
 * ASCII only (RFC 3986 has no place for controls, spaces or raw UTF-8, so
 * nothing reaches a terminal raw), https, or http to loopback
 * (janee_http_url_ok).  JANEE_ERR_INVALID naming what (never quoting an
 * unsafe url raw).
 */
int janee_url_check(const char *url, const char *what) JANEE_WUR;

/*
 * Open url in the person's browser with xdg-open (which honours
 * $BROWSER), through janee_spawn (quiet, detached): url is checked first
 * (janee_url_check).  deny as for janee_spawn.
 */
int janee_open_url(const char *url, const struct janee_strlist *deny) JANEE_WUR;

#endif
