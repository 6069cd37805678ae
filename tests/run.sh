#!/bin/sh
# Run the test suite: unit test programs and integration scripts, each of
# which prints "ok - NAME", "not ok - NAME" or "ok - NAME # SKIP why".
# Ends with one line "N passed, N failed[, N skipped]" and exits non-zero
# on any failure (a program that dies counts as a failure of its own).
#
# usage: tests/run.sh TEST...   (paths relative to the build directory
#        for programs, to the source directory for scripts)
#
# When integration scripts ran, the suite ends with the leak sweep
# (tests/leak-sweep.py, docs/SECURITY.md): the scripts run with
# JANEE_TEST_CAPTURE_DIR and JANEE_LEAK_SECRETS_FILE set, so that
# tests/janee-test keeps a copy of everything it writes and every secret
# used is recorded, in $JANEE_BUILDDIR/leak-capture (kept for a look
# after the run); the sweep then searches the one for the other and
# prints "ok - leak sweep: ..." or a "not ok" per hit.  JANEE_LEAK_SWEEP=0
# turns it off; under JANEE_VALGRIND it is skipped (the valgrind run
# covers only the scripts without peers, which the normal run sweeps).
: "${JANEE_BUILDDIR:=$(pwd)}"
: "${JANEE_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
export JANEE_BUILDDIR JANEE_SRCDIR

passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

sweep=${JANEE_LEAK_SWEEP:-1}
[ -n "${JANEE_VALGRIND:-}" ] && sweep=skip
capture="$JANEE_BUILDDIR/leak-capture"
if [ "$sweep" = 1 ]; then
	rm -rf "$capture"
	mkdir -p "$capture"
	: >"$capture/secrets"
fi
scripts_ran=0

# count LOG T STATUS: print and count the results in LOG
count() {
	p=$(grep -c '^ok - ' "$1" | tr -d ' ')
	s=$(grep -c '^ok - .* # SKIP' "$1" | tr -d ' ')
	f=$(grep -c '^not ok - ' "$1" | tr -d ' ')
	p=$((p - s))
	if [ "$f" -gt 0 ] || [ "$3" -ne 0 ] || [ $((p + s)) -eq 0 ]; then
		cat "$1"
		if [ "$f" -eq 0 ]; then
			echo "not ok - $2 exited with status $3"
			f=1
		fi
	else
		grep -E '^(ok|not ok) - ' "$1"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

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
	case "$t" in
	*.sh)
		scripts_ran=1
		if [ "$sweep" = 1 ]; then
			JANEE_TEST_CAPTURE_DIR="$capture/$(echo "$t" |
			    sed 's|^tests/||; s|\.sh$||; s|/|_|g')"
			JANEE_LEAK_SECRETS_FILE="$capture/secrets"
			export JANEE_TEST_CAPTURE_DIR JANEE_LEAK_SECRETS_FILE
			mkdir -p "$JANEE_TEST_CAPTURE_DIR"
		fi
		;;
	*) unset JANEE_TEST_CAPTURE_DIR JANEE_LEAK_SECRETS_FILE ;;
	esac
	$run "$cmd" >"$log" 2>&1
	count "$log" "$t" $?
done
unset JANEE_TEST_CAPTURE_DIR JANEE_LEAK_SECRETS_FILE

if [ "$scripts_ran" = 1 ] && [ "$sweep" = 1 ]; then
	echo "# leak sweep"
	"${PYTHON3:-python3}" "$JANEE_SRCDIR/tests/leak-sweep.py" \
	    "$capture" "$capture/secrets" >"$log" 2>&1
	count "$log" "leak sweep" $?
	grep '^# ' "$log"
elif [ "$scripts_ran" = 1 ] && [ "$sweep" = skip ]; then
	echo "ok - leak sweep # SKIP not under valgrind"
	skipped=$((skipped + 1))
fi

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
