#!/bin/sh
# janee's approval page over HTTP, served by `janee approvals --open
# --no-browser` and spoken to with curl: the one-time link and the
# session it opens; the headers on every answer; what is refused (a
# spent or made-up link, no session, a wrong Host, another origin,
# another site, a missing or wrong CSRF token, a bad form, another uid);
# approving with a shorter lifetime, denying with a reason, revoking an
# active lease, a session grant given and revoked there; the agent's text
# escaped; no token on the page; `approvals --watch`; and `approvals
# --open` opening the browser through a scrubbed xdg-open.
# The real browser is tests/t0810-page-browser.sh.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/page.sh"

command -v curl >/dev/null 2>&1 || {
	skip "the approval page" "curl is not installed"
	exit 0
}
setup_home '"approval": "out-of-band", "approval_wait": "2m",
  "session_grant_max": "30m",'

page_start
expect_in "$TMP/page.err" \
    "serving the approval page at http://127.0.0.1:[0-9]+; Ctrl-C to stop" \
    "approvals --open says where it serves and how to stop"
check "with --no-browser it prints a one-time link on stdout" \
    sh -c 'printf "%s\n" "$1" | grep -Eq "^http://127\.0\.0\.1:[0-9]+/open\?c=[A-Za-z0-9_-]{43}$"' \
    sh "$PAGE_LINK"

# Loopback only: the kernel's own table of listening sockets (state 0A)
# for the page's port holds 127.0.0.1 (0100007F) and nothing else, not
# 0.0.0.0 nor any IPv6 address, so no other host can reach the page.
listeners() { # listeners PORT: "ADDRESS" per listening socket on PORT
	_hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
	    awk -v p=":$_hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print substr($2, 1, length($2) - 5) }'
}
check "invariant (page): it listens on 127.0.0.1 only, no other address" \
    [ "$(listeners "$PAGE_PORT" | sort -u)" = 0100007F ]

# --- sessions, the link, the headers --------------------------------
code=$(page_get "$TMP/nojar")
check "without a session the page is refused (403)" [ "$code" = 403 ]
expect_in "$TMP/page.html" "not signed in" "saying how to get one"
expect_not_in "$TMP/page.html" "csrf" "and showing no form"

code=$(page_open "$PAGE_LINK" "$TMP/jar")
check "the link opens a session: 303 to /" \
    sh -c '[ "$1" = 303 ] && grep -qi "^location: /" "$2"' sh "$code" \
    "$TMP/open.hdr"
expect_in "$TMP/open.hdr" \
    "^Set-Cookie: janee_page_$PAGE_PORT=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict" \
    "the session cookie is HttpOnly, SameSite=Strict, named for the port"
check "the capability is not the session's cookie" \
    sh -c '! grep -qF "${1#*c=}" "$2"' sh "$PAGE_LINK" "$TMP/jar"
code=$(page_open "$PAGE_LINK" "$TMP/jar2")
check "a spent link is refused (403)" [ "$code" = 403 ]
curl -s -b "$TMP/nojar" "$PAGE_LINK" >"$TMP/spent.html"
expect_in "$TMP/spent.html" "used already" "saying it was used"
code=$(page_open "$PAGE_ORIGIN/open?c=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
    "$TMP/jar3")
check "a made-up link is refused (403)" [ "$code" = 403 ]
check "and opens no session" sh -c '! grep -q janee_page "$1"' sh "$TMP/jar3"

code=$(page_get "$TMP/jar")
check "the session sees the page (200)" [ "$code" = 200 ]
headers_ok() { # headers_ok FILE
	grep -qi "^content-security-policy: default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]*'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'" "$1" &&
	    grep -qi '^x-frame-options: DENY' "$1" &&
	    grep -qi '^referrer-policy: no-referrer' "$1" &&
	    grep -qi '^cache-control: no-store' "$1" &&
	    grep -qi '^x-content-type-options: nosniff' "$1"
}
check "the page forbids everything external, framing, referrers, caching" \
    headers_ok "$TMP/page.hdr"
check "so does the link's redirect" headers_ok "$TMP/open.hdr"
page_get "$TMP/nojar" >/dev/null
check "and a refusal" headers_ok "$TMP/page.hdr"
check "no script, no external resource on the page" \
    sh -c '! grep -Eiq "<script|src=|<link|https?://[^1]" "$1"' sh "$TMP/page.html"
