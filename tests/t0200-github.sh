#!/bin/sh
# The GitHub App provider against a fake GitHub (tests/fixtures/
# fake_github.mjs, strict to REFERENCE.md: it verifies the app JWT's RS256
# signature with the app's public key, iat/exp/iss, GitHub's headers and
# the token request body).  Installation tokens narrowed by permissions and
# repositories; refusals before any request (ceiling, allow-list, empty
# allow-list); each GitHub error as an actionable message; one JWT for
# several calls; revocation at lease end; `janee login` through the device
# flow with GitHub's quirks; user-token leases by refresh rotation; logout;
# and no key, JWT or token in janee's output or state.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/fake-github.sh"

CLIENT_ID=Iv23liJaneeFake0001
fake_github_app_key "$TMP/app" || { not_ok "a throwaway app key"; exit 1; }
fake_github_app_key "$TMP/other" || { not_ok "a second key"; exit 1; }
(umask 077 && printf 'gh-client-secret-CANARY-41c9' >"$TMP/client-secret")
fake_github_start --public-key "$TMP/app/app.pub" \
    --client-secret-file "$TMP/client-secret" || {
	not_ok "the fake GitHub starts"
	exit 1
}
ok "the fake GitHub starts"
"$JANEE" init --key-backend keyfile >/dev/null 2>&1
"$JANEE" secret set app-key --from-file "$TMP/app/app.pem" >/dev/null 2>&1
"$JANEE" secret set gh-client-secret <"$TMP/client-secret" >/dev/null 2>&1

# Everything janee prints, for the leak check at the end (a token's own
# stdout excepted: handing it out is the point).
: >"$TMP/all.err"
: >"$TMP/all.out"
: >"$TMP/tokens"
jg() { # jg ARGS...: jr, keeping what janee printed
	jr "$@"
	cat "$TMP/err" >>"$TMP/all.err"
	case "$1" in
	token) cat "$TMP/out" >>"$TMP/tokens" ;;
	*) cat "$TMP/out" >>"$TMP/all.out" ;;
	esac
}
tok_save() { # tok_save FILE: the token `jg token` printed last
	head -n 1 "$TMP/out" | tr -d '\n' >"$1"
}
lease_of() { sed -n 's/.*lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/err"; }
calls() { fake_github_calls "$@" >"$TMP/calls.json"; }
calls_check() { # calls_check NAME PYTHON-EXPR over c (the call list)
	check "$1" "$PYTHON3" -c "
import json, sys
c = json.load(open(sys.argv[1]))
assert $2, json.dumps(c, indent=1)[:3000]" "$TMP/calls.json"
}
clear_calls() { fake_github_control '{"clear_calls": true}' >/dev/null; }
dead() { ! fake_github_live "$1"; }
ended() { # ended FILE HOW: the fake says the token ended HOW
	[ "$(fake_github_state "$1" | fake_github_json 'j["ended"]')" = "$2" ]
}
posts() { fake_github_count /access_tokens; }

COMMON="\"base_url\": \"$FAKE_GH\", \"ca_file\": \"$FAKE_GH_CA\", \"approval\": \"auto\""
write_config() { # write_config [ALLOW-LIST of provider github, JSON]
	_allow=${1:-'["api", "web", "docs"]'}
	cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 "github": {"type": "github-app", "client_id": "$CLIENT_ID",
   "private_key": "secret:app-key", "installation_id": 4242,
   "permissions": {"issues": "write", "contents": "read", "pull_requests": "read"},
   "repositories": $_allow, "max_ttl": "1h", $COMMON},
 "gh-repo": {"type": "github-app", "app_id": 1234567,
   "private_key": "secret:app-key", "repository": "acme/api",
   "permissions": ["issues:read"], "repositories": ["api"], $COMMON},
 "gh-owner": {"type": "github-app", "client_id": "$CLIENT_ID",
   "private_key": "secret:app-key", "owner": "octocat",
   "permissions": ["contents:read"], "repositories": ["dotfiles"], $COMMON},
 "gh-nowhere": {"type": "github-app", "client_id": "$CLIENT_ID",
   "private_key": "secret:app-key", "repository": "acme/secret",
   "permissions": ["issues:read"], "repositories": ["secret"], $COMMON},
 "gh-gone": {"type": "github-app", "client_id": "$CLIENT_ID",
   "private_key": "secret:app-key", "installation_id": 999,
   "permissions": ["issues:read"], "repositories": ["api"], $COMMON},
 "gh-all": {"type": "github-app", "client_id": "$CLIENT_ID",
   "private_key": "secret:app-key", "installation_id": 4242,
   "permissions": ["issues:read"], "all_repositories": true, $COMMON},
 "gh-me": {"type": "github-app", "mint": "user", "client_id": "$CLIENT_ID",
   "client_secret": "secret:gh-client-secret", "oauth_base_url": "$FAKE_GH",
   "permissions": ["issues:write", "contents:read"],
   "default_scopes": ["contents:read", "issues:write"], $COMMON},
 "gh-me2": {"type": "github-app", "mint": "user", "client_id": "$CLIENT_ID",
   "oauth_base_url": "$FAKE_GH", "permissions": ["contents:read"],
   "default_scopes": ["contents:read"], $COMMON}}}
