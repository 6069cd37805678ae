#!/bin/sh
# Install the browser tests' npm dependency (tests/browser/node_modules):
# playwright-core, pinned by package-lock.json, which drives Debian's
# chromium (/usr/bin/chromium) and downloads no browser of its own; see
# tests/lib/npm-ci.sh.
#
# usage: sh tests/browser/install.sh
here=$(cd "$(dirname "$0")" && pwd) || exit 1
exec sh "$here/../lib/npm-ci.sh" "$here" playwright-core
