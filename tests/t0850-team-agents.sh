#!/bin/sh
# Team mode's remote agents (docs/TEAM.md): janee agent add|list|rm|rotate
# keep public keys only (a generated private key goes once to a 0600 file
# or stdout, never into the ledger or the audit trail), refuse bad input
# with a clear error, and audit each change.  Per-agent policy: a
# verified agent (set here through the test binary's JANEE_TEST_AGENT, as
# the HTTP transport will set it) gets the narrower of its policy and the
# provider's; beyond its own it is refused, on the record under its name.
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home
DB="$JANEE_HOME/janee.db"

jr agent add ci-bot --generate --private-key-out "$TMP/ci.pem"
expect_rc 0 "agent add --generate writes the private key to a file"
check "the private key file is mode 0600" \
    test "$(stat -c %a "$TMP/ci.pem")" = 600
check "it holds an EC P-256 private key" \
    sh -c "openssl pkey -in '$TMP/ci.pem' -noout -text | grep -q 'NIST CURVE: P-256'"
expect_in "$TMP/err" "agent 'ci-bot' registered with key [A-Za-z0-9_-]{43} \\(ES256\\)" \
    "add names the key id"

jr agent add ci-bot --generate --private-key-out "$TMP/other.pem"
expect_rc 1 "a name already registered is refused"
expect_in "$TMP/err" "already registered; change its key with: janee agent rotate ci-bot" \
    "and says how to change the key"
check "and no key file is made for it" test ! -e "$TMP/other.pem"

jr agent add ci-bot2 --generate --private-key-out "$TMP/ci.pem"
expect_rc 1 "--private-key-out never writes over a file"
expect_in "$TMP/err" "janee never writes over a file" "and says so"
jr agent list --json
check "the refused add registered nothing" "$PYTHON3" -c '
import json, sys
assert [a["name"] for a in json.load(open(sys.argv[1]))] == ["ci-bot"]' "$TMP/out"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/deploy.key" 2>/dev/null
openssl pkey -in "$TMP/deploy.key" -pubout -out "$TMP/deploy.pub"
jr agent add deploy --key-file "$TMP/deploy.pub"
expect_rc 0 "agent add --key-file takes an RSA public key"
expect_in "$TMP/err" "\\(RS256\\)" "signing with RS256"
jr agent add leaky --key-file "$TMP/deploy.key"
expect_rc 1 "a private key given as --key-file is refused"
expect_in "$TMP/err" "holds a private key; give janee the public key only" "and says why"
jr agent add other --key-file "$TMP/deploy.pub"
expect_rc 1 "one key for two agents is refused"
echo "not a key" >"$TMP/junk.pem"
jr agent add junk --key-file "$TMP/junk.pem"
expect_rc 1 "a file that is not a key is refused"
expect_in "$TMP/err" "is not a public key in PEM form" "and says what it must be"
jr agent add 'Bad Name' --generate
expect_rc 2 "an invalid name is a usage error"
jr agent add both --generate --key-file "$TMP/deploy.pub"
expect_rc 2 "--generate and --key-file together are a usage error"
jr agent add neither
expect_rc 2 "neither --generate nor --key-file is a usage error"
jr agent add x --key-file "$TMP/deploy.pub" --private-key-out "$TMP/x.pem"
expect_rc 2 "--private-key-out without --generate is a usage error"

jr agent list
expect_rc 0 "agent list"
expect_in "$TMP/out" "^ci-bot +ES256 " "lists ci-bot with its algorithm"
expect_in "$TMP/out" "^deploy +RS256 " "and deploy"
jr agent list --json
check "agent list --json has names, algorithms, key ids and public keys" "$PYTHON3" -c '
import json, sys
ls = json.load(open(sys.argv[1]))
assert [a["name"] for a in ls] == ["ci-bot", "deploy"], ls
assert [a["alg"] for a in ls] == ["ES256", "RS256"], ls
assert all(len(a["key_id"]) == 43 and a["public_key"].startswith("-----BEGIN PUBLIC KEY-----") for a in ls), ls
assert "rotated" not in ls[0], ls' "$TMP/out"
cp "$TMP/out" "$TMP/before.json"

