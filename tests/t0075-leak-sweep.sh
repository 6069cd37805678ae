#!/bin/sh
# The suite-wide leak sweep (tests/leak-sweep.py) can fail: planted leaks
# in a made-up capture are found, in every encoding it claims, and the
# intended places are left alone; then the real capture of tests/janee-test
# is swept clean and with a planted leak.  (tests/run.sh runs the sweep
# itself over the whole suite's capture at the end.)
. "$JANEE_SRCDIR/tests/lib.sh"

SWEEP="$JANEE_SRCDIR/tests/leak-sweep.py"
# This script's own capture and secrets, not the suite's.
unset JANEE_TEST_CAPTURE_DIR JANEE_LEAK_SECRETS_FILE

sweep() { # sweep DIR: output in $TMP/sweep.out, status in $TMP/sweep.rc
	"$PYTHON3" "$SWEEP" "$1" "$1/secrets" >"$TMP/sweep.out" 2>&1
	echo $? >"$TMP/sweep.rc"
}
swept_ok() { [ "$(cat "$TMP/sweep.rc")" -eq 0 ] &&
    grep -q '^ok - leak sweep: [0-9]* secrets, [0-9]* files, [0-9]* bytes searched$' "$TMP/sweep.out"; }
hit() { grep '^not ok - leak sweep: ' "$TMP/sweep.out" | grep -q -- "$1"; }

TOK_A=tst_AAAAaaaaBBBBbbbbCCCCccccDDDDdddd0001
TOK_B=tst_EEEEeeeeFFFFffffGGGGggggHHHHhhhh0002
TOK_C=tst_IIIIiiiiJJJJjjjjKKKKkkkkLLLLllll0003
CS='cs-&/+Secret value=9'
PEM_BODY=MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCsweep
printf -- '-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n' \
    "$PEM_BODY" >"$TMP/key.pem"

# make_capture DIR: a capture with a janee token, a janee serve and a
# janee status process, one home, and the secrets file
make_capture() {
	d=$1/t9999-x
	mkdir -p "$d/homes/1"
	printf '%s\t%s\n' token "$TOK_A" token "$TOK_B" token "$TOK_C" \
	    client-secret "$CS" >"$1/secrets"
	printf 'private-key:b64\t%s\n' "$(base64 <"$TMP/key.pem" | tr -d '\n')" \
	    >>"$1/secrets"
	printf 'janee-test\0token\0t\0' >"$d/token-t.10.argv"
	printf '%s\n' "$TOK_A" >"$d/token-t.10.out"
	printf 'janee-test\0--home\0/h\0serve\0' >"$d/serve.11.argv"
	printf '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"{\\"token\\":\\"%s\\"}"}],"structuredContent":{"token":"%s","lease_id":"lse_x"},"isError":false}}\n' \
	    "$TOK_B" "$TOK_B" >"$d/serve.11.out"
	printf '{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"nothing"}}\n' \
	    >>"$d/serve.11.out"
	printf 'janee-test\0status\0' >"$d/status.12.argv"
	printf 'all fine\n' >"$d/status.12.err"
	printf 'SQLite format 3\0...sealed...\0' >"$d/homes/1/janee.db"
}

# --- a clean capture passes, and counts what it searched -----------------
make_capture "$TMP/c1"
sweep "$TMP/c1"
check "a clean capture passes with one ok line" swept_ok
check "it counts 5 secrets and 3 files (the token's stdout is not searched)" \
    grep -q '^ok - leak sweep: 5 secrets, 3 files, ' "$TMP/sweep.out"
check "the token's own stdout is the control: found, not reported" \
    grep -q '; 1 hits there (control)' "$TMP/sweep.out"

# --- planted leaks are found ---------------------------------------------
make_capture "$TMP/c2"
d=$TMP/c2/t9999-x
# a token in a notification of janee serve (not a request_token result)
printf '{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"%s"}}\n' \
    "$TOK_C" >>"$d/serve.11.out"
# the client secret in an HTTP Basic header on stderr (base64, at offset 3)
printf 'Authorization: Basic %s\n' "$(printf 'app:%s' "$CS" | base64)" \
    >>"$d/status.12.err"
# a line of the private key in the ledger
printf 'xx%sxx' "$PEM_BODY" >>"$d/homes/1/janee.db"
# the client secret percent-encoded in a CSV janee wrote
printf 'janee-test\0audit\0export\0' >"$d/audit-export.13.argv"
printf 'a,b\n1,client_secret=%s\n' "cs-%26%2F%2BSecret%20value%3D9" \
    >"$d/audit-export.13.file0"