JSON
	chmod 600 "$JANEE_HOME/config.json"
}
write_config

# ---------------------------------------------------------------- the fake
# janee passing means something only if the fake refuses what GitHub
# refuses.  A JWT by hand (node's crypto): jwt KEY IAT_OFFSET EXP_OFFSET ISS
jwt() {
	node -e '
const c = require("crypto"), fs = require("fs");
const [key, ia, ea, iss] = process.argv.slice(1);
const now = Math.floor(Date.now() / 1000);
const b = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const d = b({alg: "RS256", typ: "JWT"}) + "." +
    b({iat: now + Number(ia), exp: now + Number(ea), iss});
const s = c.sign("sha256", Buffer.from(d), fs.readFileSync(key));
process.stdout.write(d + "." + s.toString("base64url"));' "$@"
}
raw() { # raw JWTFILE METHOD PATH [CURL ARGS...]: status code only
	_j=$1 _m=$2 _p=$3
	shift 3
	(umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$_j")" >"$TMP/h")
	curl -sS -o "$TMP/raw.body" -w '%{http_code}' --cacert "$FAKE_GH_CA" \
	    -X "$_m" -H "@$TMP/h" "$@" "$FAKE_GH$_p"
}
GHH='-H Accept:application/vnd.github+json -H X-GitHub-Api-Version:2022-11-28'
jwt "$TMP/app/app.pem" -60 540 "$CLIENT_ID" >"$TMP/jwt.good"
check "fake: a well-made JWT works" [ "$(raw "$TMP/jwt.good" GET /app $GHH)" = 200 ]
check "fake: no vnd.github Accept is 415" \
    [ "$(raw "$TMP/jwt.good" GET /app -H X-GitHub-Api-Version:2022-11-28)" = 415 ]
check "fake: no API version is 400" \
    [ "$(raw "$TMP/jwt.good" GET /app -H Accept:application/vnd.github+json)" = 400 ]
check "fake: no User-Agent is 403" \
    [ "$(raw "$TMP/jwt.good" GET /app $GHH -H User-Agent:)" = 403 ]
jwt "$TMP/other/app.pem" -60 540 "$CLIENT_ID" >"$TMP/jwt.otherkey"
check "fake: a JWT signed by another key is 401" \
    [ "$(raw "$TMP/jwt.otherkey" GET /app $GHH)" = 401 ]
jwt "$TMP/app/app.pem" -60 600 "$CLIENT_ID" >"$TMP/jwt.long"
check "fake: exp more than 10 minutes after iat is 401" \
    [ "$(raw "$TMP/jwt.long" GET /app $GHH)" = 401 ]
expect_in "$TMP/raw.body" "too far in the future" "fake: with GitHub's message"
jwt "$TMP/app/app.pem" 120 600 "$CLIENT_ID" >"$TMP/jwt.future"
check "fake: iat in the future is 401" [ "$(raw "$TMP/jwt.future" GET /app $GHH)" = 401 ]
jwt "$TMP/app/app.pem" -60 540 Iv23liSomeoneElse >"$TMP/jwt.iss"
check "fake: another issuer is 401" [ "$(raw "$TMP/jwt.iss" GET /app $GHH)" = 401 ]
mint_raw() { raw "$TMP/jwt.good" POST /app/installations/4242/access_tokens \
    $GHH -H Content-Type:application/json --data-binary "$1"; }
check "fake: 'pull-requests' is 422" [ "$(mint_raw '{"permissions": {"pull-requests": "read"}}')" = 422 ]
check "fake: a level the permission lacks is 422" [ "$(mint_raw '{"permissions": {"workflows": "read"}}')" = 422 ]
check "fake: owner/name is 422" [ "$(mint_raw '{"repositories": ["acme/api"]}')" = 422 ]
"$PYTHON3" -c 'import json; print(json.dumps({"repositories": ["r%d" % i for i in range(501)]}))' >"$TMP/501.json"
check "fake: 501 repositories is 422" [ "$(mint_raw "@$TMP/501.json")" = 422 ]
check "fake: a permission beyond the installation's is 422" \
    [ "$(mint_raw '{"permissions": {"checks": "read"}}')" = 422 ]
check "fake: a narrowed request is 201" \
    [ "$(mint_raw '{"permissions": {"issues": "read"}, "repositories": ["api"]}')" = 201 ]
check "fake: the token is ~520 characters" "$PYTHON3" -c '
import json, sys
t = json.load(open(sys.argv[1]))["token"]
assert t.startswith("ghs_") and 500 <= len(t) <= 540, len(t)' "$TMP/raw.body"

# --------------------------------------------------- installation tokens
clear_calls
jg token github --scope issues:read --repo api --ttl 10m
expect_rc 0 "token github --scope issues:read --repo api --ttl 10m"
tok_save "$TMP/tok.narrow"
check "stdout holds only the token" [ "$(wc -l <"$TMP/out")" -eq 1 ]
expect_in "$TMP/out" '^ghs_[A-Za-z0-9_.-]{500,540}$' "the token is GitHub's ~520-character ghs_ token"
expect_in "$TMP/err" 'scopes issues:read metadata:read,' "granted: issues:read and GitHub's own metadata:read"
lease_narrow=$(lease_of)
calls /access_tokens
calls_check "one request, for exactly issues:read on api" \
    'len(c) == 1 and c[0]["request"] == {"permissions": {"issues": "read"}, "repositories": ["api"]} and c[0]["status"] == 201'
