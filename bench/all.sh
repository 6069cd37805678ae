#!/bin/sh
# Every janee benchmark, one after the other, each printing its own table
# (none of them is a timed test), then one summary table gathered from
# their output: metric, measured, target, met.
#   ledger   bench/run.sh: 1,000,000 leases, 10,000,000 audit rows by
#            default (verify, export, sweep at 0.1% and 1% overdue,
#            peak RSS of each command)
#   leases   bench/leases-bench.sh: leases per second from 1, 4, 16 clients
#   mcp      bench/mcp-bench.sh: janee serve cold start, RSS, request_token
#
#   bench/all.sh [--quick]     --quick: 100,000 leases and audit rows,
#                              fewer calls (a few minutes, for a check)
#
# The targets are those of docs/PERFORMANCE.md.  The exit status is not 0
# when a benchmark failed; a missed target shows as "NO" in the summary.
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
out=$(mktemp -d "${TMPDIR:-/tmp}/janee-all.XXXXXX")
trap 'rm -rf "$out"' EXIT INT TERM

# run NAME COMMAND...: print its output as it comes and keep a copy in
# $out/NAME.txt, its exit status in $out/NAME.rc (no pipefail in sh).
run() {
	_name=$1
	shift
	{
		_rc=0
		"$@" || _rc=$?
		echo "$_rc" >"$out/$_name.rc"
	} | tee "$out/$_name.txt"
}

echo "### ledger (bench/run.sh $ledger_args)"
# shellcheck disable=SC2086
run ledger "$top/bench/run.sh" $ledger_args
echo
echo "### leases per second (bench/leases-bench.sh $per)"
run leases "$top/bench/leases-bench.sh" "$per"
echo
echo "### janee serve (bench/mcp-bench.sh)"
run mcp "$top/bench/mcp-bench.sh"
echo
echo "### the approval page (bench/page-bench.sh)"
run page "$top/bench/page-bench.sh"

echo
echo "### summary"
# Each benchmark's table, read by its row labels: the ledger table has
# fixed columns (the label in the first 28), the others a label followed
# by numbers.  A row that is missing is reported as not measured.
awk -v ledger_rc="$(cat "$out/ledger.rc")" \
    -v leases_rc="$(cat "$out/leases.rc")" \
    -v mcp_rc="$(cat "$out/mcp.rc")" \
    -v page_rc="$(cat "$out/page.rc")" '
