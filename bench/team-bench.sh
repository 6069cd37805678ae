#!/bin/sh
# Durable leases per second through janee serve --http (issue 18,
# item 4): one janee serve --http on loopback, AGENTS concurrent MCP
# sessions (default 16) asking request_token with auto approval against
# the test provider (local files: janee and SQLite, not a network) until
# LEASES leases (default 2000) are issued; leases per second and the
# latency of each call (bench/team-bench.mjs), the server's CPU time,
# then a count of the ledger's active leases and audit verify.  Each
# lease is two durable commits (the minting row, then active) in the
# SQLite ledger, as for every lease.  Not a test.
#   bench/team-bench.sh [AGENTS [LEASES]]     (TMPDIR=/dev/shm: tmpfs)
set -eu
agents=${1:-16}
leases=${2:-2000}
. "$(dirname "$0")/lib.sh"
bench_setup
spid=
stop() {
	[ -z "$spid" ] || kill -TERM "$spid" 2>/dev/null || true
	p=$(head -n 1 "$JANEE_HOME/agent.lock" 2>/dev/null || true)
	[ -z "$p" ] || kill -TERM "$p" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap stop EXIT

machine
printf 'load:    %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'ledger:  %s\n' "$(df -P "$tmp" | awk 'NR == 2 { print $1 }')"
"$J" serve --http 127.0.0.1:0 --rate-limit 0 --max-sessions 256 \
    2>"$tmp/serve.err" &
spid=$!
i=0
port=
while [ -z "$port" ] && [ $i -lt 100 ]; do
	sleep 0.1
	port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$tmp/serve.err")
	i=$((i + 1))
done
[ -n "$port" ] || { cat "$tmp/serve.err" >&2; exit 1; }
cpu0=$(awk '{ print $14 + $15 }' "/proc/$spid/stat")
JANEE_URL="http://127.0.0.1:$port/mcp" BENCH_AGENTS=$agents \
    BENCH_LEASES=$leases node "$top/bench/team-bench.mjs"
cpu1=$(awk '{ print $14 + $15 }' "/proc/$spid/stat")
hz=$(getconf CLK_TCK)
printf 'janee serve CPU time per lease: %s ms\n' \
    "$(awk -v t=$((cpu1 - cpu0)) -v hz="$hz" -v n="$leases" \
	'BEGIN { printf "%.3f", t * 1000 / hz / n }')"
printf 'janee serve peak RSS: %s\n' \
    "$(sed -n 's/^VmHWM:[[:space:]]*//p' "/proc/$spid/status")"
active=$("$J" status --json | sed -n 's/.*"active_leases":\([0-9]*\).*/\1/p')
echo "active leases in the ledger: $active"
[ "$active" -eq "$leases" ] || { echo "expected $leases" >&2; exit 1; }
"$J" audit verify >/dev/null
echo "audit chain verifies after the run"
