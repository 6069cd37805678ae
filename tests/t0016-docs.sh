#!/bin/sh
# What a new user reads must be true (issue 16, item 5): the README's
# github-app example runs as written, the docs stand alone, help texts
# say what the commands do.
. "$JANEE_SRCDIR/tests/lib.sh"

S=$JANEE_SRCDIR
setup_home

# The README's example, its continuation lines joined, comments dropped.
awk '/^janee provider add gh --type github-app/ { on = 1 }
    on { print; if ($0 !~ /\\ *(#.*)?$/) exit }' "$S/README.md" |
    sed 's/#.*$//' | tr -d '\\\n' >"$TMP/example"
check "the README has the github-app example" grep -q 'github-app' "$TMP/example"
sed -i "s|^janee |\"\$JANEE\" |" "$TMP/example"
( eval "$(cat "$TMP/example")" ) >"$TMP/out" 2>"$TMP/err"
echo $? >"$TMP/rc"
expect_rc 0 "the README's github-app provider add works as written"

for f in README.md $(cd "$S" && echo docs/*.md) providers/README.md; do
	check "$f cites no file outside the repository" \
	    sh -c "! grep -q 'DESIGN\.md\|REFERENCE\.md' '$S/$f'"
done
check "providers/README.md does not call the providers planned" \
    sh -c "! grep -qi 'planned' '$S/providers/README.md'"
check "the README names the man page and completion" \
    sh -c "grep -q 'man janee' '$S/README.md' && grep -q 'janee completion' '$S/README.md'"

# A type's own defaults are the provider table's to say (no core file
# names a type: tests/t0002-layering.sh); help points there.
jr provider add --help
expect_in "$TMP/out" "revoke or expire \\(default: revoke, or the type's own: see janee provider types\\)" \
    "provider add --help says a type may have its own lease-end default, and where"
jr provider types
expect_in "$TMP/out" '^slack .*lease_end: expire by default' \
    "provider types gives Slack's own lease-end default"
jr help
expect_in "$TMP/out" "login .*a device code or a browser sign-in" \
    "janee help does not call every login a device flow"
jr status --help
expect_in "$TMP/out" 'audit chain: janee audit verify' \
    "status --help says where the audit chain is verified"

done_testing