calls_check "GitHub's headers and a User-Agent" \
    'c[0]["accept"] == "application/vnd.github+json" and c[0]["api_version"] == "2022-11-28" and c[0]["user_agent"].startswith("janee/")'
calls_check "the JWT: RS256, iss the client ID, iat a minute back, exp 10 minutes after iat" \
    'c[0]["jwt"]["alg"] == "RS256" and c[0]["jwt"]["iss"] == "'$CLIENT_ID'" and 55 <= c[0]["jwt"]["now"] - c[0]["jwt"]["iat"] <= 65 and c[0]["jwt"]["exp"] - c[0]["jwt"]["iat"] == 600'
# The issue's spelling: --permission is --scope by GitHub's name.
clear_calls
jg token github --permission issues:read --repo api --ttl 10m
expect_rc 0 "token github --permission issues:read --repo api --ttl 10m"
tok_save "$TMP/tok.perm"
calls /access_tokens
calls_check "--permission asks for exactly that permission" \
    'len(c) == 1 and c[0]["request"] == {"permissions": {"issues": "read"}, "repositories": ["api"]}'
fake_github_api /installation/repositories "$TMP/tok.narrow" >"$TMP/repos.json"
check "the token works, for api alone" "$PYTHON3" -c '
import json, sys
lines = open(sys.argv[1]).read().rsplit("\n", 2)
assert lines[-2] == "HTTP 200", lines
j = json.loads(lines[0])
assert [r["name"] for r in j["repositories"]] == ["api"], j
assert j["permissions"] == {"issues": "read", "metadata": "read"}, j' "$TMP/repos.json"

jg token github --scope issues:write --scope contents:read --repo docs --repo api --ttl 5m --json
expect_rc 0 "token with two permissions and two repositories"
check "--json: the granted scopes include the implied levels" "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["scopes"] == ["contents:read", "issues:read", "issues:write", "metadata:read"], d
assert d["token"].startswith("ghs_") and d["revocable"] is True, d' "$TMP/out"
"$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"], end="")' "$TMP/out" >"$TMP/tok.two"
calls /access_tokens
calls_check "the request: the highest level per permission, both repositories" \
    'c[-1]["request"] == {"permissions": {"contents": "read", "issues": "write"}, "repositories": ["api", "docs"]}'

jg token github --scope pull_requests:read --ttl 5m
expect_rc 0 "token without --repo"
calls /access_tokens
calls_check "no --repo asks for the allow-list, never for everything" \
    'c[-1]["request"]["repositories"] == ["api", "docs", "web"]'

n=$(posts)
jg token github --scope contents:write --repo api
expect_rc 1 "a permission above the ceiling is refused"
expect_in "$TMP/err" "scope 'contents:write' is not within the policy of provider 'github'" "and the refusal names it"
jg token github --scope checks:read --repo api
expect_rc 1 "a permission outside the ceiling is refused"
jg token github --scope issues:read --repo infra
expect_rc 1 "a repository off the allow-list is refused"
expect_in "$TMP/err" "repository 'infra' is not on the allow-list" "and the refusal names it"
jg token github --scope issues:read --repo acme/api
expect_rc 1 "owner/name is refused"
check "refusals never reach GitHub" [ "$(posts)" -eq "$n" ]

clear_calls
jg token gh-all --scope issues:read --ttl 5m
expect_rc 0 "all_repositories: a token for the whole installation"
tok_save "$TMP/tok.all"
calls /access_tokens
calls_check "sent without repositories, only when the config says so" \
    'c[0]["request"] == {"permissions": {"issues": "read"}}'

# Installation look-ups: by repository, by owner (organization, then user).
clear_calls
jg token gh-repo --scope issues:read --ttl 5m
expect_rc 0 "installation found by repository"
tok_save "$TMP/tok.repo"
calls
calls_check "GET /repos/acme/api/installation, then the token of installation 4242" \
    '[(x["method"], x["path"]) for x in c] == [("GET", "/repos/acme/api/installation"), ("POST", "/app/installations/4242/access_tokens")]'
calls_check "one JWT for both calls, iss the app ID" \
    'c[0]["jwt"]["fp"] == c[1]["jwt"]["fp"] and c[0]["jwt"]["iss"] == 1234567'
clear_calls
jg token gh-owner --scope contents:read --ttl 5m
expect_rc 0 "installation found by owner"
tok_save "$TMP/tok.owner"
calls
calls_check "orgs first, then users" \
    '[(x["path"], x["status"]) for x in c] == [("/orgs/octocat/installation", 404), ("/users/octocat/installation", 200), ("/app/installations/5151/access_tokens", 201)]'
clear_calls
jg token gh-nowhere --scope issues:read
expect_rc 1 "no installation on the repository"
expect_in "$TMP/err" "the GitHub App is not installed on 'acme/secret' \(HTTP 404 from installation look-up \(GET /repos/acme/secret/installation\)\); install it" "it says the app is not installed there and what to do"
check "no token was asked for" [ "$(posts)" -eq 0 ]

