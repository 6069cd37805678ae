#!/bin/sh
# Run the test suite: unit test programs and integration scripts, each of
# which prints "ok - NAME", "not ok - NAME" or "ok - NAME # SKIP why".
# Ends with one line "N passed, N failed[, N skipped]" and exits non-zero
# on any failure (a program that dies counts as a failure of its own).
#
# usage: tests/run.sh TEST...   (paths relative to the build directory
#        for programs, to the source directory for scripts)
: "${JANEE_BUILDDIR:=$(pwd)}"
: "${JANEE_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
export JANEE_BUILDDIR JANEE_SRCDIR

passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$@"; do
	case "$t" in
	*.sh) cmd="$JANEE_SRCDIR/$t"; run="sh" ;;
	*)
		cmd="$JANEE_BUILDDIR/$t"
		run=""
		# JANEE_VALGRIND=1: unit tests under memcheck too.
		[ -n "${JANEE_VALGRIND:-}" ] && run="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
		;;
	esac
	printf '# %s\n' "$t"
	$run "$cmd" >"$log" 2>&1
	status=$?
	p=$(grep -c '^ok - ' "$log" | tr -d ' ')
	s=$(grep -c '^ok - .* # SKIP' "$log" | tr -d ' ')
	f=$(grep -c '^not ok - ' "$log" | tr -d ' ')
	p=$((p - s))
	if [ "$f" -gt 0 ] || [ "$status" -ne 0 ] || [ $((p + s)) -eq 0 ]; then
		cat "$log"
		if [ "$f" -eq 0 ]; then
			echo "not ok - $t exited with status $status"
			f=1
		fi
	else
		grep -E '^(ok|not ok) - ' "$log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
done

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
