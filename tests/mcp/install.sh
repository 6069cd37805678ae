#!/bin/sh
# Install the MCP test clients' npm dependencies (tests/mcp/node_modules):
# the official MCP TypeScript SDK, @modelcontextprotocol/sdk (handshake
# era) and @modelcontextprotocol/client (v2, both eras), pinned by
# package-lock.json; see tests/lib/npm-ci.sh.
#
# usage: sh tests/mcp/install.sh
here=$(cd "$(dirname "$0")" && pwd) || exit 1
exec sh "$here/../lib/npm-ci.sh" "$here" @modelcontextprotocol/sdk \
	@modelcontextprotocol/client
