#!/bin/sh
# Session grants end to end, from the CLI: janee approve ID --grant T
# approves a request of an MCP session and that session's narrower
# requests for T; they are then approved without asking, audited as
# "approved (session grant G)"; a wider request, another session's, one
# with a require_out_of_band scope, one after the grant expired or was
# revoked still wait for a person; the grant shows in janee approvals
# and janee lease list, and janee lease revoke GRANT ends it and its
# leases.  The broker's rules one by one are tests/unit/test-grant.c;
# the page's Approve-with-grant is in t0800 and t0810.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/page.sh"

setup_home '"approval": "ask", "approval_wait": "2s",
  "session_grant_max": "20m", "require_out_of_band": ["admin"],'

answer() { # answer ID: the JSON-RPC answer with that id
	grep "\"id\":$1," "$TMP/serve.out" | tail -n 1
}
issued() { answer "$1" | grep -q '"result":{.*"token":"tst_'; }
waited() { answer "$1" | grep -q 'pending: lease'; }
waiting_lease() { # the lease a pending answer names
	answer "$1" | sed -n 's/.*pending: lease \(lse_[a-z2-7]*\).*/\1/p'
}

serve_open sess-a
printf '%s\n' '{"jsonrpc":"2.0","method":"notifications/initialized"}' >&6
serve_call 2 '{"provider":"t","scopes":["read","write"],"ttl_seconds":600,"reason":"first"}'
check "a session's request waits for a person" waited 2
first=$(waiting_lease 2)

jr approve "$first" --grant 25m
expect_rc 1 "a grant longer than session_grant_max is refused"
expect_in "$TMP/err" "lasts at most 20m" "saying the bound"
jr approve "$first" --grant 10m --ttl 5m
expect_rc 0 "janee approve --grant 10m --ttl 5m"
grant=$(sed -n 's/.*session grant \(grt_[a-z2-7]*\) for 10m.*/\1/p' "$TMP/err")
check "says the grant's id" [ -n "$grant" ]
serve_call 3 "{\"provider\":\"t\",\"scopes\":[\"read\",\"write\"],\"ttl_seconds\":600,\"reason\":\"first\",\"lease_id\":\"$first\"}"
check "the approved request is collected" issued 3

serve_call 4 '{"provider":"t","scopes":["read"],"ttl_seconds":120,"reason":"narrower"}'
check "a narrower request of the session is approved without asking" issued 4
narrow=$(answer 4 | sed -n 's/.*"lease_id":"\(lse_[a-z2-7]*\)".*/\1/p')
jr audit list --lease "$narrow" --json
check "audited as approved (session grant G) by janee" "$PYTHON3" -c '
import json, sys
rows = json.load(open(sys.argv[1]))
assert any(r["event"] == "approved" and r["actor"] == "janee" and
           r["detail"] == "approved (session grant %s)" % sys.argv[2]
           for r in rows), rows' "$TMP/out" "$grant"

serve_call 5 '{"provider":"t","scopes":["read"],"ttl_seconds":600,"reason":"longer than approved"}'
check "a longer lifetime than the approval's (5m) waits" waited 5
serve_call 6 '{"provider":"t","scopes":["read","admin"],"ttl_seconds":60,"reason":"admin"}'
check "a wider scope waits" waited 6
jr approve "$(waiting_lease 6)" --grant 5m
expect_rc 1 "a require_out_of_band scope is never granted for a session"
expect_in "$TMP/err" "require_out_of_band" "saying why"

# Another session of the same client name: its own id, no grant.
{
	printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sess-a","version":"1"}}}' \
	    '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
	    '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"request_token","arguments":{"provider":"t","scopes":["read"],"ttl_seconds":60,"reason":"other session"}}}'
	sleep 4
} | "$JANEE" serve >"$TMP/b.out" 2>"$TMP/b.err"
check "another session's request waits (the grant is the session's)" \
    grep -q '"id":2,.*pending: lease' "$TMP/b.out"
grep -o '"token":"[^"]*"' "$TMP/b.out" | sed 's/"token":"//; s/"$//' \
    >"$TMP/tokens.b"

jr approvals
expect_in "$TMP/out" "^$grant  in force  provider t, scopes \[\"read\",\"write\"\]" \
    "janee approvals lists the grant in force"
jr lease list
expect_in "$TMP/out" "session grants in force:" "janee lease list shows them too"
expect_in "$TMP/out" "$grant" "with the grant's id"
jr lease list --grants --json
check "lease list --grants --json: the grant and its two leases" "$PYTHON3" -c '
import json, sys
g = json.load(open(sys.argv[1]))
assert len(g) == 1 and g[0]["id"] == sys.argv[2] and g[0]["state"] == "active", g
assert g[0]["max_ttl_seconds"] == 300 and g[0]["scopes"] == ["read", "write"], g
assert set(g[0]["leases"]) == {sys.argv[3], sys.argv[4]}, g' \
    "$TMP/out" "$grant" "$first" "$narrow"

jr lease revoke "$grant"
expect_rc 0 "janee lease revoke GRANT"
check "its leases end (the approved one and the one under it)" \
    [ "$(lease_state "$first")" = revoked -a \
    "$(lease_state "$narrow")" = revoked ]
serve_call 7 '{"provider":"t","scopes":["read"],"ttl_seconds":60,"reason":"after revocation"}'
check "after the revocation a narrower request waits again" waited 7
jr lease revoke "$grant"
expect_rc 1 "revoking it again: not in force"

# A grant that expires: the same request waits once it has.
serve_call 9 '{"provider":"t","scopes":["read"],"ttl_seconds":60,"reason":"short grant"}'
jr approve "$(waiting_lease 9)" --grant 3s
expect_rc 0 "a grant of 3s"
serve_call 10 '{"provider":"t","scopes":["read"],"ttl_seconds":30,"reason":"within 3s"}'
check "within it, approved without asking" issued 10
sleep 3
serve_call 11 '{"provider":"t","scopes":["read"],"ttl_seconds":30,"reason":"after 3s"}'
check "once it expired, the request waits" waited 11
jr approvals
check "an expired grant is no longer listed as in force" \
    sh -c '! grep -q "in force" "$1"' sh "$TMP/out"
serve_close
grep -ho '"token":"[^"]*"' "$TMP/serve.out" | sed 's/"token":"//; s/"$//' \
    >"$TMP/tokens"
cat "$TMP/tokens.b" >>"$TMP/tokens"
jr audit list --json
check "no token in the audit rows" sh -c '! grep -qaFf "$1" "$2"' sh \
    "$TMP/tokens" "$TMP/out"
jr audit verify
expect_rc 0 "the audit chain verifies"
done_testing