code=$(page_get "$TMP/jar" /nowhere)
check "an unknown path: 404" [ "$code" = 404 ]
code=$(page_post "$TMP/jar" / "x=1")
check "POST /: 405" [ "$code" = 405 ]
code=$(page_get "$TMP/jar" /approve)
check "GET /approve: 404 (state changes are POSTs)" [ "$code" = 404 ]

# --- where a request comes from ---------------------------------------
code=$(page_get "$TMP/jar" / -H "Host: attacker.example:$PAGE_PORT")
check "DNS rebinding: a wrong Host is refused (403)" [ "$code" = 403 ]
expect_not_in "$TMP/page.html" "csrf" "and shows nothing of the page"
code=$(page_get "$TMP/jar" / -H "Host: localhost:$PAGE_PORT")
check "Host localhost (not the page's own address) is refused" \
    [ "$code" = 403 ]
code=$(page_get "$TMP/jar" / -H "Sec-Fetch-Site: cross-site")
check "another site showing the page is refused" [ "$code" = 403 ]
code=$(page_get "$TMP/jar" / -H "Sec-Fetch-Site: none")
check "a link opened from outside the browser shows it" [ "$code" = 200 ]

token_bg a t --scope read --reason "for the page"
lease_a=$tlease
check "a request waits (janee token, out of band)" [ -n "$lease_a" ]
page_get "$TMP/jar" >/dev/null
csrf=$(page_csrf)
check "the page carries a CSRF token in its forms" \
    sh -c '[ ${#1} -eq 43 ]' sh "$csrf"
code=$(page_post "$TMP/jar" /approve "csrf=$csrf&lease=$lease_a" \
    -H "Origin: http://attacker.example")
check "a POST from another origin is refused (403)" [ "$code" = 403 ]
code=$(page_post "$TMP/jar" /approve "csrf=$csrf&lease=$lease_a" \
    -H "Origin: http://127.0.0.1:1")
check "from another port of 127.0.0.1 too" [ "$code" = 403 ]
code=$(page_post "$TMP/jar" /approve "csrf=$csrf&lease=$lease_a" \
    -H "Origin: null")
check "Origin null without Sec-Fetch-Site: same-origin is refused" \
    [ "$code" = 403 ]
code=$(page_post "$TMP/jar" /approve "csrf=$csrf&lease=$lease_a" \
    -H "Origin: null" -H "Sec-Fetch-Site: same-site")
check "a POST from the same site but another origin is refused" \
    [ "$code" = 403 ]
code=$(page_post "$TMP/jar" /approve "lease=$lease_a")
check "a POST without the CSRF token is refused" [ "$code" = 403 ]
code=$(page_post "$TMP/jar" /approve \
    "csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&lease=$lease_a")
check "a POST with a wrong CSRF token is refused" [ "$code" = 403 ]
code=$(page_post "$TMP/nojar" /approve "csrf=$csrf&lease=$lease_a")
check "the CSRF token without the session cookie is refused" \
    [ "$code" = 403 ]
code=$(page_post "$TMP/jar" /approve \
    "csrf=$csrf&lease=$lease_a&lease=$lease_a")
check "a form with a field twice is refused" [ "$code" = 403 ]
big=$(head -c 20000 /dev/zero | tr '\0' a)
code=$(page_post "$TMP/jar" /deny "csrf=$csrf&lease=$lease_a&reason=$big")
check "a form over 16 KiB is refused" [ "$code" = 403 ]
code=$(page_post "$TMP/jar" /approve "csrf=$csrf&lease=$lease_a" \
    -H "Content-Type: multipart/form-data; boundary=x")
check "a multipart body is refused" [ "$code" = 403 ]
check "after all that, the request still waits" \
    [ "$(lease_state "$lease_a")" = requested ]

if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null 2>&1 &&
    id nobody >/dev/null 2>&1; then
	runuser -u nobody -- curl -s -o /dev/null "$PAGE_LINK" 2>/dev/null
	st=$?
	check "another uid is refused: the connection closes unread (curl $st)" \
	    [ "$st" -eq 52 -o "$st" -eq 56 ]
	runuser -u nobody -- curl -s -o /dev/null -H "Cookie: $(sed -n \
	    's/.*\(janee_page_[0-9]*\)	\(.*\)$/\1=\2/p' "$TMP/jar")" \
	    "$PAGE_ORIGIN/" 2>/dev/null
	st=$?
	check "even with the session's cookie (curl $st)" \
	    [ "$st" -eq 52 -o "$st" -eq 56 ]
