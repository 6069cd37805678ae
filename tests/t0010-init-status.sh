#!/bin/sh
# janee init and janee status: private home, both key backends, refusal
# to initialise twice, the status report and its JSON.
. "$JANEE_SRCDIR/tests/lib.sh"

mode() { stat -c %a "$1"; }

jr init --key-backend keyfile
expect_rc 0 "init with a key file"
check "home is 0700" [ "$(mode "$JANEE_HOME")" = 700 ]
check "ledger is 0600" [ "$(mode "$JANEE_HOME/janee.db")" = 600 ]
check "key file is 0600" [ "$(mode "$JANEE_HOME/master.key")" = 600 ]
expect_in "$TMP/err" 'whoever can read the home' "key-file backend warns that it is weaker"

jr init --key-backend keyfile
expect_rc 1 "second init is refused"
expect_in "$TMP/err" 'already initialised' "second init says so"

jr status
expect_rc 0 "status on a fresh home"
expect_in "$TMP/out" 'integrity ok' "status runs the integrity check"
expect_in "$TMP/out" 'schema [0-9]+' "status shows the schema version"
expect_in "$TMP/out" 'key backend: +keyfile' "status shows the key backend"

jr status --json
expect_rc 0 "status --json"
check "status --json is JSON with the fields" "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["integrity"] == "ok" and d["schema_version"] >= 1
assert d["key_backend"] == "keyfile" and d["leases"]["active"] == 0
' "$TMP/out"

# passphrase backend, passphrase from a descriptor
export JANEE_HOME="$TMP/pp"
echo "a long passphrase" >"$TMP/pw"
"$JANEE" init --new-passphrase-fd 3 3<"$TMP/pw" >"$TMP/out" 2>"$TMP/err"
echo $? >"$TMP/rc"
expect_rc 0 "init with a passphrase from a descriptor"
check "no key file with the passphrase backend" [ ! -e "$JANEE_HOME/master.key" ]
jr status
expect_in "$TMP/out" 'passphrase \(scrypt:32768:8:1\)' "status shows scrypt parameters"

export JANEE_HOME="$TMP/short"
JANEE_NEW_PASSPHRASE=short jr init
expect_rc 2 "a short passphrase is refused"
check "a refused init leaves no home behind" [ ! -e "$JANEE_HOME/janee.db" ]

jr init </dev/null
expect_rc 2 "passphrase init without any passphrase source fails"
expect_in "$TMP/err" 'new passphrase' "and says how to give one"

jr init --key-backend vault
expect_rc 2 "unknown key backend is a usage error"

# --home beats JANEE_HOME
jr --home "$TMP/other" init --key-backend keyfile
expect_rc 0 "--home is honoured"
check "--home created the ledger there" [ -f "$TMP/other/janee.db" ]

done_testing
