/*
 * PostgreSQL: a database login that exists only for its lease.
 *
 *   "db": {"type": "postgresql",
 *          "dsn": "host=db.internal dbname=app user=janee_admin",
 *          "password": "secret:db-admin", "scopes": ["readonly", "app_rw"],
 *          "databases": ["app"], "max_ttl": "1h", "approval": "ask"}
 *
 * A lease creates the login role janee_<lease id> (lease ids are
 * lowercase base32: a valid identifier, quoted anyway) with a random
 * password (OpenSSL's generator, sent to the server as its SCRAM verifier
 * only), VALID UNTIL the lease's end, a CONNECTION LIMIT, membership in
 * exactly the granted scopes (role names within the ceiling) and CONNECT
 * on the requested databases.  "Only those databases" needs one more
 * thing: PUBLIC has CONNECT on every database unless someone revoked it,
 * and janee does not change other roles' privileges behind the
 * operator's back.  So after the grants, in the same transaction, janee
 * asks the server which databases the new role can connect to, and a
 * database outside the request refuses the mint, naming it and the
 * REVOKE that fixes it ("other_databases": "allow" accepts them).
 * All of it is one transaction: a refusal leaves nothing behind.
 *
 * The token's parts: user, password, url (postgresql://, percent-encoded)
 * and host, port, database (and sslmode, sslrootcert when set), which
 * `janee exec` puts in DATABASE_URL, PGUSER, PGPASSWORD, PGHOST, PGPORT,
 * PGDATABASE, PGSSLMODE and PGSSLROOTCERT.
 *
 * Lease end: the role may no longer log in (NOLOGIN), its sessions are
 * terminated (waiting up to 2 s for each), what it owns in each database
 * is given to the admin (REASSIGN OWNED) and its privileges dropped (DROP
 * OWNED), then DROP ROLE.  After a crash, reconcile() drops the lease's
 * role, and every janee_lse_... role whose lease janee no longer holds.
 *
 * Every identifier goes through PQescapeIdentifier and every literal
 * through PQescapeLiteral or a statement parameter; nothing a request or
 * config.json says is pasted into SQL.  TLS as libpq does it: "sslmode"
 * (default verify-full) and "ca_file" (sslrootcert); a weaker sslmode is
 * refused unless the server is on a Unix socket or the loopback
 * (invariant 4).  libpq is opened on first use (src/pq-lazy.c).
 */
#include "common.h"

#include <strings.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "buf.h"
#include "lazylib.h"
#include "providers.h"
#include "util.h"

#define DEFAULT_CONNECTION_LIMIT 5
#define ROLE_PREFIX "janee_"
#define ROLE_LEN (sizeof(ROLE_PREFIX) - 1 + JANEE_LEASE_ID_LEN)
#define PASSWORD_BYTES 32
#define TERMINATE_WAIT_MS "2000"

struct pg {
	char *dsn;
	char *password_ref; /* NULL: libpq's own (.pgpass, peer, cert) */
	char *sslmode; /* what connections use */
	char *ca_file; /* sslrootcert */
	int64_t connection_limit;
	int other_databases; /* 1: accept CONNECT beyond the request */
};

static const struct janee_part_info pg_parts[] = {
	{ "url", "DATABASE_URL", JANEE_PART_SECRET },
	{ "user", "PGUSER", 0 },
	{ "password", "PGPASSWORD", JANEE_PART_SECRET },
	{ "host", "PGHOST", 0 },
	{ "port", "PGPORT", 0 },
	{ "database", "PGDATABASE", 0 },
	{ "sslmode", "PGSSLMODE", 0 },
	{ "sslrootcert", "PGSSLROOTCERT", 0 },
	{ NULL, NULL, 0 },
};

static const char *const sslmodes[] = { "verify-full", "verify-ca", "require",
	"prefer", "allow", "disable", NULL };

