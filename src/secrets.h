/* Named secrets, sealed in the ledger's secrets table. */
#ifndef JANEE_SECRETS_H
#define JANEE_SECRETS_H

#include "common.h"

#include "ledger.h"
#include "store.h"

/* Names: 1-128 of [A-Za-z0-9._-], not starting with '.' or '-'. */
int secret_name_valid(const char *name);

/* Seal and store (replacing any earlier value); audited as secret_set. */
/*
 * 0 when secret NAME is stored (the store stays locked), else
 * JANEE_ERR_NOT_FOUND saying the command that stores it.
 */
int secret_exists(struct ledger *lg, const char *name) JANEE_WUR;
int secret_put(struct ledger *lg, struct store *s, const char *name,
    const void *val, size_t len, const char *actor) JANEE_WUR;
/* JANEE_ERR_NOT_FOUND with a message when absent. */
int secret_get(struct ledger *lg, struct store *s, const char *name,
    struct janee_secret **out) JANEE_WUR;
/* Audited as secret_rm. */
int secret_rm(struct ledger *lg, const char *name, const char *actor) JANEE_WUR;

/*
 * One write of a sealed row and its audit event, in one transaction (the
 * secrets and the provider logins both keep such rows): sql's ?1 is name,
 * ?2 val sealed as purpose/name (when val is not NULL), ?3 the time now
 * and ?4 extra, each where sql has it.  ev (may be NULL) is appended when
 * a row changed; *changed (may be NULL) says how many did.  what names
 * the write in a ledger failure.
 */
struct audit_event;
int sealed_row_write(struct ledger *lg, struct store *s, const char *sql,
    const char *purpose, const char *name, const void *val, size_t len,
    const char *extra, const struct audit_event *ev, const char *what,
    int *changed) JANEE_WUR;

struct secret_info {
	const char *name;
	int64_t created_ms, updated_ms;
	int64_t size; /* sealed bytes, not the value's length */
};

int secret_each(struct ledger *lg,
    int (*fn)(const struct secret_info *si, void *arg), void *arg) JANEE_WUR;

#endif
