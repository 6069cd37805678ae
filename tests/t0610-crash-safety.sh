#!/bin/sh
# Crash safety (invariant 6): the test binary dies, as kill -9 would, at
# each step of issuing a lease and during revocation.  On the next start
# janee reconciles: a token that was minted is found and revoked at the
# provider, the lease is closed as failed and says so, and no lease is
# left live and unknown; a revocation cut short is done again.
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home

for point in after_record after_mint before_active; do
	JANEE_TEST_CRASH_AT=$point jr token t --scope read --ttl 10m
	check "$point: janee died there (status 137)" [ "$(rc)" -eq 137 ]
	check "$point: no token was handed out" [ ! -s "$TMP/out" ]
	jr lease list --json
	lease=$("$PYTHON3" -c 'import json,sys; ls=json.load(open(sys.argv[1])); print(ls[0]["id"] if ls else "")' "$TMP/out")
	check "$point: the lease is on record, minting" \
	    sh -c "[ -n '$lease' ] && '$JANEE' lease show '$lease' | grep -q '^state: *minting'"
	case $point in
	after_record) want=0 ;;
	*) want=1 ;;
	esac
	check "$point: the provider holds $want live token(s)" [ "$(live_tokens)" -eq $want ]
	# The next janee command after the stale window reconciles.
	JANEE_TEST_CLOCK_OFFSET=600 jr lease show "$lease"
	expect_in "$TMP/out" '^state: +failed' "$point: the lease is closed as failed"
	expect_in "$TMP/out" "janee stopped while minting; $want token" "$point: it says what was found and revoked"
	check "$point: no live token is left at the provider" [ "$(live_tokens)" -eq 0 ]
done

# A young minting lease is not touched (another janee may be minting).
JANEE_TEST_CRASH_AT=after_mint jr token t --scope read --ttl 10m
jr lease list --json
check "a lease minting for under five minutes is left alone" \
    sh -c "'$JANEE' lease list --json | grep -q '\"state\":\"minting\"'"
JANEE_TEST_CLOCK_OFFSET=600 jr status

