#!/bin/sh
# The generic OAuth 2.0 provider against the fake server (a fixture strict
# to the RFCs with switchable faults): the device grant's interval and
# slow_down, denial and expiry, no polling after success; retries with
# Retry-After; client authentication methods; refresh rotation; RFC 7009
# revocation; token exchange; redacted HTTP traces; and bad answers
# (malformed JSON, HTML errors, oversize bodies, missing fields, redirects,
# a closed connection, a wrong issuer, plain http) that must each give a
# clear error naming the provider and the endpoint, never a token.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/fake-oauth.sh"

fake_oauth_start || { not_ok "the fake OAuth server starts"; exit 1; }
ok "the fake OAuth server starts"
"$JANEE" init --key-backend keyfile >/dev/null 2>&1
printf 'fake-basic-secret' | "$JANEE" secret set basic 2>/dev/null
printf 'fake-post-secret' | "$JANEE" secret set post 2>/dev/null
# The subject of the token exchange: a live token of the fake's.
fake_oauth_grant conf-basic a:read | fake_oauth_json 'j["access_token"]' |
    tr -d '\n' >"$TMP/tok.subject"
"$JANEE" secret set subject <"$TMP/tok.subject" 2>/dev/null

write_fake_config() { # write_fake_config ISSUER
	cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 "dev": {"type": "oauth2", "issuer": "$1", "ca_file": "$FAKE_CA",
   "client_id": "pub", "scopes": ["a:read", "a:write"],
   "login_scopes": ["a:read", "a:write"], "approval": "auto"},
 "cc": {"type": "oauth2", "issuer": "$1", "ca_file": "$FAKE_CA",
   "client_id": "conf-basic", "client_secret": "secret:basic",
   "grant": "client_credentials", "scopes": ["a:read", "b:read"],
   "approval": "auto"},
 "ccpost": {"type": "oauth2", "issuer": "$1", "ca_file": "$FAKE_CA",
   "client_id": "conf-post", "client_secret": "secret:post",
   "auth_method": "client_secret_post", "grant": "client_credentials",
   "scopes": ["a:read"], "approval": "auto"},
 "wrongauth": {"type": "oauth2", "issuer": "$1", "ca_file": "$FAKE_CA",
   "client_id": "conf-basic", "client_secret": "secret:basic",
   "auth_method": "client_secret_post", "grant": "client_credentials",
   "scopes": ["a:read"], "approval": "auto"},
 "xchg": {"type": "oauth2", "issuer": "$1", "ca_file": "$FAKE_CA",
   "client_id": "conf-basic", "client_secret": "secret:basic",
   "grant": "token_exchange", "subject_token": "secret:subject",
   "audience": "api", "scopes": ["a:read"], "approval": "auto"}}}
JSON
	chmod 600 "$JANEE_HOME/config.json"
}
write_fake_config "$FAKE_ISSUER"

calls_json() { fake_oauth_calls "$@" >"$TMP/calls.json"; }
calls_check() { # calls_check NAME PYTHON-EXPR over c (the call list)
	check "$1" "$PYTHON3" -c "
import json, sys
c = json.load(open(sys.argv[1]))
assert $2, c" "$TMP/calls.json"
}
login() { # login: janee login dev, waited for (bounded)
	timeout 60 "$JANEE" login dev --no-browser >"$TMP/login.out" 2>"$TMP/login.err"
}

# The device grant: no interval sent means 5 s.
fake_oauth_control '{"device": {"script": ["ok"]}}' >/dev/null
login
check "login with the default interval" [ $? -eq 0 ]
calls_json /token
calls_check "without an interval janee waits 5 s before polling (RFC 8628 3.2)" \
    '[x["poll"]["waited_ms"] >= 5000 for x in c if "poll" in x] == [True]'

# interval 1, then slow_down: +5 s for this and every later poll.
fake_oauth_control '{"clear_calls": true, "device": {"interval": 1, "script": ["authorization_pending", "slow_down", "authorization_pending", "ok"]}}' >/dev/null
login
check "login through authorization_pending and slow_down" [ $? -eq 0 ]
calls_json /token
calls_check "four polls, none too early" \
    'len([x for x in c if "poll" in x]) == 4 and not any(x["poll"]["too_early"] for x in c if "poll" in x)'
calls_check "after slow_down each poll waits interval + 5 s" \
    '[x["poll"]["waited_ms"] >= 6000 for x in c if "poll" in x][2:] == [True, True]'
calls_json
calls_check "janee never polls again after success" \
    'not any(x.get("note") in ("device_code_reused", "poll_after_end") for x in c)'

