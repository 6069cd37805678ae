#!/bin/sh
# How janee serve reaches a person, per client: URL-mode elicitation to
# janee's page for a client that declares elicitation.url (preferred to
# a form; the page's answer decides, notifications/elicitation/complete
# follows, -32042 for a request still waiting there; the 2026-07-28
# era's input_required), a form for a form-only client, and for a client
# with neither a desktop notification (a fake
# org.freedesktop.Notifications server on a private session bus) with
# janee approve completing the call, or the notification's action
# opening the page; require_out_of_band never approved through a
# client's link.  And quiet without a bus, or with no notification
# server on it.  The scenarios are tests/mcp/url.mjs.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/page.sh"

if ! command -v node >/dev/null 2>&1; then
	skip "URL-mode elicitation" "node is not installed"
	exit 0
fi
if sh "$JANEE_SRCDIR/tests/mcp/install.sh"; then
	ok "the MCP SDK is installed (tests/mcp/install.sh)"
else
	not_ok "the MCP SDK is installed (tests/mcp/install.sh)"
	exit 1
fi

"$JANEE" init --key-backend keyfile >/dev/null 2>&1
mkdir -p "$TMP/prov"
prov() { # prov NAME APPROVAL [EXTRA]
	printf '"%s": {"type": "test", "state_dir": "%s", "approval": "%s",
  "scopes": ["read", "write"], "max_ttl": "1h" %s}' \
		"$1" "$TMP/prov" "$2" "${3:-}"
}
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 $(prov ask ask ', "approval_wait": "60s"'),
 $(prov askshort ask ', "approval_wait": "2s"'),
 "sens": {"type": "test", "state_dir": "$TMP/prov", "approval": "ask",
   "scopes": ["issues:read", "issues:write"], "max_ttl": "1h",
   "require_out_of_band": ["*:write"], "approval_wait": "60s"}}}
JSON
chmod 600 "$JANEE_HOME/config.json"

# A fake xdg-open: what janee opened for the person.
mkdir -p "$TMP/bin"
cat >"$TMP/bin/xdg-open" <<EOF
#!/bin/sh
printf '%s\n' "\$1" >>"$TMP/opened"
EOF
chmod +x "$TMP/bin/xdg-open"

# A private session bus and a fake notification server on it (Debian's
# python3 with python3-dbus and python3-gi).
NPY=/usr/bin/python3
notify_ok=0
if command -v dbus-daemon >/dev/null 2>&1 && [ -x "$NPY" ] &&
    "$NPY" -c 'import dbus, gi' 2>/dev/null; then
	dbus-daemon --session --fork --nopidfile --print-address=1 \
	    --print-pid=1 >"$TMP/dbus.info" 2>"$TMP/dbus.err" && notify_ok=1
fi
if [ "$notify_ok" = 1 ]; then
	bus=$(sed -n 1p "$TMP/dbus.info")
	dbus_pid=$(sed -n 2p "$TMP/dbus.info")
	DBUS_SESSION_BUS_ADDRESS=$bus "$NPY" \
	    "$JANEE_SRCDIR/tests/fixtures/fake_notify.py" "$TMP/notify.log" \
	    "$TMP/notify.ready" 2>"$TMP/notify.err" &
	notify_pid=$!
	trap 'kill $notify_pid $dbus_pid 2>/dev/null; capture_keep; rm -rf "$TMP"' EXIT
	n=0
	until [ -e "$TMP/notify.ready" ] || [ $n -ge 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	check "the fake notification server owns its name" [ -e "$TMP/notify.ready" ]
else
	skip "desktop notifications" \
	    "needs dbus-daemon and /usr/bin/python3 with python3-dbus, python3-gi"
fi

if [ "$notify_ok" = 1 ]; then
	export DBUS_SESSION_BUS_ADDRESS="$bus" NOTIFY_LOG="$TMP/notify.log" \
	    NOTIFY_PID="$notify_pid"
fi
export JANEE TMP OPENED="$TMP/opened" PATH="$TMP/bin:$PATH"
node "$JANEE_SRCDIR/tests/mcp/url.mjs" 2>"$TMP/node.err"
status=$?
cat "$TMP/node.err" >&2
check "the URL-mode scenarios exit 0" [ "$status" -eq 0 ]
unset DBUS_SESSION_BUS_ADDRESS NOTIFY_LOG

# No bus at all, then a bus with no notification server: the request
# waits for janee approve all the same, and nothing is said about it.
quiet_wait() { # quiet_wait NAME: one request from a client with neither
	serve_open "$1"
	printf '%s\n' '{"jsonrpc":"2.0","method":"notifications/initialized"}' >&6
	printf '%s\n' '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"request_token","arguments":{"provider":"ask","scopes":["read"],"reason":"quiet"}}}' >&6
	n=0
	until grep -q "waits for your approval" "$TMP/serve.err" ||
	    [ $n -ge 300 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	lid=$(sed -n 's/.*lease \(lse_[a-z2-7]*\) for .* waits.*/\1/p' \
	    "$TMP/serve.err" | head -n 1)
	jr approve "$lid"
	n=0
	until grep -q '"id":2,' "$TMP/serve.out" || [ $n -ge 300 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	serve_close
}
quiet_wait no-bus
check "no session bus: janee approve completes the call" \
    grep -q '"id":2,"result":{.*"token":"tst_' "$TMP/serve.out"
check "and janee serve says nothing but where to approve" \
    [ "$(grep -cv "waits for your approval" "$TMP/serve.err")" -eq 0 ]
if [ "$notify_ok" = 1 ]; then
	kill $notify_pid
	wait $notify_pid 2>/dev/null
	export DBUS_SESSION_BUS_ADDRESS="$bus"
	quiet_wait no-server
	check "a bus with no notification server: janee approve completes it" \
	    grep -q '"id":2,"result":{.*"token":"tst_' "$TMP/serve.out" ||
	    { sed 's/^/  | /' "$TMP/serve.out" "$TMP/serve.err" "$TMP/err" >&2; }
	check "and nothing more is said" \
	    [ "$(grep -cv "waits for your approval" "$TMP/serve.err")" -eq 0 ]
	unset DBUS_SESSION_BUS_ADDRESS
fi
grep -o '"token":"[^"]*"' "$TMP/serve.out" | sed 's/"token":"//; s/"$//' \
    >>"$TMP/tokens"

jr audit verify
expect_rc 0 "the audit chain verifies"
if [ -s "$TMP/tokens" ]; then
	jr audit list --json
	check "no token in the audit rows" \
	    sh -c '! grep -qaFf "$1" "$2"' sh "$TMP/tokens" "$TMP/out"
fi
done_testing