# Killed during revocation: the next sweep finishes it.
jr token t --scope read --ttl 1m
lease=$(sed -n 's/.*lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/err")
JANEE_TEST_CLOCK_OFFSET=120 JANEE_TEST_CRASH_AT=during_revoke jr status
check "during_revoke: janee died there" [ "$(rc)" -eq 137 ]
jr lease show "$lease"
expect_in "$TMP/out" '^state: +active' "during_revoke: the lease is still active on record"
JANEE_TEST_CLOCK_OFFSET=300 jr lease show "$lease"
expect_in "$TMP/out" '^state: +expired' "during_revoke: a later sweep finishes the expiry"
check "during_revoke: nothing live at the provider" [ "$(live_tokens)" -eq 0 ]

# Finding 8: where the provider cannot say that no token of the lease is
# left live, the lease is orphaned, not just failed: with the time until
# which its token may be live, in lease show, lease list, status and the
# audit; it cannot be "revoked" (janee never had the token).
write_config '"reconcile": "blind", "expires_in": "30m",'
JANEE_TEST_CRASH_AT=after_mint jr token t --scope read --ttl 10m
orphan=$(minting_lease)
before=$(live_tokens)
JANEE_TEST_CLOCK_OFFSET=600 jr lease show "$orphan"
expect_in "$TMP/out" '^state: +orphaned: may be live until [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' \
    "finding 8: a lease whose token the provider cannot look for is orphaned, with a time"
expect_in "$TMP/out" 'janee stopped while minting: test provider: cannot look' "and says why"
expect_in "$TMP/err" '1 lease\(s\) were cut short by a crash while minting and are orphaned' "the sweep that found it warns"
JANEE_TEST_CLOCK_OFFSET=600 jr lease show "$orphan" --json
s=$(lease_span "$TMP/out")
check "the time is the minting start + the 5 min window + the provider's 30 min" \
    [ "$s" -ge 2100 ] && [ "$s" -le 2110 ]
check "orphaned is honest: the token is still live at the provider" [ "$(live_tokens)" -eq "$before" ] && [ "$before" -ge 1 ]
JANEE_TEST_CLOCK_OFFSET=600 jr lease list
expect_in "$TMP/out" "^$orphan .*orphaned" "lease list (active) shows the orphan while its token may be live"
JANEE_TEST_CLOCK_OFFSET=600 jr status
expect_in "$TMP/out" '1 orphaned \(may be live\)' "status counts it"
jr audit list --event orphaned --json
check "the audit has an orphaned event for it, whose detail says until when its token may be live" "$PYTHON3" -c '
import json, sys
ev = [e for e in json.load(open(sys.argv[1])) if e["event"] == "orphaned" and e["lease_id"] == sys.argv[2]]
assert len(ev) == 1 and ev[0]["detail"].startswith("orphaned: may be live until 20"), ev' "$TMP/out" "$orphan"
JANEE_TEST_CLOCK_OFFSET=600 jr lease revoke "$orphan"
expect_rc 1 "an orphan cannot be revoked"
expect_in "$TMP/err" "is orphaned: janee never recorded its token" "and the error says why"
JANEE_TEST_CLOCK_OFFSET=600 jr lease revoke --all
expect_rc 0 "revoke --all passes over an orphan instead of failing on it"
JANEE_TEST_CLOCK_OFFSET=2800 jr lease list
expect_not_in "$TMP/out" "$orphan" "once its time has passed the orphan leaves the active list"
JANEE_TEST_CLOCK_OFFSET=2800 jr lease show "$orphan"
expect_in "$TMP/out" '^state: +orphaned: its token expired by ' "and lease show says its token expired"
JANEE_TEST_CLOCK_OFFSET=2800 jr status
expect_in "$TMP/out" '0 orphaned \(may be live\)' "and status no longer counts it"

# Without the provider's lifetime: the longest one the ledger saw at a mint.
write_config '"expires_in": "20m",'
jr token t --scope read --ttl 5m
write_config '"reconcile": "blind",'
JANEE_TEST_CRASH_AT=after_mint jr token t --scope read --ttl 10m
orphan=$(minting_lease)
JANEE_TEST_CLOCK_OFFSET=600 jr lease show "$orphan" --json
s=$(lease_span "$TMP/out")
check "an orphan's time from the lifetime the ledger saw before (20 min + 5 min)" \
    [ "$s" -ge 1500 ] && [ "$s" -le 1510 ]
# Nothing known at all: "until its own expiry" (a new home: no lifetime seen).
JANEE_HOME="$TMP/janee.unknown"
setup_home '"reconcile": "blind",'
JANEE_TEST_CRASH_AT=after_mint jr token t --scope read --ttl 10m
orphan=$(minting_lease)
JANEE_TEST_CLOCK_OFFSET=600 jr lease show "$orphan"
expect_in "$TMP/out" '^state: +orphaned: may be live until its own expiry$' "an orphan with no lifetime known says: until its own expiry"
jr audit verify
expect_rc 0 "that home's audit chain verifies too"
JANEE_HOME="$TMP/janee"

# A provider that cannot be reached is asked again with backoff, then the
# lease is orphaned.
write_config '"reconcile": "unreachable",'
JANEE_TEST_CRASH_AT=after_mint jr token t --scope read --ttl 10m
orphan=$(minting_lease)
reconciles() { grep -c "^reconcile $orphan" "$TMP/prov/calls.log"; }
JANEE_TEST_CLOCK_OFFSET=600 jr lease show "$orphan"
expect_in "$TMP/out" '^state: +minting' "an unreachable provider leaves the lease minting"
expect_in "$TMP/out" 'unreachable as configured' "saying why"
# (the same offset: the 30 s backoff is then all margin for slow runs)
JANEE_TEST_CLOCK_OFFSET=600 jr status
check "not asked again before the backoff (30 s)" [ "$(reconciles)" -eq 1 ]
off=600
for i in 2 3 4 5 6 7 8; do
	off=$((off + 4000))
	JANEE_TEST_CLOCK_OFFSET=$off jr status
done
check "asked again after each backoff, 8 times in all" [ "$(reconciles)" -eq 8 ]
JANEE_TEST_CLOCK_OFFSET=$off jr lease show "$orphan"
expect_in "$TMP/out" '^state: +orphaned: ' "then the lease is orphaned"
jr audit list --event reconcile_failed --lease "$orphan"
check "each failed attempt is audited" [ "$(grep -c ' reconcile_fa' "$TMP/out")" -eq 7 ]

jr audit verify
expect_rc 0 "after every crash the audit chain verifies"
jr status
expect_in "$TMP/out" 'integrity ok' "and the ledger's integrity check passes"

done_testing