# Invariant 8: GitHub's answer held to the request.  The fake widens its
# next answer on request (never GitHub's habit, but the check must hold):
# a higher level than asked, a permission not asked, one more repository,
# every repository.  Each is refused, and the wider token is revoked.
last_token() { # the fake's newest installation token: "live ended"
	curl -sS --cacert "$FAKE_GH_CA" "$FAKE_GH/_state" | fake_github_json '
" ".join(str(x) for x in [t for t in j["tokens"] if t["kind"] == "installation"][-1:][0].values())'
}
widened() { # widened NAME WIDEN-JSON PATTERN: one refused, revoked grant
	fake_github_control "{\"widen\": $2}" >/dev/null
	jg token github --scope issues:read --repo api --ttl 5m
	expect_rc 1 "invariant 8, GitHub granted $1: refused"
	check "invariant 8, GitHub granted $1: no token on stdout" [ ! -s "$TMP/out" ]
	expect_in "$TMP/err" "$3" "invariant 8, GitHub granted $1: the error says what"
	s=$(last_token)
	case $s in
	*False*revoked* | *revoked*False*) ok "invariant 8, GitHub granted $1: that token was revoked at once" ;;
	*) not_ok "invariant 8, GitHub granted $1: that token was revoked at once"; echo "  $s" >&2 ;;
	esac
}
widened "write for read" '{"permissions": {"issues": "write"}}' \
    "GitHub granted permission 'issues:write', which was not asked"
widened "a permission not asked" '{"permissions": {"members": "read"}}' \
    "GitHub granted permission 'members:read', which was not asked"
widened "metadata:write" '{"permissions": {"metadata": "write"}}' \
    "GitHub granted permission 'metadata:write', which was not asked"
widened "one repository more" '{"repositories": ["web"]}' \
    "GitHub granted repository 'web', which was not asked"
widened "every repository" '{"selection": "all"}' \
    "GitHub granted repository selection 'all' where repositories were named"
jg token github --scope issues:read --repo api --ttl 5m
expect_rc 0 "invariant 8: GitHub's grant of what was asked, with its own metadata:read (the control)"

# Configuration refusals: before any request.
clear_calls
write_config '[]'
jg provider list
expect_rc 1 "an empty allow-list is refused"
expect_in "$TMP/err" "repository allow-list is empty; list the repositories" "it says to list them (never \"all\")"
jg token github --scope issues:read
expect_rc 1 "and no token is minted from it"
write_config '["api"]'
sed -i 's/"pull_requests": "read"/"pull-requests": "read"/' "$JANEE_HOME/config.json"
jg provider list
expect_rc 1 "an unknown permission name is refused"
expect_in "$TMP/err" "'pull-requests:read' is not a GitHub App permission; .*underscores, one of: .*pull_requests" "the error lists the valid names"
write_config '["acme/api"]'
jg provider list
expect_rc 1 "owner/name in the allow-list is refused"
expect_in "$TMP/err" "must be a bare name, as GitHub wants it \('api'\)" "it says to use the bare name"
check "none of that reached GitHub" [ "$(fake_github_count /)" -eq 0 ]
write_config

# --------------------------------------------------------- error mapping
err_case() { # err_case NAME PATTERN PROVIDER ARGS...: fails with PATTERN
	_n=$1 _p=$2
	shift 2
	jg token "$@"
	expect_rc 1 "$_n: janee token fails"
	check "$_n: no token on stdout" [ ! -s "$TMP/out" ]
	expect_in "$TMP/err" "$_p" "$_n: an actionable message"
}
pub_json() { "$PYTHON3" -c 'import json,sys; print(json.dumps({"app": {"public_key": open(sys.argv[1]).read()}}))' "$1"; }
fake_github_control "$(pub_json "$TMP/other/app.pub")" >/dev/null
err_case "401 (the app's key changed)" "GitHub refused the app JWT .*HTTP 401: A JSON web token could not be decoded.*check that 'private_key' is a current private key of the app" \
    github --scope issues:read --repo api
fake_github_control "$(pub_json "$TMP/app/app.pub")" >/dev/null
JANEE_TEST_CLOCK_OFFSET=-900 err_case "401 (a wrong clock)" "HTTP 401: 'Expiration time' claim \('exp'\).*clock is probably off by more than a minute" \
    github --scope issues:read --repo api
fake_github_control '{"installation": {"id": 4242, "suspended": true}}' >/dev/null
err_case "403 (suspended)" "GitHub forbids token request for installation 4242 \(HTTP 403: This installation has been suspended\); the installation may be suspended" \
    github --scope issues:read --repo api
fake_github_control '{"installation": {"id": 4242, "suspended": false}}' >/dev/null
err_case "404 (no such installation)" "installation 999 of the app was not found \(HTTP 404: Not Found\); the app was uninstalled there, or 'installation_id' is wrong" \
    gh-gone --scope issues:read --repo api
fake_github_control '{"installation": {"id": 4242, "permissions": {"issues": "read", "contents": "read", "metadata": "read"}}}' >/dev/null
err_case "422 (permission not granted)" "permission 'issues:write' \(it has issues:read\) is not granted to installation 4242; add it in the app's settings" \
    github --scope issues:write --repo api
