#!/bin/sh
# Leases per second on one durable ledger (synchronous=FULL, WAL) from 1,
# 4 and 16 concurrent clients, each a `janee token` process against the
# test provider (which answers from local files: this measures janee and
# SQLite, not a network).  Prints a table; not a test.
#   bench/leases-bench.sh [TOKENS_PER_CLIENT_AT_1]   (default 200)
set -eu
per1=${1:-200}
. "$(dirname "$0")/lib.sh"
bench_setup
trap 'rm -rf "$tmp"' EXIT
machine
printf '%-8s %8s %10s %12s\n' clients leases seconds leases/s
for c in 1 4 16; do
	per=$((per1 / c))
	[ "$per" -ge 5 ] || per=5
	t0=$(now_ms)
	i=0
	while [ $i -lt "$c" ]; do
		(j=0; while [ $j -lt "$per" ]; do
			"$J" token t --ttl 1h >/dev/null 2>>"$tmp/err" ||
			    echo x >>"$tmp/fail"
			j=$((j + 1))
		done) &
		i=$((i + 1))
	done
	wait
	t1=$(now_ms)
	n=$((c * per))
	awk -v c="$c" -v n="$n" -v ms=$((t1 - t0)) \
	    'BEGIN { printf "%-8d %8d %10.2f %12.1f\n", c, n, ms / 1000, n / (ms / 1000) }'
done
[ ! -s "$tmp/fail" ] || { echo "some requests failed:" >&2; sort "$tmp/err" | uniq -c >&2; exit 1; }
"$J" audit verify >/dev/null
echo "audit chain verifies after the run"