static void
pg_free(void *state)
{
	struct pg *t = state;

	free(t->dsn);
	free(t->password_ref);
	free(t->sslmode);
	free(t->ca_file);
	free(t);
}

/*
 * config.json holds no secrets: a DSN that carries a password (password=
 * or a URL's user:password@) is refused, without quoting it.
 */
static int
dsn_has_password(const char *dsn)
{
	const char *p, *q, *at;

	for (p = dsn; (p = strcasestr(p, "password")) != NULL; p += 8) {
		for (q = p + 8; *q == ' ' || *q == '\t'; q++)
			;
		if (*q == '=')
			return 1;
	}
	if ((p = strstr(dsn, "://")) != NULL &&
	    (at = strchr(p + 3, '@')) != NULL &&
	    memchr(p + 3, ':', (size_t)(at - p - 3)) != NULL)
		return 1;
	return 0;
}

static int
pg_configure(struct janee_ctx *ctx, struct janee_cfg *cfg, void **state,
    struct janee_info *info)
{
	const char *dsn = NULL, *pw = NULL, *mode = NULL, *ca = NULL,
		   *other = NULL;
	struct pg *t;
	size_t i;
	int rc;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	*state = t;
	t->connection_limit = DEFAULT_CONNECTION_LIMIT;
	if ((rc = janee_cfg_string(cfg, "dsn", 1, &dsn)) != 0 ||
	    (rc = janee_cfg_ref(cfg, "password", 0, &pw)) != 0 ||
	    (rc = janee_cfg_string(cfg, "sslmode", 0, &mode)) != 0 ||
	    (rc = janee_cfg_string(cfg, "ca_file", 0, &ca)) != 0 ||
	    (rc = janee_cfg_int(
		 cfg, "connection_limit", &t->connection_limit)) != 0 ||
	    (rc = janee_cfg_string(cfg, "other_databases", 0, &other)) != 0)
		return rc;
	if (dsn_has_password(dsn))
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'dsn' holds a password (not shown); config.json holds no secrets: store it with 'janee secret set NAME' and give \"password\": \"secret:NAME\"",
		    ctx->name);
	for (i = 0; mode != NULL && sslmodes[i] != NULL; i++)
		if (strcmp(mode, sslmodes[i]) == 0)
			break;
	if (mode != NULL && sslmodes[i] == NULL)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'sslmode' must be one of libpq's (verify-full, verify-ca, require, prefer, allow, disable), not '%s'",
		    ctx->name, mode);
	if (t->connection_limit < 1 || t->connection_limit > 10000)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'connection_limit' must be 1..10000",
		    ctx->name);
	if (other != NULL && strcmp(other, "refuse") != 0 &&
	    strcmp(other, "allow") != 0)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'other_databases' must be refuse or allow, not '%s'",
		    ctx->name, other);
	t->other_databases = other != NULL && strcmp(other, "allow") == 0;
	/* An empty allow-list would read as "every database": refuse it. */
	if (ctx->resources->n == 0)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'databases' (the databases a lease may reach) is required and must not be empty",
		    ctx->name);
	for (i = 0; i < ctx->resources->n; i++)
		if (strlen(ctx->resources->v[i]) > 63)
			return janee_err_set(JANEE_ERR_CONFIG,
			    "provider '%s': database '%.63s...' is longer than PostgreSQL's 63-byte names",
			    ctx->name, ctx->resources->v[i]);
	if ((rc = janee_strdup_opt(dsn, &t->dsn)) != 0 ||
	    (rc = janee_strdup_opt(pw, &t->password_ref)) != 0 ||
	    (rc = janee_strdup_opt(mode ? mode : "verify-full", &t->sslmode)) !=
		0 ||
	    (rc = janee_strdup_opt(ca, &t->ca_file)) != 0)
		return rc;
	info->revocable = 1;
	info->reconcilable = 1;
	info->parts = pg_parts;
	info->primary = "url";
	return 0;
}