fake_oauth_control '{"device": {"interval": 1, "script": ["authorization_pending", "access_denied"]}}' >/dev/null
login
check "a denied login fails" [ $? -ne 0 ]
expect_in "$TMP/login.err" 'the login was denied' "and says it was denied"
fake_oauth_control '{"device": {"interval": 1, "script": ["expired_token"]}}' >/dev/null
login
check "an expired code fails" [ $? -ne 0 ]
expect_in "$TMP/login.err" 'expired' "and says the code expired"

# Refresh rotation: each mint rotates; the rotated token is kept.
fake_oauth_control '{"clear_calls": true, "device": {"interval": 1, "script": ["ok"]}, "revoke": {"access_kills_grant": false}}' >/dev/null
login
for i in 1 2 3; do
	"$JANEE" token dev --scope a:read --ttl 5m >"$TMP/tok.dev.$i" 2>"$TMP/err"
	check "refresh-narrowed token $i" [ -s "$TMP/tok.dev.$i" ]
done
calls_json /token
calls_check "every refresh rotated, none replayed" \
    '[x.get("note") for x in c if x.get("grant_type") == "refresh_token"] == ["rotated"] * 3'
calls_check "each refresh asked for the narrowed scope" \
    '[x.get("scope") for x in c if x.get("grant_type") == "refresh_token"] == ["a:read"] * 3'
jr token dev --scope b:read
expect_rc 1 "a scope outside the policy is refused"
check "and never reaches the server" [ "$(fake_oauth_count /token refresh_token)" -eq 3 ]

