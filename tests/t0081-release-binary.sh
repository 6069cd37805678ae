#!/bin/sh
# The release binary holds no test hook (issue 12, finding 10): the crash
# hook and its points, the clock offset, the capture's file and secret
# hooks, and the agent's environment hook are compiled only into the test
# programs.  build/janee has
# neither their symbols nor the crash points' names; tests/janee-test,
# built from the same sources, has both (the control: the checks can say
# yes).
. "$JANEE_SRCDIR/tests/lib.sh"

REL="$JANEE_BUILDDIR/janee"
TEST="$JANEE_BUILDDIR/tests/janee-test"
HOOKS="janee_crash_hook janee_crash_point janee_clock_offset_ms janee_file_hook janee_secret_hook agent_env_hook"
POINTS="after_record after_mint before_active during_revoke"

check "build/janee is built" [ -x "$REL" ]
check "tests/janee-test is built" [ -x "$TEST" ]

# symbols BINARY: the names of its symbol table, one a line.
symbols() {
	nm "$1" 2>/dev/null | awk '{ print $NF }'
}
# has_all BINARY WORDS...: every word is a symbol of BINARY
has_symbols() {
	_b=$1
	shift
	symbols "$_b" >"$TMP/syms"
	for _w; do grep -qx "$_w" "$TMP/syms" || return 1; done
}
has_no_symbol() {
	_b=$1
	shift
	symbols "$_b" >"$TMP/syms"
	for _w; do
		if grep -qx "$_w" "$TMP/syms"; then
			echo "  $_b has the symbol $_w" >&2
			return 1
		fi
	done
}
# has_strings BINARY WORDS...: every word is in BINARY's bytes
has_strings() {
	_b=$1
	shift
	for _w; do grep -qaF "$_w" "$_b" || return 1; done
}
has_no_string() {
	_b=$1
	shift
	for _w; do
		if grep -qaF "$_w" "$_b"; then
			echo "  $_b holds the string $_w" >&2
			return 1
		fi
	done
}

if ! command -v nm >/dev/null 2>&1; then
	skip "symbol checks" "nm is not installed"
elif [ -z "$(symbols "$REL")" ]; then
	skip "symbol checks" "build/janee is stripped"
else
	# shellcheck disable=SC2086
	check "control: tests/janee-test has every test hook's symbol" \
	    has_symbols "$TEST" $HOOKS
	# shellcheck disable=SC2086
	check "invariant (finding 10): build/janee has no test hook's symbol" \
	    has_no_symbol "$REL" $HOOKS
fi
# shellcheck disable=SC2086
check "control: tests/janee-test holds the crash points' names" \
    has_strings "$TEST" $POINTS JANEE_TEST_CRASH_AT
# shellcheck disable=SC2086
check "invariant (finding 10): build/janee holds no crash point's name" \
    has_no_string "$REL" $POINTS JANEE_TEST_CRASH_AT JANEE_TEST_CLOCK_OFFSET \
    JANEE_TEST_CAPTURE_DIR

# The release binary still works without them.
"$REL" init --key-backend keyfile >"$TMP/out" 2>"$TMP/err"
check "build/janee init works" [ $? -eq 0 ]
"$REL" status >"$TMP/out" 2>"$TMP/err"
check "build/janee status works" [ $? -eq 0 ]

done_testing
