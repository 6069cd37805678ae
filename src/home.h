/*
 * The janee home ($JANEE_HOME, default ~/.janee): where it is, creating
 * it privately, and refusing it when others could read or change it.
 */
#ifndef JANEE_HOME_H
#define JANEE_HOME_H

#include "common.h"

struct home {
	char *dir;
	char *db; /* janee.db */
	char *config; /* config.json */
	char *keyfile; /* master.key, for the keyfile backend */
};

/* From --home (opt, may be NULL), then JANEE_HOME, then $HOME/.janee. */
int home_resolve(const char *opt, struct home *h) JANEE_WUR;
void home_free(struct home *h);

/* Create the directory 0700 (its parent must exist). */
int home_create(const struct home *h) JANEE_WUR;

/*
 * Check that the home exists, is a directory owned by us with mode 0700,
 * and that every state file in it that exists is ours with mode 0600.
 * JANEE_ERR_NOT_INIT when the home or its ledger is missing.
 */
int home_check(const struct home *h) JANEE_WUR;
/* Its two halves: the home and ledger exist (JANEE_ERR_NOT_INIT)... */
int home_exists(const struct home *h) JANEE_WUR;
/* ...and the directory is 0700, the files that exist 0600, all ours. */
int home_check_modes(const struct home *h) JANEE_WUR;

/*
 * Refuse path unless it is owned by us and neither group nor others have
 * any access.  Missing is fine when may_be_absent; the message names the
 * path and the chmod that fixes it.
 */
int
path_check_private(const char *path, int is_dir, int may_be_absent) JANEE_WUR;

/* Whether path would land in the home (or below it). */
int home_contains(const struct home *h, const char *path);

/* umask 077, no core dumps, not ptrace-able by other same-user processes. */
void process_harden(void);

/*
 * A private file written atomically: a 0600 temporary file beside path,
 * renamed over it on commit (after fsync); abort removes it.
 */
struct atomic_file {
	const char *path;
	char *tmp;
	FILE *fp;
};

int atomic_begin(const char *path, struct atomic_file *af) JANEE_WUR;
int atomic_commit(struct atomic_file *af) JANEE_WUR;
void atomic_abort(struct atomic_file *af);

/*
 * Write data to path atomically and privately: a 0600 temporary file in
 * the same directory, fsync, rename over path.
 */
int write_file_atomic(const char *path, const void *data, size_t len) JANEE_WUR;

#endif
