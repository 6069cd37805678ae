#!/bin/sh
# Secret references: secret:, env:, file:, vault:// (against a fake Vault
# KV v2 that answers as Vault's HTTP API does, 403 and 404 included) and
# ${VAR} for plain strings; in janee exec --env NAME=REF and in a
# provider's configuration.  A reference that cannot be resolved is an
# error naming the reference, never a value; each resolution for exec is
# audited, the reference and not the value.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/fake-vault.sh"

setup_home
export TMP

# values that must never show up in janee's output, audit or errors
rnd() { head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
V_STORE="store-$(rnd)"
V_ENV="env-$(rnd)"
V_FILE="file-$(rnd)"
V_VAULT="vault-$(rnd)"
V_OTHER="other-$(rnd)"
printf '%s\n' "$V_STORE" "$V_ENV" "$V_FILE" "$V_VAULT" "$V_OTHER" >"$TMP/needles"
while read -r v; do leak_secret secret-ref-value "$v"; done <"$TMP/needles"

no_leak() { # NAME FILE...
	_name=$1
	shift
	if cat "$@" 2>/dev/null | grep -qF -f "$TMP/needles"; then
		not_ok "$_name"
		echo "  a secret value appears in: $*" >&2
	else
		ok "$_name"
	fi
}

printf '%s' "$V_STORE" | "$JANEE" secret set app-key >/dev/null 2>&1
printf '%s\n' "$V_FILE" >"$TMP/secret-file"
chmod 600 "$TMP/secret-file"

# The command prints what it got, hashed: the test compares the hashes.
h() { printf '%s' "$1" | sha256sum | cut -c1-16; }
cat >"$TMP/show.sh" <<'EOF'
for v in "$@"; do
	eval "x=\${$v-UNSET}"
	printf '%s %s\n' "$v" "$(printf '%s' "$x" | sha256sum | cut -c1-16)"
done
EOF

# --- each kind, through janee exec --env -------------------------------
MY_SECRET=$V_ENV jr exec --env A=secret:app-key --env B=env:MY_SECRET \
	--env C=file:"$TMP/secret-file" -- sh "$TMP/show.sh" A B C
expect_rc 0 "secret:, env: and file: references resolve"
check "secret:NAME gives the stored value" grep -qx "A $(h "$V_STORE")" "$TMP/out"
check "env:VAR gives the variable's value" grep -qx "B $(h "$V_ENV")" "$TMP/out"
check "file:PATH gives the file's content, less its trailing newline" \
	grep -qx "C $(h "$V_FILE")" "$TMP/out"
no_leak "no value on janee's stderr" "$TMP/err"
"$JANEE" audit list --event secret_resolved --json >"$TMP/audit" 2>&1
check "each resolution is audited with its reference, not its value" "$PYTHON3" -c '
import json, sys
ev = json.load(open(sys.argv[1]))
got = sorted(e["detail"] for e in ev)
want = sorted(["A=secret:app-key", "B=env:MY_SECRET", "C=file:" + sys.argv[2]])
assert got == want, got
assert all(e["outcome"] == "ok" and e["client"] == "exec" for e in ev), ev
' "$TMP/audit" "$TMP/secret-file"
no_leak "the audit trail holds no value" "$TMP/audit"

HOME_SAVE=$HOME
mkdir -p "$HOME/.config"
cp "$TMP/secret-file" "$HOME/.config/tok"
jr exec --env D=file:~/.config/tok -- sh "$TMP/show.sh" D
check "file:~/PATH is under HOME" grep -qx "D $(h "$V_FILE")" "$TMP/out"

chmod 640 "$TMP/secret-file"
jr exec --env C=file:"$TMP/secret-file" -- true
expect_rc 1 "a file others may read is refused"
expect_in "$TMP/err" "cannot resolve 'file:$TMP/secret-file': .*accessible by group or others.*chmod 600" \
	"the refusal names the reference and the fix"
chmod 600 "$TMP/secret-file"
ln -s "$TMP/secret-file" "$TMP/link"
jr exec --env C=file:"$TMP/link" -- true
expect_rc 1 "a symbolic link is refused"

jr exec --env B=env:NOT_SET_ANYWHERE -- true
expect_rc 1 "an unset variable is an error"
expect_in "$TMP/err" "cannot resolve 'env:NOT_SET_ANYWHERE': the variable NOT_SET_ANYWHERE is not set" \
	"naming the reference"
jr exec --env A=secret:no-such -- true
expect_rc 1 "a missing stored secret is an error"
expect_in "$TMP/err" "cannot resolve 'secret:no-such'" "naming the reference"
"$JANEE" audit list --event secret_resolved --json >"$TMP/audit" 2>&1
check "failed resolutions are audited as errors" "$PYTHON3" -c '
import json, sys
ev = [e for e in json.load(open(sys.argv[1])) if e["outcome"] == "error"]
assert {e["detail"] for e in ev} >= {"B=env:NOT_SET_ANYWHERE", "A=secret:no-such"}, ev
' "$TMP/audit"

# --- ${VAR} for strings that are not secret ---------------------------------
REGION=eu-west-1 jr exec --env URL='https://${REGION}.example.com/$${x}' \
	-- sh -c 'printf "%s\n" "$URL"'
expect_in "$TMP/out" '^https://eu-west-1\.example\.com/\$\{x\}$' '${VAR} is expanded, $${ is a literal ${'
jr exec --env URL='https://${NO_SUCH_REGION}.example.com' -- true
expect_rc 1 "an unset \${VAR} is an error"
expect_in "$TMP/err" "cannot expand '\\\$\{NO_SUCH_REGION\}'" "naming the variable"
jr exec --env DB="postgres://app:$V_OTHER@db.example.com/app" -- true
expect_rc 2 "a plaintext secret given as --env NAME=VALUE is refused"
expect_in "$TMP/err" 'looks like a secret \(a URL with a password\)' "saying why"
no_leak "the refusal does not repeat the value" "$TMP/err" "$TMP/out"

# --- vault:// against the fake Vault -------------------------------------------
cat >"$TMP/vault.json" <<JSON
{"tokens": {"tok-reader": ["secret/app/*", "kv/ci"],
            "tok-other": ["secret/elsewhere"]},
 "mounts": ["secret", "kv"],
 "secrets": {
   "secret/app/db": {"data": {"password": "$V_VAULT", "user": "app", "port": 5432}},
   "secret/app/single": {"data": {"token": "$V_OTHER"}},
   "secret/app/old": {"data": {"password": "gone"}, "deleted": true},
   "kv/ci": {"data": {"key": "$V_OTHER"}}}}
JSON
if ! fake_vault_start "$TMP/vault.json"; then
	skip "vault:// references" "the fake Vault did not start (node missing?)"
else
	export VAULT_ADDR="$FAKE_VAULT" VAULT_CACERT="$FAKE_VAULT_CA"
	VAULT_TOKEN=tok-reader jr exec --env P=vault://secret/app/db#password \
		--env U=vault://secret/app/db#user --env N=vault://secret/app/db#port \
		--env S=vault://secret/app/single -- sh "$TMP/show.sh" P U N S
	expect_rc 0 "vault:// references resolve"
	check "the field's value" grep -qx "P $(h "$V_VAULT")" "$TMP/out"
	check "a second field of the same secret" grep -qx "U $(h app)" "$TMP/out"
	check "a number field as text" grep -qx "N $(h 5432)" "$TMP/out"
	check "no #FIELD: the secret's only field" grep -qx "S $(h "$V_OTHER")" "$TMP/out"
	check "Vault was asked at /v1/MOUNT/data/PATH" \
		[ "$(fake_vault_count /v1/secret/data/app/db 200)" -ge 3 ]
	no_leak "no Vault value on janee's stderr" "$TMP/err"

	VAULT_TOKEN=tok-reader jr exec --env P=vault://secret/app/db#nosuch -- true
	expect_rc 1 "a missing field is an error"
	expect_in "$TMP/err" "cannot resolve 'vault://secret/app/db#nosuch': the secret has no field 'nosuch' \(its fields: password, user, port\)" \
		"naming the reference and the fields there are"
	no_leak "the missing-field error holds no value" "$TMP/err"

	VAULT_TOKEN=tok-reader jr exec --env P=vault://secret/app/db -- true
	expect_rc 1 "no #FIELD with several fields is an error"
	expect_in "$TMP/err" "has 3 fields; name one with #FIELD" "that says so"

	VAULT_TOKEN=tok-other jr exec --env P=vault://secret/app/db#password -- true
	expect_rc 1 "a token without access is refused (403)"
	expect_in "$TMP/err" "cannot resolve 'vault://secret/app/db#password': Vault refused the token \(403: 1 error occurred: +\* permission denied +\); check its policy allows read on secret/data/app/db," \
		"with Vault's own error text and the path"
	check "the fake answered 403" [ "$(fake_vault_count /v1/secret/data/app/db 403)" -ge 1 ]

	VAULT_TOKEN=tok-reader jr exec --env P=vault://secret/app/nothing#password -- true
	expect_rc 1 "a missing secret is an error (404)"
	expect_in "$TMP/err" "no secret at secret/app/nothing \(Vault answered 404\)" "saying so"

	VAULT_TOKEN=tok-reader jr exec --env P=vault://secret/app/old#password -- true
	expect_rc 1 "a deleted latest version is an error"
	expect_in "$TMP/err" "latest version of the secret at secret/app/old was deleted" "saying so"

	VAULT_TOKEN=nobody jr exec --env P=vault://kv/ci#key -- true
	expect_rc 1 "an unknown token is refused"

	# The token from a file: VAULT_TOKEN_FILE, else ~/.vault-token.
	printf 'tok-reader\n' >"$TMP/vtok"
	chmod 600 "$TMP/vtok"
	VAULT_TOKEN_FILE="$TMP/vtok" jr exec --env K=vault://kv/ci#key -- sh "$TMP/show.sh" K
	check "VAULT_TOKEN_FILE is read" grep -qx "K $(h "$V_OTHER")" "$TMP/out"
	chmod 644 "$TMP/vtok"
	VAULT_TOKEN_FILE="$TMP/vtok" jr exec --env K=vault://kv/ci#key -- true
	expect_rc 1 "a token file others can read is refused"
	printf 'tok-reader\n' >"$HOME/.vault-token"
	chmod 600 "$HOME/.vault-token"
	jr exec --env K=vault://kv/ci#key -- sh "$TMP/show.sh" K
	check "~/.vault-token is the default" grep -qx "K $(h "$V_OTHER")" "$TMP/out"
	rm -f "$HOME/.vault-token"
	jr exec --env K=vault://kv/ci#key -- true
	expect_rc 1 "no token anywhere is an error"
	expect_in "$TMP/err" "no Vault token: set VAULT_TOKEN" "saying where a token comes from"

	VAULT_TOKEN=tok-reader VAULT_CACERT= jr exec --env K=vault://kv/ci#key -- true
	expect_rc 1 "TLS is verified: without the test CA the fake Vault is refused"

	for bad in 'vault://secret' 'vault://secret/../etc#x' 'vault:///x#y' 'vault://a/b#'; do
		VAULT_TOKEN=tok-reader jr exec --env K="$bad" -- true
		expect_rc 1 "a malformed reference is refused: $bad"
	done
	expect_in "$TMP/err" "vault://MOUNT/PATH#FIELD" "the refusal shows the form"

	VAULT_ADDR= VAULT_TOKEN=tok-reader jr exec --env K=vault://kv/ci#key -- true
	expect_rc 1 "VAULT_ADDR unset is an error"
	expect_in "$TMP/err" "VAULT_ADDR is not set" "saying so"

	# Namespaces: a Vault that wants X-Vault-Namespace
	fake_vault_start "$TMP/vault.json" --namespace team-a
	VAULT_ADDR="$FAKE_VAULT" VAULT_TOKEN=tok-reader jr exec --env K=vault://kv/ci#key -- true
	expect_rc 1 "without VAULT_NAMESPACE the namespaced Vault refuses"
	VAULT_ADDR="$FAKE_VAULT" VAULT_NAMESPACE=team-a VAULT_TOKEN=tok-reader \
		jr exec --env K=vault://kv/ci#key -- sh "$TMP/show.sh" K
	check "VAULT_NAMESPACE is sent as X-Vault-Namespace" grep -qx "K $(h "$V_OTHER")" "$TMP/out"
	check "the fake logged the namespace" grep -q '"namespace":"team-a","status":200' "$FAKE_VAULT_LOG"
	export VAULT_ADDR="$FAKE_VAULT" VAULT_NAMESPACE=team-a

	# JANEE_DEBUG=http traces requests: never the Vault answer's values
	VAULT_TOKEN=tok-reader JANEE_DEBUG=http jr exec --env K=vault://kv/ci#key -- true
	expect_rc 0 "vault:// with JANEE_DEBUG=http"
	no_leak "the HTTP trace shows no secret value" "$TMP/err"
	expect_in "$TMP/err" 'janee: http: > GET .*/v1/kv/data/ci' "the trace shows the request"
	expect_in "$TMP/err" 'janee: http: < 200, [0-9]+ bytes \(a secret: not traced\)' \
		"and only the size of Vault's answer"
	check "and no token" sh -c "! grep -q tok-reader '$TMP/err'"
	unset VAULT_NAMESPACE
fi

# --- references in a provider's configuration ----------------------------------
# The test provider reads its "credential" reference on every mint.
write_config '"credential": "env:TEST_CRED",'
TEST_CRED=$V_ENV jr token t --ttl 1m
expect_rc 0 "a provider's env: reference resolves"
jr token t --ttl 1m
expect_rc 1 "unresolvable, the mint fails"
expect_in "$TMP/err" "cannot resolve 'env:TEST_CRED'" "naming the reference"
write_config "\"credential\": \"file:$TMP/secret-file\","
jr token t --ttl 1m
expect_rc 0 "a provider's file: reference resolves"
write_config '"credential": "secret:app-key",'
jr token t --ttl 1m
expect_rc 0 "a provider's secret: reference resolves"
write_config "\"credential\": \"$V_OTHER\","
jr token t --ttl 1m
expect_rc 1 "a plain value where a reference belongs is refused"
expect_in "$TMP/err" "a value \(not shown\) is not a secret reference" "without showing it"
no_leak "and without its value" "$TMP/err"
if [ -n "${FAKE_VAULT:-}" ]; then
	write_config '"credential": "vault://secret/app/db#password",'
	VAULT_NAMESPACE=team-a VAULT_TOKEN=tok-reader jr token t --ttl 1m
	expect_rc 0 "a provider's vault:// reference resolves"
fi
"$JANEE" lease revoke --all >/dev/null 2>&1
no_leak "no value in the ledger" "$JANEE_HOME/janee.db" "$JANEE_HOME/janee.db-wal"

done_testing
