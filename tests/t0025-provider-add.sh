#!/bin/sh
# janee provider add: writes an entry to config.json only after the same
# validation as every load, for each provider type (the named options for
# oauth2, --set KEY=VALUE for the keys of any type); refuses a bad entry,
# an existing name and a malformed --set, leaving config.json untouched.
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home
cfg="$JANEE_HOME/config.json"
cp "$cfg" "$TMP/config.before"
unchanged() { cmp -s "$cfg" "$TMP/config.before"; }

jr provider add cc --type oauth2 --issuer https://auth.example.com \
	--client-id c1 --client-secret secret:cc-secret --grant client_credentials \
	--scope a:read --scope a:write --max-ttl 10m --approval ask
expect_rc 0 "provider add: an oauth2 entry"
expect_in "$TMP/err" "'client_secret' names secret:cc-secret, which is not stored yet; store it with: janee secret set cc-secret" \
    "and it says how to store the client secret, not stored yet"

# Issue 16, item 4: a secret stored already needs no word; one named in any
# key (not only client_secret) and missing is said.
echo value | "$JANEE" secret set cc2-secret >/dev/null 2>&1
jr provider add cc2 --type oauth2 --issuer https://auth.example.com \
	--client-id c2 --client-secret secret:cc2-secret --grant client_credentials \
	--scope a:read
expect_rc 0 "provider add with a client secret stored already"
expect_not_in "$TMP/err" "secret set" "says nothing of storing it"
jr provider add cc3 --type oauth2 --issuer https://auth.example.com \
	--client-id c3 --client-secret secret:cc2-secret --grant token_exchange \
	--set subject_token=secret:subject-missing --scope a:read
expect_rc 0 "provider add with a subject token not stored"
expect_in "$TMP/err" "'subject_token' names secret:subject-missing, which is not stored yet; store it with: janee secret set subject-missing" \
    "names the missing secret of any key"
check "config.json stays 0600" [ "$(stat -c %a "$cfg")" = 600 ]
check "the entry is written with config.json's keys" "$PYTHON3" -c '
import json, sys
e = json.load(open(sys.argv[1]))["providers"]["cc"]
assert e == {"type": "oauth2", "issuer": "https://auth.example.com",
    "client_id": "c1", "client_secret": "secret:cc-secret",
    "grant": "client_credentials", "scopes": ["a:read", "a:write"],
    "max_ttl": "10m", "approval": "ask"}, e' "$cfg"
check "the earlier entry is kept" "$PYTHON3" -c '
import json, sys
assert "t" in json.load(open(sys.argv[1]))["providers"]' "$cfg"
jr provider show cc
expect_in "$TMP/out" "ask" "provider show reads it back"
cp "$cfg" "$TMP/config.before"

jr provider add cc --type oauth2 --issuer https://auth.example.com \
	--client-id c1 --scope a:read
expect_rc 1 "an existing name is refused"
expect_in "$TMP/err" "already exists" "and says so"
check "config.json is unchanged" unchanged

jr provider add bad --type oauth2 --issuer https://auth.example.com \
	--client-id c1 --scope a:read --approval sometimes
check "an invalid entry is refused" [ "$(rc)" -ne 0 ]
expect_in "$TMP/err" "approval" "naming the bad key"
check "config.json is unchanged after a refused entry" unchanged

jr provider add bad --type nosuch --set a=b
check "an unknown type is refused" [ "$(rc)" -ne 0 ]
expect_in "$TMP/err" "nosuch" "naming it"
check "config.json is unchanged after an unknown type" unchanged

jr provider add gh --type github-app --set client_id=Iv23li0 \
	--set private_key=secret:gh-key --set installation_id=123456 \
	--set 'permissions=["issues:write", "contents:read"]' \
	--set 'repositories=["api"]' --max-ttl 30m --approval out-of-band
expect_rc 0 "provider add: a github-app entry through --set"
check "--set keeps integers and JSON arrays as JSON, the rest as strings" "$PYTHON3" -c '
import json, sys
e = json.load(open(sys.argv[1]))["providers"]["gh"]
assert e["installation_id"] == 123456 and e["client_id"] == "Iv23li0", e
assert e["permissions"] == ["issues:write", "contents:read"], e
assert e["repositories"] == ["api"] and e["max_ttl"] == "30m", e' "$cfg"
jr provider list --json
check "provider list shows it as a github-app with its ceiling" "$PYTHON3" -c '
import json, sys
p = {x["name"]: x for x in json.load(open(sys.argv[1]))}["gh"]
assert p["type"] == "github-app" and "issues:write" in p["scopes"], p' "$TMP/out"
cp "$cfg" "$TMP/config.before"

jr provider add sl --type slack --set client_id=123.456 \
	--set client_secret=secret:slack-client \
	--set redirect_uri=https://example.com/slack/oauth \
	--set 'scopes=["channels:read", "chat:write"]' \
	--set 'profiles={"reader": {"scopes": ["channels:read"]}}'
