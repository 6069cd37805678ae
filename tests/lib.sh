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

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; _failures=$((_failures + 1)); }
skip() { echo "ok - $1 # SKIP $2"; }

# check NAME CMD...: passes when CMD exits 0
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
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

# serve_request SCOPE TTL [PROVIDER]: janee serve with one request_token
# (PROVIDER default t, reason "waits") answered pending; the session stays
# open on fd 6 (as an agent's would) until serve_close: when it ends,
# janee denies what it left waiting, since only it could collect.  Its
# output is in $TMP/serve.out and serve.err; the lease id in $lease.
serve_request() {
	rm -f "$TMP/in"
	mkfifo "$TMP/in"
	"$JANEE" serve <"$TMP/in" >"$TMP/serve.out" 2>"$TMP/serve.err" &
	spid=$!
	exec 6>"$TMP/in"
	printf '%s\n' \
	    '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"lib.sh","version":"1"}}}' \
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"request_token\",\"arguments\":{\"provider\":\"${3:-t}\",\"scopes\":[\"$1\"],\"ttl_seconds\":$2,\"reason\":\"waits\"}}}" >&6
	# Keep the session open until the answer came (slow under valgrind).
	_sr=0
	until grep -q '"id":2' "$TMP/serve.out" || [ $_sr -ge 600 ]; do
		sleep 0.1
		_sr=$((_sr + 1))
	done
	if ! grep -q '"id":2' "$TMP/serve.out"; then
		not_ok "janee serve answered request_token within 60 s"
		sed 's/^/  serve stdout: /' "$TMP/serve.out" >&2
		sed 's/^/  serve stderr: /' "$TMP/serve.err" >&2
	fi
	lease=$(sed -n 's/.*pending: lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/serve.out" | head -n 1)
}
serve_close() {
	exec 6>&-
	wait $spid
}

done_testing() {
	[ "$_failures" -eq 0 ]
}
