#!/bin/sh
# --json on every command that prints data (issue 16, item 12): approve,
# deny, lease sweep and version print JSON in the MCP results' words
# (lease_id, provider, state, scopes as list_leases says them; name and
# version as serverInfo says them; times as *_at, secret list's too);
# lease list/show call a lease lease_id as MCP does (id stays, for
# older scripts); listings with nothing in them say
# "no ..." instead of a bare header; audit export defaults to CSV.
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home
write_config '"approval_wait": "1s", "require_out_of_band": ["write"],'

# --- empty listings -----------------------------------------------------
jr secret list
expect_in "$TMP/out" '^no secrets' "secret list with none says so"
expect_not_in "$TMP/out" '^NAME' "... with no bare header"
jr audit list --provider nosuch
expect_in "$TMP/out" '^no audit events match$' "audit list matching nothing says so"
expect_not_in "$TMP/out" 'SEQ' "... with no bare header"
jr lease list --grants
expect_in "$TMP/out" '^no session grants in force' "lease list --grants with none says so"
jr lease list --grants --all
expect_in "$TMP/out" '^no session grants$' "lease list --grants --all with none says so"
jr approvals
expect_in "$TMP/out" '^no requests wait for approval$' "approvals with none says so"
jr lease list
expect_in "$TMP/out" '^no active leases' "lease list with none says so"
echo v | "$JANEE" secret set s1 2>/dev/null
jr secret list
expect_in "$TMP/out" '^NAME +CREATED +UPDATED' "secret list with one has its header"
expect_in "$TMP/out" '^s1 ' "... and its row"
jr secret list --json
check "secret list --json names its times as the other JSON does (created_at, updated_at)" \
    "$PYTHON3" - "$TMP/out" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
assert sorted(s[0]) == ["created_at", "name", "updated_at"], s
EOF

# --- version ------------------------------------------------------------
jr version --json
expect_rc 0 "version --json"
serve_open t0095
serve_call 2 '{"provider":"t","scopes":["write"],"ttl_seconds":600,"reason":"t0095"}'
check "version --json says name and version as MCP's serverInfo does" \
    "$PYTHON3" - "$TMP/out" "$TMP/serve.out" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))
init = [json.loads(l) for l in open(sys.argv[2]) if '"id":1' in l][0]
si = init["result"]["serverInfo"]
assert v == {"name": si["name"], "version": si["version"]}, (v, si)
EOF
jr version
expect_in "$TMP/out" '^janee [0-9]' "version without --json is one line"

# --- approve, deny --------------------------------------------------------
lease=$(sed -n 's/.*pending: lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/serve.out" | head -n 1)
check "a request waits" [ -n "$lease" ]
jr approve "$lease" --ttl 5m --json
expect_rc 0 "approve --json"
check "approve --json: lease_id, provider, state, scopes, ttl_seconds in MCP's words" \
    "$PYTHON3" - "$TMP/out" "$lease" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
assert o["lease_id"] == sys.argv[2] and o["provider"] == "t", o
assert o["state"] == "approved" and o["scopes"] == ["write"], o
assert o["ttl_seconds"] == 300 and "grant_id" not in o, o
EOF
# The same lease as MCP's list_leases shows it: the same names and values.
printf '%s\n' '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_leases","arguments":{}}}' >&6
n=0
until grep -q '"id":3[,}]' "$TMP/serve.out" || [ $n -ge 300 ]; do sleep 0.1; n=$((n + 1)); done
check "approve --json and MCP list_leases agree on the lease's fields" \
    "$PYTHON3" - "$TMP/out" "$TMP/serve.out" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
r = [json.loads(l) for l in open(sys.argv[2]) if '"id":3' in l][0]["result"]
data = r.get("structuredContent") or json.loads(r["content"][0]["text"])
m = [l for l in data["leases"] if l["lease_id"] == o["lease_id"]]
assert m, data
for k in m[0]:
    if k in o:
        assert o[k] == m[0][k], (k, o[k], m[0][k])
assert set(m[0]) - {"expires_at"} <= set(o), (sorted(m[0]), sorted(o))
EOF
serve_call 4 '{"provider":"t","scopes":["write"],"ttl_seconds":600,"reason":"t0095 2"}'
lease2=$(sed -n 's/.*pending: lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/serve.out" | grep -v "$lease" | head -n 1)
jr deny "$lease2" --reason "not now" --json
expect_rc 0 "deny --json"
check "deny --json: the lease denied, and why" \
    "$PYTHON3" - "$TMP/out" "$lease2" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
assert o["lease_id"] == sys.argv[2] and o["state"] == "denied", o
assert "not now" in o["detail"], o
EOF
serve_close

# --- sweep ----------------------------------------------------------------
jr token t --scope read --ttl 60s
expect_rc 0 "a token to expire"
JANEE_TEST_CLOCK_OFFSET=120 jr lease sweep --json
expect_rc 0 "lease sweep --json"
check "lease sweep --json counts by outcome" "$PYTHON3" - "$TMP/out" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
assert sorted(o) == ["abandoned", "expired", "irrevocable", "orphaned", "retrying"], o
assert o["expired"] == 1, o
EOF
JANEE_TEST_CLOCK_OFFSET=120 jr lease sweep
expect_in "$TMP/out" '^expired 0, retrying 0' "lease sweep without --json is one line"

# --- lease list / show: MCP's lease_id (and the older id) -------------------
jr lease list --all --json
check "lease list --json names each lease lease_id, as MCP does (id kept too)" \
    "$PYTHON3" - "$TMP/out" "$lease" <<'EOF'
import json, sys
ls = json.load(open(sys.argv[1]))
assert ls and all(l["lease_id"] == l["id"] for l in ls), ls
assert sys.argv[2] in [l["lease_id"] for l in ls], ls
EOF
jr lease show "$lease" --json
check "lease show --json: lease_id" "$PYTHON3" -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["lease_id"] == sys.argv[2], o' "$TMP/out" "$lease"

# --- audit export ---------------------------------------------------------
jr audit export
expect_rc 0 "audit export with no --format"
expect_in "$TMP/out" '^seq,time,event' "... writes CSV"

done_testing
