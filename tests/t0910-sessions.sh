#!/bin/sh
# Invariant 7 at its boundaries, through janee serve (tests/mcp/sessions.mjs,
# raw JSON-RPC lines): every tool that takes a lease id (request_token's
# lease_id collect, revoke_token) refuses a lease of another session, and
# list_leases shows a session only its own; a request waits for a person
# at a terminal when any one of its scopes is in require_out_of_band, or
# when the client cannot show a form, never auto.
. "$JANEE_SRCDIR/tests/lib.sh"

if ! command -v node >/dev/null 2>&1; then
	skip "session ownership under janee serve" "node is not installed"
	exit 0
fi
if sh "$JANEE_SRCDIR/tests/mcp/install.sh"; then
	ok "the MCP SDK is installed (tests/mcp/install.sh)"
else
	not_ok "the MCP SDK is installed (tests/mcp/install.sh)"
	exit 1
fi

setup_home || { not_ok "a janee home"; exit 1; }
test_prov() { # test_prov NAME APPROVAL [EXTRA JSON MEMBERS]
	printf '"%s": {"type": "test", "state_dir": "%s", "approval": "%s",
  "max_ttl": "1h", "approval_wait": "1s" %s}' "$1" "$TMP/prov" "$2" "${3:-}"
}
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 $(test_prov oob out-of-band ', "scopes": ["read", "write"]'),
 $(test_prov ask ask ', "scopes": ["read", "write"]'),
 $(test_prov sens ask ', "scopes": ["read", "write", "zzz:read"], "require_out_of_band": ["write"]')}}
JSON
chmod 600 "$JANEE_HOME/config.json"

export JANEE TMP
node "$JANEE_SRCDIR/tests/mcp/sessions.mjs" 2>"$TMP/node.err"
status=$?
cat "$TMP/node.err" >&2
check "the session scenarios exit 0" [ "$status" -eq 0 ]
jr audit verify
expect_rc 0 "the audit chain verifies"

done_testing
