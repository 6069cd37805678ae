#!/bin/sh
# Team mode end to end (issue 18, items 1 and 2 together): janee serve
# --http with "auth" in config.json is an OAuth 2.0 protected resource.
# A registered agent signs a client assertion (jose, not janee), trades
# it at janee's token endpoint for an access token, and uses it with the
# official MCP SDK's Streamable HTTP client: a lease within its own
# policy, a refusal beyond it, audited under its name.  Without a token:
# 401 with the resource metadata's link (RFC 9728 section 5.1); a forged
# token, 401.
. "$JANEE_SRCDIR/tests/lib.sh"

if ! command -v node >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
	skip "team mode over HTTP" "node or curl is not installed"
	exit 0
fi
sh "$JANEE_SRCDIR/tests/mcp/install.sh" || {
	not_ok "the MCP SDK is installed (tests/mcp/install.sh)"
	exit 1
}
json_get() { python3 -c 'import json,sys; print(eval(sys.argv[2], {"j": json.load(open(sys.argv[1]))}))' "$@"; }
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
"$JANEE" init --key-backend keyfile >/dev/null 2>&1
mkdir -p "$TMP/prov"
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {"t": {"type": "test", "state_dir": "$TMP/prov",
  "approval": "auto", "scopes": ["read", "write"], "max_ttl": "1h"}},
 "auth": {"resource": "$BASE/mcp"},
 "agents": {"ci-bot": {"providers": {"t": {"scopes": ["read"]}}},
            "qa-bot": {"providers": {"t": {"scopes": ["read"]}}}}}
JSON
chmod 600 "$JANEE_HOME/config.json"
jr agent add ci-bot --generate --private-key-out "$TMP/ci.pem"
expect_rc 0 "janee agent add ci-bot --generate"
jr agent add qa-bot --generate --private-key-out "$TMP/qa.pem"
expect_rc 0 "janee agent add qa-bot --generate"

"$JANEE" serve --http "127.0.0.1:$PORT" 2>"$TMP/serve.err" &
spid=$!
for _i in $(seq 1 100); do
	grep -q "(port $PORT)" "$TMP/serve.err" && break
	sleep 0.1
done
check "janee serve --http starts in team mode" grep -q "(port $PORT)" "$TMP/serve.err"

# status URL [curl options...]: the HTTP status; headers $TMP/h, body $TMP/b
status() {
	curl -s -o "$TMP/b" -D "$TMP/h" -w '%{http_code}' "$@"
}
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
st=$(status -X POST "$BASE/mcp" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -d "$INIT")
check "an initialize without a token: 401" [ "$st" = 401 ]
check "the 401 names the resource metadata (RFC 9728 section 5.1)" \
    grep -qi "^WWW-Authenticate: Bearer .*resource_metadata=\"$BASE/.well-known/oauth-protected-resource" "$TMP/h"
st=$(status "$BASE/.well-known/oauth-protected-resource/mcp")
check "the resource metadata is served: 200" [ "$st" = 200 ]
check "it names janee's resource and its authorization server" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
assert m["resource"] == sys.argv[2] + "/mcp", m
assert sys.argv[2] in m["authorization_servers"], m' "$TMP/b" "$BASE"

# A client assertion (RFC 7523 section 3), made with jose.
now=$(date +%s)
claims="{\"iss\":\"ci-bot\",\"sub\":\"ci-bot\",\"aud\":\"$BASE/oauth/token\",\"jti\":\"t0860-$now\",\"iat\":$now,\"exp\":$((now + 120))}"
assertion=$(node "$JANEE_SRCDIR/tests/peers/team-jwt.mjs" sign "$TMP/ci.pem" ES256 "$claims")
check "jose signed a client assertion" [ -n "$assertion" ]
form="grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=$assertion"
st=$(status -X POST "$BASE/oauth/token" -H 'Content-Type: application/x-www-form-urlencoded' -d "$form")
check "the token endpoint answers the assertion: 200" [ "$st" = 200 ]
check "its answer is not to be cached (RFC 6749 section 5.1)" grep -qi '^Cache-Control: no-store' "$TMP/h"
token=$(json_get "$TMP/b" 'j["access_token"]' 2>/dev/null)
check "an access token came back" [ -n "$token" ]
st=$(status -X POST "$BASE/oauth/token" -H 'Content-Type: application/x-www-form-urlencoded' -d "$form")
# A replayed assertion fails client authentication: RFC 6749 section
# 5.2's invalid_client, 401.
check "the same assertion again: refused (401 invalid_client)" \
    sh -c '[ "$1" = 401 ] && grep -q "\"invalid_client\"" "$2"' sh "$st" "$TMP/b"

