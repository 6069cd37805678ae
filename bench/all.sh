#!/bin/sh
# Every janee benchmark, one after the other, each printing its own table
# (none of them is a timed test):
#   ledger   bench/run.sh: 1,000,000 leases and audit rows by default
#            (verify, export, sweep at 0.1% and 1% overdue, peak RSS)
#   leases   bench/leases-bench.sh: leases per second from 1, 4, 16 clients
#   mcp      bench/mcp-bench.sh: janee serve cold start, RSS, request_token
#
#   bench/all.sh [--quick]     --quick: a 100,000-row ledger, fewer calls
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = "--quick" ]; then
	ledger_args="-n 100000 -a 100000"
	export BENCH_COLD=50 BENCH_CALLS=200 BENCH_FAKE_CALLS=50
	per=80
else
	ledger_args=""
	per=200
fi
echo "### ledger (bench/run.sh $ledger_args)"
# shellcheck disable=SC2086
"$top/bench/run.sh" $ledger_args
echo
echo "### leases per second (bench/leases-bench.sh $per)"
"$top/bench/leases-bench.sh" "$per"
echo
echo "### janee serve (bench/mcp-bench.sh)"
"$top/bench/mcp-bench.sh"
