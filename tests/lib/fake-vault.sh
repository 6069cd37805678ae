# Fake HashiCorp Vault (KV version 2) for the integration scripts (sourced
# after tests/lib.sh).  The server is tests/fixtures/fake_vault.mjs
# (Node.js, built-ins only); its header comment lists what it answers.
#
# Functions
#   fake_vault_start DATAFILE [--namespace NS]
#       Starts the server (fake_start vault, tests/lib/fake.sh) with the
#       tokens, mounts and secrets of DATAFILE.  Exports
#       FAKE_VAULT (https://127.0.0.1:PORT, for VAULT_ADDR), FAKE_VAULT_CA
#       (for VAULT_CACERT), FAKE_VAULT_PID and FAKE_VAULT_LOG (one JSON
#       line per request; never a token or secret value).
#   fake_vault_stop_all   stop every server started by this script
#   fake_vault_count PATH STATUS
#       how many logged requests for PATH answered STATUS

. "$JANEE_SRCDIR/tests/lib/fake.sh"

fake_vault_start() {
	_data=${1:?fake_vault_start: DATAFILE missing}
	shift
	fake_start vault --data "$_data" "$@" || return 1
	FAKE_VAULT="https://127.0.0.1:$FAKE_STARTED_PORT"
	FAKE_VAULT_CA="$TMP/ca/ca.pem"
	FAKE_VAULT_PID=$FAKE_STARTED_PID
	FAKE_VAULT_LOG=$FAKE_STARTED_LOG
	export FAKE_VAULT FAKE_VAULT_CA FAKE_VAULT_PID FAKE_VAULT_LOG
}

fake_vault_stop_all() { fake_stop_all; }

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
