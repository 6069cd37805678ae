#!/bin/sh
# call_api (issue 15): janee makes the call, the agent never holds the
# token.  Against the fake Slack (its Web API's bearer check, the default
# base URL), the fake OAuth server's resource (an oauth2 provider:
# bearer check, token and client secret echoed and redacted, a binary
# answer in base64, an oversize one truncated) and the fake GitHub (strict: GitHub's headers, the app JWT,
# installation tokens narrowed to repositories) under the MCP SDK client
# (tests/mcp/call-api.mjs): ten calls in one session are one approval,
# one lease (one mint) and ten audit events; denied, unlisted,
# out-of-allow-list, traversal and needlessly encoded (%68ooks, a denied
# hooks path; %3B) calls are refused before any request reaches the fake;
# an answer that echoes the token comes back redacted;
# Set-Cookie is dropped; and no token is in any result, the audit or
# janee's stderr.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/fake-github.sh"
. "$JANEE_SRCDIR/tests/lib/fake-oauth.sh"
. "$JANEE_SRCDIR/tests/lib/fake-slack.sh"

if ! command -v node >/dev/null 2>&1; then
	skip "call_api under the MCP SDK" "node is not installed"
	exit 0
fi
if ! sh "$JANEE_SRCDIR/tests/mcp/install.sh"; then
	not_ok "the MCP SDK is installed (tests/mcp/install.sh)"
	exit 1
fi
CLIENT_ID=Iv23liJaneeFake0001
fake_github_app_key "$TMP/app" || { not_ok "a throwaway app key"; exit 1; }
fake_github_start --public-key "$TMP/app/app.pub" || {
	not_ok "the fake GitHub starts"
	exit 1
}
fake_oauth_start || { not_ok "the fake OAuth server starts"; exit 1; }
fake_slack_start || { not_ok "the fake Slack starts"; exit 1; }
"$JANEE" init --key-backend keyfile >/dev/null 2>&1
printf 'fake-basic-secret' | "$JANEE" secret set basic >/dev/null 2>&1
printf 'fake-slack-secret-one' | "$JANEE" secret set slack-one >/dev/null 2>&1
"$JANEE" secret set app-key --from-file "$TMP/app/app.pem" >/dev/null 2>&1
# "*ooks" is allowed so that only the path check stands between
# %68ooks (a server reads "hooks") and the fake: the deny rule does not
# match that spelling.
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 "github": {"type": "github-app", "client_id": "$CLIENT_ID",
   "private_key": "secret:app-key", "installation_id": 4242,
   "permissions": {"issues": "read"}, "repositories": ["api", "web"],
   "base_url": "$FAKE_GH", "ca_file": "$FAKE_GH_CA", "approval": "ask",
   "api": {"allow": ["GET /repos/{owner}/{repo}/issues",
                     "HEAD /repos/{owner}/{repo}/issues",
                     "GET /repos/{owner}/{repo}/hooks",
                     "GET /repos/{owner}/{repo}/*ooks"],
           "deny": ["* /repos/*/*/hooks*"],
           "max_response": "64KiB", "timeout": "10s"}},
 "cc": {"type": "oauth2", "issuer": "$FAKE_ISSUER", "ca_file": "$FAKE_CA",
   "client_id": "conf-basic", "client_secret": "secret:basic",
   "grant": "client_credentials", "scopes": ["a:read"], "approval": "auto",
   "api": {"base_url": "$FAKE_ISSUER/api", "max_response": "64KiB",
           "allow": ["GET /whoami", "GET /blob", "GET /big"]}},
 "slack": {"type": "slack", "base_url": "$SLACK_URL", "ca_file": "$SLACK_CA",
   "client_id": "1111.1111", "client_secret": "secret:slack-one",
   "profiles": {"me": {"user_scopes": ["channels:read", "users:read"]}},
   "approval": "auto",
   "api": {"allow": ["POST /conversations.list", "POST /auth.*"],
           "deny": ["* /auth.revoke*"]}}}}
JSON
chmod 600 "$JANEE_HOME/config.json"

# The config is checked like every other key: a typo is named.
cp "$JANEE_HOME/config.json" "$TMP/good.json"
sed 's/"max_response"/"max_respons"/' "$TMP/good.json" >"$JANEE_HOME/config.json"
jr provider list
expect_rc 1 "a typo in the api object is an error"
expect_in "$TMP/err" "providers.github.api: unknown key 'max_respons'" \
    "the error names the unknown key"
