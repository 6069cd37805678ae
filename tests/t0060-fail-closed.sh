#!/bin/sh
# Invariant 5, fail closed, end to end: on a full disk and on a read-only
# filesystem `janee token` returns no token, the provider is never asked,
# and no row is lost; afterwards the ledger works and its chain verifies.
# Needs root to mount a small tmpfs; skipped (and said so) otherwise.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/agent.sh"

SMALL="$TMP/small"
mkdir -p "$SMALL"
if ! mount -t tmpfs -o size=512k,mode=700 tmpfs "$SMALL" 2>/dev/null; then
	skip "fail closed on a full disk" "cannot mount a tmpfs here (needs root)"
	skip "fail closed on a read-only filesystem" "cannot mount a tmpfs here (needs root)"
	exit 0
fi
# The background agent keeps files of the home open: stop it before the
# filesystem is remounted or unmounted.
trap 'capture_keep; agent_stop; umount "$SMALL" 2>/dev/null; rm -rf "$TMP"' EXIT

export JANEE_HOME="$SMALL/janee"
setup_home
jr token t --ttl 10m
expect_rc 0 "a token before the disk fills"
leases_before=$("$JANEE" lease list --all --json | "$PYTHON3" -c 'import json,sys; print(len(json.load(sys.stdin)))')
mints_before=$(mints)

# Fill the filesystem.
dd if=/dev/zero of="$SMALL/filler" bs=4k 2>/dev/null
jr token t --ttl 10m
check "invariant 5, full disk: janee token fails" [ "$(rc)" -ne 0 ]
check "invariant 5, full disk: no token on stdout" [ ! -s "$TMP/out" ]
expect_in "$TMP/err" 'full|space' "invariant 5, full disk: the error says the disk is full"
check "invariant 5, full disk: the provider was never asked" [ "$(mints)" -eq "$mints_before" ]

# Read-only filesystem.
rm -f "$SMALL/filler"
agent_stop
mount -o remount,ro "$SMALL"
jr token t --ttl 10m
check "invariant 5, read-only: janee token fails" [ "$(rc)" -ne 0 ]
check "invariant 5, read-only: no token on stdout" [ ! -s "$TMP/out" ]
check "invariant 5, read-only: the provider was never asked" [ "$(mints)" -eq "$mints_before" ]
mount -o remount,rw "$SMALL"

jr audit verify
expect_rc 0 "afterwards the audit chain verifies"
jr lease list --all --json
check "no lease row was lost" "$PYTHON3" -c '
import json, sys
assert len(json.load(open(sys.argv[1]))) == int(sys.argv[2])' "$TMP/out" "$leases_before"
jr token t --ttl 10m
expect_rc 0 "with space again, tokens are issued"

done_testing
