#!/bin/sh
# janee serve in the stateless 2026-07-28 era: the official v2 client
# (@modelcontextprotocol/client, pinned in tests/mcp/package-lock.json)
# pinned to 2026-07-28 and in auto mode; raw lines for server/discover,
# the _meta fields, resultType, -32022, and the input_required round trip
# with a requestState that is tampered with, forged, from another server
# process, for another call's arguments, replayed and expired (the expiry
# moves one server's clock with libfaketime; skipped without it).  The
# scenarios are tests/mcp/stateless.mjs.
. "$JANEE_SRCDIR/tests/lib.sh"

if ! command -v node >/dev/null 2>&1; then
	skip "janee serve in the stateless era" "node is not installed"
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
  "scopes": ["read", "write"], "max_ttl": "1h" %s}' \
		"$1" "$TMP/prov" "$2" "${3:-}"
}
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 $(test_prov auto auto),
 $(test_prov ask ask ', "approval_wait": "20s"'),
 $(test_prov oob out-of-band ', "approval_wait": "20s"')}}
JSON
chmod 600 "$JANEE_HOME/config.json"

# libfaketime (Debian: apt-get install libfaketime), or JANEE_LIBFAKETIME.
FAKETIME_LIB=
for f in ${JANEE_LIBFAKETIME:-} \
	/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \
	/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1 \
	/usr/lib/faketime/libfaketime.so.1 \
	/usr/local/lib/faketime/libfaketime.so.1; do
	if [ -f "$f" ]; then FAKETIME_LIB=$f; break; fi
done
export JANEE TMP FAKETIME_LIB

node "$JANEE_SRCDIR/tests/mcp/stateless.mjs" 2>"$TMP/node.err"
status=$?
cat "$TMP/node.err" >&2
check "the stateless scenarios exit 0" [ "$status" -eq 0 ]

jr approvals --json
check "no approval is left waiting after the sessions ended" [ "$(out)" = "[]" ]
jr audit verify
expect_rc 0 "the audit chain verifies"
jr audit list --json
cp "$TMP/out" "$TMP/audit.json"
if [ -s "$TMP/tokens" ]; then
	if grep -qaFf "$TMP/tokens" "$TMP/audit.json" "$TMP/node.err"; then
		not_ok "no token in the audit rows or on stderr"
	else ok "no token in the audit rows or on stderr"; fi
	if grep -rqaFf "$TMP/tokens" "$JANEE_HOME"; then
		not_ok "no token in plain text under JANEE_HOME"
	else ok "no token in plain text under JANEE_HOME"; fi
else
	not_ok "tokens were collected for the leak check"
fi

done_testing
