#!/bin/sh
# janee proxy (issue 15, item 3): call_api's rules, lease, scrubbing and
# audit over loopback HTTP, for programs that speak HTTP themselves.
# Against the fake GitHub (strict: installation tokens narrowed to the
# repositories) and the fake OAuth server's resource (an oauth2 provider
# whose API checks the bearer token): allowed calls pass with the token
# attached; denied, unlisted and out-of-allow-list calls and every
# traversal spelling of tests/unit/test-api-rules.c are refused with no
# request upstream; a missing or wrong key is refused; an answer echoing
# the token comes back redacted; at the lease's end requests get 401 and
# a new lease is asked for, used once approved; `janee exec --proxy`
# gives the command the API URL variable and the key, never the token;
# only loopback addresses are accepted.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/fake-github.sh"
. "$JANEE_SRCDIR/tests/lib/fake-oauth.sh"

CLIENT_ID=Iv23liJaneeFake0001
fake_github_app_key "$TMP/app" || { not_ok "a throwaway app key"; exit 1; }
fake_github_start --public-key "$TMP/app/app.pub" || {
	not_ok "the fake GitHub starts"
	exit 1
}
fake_oauth_start || { not_ok "the fake OAuth server starts"; exit 1; }
"$JANEE" init --key-backend keyfile >/dev/null 2>&1
printf 'fake-basic-secret' | "$JANEE" secret set basic >/dev/null 2>&1
"$JANEE" secret set app-key --from-file "$TMP/app/app.pem" >/dev/null 2>&1
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 "github": {"type": "github-app", "client_id": "$CLIENT_ID",
   "private_key": "secret:app-key", "installation_id": 4242,
   "permissions": {"issues": "read"}, "repositories": ["api", "web"],
   "base_url": "$FAKE_GH", "ca_file": "$FAKE_GH_CA", "approval": "ask",
   "api": {"allow": ["GET /repos/{owner}/{repo}/issues",
                     "GET /repos/{owner}/{repo}/hooks"],
           "deny": ["* /repos/*/*/hooks*"], "timeout": "10s"}},
 "cc": {"type": "oauth2", "issuer": "$FAKE_ISSUER", "ca_file": "$FAKE_CA",
   "client_id": "conf-basic", "client_secret": "secret:basic",
   "grant": "client_credentials", "scopes": ["a:read"], "approval": "auto",
   "api": {"base_url": "$FAKE_ISSUER/api", "allow": ["GET /whoami"]}}}}
JSON
chmod 600 "$JANEE_HOME/config.json"

