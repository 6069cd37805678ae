#!/bin/sh
# Invariant 9 (the part visible from outside): a janee process has core
# dumps disabled, so no secret it holds can land in a core file.  The
# wiping of freed secrets is code review and ASan territory (see
# docs/SECURITY.md).
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home
mkfifo "$TMP/fifo"
# janee waits for the secret's value on the fifo: look at it meanwhile.
"$JANEE" secret set probe <"$TMP/fifo" >/dev/null 2>&1 &
pid=$!
exec 4>"$TMP/fifo"
n=0
until grep -q janee-test "/proc/$pid/cmdline" 2>/dev/null &&
    grep -q 'State:.*S' "/proc/$pid/status" 2>/dev/null || [ $n -ge 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
limits=$(cat "/proc/$pid/limits" 2>/dev/null)
echo value >&4
exec 4>&-
wait "$pid"
check "the probed janee process finished normally" [ $? -eq 0 ]
if echo "$limits" | grep -Eq '^Max core file size +0 +0 '; then
	ok "invariant 9: core dumps are disabled in the janee process"
else
	not_ok "invariant 9: core dumps are disabled in the janee process"
	echo "$limits" | sed 's/^/  /' >&2
fi
# Control: the shell that started it may dump core, so the 0 is janee's.
check "control: the test shell's own core limit is not what janee set" \
    sh -c 'ulimit -c unlimited 2>/dev/null; [ "$(ulimit -c)" != 0 ]'

done_testing
