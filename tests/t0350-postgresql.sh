#!/bin/sh
# The PostgreSQL provider against a real PostgreSQL 15 (tests/lib/pg.sh):
# a lease is a login role janee_<lease id> that can do what its granted
# roles allow and nothing more, reaches only the databases asked for,
# has VALID UNTIL the lease's end and a CONNECTION LIMIT, and is gone at
# the end (its sessions killed within 2 s); a crash after CREATE ROLE is
# reconciled; names with quotes and backslashes stay names, never SQL;
# janee exec and request_token hand out its parts.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/pg.sh"

if ! pg_bin >/dev/null 2>&1; then
	skip "the PostgreSQL provider" "no PostgreSQL server installed (postgresql-15)"
	done_testing
	exit
fi
pg_start >"$TMP/dsn" || { not_ok "PostgreSQL 15 starts in a temporary directory"; exit 1; }
ok "PostgreSQL 15 starts in a temporary directory"

# Two databases, roles for the scopes, a table each may or may not read.
# A role name made to break out of quoting if it were pasted into SQL.
EVIL='ro"; DROP ROLE readonly; --\'"'"'x'
pg_psql -c 'CREATE DATABASE app' -c 'CREATE DATABASE other' \
    -c 'CREATE DATABASE "we""ird\db"' >/dev/null
pg_psql -d app >/dev/null <<SQL
REVOKE CONNECT ON DATABASE app, other, postgres, template1, "we""ird\db" FROM PUBLIC;
CREATE ROLE readonly NOLOGIN;
CREATE ROLE app_rw NOLOGIN;
CREATE ROLE "$(printf '%s' "$EVIL" | sed 's/"/""/g')" NOLOGIN;
CREATE TABLE items (id int, name text);
INSERT INTO items VALUES (1, 'one'), (2, 'two');
CREATE TABLE payroll (who text, pay int);
GRANT USAGE ON SCHEMA public TO readonly, app_rw;
GRANT SELECT ON items TO readonly;
GRANT SELECT, INSERT ON items TO app_rw;
SQL
check "the database has its roles" \
    sh -c "[ \"\$(PGPASSWORD=$PG_PASSWORD '$PG_BIN/psql' -X -tA -h '$PG_DIR' -U postgres -d app -c \"select count(*) from pg_roles where rolname in ('readonly','app_rw')\")\" = 2 ]"

"$JANEE" init --key-backend keyfile >/dev/null 2>&1
printf '%s' "$PG_PASSWORD" | "$JANEE" secret set db-admin >/dev/null 2>&1
write_pg_config() {
	"$PYTHON3" - "$JANEE_HOME/config.json" "$PG_DIR" "$EVIL" "$1" <<'PY'
import json, sys
path, host, evil, extra = sys.argv[1:5]
p = {"type": "postgresql",
     "dsn": "host=%s port=5432 user=postgres dbname=app" % host,
     "password": "secret:db-admin",
     "scopes": ["readonly", "app_rw", evil],
     "databases": ["app", 'we"ird\\db'],
     "connection_limit": 3, "max_ttl": "1h", "approval": "auto"}
p.update(json.loads(extra or "{}"))
json.dump({"providers": {"db": p}}, open(path, "w"))
PY
	chmod 600 "$JANEE_HOME/config.json"
}
write_pg_config ''

# psql as the lease's role, the password from the environment only.
as_lease() { # USER PASSWORD DB SQL
	PGPASSWORD=$2 "$PG_BIN/psql" -X -q -tA -v ON_ERROR_STOP=1 -h "$PG_DIR" \
	    -U "$1" -d "$3" -c "$4"
}
json_get() { "$PYTHON3" -c 'import json,sys; print(eval(sys.argv[2], {"j": json.load(open(sys.argv[1]))}))' "$@"; }
sql() { pg_psql -tA -d app -c "$1"; }

# ---------------------------------------------------------------- a lease
jr token db --scope readonly --resource app --ttl 10m --json
expect_rc 0 "a lease mints a database login"
cp "$TMP/out" "$TMP/lease.json"
lease=$(json_get "$TMP/lease.json" 'j["lease_id"]')
user=$(json_get "$TMP/lease.json" 'j["parts"]["user"]')
pw=$(json_get "$TMP/lease.json" 'j["parts"]["password"]')
url=$(json_get "$TMP/lease.json" 'j["parts"]["url"]')
check "its role is janee_<lease id>" [ "$user" = "janee_$lease" ]
check "the token is the URL, its primary part" \
    [ "$(json_get "$TMP/lease.json" 'j["token"] == j["parts"]["url"] and j["primary"] == "url"')" = True ]