export JANEE TMP
JANEE_URL="$BASE/mcp" TEAM_TOKEN="$token" node "$JANEE_SRCDIR/tests/mcp/team-http.mjs" 2>"$TMP/node.err"
st=$?
cat "$TMP/node.err" >&2
check "the SDK scenarios exit 0" [ "$st" -eq 0 ]

lid=$(cat "$TMP/lease_id" 2>/dev/null)
jr lease show "$lid" --json
check "the lease records the verified agent" [ "$(json_get "$TMP/out" 'j.get("agent")')" = ci-bot ]
jr audit list --json
check "the refusal beyond the agent's policy is audited under its name" python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))
ev = ev if isinstance(ev, list) else ev.get("events", [])
assert any("ci-bot" in json.dumps(e) and "write" in json.dumps(e) and
           e.get("event") in ("denied", "refused") for e in ev), ev[-5:]' "$TMP/out"

# The 2026-07-28 stateless form: each agent's calls are a ledger session
# of their own, so one agent cannot list, collect or revoke another's
# leases (ownership is checked per ledger session).
# access_token AGENT KEY: a token for AGENT from a fresh client assertion.
access_token() {
	_now=$(date +%s)
	_c="{\"iss\":\"$1\",\"sub\":\"$1\",\"aud\":\"$BASE/oauth/token\",\"jti\":\"t0860-$1-$_now\",\"iat\":$_now,\"exp\":$((_now + 120))}"
	_a=$(node "$JANEE_SRCDIR/tests/peers/team-jwt.mjs" sign "$2" ES256 "$_c")
	status -X POST "$BASE/oauth/token" -H 'Content-Type: application/x-www-form-urlencoded' \
		-d "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=$_a" >/dev/null
	json_get "$TMP/b" 'j["access_token"]' 2>/dev/null
}
META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"curl-sl","version":"1"}}'
# stateless TOKEN TOOL ARGS: a tools/call without a session; body in $TMP/b
stateless() {
	status -X POST "$BASE/mcp" -H 'Content-Type: application/json' \
		-H 'Accept: application/json, text/event-stream' \
		-H "MCP-Protocol-Version: 2026-07-28" -H "Authorization: Bearer $1" \
		-d "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"$2\",\"arguments\":$3,$META}}"
}
qa=$(access_token qa-bot "$TMP/qa.pem")
check "qa-bot has an access token of its own" [ -n "$qa" ]
# ci-bot's first token was traded above: a fresh one, as a client would.
ci=$(access_token ci-bot "$TMP/ci.pem")
st=$(stateless "$ci" request_token '{"provider":"t","scopes":["read"],"ttl_seconds":60,"reason":"stateless a"}')
sla=$(grep -o 'lse_[a-z2-7]*' "$TMP/b" | head -1)
check "stateless: ci-bot gets a lease" eval '[ "$st" = 200 ] && [ -n "$sla" ]'
st=$(stateless "$ci" list_leases '{}')
check "stateless: ci-bot's list_leases shows it (the control)" eval '[ "$st" = 200 ] && grep -q "$sla" "$TMP/b"'
st=$(stateless "$qa" list_leases '{}')
check "stateless: qa-bot's list_leases does not show ci-bot's lease" eval '[ "$st" = 200 ] && ! grep -q "$sla" "$TMP/b"'
st=$(stateless "$qa" request_token "{\"provider\":\"t\",\"scopes\":[\"read\"],\"ttl_seconds\":60,\"reason\":\"steal\",\"lease_id\":\"$sla\"}")
check "stateless: qa-bot cannot collect ci-bot's lease by its id" eval '[ "$st" = 200 ] && grep -q "not requested in this session" "$TMP/b" && ! grep -q "\"token\"" "$TMP/b"'
st=$(stateless "$qa" revoke_token "{\"lease_id\":\"$sla\"}")
check "stateless: qa-bot cannot revoke ci-bot's lease" eval '[ "$st" = 200 ] && grep -q "not one of this session" "$TMP/b"'
jr lease show "$sla" --json
check "and ci-bot's lease is still active" [ "$(json_get "$TMP/out" 'j.get("state")')" = active ]
st=$(stateless "$ci" revoke_token "{\"lease_id\":\"$sla\"}")
check "stateless: ci-bot revokes its own (the control)" eval '[ "$st" = 200 ] && ! grep -q "\"isError\":true" "$TMP/b"'

kill "$spid"
wait "$spid"
check "janee serve --http (team mode) exits 0 on SIGTERM" [ $? -eq 0 ]
done_testing
