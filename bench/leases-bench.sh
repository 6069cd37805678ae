#!/bin/sh
# Leases per second on one durable ledger (synchronous=FULL, WAL) from 1,
# 4 and 16 concurrent clients, each a `janee token` process against the
# test provider (which answers from local files: this measures janee and
# SQLite, not a network).  Prints a table; not a test.
#   bench/leases-bench.sh [TOKENS_PER_CLIENT_AT_1]   (default 200)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILDDIR:-$top/build-bench}
per1=${1:-200}
[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh >/dev/null)
mkdir -p "$build"
(cd "$build" && { [ -f Makefile ] || "$top/configure" >/dev/null; } &&
    make -s -j"$(nproc)" tests/janee-test)
J="$build/tests/janee-test"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export JANEE_HOME="$tmp/home"
"$J" init --key-backend keyfile >/dev/null 2>&1
mkdir -p "$tmp/prov"
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {"t": {"type": "test", "state_dir": "$tmp/prov",
  "scopes": ["read"], "default_scopes": ["read"], "max_ttl": "1h",
  "approval": "auto"}}}
JSON
chmod 600 "$JANEE_HOME/config.json"

now_ms() { date +%s%3N; }
printf 'machine: %s CPUs, %s\n' "$(nproc)" \
    "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
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
