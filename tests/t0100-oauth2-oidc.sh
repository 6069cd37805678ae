#!/bin/sh
# The generic OAuth 2.0 provider against a real authorization server:
# oidc-provider (npm) over HTTPS with a throwaway CA.  Device login
# approved, denied and expired; tokens narrowed by refresh (checked by
# introspection); a widening refused; revocation at lease end; client
# credentials with basic and post client authentication; logout.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/oidc.sh"

if ! command -v node >/dev/null 2>&1; then
	skip "oauth2 against oidc-provider" "node is not installed"
	exit 0
fi
oidc_start || { not_ok "oidc-provider starts"; exit 1; }
ok "oidc-provider starts"

"$JANEE" init --key-backend keyfile >/dev/null 2>&1
printf '%s' "$OIDC_BASIC_SECRET" | "$JANEE" secret set basic-secret 2>/dev/null
printf '%s' "$OIDC_POST_SECRET" | "$JANEE" secret set post-secret 2>/dev/null

write_oidc_config() { # write_oidc_config ISSUER
	cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 "oidc": {"type": "oauth2", "issuer": "$1", "ca_file": "$OIDC_CA",
   "client_id": "janee-public",
   "scopes": ["issues:read", "issues:write", "contents:read"],
   "login_scopes": ["offline_access", "issues:read", "issues:write"],
   "approval": "auto", "max_ttl": "1h"},
 "basic": {"type": "oauth2", "issuer": "$1", "ca_file": "$OIDC_CA",
   "client_id": "janee-basic", "client_secret": "secret:basic-secret",
   "auth_method": "client_secret_basic", "grant": "client_credentials",
   "scopes": ["issues:read", "contents:read"], "approval": "auto"},
 "post": {"type": "oauth2", "issuer": "$1", "ca_file": "$OIDC_CA",
   "client_id": "janee-post", "client_secret": "secret:post-secret",
   "auth_method": "client_secret_post", "grant": "client_credentials",
   "scopes": ["issues:read", "contents:read"], "approval": "auto"},
 "nocafile": {"type": "oauth2", "issuer": "$1", "client_id": "janee-basic",
   "client_secret": "secret:basic-secret", "grant": "client_credentials",
   "scopes": ["issues:read"], "approval": "auto"}}}
JSON
	chmod 600 "$JANEE_HOME/config.json"
}
write_oidc_config "$OIDC_ISSUER"