/* ---- connections ---- */

/* The server's notices ("role ... does not exist, skipping") are noise. */
static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* A Unix socket directory, or the loopback: where TLS adds nothing. */
static int
local_host(const char *h)
{
	return h == NULL || *h == '\0' || h[0] == '/' || h[0] == '@' ||
	    strcmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 ||
	    strncmp(h, "127.", 4) == 0;
}

/*
 * Invariant 4: TLS is verified, unless the server is local.  The DSN's
 * host (or PGHOST when it names none) decides, before anything is sent.
 */
static int
tls_ok(struct janee_ctx *ctx)
{
	struct pg *t = ctx->state;
	PQconninfoOption *opts, *o;
	char *err = NULL, *h, *save = NULL, *copy;
	const char *hosts = NULL;
	int ok = 1;

	if (strcmp(t->sslmode, "verify-full") == 0 ||
	    strcmp(t->sslmode, "verify-ca") == 0)
		return 0;
	if ((opts = PQconninfoParse(t->dsn, &err)) == NULL) {
		if (err != NULL)
			PQfreemem(err);
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': 'dsn' is not a libpq connection string",
		    ctx->name);
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "host") == 0 && o->val != NULL &&
		    *o->val != '\0')
			hosts = o->val;
	if (hosts == NULL)
		hosts = getenv("PGHOST");
	if (hosts != NULL && (copy = janee_strdup(hosts)) != NULL) {
		for (h = strtok_r(copy, ",", &save); h != NULL;
		     h = strtok_r(NULL, ",", &save))
			ok &= local_host(h);
		free(copy);
	}
	PQconninfoFree(opts);
	if (!ok)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "provider '%s': sslmode %s to a server that is not local would not verify TLS; use verify-full (the default) with 'ca_file'",
		    ctx->name, t->sslmode);
	return 0;
}

/*
 * Connect as the admin; dbname (may be NULL) overrides the DSN's, to
 * reach another database of the same server.
 */
static int
admin_connect(struct janee_ctx *ctx, const char *dbname, PGconn **out)
{
	struct pg *t = ctx->state;
	struct janee_secret *pw = NULL;
	const char *kw[8], *val[8];
	char msg[512];
	PGconn *c;
	int n = 0, rc;

	*out = NULL;
	if ((rc = janee_pq_load()) != 0 || (rc = tls_ok(ctx)) != 0)
		return rc;
	if (t->password_ref != NULL &&
	    (rc = ctx->secret_get(ctx, t->password_ref, &pw)) != 0)
		return rc;
	/* Entries after the DSN override it (PQconnectdbParams). */
	kw[n] = "dbname", val[n++] = t->dsn;
	kw[n] = "sslmode", val[n++] = t->sslmode;
	kw[n] = "connect_timeout", val[n++] = "10";
	kw[n] = "application_name", val[n++] = "janee";
	if (t->ca_file != NULL)
		kw[n] = "sslrootcert", val[n++] = t->ca_file;
	if (pw != NULL)
		kw[n] = "password", val[n++] = (const char *)pw->data;
	if (dbname != NULL)
		kw[n] = "dbname", val[n++] = dbname;
	kw[n] = val[n] = NULL;
	c = PQconnectdbParams(kw, val, 1);
	janee_secret_free(pw);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		janee_clean_text(
		    c ? PQerrorMessage(c) : "out of memory", msg, sizeof(msg));
		PQfinish(c);
		return janee_err_set(JANEE_ERR_NETWORK,
		    "provider '%s': cannot connect to PostgreSQL%s%s: %s",
		    ctx->name, dbname ? " database " : "", dbname ? dbname : "",
		    msg);
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	*out = c;
	return 0;
}

/*
 * Run sql (with up to 2 text parameters, NULL-terminated in params) and
 * keep the result in *res when res is not NULL.  A failure names what,
 * and says the server's primary message, never the statement.
 */
