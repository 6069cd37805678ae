#!/bin/sh
# Benchmark call_api and janee proxy (issue 15): the latency each adds at
# p50 over a direct call to the same local API (bench/call-api-bench.mjs; the API is
# bench/mcp-bench.mjs --token-server).  Builds janee in BUILDDIR (default
# build-bench, an optimised build, as bench/mcp-bench.sh).
#   bench/call-api-bench.sh            1000 calls each, twice
#   BENCH_CALLS=200 bench/call-api-bench.sh
set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=${BUILDDIR:-$srcdir/build-bench}
if [ ! -f "$BUILDDIR/Makefile" ]; then
	mkdir -p "$BUILDDIR"
	(cd "$BUILDDIR" && "$srcdir/configure" >configure.log 2>&1) || {
		tail -20 "$BUILDDIR/configure.log" >&2
		exit 1
	}
fi
(cd "$BUILDDIR" && make -j"$(nproc 2>/dev/null || echo 2)" janee >make.log 2>&1) || {
	tail -30 "$BUILDDIR/make.log" >&2
	exit 1
}
work=$(mktemp -d "${TMPDIR:-/tmp}/janee-call-api-bench.XXXXXX")
pid=
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || :
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
export HOME="$work/home" JANEE_HOME="$work/janee"
mkdir -p "$HOME"
unset JANEE_PASSPHRASE || :
"$BUILDDIR/janee" init --key-backend keyfile >/dev/null 2>&1
printf 'fake-basic-secret' | "$BUILDDIR/janee" secret set basic 2>/dev/null
node "$srcdir/bench/mcp-bench.mjs" --token-server "$work/port" >"$work/server.log" 2>&1 </dev/null &
pid=$!
i=0
while [ ! -s "$work/port" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "call-api-bench.sh: the local server did not start" >&2; exit 1; }
	sleep 0.1
done
base="http://127.0.0.1:$(cat "$work/port")"
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 "local": {"type": "oauth2", "issuer": "$base",
   "client_id": "conf-basic", "client_secret": "secret:basic",
   "grant": "client_credentials", "scopes": ["a:read"], "approval": "auto",
   "api": {"base_url": "$base/api", "allow": ["GET /ping"]}}}}
JSON
chmod 600 "$JANEE_HOME/config.json"
JANEE="$BUILDDIR/janee" LOCAL_API="$base/api" node "$srcdir/bench/call-api-bench.mjs"
