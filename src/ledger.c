/* The ledger: opening janee.db, pragmas, migrations, small helpers. */
#include "common.h"

#include "audit.h"
#include "ledger.h"
#include "util.h"

/*
 * Migration N takes user_version N-1 to N.  Never edit a migration that
 * has shipped: add a new one.
 */
static const char *const migrations[] = {
	/* 1: the store, secrets, leases and the audit chain */
	"CREATE TABLE meta (  key TEXT PRIMARY KEY,  value BLOB NOT NULL);CREATE TABLE secrets (  name TEXT PRIMARY KEY,  sealed BLOB NOT NULL,  created_ms INTEGER NOT NULL,  updated_ms INTEGER NOT NULL);"
	"CREATE TABLE leases (  id TEXT PRIMARY KEY,  provider TEXT NOT NULL,  account TEXT,  client TEXT NOT NULL,  session TEXT,  reason TEXT,  requested_scopes TEXT NOT NULL,  granted_scopes TEXT,"
	"  state TEXT NOT NULL CHECK (state IN ('requested', 'approved',    'denied', 'minting', 'active', 'failed', 'expired', 'revoked',    'irrevocable')),  ttl_s INTEGER NOT NULL CHECK (ttl_s > 0),"
	"  created_ms INTEGER NOT NULL,  approved_ms INTEGER,  issued_ms INTEGER,  expires_ms INTEGER,  ended_ms INTEGER,  fingerprint TEXT,  sealed_token BLOB,  revoke_attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt_ms INTEGER,  detail TEXT);"
	/* The sweep reads only due active leases: cost ~ overdue count. */
	"CREATE INDEX leases_due ON leases (next_attempt_ms)  WHERE state = 'active';CREATE INDEX leases_provider ON leases (provider, state);CREATE INDEX leases_fingerprint ON leases (fingerprint)"
	"  WHERE fingerprint IS NOT NULL;CREATE INDEX leases_created ON leases (created_ms);CREATE TABLE audit (  seq INTEGER PRIMARY KEY,  ts_ms INTEGER NOT NULL,  event TEXT NOT NULL,  actor TEXT NOT NULL,"
	"  client TEXT,  provider TEXT,  lease_id TEXT,  scopes TEXT,  outcome TEXT NOT NULL,  detail TEXT,  hash TEXT NOT NULL);CREATE INDEX audit_ts ON audit (ts_ms);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN  SELECT RAISE(ABORT, 'audit rows are append-only');END;CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
	"  SELECT RAISE(ABORT, 'audit rows are append-only');END;",
	/* 2: provider logins (refresh tokens), sealed */
	"CREATE TABLE credentials (  provider TEXT PRIMARY KEY,  account TEXT,  sealed BLOB NOT NULL,  state TEXT NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'broken')),  detail TEXT,"
	"  created_ms INTEGER NOT NULL,  updated_ms INTEGER NOT NULL);",
	/* 3: the repositories a lease asked for (JSON), for approval later */
	"ALTER TABLE leases ADD COLUMN repositories TEXT;",
	/* 4: finding leases a crashed janee left minting, without a scan */
	"CREATE INDEX leases_minting ON leases (created_ms)  WHERE state = 'minting';",
	/* 5: finding requests nobody settled or collected, without a scan */
	"CREATE INDEX leases_waiting ON leases (created_ms)  WHERE state IN ('requested', 'approved');",
	/*
	 * 6: state orphaned (janee died while minting and the provider cannot
	 * say that no token of the lease is left live); when minting began,
	 * which the stale check and an orphan's "may be live until" count
	 * from; the token's own expiry at the provider.  SQLite cannot change
	 * a CHECK constraint in place: the table is rebuilt (sqlite.org,
	 * "ALTER TABLE", section 7), with its indexes.
	 */
	"CREATE TABLE leases_v6 ("
	"  id TEXT PRIMARY KEY,"
	"  provider TEXT NOT NULL,"
	"  account TEXT,"
	"  client TEXT NOT NULL,"
	"  session TEXT,"
	"  reason TEXT,"
	"  requested_scopes TEXT NOT NULL,"
	"  granted_scopes TEXT,"
	"  state TEXT NOT NULL CHECK (state IN ('requested', 'approved',"
	"    'denied', 'minting', 'active', 'failed', 'expired', 'revoked',"
	"    'irrevocable', 'orphaned')),"
	"  ttl_s INTEGER NOT NULL CHECK (ttl_s > 0),"
	"  created_ms INTEGER NOT NULL,"
	"  approved_ms INTEGER,"
	"  issued_ms INTEGER,"
	"  expires_ms INTEGER,"
	"  ended_ms INTEGER,"
	"  fingerprint TEXT,"
	"  sealed_token BLOB,"
	"  revoke_attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt_ms INTEGER,"
	"  detail TEXT,"
	"  repositories TEXT,"
	"  minting_ms INTEGER,"
	"  token_expires_ms INTEGER"
	");"
	"INSERT INTO leases_v6 SELECT id, provider, account, client, session,"
	"  reason, requested_scopes, granted_scopes, state, ttl_s, created_ms,"
	"  approved_ms, issued_ms, expires_ms, ended_ms, fingerprint,"
	"  sealed_token, revoke_attempts, next_attempt_ms, detail,"
	"  repositories, CASE WHEN state = 'minting' THEN"
	"  coalesce(approved_ms, created_ms) END, NULL FROM leases;"
	"DROP TABLE leases;"
	"ALTER TABLE leases_v6 RENAME TO leases;"
	"CREATE INDEX leases_due ON leases (next_attempt_ms)"
	"  WHERE state = 'active';"
	"CREATE INDEX leases_provider ON leases (provider, state);"
	"CREATE INDEX leases_fingerprint ON leases (fingerprint)"
	"  WHERE fingerprint IS NOT NULL;"
	"CREATE INDEX leases_created ON leases (created_ms);"
	"CREATE INDEX leases_minting ON leases (minting_ms)"
	"  WHERE state = 'minting';"
	"CREATE INDEX leases_waiting ON leases (created_ms)"
	"  WHERE state IN ('requested', 'approved');",
	/*
	 * 7: each audit row records the lease it names as it stands then,
	 * for `audit verify` to compare with the lease; a lease's last event
	 * and its snapshot's digest from the index alone (audit-lease.c);
	 * and, for a chain that already has rows, a note
	 * that it predates keyed checkpoints (src/audit-seal.c: the first
	 * janee with the key seals it).
	 */
	"ALTER TABLE audit ADD COLUMN lease TEXT;"
	"ALTER TABLE audit ADD COLUMN lease_digest TEXT;"
	"CREATE INDEX audit_lease ON audit (lease_id, seq, lease_digest)"
	"  WHERE lease_id IS NOT NULL;"
	"INSERT INTO meta (key, value) SELECT 'audit.unkeyed', "
	"  CAST(seq AS TEXT) FROM audit ORDER BY seq DESC LIMIT 1;",
	/*
	 * 8: a token's other secret parts (a database login's password as
	 * well as its URL), so that `janee audit lookup` finds the lease by
	 * any of them
	 */
	"CREATE TABLE lease_fingerprints ("
	"  fingerprint TEXT NOT NULL,"
	"  lease_id TEXT NOT NULL,"
	"  part TEXT NOT NULL,"
	"  PRIMARY KEY (fingerprint, lease_id, part)) WITHOUT ROWID;",
	/*
	 * 9: session grants (src/grant.h): a person's "this and narrower
	 * requests from this session for N minutes", and the leases each
	 * one approved (revoking the grant ends them)
	 */
	"CREATE TABLE grants ("
	"  id TEXT PRIMARY KEY,"
	"  session TEXT NOT NULL,"
	"  client TEXT,"
	"  provider TEXT NOT NULL,"
	"  scopes TEXT NOT NULL,"
	"  repositories TEXT,"
	"  max_ttl_s INTEGER NOT NULL CHECK (max_ttl_s > 0),"
	"  lease_id TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  expires_ms INTEGER NOT NULL,"
	"  ended_ms INTEGER,"
	"  state TEXT NOT NULL CHECK (state IN ('active', 'revoked')),"
	"  actor TEXT,"
	"  detail TEXT"
	");"
	"CREATE INDEX grants_session ON grants (session, provider)"
	"  WHERE state = 'active';"
	"CREATE TABLE grant_leases ("
	"  lease_id TEXT PRIMARY KEY,"
	"  grant_id TEXT NOT NULL"
	");"
	"CREATE INDEX grant_leases_grant ON grant_leases (grant_id);",
	/*
	 * 10: team mode (src/team-agents.h, src/team-auth.h): the remote
	 * agents registered with `janee agent add`, each with its public key
	 * (never a private one); the client assertions each one has used,
	 * kept until they expire so that none is accepted twice (RFC 7523
	 * section 3, "jti"); and the verified agent behind a lease
	 */
	"CREATE TABLE agents ("
	"  name TEXT PRIMARY KEY,"
	"  public_key TEXT NOT NULL,"
	"  key_id TEXT NOT NULL,"
	"  alg TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256')),"
	"  created_ms INTEGER NOT NULL,"
	"  rotated_ms INTEGER"
	");"
	"CREATE TABLE agent_assertions ("
	"  agent TEXT NOT NULL,"
	"  jti TEXT NOT NULL,"
	"  expires_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (agent, jti)) WITHOUT ROWID;"
	"CREATE UNIQUE INDEX agents_key ON agents (key_id);"
	"CREATE INDEX agent_assertions_expiry ON agent_assertions (expires_ms);"
	"ALTER TABLE leases ADD COLUMN agent TEXT;",
};

