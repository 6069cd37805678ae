# Fake HashiCorp Vault (KV version 2) for the integration scripts (sourced
# after tests/lib.sh).  The server is tests/fixtures/fake_vault.mjs
# (Node.js, built-ins only); its header comment lists what it answers.
#
# Functions
#   fake_vault_start DATAFILE [--namespace NS]
#       Makes the test CA under $TMP/ca (make_test_ca, tests/lib/ca.sh),
#       starts the server in the background with the tokens, mounts and
#       secrets of DATAFILE, and waits (up to 10 s) for it.  Exports
#       FAKE_VAULT (https://127.0.0.1:PORT, for VAULT_ADDR), FAKE_VAULT_CA
#       (for VAULT_CACERT), FAKE_VAULT_PID and FAKE_VAULT_LOG (one JSON
#       line per request; never a token or secret value).  The first start
#       chains a kill of every server started here onto the EXIT trap (the
#       rm -rf "$TMP" of tests/lib.sh is kept); the server also exits by
#       itself once the script's shell is gone.
#   fake_vault_stop_all   stop every server started by this script
#   fake_vault_count PATH STATUS
#       how many logged requests for PATH answered STATUS

FAKE_VAULT_MJS="$JANEE_SRCDIR/tests/fixtures/fake_vault.mjs"
_fake_vault_pids=
_fake_vault_n=0
_fake_vault_trapped=

. "$JANEE_SRCDIR/tests/lib/ca.sh"

_fake_vault_grab_trap() {
	case "${3:-}" in EXIT | 0) _fake_vault_old_trap=${2:-} ;; esac
	return 0
}
_fake_vault_chain_trap() {
	[ -n "$_fake_vault_trapped" ] && return 0
	_fake_vault_old_trap=
	trap >"$TMP/.fake-vault-traps"
	eval "$(sed 's/^trap -- /_fake_vault_grab_trap -- /' \
		"$TMP/.fake-vault-traps")"
	rm -f "$TMP/.fake-vault-traps"
	[ -n "$_fake_vault_old_trap" ] || _fake_vault_old_trap='capture_keep; rm -rf "$TMP"'
	trap "fake_vault_stop_all; $_fake_vault_old_trap" EXIT
	_fake_vault_trapped=1
}

_fake_vault_sleep() { sleep 0.1 2>/dev/null || sleep 1; }

fake_vault_start() {
	_data=${1:?fake_vault_start: DATAFILE missing}
	shift
	command -v node >/dev/null 2>&1 || {
		echo "fake-vault: node not found" >&2
		return 1
	}
	if [ ! -s "$TMP/ca/server.pem" ]; then
		make_test_ca "$TMP/ca" || return 1
	fi
	_fake_vault_chain_trap
	_fake_vault_n=$((_fake_vault_n + 1))
	_dir="$TMP/fake-vault.$_fake_vault_n"
	mkdir -p "$_dir"
	node "$FAKE_VAULT_MJS" --cert "$TMP/ca/server.pem" \
		--key "$TMP/ca/server.key" --data "$_data" \
		--port-file "$_dir/port" --log "$_dir/requests.log" \
		--parent-pid $$ "$@" >>"$_dir/server.out" 2>&1 </dev/null &
	_pid=$!
	_fake_vault_pids="$_fake_vault_pids $_pid"
	_i=0
	while [ ! -s "$_dir/port" ]; do
		if ! kill -0 "$_pid" 2>/dev/null || [ $_i -ge 100 ]; then
			echo "fake-vault: the server did not start:" >&2
			sed 's/^/  /' "$_dir/server.out" >&2
			kill "$_pid" 2>/dev/null
			return 1
		fi
		_i=$((_i + 1))
		_fake_vault_sleep
	done
	FAKE_VAULT="https://127.0.0.1:$(cat "$_dir/port")"
	FAKE_VAULT_CA="$TMP/ca/ca.pem"
	FAKE_VAULT_PID=$_pid
	FAKE_VAULT_LOG="$_dir/requests.log"
	touch "$FAKE_VAULT_LOG"
	export FAKE_VAULT FAKE_VAULT_CA FAKE_VAULT_PID FAKE_VAULT_LOG
}

fake_vault_stop_all() {
	for _p in $_fake_vault_pids; do
		kill "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	_fake_vault_pids=
}

fake_vault_count() {
	"${PYTHON3:-python3}" -S -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["path"] == sys.argv[2] and e["status"] == int(sys.argv[3]):
        n += 1
print(n)
' "$FAKE_VAULT_LOG" "$1" "$2"
}