jr agent rotate ci-bot --generate
expect_rc 0 "agent rotate --generate prints the new private key once"
expect_in "$TMP/out" "^-----BEGIN PRIVATE KEY-----" "on stdout"
expect_in "$TMP/err" "shown once and not kept" "and says it is not kept"
sed -n '/BEGIN PRIVATE KEY/,/END PRIVATE KEY/p' "$TMP/out" >"$TMP/rotated.pem"
jr agent list --json
check "the rotation changed ci-bot's key and recorded when" "$PYTHON3" -c '
import json, sys
old = {a["name"]: a for a in json.load(open(sys.argv[1]))}
new = {a["name"]: a for a in json.load(open(sys.argv[2]))}
assert old["ci-bot"]["key_id"] != new["ci-bot"]["key_id"], new
assert "rotated" in new["ci-bot"] and new["deploy"] == old["deploy"], new' \
    "$TMP/before.json" "$TMP/out"
jr agent rotate ghost --generate
expect_rc 1 "rotating an unknown agent is refused"
expect_in "$TMP/err" "no agent 'ghost' is registered" "naming it"
check "and prints no key" test ! -s "$TMP/out"

jr agent rm deploy
expect_rc 0 "agent rm"
jr agent rm deploy
expect_rc 1 "removing it twice is refused"
expect_in "$TMP/err" "no agent 'deploy' is registered" "naming it"

# No private key anywhere in the ledger, the audit trail among it.
for f in ci.pem rotated.pem deploy.key; do
	# the key's base64 body, one line of it, is enough to find a copy
	line=$(sed -n 2p "$TMP/$f")
	check "no line of $f's private key in the ledger" \
	    sh -c "! sqlite3 '$DB' .dump | grep -qF -- '$line'"
done
check "the ledger holds no PRIVATE KEY block" \
    sh -c "! sqlite3 '$DB' .dump | grep -q 'PRIVATE KEY'"
jr audit list --json
check "add, rotate and rm are audited, with key ids, never a key" "$PYTHON3" -c '
import json, sys
ev = [e for e in json.load(open(sys.argv[1])) if e["event"].startswith("agent_")]
assert [e["event"] for e in ev] == ["agent_added", "agent_added", "agent_rotated", "agent_removed"], ev
assert all(e["actor"] == "user" for e in ev), ev
assert "KEY" not in json.dumps(ev), ev' "$TMP/out"
jr audit verify
expect_rc 0 "the audit chain verifies"

jr agent --help
expect_in "$TMP/out" "remote agent for team mode" "agent's help says these are team mode's remote agents"

# ---- per-agent policy ----
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {"t": {"type": "test", "state_dir": "$TMP/prov",
  "scopes": ["read", "write", "admin"], "default_scopes": ["read"],
  "max_ttl": "1h", "approval": "auto"}},
 "agents": {"ci-bot": {"providers": {"t": {"scopes": ["read", "write"],
   "max_ttl": "10m"}}},
  "locked": {"providers": {"t": {"approval": "deny"}}}}}
JSON
chmod 600 "$JANEE_HOME/config.json"

JANEE_TEST_AGENT=ci-bot jr token t --scope read --ttl 5m --json
expect_rc 0 "an agent gets what its policy allows"
lease=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["lease_id"])' "$TMP/out")
check "the lease records the verified agent" \
    test "$(sqlite3 "$DB" "SELECT agent FROM leases WHERE id = '$lease'")" = ci-bot
jr lease show "$lease" --json
check "lease show --json names it" "$PYTHON3" -c '
import json, sys
l = json.load(open(sys.argv[1]))
assert l["agent"] == "ci-bot" and l["client"] == "cli", l' "$TMP/out"
jr audit list --lease "$lease" --json
check "each of its audit events names the agent, and the client as self-reported" "$PYTHON3" -c '
import json, sys
ev = json.load(open(sys.argv[1]))
assert ev and all(e["client"].startswith("agent ci-bot (client cli, self-reported)") for e in ev), ev' "$TMP/out"

