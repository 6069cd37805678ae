# Shared by the shell benchmarks (sourced, after `set -eu`):
#   bench_setup   build tests/janee-test in $BUILDDIR (default
#                 build-bench/), make a scratch directory $tmp and a
#                 key-file home $JANEE_HOME in it with the test provider
#                 "t" (state in $tmp/prov); sets $top, $J
#   now_ms        the wall clock in milliseconds
#   machine       print the machine line of every table
bench_setup() {
	top=$(cd "$(dirname "$0")/.." && pwd)
	build=${BUILDDIR:-$top/build-bench}
	[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh >/dev/null)
	mkdir -p "$build"
	(cd "$build" && { [ -f Makefile ] || "$top/configure" >/dev/null; } &&
	    make -s -j"$(nproc)" tests/janee-test)
	J="$build/tests/janee-test"
	tmp=$(mktemp -d)
	export JANEE_HOME="$tmp/home"
	"$J" init --key-backend keyfile >/dev/null 2>&1
	mkdir -p "$tmp/prov"
	cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {"t": {"type": "test", "state_dir": "$tmp/prov",
  "scopes": ["read"], "default_scopes": ["read"], "max_ttl": "1h",
  "approval": "auto"}}}
JSON
	chmod 600 "$JANEE_HOME/config.json"
}

now_ms() { date +%s%3N; }

machine() {
	printf 'machine: %s CPUs, %s\n' "$(nproc)" \
	    "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
}
