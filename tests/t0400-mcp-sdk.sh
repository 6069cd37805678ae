#!/bin/sh
# janee serve under the official MCP TypeScript SDK client
# (@modelcontextprotocol/sdk 1.32, pinned in tests/mcp/package-lock.json):
# tools/list with valid schemas; request_token with auto approval, with
# elicitation (accept with a shorter TTL, decline, cancel, approve=false),
# out-of-band approval and denial from a second `janee approve|deny`
# process while request_token waits (with progress), the pending result
# and collection by lease_id, the fallback from ask to out-of-band for a
# client that cannot elicit and for scopes that require it, cancellation;
# list_leases and revoke_token per session; a lease that ends during the
# session, revoked at the provider within a second and notified; no login
# started by request_token; no token in stderr, the audit or the home.
# Providers: the test provider (its live tokens are files, so revocation
# is visible) and a real OAuth server, oidc-provider (tests/peers), whose
# introspection endpoint says whether a token still lives.
# The scenarios are tests/mcp/sdk.mjs; this script sets up and checks the
# ledger and the OAuth servers afterwards.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/fake-oauth.sh"
. "$JANEE_SRCDIR/tests/lib/oidc.sh"

if ! command -v node >/dev/null 2>&1; then
	skip "janee serve under the MCP SDK" "node is not installed"
	exit 0
fi
if sh "$JANEE_SRCDIR/tests/mcp/install.sh"; then
	ok "the MCP SDK is installed (tests/mcp/install.sh)"
else
	not_ok "the MCP SDK is installed (tests/mcp/install.sh)"
	exit 1
fi
# The OAuth server stands in for a provider that needs a login: janee
# must never start one on an agent's behalf.
fake_oauth_start || { not_ok "the fake OAuth server starts"; exit 1; }
# A real authorization server (oidc-provider) for tokens whose life the
# server itself reports (introspection).
if oidc_start; then
	ok "oidc-provider starts"
	oidc=$(printf '"oidc": {"type": "oauth2", "issuer": "%s", "ca_file": "%s",
   "client_id": "janee-basic", "client_secret": "secret:basic-secret",
   "auth_method": "client_secret_basic", "grant": "client_credentials",
   "scopes": ["issues:read", "contents:read"], "approval": "auto"},' \
		"$OIDC_ISSUER" "$OIDC_CA")
else
	not_ok "oidc-provider starts"
	unset OIDC_ISSUER
fi

"$JANEE" init --key-backend keyfile >/dev/null 2>&1
printf '%s' "$OIDC_BASIC_SECRET" | "$JANEE" secret set basic-secret 2>/dev/null
mkdir -p "$TMP/prov"
test_prov() { # test_prov NAME APPROVAL [EXTRA JSON MEMBERS]
	printf '"%s": {"type": "test", "state_dir": "%s", "approval": "%s",
  "scopes": ["read", "write", "admin"], "max_ttl": "1h" %s}' \
		"$1" "$TMP/prov" "$2" "${3:-}"
}
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": { ${oidc:-}
 $(test_prov auto auto),
 $(test_prov ask ask),
 $(test_prov oob out-of-band ', "approval_wait": "20s"'),
 $(test_prov never deny),
 $(test_prov parts auto ', "parts": "login", "repositories": ["app"]'),
 "sens": {"type": "test", "state_dir": "$TMP/prov", "approval": "ask",
   "scopes": ["issues:read", "issues:write"], "max_ttl": "1h",
   "require_out_of_band": ["*:write"], "approval_wait": "2s"},
 "dev": {"type": "oauth2", "issuer": "$FAKE_ISSUER", "ca_file": "$FAKE_CA",
   "client_id": "pub", "scopes": ["a:read", "a:write"],
   "login_scopes": ["a:read", "a:write"], "approval": "auto"}}}
JSON
chmod 600 "$JANEE_HOME/config.json"
jr provider list
expect_rc 0 "the config loads"

export JANEE TMP OIDC_BASIC_SECRET
node "$JANEE_SRCDIR/tests/mcp/sdk.mjs" 2>"$TMP/node.err"
status=$?
cat "$TMP/node.err" >&2
check "the SDK scenarios exit 0" [ "$status" -eq 0 ]

jr lease list --all --json
check "request_token for the provider without a login was made (and failed)" "$PYTHON3" -c '
import json, sys
ls = [l for l in json.load(open(sys.argv[1])) if l["provider"] == "dev"]
assert len(ls) == 1 and ls[0]["state"] in ("failed", "denied"), ls
' "$TMP/out"
check "request_token never started a login at the OAuth server" \
	[ "$(fake_oauth_count /device_authorization)" -eq 0 ]
check "nor asked its token endpoint" [ "$(fake_oauth_count /token)" -eq 0 ]

# The record: who asked, what was decided, nothing secret.
jr audit list --json
expect_rc 0 "audit list"
cp "$TMP/out" "$TMP/audit.json"
check "audit: the SDK client's clientInfo and session id are on the rows of its requests" "$PYTHON3" -c '
import json, re, sys
rows = json.load(open(sys.argv[1]))
clients = {r["client"] for r in rows if r["event"] == "requested"}
names = {c.split(" session ")[0] for c in clients}
assert {"sdk-a/1.2.3", "sdk-b/1.2.3"} <= names, clients
assert all(re.fullmatch(r".+ session [0-9a-f]{32}", c) for c in clients), clients
' "$TMP/audit.json"
check "audit: elicitation decline and cancel are denials by the user" "$PYTHON3" -c '
import json, sys
rows = json.load(open(sys.argv[1]))
d = [r["detail"] for r in rows if r["event"] == "denied" and r["actor"] == "user"]
assert any("decline" in x for x in d) and any("cancel" in x for x in d), d
' "$TMP/audit.json"
check "audit: the out-of-band approval is by the user at the terminal" "$PYTHON3" -c '
import json, sys
rows = json.load(open(sys.argv[1]))
assert any(r["event"] == "approved" and r["actor"] == "user" and
           "terminal" in (r["detail"] or "") for r in rows)
' "$TMP/audit.json"
check "audit: the expiry and the revocation are on record" "$PYTHON3" -c '
import json, sys
ev = [r["event"] for r in json.load(open(sys.argv[1]))]
assert "expired" in ev and "revoked" in ev, ev
' "$TMP/audit.json"
jr audit verify
expect_rc 0 "the audit chain verifies"

# No token anywhere but in the answers to the client.
if [ -s "$TMP/tokens" ]; then
	ok "tokens were collected for the leak check"
	if grep -qaFf "$TMP/tokens" "$TMP/audit.json"; then
		not_ok "no token in the audit rows"
	else ok "no token in the audit rows"; fi
	if grep -qaFf "$TMP/tokens" "$TMP/serve.err" "$TMP/node.err"; then
		not_ok "no token in janee serve's stderr"
	else ok "no token in janee serve's stderr"; fi
	if grep -rqaFf "$TMP/tokens" "$JANEE_HOME"; then
		not_ok "no token in plain text under JANEE_HOME"
	else ok "no token in plain text under JANEE_HOME"; fi
else
	not_ok "tokens were collected for the leak check"
fi
done_testing
