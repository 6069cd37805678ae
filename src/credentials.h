/*
 * Provider logins: what `janee login NAME` obtained (a refresh token and
 * what goes with it, as the provider's own JSON), sealed in the ledger,
 * one per provider entry.  Refreshes of one login are serialized across
 * processes with a lock file, so that a rotated refresh token is never
 * used twice.
 */
#ifndef JANEE_CREDENTIALS_H
#define JANEE_CREDENTIALS_H

#include "common.h"

#include "home.h"
#include "ledger.h"
#include "store.h"

struct cred_info {
	char *account;
	int broken;
	char *detail; /* why it is broken */
	int64_t updated_ms;
};

void cred_info_free(struct cred_info *ci);

/*
 * A provider's login, one vocabulary for the CLI, its JSON and MCP:
 * login_state_name[] for JSON and MCP ("not_logged_in"), login_state_text[]
 * for people ("not logged in").
 */
enum login_state {
	LOGIN_NOT_NEEDED,
	LOGIN_LOGGED_IN,
	LOGIN_BROKEN,
	LOGIN_NOT_LOGGED_IN,
	LOGIN_UNKNOWN,
};
extern const char *const login_state_name[];
extern const char *const login_state_text[];

/*
 * The login state of provider (needs_login: it has a login to keep);
 * *ci filled when one exists (cred_info_free it either way).
 */
enum login_state login_state(struct ledger *lg, const char *provider,
    int needs_login, struct cred_info *ci);

/* Without unlocking: JANEE_ERR_NOT_FOUND when there is no login. */
int cred_info(
    struct ledger *lg, const char *provider, struct cred_info *ci) JANEE_WUR;

/* The sealed value; JANEE_ERR_NOT_FOUND (with a message) when none. */
int cred_get(struct ledger *lg, struct store *s, const char *provider,
    struct janee_secret **out) JANEE_WUR;

/* Store (replace) and mark usable, audited as `event` when non-NULL. */
int cred_put(struct ledger *lg, struct store *s, const char *provider,
    const struct janee_secret *val, const char *account,
    const char *event) JANEE_WUR;

/* Mark the login unusable, with the reason people will see. */
int cred_mark_broken(
    struct ledger *lg, const char *provider, const char *why) JANEE_WUR;

/* Forget the login; audited as logout. */
int cred_delete(struct ledger *lg, const char *provider) JANEE_WUR;

/*
 * Take the provider's login lock ($JANEE_HOME/NAME.login.lock), waiting
 * at most timeout_s; *fd is released by cred_unlock.
 */
int cred_lock(const struct home *h, const char *provider, int timeout_s,
    int *fd) JANEE_WUR;
void cred_unlock(int fd);

#endif
