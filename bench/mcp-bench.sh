#!/bin/sh
# Benchmark `janee serve` (issue 6, "Performance"): builds janee and
# tests/janee-test, makes a throwaway home and CA, starts a minimal local
# token endpoint (bench/mcp-bench.mjs --token-server) and the fake OAuth
# server (tests/fixtures/fake_oauth.py) over https and over plain http,
# and runs bench/mcp-bench.mjs, which prints the machine and the table.
#
#   bench/mcp-bench.sh                 200 cold starts, 1000 calls each
#                                      (200 against fake_oauth.py)
#   BENCH_COLD=50 BENCH_CALLS=200 BENCH_FAKE_CALLS=50 bench/mcp-bench.sh
#
# BUILDDIR (default: build-bench beside this tree's configure, as for
# bench/run.sh) is a separate build directory, configured here when it has
# no Makefile.  Use an optimised build (configure's default -g -O2), not
# an ASan or --enable-debug one.  Needs node >= 20, python3 and openssl.
set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=${BUILDDIR:-$srcdir/build-bench}
jobs=$(nproc 2>/dev/null || echo 2)

if [ ! -f "$BUILDDIR/Makefile" ]; then
	[ -x "$srcdir/configure" ] || {
		echo "mcp-bench.sh: no $srcdir/configure; run ./autogen.sh first" >&2
		exit 1
	}
	mkdir -p "$BUILDDIR"
	echo "mcp-bench.sh: configuring $BUILDDIR" >&2
	(cd "$BUILDDIR" && "$srcdir/configure" >configure.log 2>&1) || {
		tail -20 "$BUILDDIR/configure.log" >&2
		exit 1
	}
fi
echo "mcp-bench.sh: building in $BUILDDIR" >&2
(cd "$BUILDDIR" && make -j"$jobs" janee tests/janee-test >make.log 2>&1) || {
	tail -30 "$BUILDDIR/make.log" >&2
	exit 1
}
command -v node >/dev/null 2>&1 || { echo "mcp-bench.sh: node is needed" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/janee-mcp-bench.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || :; done
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
export HOME="$work/home" JANEE_HOME="$work/janee"
mkdir -p "$HOME" "$work/prov"
unset JANEE_PASSPHRASE JANEE_TEST_CLOCK_OFFSET || :
JANEE="$BUILDDIR/tests/janee-test"
"$JANEE" init --key-backend keyfile >/dev/null 2>&1
printf 'fake-basic-secret' | "$JANEE" secret set basic 2>/dev/null

# The test CA and the two fake OAuth servers (https, plain http).
. "$srcdir/tests/lib/ca.sh"
make_test_ca "$work/ca" >/dev/null
start_fake() { # start_fake NAME [--plain-http]
	_n=$1
	shift
	python3 "$srcdir/tests/fixtures/fake_oauth.py" --cert "$work/ca/server.pem" \
		--key "$work/ca/server.key" --port-file "$work/$_n.port" \
		--log "$work/$_n.log" --parent-pid $$ "$@" >>"$work/$_n.log" 2>&1 </dev/null &
	pids="$pids $!"
	_i=0
	while [ ! -s "$work/$_n.port" ]; do
		_i=$((_i + 1))
		[ $_i -lt 100 ] || { echo "mcp-bench.sh: the fake OAuth server did not start" >&2; cat "$work/$_n.log" >&2; exit 1; }
		sleep 0.1
	done
}
start_fake https
start_fake http --plain-http
node "$srcdir/bench/mcp-bench.mjs" --token-server "$work/local.port" \
	>"$work/local.log" 2>&1 </dev/null &
pids="$pids $!"
_i=0
while [ ! -s "$work/local.port" ]; do
	_i=$((_i + 1))
	[ $_i -lt 100 ] || { echo "mcp-bench.sh: the local token server did not start" >&2; cat "$work/local.log" >&2; exit 1; }
	sleep 0.1
done
LOCAL_ISSUER="http://127.0.0.1:$(cat "$work/local.port")"
FAKE_HTTPS="https://127.0.0.1:$(cat "$work/https.port")"
FAKE_HTTP="http://127.0.0.1:$(cat "$work/http.port")"
FAKE_CA="$work/ca/ca.pem"

cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 "t": {"type": "test", "state_dir": "$work/prov", "scopes": ["read"],
   "max_ttl": "1h", "approval": "auto"},
 "cc": {"type": "oauth2", "issuer": "$FAKE_HTTPS", "ca_file": "$FAKE_CA",
   "client_id": "conf-basic", "client_secret": "secret:basic",
   "grant": "client_credentials", "scopes": ["a:read"], "approval": "auto"},
 "local": {"type": "oauth2", "issuer": "$LOCAL_ISSUER",
   "client_id": "conf-basic", "client_secret": "secret:basic",
   "grant": "client_credentials", "scopes": ["a:read"], "approval": "auto"},
 "cchttp": {"type": "oauth2", "issuer": "$FAKE_HTTP",
   "client_id": "conf-basic", "client_secret": "secret:basic",
   "grant": "client_credentials", "scopes": ["a:read"], "approval": "auto"}}}
JSON
chmod 600 "$JANEE_HOME/config.json"

echo "mcp-bench.sh: node $srcdir/bench/mcp-bench.mjs (janee: $BUILDDIR)" >&2
JANEE="$JANEE" JANEE_REAL="$BUILDDIR/janee" LOCAL_ISSUER="$LOCAL_ISSUER" \
	FAKE_HTTPS="$FAKE_HTTPS" \
	FAKE_HTTP="$FAKE_HTTP" FAKE_CA="$FAKE_CA" \
	node "$srcdir/bench/mcp-bench.mjs"

# How many HTTP requests janee made per request_token (from the servers'
# own call logs: discovery is fetched once, then one POST /token each).
for n in https http; do
	if [ "$n" = https ]; then iss=$FAKE_HTTPS; ca="--cacert $FAKE_CA"; else iss=$FAKE_HTTP; ca=; fi
	# shellcheck disable=SC2086
	curl -sS $ca "$iss/_calls" | python3 -c '
import collections, json, sys
c = collections.Counter(x["path"] for x in json.load(sys.stdin))
print("calls:   fake OAuth server (" + sys.argv[1] + "): " + ", ".join("%s %d" % kv for kv in sorted(c.items())))
' "$n"
done
