#!/bin/sh
# Two `janee serve` processes on one home, each waiting in poll() for the
# earliest lease end: every lease is revoked at the provider exactly once,
# and expired once in the audit trail.  (The background agent sweeps
# too, half a second after each end: three sweepers, still once each.)
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home
N=12
i=0
while [ $i -lt $N ]; do
	"$JANEE" token t --ttl 2 >/dev/null 2>&1 || not_ok "token $i"
	i=$((i + 1))
done
# Minted, not necessarily still live: on a slow run (ASan) the first may
# have ended, and been revoked by the agent, before the last is minted.
check "$N tokens minted" [ "$(mints)" -eq $N ]

# Two servers whose clients keep stdin open (sleep) for a while.
(sleep 6) | "$JANEE" serve >"$TMP/s1.out" 2>"$TMP/s1.err" &
p1=$!
(sleep 6) | "$JANEE" serve >"$TMP/s2.out" 2>"$TMP/s2.err" &
p2=$!
wait $p1 $p2
check "both servers ended cleanly" sh -c "[ ! -s '$TMP/s1.err' ] && [ ! -s '$TMP/s2.err' ]"
# Every lease ended before the servers' 6 s were over, but on a loaded
# machine the agent may still be in the middle of a revocation: wait for
# the provider to hold none (it logs a revocation before it removes the
# token, so the count below is then complete), 30 s at the most.
none_live() { [ "$(live_tokens)" -eq 0 ]; }
n=0
until none_live || [ $n -ge 300 ]; do
	sleep 0.1
	n=$((n + 1))
done
check "no live token is left at the provider" none_live
revokes=$(grep -c '^revoke ' "$TMP/prov/calls.log")
check "each token was revoked exactly once ($revokes revocations)" [ "$revokes" -eq $N ]
jr audit list --event expired --json
check "one 'expired' event per lease" "$PYTHON3" -c '
import json, sys
ids = [e["lease_id"] for e in json.load(open(sys.argv[1]))]
assert len(ids) == int(sys.argv[2]) == len(set(ids)), ids' "$TMP/out" $N

done_testing
