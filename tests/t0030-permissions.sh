#!/bin/sh
# Invariant 3: state files 0600, directories 0700; janee refuses state
# that group or others can read or write, or that someone else owns, and
# says which path and the chmod (or chown) that fixes it.
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home

refuse() { # refuse NAME PATTERN: the last janee run was refused so
	expect_rc 1 "invariant 3: $1 is refused"
	expect_in "$TMP/err" "$2" "$1: the message names the fix"
}

chmod 755 "$JANEE_HOME"
jr status
refuse "a home others can read" "chmod 700 '$JANEE_HOME'"
chmod 700 "$JANEE_HOME"

chmod 644 "$JANEE_HOME/janee.db"
jr status
refuse "a ledger others can read" "chmod 600 '$JANEE_HOME/janee.db'"
chmod 600 "$JANEE_HOME/janee.db"

chmod 620 "$JANEE_HOME/config.json"
jr status
refuse "a config the group can write" "chmod 600 '$JANEE_HOME/config.json'"
chmod 600 "$JANEE_HOME/config.json"

chmod 640 "$JANEE_HOME/master.key"
jr status
refuse "a key file the group can read" "chmod 600 '$JANEE_HOME/master.key'"
chmod 600 "$JANEE_HOME/master.key"

jr status
expect_rc 0 "fixed permissions are accepted again"

# The limits exactly: 0700 and 0600 pass (above); one bit more does not,
# execute bits included (a home the group may enter, 0710).
for mode in 710 701 750; do
	chmod "$mode" "$JANEE_HOME"
	jr status
	refuse "a home of mode $mode" "chmod 700 '$JANEE_HOME'"
done
chmod 700 "$JANEE_HOME"
for mode in 610 601 640; do
	chmod "$mode" "$JANEE_HOME/janee.db"
	jr status
	refuse "a ledger of mode $mode" "chmod 600 '$JANEE_HOME/janee.db'"
done
chmod 600 "$JANEE_HOME/janee.db"

# The ledger's WAL and shared-memory files hold its latest pages.
for x in -wal -shm; do
	: >"$JANEE_HOME/janee.db$x"
	chmod 644 "$JANEE_HOME/janee.db$x"
	jr status
	refuse "a ledger$x file others can read" "chmod 600 '$JANEE_HOME/janee.db$x'"
	rm -f "$JANEE_HOME/janee.db$x"
done

# Symbolic links in place of the home, the config and the key file.
mv "$JANEE_HOME" "$TMP/real-home"
ln -s "$TMP/real-home" "$JANEE_HOME"
jr status
refuse "a home that is a symbolic link" "not a directory"
rm "$JANEE_HOME"
mv "$TMP/real-home" "$JANEE_HOME"
for f in config.json master.key; do
	mv "$JANEE_HOME/$f" "$TMP/real-$f"
	ln -s "$TMP/real-$f" "$JANEE_HOME/$f"
	jr status
	refuse "a symlinked $f" "not a regular file"
	rm "$JANEE_HOME/$f"
	mv "$TMP/real-$f" "$JANEE_HOME/$f"
done
jr status
expect_rc 0 "the home is accepted again"

# A ledger owned by someone else (only root can set that up).
if [ "$(id -u)" = 0 ]; then
	chown 65534 "$JANEE_HOME/janee.db"
	jr status
	refuse "a ledger owned by another user" "chown $(id -u)"
	chown 0 "$JANEE_HOME/janee.db"
else
	skip "a ledger owned by another user is refused" "needs root to chown"
fi

# A symbolic link in place of the ledger.
mv "$JANEE_HOME/janee.db" "$TMP/real.db"
ln -s "$TMP/real.db" "$JANEE_HOME/janee.db"
jr status
refuse "a symlinked ledger" "not a regular file"
rm "$JANEE_HOME/janee.db"
mv "$TMP/real.db" "$JANEE_HOME/janee.db"

# Files janee creates are private even under a permissive umask.
umask 000
jr token t --scope read --ttl 1m
expect_rc 0 "token under umask 000"
jr audit export --format csv -o "$TMP/export.csv"
check "export file is 0600 under umask 000" [ "$(stat -c %a "$TMP/export.csv")" = 600 ]
bad=$(find "$JANEE_HOME" -perm /077 | wc -l)
check "every file in the home stays private under umask 000" [ "$bad" -eq 0 ]
export JANEE_HOME="$TMP/fresh"
jr init --key-backend keyfile
check "a home made under umask 000 is 0700" [ "$(stat -c %a "$JANEE_HOME")" = 700 ]
check "the ledger and key file made under umask 000 are 0600" \
    [ "$(stat -c %a "$JANEE_HOME/janee.db" "$JANEE_HOME/master.key" | sort -u)" = 600 ]
jr status
expect_rc 0 "a home made under umask 000 is accepted as it is"

done_testing
