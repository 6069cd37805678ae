#!/bin/sh
# The audit trail against someone who can write the ledger (issue 12,
# finding 5): keyed checkpoints against a rollback, every lease checked
# against its last event, `audit head` and `audit verify --expect`, the
# commands that append with the store locked, the upgrade of a ledger
# made by janee at a657bfd (tests/fixtures/ledger-schema5.sql) and the
# syslog witness.  Every edit is made with the sqlite3 CLI, as an
# attacker holding the file would.
. "$JANEE_SRCDIR/tests/lib.sh"
# This script edits the ledger behind janee's back and counts its rows: a
# background agent appending events meanwhile would move them.
export JANEE_NO_AGENT=1

DB="$JANEE_HOME/janee.db"

# sq SQL: run SQL on the ledger behind janee's back
sq() {
	(umask 077; sqlite3 "$DB" "$1")
}

# first_line: line 1 of the last jr's stdout
first_line() { sed -n 1p "$TMP/out"; }

: >"$TMP/tokens"
# mint PROVIDER TTL: a token into $TMP/tokens, its lease id on stdout
mint() {
	jr token "$1" --ttl "$2"
	cat "$TMP/out" >>"$TMP/tokens"
	sed -n 's/.*lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/err"
}

setup_home || exit 1

# --- a fresh home is keyed from its first event -------------------------

lease=$(mint t 10m)
jr audit verify
expect_rc 0 "audit verify on a fresh home"
expect_in "$TMP/out" '^audit chain ok: 4 events, head [0-9a-f]{64}$' \
    "the first line is as before (other tests parse it)"
expect_in "$TMP/out" \
    '^keyed checkpoint: row 4 \(keyed since row 1\); 0 events after the last keyed checkpoint$' \
    "janee init keys the chain from row 1 and each keyed append moves it"
expect_in "$TMP/out" '^leases: 1 checked, each matches its last audit event$' \
    "verify compares every lease with its last event"
verify_head=$(sed -n 's/^audit chain ok: .*, head //p' "$TMP/out")

jr audit head
expect_rc 0 "audit head"
check "audit head prints SEQ:HASH, the head verify names" \
    [ "$(out)" = "4:$verify_head" ]
jr audit head --json
check "audit head --json gives seq and hash" "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d == {"seq": 4, "hash": sys.argv[2]}, d
' "$TMP/out" "$verify_head"
jr audit verify --expect "4:$verify_head"
expect_rc 0 "audit verify --expect the head it printed"
expect_in "$TMP/out" "^expected head 4:$verify_head: held$" \
    "and says the expected head held"
jr audit verify --expect "4:$(printf '%064d' 0)"
expect_rc 1 "audit verify --expect with another hash fails"
expect_in "$TMP/err" 'broken at row 4: its hash is not the one expected' \
    "and names the row"
jr audit verify --expect 4
expect_rc 2 "audit verify --expect without a hash is a usage error"
jr audit verify --expect "4:$(echo "$verify_head" | tr a-f A-F)"
expect_rc 2 "audit verify --expect takes lowercase hex only, as printed"

# --- the issue's lease edit ---------------------------------------------

cp "$DB" "$TMP/db.lease"
sq "UPDATE leases SET state = 'expired', sealed_token = NULL
    WHERE state = 'active'"
jr audit verify
expect_rc 1 "issue 12 #5: UPDATE leases SET state='expired', sealed_token=NULL fails audit verify"
expect_in "$TMP/err" \
    "lease $lease: its state is expired in the lease but active in its last audit event \(row 4, issued\)" \
    "and names the lease, its state and the event"
expect_in "$TMP/err" "lease $lease: its sealed token \(for revocation\) is none" \
    "and the sealed token that was removed"
expect_in "$TMP/err" '1 lease\(s\) differ from their last audit event' \
    "and says how many leases differ"
