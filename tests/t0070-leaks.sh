#!/bin/sh
# Invariant 1: no token or secret in argv, logs, stderr, audit rows, CSV
# or error messages.  Runs a full scenario, keeps everything janee wrote,
# and searches all of it, and every state file, for every secret and
# token used.  Tokens may appear only where intended: `janee token`'s
# stdout.
. "$JANEE_SRCDIR/tests/lib.sh"

export JANEE_PASSPHRASE="leak test passphrase 9f3c"
"$JANEE" init >"$TMP/o.init" 2>"$TMP/e.init"
mkdir -p "$TMP/prov"
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {"t": {"type": "test", "state_dir": "$TMP/prov",
  "credential": "secret:client-secret", "scopes": ["read", "write"],
  "approval": "auto"},
 "nocred": {"type": "test", "state_dir": "$TMP/prov",
  "credential": "secret:missing", "scopes": ["read"], "approval": "auto"}}}
JSON
chmod 600 "$JANEE_HOME/config.json"

CLIENT_SECRET="cs-CANARY-7d1e6a0b94f2"
PEM_LINE="MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcCANARY"
leak_secret client-secret "$CLIENT_SECRET"
leak_secret passphrase "$JANEE_PASSPHRASE"
printf '%s' "$CLIENT_SECRET" | "$JANEE" secret set client-secret >"$TMP/o.set1" 2>"$TMP/e.set1"
printf -- '-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n' "$PEM_LINE" >"$TMP/key.pem"
chmod 600 "$TMP/key.pem"
leak_secret_file private-key "$TMP/key.pem"
"$JANEE" secret set app-key --from-file "$TMP/key.pem" >"$TMP/o.set2" 2>"$TMP/e.set2"
rm -f "$TMP/key.pem"

i=0
run() { # run NAME ARGS...: keep stdout and stderr of each step
	i=$((i + 1))
	name=$1
	shift
	"$JANEE" "$@" >"$TMP/o.$i.$name" 2>"$TMP/e.$i.$name"
}

: >"$TMP/tokens"
for ttl in 1m 2m 10m; do
	"$JANEE" token t --scope read --ttl "$ttl" >"$TMP/tok" 2>"$TMP/e.tok.$ttl"
	check "token with ttl $ttl" [ -s "$TMP/tok" ]
	cat "$TMP/tok" >>"$TMP/tokens"
done
"$JANEE" token t --scope write --json >"$TMP/tokjson" 2>"$TMP/e.tokjson"
"$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$TMP/tokjson" >>"$TMP/tokens"
check "four tokens were minted" [ "$(grep -c '^tst_' "$TMP/tokens")" -eq 4 ]
lease=$(sed -n 's/.*lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/e.tok.10m")

run list lease list --all
run listjson lease list --all --json
run show lease show "$lease"
run showjson lease show "$lease" --json
run status status
run audit audit list
run auditjson audit list --json
run export audit export --format csv
run exportfile audit export --format csv -o "$TMP/export.csv"
run verify audit verify
run secrets secret list --json
head -n 1 "$TMP/tokens" | "$JANEE" audit lookup >"$TMP/o.lookup" 2>"$TMP/e.lookup"
check "audit lookup finds a token's lease" [ -s "$TMP/o.lookup" ]
run failing token nocred --scope read
check "a failing mint fails" grep -q "no secret 'missing'" "$TMP/e.$i.failing"
run badscope token t --scope admin
run revoke lease revoke "$lease"
JANEE_TEST_CLOCK_OFFSET=300 "$JANEE" lease list >"$TMP/o.sweep" 2>"$TMP/e.sweep"
JANEE_PASSPHRASE="wrong passphrase value" "$JANEE" token t >"$TMP/o.wrong" 2>"$TMP/e.wrong"
check "a wrong passphrase fails" [ -s "$TMP/e.wrong" ]

# The haystack: everything janee printed (but the intended token
# outputs), the CSV, and every file in the home, WAL included.
rm -f "$TMP/tok" "$TMP/tokjson"
hay="$TMP/hay"
mkdir "$hay"
cp "$TMP"/o.* "$TMP"/e.* "$TMP/export.csv" "$hay/"
cp "$JANEE_HOME"/* "$hay/"
check "the ledger is in the haystack" [ -s "$hay/janee.db" ]

needles="$TMP/needles"
cat "$TMP/tokens" >"$needles"
printf '%s\n%s\n%s\n' "$CLIENT_SECRET" "$PEM_LINE" "$JANEE_PASSPHRASE" >>"$needles"
check "there are needles to search for" [ "$(wc -l <"$needles")" -eq 7 ]
hits=$(grep -rlaFf "$needles" "$hay" || true)
if [ -z "$hits" ]; then
	ok "invariant 1: no token, secret or passphrase in any output, CSV or state file"
else
	not_ok "invariant 1: no token, secret or passphrase in any output, CSV or state file"
	echo "  found in: $hits" >&2
fi
# The search itself can find what it looks for.
cp "$TMP/tokens" "$hay/control"
check "the search finds a planted token (control)" grep -rqaFf "$needles" "$hay"

# Tokens are opaque and long ones (GitHub's ~520-char JWTs) are handled.
export JANEE_HOME="$TMP/long"
unset JANEE_PASSPHRASE
setup_home '"token_length": 520,'
jr token t --scope read
check "a 520-character token is issued whole" [ "$(tr -d '\n' <"$TMP/out" | wc -c)" -eq 520 ]
"$JANEE" audit lookup <"$TMP/out" >"$TMP/o.look2" 2>&1
check "and can be looked up" grep -q '^lse_' "$TMP/o.look2"

done_testing