else
	skip "another uid is refused" "needs root, runuser and user nobody"
fi

# --- deciding ---------------------------------------------------------
code=$(page_post "$TMP/jar" /approve "csrf=$csrf&lease=$lease_a&ttl=2h")
check "approving for longer than asked answers (303)..." [ "$code" = 303 ]
page_get "$TMP/jar" >/dev/null
expect_in "$TMP/page.html" "cannot extend lease $lease_a" \
    "...with the broker's refusal"
check "and the request still waits" [ "$(lease_state "$lease_a")" = requested ]
code=$(page_post "$TMP/jar" /approve "csrf=$csrf&lease=$lease_a&ttl=5m")
check "approve with a shorter lifetime: 303" [ "$code" = 303 ]
wait $tpid
st=$?
check "janee token gets its token" [ "$st" -eq 0 -a -s "$TMP/a.out" ]
check "for the shorter lifetime" [ "$(lease_field "$lease_a" ttl_seconds)" = 300 ]
page_get "$TMP/jar" >/dev/null
expect_in "$TMP/page.html" "Approved $lease_a" "the page says what was done"
cat "$TMP/a.out" >>"$TMP/tokens"

token_bg b t --scope read --reason "to be denied"
lease_b=$tlease
page_get "$TMP/jar" >/dev/null
csrf=$(page_csrf)
code=$(page_post "$TMP/jar" /deny \
    "csrf=$csrf&lease=$lease_b&reason=not+today")
check "deny with a reason: 303" [ "$code" = 303 ]
wait $tpid
check "janee token fails" [ $? -ne 0 ]
expect_in "$TMP/b.err" "denied on janee's page: not today" \
    "saying the page denied it, and why"

# Revoke an active lease (a_'s): its token dies at the provider.
before=$(live_tokens)
code=$(page_post "$TMP/jar" /revoke "csrf=$csrf&lease=$lease_a")
check "revoke an active lease: 303" [ "$code" = 303 ]
check "the lease is revoked" [ "$(lease_state "$lease_a")" = revoked ]
check "and its token is gone at the provider" \
    [ "$(live_tokens)" -eq $((before - 1)) ]

# --- the agent's text, escaped ------------------------------------------
esc=$(printf '\033')
rlo=$(printf '\342\200\256')
token_bg c t --scope read \
    --reason "<script>alert(1)</script> \"quoted\" & ${rlo}evil${esc}[31m
second line"
lease_c=$tlease
page_get "$TMP/jar" >/dev/null
expect_in "$TMP/page.html" "&lt;script&gt;alert\(1\)&lt;/script&gt; &quot;quoted&quot; &amp; " \
    "HTML in a reason is shown as text"
expect_in "$TMP/page.html" '<span class="esc">\\u202e</span>evil<span class="esc">\\x1b</span>\[31m<span class="esc">\\n</span>second line' \
    "bidi, escape and newline characters are shown as visible escapes"
check "no raw U+202E, ESC or <script> reaches the page" \
    sh -c '! grep -qF "$1" "$3" && ! grep -qF "$2" "$3" && ! grep -q "<script" "$3"' \
    sh "$rlo" "$esc" "$TMP/page.html"
expect_in "$TMP/page.html" 'self-reported' "the client's name is marked self-reported"
page_post "$TMP/jar" /deny "csrf=$csrf&lease=$lease_c" >/dev/null
wait $tpid