check "verify prints no ok line then" [ ! -s "$TMP/out" ]
check "what the edit achieves: the token is still live at the provider" \
    [ "$(live_tokens)" -eq 1 ]
jr audit verify --json
expect_rc 1 "audit verify --json fails too"
check "audit verify --json lists the lease problems" "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False and "first_bad_seq" not in d, d
assert d["lease_bad"] == 1 and d["leases"] == 1, d
ids = {p["lease_id"] for p in d["lease_problems"]}
assert ids == {sys.argv[2]}, d
assert all(p["last_event_seq"] == 4 for p in d["lease_problems"]), d
' "$TMP/out" "$lease"
cp "$TMP/db.lease" "$DB"
rm -f "$DB-wal" "$DB-shm"

sq "UPDATE leases SET next_attempt_ms = NULL WHERE id = '$lease'"
jr audit verify
expect_rc 1 "an active lease taken out of the sweep's sight fails verify"
expect_in "$TMP/err" "lease $lease: it is active but has no time for its revocation" \
    "and says the sweep would never revoke it"
cp "$TMP/db.lease" "$DB"
rm -f "$DB-wal" "$DB-shm"

sq "DELETE FROM leases WHERE id = '$lease'"
jr audit verify
expect_rc 1 "a lease row deleted fails verify"
expect_in "$TMP/err" "lease $lease: the audit trail records its request \(row 2\) but its row is gone" \
    "and names the lease whose row is gone"
cp "$TMP/db.lease" "$DB"
rm -f "$DB-wal" "$DB-shm"
jr audit verify
expect_rc 0 "the ledger put back verifies"

# --- the issue's rollback -----------------------------------------------

# Two secrets set: janee unlocks for them, so their rows are keyed.
printf 'value-one-for-the-rollback\n' | "$JANEE" secret set one 2>/dev/null
printf 'value-two-for-the-rollback\n' | "$JANEE" secret set two 2>/dev/null
leak_secret test-secret value-one-for-the-rollback
leak_secret test-secret value-two-for-the-rollback
jr audit head
head6=$(out)
check "the secrets' rows are rows 5 and 6" [ "${head6%%:*}" = 6 ]
cp "$DB" "$TMP/db.keyed"
# Delete the last rows and set meta's head to an earlier row's seq:hash.
sq "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq > 4;
    DELETE FROM secrets;
    UPDATE meta SET value = '4:' || (SELECT hash FROM audit WHERE seq = 4)
    WHERE key = 'audit.head'"
jr audit verify --no-key
expect_rc 0 "control: without the key the rolled-back chain holds, as on a657bfd"
expect_in "$TMP/out" '^audit chain ok: 4 events' "control: and says 4 events"
expect_in "$TMP/out" '^keyed checkpoint: not checked \(--no-key\)' \
    "control: and that the checkpoint was not checked"
jr audit verify
expect_rc 1 "issue 12 #5: rows cut and the head set back fail audit verify with the key"
expect_in "$TMP/err" \
    'audit chain broken at row 5: rows up to 6, which the keyed checkpoint signed, were removed' \
    "and says the keyed checkpoint's rows were removed"
jr audit verify --no-key --expect "$head6"
expect_rc 1 "and --expect with the head written down before fails without the key"
expect_in "$TMP/err" 'broken at row 5: the expected row 6 is gone' \
    "and names the row that is gone"
# A keyed command does not paper over it: the checkpoint stays.
mint t 10m >/dev/null
expect_in "$TMP/err" "warning: the audit chain's keyed checkpoint names a row past the end of the chain" \
    "a keyed append after the rollback warns and leaves the checkpoint"
jr audit verify
expect_rc 1 "and verify still fails after more events"
cp "$TMP/db.keyed" "$DB"
rm -f "$DB-wal" "$DB-shm"

# --- rows appended without the key, and --expect ------------------------

