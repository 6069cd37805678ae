# Shared harness for the integration scripts (sourced).  Each script gets
# a private scratch directory with its own HOME and JANEE_HOME, runs the
# test build of janee (tests/janee-test: the real CLI with the test-only
# provider), and reports each check as "ok - NAME" or "not ok - NAME".
set -u

: "${JANEE_BUILDDIR:?run through tests/run.sh or make check}"
: "${JANEE_SRCDIR:?run through tests/run.sh or make check}"
JANEE="$JANEE_BUILDDIR/tests/janee-test"
# JANEE_VALGRIND=1: every janee command runs under valgrind memcheck.
[ -n "${JANEE_VALGRIND:-}" ] && JANEE="$JANEE_SRCDIR/tests/vg-janee.sh"
PYTHON3=${PYTHON3:-python3}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/janee-t.XXXXXX")
trap 'capture_keep; rm -rf "$TMP"' EXIT
export HOME="$TMP/home"
export JANEE_HOME="$TMP/janee"
mkdir -p "$HOME"
unset JANEE_PASSPHRASE JANEE_NEW_PASSPHRASE JANEE_TEST_CLOCK_OFFSET
# No desktop: janee serve would show desktop notifications on the
# session bus (src/notify.c); a test that wants them brings its own bus.
unset DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR
umask 022

_failures=0

# The suite-wide leak sweep (tests/leak-sweep.py, run by tests/run.sh).
# tests/run.sh sets JANEE_TEST_CAPTURE_DIR (this script's part of the
# capture: janee-test copies out its stdout, stderr and the files it
# writes, see tests/capture.c) and JANEE_LEAK_SECRETS_FILE (every secret
# used, one "KIND<TAB>VALUE" line each; janee-test, the fakes and the
# peers add what they issue, seal or are given).  Without them these do
# nothing.
#
# leak_secret KIND VALUE: a secret this script uses (a client secret, a
# passphrase) that no fake or peer would see.
leak_secret() {
	[ -n "${JANEE_LEAK_SECRETS_FILE:-}" ] || return 0
	case $2 in
	*'
'*) printf '%s:b64\t%s\n' "$1" "$(printf '%s' "$2" | base64 | tr -d '\n')" ;;
	*) printf '%s\t%s\n' "$1" "$2" ;;
	esac >>"$JANEE_LEAK_SECRETS_FILE"
}

# leak_secret_file KIND FILE: a secret held in a file (a private key).
leak_secret_file() {
	[ -n "${JANEE_LEAK_SECRETS_FILE:-}" ] || return 0
	printf '%s:b64\t%s\n' "$1" "$(base64 <"$2" | tr -d '\n')" \
	    >>"$JANEE_LEAK_SECRETS_FILE"
}