expect_rc 0 "provider add: a slack entry with a profile object"
check "--set client_id=123.456 stays a string" "$PYTHON3" -c '
import json, sys
e = json.load(open(sys.argv[1]))["providers"]["sl"]
assert e["client_id"] == "123.456" and e["profiles"]["reader"]["scopes"] == ["channels:read"], e' "$cfg"
cp "$cfg" "$TMP/config.before"

jr provider add pl --type oauth2 --issuer https://auth.example.com \
	--client-id c1 --client-secret 'plain-Client-Secret-77' --scope a:read
expect_rc 1 "a client secret given as a value is refused"
expect_in "$TMP/err" "must be a reference to the secret" "saying to give a reference"
check "the value is not repeated on stderr" sh -c "! grep -q plain-Client-Secret '$TMP/err'"
check "config.json is unchanged after a secret value" unchanged

jr provider add x --type oauth2 --set novalue
expect_rc 2 "--set without = is a usage error"
jr provider add x --type oauth2 --set 'scopes=[unclosed'
expect_rc 2 "--set with broken JSON is a usage error"
expect_in "$TMP/err" "not valid JSON" "and says so"
jr provider add x --type oauth2 --set 'scopes=["a"] and more'
expect_rc 2 "--set with JSON followed by more is a usage error"
jr provider add x --type oauth2 --set type=slack
expect_rc 2 "--set type is refused (use --type)"
check "config.json is unchanged after usage errors" unchanged

# Issue 16, item 3: one login state everywhere. An installation-token
# GitHub App needs no login: provider add does not say to log in, and list,
# show and --json say "not needed" (JSON and MCP: not_needed).
jr provider add ghapp --type github-app --set client_id=Iv1.x \
	--set private_key=secret:gh-key --set installation_id=1 \
	--set 'permissions=["issues:read"]' --set 'repositories=["hello"]'
expect_rc 0 "provider add: a github-app with installation tokens"
expect_not_in "$TMP/err" "janee login" "does not say to log in"
jr provider list
expect_in "$TMP/out" '^ghapp +github-app .* not needed ' "provider list: login not needed"
jr provider show ghapp
expect_in "$TMP/out" '^login: +not needed' "provider show: login not needed"
jr provider show ghapp --json
check "provider show --json: login not_needed, no login_command" "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["login"] == "not_needed" and "login_command" not in d, d' "$TMP/out"
jr provider add dev2 --type oauth2 --issuer https://auth.example.com \
	--client-id d2 --scope a:read
expect_in "$TMP/err" "then log in with: janee login dev2" \
    "a device-code provider is told to log in"
jr provider show dev2 --json
check "provider show --json: not_logged_in with the command, as MCP says it" "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["login"] == "not_logged_in" and d["login_command"] == "janee login dev2", d' "$TMP/out"

# Issue 16, item 7: provider edit and provider rm.
cp "$cfg" "$TMP/config.before"
jr provider edit dev2 --set max_ttl=30m --set default_scopes='["a:read"]' --unset login_scopes
expect_rc 2 "provider edit of a key the entry lacks is refused"
expect_in "$TMP/err" "provider 'dev2' has no key 'login_scopes' to unset" "saying which"
check "and config.json is untouched" unchanged
jr provider edit dev2 --set max_ttl=30m --set 'default_scopes=["a:read"]'
expect_rc 0 "provider edit --set"
jr provider show dev2 --json
check "the edit is in effect" "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["max_ttl_seconds"] == 1800 and d["default_scopes"] == ["a:read"], d' "$TMP/out"
jr provider edit dev2 --unset max_ttl
expect_rc 0 "provider edit --unset"
check "the key is gone" "$PYTHON3" -c '
import json, sys
assert "max_ttl" not in json.load(open(sys.argv[1]))["providers"]["dev2"]' "$cfg"
cp "$cfg" "$TMP/config.before"
jr provider edit dev2 --set max_ttl=soon
expect_rc 1 "an edit that does not validate is refused"
check "and config.json is untouched" unchanged
jr provider edit dev2 --set client_secret=secret:d2-missing --set auth_method=client_secret_post
expect_in "$TMP/err" "janee secret set d2-missing" "edit names a secret not stored"
jr provider edit dev2 --unset type
expect_rc 2 "the type cannot be unset"
jr provider edit dve2 --set max_ttl=1m
expect_rc 1 "provider edit of an unknown provider"
expect_in "$TMP/err" "did you mean 'dev2'" "names the closest"
jr provider edit dev2
expect_rc 2 "provider edit with nothing to change is a usage error"

# provider test: the entry, its secrets, the login, a real mint ended at once.
jr provider test t
expect_rc 0 "provider test on a working provider"
for step in config references login mint; do
	expect_in "$TMP/out" "^ok +$step " "provider test: $step passes"
done
expect_in "$TMP/out" '^ok +mint +lse_[a-z2-7]* \(read\), revoked at once' \
    "the mint's token is revoked at once"
