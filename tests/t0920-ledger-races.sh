#!/bin/sh
# Checks that unit tests alone caught, in the real binary (issue 19):
# invariant 5 when the ledger fails after the mint (the token is revoked
# at the provider and not returned); the revocation backoff at its
# boundaries (30 s, then 60 s; given up after exactly 8 attempts); the
# lease's compare-and-set when two processes end the same lease at once;
# and a lease another process is minting right now is not taken for one
# that a dead process left behind.  The test provider's mint_delay,
# revoke_delay and ledger_fails_after_mint (tests/provider-test.c) make
# the races happen on cue.
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home

lease_of() { sed -n 's/.*lease \(lse_[a-z2-7]*\).*/\1/p' "$1" | head -n 1; }
revokes() { grep -c '^revoke ' "$TMP/prov/calls.log" 2>/dev/null || echo 0; }
# wait_for_line WORD: until the provider's log has a WORD line (10 s)
wait_for_line() {
	n=0
	until grep -q "^$1 " "$TMP/prov/calls.log" 2>/dev/null || [ $n -ge 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
}
state_of() {
	"$JANEE" lease show "$1" --json | "$PYTHON3" -c \
	    'import json,sys; d=json.load(sys.stdin); print(d["state"], d["revoke_attempts"])'
}

# ---- invariant 5: the ledger fails once the token exists ----
write_config '"ledger_fails_after_mint": true,'
jr token t --scope read --ttl 5m
check "invariant 5, ledger failing after the mint: janee token fails" [ "$(rc)" -ne 0 ]
check "invariant 5, ledger failing after the mint: no token on stdout" [ ! -s "$TMP/out" ]
expect_in "$TMP/err" 'no token was issued' "invariant 5, ledger failing after the mint: the error says no token was issued"
check "invariant 5, ledger failing after the mint: the provider minted once" [ "$(mints)" -eq 1 ]
check "invariant 5, ledger failing after the mint: the minted token was revoked at once" \
    [ "$(live_tokens)" -eq 0 -a "$(revokes)" -eq 1 ]
write_config
jr lease list --all --json
check "the ledger still knows a lease was being minted" "$PYTHON3" -c '
import json, sys
ls = json.load(open(sys.argv[1]))
assert [l["state"] for l in ls] == ["minting"], ls' "$TMP/out"

# ---- revocation backoff: 30 s, then 60 s; 8 attempts, then irrevocable ----
rm -f "$TMP/prov/calls.log"
write_config '"revoke": "fail",'
jr token t --ttl 1m
L=$(lease_of "$TMP/err")
# Each step is (clock offset, revocation attempts expected after it).  The
# margins (10 s, 15 s) leave room for the real seconds the commands take.
for step in 70:1 90:1 110:2 155:2 185:3 290:3 320:4; do
	JANEE_TEST_CLOCK_OFFSET=${step%:*} "$JANEE" status >/dev/null 2>&1
	got=$(revokes)
	check "revocation backoff: ${step%:*} s on, ${step#*:} attempt(s) so far" \
	    [ "$got" -eq "${step#*:}" ] || echo "  $got attempts" >&2
done
# Far apart from here on: attempts 5, 6 and 7 leave the lease active.
off=320
for n in 5 6 7; do
	off=$((off + 4000))
	JANEE_TEST_CLOCK_OFFSET=$off "$JANEE" status >/dev/null 2>&1
done
s=$(JANEE_TEST_CLOCK_OFFSET=$off state_of "$L")
check "after 7 failed attempts the lease is still active, for a retry" [ "$s" = "active 7" ] || echo "  $s" >&2
off=$((off + 4000))
JANEE_TEST_CLOCK_OFFSET=$off "$JANEE" status >/dev/null 2>&1
s=$(JANEE_TEST_CLOCK_OFFSET=$off state_of "$L")
check "the 8th failed attempt makes it irrevocable" [ "$s" = "irrevocable 8" ] || echo "  $s" >&2
off=$((off + 4000))
JANEE_TEST_CLOCK_OFFSET=$off "$JANEE" status >/dev/null 2>&1
check "and nothing tries it again" [ "$(revokes)" -eq 8 ]

# ---- the lease's compare-and-set: two processes end one lease at once ----
write_config '"revoke_delay": "5s",'
rm -f "$TMP/prov/calls.log"
jr token t --ttl 10m
L=$(lease_of "$TMP/err")
"$JANEE" lease revoke "$L" >"$TMP/a.out" 2>"$TMP/a.err" &
pa=$!
wait_for_line revoke
# The first is inside the provider's revocation, the lease still active:
# the second reads it active too, and revokes.
"$JANEE" lease revoke "$L" >"$TMP/b.out" 2>"$TMP/b.err"
rb=$?
wait "$pa"
ra=$?
check "two processes revoked the same lease at the provider (the race happened)" [ "$(revokes)" -eq 2 ]
check "exactly one of the two revocations settles the lease" [ $((ra == 0)) -ne $((rb == 0)) ] ||
	sed 's/^/  /' "$TMP/a.err" "$TMP/b.err" >&2
check "the other is told the lease is no longer active" grep -q 'no longer active' "$TMP/a.err" "$TMP/b.err"
jr audit list --lease "$L" --event revoked --json
check "the revocation is audited once" "$PYTHON3" -c '
import json, sys
assert len(json.load(open(sys.argv[1]))) == 1' "$TMP/out"

# ---- a live mint is not mistaken for one a dead process left ----
write_config '"mint_delay": "5s",'
rm -f "$TMP/prov/calls.log"
before=$(live_tokens)
"$JANEE" token t --ttl 10m >"$TMP/m.out" 2>"$TMP/m.err" &
pm=$!
wait_for_line mint
sleep 0.5
jr lease sweep
expect_rc 0 "another process sweeps while the mint is in progress"
wait "$pm"
rm_=$?
check "the slow mint still issues its token" [ "$rm_" -eq 0 -a -s "$TMP/m.out" ] ||
	sed 's/^/  /' "$TMP/m.err" >&2
check "the sweep left the minting lease alone (no reconcile)" sh -c "! grep -q '^reconcile ' '$TMP/prov/calls.log'"
check "its token lives at the provider" [ "$(live_tokens)" -eq $((before + 1)) ]

jr audit verify
expect_rc 0 "the audit chain verifies"

done_testing
