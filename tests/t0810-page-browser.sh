#!/bin/sh
# janee's approval page in a real browser: Debian's chromium, headless,
# driven by playwright-core (pinned in tests/browser/package-lock.json;
# it downloads no browser), with the MCP SDK client asking through
# janee serve with elicitation.url.  The person opens the page from the
# URL elicitation and approves with a shorter lifetime (the tool result
# arrives), denies with a reason; a reused capability, a wrong Host and
# a page of another origin posting to janee are refused; on the page of
# janee approvals --open a session grant is given and an active lease
# revoked.  Screenshots go to $JANEE_BUILDDIR/screenshots, and to docs/
# with JANEE_UPDATE_SCREENSHOTS=1.  The scenarios are
# tests/browser/page.mjs.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/page.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if ! command -v node >/dev/null 2>&1 || [ ! -x "$CHROMIUM" ]; then
	skip "the approval page in a browser" \
	    "needs node and Debian's chromium ($CHROMIUM)"
	exit 0
fi
for d in mcp browser; do
	if sh "$JANEE_SRCDIR/tests/$d/install.sh"; then
		ok "tests/$d's npm packages are installed"
	else
		not_ok "tests/$d's npm packages are installed"
		exit 1
	fi
done

"$JANEE" init --key-backend keyfile >/dev/null 2>&1
mkdir -p "$TMP/prov"
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {"gh": {"type": "test", "state_dir": "$TMP/prov",
  "approval": "ask", "scopes": ["issues:read", "issues:write"],
  "max_ttl": "1h", "approval_wait": "90s", "session_grant_max": "30m"}}}
JSON
chmod 600 "$JANEE_HOME/config.json"

page_start
check "janee approvals --open serves a person's page" [ -n "$PAGE_LINK" ]
SHOTS="$JANEE_BUILDDIR/screenshots"
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
export JANEE TMP SHOTS CHROMIUM PAGE_LINK
node "$JANEE_SRCDIR/tests/browser/page.mjs" 2>"$TMP/node.err"
status=$?
cat "$TMP/node.err" >&2
check "the browser scenarios exit 0" [ "$status" -eq 0 ]
page_stop

png() { # png FILE: a PNG of a page, not an empty one
	[ -f "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = \
	    89504e470d0a1a0a ] && [ "$(wc -c <"$1")" -gt 20000 ]
}
check "a screenshot of a pending request" png "$SHOTS/approval-page-pending.png"
check "a screenshot of active leases" png "$SHOTS/approval-page-leases.png"
if [ "${JANEE_UPDATE_SCREENSHOTS:-0}" = 1 ]; then
	cp "$SHOTS"/approval-page-*.png "$JANEE_SRCDIR/docs/"
fi

jr audit list --json
check "no token in the audit rows" sh -c '! grep -qaFf "$1" "$2"' sh \
    "$TMP/tokens" "$TMP/out"
jr audit verify
expect_rc 0 "the audit chain verifies"
done_testing