JANEE_TEST_AGENT=ci-bot jr token t --scope admin
expect_rc 1 "a scope the provider allows but the agent does not is refused"
expect_in "$TMP/err" "scope 'admin' is not within the policy" "naming the scope"
JANEE_TEST_AGENT=ci-bot jr token t --scope read --ttl 30m
expect_rc 1 "a ttl beyond the agent's max_ttl (10m, under the provider's 1h) is refused"
expect_in "$TMP/err" "outside 1s\\.\\.10m, the limit of provider 't' for agent 'ci-bot'" \
    "naming the agent's limit"
JANEE_TEST_AGENT=locked jr token t --scope read
expect_rc 1 "the agent's stricter approval (deny) wins over the provider's auto"
expect_in "$TMP/err" "provider 't' for agent 'locked' is set to deny every request" \
    "and says it is the agent's policy"
JANEE_TEST_AGENT=stranger jr token t --scope read
expect_rc 1 "an agent with no policy may use nothing"
expect_in "$TMP/err" "agent 'stranger' has no policy" "and is told so"
jr audit list --event denied --json
check "each refusal is audited as denied under the agent's name" "$PYTHON3" -c '
import json, sys
ev = json.load(open(sys.argv[1]))
who = sorted(e["client"].split(" ")[1] for e in ev)
assert who == ["ci-bot", "ci-bot", "locked", "stranger"], ev
assert all(e["outcome"] == "denied" for e in ev), ev' "$TMP/out"
jr token t --scope admin
expect_rc 0 "a local request (no agent) still gets the provider's whole policy"
check "and its lease names no agent" \
    test -z "$(sqlite3 "$DB" "SELECT agent FROM leases ORDER BY created_ms DESC LIMIT 1")"
jr lease list --json
check "lease list --json shows the agent of each lease, null for local ones" "$PYTHON3" -c '
import json, sys
ls = json.load(open(sys.argv[1]))
assert sorted(str(l["agent"]) for l in ls) == ["None", "ci-bot"], ls' "$TMP/out"

# Resources: the agent's allow-list within the provider's.
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {"t": {"type": "test", "state_dir": "$TMP/prov",
  "scopes": ["read"], "repositories": ["acme/a", "acme/b"],
  "max_ttl": "1h", "approval": "auto"}},
 "agents": {"ci-bot": {"providers": {"t": {"resources": ["acme/a"]}}},
  "astray": {"providers": {"t": {"resources": ["acme/zzz"]}}}}}
JSON
JANEE_TEST_AGENT=ci-bot jr token t --scope read --resource acme/b
expect_rc 1 "a resource the provider allows but the agent does not is refused"
expect_in "$TMP/err" "repository 'acme/b' is not on the allow-list of provider 't' for agent 'ci-bot'" \
    "naming the resource"
: >"$TMP/prov/calls.log"
JANEE_TEST_AGENT=ci-bot jr token t --scope read
expect_rc 0 "with no resource named, an agent gets its own allow-list"
check "which is acme/a alone, not the provider's two" \
    test "$(grep '^repo ' "$TMP/prov/calls.log")" = "repo acme/a"
JANEE_TEST_AGENT=astray jr token t --scope read
expect_rc 1 "an agent whose resources are none of the provider's gets nothing (never 'all')"
expect_in "$TMP/err" "agent 'astray' may use none of provider 't'" "and is told why"

# config.json: agents' keys are checked by name.
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {"t": {"type": "test", "state_dir": "$TMP/prov",
  "scopes": ["read"], "max_ttl": "1h", "approval": "auto"}},
 "agents": {"ci-bot": {"providers": {"t": {"scope": ["read"]}}}}}
JSON
jr token t --scope read
expect_rc 1 "an unknown key in an agent's policy is refused"
expect_in "$TMP/err" "agents.ci-bot.providers.t: unknown key 'scope'; did you mean 'scopes'" \
    "by name, with a suggestion"
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {"t": {"type": "test", "state_dir": "$TMP/prov",
  "scopes": ["read"], "max_ttl": "1h", "approval": "auto"}},
 "agents": {"ci-bot": {"providers": {"gh": {}}}}}
JSON
jr token t --scope read
expect_rc 1 "an agent's policy for a provider that does not exist is refused"
expect_in "$TMP/err" "no provider 'gh'" "naming it"

done_testing
