#!/bin/sh
# The command line: help, version, usage errors (exit 2, one-line error
# plus usage), and that every command in the table has working --help.
. "$JANEE_SRCDIR/tests/lib.sh"

jr --version
expect_rc 0 "--version exits 0"
expect_in "$TMP/out" '^janee [0-9]+\.[0-9]+\.[0-9]+$' "--version prints the version"

jr --help
expect_rc 0 "--help exits 0"
expect_in "$TMP/out" '^usage: janee' "--help prints usage"
expect_in "$TMP/out" 'audit export' "--help lists the commands"

jr
expect_rc 2 "no command exits 2"

jr frobnicate
expect_rc 2 "unknown command exits 2"
expect_in "$TMP/err" "^janee: unknown command 'frobnicate'" "unknown command is named"
expect_in "$TMP/err" "(see: janee help)" "unknown command says where the commands are listed"

jr --bogus status
expect_rc 2 "unknown global option exits 2"

jr status --frob
expect_rc 2 "unknown command option exits 2"
expect_in "$TMP/err" "unknown option '--frob'" "unknown option is named"
expect_in "$TMP/err" '^usage: janee status' "bad option prints the command's usage"

jr secret
expect_rc 2 "a group without a subcommand exits 2"
expect_in "$TMP/err" 'subcommands:' "a group lists its subcommands"

jr secret frob
expect_rc 2 "unknown subcommand exits 2"

jr token
expect_rc 2 "missing argument exits 2"
expect_in "$TMP/err" 'missing PROVIDER' "missing argument is named"

jr audit export --format
expect_rc 2 "option without its value exits 2"

# Every command's --help works and exits 0, without a janee home.
"$JANEE" --help | sed -n 's/^  \([a-z]*\( [a-z]*\)\?\)  .*/\1/p' |
    sed 's/ *$//' >"$TMP/cmds"
n=0 bad=0
while read -r cmd; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	if ! "$JANEE" $cmd --help >"$TMP/h" 2>&1 ||
	    ! grep -q "^usage: janee $cmd" "$TMP/h"; then
		echo "  '$cmd --help' failed" >&2
		bad=$((bad + 1))
	fi
done <"$TMP/cmds"
check "every command ($n) has --help" [ "$bad" -eq 0 ]
check "the command list was read" [ "$n" -ge 15 ]

jr help lease revoke
expect_rc 0 "help COMMAND works"
expect_in "$TMP/out" '^usage: janee lease revoke' "help COMMAND shows its usage"

jr status
expect_rc 1 "status without a home fails"
expect_in "$TMP/err" "run: janee init" "status without a home says to run init"

# The manual is written from the command table: every command is in it.
sh "$JANEE_SRCDIR/scripts/gen-man" "$JANEE" >"$TMP/janee.1" 2>"$TMP/man.err"
check "gen-man writes janee(1)" grep -q '^\.TH JANEE 1' "$TMP/janee.1"
missing=0
while read -r cmd; do
	grep -q "^\.SS $cmd\$" "$TMP/janee.1" || { echo "  no $cmd" >&2; missing=1; }
done <"$TMP/cmds"
check "janee(1) covers every command" [ $missing -eq 0 ]
if command -v man >/dev/null 2>&1; then
	check "janee(1) renders without errors" sh -c "man -l '$TMP/janee.1' >/dev/null 2>'$TMP/man.warn' && [ ! -s '$TMP/man.warn' ]"
fi

# libcurl, libjwt and libsecret (with GLib, GnuTLS, Kerberos...) are
# opened on first use, not at start: a command that needs none loads none.
LD_DEBUG=files "$JANEE_BUILDDIR/janee" --version >/dev/null 2>"$TMP/ld.log"
check "the loader log was written" grep -q 'file=libcjson' "$TMP/ld.log"
check "janee --version loads no libcurl, libjwt, libsecret or GLib" \
	sh -c "! grep -E 'file=lib(curl|jwt|secret|glib)' '$TMP/ld.log'"
check "janee is not linked with libcurl, libjwt or libsecret" \
	sh -c "! objdump -p '$JANEE_BUILDDIR/janee' | grep -E 'NEEDED.*lib(curl|jwt|secret|glib)'"

done_testing