err_case "422 (two permissions)" "permissions 'issues:write' \(it has issues:read\), 'pull_requests:read' \(it has none\) are not granted to installation 4242; add them" \
    github --scope issues:write --scope pull_requests:read --repo api
fake_github_control '{"installation": {"id": 4242, "permissions": {"issues": "write", "contents": "read", "pull_requests": "write", "metadata": "read"}, "repositories": ["api", "web"]}}' >/dev/null
err_case "422 (repository not accessible)" "a repository asked for \('docs'\) does not exist or is not accessible to installation 4242 .*add it to the installation's repository access" \
    github --scope issues:read --repo docs
fake_github_control '{"installation": {"id": 4242, "repositories": ["api", "web", "docs", "infra"]}}' >/dev/null
clear_calls
fake_github_control '{"fault": {"path": "/app/installations/*/access_tokens", "status": 429, "retry_after": 120}}' >/dev/null
err_case "429" "GitHub's rate limit stopped token request for installation 4242 \(HTTP 429: API rate limit exceeded for installation.\); try again in 120 s" \
    github --scope issues:read --repo api
check "429 with a long Retry-After: not retried at once" [ "$(posts)" -eq 1 ]
fake_github_control '{"fault": {"path": "/app/installations/*/access_tokens", "status": 403, "retry_after": 90, "rate_limited": true}}' >/dev/null
err_case "403 (rate limit)" "rate limit stopped .*\(HTTP 403: .*\); try again in 90 s" \
    github --scope issues:read --repo api
jg lease list --all --provider github --json
check "failed mints are failed leases, without a token" "$PYTHON3" -c '
import json, sys
ls = json.load(open(sys.argv[1]))
assert sum(1 for l in ls if l["state"] == "failed") >= 8, ls' "$TMP/out"

# --------------------------------------------------- one JWT, several calls
# Each janee command is a process of its own: a JWT is reused within one
# (the look-up and the token request above; a server's many mints).  The
# unit program mints three times in one process against this fake.
UNIT="$JANEE_BUILDDIR/tests/unit/test-github"
if [ -x "$UNIT" ]; then
	clear_calls
	JANEE_GH_TEST_URL=$FAKE_GH JANEE_GH_TEST_CA=$FAKE_GH_CA \
	    JANEE_GH_TEST_KEY=$TMP/app/app.pem "$UNIT" >"$TMP/unit.out" 2>"$TMP/unit.err"
	check "three mints in one process" grep -q '^ok - several_mints_in_one_process$' "$TMP/unit.out"
	cat "$TMP/unit.err" >>"$TMP/all.err"
	calls
	calls_check "one installation look-up for the three" \
	    '[x["path"] for x in c if x["method"] == "GET"] == ["/repos/acme/api/installation"]'
	calls_check "the first two mints share one JWT; near its expiry a new one is signed" \
	    '[x["jwt"]["fp"] for x in c if x["path"].endswith("/access_tokens")][0:2] == [c[0]["jwt"]["fp"]] * 2 and len({x["jwt"]["fp"] for x in c if "jwt" in x}) == 2'
	calls_check "and every token was revoked (a second revocation is no error)" \
	    '[x["status"] for x in c if x["path"] == "/installation/token"] == [204, 401, 204, 204]'
else
	skip "three mints in one process" "tests/unit/test-github is not built"
fi

# ----------------------------------------------------------- revocation
clear_calls
jg lease revoke "$lease_narrow"
expect_rc 0 "lease revoke"
calls /installation/token
calls_check "DELETE /installation/token with the token itself: 204" \
    'len(c) == 1 and c[0]["method"] == "DELETE" and c[0]["status"] == 204 and c[0]["auth"] == "installation_token"'
check "the fake reports the token dead" ended "$TMP/tok.narrow" revoked
fake_github_api /installation/repositories "$TMP/tok.narrow" >"$TMP/dead.json"
expect_in "$TMP/dead.json" '^HTTP 401$' "and GitHub refuses it"

jg token github --scope issues:read --repo web --ttl 1m
tok_save "$TMP/tok.short"
lease_short=$(lease_of)
check "a one-minute token is live" fake_github_live "$TMP/tok.short"
JANEE_TEST_CLOCK_OFFSET=120 jg lease list
check "after its end any janee command revokes it" dead "$TMP/tok.short"
JANEE_TEST_CLOCK_OFFSET=120 jg lease show "$lease_short"
expect_in "$TMP/out" '^state: +expired' "the lease is expired"

# GitHub's expires_at bounds the lease.
fake_github_control '{"token_lifetime_s": 300}' >/dev/null
jg token github --scope issues:read --repo api --ttl 30m --json
check "a lease never outlives GitHub's expires_at" "$PYTHON3" -c '
import json, sys, datetime
d = json.load(open(sys.argv[1]))
exp = datetime.datetime.fromisoformat(d["expires_at"].replace("Z", "+00:00"))
left = (exp - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
assert 280 <= left <= 305, left' "$TMP/out"
"$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"], end="")' "$TMP/out" >"$TMP/tok.bounded"
fake_github_control '{"token_lifetime_s": 3600}' >/dev/null

