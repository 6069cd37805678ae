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

jr audit verify
expect_rc 0 "after every crash the audit chain verifies"
jr status
expect_in "$TMP/out" 'integrity ok' "and the ledger's integrity check passes"

done_testing