static int
run(struct janee_ctx *ctx, PGconn *c, const char *what, const char *sql,
    const char *const *params, PGresult **res)
{
	char msg[512];
	PGresult *r;
	int n = 0;
	ExecStatusType st;

	if (res != NULL)
		*res = NULL;
	while (params != NULL && params[n] != NULL)
		n++;
	r = n ? PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0)
	      : PQexec(c, sql);
	st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		janee_clean_text(r
			? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
			: PQerrorMessage(c),
		    msg, sizeof(msg));
		PQclear(r);
		return janee_err_set(JANEE_ERR_PROVIDER,
		    "provider '%s': PostgreSQL refused %s: %s", ctx->name, what,
		    *msg ? msg : "no reason given");
	}
	if (res != NULL)
		*res = r;
	else
		PQclear(r);
	return 0;
}

/*
 * tmpl with each "%s" replaced, in order, by a then b (b may be NULL),
 * quoted as an identifier, or a literal where *_literal says so.  No
 * printf: the template may hold a number janee made, never a format.
 */
static char *
quoted(PGconn *c, const char *tmpl, const char *a, int a_literal, const char *b,
    int b_literal)
{
	char *q[2] = { NULL, NULL };
	const char *p, *mark;
	struct buf out;
	int i = 0, rc = 0;

	q[0] = a_literal ? PQescapeLiteral(c, a, strlen(a))
			 : PQescapeIdentifier(c, a, strlen(a));
	if (b != NULL)
		q[1] = b_literal ? PQescapeLiteral(c, b, strlen(b))
				 : PQescapeIdentifier(c, b, strlen(b));
	buf_init(&out, 64 * 1024);
	if (q[0] == NULL || (b != NULL && q[1] == NULL))
		rc = janee_err_set(
		    JANEE_ERR_NOMEM, "cannot quote for PostgreSQL");
	for (p = tmpl; rc == 0 && (mark = strstr(p, "%s")) != NULL;
	     p = mark + 2) {
		if (i > 1 || q[i] == NULL) {
			rc = janee_err_set(JANEE_ERR_INTERNAL, "bad template");
			break;
		}
		if ((rc = buf_add(&out, p, (size_t)(mark - p))) == 0)
			rc = buf_addstr(&out, q[i++]);
	}
	if (rc == 0)
		rc = buf_addstr(&out, p);
	for (i = 0; i < 2; i++)
		if (q[i] != NULL) {
			janee_wipe(q[i], strlen(q[i]));
			PQfreemem(q[i]);
		}
	if (rc != 0) {
		buf_free(&out);
		return NULL;
	}
	return out.p;
}

/* Run a statement built by quoted(), wiping it after (it may hold a
 * password verifier). */
static int
run_quoted(struct janee_ctx *ctx, PGconn *c, const char *what, char *sql)
{
	int rc;

	if (sql == NULL)
		return JANEE_ERR_NOMEM;
	rc = run(ctx, c, what, sql, NULL, NULL);
	janee_freezero(sql, strlen(sql));
	return rc;
}

static void
role_name(const char *lease_id, char out[ROLE_LEN])
{
	snprintf(out, ROLE_LEN, "%s%s", ROLE_PREFIX, lease_id);
}

/* ---- minting ---- */