check "the parts are user, password, url, host, port, database" \
    [ "$(json_get "$TMP/lease.json" 'sorted(j["parts"])')" = "['database', 'host', 'password', 'port', 'url', 'user']" ]
check "the password is long and random (43 characters of base64url)" \
    sh -c "printf '%s' '$pw' | grep -Eq '^[A-Za-z0-9_-]{43}\$'"
check "the URL is postgresql://, the socket directory percent-encoded" \
    sh -c "printf '%s' '$url' | grep -q '^postgresql://$user:.*@%2Ftmp%2F.*:5432/app\$'"

check "the role exists and may log in" [ "$(sql "select rolcanlogin from pg_roles where rolname = '$user'")" = t ]
check "CONNECTION LIMIT is the configured 3" [ "$(sql "select rolconnlimit from pg_roles where rolname = '$user'")" = 3 ]
check "no superuser, createrole, createdb, replication or bypassrls" \
    [ "$(sql "select rolsuper or rolcreaterole or rolcreatedb or rolreplication or rolbypassrls from pg_roles where rolname = '$user'")" = f ]
valid=$(sql "select extract(epoch from rolvaliduntil)::bigint from pg_roles where rolname = '$user'")
expires=$(json_get "$TMP/lease.json" 'j["expires_at"]')
exp_s=$("$PYTHON3" -c 'import datetime,sys; print(int(datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()))' "$expires")
check "VALID UNTIL is the lease's end (expires_at $expires)" \
    [ "$((valid - exp_s))" -ge -1 ] && [ "$((valid - exp_s))" -le 1 ]
check "it is a member of exactly the granted role" \
    [ "$(sql "select string_agg(b.rolname, ',') from pg_auth_members m join pg_roles r on r.oid = m.member join pg_roles b on b.oid = m.roleid where r.rolname = '$user'")" = readonly ]

# What readonly allows, and nothing more.
check "it reads what readonly may read" [ "$(as_lease "$user" "$pw" app 'select count(*) from items')" = 2 ]
check "it cannot write where readonly may not" \
    sh -c "! PGPASSWORD='$pw' '$PG_BIN/psql' -X -h '$PG_DIR' -U '$user' -d app -c \"insert into items values (3, 'x')\" 2>$TMP/e1"
expect_in "$TMP/e1" 'permission denied for table items' "and PostgreSQL says permission denied"
check "it cannot read a table readonly has no grant on" \
    sh -c "! PGPASSWORD='$pw' '$PG_BIN/psql' -X -h '$PG_DIR' -U '$user' -d app -c 'select * from payroll' 2>/dev/null"
check "it cannot create a table" \
    sh -c "! PGPASSWORD='$pw' '$PG_BIN/psql' -X -h '$PG_DIR' -U '$user' -d app -c 'create table t (x int)' 2>/dev/null"
check "it cannot take a role it was not granted (SET ROLE app_rw)" \
    sh -c "! PGPASSWORD='$pw' '$PG_BIN/psql' -X -h '$PG_DIR' -U '$user' -d app -c 'set role app_rw' 2>/dev/null"
check "it cannot connect to a database it did not ask for (other)" \
    sh -c "! PGPASSWORD='$pw' '$PG_BIN/psql' -X -h '$PG_DIR' -U '$user' -d other -c 'select 1' 2>$TMP/e2"
expect_in "$TMP/e2" 'permission denied for database "other"' "and the refusal is PostgreSQL's CONNECT check"
check "nor to one on the allow-list it did not ask for" \
    sh -c "! PGPASSWORD='$pw' '$PG_BIN/psql' -X -h '$PG_DIR' -U '$user' -d 'we\"ird\\db' -c 'select 1' 2>/dev/null"
check "the URL alone logs in, as the role" [ "$("$PG_BIN/psql" -X -tA "$url" -c 'select current_user')" = "$user" ]
check "a wrong password does not" \
    sh -c "! PGPASSWORD=nope '$PG_BIN/psql' -X -h '$PG_DIR' -U '$user' -d app -c 'select 1' 2>/dev/null"