# login_bg: start `janee login oidc` in the background, wait for its code.
login_bg() { # login_bg [PROVIDER]
	: >"$TMP/login.err" # not left to the background redirection (a race)
	"$JANEE" login "${1:-oidc}" --no-browser >"$TMP/login.out" 2>"$TMP/login.err" &
	LOGIN_PID=$!
	n=0
	until grep -q 'one-time code: ' "$TMP/login.err" || [ $n -ge 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	USER_CODE=$(sed -n 's/.*one-time code: \([A-Z0-9-]*\).*/\1/p' "$TMP/login.err")
}
# login_wait: the login's exit status, waiting at most 40 s.
login_wait() {
	n=0
	while kill -0 "$LOGIN_PID" 2>/dev/null && [ $n -lt 400 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if kill -0 "$LOGIN_PID" 2>/dev/null; then
		kill "$LOGIN_PID"
		wait "$LOGIN_PID"
		return 124
	fi
	wait "$LOGIN_PID"
}
token_file() { # token_file OUT ARGS...: janee token, the token into OUT
	out=$1
	shift
	"$JANEE" token "$@" >"$out" 2>"$TMP/err"
}
introspect() { oidc_introspect "@$1" >"$TMP/intro.json"; }
intro_is() { # intro_is NAME PYTHON-EXPR (d is the introspection)
	check "$1" "$PYTHON3" -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert $2, d" "$TMP/intro.json"
}

jr provider show oidc
expect_in "$TMP/out" 'login: +not logged in' "before login: provider show says not logged in"
jr token oidc --scope issues:read
expect_rc 1 "token before login fails"
expect_in "$TMP/err" 'run: janee login oidc' "and says which command to run"

# Device login, approved.
login_bg
check "login shows a one-time code" [ -n "$USER_CODE" ]
expect_in "$TMP/login.err" "Then open: $OIDC_ISSUER/device" "login shows the verification URL"
check "the person approves the code in the browser" oidc_approve "$USER_CODE"
login_wait
check "janee login succeeds once approved" [ $? -eq 0 ]
expect_in "$TMP/login.err" "logged in to provider 'oidc'" "login says so"
jr provider show oidc
expect_in "$TMP/out" 'login: +logged in' "provider show says logged in"
jr audit list --event login
expect_in "$TMP/out" ' login .* oidc ' "the login is audited"

# Narrowed tokens by refresh.
token_file "$TMP/tokA" oidc --scope issues:read --ttl 10m
check "token narrowed to issues:read" [ -s "$TMP/tokA" ]
leaseA=$(sed -n 's/.*lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/err")
introspect "$TMP/tokA"
intro_is "introspection: the token is active with exactly issues:read" \
    'd["active"] is True and d["scope"] == "issues:read"'
token_file "$TMP/tokB" oidc --scope issues:write --scope issues:read --ttl 10m
check "a second token (the rotated refresh token works)" [ -s "$TMP/tokB" ]
introspect "$TMP/tokB"
intro_is "introspection: the second token has both scopes" \
    'd["active"] is True and sorted(d["scope"].split()) == ["issues:read", "issues:write"]'

# Within the policy but beyond what the login granted: the server refuses.
jr token oidc --scope contents:read
expect_rc 1 "a scope the login did not grant is refused by the server"
expect_in "$TMP/err" "provider 'oidc': token endpoint refused: invalid_scope" \
    "with a clear error naming invalid_scope"
expect_not_in "$TMP/err" 'run: janee login' "a refused scope does not break the login"
jr token oidc --scope admin
expect_rc 1 "a scope beyond the ceiling is refused before any request"

# Revocation at lease end (here: ended early by the person).
jr lease revoke "$leaseA"
expect_rc 0 "lease revoke"
introspect "$TMP/tokA"
intro_is "introspection: the revoked token is inactive" 'd["active"] is False'
# oidc-provider ends the whole grant with it: janee notices and says so.
jr provider show oidc
expect_in "$TMP/out" 'login: +login broken' "janee notices the server ended the login (RFC 7009 2.1)"
jr token oidc --scope issues:read
expect_rc 1 "minting with the broken login fails"
expect_in "$TMP/err" 'run: janee login oidc' "and says to log in again"

# Expiry without cron: the sweep revokes at the server.
login_bg
oidc_approve "$USER_CODE" >/dev/null 2>&1
login_wait
check "login again" [ $? -eq 0 ]
token_file "$TMP/tokC" oidc --scope issues:read --ttl 1m
introspect "$TMP/tokC"
intro_is "a fresh token is active" 'd["active"] is True'
JANEE_TEST_CLOCK_OFFSET=120 jr lease list
introspect "$TMP/tokC"
intro_is "after its lease ends, the next janee command revoked it (RFC 7009)" \
    'd["active"] is False'

# Finding 8: janee dies between the server's answer and the ledger.  The
# token is kept in the login the rotation writes anyway; the next command
# after the stale window finds it, asks introspection, revokes it.  (The
# test learns the token from what janee-test sealed: JANEE_LEAK_SECRETS_FILE
# for that one command, passed on to the suite's leak sweep.)
login_bg
oidc_approve "$USER_CODE" >/dev/null 2>&1
login_wait
check "log in for the crash test" [ $? -eq 0 ]
JANEE_LEAK_SECRETS_FILE="$TMP/sealed" JANEE_TEST_CRASH_AT=after_mint \
    jr token oidc --scope issues:read --ttl 10m
check "a mint cut short after oidc-provider answered (janee killed)" [ "$(rc)" -eq 137 ] && [ ! -s "$TMP/out" ]
(umask 077 && kept_token "$TMP/sealed" >"$TMP/tokE")
introspect "$TMP/tokE"
intro_is "the token of the cut-short lease is live at oidc-provider" 'd["active"] is True'
cut=$(minting_lease)
JANEE_TEST_CLOCK_OFFSET=600 jr lease show "$cut"
expect_in "$TMP/out" 'janee stopped while minting; 1 token\(s\) the provider issued for this lease were revoked' \
    "finding 8 (oidc-provider): the lease is reconciled, its token found and revoked"
introspect "$TMP/tokE"
intro_is "introspection: the token of the cut-short lease is inactive" 'd["active"] is False'

# Logout revokes the login at the server.  It ends the provider's session
# grants too (their audit events, the leases they approved): none may
# approve a lease of the next login.  (A grant needs approval "ask" for
# a while: an MCP session's request, approved with --grant.)
login_bg
oidc_approve "$USER_CODE" >/dev/null 2>&1
login_wait
token_file "$TMP/tokD" oidc --scope issues:read --ttl 10m
cp "$JANEE_HOME/config.json" "$TMP/config.auto"
jr provider edit oidc --set approval=ask --set approval_wait=2s --set session_grant_max=20m
serve_open sess-oidc
printf '%s\n' '{"jsonrpc":"2.0","method":"notifications/initialized"}' >&6
serve_call 2 '{"provider":"oidc","scopes":["issues:read"],"ttl_seconds":600,"reason":"first"}'
first=$(sed -n 's/.*"id":2,.*pending: lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/serve.out")
jr approve "$first" --grant 10m
grant=$(sed -n 's/.*session grant \(grt_[a-z2-7]*\) for 10m.*/\1/p' "$TMP/err")
check "logout with a session grant: a grant for the session's requests" [ -n "$grant" ]
serve_call 3 '{"provider":"oidc","scopes":["issues:read"],"ttl_seconds":120,"reason":"narrower"}'
narrow=$(sed -n 's/.*"id":3,.*"lease_id":"\(lse_[a-z2-7]*\)".*/\1/p' "$TMP/serve.out")
check "logout with a session grant: a request is approved under it" [ -n "$narrow" ]
(umask 077 && sed -n 's/.*"id":3,.*"token":"\([^"]*\)".*/\1/p' "$TMP/serve.out" |
    tr -d '\n' >"$TMP/tokG")
jr logout oidc
expect_rc 0 "logout"
introspect "$TMP/tokD"
intro_is "logout ended the leases of the login" 'd["active"] is False'
jr lease list --grants --all --json
check "logout ended the provider's session grant" "$PYTHON3" -c '
import json, sys
g = [g for g in json.load(open(sys.argv[1])) if g["id"] == sys.argv[2]]
assert len(g) == 1 and g[0]["state"] == "revoked", g' "$TMP/out" "$grant"
jr audit list --event session_grant_revoked --json
check "the grant's end is audited once, saying logout" "$PYTHON3" -c '
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["lease_id"] == sys.argv[2]]
assert len(rows) == 1 and rows[0]["provider"] == "oidc" and rows[0]["detail"] == "logout", rows' \
    "$TMP/out" "$first"
introspect "$TMP/tokG"
intro_is "the token approved under the grant is inactive" 'd["active"] is False'
serve_close
cat "$TMP/config.auto" >"$JANEE_HOME/config.json"
jr provider show oidc
expect_in "$TMP/out" 'login: +not logged in' "after logout the login is gone"
jr audit list --event logout
expect_in "$TMP/out" 'logout' "logout is audited"

# Denied and expired device codes.
login_bg
check "the person denies the code" oidc_deny "$USER_CODE"
login_wait
check "a denied login fails" [ $? -ne 0 ]
expect_in "$TMP/login.err" 'the login was denied' "and says it was denied"
expect_in "$TMP/login.err" "janee asked for scope 'issues:read issues:write offline_access'" \
    "and what it asked for (issue 16, item 1)"

# Issue 16, item 1: with no login_scopes the login asks for the policy's
# ceiling, plus offline_access since discovery lists it (an empty scope
# made oidc-provider end the interaction: "the login was denied").
"$PYTHON3" - "$JANEE_HOME/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
e = dict(c["providers"]["oidc"])
del e["login_scopes"]
c["providers"]["nols"] = e
json.dump(c, open(sys.argv[1], "w"))
PY
login_bg nols
check "no login_scopes: the person approves the code" oidc_approve "$USER_CODE"
login_wait
check "no login_scopes: the login succeeds, with a refresh token" [ $? -eq 0 ]
jr token nols --scope contents:read --json
expect_rc 0 "and mints a token of a ceiling scope the login asked for"
check "oidc-provider's token_type Bearer is said as janee says it: bearer" \
    "$PYTHON3" -c 'import json, sys; assert json.load(open(sys.argv[1]))["token_type"] == "bearer"' "$TMP/out"
# Issue 16, item 7: janee provider test finds the trap a real server sets:
# oidc-provider ends the whole grant when one token of it is revoked.
jr provider test nols --scope contents:read
expect_rc 1 "provider test on a server that ends the login with a token"
expect_in "$TMP/out" '^ok +mint +lse_[a-z2-7]* \(contents:read\), revoked at once' \
    "it mints and revokes a real token"
expect_in "$TMP/out" '^PROBLEM +grant +revoking one token ended the whole login .*--set lease_end=expire' \
    "and finds that the revocation ended the whole login, with the fix"
jr lease revoke --provider nols
jr provider edit nols --set lease_end=expire
login_bg nols
oidc_approve "$USER_CODE" >/dev/null 2>&1
login_wait
check "log in again" [ $? -eq 0 ]
jr provider test nols --scope contents:read
expect_rc 0 "with lease_end expire, provider test passes"
expect_in "$TMP/out" '^ok +mint +.*left to expire' "its token is left to expire"
expect_not_in "$TMP/out" 'PROBLEM' "and it finds no problem"

# Client credentials, both client authentication methods.
for p in basic post; do
	token_file "$TMP/tok.$p" "$p" --scope issues:read --ttl 5m
	check "client credentials with $p auth" [ -s "$TMP/tok.$p" ]
	introspect "$TMP/tok.$p"
	intro_is "client credentials ($p): scope issues:read" \
	    'd["active"] is True and d["scope"] == "issues:read"'
done

# TLS is verified: without the test CA the server is refused.
jr token nocafile --scope issues:read
expect_rc 1 "a server whose CA is not trusted is refused"
expect_in "$TMP/err" "provider 'nocafile': .*discovery|certificate" "and the error names the provider"

# An expired device code (a second server with 3-second codes).
oidc_start --device-ttl 3 || not_ok "restart oidc-provider"
write_oidc_config "$OIDC_ISSUER"
"$JANEE" lease list >/dev/null 2>&1
login_bg
login_wait
check "an unapproved code expires and the login fails" [ $? -ne 0 ]
expect_in "$TMP/login.err" 'expired' "and says the code expired"

# Nothing secret leaked into janee's own output.
cat "$TMP"/tok* >"$TMP/needles" 2>/dev/null
printf '%s\n%s\n' "$OIDC_BASIC_SECRET" "$OIDC_POST_SECRET" >>"$TMP/needles"
if grep -rqaFf "$TMP/needles" "$TMP/login.err" "$TMP/login.out" "$TMP/err" \
    "$TMP/out" "$JANEE_HOME"; then
	not_ok "invariant 1: no token or client secret in janee's output or state"
else
	ok "invariant 1: no token or client secret in janee's output or state"
fi

done_testing