jr lease list
expect_in "$TMP/out" '^no active leases' "and leaves no lease behind"
jr provider test t --no-mint
expect_not_in "$TMP/out" 'mint' "--no-mint stops before minting"
jr provider test dev2
expect_rc 1 "provider test on a provider not logged in"
expect_in "$TMP/out" '^PROBLEM +login +not logged in; run: janee login dev2' "says to log in"
expect_not_in "$TMP/out" ' mint ' "and does not try to mint"
jr provider test dev2 --json
expect_rc 1 "provider test --json on a provider not logged in"
check "provider test --json: ok false, each check with its detail, as doctor" \
    "$PYTHON3" -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["ok"] is False, o
c = {x["check"]: x for x in o["checks"]}
assert list(c) == ["config", "references", "login"], o
assert c["config"]["ok"] and not c["login"]["ok"], o
assert "janee login dev2" in c["login"]["detail"], o' "$TMP/out"
jr provider test t --json
check "provider test --json on a working provider: ok, four checks passed" \
    "$PYTHON3" -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["ok"] is True and [x["check"] for x in o["checks"]] == \
    ["config", "references", "login", "mint"], o
assert all(x["ok"] for x in o["checks"]), o' "$TMP/out"

# rm ends the provider's session grants too, with their audit events and
# the leases they approved: none may approve a lease of a provider that
# is gone (janee logout does the same: t0100, with a real login).
jr provider add g --type test --set state_dir="$TMP/prov" \
    --set 'scopes=["read","write"]' --set approval=ask \
    --set approval_wait=2s --set session_grant_max=20m
expect_rc 0 "a provider g whose requests wait for a person"
serve_open sess-g
printf '%s\n' '{"jsonrpc":"2.0","method":"notifications/initialized"}' >&6
serve_call 2 '{"provider":"g","scopes":["read","write"],"ttl_seconds":600,"reason":"first"}'
first=$(sed -n 's/.*"id":2,.*pending: lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/serve.out")
jr approve "$first" --grant 10m
grant=$(sed -n 's/.*session grant \(grt_[a-z2-7]*\) for 10m.*/\1/p' "$TMP/err")
check "rm with session grants: a grant for the session's requests of g" [ -n "$grant" ]
serve_call 3 '{"provider":"g","scopes":["read"],"ttl_seconds":120,"reason":"narrower"}'
narrow=$(sed -n 's/.*"id":3,.*"lease_id":"\(lse_[a-z2-7]*\)".*/\1/p' "$TMP/serve.out")
check "rm with session grants: a narrower request is approved under it" [ -n "$narrow" ]
live=$(live_tokens)
jr provider rm g --yes
expect_rc 0 "rm with session grants: provider rm g --yes"
expect_in "$TMP/err" "ended 1 session grant of 'g'" "rm says it ended the grant"
jr lease list --grants --all --json
check "rm with session grants: the grant is revoked" "$PYTHON3" -c '
import json, sys
g = [g for g in json.load(open(sys.argv[1])) if g["id"] == sys.argv[2]]
assert len(g) == 1 and g[0]["state"] == "revoked" and "ended_at" in g[0], g' \
    "$TMP/out" "$grant"
jr audit list --event session_grant_revoked --json
check "rm with session grants: audited once, by the user, saying why" "$PYTHON3" -c '
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["lease_id"] == sys.argv[2]]
assert len(rows) == 1 and rows[0]["provider"] == "g" and rows[0]["actor"] == "user" \
    and rows[0]["detail"] == "the provider was removed", rows' "$TMP/out" "$first"
jr lease show "$narrow" --json
check "rm with session grants: the lease approved under it is revoked, by the grant's end" "$PYTHON3" -c '
import json, sys
l = json.load(open(sys.argv[1]))
assert l["state"] == "revoked" and l["detail"].startswith("session grant %s revoked" % sys.argv[2]), l' \
    "$TMP/out" "$grant"
check "rm with session grants: its token is revoked at the provider" [ "$(live_tokens)" -eq $((live - 1)) ]
serve_close

# rm: ends the provider's leases at the provider first, then drops it.
jr token t --scope read
expect_rc 0 "a lease of t to be ended by rm"
live=$(live_tokens)
setsid -w "$JANEE" provider rm t </dev/null >"$TMP/out" 2>"$TMP/err"
echo $? >"$TMP/rc"
expect_rc 2 "provider rm without a terminal and without --yes is refused"
expect_in "$TMP/err" "pass --yes" "and says how"
check "nothing was revoked" [ "$(live_tokens)" -eq "$live" ]
jr provider rm t --yes
expect_rc 0 "provider rm --yes"
expect_in "$TMP/err" "revoked 1 lease" "its lease was ended first"
check "the token is revoked at the provider" [ "$(live_tokens)" -eq $((live - 1)) ]
check "the entry is gone" "$PYTHON3" -c '
import json, sys
assert "t" not in json.load(open(sys.argv[1]))["providers"]' "$cfg"
jr provider rm t --yes
expect_rc 1 "removing it twice fails"

done_testing