function thou(x,    s, r) {
	s = sprintf("%.0f", x)
	r = ""
	while (length(s) > 3) {
		r = "," substr(s, length(s) - 2) r
		s = substr(s, 1, length(s) - 3)
	}
	return s r
}
function line(metric, measured, target, met) {
	printf "%-64s %-16s %-22s %s\n", metric, measured, target, met
	if (met == "NO")
		missed++
	else if (met == "?")
		unmeasured++
}
function verdict(ok) { return ok ? "yes" : "NO" }
# The numbers after label on a line: into a[1..n], n returned.
function after(s, label, a,    i, n, m, b) {
	s = substr(s, index(s, label) + length(label))
	n = split(s, b, " ")
	m = 0
	for (i = 1; i <= n; i++)
		if (b[i] ~ /^-?[0-9]+(\.[0-9]+)?$/)
			a[++m] = b[i] + 0
	return m
}
FILENAME ~ /ledger.txt$/ && /^fill: / { fill = $0 }
FILENAME ~ /ledger.txt$/ && length($0) > 30 &&
    substr($0, 1, 28) ~ /^(janee version|audit |lease sweep)/ {
	name = substr($0, 1, 28)
	sub(/ +$/, "", name)
	split(substr($0, 29), f, " ")
	nl++
	lname[nl] = name
	lrows[name] = f[1]; lwall[name] = f[2]; lrate[name] = f[4]
	lrss[name] = f[5]
}
FILENAME ~ /ledger.txt$/ && /^sweep: / {
	# sweep: B vs A overdue leases took Rx the time (Nx net of ...)
	for (i = 1; i <= NF; i++)
		if ($i == "(" || $i ~ /^\(/) {
			net = $i
			gsub(/[(x]/, "", net)
			sweep_net = net + 0
			break
		}
}
FILENAME ~ /leases.txt$/ && /^(1|4|16) +[0-9]/ { lps[$1] = $4 }
FILENAME ~ /page.txt$/ && index($0, "page: GET / over loopback") == 1 {
	if (after($0, "new connection each", a) >= 2) {
		page_p50 = a[1]
		page_p95 = a[2]
	}
}
FILENAME ~ /page.txt$/ &&
    index($0, "page: peak RSS of the serving process") == 1 {
	if (after($0, "after the runs", a) >= 1)
		page_hwm = a[1] / 1024
}
FILENAME ~ /mcp.txt$/ && index($0, "janee serve: tools/list answered") == 1 {
	if (after($0, "answered", a) >= 2)
		cold = a[2]
}
FILENAME ~ /mcp.txt$/ &&
    index($0, "janee serve after tools/list (median of the cold runs)") == 1 {
	if (after($0, "(median of the cold runs)", a) >= 1)
		hwm = a[1]
}
FILENAME ~ /mcp.txt$/ &&
    index($0, "janee-test serve, at the end of the session") == 1 {
	if (after($0, "at the end of the session", a) >= 1)
		hwm_end = a[1]
}
FILENAME ~ /mcp.txt$/ && index($0, ": janee adds (p50 / p99 / mean)") {
	who = substr($0, 1, index($0, ": janee adds") - 1)
	sub(/^oauth2 cc, /, "", who)
	if (after($0, "(p50 / p99 / mean)", a) >= 1) {
		nadd++
		addwho[nadd] = who
		addp50[nadd] = a[1]
	}
}
END {
	printf "%-64s %-16s %-22s %s\n", "metric", "measured", "target", "met"
	if (fill != "") {
		# fill:    N leases (...), M audit rows: ...
		n = split(fill, w, " ")
		for (i = 1; i <= n; i++) {
			if (w[i] == "leases") nleases = w[i - 1]
			if (w[i] == "audit" && w[i + 1] == "rows:") naudit = w[i - 1]
		}
	}
	v = "audit verify"
	if (v in lrate)
		line("ledger: audit verify, " thou(lrows[v]) " rows",
		    thou(lrate[v]) " rows/s", ">= 500,000 rows/s",
		    verdict(lrate[v] >= 500000))
	else
		line("ledger: audit verify", "not measured", ">= 500,000 rows/s", "?")
	v = "audit export --format csv"
	if (v in lrate)
		line("ledger: audit export --format csv, " thou(lrows[v]) " rows",
		    thou(lrate[v]) " rows/s", ">= 300,000 rows/s",
		    verdict(lrate[v] >= 300000))
	else
		line("ledger: audit export --format csv", "not measured",
		    ">= 300,000 rows/s", "?")
	# Proportional: ten times the overdue leases, about ten times the
	# time (net of the empty sweep); 12x leaves room for noise.
	if (sweep_net > 0)
		line("ledger: lease sweep, 1% vs 0.1% overdue (10x)",
		    sprintf("%.2fx the time", sweep_net), "<= 12x (proportional)",
		    verdict(sweep_net <= 12))
	else
		line("ledger: lease sweep, 1% vs 0.1% overdue (10x)", "not measured",
		    "<= 12x (proportional)", "?")
	v = "lease sweep, none overdue"
	if (v in lwall)
		line("ledger: lease sweep, none overdue (no scan)",
		    sprintf("%.3f s", lwall[v]), "< 0.1 s",
		    verdict(lwall[v] < 0.1))
	for (i = 1; i <= nl; i++)
		line("peak RSS: " lname[i], sprintf("%.1f MiB", lrss[lname[i]]),
		    "< 20 MiB", verdict(lrss[lname[i]] < 20))
	if (nl == 0)
		line("peak RSS: ledger commands", "not measured", "< 20 MiB", "?")
	for (c = 1; c <= 16; c *= 4)
		line(sprintf("leases/s, %d client%s", c, c > 1 ? "s" : ""),
		    (c in lps) ? lps[c] : "not measured", "-", "-")
	if (cold != "")
		line("janee serve: spawn to tools/list, median",
		    sprintf("%.3f ms", cold), "<= 5 ms", verdict(cold <= 5))
	else
		line("janee serve: spawn to tools/list, median", "not measured",
		    "<= 5 ms", "?")
	# 8 MB is 7.63 MiB; the harness prints MiB.
	if (hwm != "")
		line("janee serve: peak RSS after tools/list",
		    sprintf("%.1f MiB", hwm), "<= 8 MB (7.63 MiB)",
		    verdict(hwm * 1048576 <= 8000000))
	else
		line("janee serve: peak RSS after tools/list", "not measured",
		    "<= 8 MB (7.63 MiB)", "?")
	# After 2,100 request_tokens, libcurl loaded for the HTTP providers.
	if (hwm_end != "")
		line("janee serve: peak RSS, end of a session with HTTP",
		    sprintf("%.1f MiB", hwm_end), "<= 8 MB (7.63 MiB)",
		    verdict(hwm_end * 1048576 <= 8000000))
	for (i = 1; i <= nadd; i++)
		line("request_token, janee adds (p50): " addwho[i],
		    sprintf("%.3f ms", addp50[i]), "<= 1 ms",
		    verdict(addp50[i] <= 1))
	if (nadd == 0)
		line("request_token, janee adds p50", "not measured", "<= 1 ms", "?")
	if (page_p50 != "") {
		line("approval page: GET / with 100 waiting, p50",
		    sprintf("%.3f ms", page_p50), "< 10 ms", verdict(page_p50 < 10))
		line("approval page: GET / with 100 waiting, p95",
		    sprintf("%.3f ms", page_p95), "-", "-")
		line("approval page: peak RSS of the serving process",
		    sprintf("%.1f MiB", page_hwm), "-", "-")
	} else
		line("approval page: GET / with 100 waiting", "not measured",
		    "< 10 ms", "?")
	printf "\n"
	if (nleases != "")
		printf "ledger: %s leases, %s audit rows. ", thou(nleases), thou(naudit)
	printf "targets missed: %d", missed
	if (unmeasured > 0)
		printf "; not measured: %d", unmeasured
	printf "\n"
	split("ledger leases mcp page", bn, " ")
	rcs[1] = ledger_rc; rcs[2] = leases_rc; rcs[3] = mcp_rc; rcs[4] = page_rc
	for (i = 1; i <= 4; i++)
		if (rcs[i] != 0)
			printf "the %s benchmark failed (exit status %s)\n", bn[i], rcs[i]
}' "$out/ledger.txt" "$out/leases.txt" "$out/mcp.txt" "$out/page.txt"

for b in ledger leases mcp page; do
	[ "$(cat "$out/$b.rc")" = 0 ] || exit 1
done
