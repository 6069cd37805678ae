#!/bin/sh
# Build and run the approval page's benchmark (bench/page-bench.c): the
# page of a person's session with 100 requests waiting (and 20 active
# leases), rendered in process and served over loopback by a child
# process in janee's own loop; latency and peak RSS.  Arguments go to
# bench/page-bench (-n waiting requests, -a active leases, -r runs).
#
#   bench/page-bench.sh
#   bench/page-bench.sh -n 500 -r 100
#
# BUILDDIR as for bench/run.sh (default build-bench, an optimised build).
set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=${BUILDDIR:-$srcdir/build-bench}
jobs=$(nproc 2>/dev/null || echo 2)

if [ ! -f "$BUILDDIR/Makefile" ]; then
	[ -x "$srcdir/configure" ] || {
		echo "page-bench.sh: no $srcdir/configure; run ./autogen.sh first" >&2
		exit 1
	}
	mkdir -p "$BUILDDIR"
	echo "page-bench.sh: configuring $BUILDDIR" >&2
	(cd "$BUILDDIR" && "$srcdir/configure" >configure.log 2>&1) || {
		tail -20 "$BUILDDIR/configure.log" >&2
		exit 1
	}
fi
echo "page-bench.sh: building in $BUILDDIR" >&2
(cd "$BUILDDIR" && make -j"$jobs" bench/page-bench >make.log 2>&1) || {
	tail -30 "$BUILDDIR/make.log" >&2
	exit 1
}
exec "$BUILDDIR/bench/page-bench" "$@"
