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
trap 'rm -rf "$TMP"' EXIT
export HOME="$TMP/home"
export JANEE_HOME="$TMP/janee"
mkdir -p "$HOME"
unset JANEE_PASSPHRASE JANEE_NEW_PASSPHRASE JANEE_TEST_CLOCK_OFFSET
umask 022

_failures=0

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

done_testing() {
	[ "$_failures" -eq 0 ]
}