# RFC 7009 revocation with the hint, at lease end.
lease=$("$JANEE" lease list --json | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
jr lease revoke "$lease"
expect_rc 0 "lease revoke"
calls_json /revoke
calls_check "revocation sent the token with token_type_hint=access_token" \
    'len(c) == 1 and c[0]["token_type_hint"] == "access_token" and c[0]["revoked"] == "access_token"'
jr provider show dev
expect_in "$TMP/out" 'login: +logged in' "the login survives when the server keeps the grant"

# Finding 8: janee dies between the server's answer and the ledger.  A
# refresh-narrowed token is kept in the login the rotation writes anyway,
# so the next janee command after the stale window finds it, asks the
# introspection endpoint and revokes it (RFC 7662, RFC 7009).
live_access() { fake_oauth_tokens | fake_oauth_json 'j["active_access"]'; }
jr lease revoke --all # what the sweep would end meanwhile: not counted here
live0=$(live_access)
JANEE_TEST_CRASH_AT=after_mint jr token dev --scope a:read --ttl 5m
check "a refresh-narrowed mint cut short after the server's answer (janee killed)" [ "$(rc)" -eq 137 ] && [ ! -s "$TMP/out" ]
cut=$(minting_lease)
check "the server holds its token, live" [ "$(live_access)" -eq $((live0 + 1)) ]
fake_oauth_control '{"clear_calls": true}' >/dev/null
JANEE_TEST_CLOCK_OFFSET=600 jr lease show "$cut"
expect_in "$TMP/out" '^state: +failed' "finding 8 (oauth2): after the stale window the lease is reconciled"
expect_in "$TMP/out" 'janee stopped while minting; 1 token\(s\) the provider issued for this lease were revoked' "saying its token was found and revoked"
check "the token is dead at the server" [ "$(live_access)" -eq "$live0" ]
calls_json
calls_check "checked by introspection, then revoked with token_type_hint=access_token" \
    '[(x["path"], x.get("token_type_hint"), x.get("revoked")) for x in c if x["path"] in ("/introspect", "/revoke")][:2] == [("/introspect", "access_token", None), ("/revoke", "access_token", "access_token")]'
jr provider show dev
expect_in "$TMP/out" 'login: +logged in' "the login lives on"

# Cut short before the server was asked: the stored (rotating) refresh
# token still works, so no token was minted: failed, 0 revoked.
JANEE_TEST_CRASH_AT=after_record jr token dev --scope a:read --ttl 5m
cut=$(minting_lease)
JANEE_TEST_CLOCK_OFFSET=600 jr lease show "$cut"
expect_in "$TMP/out" 'janee stopped while minting; 0 token' "a mint cut short before the request is failed: the refresh token was not used"

# Cut short between the answer and the store: the token cannot be found,
# and the rotated-away refresh token says an answer may have been lost.
live0=$(live_access)
JANEE_TEST_CRASH_AT=after_refresh jr token dev --scope a:read --ttl 5m
cut=$(minting_lease)
JANEE_TEST_CLOCK_OFFSET=600 jr lease show "$cut"
expect_in "$TMP/out" '^state: +orphaned: may be live until 20' "a token lost before it was stored: orphaned, with a time"
expect_in "$TMP/out" 'refresh token no longer works' "saying why"
check "honestly: the server still holds it" [ "$(live_access)" -eq $((live0 + 1)) ]
JANEE_TEST_CLOCK_OFFSET=600 jr lease show "$cut" --json
s=$(lease_span "$TMP/out")
check "until the minting start + 5 min + the server's expires_in (3600 s) seen before" [ "$s" -ge 3900 ] && [ "$s" -le 3910 ]
JANEE_TEST_CLOCK_OFFSET=600 jr status
expect_in "$TMP/out" '1 orphaned \(may be live\)' "status counts the orphan"
jr audit list --event orphaned --lease "$cut"
expect_in "$TMP/out" 'orphaned: may be live until' "the audit says it"
fake_oauth_control '{"device": {"interval": 1, "script": ["ok"]}}' >/dev/null
login
check "log in again after the lost rotation" [ $? -eq 0 ]

# Client authentication methods.
fake_oauth_control '{"clear_calls": true}' >/dev/null
jr token cc --scope a:read --scope b:read --ttl 5m
expect_rc 0 "client credentials, client_secret_basic"
jr token ccpost --scope a:read --ttl 5m
expect_rc 0 "client credentials, client_secret_post"
calls_json /token
calls_check "basic and post were used as configured" \
    '[x["auth"] for x in c] == ["basic", "post"]'
jr token wrongauth --scope a:read
expect_rc 1 "the wrong auth method is refused by the server"
expect_in "$TMP/err" "provider 'wrongauth': token endpoint refused: invalid_client" "with the server's error"

# A client_credentials token is kept nowhere but in its lease: cut short,
# the lease is orphaned until the lifetime the ledger saw (3600 s) + 5 min.
jr lease revoke --all
live0=$(live_access)
JANEE_TEST_CRASH_AT=after_mint jr token cc --scope a:read --ttl 5m
cut=$(minting_lease)
JANEE_TEST_CLOCK_OFFSET=600 jr lease show "$cut"
expect_in "$TMP/out" '^state: +orphaned: may be live until 20' "finding 8 (client_credentials): orphaned, with a time"
expect_in "$TMP/out" 'client_credentials token is kept nowhere but in its lease' "saying why it cannot be found"
check "and its token is indeed live at the server" [ "$(live_access)" -eq $((live0 + 1)) ]
JANEE_TEST_CLOCK_OFFSET=600 jr lease show "$cut" --json
s=$(lease_span "$TMP/out")
check "until the minting start + 5 min + the lifetime seen at earlier mints" [ "$s" -ge 3900 ] && [ "$s" -le 3910 ]

# Token exchange.
fake_oauth_control '{"clear_calls": true}' >/dev/null
jr token xchg --scope a:read --ttl 5m
expect_rc 0 "token exchange (RFC 8693)"
calls_json /token
calls_check "exchange sent subject_token_type and audience" \
    'c[0]["subject_token_type"] == "urn:ietf:params:oauth:token-type:access_token" and c[0]["audience"] == ["api"]'

# Invariant 8: a server that grants more than asked.  The extra scope
# comes last in its answer (the first is the one asked); every grant
# type is held to the request, and the wider token is revoked at once.
alive() { fake_oauth_tokens | fake_oauth_json 'j["active_access"]'; }
for p in cc xchg; do
	fake_oauth_control '{"clear_calls": true, "token": {"widen_scope": "b:read"}}' >/dev/null
	live=$(alive)
	jr token "$p" --scope a:read --ttl 5m
	expect_rc 1 "invariant 8, $p: a grant one scope wider than asked is refused"
	check "invariant 8, $p: no token on stdout" [ ! -s "$TMP/out" ]
	expect_in "$TMP/err" "granted scope 'b:read', which was not asked for" "invariant 8, $p: the error names the extra scope"
	check "invariant 8, $p: the wider token was revoked at once" [ "$(fake_oauth_count /revoke)" -eq 1 -a "$(alive)" -eq "$live" ]
done
fake_oauth_control '{"clear_calls": true, "token": {"widen_scope": "a:write"}}' >/dev/null
jr token dev --scope a:read --ttl 5m
expect_rc 1 "invariant 8, refresh narrowing: a wider answer is refused"
expect_in "$TMP/err" "granted scope 'a:write', which was not asked for" "invariant 8, refresh narrowing: naming the scope"
fake_oauth_control '{"token": {"widen_scope": null}}' >/dev/null
jr token cc --scope a:read --scope b:read --ttl 5m
expect_rc 0 "invariant 8: a grant of exactly what was asked (the control)"

# Retries: a 503 with Retry-After is retried; a 429 storm ends bounded.
fake_oauth_control '{"clear_calls": true}' >/dev/null
fake_oauth_fault /token retry_503 1 >/dev/null
jr token cc --scope a:read --ttl 5m
expect_rc 0 "a 503 with Retry-After is retried and succeeds"
check "exactly one retry" [ "$(fake_oauth_count /token)" -eq 2 ]
fake_oauth_control '{"clear_calls": true}' >/dev/null
fake_oauth_fault /token rate_429 10 >/dev/null
jr token cc --scope a:read --ttl 5m
expect_rc 1 "a server that keeps answering 429 fails"
check "after a bounded number of tries" [ "$(fake_oauth_count /token)" -eq 3 ]
fake_oauth_control '{"clear_faults": true}' >/dev/null

# Bad answers: each a clear error naming provider and endpoint.
bad() { # bad KIND PATTERN [COUNT]
	# libcurl itself retries once when a reused connection dies silently.
	fake_oauth_fault /token "$1" "${3:-1}" >/dev/null
	jr token cc --scope a:read --ttl 5m
	expect_rc 1 "$1: janee token fails"
	check "$1: no token on stdout" [ ! -s "$TMP/out" ]
	expect_in "$TMP/err" "provider 'cc'.*token endpoint.*$2" "$1: the error names provider, endpoint and cause"
}
bad malformed_json 'malformed JSON'
bad html_500 'HTTP 500 with text/html'
bad status_500_json 'HTTP 500'
bad missing_field 'no access_token'
bad oversize 'larger than'
bad redirect 'redirect'
bad close 'Server returned nothing' 2
bad wrong_content_type 'not a JSON document'
jr lease list --all --json
check "failed mints are recorded as failed leases" "$PYTHON3" -c '
import json, sys
assert sum(1 for l in json.load(open(sys.argv[1])) if l["state"] == "failed") >= 8' "$TMP/out"

# A discovery document naming another issuer is refused.
fake_oauth_start --issuer-override "https://evil.example" >/dev/null
write_fake_config "$FAKE_ISSUER"
jr token cc --scope a:read
expect_rc 1 "a discovery document with the wrong issuer is refused"
expect_in "$TMP/err" "names issuer 'https://evil.example', not the configured" "and the error says why"

# Plain http: allowed to loopback only.
fake_oauth_start --plain-http >/dev/null
write_fake_config "$FAKE_ISSUER"
jr token cc --scope a:read --ttl 5m
expect_rc 0 "plain http to 127.0.0.1 is allowed"
sed -i "s#$FAKE_ISSUER#http://auth.example.com#" "$JANEE_HOME/config.json"
jr provider list
expect_rc 1 "plain http to another host is refused when the config loads"
expect_in "$TMP/err" "plain http to 'auth.example.com' is refused" "and the error says to use https"

# JANEE_DEBUG=http traces requests with credentials redacted.
write_fake_config "$FAKE_ISSUER"
JANEE_DEBUG=http "$JANEE" token cc --scope a:read --ttl 5m >"$TMP/tok.trace" 2>"$TMP/trace.err"
expect_in "$TMP/trace.err" '> POST .*/token \(basic auth: \[redacted\]\)' "the trace shows the request, auth redacted"
expect_in "$TMP/trace.err" '"access_token":"\[redacted\]"' "the trace redacts the token in the answer"
check "the trace holds neither the token nor the secret" sh -c \
    "! grep -qaF -f '$TMP/tok.trace' '$TMP/trace.err' && ! grep -qa fake-basic-secret '$TMP/trace.err'"
# A form that carries a credential: client_secret_post.
JANEE_DEBUG=http "$JANEE" token ccpost --scope a:read --ttl 5m >"$TMP/tok.trace2" 2>"$TMP/trace2.err"
expect_in "$TMP/trace2.err" 'body: .*client_secret=\[redacted\]' "the trace redacts client_secret in a form body"
check "the form's trace holds neither the secret nor the token" sh -c \
    "! grep -qa fake-post-secret '$TMP/trace2.err' && ! grep -qaF -f '$TMP/tok.trace2' '$TMP/trace2.err'"

# Leak check over everything janee printed and stored here.
cat "$TMP"/tok.* >"$TMP/needles"
printf 'fake-basic-secret\nfake-post-secret\n' >>"$TMP/needles"
if grep -rqaFf "$TMP/needles" "$TMP/err" "$TMP/out" "$TMP/login.err" \
    "$TMP/trace.err" "$TMP/trace2.err" "$JANEE_HOME"; then
	not_ok "invariant 1: no token or secret in janee's output or state"
else
	ok "invariant 1: no token or secret in janee's output or state"
fi

done_testing
