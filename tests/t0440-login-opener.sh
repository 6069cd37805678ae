#!/bin/sh
# janee login starts the browser with nothing of janee's (issue 12,
# finding 3): the opener (a fake xdg-open first in PATH, which writes
# down its environment and descriptors) gets no JANEE_PASSPHRASE, no
# JANEE_NEW_PASSPHRASE, no variable a secret reference of the config
# reads, and no descriptor but 0, 1 and 2 (not the --passphrase-fd file).
# And a provider's verification_uri is shown and opened only when it is
# printable https (or http to loopback): javascript:, plain http to
# another host and an escape sequence are refused, never printed.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/fake-oauth.sh"

if ! command -v script >/dev/null 2>&1; then
	skip "janee login's browser opener" "script(1) is not installed"
	exit 0
fi
fake_oauth_start || { not_ok "the fake OAuth server starts"; exit 1; }

PASS="opener must not see this passphrase"
leak_secret passphrase "$PASS"
printf '%s' "$PASS" >"$TMP/pass"
JANEE_NEW_PASSPHRASE="$PASS" "$JANEE" init >/dev/null 2>&1 ||
    { not_ok "janee init with a passphrase"; exit 1; }
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 "dev": {"type": "oauth2", "issuer": "$FAKE_ISSUER", "ca_file": "$FAKE_CA",
   "client_id": "pub", "scopes": ["a:read"], "login_scopes": ["a:read"],
   "approval": "auto"},
 "cc": {"type": "oauth2", "issuer": "$FAKE_ISSUER", "ca_file": "$FAKE_CA",
   "client_id": "conf-basic", "client_secret": "env:CC_LONGLIVED_SECRET",
   "grant": "client_credentials", "scopes": ["a:read"], "approval": "auto"}}}
JSON
chmod 600 "$JANEE_HOME/config.json"

# The fake opener: its environment and its shell's descriptors.
mkdir -p "$TMP/bin" "$TMP/opened"
cat >"$TMP/bin/xdg-open" <<'SH'
#!/bin/sh
n=$$
env >"$TMP_OPENED/env.$n"
ls /proc/$$/fd >"$TMP_OPENED/fds.$n"
printf '%s\n' "$1" >"$TMP_OPENED/url.$n"
SH
sed -i "s|\$TMP_OPENED|$TMP/opened|g" "$TMP/bin/xdg-open"
chmod 755 "$TMP/bin/xdg-open"
# The same script run with only 0, 1 and 2 open: what a clean start sees.
mkdir -p "$TMP/plain"
"$PYTHON3" -c '
import subprocess, sys
subprocess.run(["sh", sys.argv[1], "x"], stdin=subprocess.DEVNULL,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
               close_fds=True, check=True)' "$TMP/bin/xdg-open"
plain_fds=$(cat "$TMP"/opened/fds.* | tr '\n' ' ')
rm -f "$TMP"/opened/*

# login_tty: janee login dev on a terminal (script(1)), Enter pressed
# after the code is shown, so that janee opens the browser.
login_tty() {
	(sleep 3; printf '\n') |
	    PATH="$TMP/bin:$PATH" JANEE_PASSPHRASE="$PASS" \
	    JANEE_NEW_PASSPHRASE="$PASS" CC_LONGLIVED_SECRET=cc-longlived-value \
	    VAULT_TOKEN=not-used-here \
	    timeout 60 script -qec "'$JANEE' login dev --passphrase-fd 7 7<'$TMP/pass'" \
	    /dev/null >"$TMP/login.tty" 2>&1
}

fake_oauth_control '{"device": {"interval": 1, "script": ["authorization_pending", "authorization_pending", "authorization_pending", "authorization_pending", "authorization_pending", "ok"]}}' >/dev/null
login_tty
check "janee login on a terminal succeeds" [ $? -eq 0 ]
check "the browser was opened once" [ "$(ls "$TMP"/opened/env.* 2>/dev/null | wc -l)" -eq 1 ]
envf=$(ls "$TMP"/opened/env.* 2>/dev/null | head -1)
fdsf=$(ls "$TMP"/opened/fds.* 2>/dev/null | head -1)
urlf=$(ls "$TMP"/opened/url.* 2>/dev/null | head -1)
check "the opener was given the verification address" \
    grep -q "^$FAKE_ISSUER/device" "${urlf:-/dev/null}"
expect_not_in "${envf:-/dev/null}" '^JANEE_' \
    "invariant (finding 3): no JANEE_ variable (passphrases) reaches the browser opener"
expect_not_in "${envf:-/dev/null}" "$PASS" "the passphrase is nowhere in the opener's environment"
expect_not_in "${envf:-/dev/null}" '^CC_LONGLIVED_SECRET=' \
    "a variable that a secret reference of the config reads does not reach it"
expect_not_in "${envf:-/dev/null}" '^VAULT_TOKEN=' "nor a Vault token"
expect_in "${envf:-/dev/null}" "^PATH=$TMP/bin:" "the opener keeps PATH (allow-list)"
expect_in "${envf:-/dev/null}" "^HOME=$HOME\$" "and HOME"
opener_fds=$(tr '\n' ' ' <"${fdsf:-/dev/null}")
if [ -n "$opener_fds" ] && [ "$opener_fds" = "$plain_fds" ]; then
	ok "invariant (finding 3): the opener inherits no descriptor of janee's (only 0, 1, 2)"
else
	not_ok "invariant (finding 3): the opener inherits no descriptor of janee's (only 0, 1, 2)"
	echo "  clean start: $plain_fds; from janee login: $opener_fds" >&2
fi

# verification_uri a browser must not be sent to, nor a terminal shown.
bad_uri() { # bad_uri NAME URI PATTERN
	rm -f "$TMP"/opened/*
	fake_oauth_control "{\"device\": {\"interval\": 1, \"script\": [\"authorization_pending\"], \"verification_uri\": \"$2\"}}" >/dev/null
	login_tty
	check "$1: the login fails" [ $? -ne 0 ]
	check "$1: nothing is opened" [ -z "$(ls "$TMP/opened")" ]
	expect_in "$TMP/login.tty" "$3" "$1: janee says why"
	check "$1: the address is not printed" sh -c '! grep -qF "$1" "$2"' sh "$4" "$TMP/login.tty"
	check "$1: no escape character reaches the terminal" \
	    sh -c '! LC_ALL=C grep -q "$(printf "\033")" "$1"' sh "$TMP/login.tty"
}
bad_uri "invariant (finding 3): a javascript: verification_uri" 'javascript:alert(1)' \
    "verification_uri is not an https:// address" 'alert(1)'
bad_uri "plain http to another host" 'http://device.example.com/activate' \
    "verification_uri: plain http to 'device.example.com' is refused" 'device.example.com/activate'
bad_uri "an escape sequence in the address" 'https://x.example/\u001b]8;;https://evil.example\u0007' \
    'verification_uri holds a character that is not printable ASCII' 'evil.example'
bad_uri "a bidi override in the address" 'https://x.example/\u202egpj.exe' \
    'verification_uri holds a character that is not printable ASCII' 'gpj.exe'

done_testing