int
ledger_fail(struct ledger *lg, const char *what)
{
	int ec = sqlite3_extended_errcode(lg->db);
	int sys = sqlite3_system_errno(lg->db);
	const char *hint = "";

	/* A write that hits ENOSPC surfaces as an I/O error, not FULL. */
	if ((ec & 0xff) == SQLITE_IOERR && (sys == ENOSPC || sys == EDQUOT))
		ec = SQLITE_FULL;
	if ((ec & 0xff) == SQLITE_IOERR && sys == EROFS)
		ec = SQLITE_READONLY;
	switch (ec & 0xff) {
	case SQLITE_FULL:
		hint =
		    "; the disk or the ledger's size limit is full: free space and try again";
		break;
	case SQLITE_READONLY:
		hint =
		    "; the ledger is read-only: check the file and its directory";
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		hint =
		    "; another janee process held the ledger too long: try again";
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		hint = "; the file is damaged: restore it from a backup";
		break;
	}
	return janee_err_set(JANEE_ERR_DB, "ledger '%s': %s: %s%s", lg->path,
	    what, sqlite3_errmsg(lg->db), hint);
}

int
ledger_exec(struct ledger *lg, const char *sql)
{
	if (sqlite3_exec(lg->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ledger_fail(lg, "cannot run statement");
	return 0;
}

int
ledger_prepare(struct ledger *lg, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(lg->db, sql, -1, st, NULL) != SQLITE_OK)
		return ledger_fail(lg, "cannot prepare statement");
	return 0;
}

int
ledger_count(struct ledger *lg, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = ledger_prepare(lg, sql, &st)) != 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = 0;
	} else
		rc = ledger_fail(lg, "cannot read");
	sqlite3_finalize(st);
	return rc;
}

