#!/bin/sh
# Concurrency on one ledger: eight processes issuing leases while another
# exports CSV and another verifies the audit chain, with no lost or
# duplicated rows, a chain that verifies, and no "database is locked"
# reaching anyone; then two sweepers racing over the same overdue leases
# revoke each exactly once.
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home
N=8 PER=6

worker() { # worker I: PER tokens, each output kept
	j=0
	while [ $j -lt $PER ]; do
		"$JANEE" token t --scope read --ttl 1m --reason "w$1.$j" \
		    >>"$TMP/w$1.out" 2>>"$TMP/w$1.err" || echo "fail $1.$j" >>"$TMP/w$1.fail"
		j=$((j + 1))
	done
}
reader() { # exports and verifies while the writers run
	k=0
	while [ $k -lt 6 ]; do
		"$JANEE" audit export --format csv -o "$TMP/exp.$k.csv" 2>>"$TMP/r.err" ||
		    echo "export $k" >>"$TMP/r.fail"
		"$JANEE" audit verify >/dev/null 2>>"$TMP/r.err" ||
		    echo "verify $k" >>"$TMP/r.fail"
		k=$((k + 1))
	done
}

i=0
while [ $i -lt $N ]; do
	worker $i &
	i=$((i + 1))
done
reader &
wait

check "no writer failed" [ -z "$(cat "$TMP"/w*.fail 2>/dev/null)" ]
check "no export or verify failed while writers ran" [ ! -s "$TMP/r.fail" ]
check "nobody saw 'database is locked'" sh -c "! cat '$TMP'/*.err | grep -qi 'locked\|busy'"
tokens=$(cat "$TMP"/w*.out | grep -c '^tst_')
check "every worker got its tokens ($tokens of $((N * PER)))" [ "$tokens" -eq $((N * PER)) ]
check "all tokens are distinct" [ "$(cat "$TMP"/w*.out | sort -u | grep -c '^tst_')" -eq $((N * PER)) ]
jr lease list --all --json
check "one lease row per token, none lost or doubled" "$PYTHON3" -c '
import json, sys
ls = json.load(open(sys.argv[1]))
assert len(ls) == int(sys.argv[2]) and len({l["id"] for l in ls}) == len(ls), len(ls)
' "$TMP/out" $((N * PER))
jr audit verify
expect_rc 0 "the audit chain verifies after the race"
jr audit list --event issued --json
check "one 'issued' event per lease" "$PYTHON3" -c '
import json, sys
ev = json.load(open(sys.argv[1]))
ids = [e["lease_id"] for e in ev]
assert len(ids) == int(sys.argv[2]) == len(set(ids)), len(ids)' "$TMP/out" $((N * PER))

# Two sweepers over the same overdue leases: each revoked exactly once.
JANEE_TEST_CLOCK_OFFSET=120 "$JANEE" lease sweep >"$TMP/s1.out" 2>"$TMP/s1.err" &
JANEE_TEST_CLOCK_OFFSET=120 "$JANEE" lease sweep >"$TMP/s2.out" 2>"$TMP/s2.err" &
wait
check "both sweepers finished cleanly" sh -c "[ ! -s '$TMP/s1.err' ] && [ ! -s '$TMP/s2.err' ]"
check "no live token is left at the provider" [ "$(live_tokens)" -eq 0 ]
revokes=$(grep -c '^revoke ' "$TMP/prov/calls.log")
check "each token was revoked exactly once ($revokes revocations)" [ "$revokes" -eq $((N * PER)) ]
JANEE_TEST_CLOCK_OFFSET=120 jr audit list --event expired --json
check "one 'expired' event per lease" "$PYTHON3" -c '
import json, sys
ids = [e["lease_id"] for e in json.load(open(sys.argv[1]))]
assert len(ids) == int(sys.argv[2]) == len(set(ids)), len(ids)' "$TMP/out" $((N * PER))

done_testing
