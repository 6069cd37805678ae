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

done_testing
