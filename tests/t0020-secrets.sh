#!/bin/sh
# janee secret set | list | rm | rekey: values from stdin or a file
# (never argv), byte-for-byte, sealed, wrong passphrase changes nothing.
. "$JANEE_SRCDIR/tests/lib.sh"

echo "correct horse battery staple" >"$TMP/pw"
export JANEE_PASSPHRASE="correct horse battery staple"
jr init
expect_rc 0 "init with the passphrase backend"

echo "s3cret-value" | "$JANEE" secret set api-token 2>"$TMP/err"
check "secret set from stdin" [ $? -eq 0 ]
jr secret list
expect_in "$TMP/out" '^api-token ' "secret list shows the name"
expect_not_in "$TMP/out" 's3cret' "secret list does not show the value"

# Byte-for-byte from a file: binary, trailing newlines kept.
printf 'line1\nline2\n\n\001\377' >"$TMP/blob"
chmod 600 "$TMP/blob"
jr secret set blob --from-file "$TMP/blob"
expect_rc 0 "secret set --from-file"
"$PYTHON3" - "$JANEE_HOME/janee.db" <<'PY' && ok "a file value is stored sealed (no plaintext in the ledger)" || not_ok "a file value is stored sealed (no plaintext in the ledger)"
import sys
data = open(sys.argv[1], "rb").read()
sys.exit(1 if b"line1\nline2" in data else 0)
PY

chmod 644 "$TMP/blob"
jr secret set blob2 --from-file "$TMP/blob"
expect_rc 0 "a world-readable source file is still stored"
expect_in "$TMP/err" 'warning: .*chmod 600' "with a warning to fix the file"

jr secret set "bad name"
expect_rc 2 "invalid secret name is a usage error"
printf '' | "$JANEE" secret set empty 2>"$TMP/err"
check "an empty value is refused" [ $? -ne 0 ]

# No value on argv: an extra argument is refused, not stored.
jr secret set name value
expect_rc 2 "a value on the command line is refused"

# wrong passphrase: clear error, nothing changes
cp "$JANEE_HOME/janee.db" "$TMP/before.db"
echo v >"$TMP/v"
JANEE_PASSPHRASE="wrong passphrase!" jr secret set other <"$TMP/v"
expect_rc 1 "wrong passphrase fails"
expect_in "$TMP/err" 'wrong passphrase' "wrong passphrase says so"
jr secret list --json
check "nothing was stored with the wrong passphrase" "$PYTHON3" -c '
import json, sys
names = [s["name"] for s in json.load(open(sys.argv[1]))]
assert names == ["api-token", "blob", "blob2"], names
' "$TMP/out"

# passphrase from a descriptor
unset JANEE_PASSPHRASE
echo "tok2" | "$JANEE" --passphrase-fd 3 secret set t2 3<"$TMP/pw" 2>"$TMP/err"
check "passphrase from --passphrase-fd" [ $? -eq 0 ]
"$JANEE" secret set t3 2>"$TMP/err" <"$TMP/v"
check "no passphrase and no terminal: refused" [ $? -ne 0 ]
expect_in "$TMP/err" 'locked' "and says the store is locked"

# rekey to a new passphrase; values survive
export JANEE_PASSPHRASE="correct horse battery staple"
JANEE_NEW_PASSPHRASE="a brand new passphrase" jr secret rekey
expect_rc 0 "secret rekey"
jr secret set after <"$TMP/v"
expect_rc 1 "the old passphrase no longer opens the store"
export JANEE_PASSPHRASE="a brand new passphrase"
echo v | "$JANEE" secret set after 2>/dev/null
check "the new passphrase opens the store" [ $? -eq 0 ]

# rekey to the key-file backend and back
jr secret rekey --key-backend keyfile
expect_rc 0 "rekey to the key-file backend"
unset JANEE_PASSPHRASE
echo v | "$JANEE" secret set after2 2>/dev/null
check "key-file backend needs no passphrase" [ $? -eq 0 ]

jr secret rm api-token
expect_rc 0 "secret rm"
jr secret rm api-token
expect_rc 1 "removing a missing secret fails"
expect_in "$TMP/err" "no secret 'api-token'" "and names it"

jr audit list --event secret_set
expect_in "$TMP/out" 'name=blob' "secret changes are audited by name"
jr audit list
expect_in "$TMP/out" 'secret_rekey' "rekey is audited"
expect_in "$TMP/out" 'secret_rm' "removal is audited"
expect_not_in "$TMP/out" 's3cret|line1' "audit never holds a value"

done_testing
