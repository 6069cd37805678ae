#!/bin/sh
# The background agent's memory and speed with many active leases: issue
# N leases (default 1,000) of an hour from 4 clients, then read the
# agent's resident memory (VmRSS, and its peak VmHWM) from /proc; then
# stop it and start another whose clock runs past the hour
# (JANEE_TEST_AGENT_CLOCK_OFFSET, the test binary's hook), so that every
# lease is due at once, and time how long it takes to revoke them all at
# the test provider (local files: this measures janee and SQLite, not a
# network), with its peak memory after.  Prints a table; not a test.
#   bench/agent-bench.sh [N]
set -eu
n=${1:-1000}
. "$(dirname "$0")/lib.sh"
bench_setup
stop_agent() {
	p=$(head -n 1 "$JANEE_HOME/agent.lock" 2>/dev/null || true)
	[ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true
	i=0
	while [ -n "$p" ] && kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
trap 'stop_agent; rm -rf "$tmp"' EXIT

kb() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$2/status"; }
agent() { head -n 1 "$JANEE_HOME/agent.lock"; }

machine
per=$((n / 4))
i=0
while [ $i -lt 4 ]; do
	(j=0; while [ $j -lt "$per" ]; do
		"$J" token t --ttl 1h >/dev/null 2>>"$tmp/err" || echo x >>"$tmp/fail"
		j=$((j + 1))
	done) &
	i=$((i + 1))
done
wait
[ ! -s "$tmp/fail" ] || { echo "some requests failed:" >&2; sort "$tmp/err" | uniq -c >&2; exit 1; }
active=$("$J" status --json | sed -n 's/.*"active_leases":\([0-9]*\).*/\1/p')
sleep 2 # a few of its one-second rounds
a=$(agent)
printf '%-46s %10s\n' "agent, $active active leases: VmRSS" "$(kb VmRSS "$a") kB"
printf '%-46s %10s\n' "agent, $active active leases: VmHWM (peak)" "$(kb VmHWM "$a") kB"
printf '%-46s %10s\n' "agent: VmLck (the key page)" "$(kb VmLck "$a") kB"

# Every lease due at once: a new agent an hour and a minute ahead.
stop_agent
t0=$(now_ms)
JANEE_TEST_AGENT_CLOCK_OFFSET=3660 "$J" lease list >/dev/null 2>&1
a=$(agent)
hwm=
# The agent leaves once all are revoked: read its peak while it works.
while [ "$(find "$tmp/prov" -type f ! -name calls.log | wc -l)" -gt 0 ]; do
	h=$(kb VmHWM "$a" 2>/dev/null || true)
	[ -z "$h" ] || hwm=$h
	sleep 0.05
done
t1=$(now_ms)
printf '%-46s %10s\n' "agent: revoke $active due leases (s)" \
    "$(awk -v ms=$((t1 - t0)) 'BEGIN { printf "%.2f", ms / 1000 }')"
printf '%-46s %10s\n' "agent: revocations per second" \
    "$(awk -v n="$active" -v ms=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ms / 1000) }')"
printf '%-46s %10s\n' "agent while revoking them: VmHWM (peak)" "${hwm:-?} kB"
"$J" audit verify >/dev/null
echo "audit chain verifies after the run"