/* user:password@host:port/db?sslmode=..., each part percent-encoded. */
static struct janee_secret *
make_url(struct janee_ctx *ctx, const char *user, const char *pw,
    const char *host, const char *port, const char *db)
{
	struct pg *t = ctx->state;
	char *u = curl_easy_escape(NULL, user, 0),
	     *p = curl_easy_escape(NULL, pw, 0),
	     *h = curl_easy_escape(NULL, host ? host : "", 0),
	     *d = curl_easy_escape(NULL, db, 0),
	     *m = curl_easy_escape(NULL, t->sslmode, 0),
	     *ca = t->ca_file ? curl_easy_escape(NULL, t->ca_file, 0) : NULL;
	struct janee_secret *out = NULL;
	int v6 = host != NULL && strchr(host, ':') != NULL;
	char *s = NULL;

	if (u != NULL && p != NULL && h != NULL && d != NULL && m != NULL &&
	    (t->ca_file == NULL || ca != NULL))
		s = janee_asprintf("postgresql://%s:%s@%s%s%s%s%s/%s%s%s%s%s",
		    u, p, v6 ? "[" : "", v6 ? host : h, v6 ? "]" : "",
		    port && *port ? ":" : "", port ? port : "", d,
		    local_host(host) ? "" : "?sslmode=",
		    local_host(host) ? "" : m,
		    ca && !local_host(host) ? "&sslrootcert=" : "",
		    ca && !local_host(host) ? ca : "");
	if (s != NULL) {
		out = janee_secret_new(s, strlen(s));
		janee_freezero(s, strlen(s));
	} else
		janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if (p != NULL)
		janee_wipe(p, strlen(p));
	curl_free(u);
	curl_free(p);
	curl_free(h);
	curl_free(d);
	curl_free(m);
	curl_free(ca);
	return out;
}

/* The database a client lands in: the DSN's when asked for, else the first. */
static const char *
home_database(PGconn *c, const struct janee_strlist *dbs)
{
	const char *cur = PQdb(c);

	return cur != NULL && janee_strlist_has(dbs, cur) ? cur : dbs->v[0];
}

/*
 * The databases role can connect to beyond the request (PUBLIC's CONNECT,
 * or a granted role's), comma-separated in *beyond; NULL when none.
 */
static int
reach_beyond(struct janee_ctx *ctx, PGconn *c, const char *role,
    const struct janee_strlist *dbs, char **beyond)
{
	const char *params[] = { role, NULL };
	struct buf b;
	PGresult *r;
	int rc, k;

	*beyond = NULL;
	if ((rc = run(ctx, c, "the CONNECT check",
		 "SELECT datname FROM pg_database WHERE datallowconn AND has_database_privilege($1::name, oid, 'CONNECT') ORDER BY datname",
		 params, &r)) != 0)
		return rc;
	buf_init(&b, 64 * 1024);
	for (k = 0; k < PQntuples(r) && rc == 0; k++)
		if (!janee_strlist_has(dbs, PQgetvalue(r, k, 0)))
			rc = buf_printf(&b, "%s'%s'", b.len ? ", " : "",
			    PQgetvalue(r, k, 0));
	PQclear(r);
	if (rc != 0) {
		buf_free(&b);
		return rc;
	}
	*beyond = b.p; /* NULL when nothing was added */
	return 0;
}

/*
 * The role, its grants and the CONNECT check in one transaction: a
 * refusal leaves nothing.  pw is sent as its SCRAM verifier only, so that
 * neither the statement nor a server log holds the password.
 */
