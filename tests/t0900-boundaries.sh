#!/bin/sh
# Policy and approval checks at their boundaries, through the real binary
# and the test provider (issue 19): for each, the case exactly at the
# limit, the one just past it, and one that fails if the check is gone.
# TTLs (exactly max_ttl, one second over; an approval lengthening by one
# second), scopes (one outside the ceiling that sorts last; none asked
# and no default_scopes), repositories (one extra that sorts last; none
# asked means the allow-list), an empty ceiling, and CSV fields that a
# spreadsheet would run as formulas (every leading character).
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 "t": {"type": "test", "state_dir": "$TMP/prov", "scopes": ["read", "write"],
   "default_scopes": ["read"], "max_ttl": "1h", "approval": "auto"},
 "nodef": {"type": "test", "state_dir": "$TMP/prov", "scopes": ["read"],
   "approval": "auto"},
 "repos": {"type": "test", "state_dir": "$TMP/prov", "scopes": ["read"],
   "default_scopes": ["read"], "repositories": ["api", "web"],
   "approval": "auto"},
 "oob": {"type": "test", "state_dir": "$TMP/prov", "scopes": ["read"],
   "approval": "out-of-band", "approval_wait": "1s"}}}
JSON
chmod 600 "$JANEE_HOME/config.json"

ttl_of() { # ttl_of LEASE: its ttl in seconds
	"$JANEE" lease show "$1" --json | "$PYTHON3" -c \
	    'import json,sys; print(json.load(sys.stdin)["ttl_seconds"])'
}
lease_of() { sed -n 's/.*lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/err" | head -n 1; }
repos_sent() { # the repositories of the provider's last mint, comma-separated
	sed -n '/^mint /{s/.*//;h;d};/^repo /{s/^repo //;H};${x;s/\n/,/g;s/^,//;p}' \
	    "$TMP/prov/calls.log"
}

# ---- TTL: exactly max_ttl, one second over ----
jr token t --ttl 3600s
expect_rc 0 "policy: a TTL of exactly max_ttl (3600 s) is granted"
check "policy: and the lease is for 3600 s" [ "$(ttl_of "$(lease_of)")" = 3600 ]
n=$(mints)
jr token t --ttl 3601s
expect_rc 1 "policy: a TTL one second over max_ttl (3601 s) is refused"
expect_in "$TMP/err" "ttl 3601s is outside 1s..1h" "policy: the refusal names the TTL and the limit"
check "policy: the refused TTL never reaches the provider" [ "$(mints)" -eq "$n" ]

# ---- scopes: the ceiling holds for every scope asked ----
jr token t --scope read --scope write --ttl 1m
expect_rc 0 "policy: every scope within the ceiling (the control)"
n=$(mints)
jr token t --scope read --scope zzz --ttl 1m
expect_rc 1 "policy: one scope outside the ceiling, sorting last, is refused"
expect_in "$TMP/err" "scope 'zzz' is not within the policy" "policy: the refusal names that scope"
jr token nodef --ttl 1m
expect_rc 1 "policy: no scope asked and no default_scopes is refused, never everything"
expect_in "$TMP/err" "no scope requested" "policy: the refusal says to name the scopes"
check "policy: the refusals never reach the provider" [ "$(mints)" -eq "$n" ]

# ---- repositories: the allow-list holds for every one asked ----
jr token repos --repo web --repo api --ttl 1m
expect_rc 0 "policy: repositories on the allow-list (the control)"
check "policy: and they are what the provider is asked for" [ "$(repos_sent)" = "api,web" ] ||
	echo "  sent: $(repos_sent)" >&2
jr token repos --repo api --ttl 1m
check "policy: one repository asked, one sent" [ "$(repos_sent)" = "api" ] ||
	echo "  sent: $(repos_sent)" >&2
n=$(mints)
jr token repos --repo api --repo zzz --ttl 1m
expect_rc 1 "policy: one repository off the allow-list, sorting last, is refused"
expect_in "$TMP/err" "repository 'zzz' is not on the allow-list" "policy: the refusal names it"
check "policy: the refusal never reaches the provider" [ "$(mints)" -eq "$n" ]
jr token repos --ttl 1m
expect_rc 0 "policy: no repository asked"
check "policy: no repository asked means the allow-list, never all of them" [ "$(repos_sent)" = "api,web" ] ||
	echo "  sent: $(repos_sent)" >&2

# ---- an empty ceiling is an error, not everything ----
cp "$JANEE_HOME/config.json" "$TMP/config.good"
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {"e": {"type": "test", "state_dir": "$TMP/prov", "scopes": [],
   "approval": "auto"}}}
JSON
n=$(mints)
jr token e --scope read --ttl 1m
expect_rc 1 "invariant 8: a provider with an empty ceiling is refused"
expect_in "$TMP/err" "key 'scopes' .* must not be empty" "invariant 8: the error names the empty ceiling"
check "invariant 8: nothing reaches the provider" [ "$(mints)" -eq "$n" ]
cp "$TMP/config.good" "$JANEE_HOME/config.json"

# ---- an approval may shorten, never lengthen, by any amount ----
# A request that waits: through janee serve (tests/lib.sh serve_open), on
# the provider oob, approved out of band.
serve_open t0900
serve_call 2 '{"provider":"oob","scopes":["read"],"ttl_seconds":600,"reason":"waits"}'
lease=$(sed -n 's/.*pending: lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/serve.out" | head -n 1)
check "a request waits for approval" [ -n "$lease" ]
jr approve "$lease" --ttl 601s
expect_rc 1 "invariant 7: an approval lengthening the lease by one second is refused"
expect_in "$TMP/err" 'cannot extend' "invariant 7: and says so"
jr approve "$lease" --ttl 600s
expect_rc 0 "invariant 7: an approval for exactly the TTL asked is accepted"
check "invariant 7: the lease keeps its 600 s" [ "$(ttl_of "$lease")" = 600 ]
serve_close

# ---- CSV: every leading character a spreadsheet runs as a formula ----
for r in '=1+2' '+1+2' '-1+2' '@SUM(A1)' "$(printf '\tTAB')" "$(printf '\rCR')"; do
	"$JANEE" token t --ttl 1m --reason "$r" >/dev/null 2>&1 ||
		not_ok "a token with the reason '$r'"
done
jr audit export --format csv -o "$TMP/audit.csv"
expect_rc 0 "audit export --format csv"
check "CSV: no field starts with = + - @ tab or CR (each neutralized)" \
    "$PYTHON3" "$JANEE_SRCDIR/tests/csvcheck.py" "$TMP/audit.csv" --no-formula
check "CSV: each of those reasons reads back behind one apostrophe" "$PYTHON3" -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
cells = {c for r in rows for c in r}
for want in ["=1+2", "+1+2", "-1+2", "@SUM(A1)", "\tTAB", "\rCR"]:
    assert "\x27" + want in cells, repr(want)' "$TMP/audit.csv"

done_testing