# A failed revocation stays a live lease and is retried.
jg token github --scope issues:read --repo api --ttl 10m
tok_save "$TMP/tok.retry"
lease_retry=$(lease_of)
fake_github_control '{"fault": {"path": "/installation/token", "status": 502, "message": "Server Error"}}' >/dev/null
jg lease revoke "$lease_retry"
expect_rc 1 "a revocation GitHub fails is reported"
expect_in "$TMP/err" "revocation at 'github' failed .*HTTP 502.*janee retries it" "with GitHub's status"
check "the token is still live, and known to janee" fake_github_live "$TMP/tok.retry"
JANEE_TEST_CLOCK_OFFSET=700 jg lease list
check "a later sweep revokes it" dead "$TMP/tok.retry"

# ---------------------------------------------------------- device login
login_bg() { # login_bg NAME: janee login in the background
	: >"$TMP/login.err"
	timeout 60 "$JANEE" login "$1" --no-browser >"$TMP/login.out" 2>"$TMP/login.err" &
	login_pid=$!
}
user_code() { # wait (10 s) for the code on janee's stderr
	_i=0
	while [ $_i -lt 100 ]; do
		_c=$(sed -n 's/.*one-time code: \([A-Z]\{4\}-[A-Z]\{4\}\).*/\1/p' "$TMP/login.err")
		[ -n "$_c" ] && { echo "$_c"; return 0; }
		_i=$((_i + 1))
		sleep 0.1
	done
	return 1
}
wait_poll() { # until the fake has seen a poll (10 s)
	_i=0
	while [ "$(fake_github_count /login/oauth/access_token)" -lt 1 ] && [ $_i -lt 100 ]; do
		_i=$((_i + 1))
		sleep 0.1
	done
}
login_wait() { wait "$login_pid"; _st=$?; cat "$TMP/login.err" >>"$TMP/all.err"; return $_st; }
login_ok() { # login_ok NAME: the whole flow, approved through the fake
	login_bg "$1"
	_code=$(user_code) || return 1
	fake_github_control "{\"approve\": {\"user_code\": \"$_code\", \"login\": \"octocat\"}}" >/dev/null || return 1
	login_wait
}

fake_github_control '{"device": {"interval": 1, "script": []}}' >/dev/null
clear_calls
login_bg gh-me
code=$(user_code)
check "janee login shows the one-time code" [ -n "$code" ]
check "the code first, then the URL (as gh does)" "$PYTHON3" -c '
import sys
t = open(sys.argv[1]).read()
assert 0 <= t.index("one-time code") < t.index("Then open: https://127.0.0.1:"), t' "$TMP/login.err"
wait_poll
fake_github_control "{\"approve\": {\"user_code\": \"$code\", \"login\": \"octocat\"}}" >/dev/null
login_wait
check "the login succeeds once approved" [ $? -eq 0 ]
expect_in "$TMP/login.err" "logged in to provider 'gh-me'" "and says so"
calls /login/
calls_check "device code asked with Accept: application/json and the client ID, no secret" \
    'c[0]["path"] == "/login/device/code" and c[0]["accept"] == "application/json" and c[0]["client_id"] == "'$CLIENT_ID'" and not c[0].get("client_secret_sent")'
calls_check "polled with the device grant, never too early, pending until approved" \
    'all(x["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code" and not x["poll"].get("too_early") for x in c[1:]) and c[1]["error"] == "authorization_pending" and c[-1]["note"] == "issued"'
calls_check "every OAuth error came as HTTP 200 JSON, and no poll after success" \
    'all(x["status"] == 200 and "form_answer" not in (x.get("note") or "") for x in c) and not any(x.get("note") == "poll_after_success" for x in c)'
jg audit list --json
check "the login is audited with the GitHub account" "$PYTHON3" -c '
import json, sys
ev = [e for e in json.load(open(sys.argv[1])) if e["event"] == "login"]
assert ev and ev[-1]["provider"] == "gh-me" and ev[-1]["detail"] == "account=octocat", ev' "$TMP/out"

clear_calls
fake_github_control '{"device": {"interval": 1, "script": ["slow_down"]}}' >/dev/null
login_ok gh-me
check "a login through slow_down" [ $? -eq 0 ]
calls /login/oauth/access_token
calls_check "after slow_down janee waits 5 s more" \
    'c[0]["error"] == "slow_down" and c[1]["poll"]["waited_ms"] >= 6000 and not any(x["poll"].get("too_early") for x in c)'

fake_github_control '{"device": {"interval": 1, "script": []}}' >/dev/null
login_bg gh-me
code=$(user_code)
fake_github_control "{\"deny\": {\"user_code\": \"$code\"}}" >/dev/null
login_wait
check "a denied login fails" [ $? -ne 0 ]
expect_in "$TMP/login.err" "the login was denied" "and says so"
fake_github_control '{"device": {"interval": 1, "expires_in": 2}}' >/dev/null
login_bg gh-me
login_wait
check "an unapproved code expires" [ $? -ne 0 ]
expect_in "$TMP/login.err" "expired" "and the login says so"
fake_github_control '{"device": {"interval": 1, "expires_in": 900}, "app": {"device_flow": false}}' >/dev/null
login_bg gh-me
login_wait
check "device_flow_disabled fails" [ $? -ne 0 ]
expect_in "$TMP/login.err" "does not allow the device flow; enable it in the app's settings \(General, \"Enable Device Flow\"\)" "and says how to enable it"
fake_github_control '{"app": {"device_flow": true}}' >/dev/null
jg login github
expect_rc 1 "an installation provider needs no login"
expect_in "$TMP/err" "mints installation tokens with the app's key and needs no login" "and says so"
jg provider show gh-me
expect_in "$TMP/out" 'login: +logged in' "the earlier login is still there"