# --- watch ------------------------------------------------------------
"$JANEE" approvals --watch >"$TMP/watch.out" 2>"$TMP/watch.err" &
wpid=$!
sleep 0.5
token_bg d t --scope read --reason "watched"
lease_d=$tlease
n=0
until grep -q "$lease_d" "$TMP/watch.out" || [ $n -ge 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
expect_in "$TMP/watch.out" "^$lease_d .*provider t, scopes \[\"read\"\]" \
    "approvals --watch prints a request as it arrives"
jr approve "$lease_d"
wait $tpid
n=0
until grep -q "$lease_d  no longer waits" "$TMP/watch.out" || [ $n -ge 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
expect_in "$TMP/watch.out" "^$lease_d  no longer waits: (approved|minting|active)" \
    "and when it stops waiting (approved, or already collected)"
kill $wpid
wait $wpid 2>/dev/null
cat "$TMP/d.out" >>"$TMP/tokens"

# --- session grants on the page ----------------------------------------
# A request from an MCP session, granted on the page for that session.
serve_open grants
printf '%s\n' '{"jsonrpc":"2.0","method":"notifications/initialized"}' >&6
printf '%s\n' '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"request_token","arguments":{"provider":"t","scopes":["read","write"],"ttl_seconds":600,"reason":"grant me"}}}' >&6
n=0
until grep -q "waits for your approval" "$TMP/serve.err" || [ $n -ge 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
lease_g=$(sed -n 's/.*lease \(lse_[a-z2-7]*\) for .* waits.*/\1/p' \
    "$TMP/serve.err" | head -n 1)
page_get "$TMP/jar" >/dev/null
expect_in "$TMP/page.html" '<select name="grant">' \
    "a session's request offers a session grant (session_grant_max)"
csrf=$(page_csrf)
code=$(page_post "$TMP/jar" /approve \
    "csrf=$csrf&lease=$lease_g&ttl=10m&grant=15m")
check "approve with a grant for 15m: 303" [ "$code" = 303 ]
serve_call 3 '{"provider":"t","scopes":["read"],"ttl_seconds":60,"reason":"narrower"}'
check "the session's narrower request is approved without asking" \
    grep -q '"id":3,"result":{.*"token":"tst_' "$TMP/serve.out"
jr lease list --grants --json
grant=$("$PYTHON3" -c 'import json, sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$TMP/out")
page_get "$TMP/jar" >/dev/null
expect_in "$TMP/page.html" "$grant" "the page lists the grant"
code=$(page_post "$TMP/jar" /revoke-grant "csrf=$csrf&grant=$grant")
check "revoke the grant on the page: 303" [ "$code" = 303 ]
jr lease list --grants --all --json
check "the grant is revoked and both its leases ended" "$PYTHON3" -c '
import json, subprocess, sys
g = json.load(open(sys.argv[1]))[0]
assert g["state"] == "revoked", g
for l in g["leases"]:
    s = json.loads(subprocess.run([sys.argv[2], "lease", "show", l, "--json"],
        capture_output=True, text=True).stdout)["state"]
    assert s == "revoked", (l, s)
assert len(g["leases"]) == 2, g' "$TMP/out" "$JANEE"
serve_close
grep -o '"token":"[^"]*"' "$TMP/serve.out" | sed 's/"token":"//; s/"$//' \
    >>"$TMP/tokens"

# --- no token on the page -----------------------------------------------
page_get "$TMP/jar" >/dev/null
check "tokens were issued for the check" [ -s "$TMP/tokens" ]
check "no token anywhere on the page" \
    sh -c '! grep -qaFf "$1" "$2"' sh "$TMP/tokens" "$TMP/page.html"
page_stop

# --- approvals --open opens a browser, scrubbed ---------------------------
mkdir -p "$TMP/bin"
cat >"$TMP/bin/xdg-open" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >"$TMP/opened"
env >"$TMP/opener.env"
ls /proc/self/fd >"$TMP/opener.fds"
EOF
chmod +x "$TMP/bin/xdg-open"
JANEE_PASSPHRASE=do-not-pass PATH="$TMP/bin:$PATH" "$JANEE" approvals --open \
    >"$TMP/open.out" 2>"$TMP/open.err" 3<"$JANEE_HOME/config.json" &
opid=$!
n=0
until [ -s "$TMP/opened" ] || [ $n -ge 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
kill $opid
wait $opid 2>/dev/null
expect_in "$TMP/opened" '^http://127\.0\.0\.1:[0-9]+/open\?c=[A-Za-z0-9_-]{43}$' \
    "approvals --open opens the one-time link with xdg-open"
check "and does not print it" sh -c '! grep -q "open?c=" "$1"' sh "$TMP/open.out"
check "the opener gets no JANEE_* variable" \
    sh -c '! grep -q "^JANEE" "$1"' sh "$TMP/opener.env"
check "and no descriptor but 0, 1 and 2 (janee held 3)" \
    sh -c '[ "$(grep -cvE "^[012]$" "$1")" -le 1 ]' sh "$TMP/opener.fds"

done_testing
