/*
 * The ledger: janee.db, one SQLite database in WAL mode holding the
 * store's wrapped key, sealed secrets, leases and the audit chain.
 * Schema changes are numbered migrations tracked by PRAGMA user_version.
 */
#ifndef JANEE_LEDGER_H
#define JANEE_LEDGER_H

#include <sqlite3.h>

#include "common.h"

/* The schema this janee writes; migrations bring older ones here. */
#define LEDGER_SCHEMA_VERSION 10

struct audit_witness;

struct ledger {
	sqlite3 *db;
	char *path;
	/*
	 * The audit chain's state on this connection (src/audit-seal.c,
	 * src/audit-witness.c): the checkpoint key, set once the store is
	 * unlocked and wiped at close; whether a checkpoint that does not
	 * verify was already reported; events waiting for their commit
	 * before they go to syslog.
	 */
	unsigned char audit_key[32];
	int audit_keyed;
	int audit_warned;
	struct audit_witness *witness;
};

/*
 * Open (create when `create`) the ledger at path and bring its schema up
 * to date.  A ledger from a newer janee is refused (JANEE_ERR_SCHEMA).
 */
int ledger_open(const char *path, int create, struct ledger **out) JANEE_WUR;

/* As ledger_open, but migrate only up to `version` (for tests). */
int ledger_open_at(
    const char *path, int create, int version, struct ledger **out) JANEE_WUR;
void ledger_close(struct ledger *lg);

int ledger_schema_version(struct ledger *lg, int *out) JANEE_WUR;
/* Apply migrations up to `target`, each in its own transaction. */
int ledger_migrate(struct ledger *lg, int target) JANEE_WUR;

/*
 * BEGIN IMMEDIATE: take the write lock up front, waiting on the busy
 * timeout, so that read-modify-write sequences (the audit chain head,
 * a lease claim) are serialized across processes.
 */
int ledger_begin(struct ledger *lg) JANEE_WUR;
int ledger_commit(struct ledger *lg) JANEE_WUR;
void ledger_rollback(struct ledger *lg);

int ledger_exec(struct ledger *lg, const char *sql) JANEE_WUR;
int
ledger_prepare(struct ledger *lg, const char *sql, sqlite3_stmt **st) JANEE_WUR;

/*
 * Record SQLite's failure as a janee error: "ledger 'PATH': WHAT: why",
 * with a hint for a full disk, a read-only file or a lock held too long.
 */
int ledger_fail(struct ledger *lg, const char *what);

/* Small key/value table for the store's parameters and the chain head. */
int ledger_meta_get(
    struct ledger *lg, const char *key, void **val, size_t *len) JANEE_WUR;
int ledger_meta_set(
    struct ledger *lg, const char *key, const void *val, size_t len) JANEE_WUR;

/* One integer from a query with no parameters. */
int ledger_count(struct ledger *lg, const char *sql, int64_t *out) JANEE_WUR;

#endif