static int
create_role(struct janee_ctx *ctx, PGconn *c, const char *role, const char *pw,
    int64_t until_ms, const struct janee_mint_req *req)
{
	struct pg *t = ctx->state;
	char until[JANEE_TIME_LEN], *verifier, *sql, *limit, *beyond = NULL;
	size_t i;
	int rc;

	janee_time_fmt(until_ms, until);
	if ((verifier = PQencryptPasswordConn(c, pw, role, NULL)) == NULL)
		return janee_err_set(JANEE_ERR_CRYPTO,
		    "provider '%s': libpq cannot make the password's verifier",
		    ctx->name);
	sql = quoted(c,
	    "CREATE ROLE %s WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD %s",
	    role, 0, verifier, 1);
	janee_wipe(verifier, strlen(verifier));
	PQfreemem(verifier);
	/* The limit is janee's own number (config.json, 1..10000). */
	limit = janee_asprintf("ALTER ROLE %%s CONNECTION LIMIT %lld",
	    (long long)t->connection_limit);
	if ((rc = run(ctx, c, "BEGIN", "BEGIN", NULL, NULL)) != 0 ||
	    (rc = run_quoted(ctx, c, "CREATE ROLE", sql)) != 0 ||
	    (rc = run_quoted(ctx, c, "VALID UNTIL",
		 quoted(c, "ALTER ROLE %s VALID UNTIL %s", role, 0, until,
		     1))) != 0 ||
	    (rc = run_quoted(ctx, c, "CONNECTION LIMIT",
		 limit ? quoted(c, limit, role, 0, NULL, 0) : NULL)) != 0)
		goto fail;
	for (i = 0; i < req->scopes->n; i++)
		if ((rc = run_quoted(ctx, c, "GRANT (a scope's role)",
			 quoted(c, "GRANT %s TO %s", req->scopes->v[i], 0, role,
			     0))) != 0)
			goto fail;
	for (i = 0; i < req->resources->n; i++)
		if ((rc = run_quoted(ctx, c, "GRANT CONNECT",
			 quoted(c, "GRANT CONNECT ON DATABASE %s TO %s",
			     req->resources->v[i], 0, role, 0))) != 0)
			goto fail;
	if ((rc = reach_beyond(ctx, c, role, req->resources, &beyond)) != 0)
		goto fail;
	if (beyond != NULL && !t->other_databases) {
		rc = janee_err_set(JANEE_ERR_POLICY,
		    "provider '%s': the lease's role could also connect to database %s, beyond the databases asked for (PUBLIC, or a granted role, has CONNECT there); nothing was created: "
		    "revoke it (REVOKE CONNECT ON DATABASE name FROM PUBLIC) or set \"other_databases\": \"allow\"",
		    ctx->name, beyond);
		goto fail;
	}
	free(limit);
	free(beyond);
	return run(ctx, c, "COMMIT", "COMMIT", NULL, NULL);
fail:
	free(limit);
	free(beyond);
	PQclear(PQexec(c, "ROLLBACK"));
	return rc;
}

/* ---- lease end ---- */

/* Whether role exists; -1 on failure (message set). */
static int
role_exists(struct janee_ctx *ctx, PGconn *c, const char *role)
{
	const char *params[] = { role, NULL };
	PGresult *r;
	int n;

	if (run(ctx, c, "the role look-up",
		"SELECT 1 FROM pg_roles WHERE rolname = $1", params, &r) != 0)
		return -1;
	n = PQntuples(r);
	PQclear(r);
	return n > 0;
}

/* REASSIGN OWNED and DROP OWNED of role, in one database. */
static int
drop_owned(struct janee_ctx *ctx, PGconn *c, const char *role)
{
	int rc;

	if ((rc = run_quoted(ctx, c, "REASSIGN OWNED",
		 quoted(c, "REASSIGN OWNED BY %s TO CURRENT_USER", role, 0,
		     NULL, 0))) != 0)
		return rc;
	return run_quoted(ctx, c, "DROP OWNED",
	    quoted(c, "DROP OWNED BY %s", role, 0, NULL, 0));
}

/*
 * End role: no new logins, its sessions terminated (pg_terminate_backend
 * waits up to 2 s for each to exit), what it owns given to the admin and
 * its privileges dropped in every database where it has any (pg_shdepend
 * says which), then DROP ROLE.  A role that is gone already is success.
 */