# capture_keep (in the EXIT trap, before $TMP goes): copy every janee
# home a janee-test process of this script used, as it is at the end
# (ledger, WAL, config, key file), into the capture.  Homes outside $TMP
# are not copied.
capture_keep() {
	[ -n "${JANEE_TEST_CAPTURE_DIR:-}" ] &&
	    [ -d "$JANEE_TEST_CAPTURE_DIR" ] || return 0
	_ck_tmp=$(cd "$TMP" && pwd -P) || return 0
	_ck_n=0
	cat "$JANEE_TEST_CAPTURE_DIR"/*.paths 2>/dev/null |
	    sed -n 's/^home	//p' | sort -u | while IFS= read -r _ck_d; do
		case $_ck_d in
		"$_ck_tmp"/*) ;;
		*) continue ;;
		esac
		[ -d "$_ck_d" ] || continue
		_ck_n=$((_ck_n + 1))
		mkdir -p "$JANEE_TEST_CAPTURE_DIR/homes"
		cp -R "$_ck_d" "$JANEE_TEST_CAPTURE_DIR/homes/$_ck_n" 2>/dev/null
		printf '%s\n' "$_ck_d" >"$JANEE_TEST_CAPTURE_DIR/homes/$_ck_n.path"
	done
}

# chain_exit_trap CMD: run CMD first at exit, then whatever EXIT trap is
# set now (tests/lib.sh's capture_keep and rm -rf "$TMP" at least); for
# the helpers that start servers (tests/lib/fake.sh, tests/lib/pg.sh).
_chain_grab_trap() {
	case "${3:-}" in EXIT | 0) _chain_old_trap=${2:-} ;; esac
	return 0
}
chain_exit_trap() {
	_chain_old_trap=
	trap >"$TMP/.traps"
	eval "$(sed 's/^trap -- /_chain_grab_trap -- /' "$TMP/.traps")"
	rm -f "$TMP/.traps"
	[ -n "$_chain_old_trap" ] || _chain_old_trap='capture_keep; rm -rf "$TMP"'
	trap "$1; $_chain_old_trap" EXIT
}

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; _failures=$((_failures + 1)); }
skip() { echo "ok - $1 # SKIP $2"; }

# check NAME CMD...: passes when CMD exits 0
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# no_token FILE NAME: no token of $TMP/tokens (those the test minted, one
# a line) occurs in FILE; a hit is reported without showing the token
no_token() {
	if [ ! -s "$TMP/tokens" ]; then
		not_ok "$2"
		echo "  no tokens were minted to look for" >&2
	elif grep -qF -f "$TMP/tokens" "$1"; then
		not_ok "$2"
		echo "  a token was found in $1 (not shown)" >&2
	else
		ok "$2"
	fi
}

# run janee, keeping stdout, stderr and the status for the checks after
jr() {
	"$JANEE" "$@" >"$TMP/out" 2>"$TMP/err"
	echo $? >"$TMP/rc"
}
rc() { cat "$TMP/rc"; }
out() { cat "$TMP/out"; }
err() { cat "$TMP/err"; }

# Fail loudly with context when an expectation does not hold.
expect_rc() {
	want=$1 name=$2
	if [ "$(rc)" = "$want" ]; then
		ok "$name"
	else
		not_ok "$name"
		echo "  exit status $(rc), expected $want" >&2
		sed 's/^/  stdout: /' "$TMP/out" >&2
		sed 's/^/  stderr: /' "$TMP/err" >&2
	fi
}

# expect_in FILE PATTERN NAME: grep -E PATTERN in FILE
expect_in() {
	if grep -Eq -- "$2" "$1"; then ok "$3"; else
		not_ok "$3"
		echo "  no /$2/ in $1:" >&2
		sed 's/^/  | /' "$1" >&2
	fi
}

expect_not_in() {
	if grep -Eq -- "$2" "$1"; then
		not_ok "$3"
		echo "  /$2/ found in $1" >&2
	else ok "$3"; fi
}

# A janee home with the key-file backend (fast) and the test provider.
setup_home() {
	"$JANEE" init --key-backend keyfile >/dev/null 2>&1 || {
		echo "setup: janee init failed" >&2
		return 1
	}
	mkdir -p "$TMP/prov"
	write_config "${1:-}"
}

# write_config EXTRA: a provider "t" of type test, EXTRA merged in as
# JSON members (e.g. '"revoke": "fail",').
write_config() {
	cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {"t": {${1:-} "type": "test", "state_dir": "$TMP/prov",
  "scopes": ["read", "write", "admin"], "default_scopes": ["read"],
  "max_ttl": "1h", "approval": "auto"}}}
JSON
	chmod 600 "$JANEE_HOME/config.json"
}

# live tokens on the test provider's side
live_tokens() {
	find "$TMP/prov" -type f ! -name calls.log | wc -l | tr -d ' '
}

mints() {
	grep -c '^mint ' "$TMP/prov/calls.log" 2>/dev/null || echo 0
}

# A janee serve session kept open on a fifo (fd 6), as an agent's would:
# serve_open NAME starts it and sends initialize (clientInfo NAME);
# serve_call ID ARGS sends a request_token call with ARGS as its
# arguments and waits (up to 60 s) for the answer with that id in
# $TMP/serve.out; serve_close ends the session (janee then denies what
# it left waiting).  $spid is the server's pid.
serve_open() {
	rm -f "$TMP/in"
	mkfifo "$TMP/in"
	# Emptied here, not only by the server's redirections: those
	# happen once the fifo has a writer, which may be after serve_call
	# (or a wait on serve.err) first looks, and it would find a previous
	# session's lines.
	: >"$TMP/serve.out"
	: >"$TMP/serve.err"
	"$JANEE" serve <"$TMP/in" >"$TMP/serve.out" 2>"$TMP/serve.err" &
	spid=$!
	exec 6>"$TMP/in"
	printf '%s\n' "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"$1\",\"version\":\"1\"}}}" >&6
}
serve_call() {
	printf '%s\n' "{\"jsonrpc\":\"2.0\",\"id\":$1,\"method\":\"tools/call\",\"params\":{\"name\":\"request_token\",\"arguments\":$2}}" >&6
	_sc_n=0
	until grep -q "\"id\":$1[,}]" "$TMP/serve.out" || [ $_sc_n -ge 600 ]; do
		sleep 0.1
		_sc_n=$((_sc_n + 1))
	done
	if ! grep -q "\"id\":$1[,}]" "$TMP/serve.out"; then
		not_ok "janee serve answered request_token within 60 s"
		sed 's/^/  serve stdout: /' "$TMP/serve.out" >&2
		sed 's/^/  serve stderr: /' "$TMP/serve.err" >&2
	fi
}
serve_close() {
	exec 6>&-
	wait $spid
}

# minting_lease: the id of the newest lease in state minting
minting_lease() {
	"$JANEE" lease list --json | "$PYTHON3" -c 'import json,sys; print([l["id"] for l in json.load(sys.stdin) if l["state"] == "minting"][0])'
}

# lease_span FILE: seconds from created_at to expires_at of the lease in
# FILE (janee lease show ID --json)
lease_span() {
	"$PYTHON3" -c '
import json, sys, datetime as d
l = json.load(open(sys.argv[1]))
t = lambda s: d.datetime.fromisoformat(s.replace("Z", "+00:00"))
print(int((t(l["expires_at"]) - t(l["created_at"])).total_seconds()))' "$1"
}

# kept_token SEALED: the access token the last login janee-test sealed
# keeps for a lease (its "minted" list, oauth_minted_add), from the file
# JANEE_LEAK_SECRETS_FILE named for that command; the file is passed on
# to the suite's leak sweep.  For tests of a crash before the ledger has
# the token (which janee therefore never printed).
kept_token() {
	[ -n "${JANEE_LEAK_SECRETS_FILE:-}" ] && cat "$1" >>"$JANEE_LEAK_SECRETS_FILE"
	"$PYTHON3" -c '
import json, sys
logins = [l.split("\t", 1)[1] for l in open(sys.argv[1]) if l.startswith("sealed-login\t")]
sys.stdout.write(json.loads(logins[-1])["minted"][-1]["access_token"])' "$1"
}

done_testing() {
	[ "$_failures" -eq 0 ]
}