# An export does not unlock the store: its row is only hash-chained.
"$JANEE" audit export --format csv >/dev/null 2>&1
"$JANEE" audit export --format csv >/dev/null 2>&1
jr audit verify
expect_rc 0 "rows appended without the key verify"
expect_in "$TMP/out" 'row 6 \(keyed since row 1\); 2 events after the last keyed checkpoint$' \
    "verify says exactly how many rows are only hash-chained"
jr audit head
head8=$(out)
sq "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq > 6;
    UPDATE meta SET value = '$head6' WHERE key = 'audit.head'"
jr audit verify
expect_rc 0 "documented limit: cutting rows after the checkpoint passes without a head written down"
jr audit verify --expect "$head8"
expect_rc 1 "audit verify --expect finds the truncation after the checkpoint"
expect_in "$TMP/err" 'broken at row 7: the expected row 8 is gone' \
    "and names the row that is gone"
cp "$TMP/db.keyed" "$DB"
rm -f "$DB-wal" "$DB-shm"

# --- a checkpoint forged, copied from another home, or removed ----------

other="$TMP/other"
JANEE_HOME="$other" "$JANEE" init --key-backend keyfile >/dev/null 2>&1
ck=$(sq "SELECT value FROM meta WHERE key = 'audit.checkpoint'")
( umask 077; sqlite3 "$other/janee.db" "UPDATE meta SET value = '$ck'
    WHERE key = 'audit.checkpoint'" )
( umask 077; sqlite3 "$other/janee.db" "DROP TRIGGER audit_no_delete;
    DELETE FROM audit; ATTACH '$DB' AS a; INSERT INTO audit SELECT * FROM a.audit;
    UPDATE meta SET value = (SELECT value FROM a.meta WHERE key = 'audit.head')
    WHERE key = 'audit.head'" )
JANEE_HOME="$other" jr audit verify
expect_rc 1 "a chain and checkpoint copied into another home fail there"
expect_in "$TMP/err" \
    'broken at row 6: the keyed checkpoint \(row 6\) does not authenticate under this store.s key' \
    "and say the checkpoint does not authenticate"
sq "UPDATE meta SET value = substr(value, 1, length(value) - 64) ||
    '$(printf '%064d' 0)' WHERE key = 'audit.checkpoint'"
jr audit verify
expect_rc 1 "a checkpoint with a made-up MAC fails verify"
expect_in "$TMP/err" 'does not authenticate' "and says so"
cp "$TMP/db.keyed" "$DB"
rm -f "$DB-wal" "$DB-shm"
sq "DELETE FROM meta WHERE key = 'audit.checkpoint'"
jr audit verify
expect_rc 1 "a removed checkpoint fails verify"
expect_in "$TMP/err" 'broken at row 1: the keyed checkpoint is missing' \
    "and says it is missing"
mint t 10m >/dev/null
check "a keyed append does not make a new one" \
    [ -z "$(sq "SELECT value FROM meta WHERE key = 'audit.checkpoint'")" ]
cp "$TMP/db.keyed" "$DB"
rm -f "$DB-wal" "$DB-shm"

# The documented limit of trust on first use: the note migration 7
# leaves on an old ledger, planted with the checkpoint removed, lets the
# next keyed append seal the chain as it then is.  Verify passes, and
# the only trace is where keying starts.
sq "DELETE FROM meta WHERE key = 'audit.checkpoint';
    INSERT INTO meta VALUES ('audit.unkeyed', '6')"
jr audit verify
expect_rc 0 "documented limit: a removed checkpoint with a planted upgrade note passes"
expect_in "$TMP/out" '^keyed checkpoint: none yet' "and says there is no checkpoint yet"
mint t 10m >/dev/null
jr audit verify
expect_in "$TMP/out" '^keyed checkpoint: row 9 \(keyed since row 7\)' \
    "a planted upgrade note is sealed over, and shows as keyed since a later row"
cp "$TMP/db.keyed" "$DB"
rm -f "$DB-wal" "$DB-shm"

sq "UPDATE leases SET state = 'expired', sealed_token = NULL
    WHERE state = 'active'"
jr audit verify
no_token "$TMP/out" "verify's output holds no token"
no_token "$TMP/err" "verify's errors hold no token"
cp "$TMP/db.keyed" "$DB"
rm -f "$DB-wal" "$DB-shm"

# --- the passphrase backend: locked commands never ask ------------------

pw="$TMP/pw"
printf 'a passphrase for the audit chain test\n' >"$pw"
leak_secret passphrase 'a passphrase for the audit chain test'
export JANEE_HOME="$TMP/pp"
DB="$JANEE_HOME/janee.db"
"$JANEE" init --new-passphrase-fd 3 3<"$pw" >/dev/null 2>&1
write_config
"$JANEE" --passphrase-fd 3 token t --ttl 10m 3<"$pw" >>"$TMP/tokens" 2>/dev/null
jr audit export --format csv </dev/null
expect_rc 0 "with the store locked, audit export appends without a passphrase"
check "and asks for none" [ ! -s "$TMP/err" ]
jr audit verify --no-key </dev/null
expect_rc 0 "audit verify --no-key needs no passphrase"
expect_in "$TMP/out" '^keyed checkpoint: not checked' "and says the checkpoint was not checked"
jr --passphrase-fd 3 audit verify 3<"$pw"
expect_rc 0 "audit verify with the passphrase"
expect_in "$TMP/out" '1 events after the last keyed checkpoint$' \
    "counts the locked command's row as only hash-chained"
"$JANEE" --passphrase-fd 3 token t --ttl 10m 3<"$pw" >>"$TMP/tokens" 2>/dev/null
jr --passphrase-fd 3 audit verify 3<"$pw"
expect_in "$TMP/out" ' 0 events after the last keyed checkpoint$' \
    "the next command that unlocks seals them"

# --- a ledger made by janee at a657bfd (schema 5) -----------------------

export JANEE_HOME="$TMP/old"
DB="$JANEE_HOME/janee.db"
mkdir -m 700 "$JANEE_HOME"
( umask 077
  sqlite3 "$DB" <"$JANEE_SRCDIR/tests/fixtures/ledger-schema5.sql"
  "$PYTHON3" -c 'import sys
sys.stdout.buffer.write(bytes.fromhex(open(sys.argv[1]).read()))' \
      "$JANEE_SRCDIR/tests/fixtures/ledger-schema5.key" >"$JANEE_HOME/master.key" )
write_config
check "the fixture is at schema 5" [ "$(sq 'PRAGMA user_version')" = 5 ]
old_active=$(sq "SELECT id FROM leases WHERE state = 'active'")
jr audit verify
expect_rc 0 "a schema-5 ledger upgrades and verifies"
cur=$(sed -n 's/^#define LEDGER_SCHEMA_VERSION \([0-9]*\).*/\1/p' "$JANEE_SRCDIR/src/ledger.h")
check "it is at the current schema ($cur) after" [ "$(sq 'PRAGMA user_version')" = "$cur" ]
expect_in "$TMP/out" '^audit chain ok: 11 events' "its 11 rows keep their hashes"
expect_in "$TMP/out" \
    '^keyed checkpoint: none yet \(the ledger predates them\); 11 events after the last keyed checkpoint' \
    "it says it has no keyed checkpoint yet"
expect_in "$TMP/out" '^leases: 3 checked, each matches its last audit event$' \
    "its leases are checked by what their last events say"
cp "$DB" "$TMP/db.old"
sq "UPDATE leases SET state = 'expired', sealed_token = NULL WHERE state = 'active'"
jr audit verify
expect_rc 1 "issue 12 #5 on an upgraded ledger: the lease edit fails verify"
expect_in "$TMP/err" "lease $old_active: its state is expired in the lease but its last audit event \(row 10, issued\) leaves it active" \
    "and names the lease by the event it had before snapshots"
cp "$TMP/db.old" "$DB"
rm -f "$DB-wal" "$DB-shm"
mint t 10m >/dev/null
jr audit verify
expect_rc 0 "after its first keyed event"
expect_in "$TMP/out" '^keyed checkpoint: row 14 \(keyed since row 12\); 0 events after' \
    "the first keyed append after the upgrade seals the old chain"
check "and the note of an unkeyed ledger is gone" \
    [ -z "$(sq "SELECT value FROM meta WHERE key = 'audit.unkeyed'")" ]

# --- leases cut short while minting (issue 12, finding 8) --------------

# A crash after the mint, then the next command past the stale window:
# one lease reconciled (failed), one orphaned, one left minting because
# the provider could not be reached.  Each was moved by an event that
# records it, so verify is clean; an edit of each is still named.
export JANEE_HOME="$TMP/orphans"
DB="$JANEE_HOME/janee.db"
setup_home
# crash_mid_mint CONFIG: a lease a crash left minting, reconciled by the
# next command; its id on stdout
crash_mid_mint() {
	write_config "$1"
	JANEE_TEST_CRASH_AT=after_mint jr token t --scope read --ttl 10m
	id=$(sq "SELECT id FROM leases WHERE state = 'minting'
	    ORDER BY created_ms DESC LIMIT 1")
	JANEE_TEST_CLOCK_OFFSET=600 jr lease show "$id"
	echo "$id"
}
reconciled=$(crash_mid_mint '')
orphaned=$(crash_mid_mint '"reconcile": "blind", "expires_in": "30m",')
stuck=$(crash_mid_mint '"reconcile": "unreachable",')
# state_by_event ID: the lease's state and the event that last named it
state_by_event() {
	sq "SELECT state || ':' || (SELECT event FROM audit WHERE lease_id = l.id
	    ORDER BY seq DESC LIMIT 1) FROM leases AS l WHERE id = '$1'"
}
check "the crashes left a reconciled, an orphaned and a minting lease" \
    [ "$(state_by_event "$reconciled") $(state_by_event "$orphaned") $(
	state_by_event "$stuck")" = \
      "failed:reconciled orphaned:orphaned minting:reconcile_failed" ]
JANEE_TEST_CLOCK_OFFSET=600 jr audit verify
expect_rc 0 "leases reconciled, orphaned or left minting by a crash verify clean"
expect_in "$TMP/out" '^leases: 3 checked, each matches its last audit event$' \
    "all three are checked against their last events"
cp "$DB" "$TMP/db.orphans"
sq "UPDATE leases SET state = 'failed', detail = NULL WHERE id = '$orphaned'"
JANEE_TEST_CLOCK_OFFSET=600 jr audit verify
expect_rc 1 "an orphan edited to failed (no more 'may be live') fails verify"
expect_in "$TMP/err" "lease $orphaned: its state is failed in the lease but orphaned in its last audit event \(row [0-9]+, orphaned\)" \
    "and names the orphan and its event"
cp "$TMP/db.orphans" "$DB"
rm -f "$DB-wal" "$DB-shm"
sq "UPDATE leases SET expires_ms = expires_ms - 1200000 WHERE id = '$orphaned'"
JANEE_TEST_CLOCK_OFFSET=600 jr audit verify
expect_rc 1 "an orphan's 'may be live until' moved earlier fails verify"
expect_in "$TMP/err" "lease $orphaned: its expiry \(expires_ms\) is [0-9]+ in the lease but [0-9]+ in its last audit event" \
    "and names the expiry"
cp "$TMP/db.orphans" "$DB"
rm -f "$DB-wal" "$DB-shm"
sq "UPDATE leases SET state = 'failed' WHERE id = '$stuck'"
JANEE_TEST_CLOCK_OFFSET=600 jr audit verify
expect_rc 1 "a lease left minting for another reconcile, edited to failed, fails verify"
expect_in "$TMP/err" "lease $stuck: its state is failed in the lease but minting in its last audit event \(row [0-9]+, reconcile_failed\)" \
    "and names its reconcile_failed event"
cp "$TMP/db.orphans" "$DB"
rm -f "$DB-wal" "$DB-shm"
sq "UPDATE leases SET state = 'orphaned', expires_ms = 1 WHERE id = '$reconciled'"
JANEE_TEST_CLOCK_OFFSET=600 jr audit verify
expect_rc 1 "a reconciled lease edited to orphaned fails verify"
expect_in "$TMP/err" "lease $reconciled: its state is orphaned in the lease but failed in its last audit event \(row [0-9]+, reconciled\)" \
    "and names its reconciled event"
cp "$TMP/db.orphans" "$DB"
rm -f "$DB-wal" "$DB-shm"

# --- the syslog witness -------------------------------------------------

export JANEE_HOME="$TMP/janee"
DB="$JANEE_HOME/janee.db"
cat >"$JANEE_HOME/config.json" <<JSON
{"audit": {"syslog": true, "journal": true},
 "providers": {"t": {"type": "test", "state_dir": "$TMP/prov",
  "scopes": ["read"], "max_ttl": "1h", "approval": "auto"}}}
JSON
jr token t --scope read
expect_rc 1 "an unknown key under audit is a configuration error"
expect_in "$TMP/err" "audit: unknown key 'journal'" "and is named"
cat >"$JANEE_HOME/config.json" <<JSON
{"audit": {"syslog": true},
 "providers": {"t": {"type": "test", "state_dir": "$TMP/prov",
  "scopes": ["read"], "default_scopes": ["read"], "max_ttl": "1h",
  "approval": "auto"}}}
JSON
# syslog(3) writes to /dev/log.  When this runs as root on a machine
# with no syslog daemon, a socket bound there stands in for the journal;
# elsewhere only "it runs" is checked (the line itself is unit-tested).
if [ "$(id -u)" = 0 ] && [ ! -e /dev/log ]; then
	"$PYTHON3" -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[2], "w").close()
s.settimeout(20)
with open(sys.argv[1], "ab") as out:
    try:
        while True:
            out.write(s.recv(65536) + b"\n")
            out.flush()
    except socket.timeout:
        pass
' "$TMP/syslog" "$TMP/syslog.ready" &
	listener=$!
	n=0
	while [ ! -e "$TMP/syslog.ready" ] && [ $n -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	wlease=$(mint t 10m)
	expect_rc 0 "a token with the syslog witness on"
	sleep 0.5
	kill "$listener" 2>/dev/null
	wait "$listener" 2>/dev/null
	rm -f /dev/log
	issued=$(sq "SELECT seq || ' ' || hash FROM audit WHERE event = 'issued'
	    AND lease_id = '$wlease'")
	expect_in "$TMP/syslog" \
	    "janee\[[0-9]+\]: audit seq=${issued% *} hash=${issued#* } event=issued lease=$wlease provider=t outcome=ok ledger=$DB" \
	    "the witness sends each committed event's seq and hash to syslog"
	check "one line per event of the command (requested, approved, issued)" \
	    [ "$(grep -c "janee\[[0-9]*\]: audit seq=" "$TMP/syslog")" -eq 3 ]
	no_token "$TMP/syslog" "the witness lines hold no token"
	jr audit verify --expect "${issued% *}:${issued#* }"
	expect_rc 0 "a head taken from the journal is one --expect accepts"
else
	skip "the witness sends each committed event's seq and hash to syslog" \
	    "needs root and no /dev/log"
	jr token t --scope read
	expect_rc 0 "a token with the syslog witness on"
	cat "$TMP/out" >>"$TMP/tokens"
fi

done_testing