# ------------------------------------------------------ user-token leases
clear_calls
jg token gh-me --ttl 10m
expect_rc 0 "a user token as a lease"
tok_save "$TMP/tok.user1"
lease_user1=$(lease_of)
expect_in "$TMP/out" '^ghu_' "it is a user-to-server token"
expect_in "$TMP/err" 'scopes contents:read issues:read issues:write,' "carrying the app's permissions"
fake_github_api /user "$TMP/tok.user1" >"$TMP/user.json"
expect_in "$TMP/user.json" '"login":"octocat"' "it acts as the user"
calls /login/oauth/access_token
calls_check "minted by a refresh, with the client secret" \
    'len(c) == 1 and c[0]["grant_type"] == "refresh_token" and c[0]["note"] == "rotated" and c[0]["client_secret_sent"]'
n=$(fake_github_count /login/oauth/access_token)
jg token gh-me --scope issues:read
expect_rc 1 "a narrower user token is refused"
expect_in "$TMP/err" "mints user tokens, which GitHub cannot narrow: each carries every permission of the app \(contents:read, issues:write\)" "and the refusal says why"
jg token gh-me --repo api
expect_rc 1 "a user token for a repository is refused"
jg token gh-me
expect_rc 1 "a second user lease while the first lives is refused"
expect_in "$TMP/err" "the login's token is leased to $lease_user1 until .*end it first \(janee lease revoke $lease_user1\)" "and says which lease holds it"
jg login gh-me --no-browser
expect_rc 1 "a new login is refused while a lease holds the login's token"
expect_in "$TMP/err" "lease $lease_user1 holds a token of the current login; end it first" "and says which lease"
check "none of these refreshed" [ "$(fake_github_count /login/oauth/access_token)" -eq "$n" ]
check "no device flow was started for it" [ "$(fake_github_count /login/device/code)" -eq 0 ]
jg lease revoke "$lease_user1"
expect_rc 0 "revoking the user lease"
check "ends its token (the refresh killed it)" ended "$TMP/tok.user1" rotated
jg provider show gh-me
expect_in "$TMP/out" 'login: +logged in' "while the login lives on"
jg token gh-me --ttl 1m
expect_rc 0 "the next user lease"
tok_save "$TMP/tok.user2"
check "its token is live" fake_github_live "$TMP/tok.user2"
JANEE_TEST_CLOCK_OFFSET=120 jg status
check "at its end its token dies" dead "$TMP/tok.user2"
calls /login/oauth/access_token
calls_check "refresh rotation: each refresh used the newest refresh token" \
    '[x["note"] for x in c if x["grant_type"] == "refresh_token"] == ["rotated"] * 4'

# janee dies between GitHub's answer and the ledger: the next sweep finds
# the lease the login names as its holder and kills its token by a refresh.
clear_calls
JANEE_TEST_CRASH_AT=after_mint jg token gh-me --ttl 10m
check "a user mint cut short (janee killed)" [ "$(rc)" -eq 137 ]
lease_cut=$("$JANEE" lease list --json | "$PYTHON3" -c 'import json,sys; print([l["id"] for l in json.load(sys.stdin) if l["state"] == "minting"][0])')
JANEE_TEST_CLOCK_OFFSET=600 jg lease show "$lease_cut"
expect_in "$TMP/out" 'janee stopped while minting; 1 token\(s\) the provider issued for this lease were revoked' "is reconciled: its token found and revoked"
calls /login/oauth/access_token
calls_check "by a refresh (rotation), which kills it" \
    '[x["note"] for x in c] == ["rotated", "rotated"]'
cp "$TMP/calls.json" "$TMP/calls.cut.json"
curl -sS --cacert "$FAKE_GH_CA" "$FAKE_GH/_state" >"$TMP/state.json"
check "the token minted for the cut lease is dead, the login's new one live" "$PYTHON3" -c '
import json, sys
c = json.load(open(sys.argv[1]))
t = {x["id"]: x for x in json.load(open(sys.argv[2]))["tokens"]}
assert t[c[0]["token"]["id"]]["ended"] == "rotated", t[c[0]["token"]["id"]]
assert t[c[1]["token"]["id"]]["live"] is True' "$TMP/calls.cut.json" "$TMP/state.json"
JANEE_TEST_CRASH_AT=after_mint jg token github --scope issues:read --repo api
JANEE_TEST_CLOCK_OFFSET=600 jg lease list --all --json
check "an installation mint cut short is orphaned until GitHub's hour (+ the 5 min window) is over" "$PYTHON3" -c '
import json, sys, datetime as d
t = lambda s: d.datetime.fromisoformat(s.replace("Z", "+00:00"))
ls = [l for l in json.load(open(sys.argv[1])) if l["provider"] == "github" and "stopped while minting" in (l.get("detail") or "")]
assert ls and ls[0]["state"] == "orphaned" and ls[0]["may_be_live"], ls
assert ls[0]["detail"].startswith("orphaned: may be live until ") and "GitHub cannot list installation tokens" in ls[0]["detail"], ls
assert 3900 <= (t(ls[0]["expires_at"]) - t(ls[0]["created_at"])).total_seconds() <= 3910, ls' "$TMP/out"

