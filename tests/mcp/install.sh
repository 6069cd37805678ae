#!/bin/sh
# Install the MCP test clients' npm dependencies (tests/mcp/node_modules):
# the official MCP TypeScript SDK, @modelcontextprotocol/sdk (handshake
# era) and @modelcontextprotocol/client (v2, both eras), pinned by
# package-lock.json, with `npm ci`, only when they are missing or stale.
# Idempotent and quiet: prints nothing when all is in place, and only a
# short error (with npm's log) when the install fails.  Needs node >= 20
# and npm, and reaches only the npm registry.
#
# usage: sh tests/mcp/install.sh
set -u

dir=$(cd "$(dirname "$0")" && pwd) || exit 1
stamp="$dir/node_modules/.janee-install-stamp"

fail() {
	echo "tests/mcp/install.sh: $*" >&2
	exit 1
}

installed() {
	[ -f "$dir/node_modules/@modelcontextprotocol/sdk/package.json" ] &&
		[ -f "$dir/node_modules/@modelcontextprotocol/client/package.json" ]
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

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && installed; then
	exit 0
fi

log=$(mktemp "${TMPDIR:-/tmp}/janee-npm.XXXXXX") || fail "mktemp failed"
trap 'rm -f "$log"' EXIT
if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error \
	--prefer-offline >"$log" 2>&1); then
	echo "tests/mcp/install.sh: npm ci failed in $dir (is the npm registry reachable?):" >&2
	sed 's/^/  /' "$log" >&2
	exit 1
fi
installed || fail "npm ci left no node_modules/@modelcontextprotocol/sdk or client"
echo "$want" >"$stamp" || fail "cannot write $stamp"
exit 0