# a token on janee token's stderr (only its stdout is intended)
printf 'janee: %s\n' "$TOK_A" >"$d/token-t.10.err"
sweep "$TMP/c2"
check "a capture with leaks fails" [ "$(cat "$TMP/sweep.rc")" -ne 0 ]
check "and has no ok line" sh -c "! grep -q '^ok - ' '$TMP/sweep.out'"
check "a token in a serve notification is found" \
    hit 'token (plain, .*) in t9999-x/serve.11.out at offset [0-9]'
check "a client secret in a Basic header (base64) is found" \
    hit 'client-secret (base64, .*) in t9999-x/status.12.err at offset [0-9]'
check "a private key's PEM line in the ledger is found" \
    hit 'private-key (PEM line, .*) in t9999-x/homes/1/janee.db at offset'
check "a percent-encoded secret in a written file is found" \
    hit 'client-secret (percent-encoded, .*) in t9999-x/audit-export.13.file0'
check "a token on janee token's stderr is found" \
    hit 'token (plain, .*) in t9999-x/token-t.10.err at offset 7'
check "the request_token result in serve's stdout is not reported" \
    sh -c "[ \$(grep -c 'serve.11.out' '$TMP/sweep.out') -eq 1 ]"
check "no report holds a secret in full" \
    sh -c "! grep -Fq -e '$TOK_C' -e '$PEM_BODY' -e 'Secret value' '$TMP/sweep.out'"

# --- a batch answer (protocol 2025-03-26): its request_token result is an
# intended place, a token elsewhere in the same array is not
make_capture "$TMP/c4"
d=$TMP/c4/t9999-x
res='{"jsonrpc":"2.0","id":%d,"result":{"structuredContent":{"token":"%s"},"isError":false}}'
printf "[$res,$res]\n" 7 "$TOK_C" 8 "$TOK_A" >>"$d/serve.11.out"
sweep "$TMP/c4"
check "request_token results inside a batch answer are not reported" swept_ok
printf "[$res,%s]\n" 9 "$TOK_C" \
    "{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":{\"isError\":true,\"text\":\"$TOK_B\"}}" \
    >>"$d/serve.11.out"
sweep "$TMP/c4"
check "a token in another answer of the same batch is found" \
    hit 'token (plain, .*) in t9999-x/serve.11.out at offset [0-9]'

# --- it refuses to pass on nothing -----------------------------------------
mkdir -p "$TMP/c3"
printf 'token\t%s\n' "$TOK_A" >"$TMP/c3/secrets"
sweep "$TMP/c3"
check "an empty capture with secrets recorded is a failure (capture off?)" \
    grep -q '^not ok - leak sweep: nothing was captured' "$TMP/sweep.out"

# --- the real capture of tests/janee-test ----------------------------------
export JANEE_TEST_CAPTURE_DIR="$TMP/real/t0075"
export JANEE_LEAK_SECRETS_FILE="$TMP/real/secrets"
mkdir -p "$JANEE_TEST_CAPTURE_DIR"
setup_home
jr token t --scope read
check "janee token works under the capture" [ "$(rc)" -eq 0 ] && [ -s "$TMP/out" ]
tok=$(cat "$TMP/out")
check "the capture copied janee token's stdout" \
    grep -qxF "$tok" "$JANEE_TEST_CAPTURE_DIR"/token-t.*.out
check "the test provider recorded the token it minted" \
    grep -qxF "token	$tok" "$JANEE_LEAK_SECRETS_FILE"
jr audit export --format csv -o "$TMP/audit.csv"
check "the capture keeps a copy of the CSV janee wrote" \
    sh -c "cat '$JANEE_TEST_CAPTURE_DIR'/audit-export.*.file0 | cmp -s - '$TMP/audit.csv'"
capture_keep
check "capture_keep copies the janee home (the ledger)" \
    [ -s "$JANEE_TEST_CAPTURE_DIR/homes/1/janee.db" ]
unset JANEE_TEST_CAPTURE_DIR JANEE_LEAK_SECRETS_FILE
sweep "$TMP/real"
check "the real capture of a clean run passes" swept_ok
# plant: as if janee had printed the token on stderr
printf 'janee: minted %s\n' "$tok" >"$TMP/real/t0075/status.1.err"
sweep "$TMP/real"
check "the real capture with the token on a stderr fails" \
    hit 'token (plain, .*) in t0075/status.1.err at offset 14'

done_testing