# The login dies at GitHub: the lease's token is revoked by the app API.
jg token gh-me --ttl 10m
tok_save "$TMP/tok.user3"
lease_user3=$(lease_of)
fake_github_control '{"kill_refresh_tokens": true}' >/dev/null
clear_calls
jg lease revoke "$lease_user3"
expect_rc 0 "a user lease ends even when the refresh token is dead"
calls /applications/
calls_check "through DELETE /applications/{client_id}/token with Basic auth" \
    'len(c) == 1 and c[0]["path"] == "/applications/'$CLIENT_ID'/token" and c[0]["auth"] == "basic" and c[0]["status"] == 204'
check "its token is dead" dead "$TMP/tok.user3"
jg provider show gh-me
expect_in "$TMP/out" 'login: +login broken' "the login is marked broken"
jg token gh-me
expect_rc 1 "and minting from it fails"
expect_in "$TMP/err" "no longer works .*run: janee login gh-me" "saying to log in again"

# ---------------------------------------------------------------- logout
login_ok gh-me
check "log in again" [ $? -eq 0 ]
jg token gh-me --ttl 10m
tok_save "$TMP/tok.user4"
clear_calls
jg logout gh-me
expect_rc 0 "janee logout"
calls
calls_check "the lease ended by a refresh, then the app's authorization was revoked" \
    '[(x["path"], x["status"]) for x in c] == [("/login/oauth/access_token", 200), ("/applications/'$CLIENT_ID'/grant", 204)]'
curl -sS --cacert "$FAKE_GH_CA" "$FAKE_GH/_state" >"$TMP/state.json"
check "GitHub has no live user or refresh token left" "$PYTHON3" -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert "user" not in s["live"] and "refresh" not in s["live"], s' "$TMP/state.json"
jg provider show gh-me
expect_in "$TMP/out" 'login: +not logged in' "the login is forgotten"

jg provider show github
expect_in "$TMP/out" '^login: +not needed$' "an installation-token entry needs no login, and says so"
login_ok gh-me2
check "a login without client_secret" [ $? -eq 0 ]
jg token gh-me2 --ttl 5m
expect_rc 0 "a user lease without client_secret (device-flow refresh)"
tok_save "$TMP/tok.user5"
jg logout gh-me2
expect_rc 0 "logout without client_secret still forgets the login"
expect_in "$TMP/err" "without 'client_secret' janee cannot revoke the login at GitHub; revoke the app's authorization at https://github.com/settings/apps/authorizations" "and says what it could not do"
check "the lease's token did end" dead "$TMP/tok.user5"

# ------------------------------------------------------------- no leaks
JANEE_DEBUG=http "$JANEE" token github --scope issues:read --repo api --ttl 1m \
    >"$TMP/tok.trace" 2>"$TMP/trace.err"
expect_in "$TMP/trace.err" '> POST .*/app/installations/4242/access_tokens \(bearer: \[redacted\]\)' "the HTTP trace redacts the JWT"
expect_in "$TMP/trace.err" '"token":"\[redacted\]"' "and the token in the answer"
cat "$TMP/trace.err" >>"$TMP/all.err"
# Needles: every secret the fake saw or issued (JWTs, tokens, refresh
# tokens, device codes, the client secret), the key's PEM lines, tokens.
cat "$FAKE_GH_CAPTURE" "$TMP/tokens" "$TMP"/tok.* >"$TMP/needles"
grep -v -- '-----' "$TMP/app/app.pem" >>"$TMP/needles"
check "the needles include JWTs, tokens, refresh tokens and the key" sh -c "
grep -q '^eyJ' '$TMP/needles' && grep -q '^ghs_' '$TMP/needles' &&
grep -q '^ghu_' '$TMP/needles' && grep -q '^ghr_' '$TMP/needles' &&
[ \$(grep -c '^[A-Za-z0-9+/=]\{64\}\$' '$TMP/needles') -ge 20 ]"
sed -i '/^$/d' "$TMP/needles"
if grep -rqaFf "$TMP/needles" "$TMP/all.err" "$TMP/all.out" "$JANEE_HOME" \
    "$TMP/unit.err" "$TMP/unit.out" 2>/dev/null; then
	not_ok "no key, JWT, token or secret in janee's output or state"
	grep -rlaFf "$TMP/needles" "$TMP/all.err" "$TMP/all.out" "$JANEE_HOME" >&2
else
	ok "no key, JWT, token or secret in janee's output or state"
fi
check "nor in the fake's own log" sh -c "! grep -qaFf '$TMP/needles' '$FAKE_GH_LOG'"

done_testing
