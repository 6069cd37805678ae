#!/bin/sh
# Install the test peers' npm dependencies (tests/peers/node_modules): the
# oidc-provider authorization server and jose (team mode's JWTs), pinned by package-lock.json; see
# tests/lib/npm-ci.sh.
#
# usage: sh tests/peers/install.sh
here=$(cd "$(dirname "$0")" && pwd) || exit 1
exec sh "$here/../lib/npm-ci.sh" "$here" oidc-provider jose
