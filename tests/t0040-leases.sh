#!/bin/sh
# Leases from the command line: janee token, lease list | show | revoke,
# policy refusals, and cron-free expiry (every command sweeps first),
# with revocation at the (test) provider, retries and irrevocable leases.
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home

jr token t --scope read --ttl 10m --reason "ci test"
expect_rc 0 "token within policy"
check "stdout holds only the token" [ "$(wc -l <"$TMP/out")" -eq 1 ]
expect_in "$TMP/out" '^tst_[A-Za-z0-9]{40}$' "the token is the provider's"
expect_in "$TMP/err" 'lease lse_[a-z2-7]{26}' "the lease id goes to stderr"
tok1=$(out)
lease1=$(sed -n 's/.*lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/err")
check "one live token at the provider" [ "$(live_tokens)" -eq 1 ]

jr token t --scope write --scope read --ttl 5m --json
expect_rc 0 "token --json"
check "token --json has the fields" "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["token"].startswith("tst_"), d
assert d["lease_id"].startswith("lse_") and d["provider"] == "t"
assert d["scopes"] == ["read", "write"] and d["revocable"] is True
assert d["expires_at"].endswith("Z") and d["token_type"] == "bearer"
' "$TMP/out"
lease2=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["lease_id"])' "$TMP/out")

n=$(mints)
jr token t --scope admin2 --ttl 1m
expect_rc 1 "a scope outside the ceiling is refused"
expect_in "$TMP/err" "scope 'admin2' is not within the policy" "the refusal names the scope"
jr token t --scope read --ttl 2h
expect_rc 1 "a ttl above max_ttl is refused"
expect_in "$TMP/err" "outside 1s..1h" "the refusal names the limit"
jr token t --scope read --ttl soon
expect_rc 2 "a malformed ttl is a usage error"
jr token nosuch --scope read
expect_rc 1 "an unknown provider is refused"
check "refusals never reach the provider" [ "$(mints)" -eq "$n" ]

jr lease list
expect_rc 0 "lease list"
check "lease list shows the two active leases" [ "$(grep -c '^lse_' "$TMP/out")" -eq 2 ]
jr lease list --all --json
check "lease list --all shows the refused request as denied, never a token" "$PYTHON3" -c '
import json, sys
ls = json.load(open(sys.argv[1]))
assert sum(1 for l in ls if l["state"] == "denied") == 2, ls
assert all("token" not in l for l in ls)
' "$TMP/out"
expect_not_in "$TMP/out" "$tok1" "listings never hold a token"

jr lease show "$lease1"
expect_rc 0 "lease show"
expect_in "$TMP/out" 'reason: +ci test' "lease show has the reason"
expect_in "$TMP/out" 'token: +hmac-sha256:[0-9a-f]{64}' "lease show has the fingerprint, not the token"
jr lease show lse_nosuchleaseaaaaaaaaaaaaaa
expect_rc 1 "lease show of an unknown id fails"

jr lease revoke "$lease1"
expect_rc 0 "lease revoke ID"
check "the revoked token is dead at the provider" [ "$(live_tokens)" -eq 1 ]
jr lease revoke "$lease1"
expect_rc 1 "revoking twice fails"
expect_in "$TMP/err" 'already revoked' "and says so"
jr lease revoke
expect_rc 2 "lease revoke without a target is a usage error"

jr token t --ttl 10m
jr token t --ttl 10m
jr lease revoke --provider t
expect_rc 0 "lease revoke --provider"
check "all of the provider's tokens are dead" [ "$(live_tokens)" -eq 0 ]
jr lease list --json
check "no active lease remains" [ "$(out)" = "[]" ]

# Expiry without cron: time passes, the next command of any kind sweeps.
jr token t --ttl 1m
jr token t --ttl 30m
check "two live tokens" [ "$(live_tokens)" -eq 2 ]
JANEE_TEST_CLOCK_OFFSET=120 jr status
expect_rc 0 "status after the first lease's end"
check "the ended lease was revoked at the provider" [ "$(live_tokens)" -eq 1 ]
JANEE_TEST_CLOCK_OFFSET=120 jr audit list --event expired --json
check "the expiry is audited, as janee's own act" "$PYTHON3" -c '
import json, sys
ev = json.load(open(sys.argv[1]))
assert len(ev) == 1 and ev[0]["actor"] == "janee", ev' "$TMP/out"

