#!/bin/sh
# janee doctor (issue 16, item 8): every check runs even after one fails,
# each problem says the command that fixes it, exit 1 on any problem.
. "$JANEE_SRCDIR/tests/lib.sh"

jr doctor
expect_rc 1 "doctor with no home fails"
expect_in "$TMP/out" '^PROBLEM +home .*run: janee init' \
    "and says to run janee init"
expect_in "$TMP/out" '^ok +libraries ' "the library check still runs"

setup_home
jr doctor
expect_rc 0 "doctor on a fresh key-file home passes"
for c in home files ledger audit config references unlock libraries; do
	expect_in "$TMP/out" "^ok +$c " "check $c passes"
done
expect_not_in "$TMP/out" PROBLEM "and finds no problem"

jr doctor --json
expect_rc 0 "doctor --json"
check "doctor --json lists each check" "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True, d
names = [c["check"] for c in d["checks"]]
assert names == ["home", "files", "ledger", "audit", "config", "references",
    "unlock", "libraries"], names
assert all(c["ok"] for c in d["checks"]), d' "$TMP/out"

# Several problems at once: each is found, and the rest still checked.
chmod 644 "$JANEE_HOME/janee.db"
write_config '"revoke": "secret:missing-one", "extra_ref": "env:JANEE_T_UNSET",'
jr doctor
expect_rc 1 "doctor with problems exits 1"
expect_in "$TMP/out" "^PROBLEM +files .*run: chmod 600 '$JANEE_HOME/janee.db'" \
    "a 0644 ledger: the chmod that fixes it"
expect_in "$TMP/out" '^PROBLEM +config ' "the invalid config is a problem"
expect_in "$TMP/out" \
    '^PROBLEM +references .*secret:missing-one .*run: janee secret set missing-one' \
    "a reference to a secret not stored: the command that stores it"
expect_in "$TMP/out" '^ok +ledger ' "the ledger is still checked"
expect_in "$TMP/out" '^ok +audit ' "the audit chain is still checked"
expect_in "$TMP/err" '3 problems found' "the count, on stderr"
chmod 600 "$JANEE_HOME/janee.db"

write_config '"extra": "env:JANEE_T_UNSET",'
jr doctor
expect_in "$TMP/out" '^PROBLEM +references .*JANEE_T_UNSET' \
    "an env: reference to an unset variable is a problem"
write_config

# A lease edited behind janee's back (issue 12, finding 5).
DB=$JANEE_HOME/janee.db
jr token t --ttl 10m
expect_rc 0 "a token, for a lease to edit"
( umask 077; sqlite3 "$DB" "UPDATE leases SET state = 'expired',
    sealed_token = NULL WHERE state = 'active'" )
jr doctor
expect_rc 1 "doctor finds a lease that differs from its last audit event"
expect_in "$TMP/out" '^PROBLEM +audit +1 lease differs from its last audit event .*janee audit verify' \
    "and says what to run"

# An audit row edited behind janee's back.
( umask 077; sqlite3 "$DB" "DROP TRIGGER audit_no_update;
    UPDATE audit SET detail = 'forged' WHERE seq = 1" )
jr doctor
expect_rc 1 "doctor finds a broken audit chain"
expect_in "$TMP/out" '^PROBLEM +audit .*breaks at event 1 .*janee audit verify' \
    "and says where, and what to run"

# A passphrase home: what an MCP client meets.
export JANEE_HOME="$TMP/pp"
JANEE_NEW_PASSPHRASE="a long passphrase" "$JANEE" init >/dev/null 2>&1
jr doctor
expect_rc 1 "a passphrase home with nothing to unlock it is a problem"
expect_in "$TMP/out" '^PROBLEM +unlock +an MCP client that starts janee serve has no terminal' \
    "said as what an MCP client meets"
JANEE_PASSPHRASE="a long passphrase" jr doctor
expect_rc 0 "with the passphrase given, the store unlocks"
expect_in "$TMP/out" '^ok +unlock +the passphrase store unlocks without a terminal' \
    "and doctor says so"

done_testing
