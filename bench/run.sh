#!/bin/sh
# Build what the ledger benchmark needs and run it; prints the machine,
# the fill and a results table.  Arguments go to bench/ledger-bench
# (-n leases, -a audit rows, -r repeats, -d workdir, -k keep).
#
#   bench/run.sh                 1,000,000 leases, 10,000,000 audit rows
#   bench/run.sh -n 100000 -a 100000
#
# BUILDDIR (default: build-bench beside this tree's configure) is a
# separate build directory, configured here when it has no Makefile, so
# the benchmark never disturbs another build.  It is an optimised build
# (configure's default CFLAGS, -g -O2): do not point it at an ASan or
# --enable-debug build and compare the figures.
set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=${BUILDDIR:-$srcdir/build-bench}
jobs=$(nproc 2>/dev/null || echo 2)

if [ ! -x "$srcdir/configure" ]; then
	echo "run.sh: no $srcdir/configure; run ./autogen.sh first" >&2
	exit 1
fi
mkdir -p "$BUILDDIR"
cd "$BUILDDIR"
if [ ! -f Makefile ]; then
	echo "run.sh: configuring $BUILDDIR" >&2
	"$srcdir/configure" >configure.log 2>&1 || {
		tail -20 configure.log >&2
		exit 1
	}
fi
echo "run.sh: building in $BUILDDIR" >&2
make -j"$jobs" bench/ledger-bench tests/janee-test >make.log 2>&1 || {
	tail -30 make.log >&2
	exit 1
}

echo "run.sh: $BUILDDIR/bench/ledger-bench -j $BUILDDIR/tests/janee-test $*" >&2
exec ./bench/ledger-bench -j ./tests/janee-test "$@"
