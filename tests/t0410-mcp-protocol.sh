#!/bin/sh
# janee serve on raw JSON lines (handshake era): every protocol error of
# issue 6 answered per JSON-RPC 2.0 and MCP, with the server still
# answering after each: invalid JSON (-32700, id null), invalid UTF-8,
# invalid requests (-32600), unknown methods (-32601), bad params and
# unknown tools (-32602), invalid tool arguments (a tool error since
# 2025-11-25), a line over 1 MiB, requests before initialize,
# notifications with an id, batches (refused, except in protocol
# 2025-03-26, where they are answered as one array).  Then the end of a
# session with
# approvals waiting (EOF, SIGTERM, SIGINT, an elicitation in flight) and
# busy revoking at a slow provider: a clean exit, each cancelled and
# audited; and the start-up sweep of overdue leases.  The scenarios are
# tests/mcp/protocol.mjs.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/fake-oauth.sh"

if ! command -v node >/dev/null 2>&1; then
	skip "janee serve on raw JSON lines" "node is not installed"
	exit 0
fi

setup_home || { not_ok "a janee home"; exit 1; }
# An OAuth provider whose revocation endpoint is slow, for SIGTERM.
SLOW_REVOKE=
if fake_oauth_start; then
	printf 'fake-basic-secret' | "$JANEE" secret set basic 2>/dev/null
	SLOW_REVOKE=1
	cc=$(printf ', "cc": {"type": "oauth2", "issuer": "%s", "ca_file": "%s",
   "client_id": "conf-basic", "client_secret": "secret:basic",
   "grant": "client_credentials", "scopes": ["a:read"], "approval": "auto"}' \
		"$FAKE_ISSUER" "$FAKE_CA")
else
	not_ok "the fake OAuth server starts"
fi
test_prov() { # test_prov NAME APPROVAL [EXTRA JSON MEMBERS]
	printf '"%s": {"type": "test", "state_dir": "%s", "approval": "%s",
  "scopes": ["read", "write"], "max_ttl": "1h" %s}' \
		"$1" "$TMP/prov" "$2" "${3:-}"
}
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 $(test_prov auto auto),
 $(test_prov ask ask),
 $(test_prov oob out-of-band ', "approval_wait": "60s"') ${cc:-}}}
JSON
chmod 600 "$JANEE_HOME/config.json"

[ -z "$SLOW_REVOKE" ] || fake_oauth_fault /revoke slow 1 '"seconds": 3'
export JANEE TMP SLOW_REVOKE
node "$JANEE_SRCDIR/tests/mcp/protocol.mjs" 2>"$TMP/node.err"
status=$?
cat "$TMP/node.err" >&2
check "the protocol scenarios exit 0" [ "$status" -eq 0 ]

# Overdue leases from before the server started are swept once it is idle
# (here: overdue for a server whose clock is 2 minutes ahead; the CLI's
# own sweep, on the real clock, leaves the lease alone).
jr token auto --scope read --ttl 1m --reason "before serve"
lease=$(sed -n 's/.*lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/err")
file="$TMP/prov/$(tr -d '\n' <"$TMP/out" | sha256sum | cut -d' ' -f1)"
check "a 1-minute lease from the CLI, live at the provider" [ -f "$file" ]
check "(and the 1-minute lease of the raw session)" [ "$(live_tokens)" -eq 2 ]
(sleep 1) | JANEE_TEST_CLOCK_OFFSET=120 "$JANEE" serve >"$TMP/serve.out" 2>"$TMP/serve.err"
check "serve with no client message exits 0" [ $? -eq 0 ]
jr lease show "$lease"
expect_in "$TMP/out" 'state: +expired' "an overdue lease is swept at start (no request needed)"
check "and revoked at the provider" [ ! -f "$file" ]
check "so is the raw session's lease: no live token left" [ "$(live_tokens)" -eq 0 ]
check "serve wrote nothing to stdout for other sessions' leases" [ ! -s "$TMP/serve.out" ]

# A request_token that outlived its approval_wait is answered "pending";
# the agent may call again to collect, but only from this session.  When
# the session ends, janee denies the lease: nobody else could collect it.
cp "$JANEE_HOME/config.json" "$TMP/config.saved"
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {$(test_prov oob out-of-band ', "approval_wait": "1s"')}}
JSON
init='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}'
call='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"request_token","arguments":{"provider":"oob","scopes":["read"],"ttl_seconds":60,"reason":"left pending"}}}'
{
	printf '%s\n' "$init" '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$call"
	sleep 3
} | "$JANEE" serve >"$TMP/pend.out" 2>"$TMP/pend.err"
check "serve exits 0 when the client leaves a pending lease" [ $? -eq 0 ]
plid=$(sed -n 's/.*still waits.*lease_id \\"\(lse_[a-z2-7]*\)\\".*/\1/p' "$TMP/pend.out")
check "request_token answered pending with the lease to collect" [ -n "$plid" ]
jr lease show "$plid"
expect_in "$TMP/out" 'state: +denied' "the pending lease is denied when its session ends"
expect_in "$TMP/out" 'closed the session' "and says why"
jr audit list --json
check "the denial is audited, by janee" sh -c "grep -q '\"lease_id\":\"$plid\"' '$TMP/out' &&
	tr '{' '\n' <'$TMP/out' | grep '$plid' | grep '\"event\":\"denied\"' | grep -q '\"actor\":\"janee\"'"
cp "$TMP/config.saved" "$JANEE_HOME/config.json"

jr approvals --json
check "no approval is left waiting after the sessions ended" [ "$(out)" = "[]" ]
jr audit verify
expect_rc 0 "the audit chain verifies"
jr audit list --json
if [ -s "$TMP/tokens" ] &&
	! grep -qaFf "$TMP/tokens" "$TMP/out" "$TMP/serve.err" "$TMP/node.err" &&
	! grep -rqaFf "$TMP/tokens" "$JANEE_HOME"; then
	ok "no token in the audit rows, janee serve's stderr or JANEE_HOME"
else
	not_ok "no token in the audit rows, janee serve's stderr or JANEE_HOME"
fi

done_testing