# wait_for FILE PATTERN: up to 10 s
wait_for() {
	n=0
	until grep -Eq -- "$2" "$1" 2>/dev/null || [ $n -ge 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	grep -Eq -- "$2" "$1" 2>/dev/null
}

# waiting_id FILE: the id of the last lease FILE says waits for approval
waiting_id() {
	sed -n 's/.*lease \(lse_[a-z2-7]*\) for .* waits for your approval.*/\1/p' "$1" | tail -1
}

# pcurl NAME PATH [curl args]: a request to the proxy (no Accept unless
# given: the provider's default applies); status in
# $TMP/NAME.status, body in $TMP/NAME.body, headers in $TMP/NAME.hdr
pcurl() {
	_n=$1 _p=$2
	shift 2
	curl -sS --max-time 30 -o "$TMP/$_n.body" -D "$TMP/$_n.hdr" \
		-w '%{http_code}' -H 'Accept:' "$@" "$PURL$_p" >"$TMP/$_n.status" 2>"$TMP/$_n.err"
}

status_is() { [ "$(cat "$TMP/$1.status")" = "$2" ]; }

# --- only loopback addresses --------------------------------------------
for addr in 0.0.0.0:8080 192.168.1.1:80 '[::]:80' example.org:80; do
	jr proxy github --listen "$addr"
	expect_rc 2 "--listen $addr is refused"
	expect_in "$TMP/err" "loopback only" "saying janee proxy listens on loopback only ($addr)"
done
check "no lease was asked for by the refused starts" \
    test "$("$JANEE" lease list --all --json 2>/dev/null | "$PYTHON3" -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq 0
jr proxy nosuch
expect_rc 1 "an unknown provider is refused"
expect_in "$TMP/err" "no provider 'nosuch'" "naming it"

# --- start: the first lease is approved out of band ----------------------
setsid "$JANEE" proxy github --scope issues:read --repo api </dev/null >"$TMP/proxy.out" 2>"$TMP/proxy.err" &
ppid=$!
wait_for "$TMP/proxy.err" 'waits for your approval'
id1=$(waiting_id "$TMP/proxy.err")
[ -n "$id1" ] || sed 's/^/  proxy: /' "$TMP/proxy.err" >&2
check "janee proxy asks for its first lease and says how to approve it" [ -n "$id1" ]
"$JANEE" approve "$id1" >/dev/null 2>&1
wait_for "$TMP/proxy.out" '^JANEE_PROXY_KEY='
PURL=$(sed -n 's/^JANEE_PROXY_URL=//p' "$TMP/proxy.out")
KEY=$(sed -n 's/^JANEE_PROXY_KEY=//p' "$TMP/proxy.out")
PORT=${PURL##*:}
check "it prints its URL on loopback and a 64-character key once approved" \
    "$PYTHON3" -c 'import re,sys; assert re.fullmatch(r"http://127\.0\.0\.1:[0-9]+", sys.argv[1]) and re.fullmatch("[0-9a-f]{64}", sys.argv[2])' "$PURL" "$KEY"
expect_in "$TMP/proxy.out" "^GITHUB_API_URL=$PURL\$" "and GitHub's base URL variable"
printf 'Janee-Proxy-Key: %s\n' "$KEY" >"$TMP/keyhdr"
fake_github_control '{"clear_calls": true}' >/dev/null

# --- the key ---------------------------------------------------------------
pcurl nokey /repos/acme/api/issues
check "a request without the key gets 401" status_is nokey 401
expect_in "$TMP/nokey.body" '"error":"missing or wrong janee proxy key' "with a JSON error saying so"
wrong=$(printf '%s' "$KEY" | tr '0-9a-f' '1-9a-f0')
pcurl wrongkey /repos/acme/api/issues -H "Janee-Proxy-Key: $wrong"
check "a wrong key of the right length gets 401" status_is wrongkey 401
pcurl shortkey /repos/acme/api/issues -H "Janee-Proxy-Key: ${KEY%?}"
check "the key less its last character gets 401" status_is shortkey 401
# Right but for its last character: every byte of the key is compared.
last=$(printf '%s' "$KEY" | cut -c64)
[ "$last" = 0 ] && other=1 || other=0
pcurl lastkey /repos/acme/api/issues -H "Janee-Proxy-Key: ${KEY%?}$other"
check "the key with only its last character wrong gets 401" status_is lastkey 401
check "no request reached the fake without the key" \
    test "$(fake_github_count /repos/)" -eq 0

# --- allowed calls: the token attached ------------------------------------
pcurl ok1 /repos/acme/api/issues -H "@$TMP/keyhdr"
check "an allowed call passes (the fake GitHub checks the installation token)" status_is ok1 200
expect_in "$TMP/ok1.hdr" "^[Jj]anee-[Ll]ease-[Ii]d: $id1" "answered with the lease it used"
pcurl ok2 '/repos/acme/api/issues?state=open&per_page=2' -H "Authorization: Bearer $KEY" -H 'Accept: application/vnd.github+json'
check "the key as the bearer token works too, a query and Accept pass" status_is ok2 200
check "the fake saw the two calls" \
    test "$(fake_github_count /repos/acme/api/issues)" -eq 2
curl -sS --cacert "$FAKE_GH_CA" -o /dev/null -w '%{http_code}' "$FAKE_GH/repos/acme/api/issues" >"$TMP/direct.status"
check "the fake refuses a call without a token (so 200 means the token was attached)" \
    test "$(cat "$TMP/direct.status")" -ge 400

# --- refused before any request -------------------------------------------
fake_github_control '{"clear_calls": true}' >/dev/null
pcurl deny /repos/acme/api/hooks -H "@$TMP/keyhdr"
check "a denied path (hooks) gets 403" status_is deny 403
expect_in "$TMP/deny.body" 'denied by the rule' "naming the deny rule"
pcurl unlisted /repos/acme/api/issues -H "@$TMP/keyhdr" -X POST -d '{}' -H 'Content-Type: application/json'
check "an unlisted call (POST) gets 403" status_is unlisted 403
expect_in "$TMP/unlisted.body" 'matches no \\"allow\\" rule' "saying no allow rule matches"
pcurl outside /repos/acme/secret/issues -H "@$TMP/keyhdr"
check "a repository outside the allow-list gets 403" status_is outside 403
expect_in "$TMP/outside.body" "not in the provider's repository allow-list" "saying so"
check "the fake saw none of the refused calls" \
    test "$(fake_github_count /repos/)" -eq 0

# Every traversal spelling of the unit test, sent byte for byte.
"$PYTHON3" "$JANEE_SRCDIR/tests/proxy-raw.py" "$PORT" "$KEY" \
    "$JANEE_SRCDIR/tests/unit/test-api-rules.c" >"$TMP/trav.json" 2>"$TMP/trav.err"
check "every traversal spelling (at least 30) is refused: 4xx, never 200" \
    "$PYTHON3" -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert len(r) >= 30, len(r)
bad = [x for x in r if not 400 <= x["status"] < 500]
assert not bad, bad' "$TMP/trav.json"
check "most are refused by the path check itself (not by chance of the rules)" \
    "$PYTHON3" -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
n = sum(1 for x in r if "the path is refused" in x["body"])
assert n >= 30, n' "$TMP/trav.json"
check "none of them reached the fake" \
    test "$(fake_github_count /)" -eq 0

# --- the lease ends: 401, a new lease asked for, used once approved --------
"$JANEE" lease revoke "$id1" >/dev/null 2>&1
pcurl ended /repos/acme/api/issues -H "@$TMP/keyhdr"
check "after the lease ends a request gets 401" status_is ended 401
expect_in "$TMP/ended.body" 'lease ended; a new lease lse_[a-z2-7]+ .* waits for approval' \
    "with a JSON error saying a new lease waits for approval"
id2=$(sed -n 's/.*"lease_id":"\(lse_[a-z2-7]*\)".*/\1/p' "$TMP/ended.body")
check "the new lease is another one" sh -c "[ -n '$id2' ] && [ '$id2' != '$id1' ]"
"$JANEE" approvals >"$TMP/pending" 2>&1
expect_in "$TMP/pending" "$id2" "it is listed by janee approvals"
pcurl still /repos/acme/api/issues -H "@$TMP/keyhdr"
check "until it is approved requests get 401" status_is still 401
check "and ask for no further lease" \
    test "$(grep -c 'waits for your approval' "$TMP/proxy.err")" -eq 2
"$JANEE" approve "$id2" >/dev/null 2>&1
pcurl renewed /repos/acme/api/issues -H "@$TMP/keyhdr"
check "once approved the call passes" status_is renewed 200
expect_in "$TMP/renewed.hdr" "^[Jj]anee-[Ll]ease-[Ii]d: $id2" "with the new lease"

# --- one audit event per call ------------------------------------------------
"$JANEE" audit list --event api_call --json >"$TMP/audit.json" 2>"$TMP/audit.err"
check "each call the proxy made or refused is one api_call event (3 made, 3 refused + traversals)" \
    "$PYTHON3" -c '
import json, sys
ev = [e for e in json.load(open(sys.argv[1])) if e.get("client") == "proxy"]
ok = [e for e in ev if e["outcome"] == "ok"]
assert len(ok) == 3, ok
assert {e["lease_id"] for e in ok} == {sys.argv[2], sys.argv[3]}, ok
assert all("rule '"'"'GET /repos/{owner}/{repo}/issues'"'"': status 200" in e["detail"] for e in ok), ok
den = [e for e in ev if e["outcome"] == "denied"]
assert len(den) >= 33, len(den)' "$TMP/audit.json" "$id1" "$id2"

kill -TERM "$ppid"
wait "$ppid"
echo $? >"$TMP/rc"
expect_rc 0 "janee proxy stops on SIGTERM"
"$JANEE" lease show "$id2" >"$TMP/show2" 2>&1
expect_in "$TMP/show2" 'revoked' "and ends its lease"

# --- oauth2: an answer echoing the token comes back redacted ----------------
setsid "$JANEE" proxy cc --scope a:read --listen 127.0.0.1:0 </dev/null >"$TMP/cc.out" 2>"$TMP/cc.err" &
cpid=$!
wait_for "$TMP/cc.out" '^JANEE_PROXY_KEY='
PURL=$(sed -n 's/^JANEE_PROXY_URL=//p' "$TMP/cc.out")
KEY=$(sed -n 's/^JANEE_PROXY_KEY=//p' "$TMP/cc.out")
expect_in "$TMP/cc.out" "^CC_API_URL=$PURL\$" "an oauth2 provider's variable is NAME_API_URL"
pcurl who /whoami -H "Janee-Proxy-Key: $KEY"
check "oauth2: an allowed call passes the server's bearer check" status_is who 200
pcurl echo '/whoami?echo=token' -H "Janee-Proxy-Key: $KEY"
check "oauth2: a call echoing the token passes" status_is echo 200
expect_in "$TMP/echo.body" '\[redacted\]' "and has [redacted] for the token"
pcurl echos '/whoami?echo=secret' -H "Janee-Proxy-Key: $KEY"
expect_in "$TMP/echos.body" '\[redacted\]' "an answer echoing the client secret has [redacted] too"
expect_not_in "$TMP/echos.body" 'fake-basic-secret' "and not the secret"
kill -TERM "$cpid"
wait "$cpid"

# --- janee exec --proxy: the URL and the key, never the token --------------
cat >"$TMP/child.sh" <<'CHILD'
env >"$TMP/child.env"
curl -sS -o "$TMP/child.body" -w '%{http_code}' -H 'Accept:' \
    -H "Janee-Proxy-Key: $JANEE_PROXY_KEY" "$GITHUB_API_URL/repos/acme/api/issues" >"$TMP/child.status"
CHILD
export TMP
GITHUB_PERSONAL_ACCESS_TOKEN=stale-from-the-parent \
    setsid "$JANEE" exec github --scope issues:read --repo api --proxy -- sh "$TMP/child.sh" \
    </dev/null >"$TMP/exec.out" 2>"$TMP/exec.err" &
epid=$!
wait_for "$TMP/exec.err" 'waits for your approval'
id3=$(waiting_id "$TMP/exec.err")
"$JANEE" approve "$id3" >/dev/null 2>&1
wait "$epid"
echo $? >"$TMP/rc"
expect_rc 0 "janee exec --proxy runs the command"
expect_in "$TMP/child.env" '^GITHUB_API_URL=http://127\.0\.0\.1:[0-9]+$' "the command gets GITHUB_API_URL pointing at the proxy"
expect_in "$TMP/child.env" '^JANEE_PROXY_KEY=[0-9a-f]{64}$' "and the key"
expect_not_in "$TMP/child.env" '^GITHUB_PERSONAL_ACCESS_TOKEN=' "and not the provider's token variable (not even one inherited)"
check "its call through the proxy passes" test "$(cat "$TMP/child.status")" = 200
check "the fake issued tokens (the search below has needles)" \
    grep -q ghs_ "$FAKE_GH_CAPTURE"
awk 'length($0) >= 8' "$FAKE_GH_CAPTURE" >"$TMP/needles"
check "no token in the command's environment" \
    sh -c "! grep -F -f '$TMP/needles' '$TMP/child.env'"
"$JANEE" lease show "$id3" >"$TMP/show3" 2>&1
expect_in "$TMP/show3" 'revoked' "exec ends the proxy's lease when the command exits"

leaked=
for f in "$TMP"/*.body "$TMP"/*.hdr "$TMP/audit.json" "$TMP/proxy.err" "$TMP/proxy.out" "$TMP/exec.err" "$TMP/trav.json"; do
	grep -F -f "$TMP/needles" "$f" >/dev/null 2>&1 && leaked="$leaked $f"
done
check "no GitHub token in any answer, the audit or janee's output" test -z "$leaked"

done_testing
