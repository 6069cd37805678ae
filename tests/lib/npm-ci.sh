#!/bin/sh
# Install a test directory's npm dependencies (DIR/node_modules) from its
# package-lock.json with `npm ci`, only when they are missing or stale
# (the lock file or node's major version changed).  Idempotent and quiet:
# prints nothing when all is in place, and only a short error (with npm's
# log) when the install fails.  Needs node >= 20 and npm, and reaches only
# the npm registry.  Used by tests/peers/install.sh and tests/mcp/install.sh.
#
# usage: sh tests/lib/npm-ci.sh DIR PACKAGE...   (each PACKAGE must end up
#        in DIR/node_modules)
set -u

[ $# -ge 2 ] || { echo "usage: npm-ci.sh DIR PACKAGE..." >&2; exit 2; }
dir=$(cd "$1" && pwd) || exit 1
shift
me="npm-ci.sh ($dir)"
stamp="$dir/node_modules/.janee-install-stamp"

fail() {
	echo "$me: $*" >&2
	exit 1
}

installed() {
	for p in "$@"; do
		[ -f "$dir/node_modules/$p/package.json" ] || return 1
	done
}

command -v node >/dev/null 2>&1 || fail "node not found (Node.js 20 or later is needed)"
command -v npm >/dev/null 2>&1 || fail "npm not found"
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) ||
	fail "cannot run node"
[ "$major" -ge 20 ] 2>/dev/null || fail "node $major is too old (20 or later is needed)"
[ -f "$dir/package-lock.json" ] || fail "$dir/package-lock.json is missing"

# What the installed tree was made from: the lock file and node's major
# version.  npm ci again whenever either changed.
want=$({
	cat "$dir/package.json" "$dir/package-lock.json"
	echo "node $major"
} | cksum | tr -d ' ')

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && installed "$@"; then
	exit 0
fi

log=$(mktemp "${TMPDIR:-/tmp}/janee-npm.XXXXXX") || fail "mktemp failed"
trap 'rm -f "$log"' EXIT
if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error \
	--prefer-offline >"$log" 2>&1); then
	echo "$me: npm ci failed (is the npm registry reachable?):" >&2
	sed 's/^/  /' "$log" >&2
	exit 1
fi
installed "$@" || fail "npm ci left no node_modules/ for one of: $*"
echo "$want" >"$stamp" || fail "cannot write $stamp"
exit 0