# Text an agent supplied is shown escaped to a person.
jr token t --ttl 10m --reason "$(printf 'line one\nFAKE  lse_x  active\033[2J')"
lease_esc=$(sed -n 's/.*lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/err")
jr lease show "$lease_esc"
expect_in "$TMP/out" '^reason: +line one\\nFAKE  lse_x  active\\x1b\[2J$' "lease show escapes control characters in the reason"
check "lease show prints no raw escape byte" [ "$(tr -d '\n' <"$TMP/out" | tr -dc '\033' | wc -c)" -eq 0 ]
jr lease revoke "$lease_esc"

# A provider whose revocation fails: retried with backoff, then irrevocable.
write_config '"revoke": "fail",'
jr token t --ttl 1m
lease3=$(sed -n 's/.*lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/err")
JANEE_TEST_CLOCK_OFFSET=120 jr lease list
expect_in "$TMP/err" 'failed and will be retried' "a failed revocation is reported"
expect_in "$TMP/out" "$lease3 .*revoke retry 1" "and shown in lease list"
off=120
for i in 2 3 4 5 6 7 8; do
	off=$((off + 4000))
	JANEE_TEST_CLOCK_OFFSET=$off jr status
done
JANEE_TEST_CLOCK_OFFSET=$off jr lease show "$lease3"
expect_in "$TMP/out" '^state: +irrevocable' "after the bounded retries the lease is irrevocable"
JANEE_TEST_CLOCK_OFFSET=$off jr lease list --all
expect_in "$TMP/out" "$lease3 .*irrevocable" "irrevocable leases are shown in lease list --all"

# A passphrase store: the sweep does not prompt; `lease sweep` unlocks.
export JANEE_HOME="$TMP/pp"
export JANEE_PASSPHRASE="pass phrase for tests"
"$JANEE" init >/dev/null 2>&1
write_config
jr token t --ttl 1m
expect_rc 0 "token from a passphrase store"
unset JANEE_PASSPHRASE
before=$(live_tokens)
JANEE_TEST_CLOCK_OFFSET=120 jr status </dev/null
expect_rc 0 "status works while the store is locked"
expect_in "$TMP/err" 'wait for revocation' "it says an overdue lease waits for the passphrase"
check "nothing was revoked without the key" [ "$(live_tokens)" -eq "$before" ]
JANEE_PASSPHRASE="pass phrase for tests" JANEE_TEST_CLOCK_OFFSET=120 jr lease sweep
expect_rc 0 "lease sweep with the passphrase"
expect_in "$TMP/out" 'expired 1,' "lease sweep reports what it expired"
check "the overdue token is revoked" [ "$(live_tokens)" -eq $((before - 1)) ]

# Issue 16, item 12: output for people. Tables as wide as their content,
# relative times (JSON keeps RFC 3339), one style for scope lists, an
# empty listing said in words, plurals right.
export JANEE_HOME="$TMP/out12"
setup_home
jr lease list
expect_rc 0 "lease list with no lease"
expect_in "$TMP/out" '^no active leases \(all of them: janee lease list --all\)$' \
    "an empty listing says so instead of a bare header"
jr token t --scope read --scope write --ttl 10m
expect_in "$TMP/err" 'scopes read write, expires ' "janee token says the scopes as a list"
jr lease list
expect_in "$TMP/out" '^ID {30}PROVIDER  STATE   EXPIRES  SCOPES$' \
    "the table's columns are as wide as their content"
expect_in "$TMP/out" '^lse_[a-z2-7]{26}  t {9}active  in 9m    read write$' \
    "the end is said relative to now, the scopes as a list"
jr lease list --json
check "--json keeps RFC 3339 times and arrays" "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))[0]
assert d["expires_at"].endswith("Z") and d["granted_scopes"] == ["read", "write"], d' "$TMP/out"
jr token t -s read -s write -t 5m -j
expect_rc 0 "short flags: -s, -t, -j"
check "they mean --scope, --ttl and --json" "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["scopes"] == ["read", "write"], d' "$TMP/out"
jr lease list -j
check "lease list -j is JSON" "$PYTHON3" -c '
import json, sys
assert len(json.load(open(sys.argv[1]))) == 2' "$TMP/out"
# Colour for states: on a terminal only, never with NO_COLOR.
esc=$(printf '\033')
jr lease list
check "no colour when stdout is not a terminal" \
    sh -c "! grep -q '$esc' '$TMP/out'"
if command -v script >/dev/null 2>&1; then
	script -qec "'$JANEE' lease list" /dev/null >"$TMP/tty.out" 2>&1
	check "on a terminal an active state is green" \
	    grep -q "${esc}\[32mactive${esc}\[0m" "$TMP/tty.out"
	NO_COLOR=1 script -qec "'$JANEE' lease list" /dev/null >"$TMP/tty.out" 2>&1
	check "NO_COLOR: no colour on a terminal either" \
	    sh -c "grep -q active '$TMP/tty.out' && ! grep -q '$esc' '$TMP/tty.out'"
else
	skip "on a terminal an active state is green" "no script(1)"
	skip "NO_COLOR: no colour on a terminal either" "no script(1)"
fi
jr lease revoke --provider t
expect_in "$TMP/err" '^janee: revoked 2 leases$' "two leases, no (s)"

done_testing