cp "$TMP/good.json" "$JANEE_HOME/config.json"

# A Slack login through the loopback redirect (the fake approves at once).
"$JANEE" login slack --profile me --no-browser </dev/null \
    >"$TMP/login.out" 2>"$TMP/login.err" &
lpid=$!
i=0
authz=
while [ $i -lt 100 ] && [ -z "$authz" ]; do
	sleep 0.1
	authz=$(grep -o 'https://[^ ]*/oauth/v2/authorize?[^ ]*' "$TMP/login.err")
	i=$((i + 1))
done
loc=$(curl -sS --cacert "$SLACK_CA" -o /dev/null -w '%{redirect_url}' "$authz")
curl -sS "$loc" >/dev/null
wait $lpid
check "the Slack login succeeds" test $? -eq 0

fake_github_control '{"clear_calls": true}' >/dev/null
export JANEE TMP
if node "$JANEE_SRCDIR/tests/mcp/call-api.mjs" >"$TMP/node.out" 2>"$TMP/node.err"; then
	cat "$TMP/node.out"
else
	cat "$TMP/node.out"
	sed 's/^/  /' "$TMP/node.err" >&2
	not_ok "the call_api scenarios pass"
fi

lease=$(cat "$TMP/lease" 2>/dev/null)
check "one installation token was minted for all the calls" \
    test "$(fake_github_count /access_tokens)" -eq 1
check "the fake saw no request to a denied path (hooks)" \
    test "$(fake_github_count /hooks)" -eq 0
check "the fake saw no request with an encoded letter or ';' (%68ooks, %3B)" \
    test "$(fake_github_count %68ooks)" -eq 0 -a "$(fake_github_count %3B)" -eq 0
check "the fake saw no request for a repository outside the allow-list" \
    test "$(fake_github_count /secret/)" -eq 0
check "the fake saw no POST (an unlisted call)" \
    test "$(fake_github_calls | "$PYTHON3" -c 'import json,sys; print(sum(1 for c in json.load(sys.stdin) if c["method"] == "POST" and "/issues" in c["path"]))')" -eq 0
check "the fake Slack saw no auth.revoke (denied by its rule)" \
    test "$(fake_slack_calls | "$PYTHON3" -c 'import json,sys; print(sum(1 for c in json.load(sys.stdin) if "auth.revoke" in c["path"]))')" -eq 0
check "fourteen issue requests reached the fake (10 + echo + safe headers + resources + HEAD)" \
    test "$(fake_github_count /repos/acme/api/issues)" -eq 14

"$JANEE" audit list --event api_call --json >"$TMP/audit.json" 2>"$TMP/audit.err"
check "each of the 13 calls answered 200 is one api_call audit event (method, path, rule, status) on the one lease; refusals audited as denied" \
    "$PYTHON3" -c '
import json, sys
ev = json.load(open(sys.argv[1]))
okc = [e for e in ev if e.get("outcome") == "ok" and e.get("lease_id") == sys.argv[2]]
assert len(okc) == 13, len(okc)
assert all("GET /repos/acme/api/issues rule '"'"'GET /repos/{owner}/{repo}/issues'"'"': status 200" in e["detail"] for e in okc), okc[0]
den = [e for e in ev if e.get("outcome") == "denied"]
assert len(den) >= 5, den' "$TMP/audit.json" "$lease"
"$JANEE" audit list --event approved --json >"$TMP/approved.json" 2>&1
check "the github lease was approved once, by the person in the client" \
    "$PYTHON3" -c '
import json, sys
ev = [e for e in json.load(open(sys.argv[1])) if e["provider"] == "github"]
assert len(ev) == 1 and ev[0]["lease_id"] == sys.argv[2], ev
assert ev[0]["actor"] == "user", ev' "$TMP/approved.json" "$lease"

# No token anywhere the agent or the audit sees.
check "the fake issued tokens (the search below has needles)" \
    grep -q ghs_ "$FAKE_GH_CAPTURE"
awk 'length($0) >= 8' "$FAKE_GH_CAPTURE" >"$TMP/needles"
leaked=
for f in "$TMP/results.json" "$TMP/audit.json" "$TMP/serve.err" "$TMP/node.out"; do
	grep -F -f "$TMP/needles" "$f" >/dev/null 2>&1 && leaked="$leaked $f"
done
check "no token in any call_api result, the audit or janee's stderr" \
    test -z "$leaked"

done_testing