static int
drop_role(struct janee_ctx *ctx, PGconn *c, const char *role)
{
	const char *params[] = { role, NULL };
	const char *here = PQdb(c);
	PGconn *o;
	PGresult *r = NULL;
	int rc, k, e;

	if ((e = role_exists(ctx, c, role)) <= 0)
		return e < 0 ? JANEE_ERR_PROVIDER : 0;
	if ((rc = run_quoted(ctx, c, "ALTER ROLE NOLOGIN",
		 quoted(c, "ALTER ROLE %s NOLOGIN", role, 0, NULL, 0))) != 0 ||
	    (rc = run(ctx, c, "ending the role's sessions",
		 "SELECT pg_terminate_backend(pid, " TERMINATE_WAIT_MS
		 ") FROM pg_stat_activity WHERE usename = $1",
		 params, NULL)) != 0 ||
	    (rc = run(ctx, c, "the look-up of what the role owns",
		 "SELECT DISTINCT d.datname FROM pg_shdepend s JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles o ON o.oid = s.refobjid WHERE o.rolname = $1 AND s.dbid <> 0 AND d.datallowconn",
		 params, &r)) != 0)
		return rc;
	for (k = 0; k < PQntuples(r) && rc == 0; k++) {
		if (here != NULL && strcmp(PQgetvalue(r, k, 0), here) == 0)
			continue; /* below, on this connection */
		if ((rc = admin_connect(ctx, PQgetvalue(r, k, 0), &o)) == 0) {
			rc = drop_owned(ctx, o, role);
			PQfinish(o);
		}
	}
	PQclear(r);
	/* Here too: its CONNECT on databases is a shared privilege. */
	if (rc == 0 && (rc = drop_owned(ctx, c, role)) == 0)
		rc = run_quoted(ctx, c, "DROP ROLE",
		    quoted(c, "DROP ROLE IF EXISTS %s", role, 0, NULL, 0));
	return rc;
}

static int
pg_revoke(
    struct janee_ctx *ctx, const char *lease_id, const struct janee_token *tok)
{
	char role[ROLE_LEN];
	PGconn *c;
	int rc;

	(void)tok; /* the role is the lease's: janee_<lease id> */
	if (!janee_lease_id_valid(lease_id))
		return janee_err_set(JANEE_ERR_INTERNAL,
		    "provider '%s': lease id '%s' is not janee's", ctx->name,
		    lease_id);
	role_name(lease_id, role);
	if ((rc = admin_connect(ctx, NULL, &c)) != 0)
		return rc;
	rc = drop_role(ctx, c, role);
	PQfinish(c);
	return rc;
}

/*
 * After a crash: the lease's role, if the mint got as far as making it;
 * and every janee_lse_... role whose lease janee no longer holds (a lease
 * id the ledger does not know, or an ended lease whose revocation gave
 * up).  Only names janee makes are touched: janee_ and a lease id.
 */
static int
pg_reconcile(
    struct janee_ctx *ctx, const char *lease_id, struct janee_reconcile *rr)
{
	/* LIKE's '_' is any character: each is escaped, and the names are
	 * checked again below. */
	const char *params[] = { "janee\\_lse\\_%", NULL };
	char role[ROLE_LEN];
	const char *name;
	PGconn *c;
	PGresult *r;
	int rc, e, k;

	/* Unreachable: JANEE_ERR_NETWORK, and the broker asks again later. */
	if ((rc = admin_connect(ctx, NULL, &c)) != 0)
		return rc;
	role_name(lease_id, role);
	if ((e = role_exists(ctx, c, role)) < 0) {
		rc = JANEE_ERR_PROVIDER;
		goto out;
	}
	if (e > 0) {
		if ((rc = drop_role(ctx, c, role)) != 0)
			goto out;
		rr->revoked = 1;
	}
	if ((rc = run(ctx, c, "the look-up of janee's roles",
		 "SELECT rolname FROM pg_roles WHERE rolname LIKE $1 ORDER BY rolname",
		 params, &r)) != 0)
		goto out;
	for (k = 0; k < PQntuples(r) && rc == 0; k++) {
		name = PQgetvalue(r, k, 0);
		if (strncmp(name, ROLE_PREFIX, sizeof(ROLE_PREFIX) - 1) != 0 ||
		    !janee_lease_id_valid(name + sizeof(ROLE_PREFIX) - 1) ||
		    ctx->lease_live(ctx, name + sizeof(ROLE_PREFIX) - 1))
			continue;
		if ((rc = drop_role(ctx, c, name)) == 0)
			ctx->log(ctx,
			    "dropped role %s: janee holds no live lease %s",
			    name, name + sizeof(ROLE_PREFIX) - 1);
	}
	PQclear(r);
out:
	PQfinish(c);
	return rc;
}

