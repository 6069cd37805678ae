#!/bin/sh
# janee mcp-config prints a client config with no secret; approvals,
# approve and deny work on requests waiting in the ledger (the MCP
# server's out-of-band channel), and an approval can shorten a lease but
# never lengthen it.
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home
jr mcp-config
expect_rc 0 "mcp-config"
check "mcp-config prints JSON naming janee serve with an absolute path" \
    "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["mcpServers"]["janee"]
assert s["command"].startswith("/") and s["args"] == ["serve"], s
assert s["env"] == {"JANEE_HOME": sys.argv[2]}, s' "$TMP/out" "$JANEE_HOME"
jr mcp-config --client vscode
check "mcp-config --client vscode uses the servers key" grep -q '"servers"' "$TMP/out"
jr mcp-config --client emacs
expect_rc 2 "an unknown client is a usage error"

# Requests that wait: made through janee serve with out-of-band approval.
write_config '"approval_wait": "1s", "require_out_of_band": ["write"],'
# The session stays open (as an agent's would) until serve_close: when it
# ends, janee denies what it left waiting, since only it could collect.
serve_request() { # serve_request SCOPE TTL: one request_token, answered pending
	serve_open t0090
	serve_call 2 "{\"provider\":\"t\",\"scopes\":[\"$1\"],\"ttl_seconds\":$2,\"reason\":\"t0090\"}"
}
serve_request write 600
expect_in "$TMP/serve.out" 'pending: lease lse_' "a write scope waits for out-of-band approval"
expect_in "$TMP/serve.err" "run 'janee approve lse_" "serve tells the person on stderr what to run"
lease=$(sed -n 's/.*pending: lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/serve.out" | head -n 1)
jr approvals --json
check "approvals lists the waiting request" "$PYTHON3" -c '
import json, sys
ls = json.load(open(sys.argv[1]))
assert [l["id"] for l in ls] == [sys.argv[2]] and ls[0]["state"] == "requested", ls' "$TMP/out" "$lease"
jr approve "$lease" --ttl 2h
expect_rc 1 "an approval cannot lengthen the lease"
expect_in "$TMP/err" 'cannot extend' "and says so"
jr approve "$lease" --ttl 5m
expect_rc 0 "approve with a shorter ttl"
jr lease show "$lease" --json
check "the approval shortened the lease and is by the user" "$PYTHON3" -c '
import json, sys
l = json.load(open(sys.argv[1]))
assert l["state"] == "approved" and l["ttl_seconds"] == 300, l' "$TMP/out"
jr approve "$lease"
expect_rc 1 "approving twice fails"
jr audit list --lease "$lease" --json
check "the approval is audited with actor user" "$PYTHON3" -c '
import json, sys
ev = [e for e in json.load(open(sys.argv[1])) if e["event"] == "approved"]
assert len(ev) == 1 and ev[0]["actor"] == "user", ev' "$TMP/out"
serve_close
jr lease show "$lease" --json
check "the approved lease its session never collected is denied at the end" \
	"$PYTHON3" -c '
import json, sys
l = json.load(open(sys.argv[1]))
assert l["state"] == "denied" and "closed the session" in l["detail"], l' "$TMP/out"

serve_request write 600
lease2=$(sed -n 's/.*pending: lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/serve.out" | head -n 1)
jr deny "$lease2" --reason "not today"
expect_rc 0 "deny"
jr lease show "$lease2"
expect_in "$TMP/out" '^state: +denied' "the denied lease is closed"
expect_in "$TMP/out" 'not today' "with the reason"
serve_close
jr lease show "$lease2"
expect_in "$TMP/out" 'not today' "the person's denial stands after the session ends"
check "nothing was minted for waiting or denied requests" [ "$(mints)" -eq 0 ]

# A session killed outright cannot deny what it left waiting: the sweep
# of any later janee command denies requests older than a day.
serve_request write 600
lease3=$(sed -n 's/.*pending: lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/serve.out" | head -n 1)
check "a third request waits" [ -n "$lease3" ]
kill -9 "$spid"
exec 6>&-
wait "$spid" 2>/dev/null
jr approvals --json
check "a killed session's request still waits" grep -q "$lease3" "$TMP/out"
JANEE_TEST_CLOCK_OFFSET=3600 jr lease sweep
expect_in "$TMP/out" 'abandoned 0$' "an hour later the sweep leaves it"
JANEE_TEST_CLOCK_OFFSET=90000 jr lease sweep
expect_in "$TMP/out" 'abandoned 1$' "after a day the sweep denies it"
jr lease show "$lease3"
expect_in "$TMP/out" '^state: +denied' "the abandoned request is denied"
expect_in "$TMP/out" 'abandoned: not approved and collected within 24 hours' "saying why"
jr audit list --lease "$lease3" --json
check "and audited as denied by janee" "$PYTHON3" -c '
import json, sys
ev = [e for e in json.load(open(sys.argv[1])) if e["event"] == "denied"]
assert len(ev) == 1 and ev[0]["actor"] == "janee", ev' "$TMP/out"
jr approvals --json
check "janee approvals lists it no more" [ "$(out)" = "[]" ]

done_testing
