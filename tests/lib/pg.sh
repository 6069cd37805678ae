# A real PostgreSQL server for the integration scripts (sourced after
# tests/lib.sh): Debian's postgresql-15, a fresh cluster in a temporary
# directory, reached over a Unix socket in that directory only (no TCP),
# passwords checked (scram-sha-256).  CI runs as root, and PostgreSQL
# refuses to: as root the cluster is made and run as the user postgres
# (the Debian package creates it), with runuser.
#
# Functions
#   pg_start [DIR]
#       initdb and start the server; prints its DSN (libpq keywords:
#       host=DIR port=5432 user=postgres dbname=postgres) on stdout and
#       sets PG_DSN, PG_DIR (the directory: socket, data, log), PG_BIN
#       (PostgreSQL's programs), PG_PASSWORD (the superuser's, random; also
#       registered with leak_secret) and PGPASSWORD_FILE (a 0600 file
#       holding it).  DIR (default: a new one under ${TMPDIR:-/tmp}) must be
#       empty or absent.  Call it in this shell, not in $(...): the stop is
#       chained onto this shell's EXIT trap (tests/lib.sh's rm -rf "$TMP"
#       is kept), so the server is stopped when the script ends, failing
#       or not.  Returns non-zero, with the server's log, when it does not
#       come up in 30 s.
#   pg_stop               stop the server (fast shutdown) and remove its
#                         directory
#   pg_psql [ARGS...]     psql as the superuser, no psqlrc, ON_ERROR_STOP
#   pg_psql_as USER PASSWORD [ARGS...]
#                         psql as USER with PASSWORD (given in the
#                         environment, never in argv)
#   pg_bin                prints PG_BIN: the newest installed under
#                         /usr/lib/postgresql, or pg_config's bindir

PG_DIR=
_pg_trapped=

pg_bin() {
	for _pb in /usr/lib/postgresql/*/bin; do
		[ -x "$_pb/initdb" ] && _pb_last=$_pb
	done
	if [ -n "${_pb_last:-}" ]; then
		printf '%s\n' "$_pb_last"
	elif command -v pg_config >/dev/null 2>&1; then
		pg_config --bindir
	else
		return 1
	fi
}

# Run a PostgreSQL program as the cluster's owner.
_pg_as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Put "stop the server" in front of the EXIT trap, once.
_pg_chain_trap() {
	[ -n "$_pg_trapped" ] && return 0
	chain_exit_trap pg_stop
	_pg_trapped=1
}

pg_start() {
	PG_BIN=$(pg_bin) || {
		echo "pg_start: no PostgreSQL server programs (install postgresql-15)" >&2
		return 1
	}
	if [ -n "${1:-}" ]; then
		PG_DIR=$1
		mkdir -p "$PG_DIR" || return 1
	else
		PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/janee-pg.XXXXXX") || return 1
	fi
	_pg_chain_trap
	# The owner must reach its directory; root reaches everything.
	chmod 755 "$PG_DIR"
	[ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
	PG_PASSWORD=$(openssl rand -hex 24) || return 1
	PGPASSWORD_FILE="$PG_DIR/admin.pw"
	(umask 077 && printf '%s\n' "$PG_PASSWORD" >"$PGPASSWORD_FILE")
	[ "$(id -u)" -eq 0 ] && chown postgres "$PGPASSWORD_FILE"
	leak_secret pg-superuser "$PG_PASSWORD"
	_pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres \
		--pwfile="$PGPASSWORD_FILE" --auth-local=scram-sha-256 \
		--auth-host=scram-sha-256 --no-instructions --no-sync \
		-E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1 || {
		echo "pg_start: initdb failed:" >&2
		sed 's/^/  /' "$PG_DIR/initdb.log" >&2
		return 1
	}
	cat >>"$PG_DIR/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$PG_DIR'
unix_socket_permissions = 0777
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
shared_buffers = 16MB
EOF
	_pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" \
		-w -t 30 start >"$PG_DIR/pg_ctl.log" 2>&1 || {
		echo "pg_start: the server did not start:" >&2
		sed 's/^/  /' "$PG_DIR/pg_ctl.log" "$PG_DIR/server.log" >&2
		return 1
	}
	PG_DSN="host=$PG_DIR port=5432 user=postgres dbname=postgres"
	export PG_DSN PG_DIR PG_BIN PG_PASSWORD PGPASSWORD_FILE
	printf '%s\n' "$PG_DSN"
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] || return 0
	if [ -f "$PG_DIR/data/postmaster.pid" ]; then
		_pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w \
			-t 30 stop >/dev/null 2>&1 ||
			_pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" \
				-m immediate stop >/dev/null 2>&1
	fi
	rm -rf "$PG_DIR"
	PG_DIR=
}

pg_psql() {
	PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
		-h "$PG_DIR" -p 5432 -U postgres -d postgres "$@"
}

pg_psql_as() {
	_pu=$1 _pp=$2
	shift 2
	PGPASSWORD=$_pp "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
		-h "$PG_DIR" -p 5432 -U "$_pu" "$@"
}