# The password and the URL each lead back to the lease.
printf '%s' "$pw" | "$JANEE" audit lookup >"$TMP/lk1" 2>&1
expect_in "$TMP/lk1" "$lease" "audit lookup finds the lease by its password"
printf '%s' "$url" | "$JANEE" audit lookup >"$TMP/lk2" 2>&1
expect_in "$TMP/lk2" "$lease" "and by its URL"

# ---------------------------------------------------------------- lease end
jr lease revoke "$lease"
expect_rc 0 "lease revoke ends it"
check "the role is dropped" [ "$(sql "select count(*) from pg_roles where rolname = '$user'")" = 0 ]
check "it cannot log in after the lease's end" \
    sh -c "! PGPASSWORD='$pw' '$PG_BIN/psql' -X -h '$PG_DIR' -U '$user' -d app -c 'select 1' 2>/dev/null"
check "no privilege of it is left (pg_shdepend)" \
    [ "$(sql "select count(*) from pg_shdepend s left join pg_roles r on r.oid = s.refobjid where r.oid is null and s.refclassid = 'pg_authid'::regclass")" = 0 ]

# What a lease made is handed to the admin, not lost, when it ends.
jr token db --scope app_rw --ttl 10m --json
user=$(json_get "$TMP/out" 'j["parts"]["user"]')
pw=$(json_get "$TMP/out" 'j["parts"]["password"]')
lease=$(json_get "$TMP/out" 'j["lease_id"]')
pg_psql -d app -c 'GRANT CREATE ON SCHEMA public TO app_rw' >/dev/null
check "an app_rw lease writes" \
    [ "$(as_lease "$user" "$pw" app "insert into items values (3, 'three') returning id")" = 3 ]
as_lease "$user" "$pw" app "create table made_by_lease (x int)" >/dev/null
check "and makes a table" [ "$(sql "select count(*) from pg_tables where tablename = 'made_by_lease'")" = 1 ]
jr lease revoke "$lease"
check "at its end the role is gone" [ "$(sql "select count(*) from pg_roles where rolname = '$user'")" = 0 ]
check "and its table belongs to the admin (REASSIGN OWNED)" \
    [ "$(sql "select tableowner from pg_tables where tablename = 'made_by_lease'")" = postgres ]

# Sessions end within 2 s of the lease's end: janee exec runs psql past
# it; the lease expires, janee revokes, the session is terminated.
cat >"$TMP/long.sh" <<'EOF'
"$PG_BIN/psql" -X -c 'select pg_sleep(30)' >/dev/null 2>"$OUT.err"
st=$?
date +%s%3N >"$OUT.end"
echo $st >"$OUT.rc"
EOF
OUT="$TMP/long" PG_BIN="$PG_BIN" \
    "$JANEE" exec db --scope readonly --ttl 4s --on-expiry keep -- sh "$TMP/long.sh" \
    >"$TMP/exec.out" 2>"$TMP/exec.err"