int
ledger_begin(struct ledger *lg)
{
	if (sqlite3_exec(lg->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return ledger_fail(lg, "cannot start a write transaction");
	return 0;
}

int
ledger_commit(struct ledger *lg)
{
	if (sqlite3_exec(lg->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int rc = ledger_fail(lg, "cannot commit");

		ledger_rollback(lg);
		return rc;
	}
	/* Events reach the witness once they are on record, never before. */
	audit_witness_end(lg, 1);
	return 0;
}

void
ledger_rollback(struct ledger *lg)
{
	if (!sqlite3_get_autocommit(lg->db))
		sqlite3_exec(lg->db, "ROLLBACK", NULL, NULL, NULL);
	audit_witness_end(lg, 0);
}

int
ledger_schema_version(struct ledger *lg, int *out)
{
	int64_t v;
	int rc;

	if ((rc = ledger_count(lg, "PRAGMA user_version", &v)) != 0)
		return rc;
	*out = (int)v;
	return 0;
}

int
ledger_migrate(struct ledger *lg, int target)
{
	char sql[64];
	int v, rc;

	if ((rc = ledger_schema_version(lg, &v)) != 0)
		return rc;
	if (v > (int)nitems(migrations))
		return janee_err_set(JANEE_ERR_SCHEMA,
		    "ledger '%s' has schema version %d, newer than this janee knows (%d); upgrade janee",
		    lg->path, v, (int)nitems(migrations));
	while (v < target) {
		if ((rc = ledger_begin(lg)) != 0)
			return rc;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if ((rc = ledger_exec(lg, migrations[v])) != 0 ||
		    (rc = ledger_exec(lg, sql)) != 0 ||
		    (rc = ledger_commit(lg)) != 0) {
			ledger_rollback(lg);
			return rc;
		}
		v++;
	}
	return 0;
}

int
ledger_open_at(const char *path, int create, int version, struct ledger **out)
{
	struct ledger *lg;
	int flags, rc;

	*out = NULL;
	if ((lg = calloc(1, sizeof(*lg))) == NULL ||
	    (lg->path = janee_strdup(path)) == NULL) {
		free(lg);
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &lg->db, flags, NULL) != SQLITE_OK) {
		rc = janee_err_set(create ? JANEE_ERR_IO : JANEE_ERR_NOT_INIT,
		    "cannot open ledger '%s': %s", path,
		    lg->db ? sqlite3_errmsg(lg->db) : "out of memory");
		ledger_close(lg);
		return rc;
	}
	sqlite3_extended_result_codes(lg->db, 1);
	/* Wait for other janee processes rather than fail with "locked". */
	sqlite3_busy_timeout(lg->db, 15000);
	/*
	 * WAL for concurrent readers; FULL sync so a committed lease or
	 * audit row survives power loss; secure_delete so wiped sealed
	 * tokens do not linger in free pages; a small page cache keeps
	 * memory flat however large the ledger grows.
	 */
	if ((rc = ledger_exec(lg,
		 "PRAGMA journal_mode = WAL;PRAGMA synchronous = FULL;PRAGMA foreign_keys = ON;PRAGMA secure_delete = ON;PRAGMA cache_size = -2048;")) !=
		0 ||
	    (rc = ledger_migrate(lg, version)) != 0) {
		ledger_close(lg);
		return rc;
	}
	*out = lg;
	return 0;
}

int
ledger_open(const char *path, int create, struct ledger **out)
{
	return ledger_open_at(path, create, LEDGER_SCHEMA_VERSION, out);
}

void
ledger_close(struct ledger *lg)
{
	if (lg == NULL)
		return;
	if (lg->db != NULL)
		sqlite3_close_v2(lg->db);
	audit_witness_free(lg);
	janee_wipe(lg->audit_key, sizeof(lg->audit_key));
	free(lg->path);
	free(lg);
}

int
ledger_meta_get(struct ledger *lg, const char *key, void **val, size_t *len)
{
	sqlite3_stmt *st;
	const void *p;
	int rc, n;

	*val = NULL;
	*len = 0;
	if ((rc = ledger_prepare(
		 lg, "SELECT value FROM meta WHERE key = ?", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		p = sqlite3_column_blob(st, 0);
		n = sqlite3_column_bytes(st, 0);
		if ((*val = malloc((size_t)n + 1)) == NULL) {
			rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
			break;
		}
		if (n > 0)
			memcpy(*val, p, (size_t)n);
		((char *)*val)[n] = '\0';
		*len = (size_t)n;
		break;
	case SQLITE_DONE:
		rc = JANEE_ERR_NOT_FOUND;
		break;
	default:
		rc = ledger_fail(lg, "cannot read metadata");
	}
	sqlite3_finalize(st);
	return rc;
}

int
ledger_meta_set(struct ledger *lg, const char *key, const void *val, size_t len)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = ledger_prepare(lg,
		 "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		 &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, val, (int)len, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = ledger_fail(lg, "cannot write metadata");
	sqlite3_finalize(st);
	return rc;
}