static int
pg_mint(struct janee_ctx *ctx, const struct janee_mint_req *req,
    struct janee_token *out)
{
	struct pg *t = ctx->state;
	unsigned char r[PASSWORD_BYTES];
	char role[ROLE_LEN], pw[2 * PASSWORD_BYTES];
	const char *db, *host, *port;
	int64_t until = ctx->now_ms() + req->ttl_s * 1000;
	PGconn *c = NULL;
	int rc, created = 0;

	if (!janee_lease_id_valid(req->lease_id))
		return janee_err_set(JANEE_ERR_INTERNAL,
		    "provider '%s': lease id '%s' is not janee's", ctx->name,
		    req->lease_id);
	role_name(req->lease_id, role);
	if ((rc = janee_random(r, sizeof(r))) != 0 ||
	    (rc = janee_b64url(r, sizeof(r), pw, sizeof(pw))) != 0 ||
	    (rc = admin_connect(ctx, NULL, &c)) != 0 ||
	    (rc = create_role(ctx, c, role, pw, until, req)) != 0)
		goto out;
	created = 1;
	db = home_database(c, req->resources);
	host = PQhost(c);
	port = PQport(c);
	/* The password goes in the sealed token and the URL, nowhere else. */
	if ((rc = janee_token_put(out, "url",
		 make_url(ctx, role, pw, host, port, db), JANEE_PART_SECRET)) !=
		0 ||
	    (rc = janee_token_put(
		 out, "user", janee_secret_new(role, strlen(role)), 0)) != 0 ||
	    (rc = janee_token_put(out, "password",
		 janee_secret_new(pw, strlen(pw)), JANEE_PART_SECRET)) != 0 ||
	    (host != NULL && *host != '\0' &&
		(rc = janee_token_put(out, "host",
		     janee_secret_new(host, strlen(host)), 0)) != 0) ||
	    (port != NULL && *port != '\0' &&
		(rc = janee_token_put(out, "port",
		     janee_secret_new(port, strlen(port)), 0)) != 0) ||
	    (rc = janee_token_put(
		 out, "database", janee_secret_new(db, strlen(db)), 0)) != 0)
		goto out;
	/* A local server takes no TLS: the client settings are for others. */
	if (!local_host(host) &&
	    ((rc = janee_token_put(out, "sslmode",
		  janee_secret_new(t->sslmode, strlen(t->sslmode)), 0)) != 0 ||
		(t->ca_file != NULL &&
		    (rc = janee_token_put(out, "sslrootcert",
			 janee_secret_new(t->ca_file, strlen(t->ca_file)),
			 0)) != 0)))
		goto out;
	/* The role's VALID UNTIL is the lease's end; so is the token's. */
	out->expires_ms = until;
	created = 0;
out:
	/* Made but not handed over: it goes again at once. */
	if (created && drop_role(ctx, c, role) != 0)
		janee_err_clear();
	janee_wipe(r, sizeof(r));
	janee_wipe(pw, sizeof(pw));
	PQfinish(c);
	return rc;
}

const struct janee_provider postgresql_provider = {
	.version = JANEE_PROVIDER_VERSION,
	.type = "postgresql",
	.summary = "PostgreSQL: a login role per lease, dropped at its end",
	.resources = "databases",
	.resource = "database",
	.configure = pg_configure,
	.unconfigure = pg_free,
	.mint = pg_mint,
	.revoke = pg_revoke,
	.reconcile = pg_reconcile,
};