jr lease list --all --json
ended=$("$PYTHON3" - "$TMP/out" <<'PY'
import json, sys, datetime
ls = [l for l in json.load(open(sys.argv[1])) if l["provider"] == "db"]
e = ls[0]["expires_at"]
print(int(datetime.datetime.strptime(e, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp() * 1000))
PY
)
check "the session was cut, not left to finish its 30 s" [ "$(cat "$TMP/long.rc")" != 0 ]
expect_in "$TMP/long.err" 'terminating connection due to administrator command' "PostgreSQL says an administrator ended it"
gap=$(($(cat "$TMP/long.end") - ended))
check "within 2 s of the lease's end (it took ${gap} ms)" [ "$gap" -le 2000 ]

# VALID UNTIL holds with no janee running: the password stops working at
# the lease's end even before any revocation (no background agent either:
# the one earlier commands started is stopped, and this token starts none).
. "$JANEE_SRCDIR/tests/lib/agent.sh"
agent_stop
JANEE_NO_AGENT=1 jr token db --scope readonly --ttl 2s --json
user=$(json_get "$TMP/out" 'j["parts"]["user"]')
pw=$(json_get "$TMP/out" 'j["parts"]["password"]')
sleep 3
check "past VALID UNTIL the server refuses the password by itself" \
    sh -c "! PGPASSWORD='$pw' '$PG_BIN/psql' -X -h '$PG_DIR' -U '$user' -d app -c 'select 1' 2>/dev/null"
check "the role is still there until janee sweeps" [ "$(sql "select count(*) from pg_roles where rolname = '$user'")" = 1 ]
jr lease sweep
check "the sweep drops it" [ "$(sql "select count(*) from pg_roles where rolname = '$user'")" = 0 ]

# ---------------------------------------------------------------- janee exec
cat >"$TMP/envdump.sh" <<'EOF'
for v in DATABASE_URL PGUSER PGPASSWORD PGHOST PGPORT PGDATABASE; do
	eval "printf '%s=%s\n' $v \"\${$v:-}\""
done >"$OUT"
"$PG_BIN/psql" -X -tA -c 'select current_user || '"'"' '"'"' || current_database()' >>"$OUT"
EOF
PGPORT=6666 OUT="$TMP/env" PG_BIN="$PG_BIN" "$JANEE" exec db --scope readonly -- sh "$TMP/envdump.sh" >/dev/null 2>"$TMP/exec.err"
check "janee exec runs the command" [ -s "$TMP/env" ]
expect_in "$TMP/env" '^DATABASE_URL=postgresql://janee_lse_' "DATABASE_URL is the lease's URL"
expect_in "$TMP/env" '^PGUSER=janee_lse_' "PGUSER is the lease's role"
expect_in "$TMP/env" '^PGPASSWORD=[A-Za-z0-9_-]{43}$' "PGPASSWORD its password"
expect_in "$TMP/env" "^PGHOST=$PG_DIR\$" "PGHOST the server's socket directory"
expect_in "$TMP/env" '^PGPORT=5432$' "PGPORT the server's port (the inherited 6666 is replaced)"
expect_in "$TMP/env" '^PGDATABASE=app$' "PGDATABASE the database"
expect_in "$TMP/env" '^janee_lse_[a-z2-7]* app$' "with only these, psql logs in as the role"
check "and the role is gone when the command exits" \
    [ "$(sql "select count(*) from pg_roles where rolname like 'janee\\_lse\\_%'")" = 0 ]

# ---------------------------------------------------------------- MCP
serve_open pgclient
serve_call 2 '{"provider": "db", "scopes": ["readonly"], "resources": ["app"], "reason": "read the items"}'
serve_call 3 '{"provider": "db", "scopes": ["readonly"], "repositories": ["app"], "reason": "the GitHub spelling"}'
serve_close
"$PYTHON3" - "$TMP/serve.out" >"$TMP/mcp.txt" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("id") in (2, 3):
        r = m["result"]
        sc = r.get("structuredContent") or {}
        print(m["id"], r["isError"], sc.get("primary"), sorted(sc.get("parts", {})),
              sc.get("token") == sc.get("parts", {}).get("url"),
              r["content"][0]["text"][:80] if r["isError"] else "")
PY
expect_in "$TMP/mcp.txt" "^2 False url \['database', 'host', 'password', 'port', 'url', 'user'\] True" \
    "request_token returns the parts, the URL as token"
expect_in "$TMP/mcp.txt" "^3 False url" "repositories is taken as the resources' other name"

# ---------------------------------------------------------------- crash
# janee dies after the provider made the role, before the lease is active.
JANEE_TEST_CRASH_AT=after_mint jr token db --scope readonly --ttl 10m
check "a crash after CREATE ROLE (status 137)" [ "$(rc)" -eq 137 ]
jr lease list --json
crashed=$(json_get "$TMP/out" '[l["id"] for l in j if l["state"] == "minting"][0]')
check "left the lease minting and its role behind" [ "$(sql "select count(*) from pg_roles where rolname = 'janee_$crashed'")" = 1 ]
# And a role of a lease janee never heard of (a ledger restored from an
# older backup), and one that only looks alike: the first goes, never
# the second.
pg_psql -c 'CREATE ROLE janee_lse_aaaaaaaaaaaaaaaaaaaaaaaaaa LOGIN' -c 'CREATE ROLE janee_admin2 LOGIN' >/dev/null
JANEE_TEST_CLOCK_OFFSET=600 jr lease show "$crashed"
expect_in "$TMP/out" '^state: +failed' "the next janee reconciles the lease: failed"
expect_in "$TMP/out" 'janee stopped while minting; 1 token' "and says the role was found and ended"
check "the crashed lease's role is gone" [ "$(sql "select count(*) from pg_roles where rolname = 'janee_$crashed'")" = 0 ]
check "so is the role of a lease janee does not hold" [ "$(sql "select count(*) from pg_roles where rolname = 'janee_lse_aaaaaaaaaaaaaaaaaaaaaaaaaa'")" = 0 ]
check "a role that is not janee's stays" [ "$(sql "select count(*) from pg_roles where rolname = 'janee_admin2'")" = 1 ]

# ---------------------------------------------------------------- quoting
jr token db --scope "$EVIL" --resource 'we"ird\db' --ttl 10m --json
expect_rc 0 "a scope and a database named with quotes and backslashes work"
user=$(json_get "$TMP/out" 'j["parts"]["user"]')
pw=$(json_get "$TMP/out" 'j["parts"]["password"]')
check "the role is a member of the role of that exact name" \
    [ "$(sql "select b.rolname from pg_auth_members m join pg_roles r on r.oid = m.member join pg_roles b on b.oid = m.roleid where r.rolname = '$user'")" = "$EVIL" ]
check "the SQL in the name was never run: readonly exists" [ "$(sql "select count(*) from pg_roles where rolname = 'readonly'")" = 1 ]
check "CONNECT on the database of that exact name" [ "$(as_lease "$user" "$pw" 'we"ird\db' 'select current_database()')" = 'we"ird\db' ]
jr token db --scope "readonly\"; DROP ROLE app_rw; --" --ttl 10m
expect_rc 1 "a scope outside the ceiling is refused before any SQL"
check "app_rw is still there" [ "$(sql "select count(*) from pg_roles where rolname = 'app_rw'")" = 1 ]

# ---------------------------------------------------------------- only
# A database the role could reach beyond the request: refused, undone.
pg_psql -c 'GRANT CONNECT ON DATABASE other TO PUBLIC' >/dev/null
before=$(sql "select count(*) from pg_roles")
jr token db --scope readonly --resource app --ttl 10m
expect_rc 1 "a role that could reach another database is not handed out"
expect_in "$TMP/err" "could also connect to database 'other'" "the refusal names the database"
expect_in "$TMP/err" "REVOKE CONNECT ON DATABASE name FROM PUBLIC" "and says how to fix it"
check "and nothing is left of it (one transaction)" [ "$(sql "select count(*) from pg_roles")" = "$before" ]
write_pg_config '{"other_databases": "allow"}'
jr token db --scope readonly --resource app --ttl 10m
expect_rc 0 "\"other_databases\": \"allow\" accepts it"
pg_psql -c 'REVOKE CONNECT ON DATABASE other FROM PUBLIC' >/dev/null
write_pg_config ''

# ---------------------------------------------------------------- config
jr token db --scope readonly --resource other --ttl 10m
expect_rc 1 "a database off the allow-list is refused"
expect_in "$TMP/err" "database 'other' is not on the allow-list" "and named"
"$PYTHON3" - "$JANEE_HOME/config.json" "$PG_PASSWORD" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["providers"]["db"]["dsn"] += " password=" + sys.argv[2]
json.dump(c, open(sys.argv[1], "w"))
PY
jr provider list
expect_rc 1 "a DSN that holds a password is refused"
expect_in "$TMP/err" "'dsn' holds a password" "config.json holds no secrets"
expect_not_in "$TMP/err" "$PG_PASSWORD" "and the message does not show it"
write_pg_config '{"databases": []}'
jr provider list
expect_in "$TMP/err" "'databases'.*must not be empty" "an empty allow-list is an error, never every database"
write_pg_config '{"dsn": "host=db.example.com dbname=app user=postgres", "sslmode": "require"}'
jr token db --scope readonly --ttl 10m
expect_rc 1 "sslmode require to a remote server is refused (TLS is verified)"
expect_in "$TMP/err" "would not verify TLS" "and it says why"
write_pg_config ''
jr provider show db --json
check "provider show says the parts and their variables" \
    [ "$(json_get "$TMP/out" '[(p["name"], p.get("env")) for p in j["parts"]][:3]')" = "[('url', 'DATABASE_URL'), ('user', 'PGUSER'), ('password', 'PGPASSWORD')]" ]

jr lease revoke --all
check "with every lease ended, no janee role is left" \
    [ "$(sql "select count(*) from pg_roles where rolname like 'janee\\_lse\\_%'")" = 0 ]
done_testing
