#!/bin/sh
# Self-test of the OAuth 2.0 test peer and tests/lib/oidc.sh, with curl as
# the OAuth client (no janee involved).
#
# usage: JANEE_BUILDDIR=... JANEE_SRCDIR=... sh tests/peers/selftest.sh
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/oidc.sh"

API='issues:read issues:write contents:read'
D="$TMP/d"
mkdir -p "$D"
chmod 700 "$D"

# jq-less checks on a JSON file: jget FILE KEY
jget() { oidc_field "$1" "$2"; }

# expect_json FILE KEY VALUE NAME
expect_json() {
	_v=$(jget "$1" "$2")
	if [ "$_v" = "$3" ]; then ok "$4"; else
		not_ok "$4"
		echo "  $2 is '$_v', expected '$3'" >&2
		sed 's/^/  | /' "$1" >&2
	fi
}

# expect_status GOT WANT NAME FILE
expect_status() {
	if [ "$1" = "$2" ]; then ok "$3"; else
		not_ok "$3"
		echo "  HTTP $1, expected $2" >&2
		[ -f "${4:-}" ] && sed 's/^/  | /' "$4" >&2
	fi
}

# introspect TOKEN_FILE OUT: introspection JSON into OUT
introspect() { oidc_introspect "@$1" >"$2"; }

# device_login CLIENT SECRET SCOPE PREFIX: device authorization, approval,
# polling; leaves $D/PREFIX.{auth,tok}.json, $D/PREFIX.{at,rt}
device_login() {
	_s=$(oidc_post /device/auth "$D/$4.auth.json" "$1" "$2" "scope=$3") &&
		[ "$_s" = 200 ] &&
		oidc_save_field "$D/$4.auth.json" device_code "$D/$4.dc" &&
		oidc_approve "$(jget "$D/$4.auth.json" user_code)" alice &&
		oidc_device_poll "$1" "$2" "$D/$4.dc" "$D/$4.tok.json" 10 &&
		oidc_save_field "$D/$4.tok.json" access_token "$D/$4.at" &&
		oidc_save_field "$D/$4.tok.json" refresh_token "$D/$4.rt"
}

check "server starts" oidc_start

# --- discovery
s=$(curl -sS --cacert "$OIDC_CA" -o "$D/disc.json" -w '%{http_code}' \
	"$OIDC_ISSUER/.well-known/openid-configuration")
expect_status "$s" 200 "discovery answers" "$D/disc.json"
expect_json "$D/disc.json" issuer "$OIDC_ISSUER" "discovery: issuer matches"
for k in token_endpoint device_authorization_endpoint revocation_endpoint \
	introspection_endpoint; do
	expect_json "$D/disc.json" "$k" "$OIDC_ISSUER$(case $k in
		token_endpoint) echo /token ;;
		device_authorization_endpoint) echo /device/auth ;;
		revocation_endpoint) echo /token/revocation ;;
		introspection_endpoint) echo /token/introspection ;;
		esac)" "discovery: $k"
done
g=$(jget "$D/disc.json" grant_types_supported)
case $g in
*'"refresh_token"'*'"client_credentials"'*'"urn:ietf:params:oauth:grant-type:device_code"'*)
	ok "discovery: grant types" ;;
*) not_ok "discovery: grant types ($g)" ;;
esac
case $(jget "$D/disc.json" scopes_supported) in
*'"issues:read"'*) ok "discovery: API scopes listed" ;;
*) not_ok "discovery: API scopes listed" ;;
esac

# --- device flow, public client
s=$(oidc_post /device/auth "$D/a.auth.json" janee-public "" \
	"scope=offline_access $API")
expect_status "$s" 200 "device authorization" "$D/a.auth.json"
uc=$(jget "$D/a.auth.json" user_code)
oidc_save_field "$D/a.auth.json" device_code "$D/a.dc"
case "$(jget "$D/a.auth.json" verification_uri) $(jget "$D/a.auth.json" expires_in)" in
"$OIDC_ISSUER/device 600") ok "device authorization: verification_uri, expires_in" ;;
*) not_ok "device authorization: verification_uri, expires_in" ;;
esac
expect_json "$D/a.auth.json" verification_uri_complete \
	"$OIDC_ISSUER/device?user_code=$uc" "device authorization: verification_uri_complete"
expect_json "$D/a.auth.json" interval "" "device authorization: no interval (default 5 s)"
s=$(oidc_post /token "$D/a.pend.json" janee-public "" \
	"grant_type=$OIDC_DEVICE_GRANT" "device_code@$D/a.dc")
expect_status "$s" 400 "polling before approval: 400"
expect_json "$D/a.pend.json" error authorization_pending \
	"polling before approval: authorization_pending"
check "oidc_approve" oidc_approve "$uc" alice
check "polling after approval succeeds" \
	oidc_device_poll janee-public "" "$D/a.dc" "$D/a.tok.json" 10
expect_json "$D/a.tok.json" scope "$API" "token response scope"
expect_json "$D/a.tok.json" token_type Bearer "token response type"
oidc_save_field "$D/a.tok.json" access_token "$D/a.at"
check "refresh token issued" oidc_save_field "$D/a.tok.json" refresh_token "$D/a.rt"

introspect "$D/a.at" "$D/a.at.i.json"
expect_json "$D/a.at.i.json" active true "introspection: access token active"
expect_json "$D/a.at.i.json" scope "$API" "introspection: API scopes"
expect_json "$D/a.at.i.json" client_id janee-public "introspection: client_id"
expect_json "$D/a.at.i.json" sub alice "introspection: sub is the login"
expect_not_in "$D/a.at.i.json" "$(cat "$D/a.at")" "introspection holds no token"

# --- refresh, narrowed
s=$(oidc_post /token "$D/r1.json" janee-public "" grant_type=refresh_token \
	"refresh_token@$D/a.rt" scope=issues:read)
expect_status "$s" 200 "narrowed refresh" "$D/r1.json"
expect_json "$D/r1.json" scope issues:read "narrowed refresh: response scope"
oidc_save_field "$D/r1.json" access_token "$D/r1.at"
oidc_save_field "$D/r1.json" refresh_token "$D/r1.rt"
if ! cmp -s "$D/a.rt" "$D/r1.rt"; then ok "refresh rotates the refresh token"; else
	not_ok "refresh rotates the refresh token"; fi
introspect "$D/r1.at" "$D/r1.at.i.json"
expect_json "$D/r1.at.i.json" scope issues:read "narrowed token: only issues:read"
introspect "$D/r1.rt" "$D/r1.rt.i.json"
expect_json "$D/r1.rt.i.json" scope "offline_access $API" \
	"rotated refresh token keeps the whole grant"

# --- widening
s=$(oidc_post /token "$D/w1.json" janee-public "" grant_type=refresh_token \
	"refresh_token@$D/r1.rt" "scope=issues:read admin:org")
expect_status "$s" 400 "unknown scope on refresh: 400"
expect_json "$D/w1.json" error invalid_scope "unknown scope on refresh: invalid_scope"
check "device login with issues:read only" \
	device_login janee-public "" "offline_access issues:read" b
s=$(oidc_post /token "$D/w2.json" janee-public "" grant_type=refresh_token \
	"refresh_token@$D/b.rt" "scope=issues:read issues:write")
expect_status "$s" 400 "widening beyond the grant: 400"
expect_json "$D/w2.json" error invalid_scope "widening beyond the grant: invalid_scope"
s=$(oidc_post /token "$D/w3.json" janee-public "" grant_type=refresh_token \
	"refresh_token@$D/b.rt")
expect_status "$s" 200 "refresh token still good after invalid_scope" "$D/w3.json"
oidc_save_field "$D/w3.json" access_token "$D/b.at"
oidc_save_field "$D/w3.json" refresh_token "$D/b.rt"

# --- rotation: replaying a used refresh token fails and kills the chain
s=$(oidc_post /token "$D/rp.json" janee-public "" grant_type=refresh_token \
	"refresh_token@$D/a.rt")
expect_status "$s" 400 "replayed refresh token: 400"
expect_json "$D/rp.json" error invalid_grant "replayed refresh token: invalid_grant"
introspect "$D/r1.rt" "$D/r1.rt.i2.json"
expect_json "$D/r1.rt.i2.json" active false "replay revokes the rotated refresh token"
introspect "$D/r1.at" "$D/r1.at.i2.json"
expect_json "$D/r1.at.i2.json" active false "replay revokes the chain's access tokens"

# --- revocation
# a refresh token: its grant's access tokens go too
s=$(oidc_post /token/revocation "$D/rv1.json" janee-public "" \
	"token@$D/b.rt" token_type_hint=refresh_token)
expect_status "$s" 200 "revoke refresh token" "$D/rv1.json"
introspect "$D/b.rt" "$D/b.rt.i.json"
expect_json "$D/b.rt.i.json" active false "revoked refresh token inactive"
introspect "$D/b.at" "$D/b.at.i.json"
expect_json "$D/b.at.i.json" active false \
	"revoking a refresh token kills the grant's access tokens"
s=$(oidc_post /token/revocation "$D/rv3.json" janee-public "" token=no-such-token)
expect_status "$s" 200 "revoking an unknown token: 200" "$D/rv3.json"

# --- denial
s=$(oidc_post /device/auth "$D/c.auth.json" janee-public "" "scope=$API")
oidc_save_field "$D/c.auth.json" device_code "$D/c.dc"
check "oidc_deny" oidc_deny "$(jget "$D/c.auth.json" user_code)"
oidc_device_poll janee-public "" "$D/c.dc" "$D/c.tok.json" 5
expect_json "$D/c.tok.json" error access_denied "denied: polling gives access_denied"
if oidc_approve "$(jget "$D/c.auth.json" user_code)" 2>"$D/c.err"; then
	not_ok "a denied code cannot be approved"
else ok "a denied code cannot be approved"; fi

# --- confidential clients
check "device login, client_secret_basic" \
	device_login janee-basic "$OIDC_BASIC_SECRET" "offline_access $API" e
check "device login, client_secret_post" \
	device_login janee-post "$OIDC_POST_SECRET" "offline_access $API" f
# an access token, with client_secret_basic: its refresh token goes too
s=$(oidc_post /token/revocation "$D/rv4.json" janee-basic "$OIDC_BASIC_SECRET" \
	"token@$D/e.at" token_type_hint=access_token)
expect_status "$s" 200 "revoke access token (basic)" "$D/rv4.json"
introspect "$D/e.at" "$D/e.at.i.json"
expect_json "$D/e.at.i.json" active false "revoked access token inactive"
introspect "$D/e.rt" "$D/e.rt.i.json"
expect_json "$D/e.rt.i.json" active false \
	"revoking an access token kills its refresh token"
# another client's token: 200, nothing revoked
s=$(oidc_post /token/revocation "$D/rv5.json" janee-basic "$OIDC_BASIC_SECRET" \
	"token@$D/f.at")
expect_status "$s" 200 "revoking another client's token: 200" "$D/rv5.json"
introspect "$D/f.at" "$D/f.at.i.json"
expect_json "$D/f.at.i.json" active true "another client's token is not revoked"
# public clients may introspect their own tokens only
s=$(oidc_post /token/introspection "$D/pi1.json" janee-public "" "token@$D/f.at")
expect_json "$D/pi1.json" active false "public client: other client's token inactive"
check "device login for the public client" \
	device_login janee-public "" "$API" g
s=$(oidc_post /token/introspection "$D/pi2.json" janee-public "" "token@$D/g.at")
expect_json "$D/pi2.json" active true "public client: own token active"
# polling a device code again after success fails and revokes the grant
s=$(oidc_post /token "$D/f.again.json" janee-post "$OIDC_POST_SECRET" \
	"grant_type=$OIDC_DEVICE_GRANT" "device_code@$D/f.dc")
expect_json "$D/f.again.json" error invalid_grant \
	"polling again after success: invalid_grant"
introspect "$D/f.at" "$D/f.at.i2.json"
expect_json "$D/f.at.i2.json" active false "polling again revokes the access token"
introspect "$D/f.rt" "$D/f.rt.i2.json"
expect_json "$D/f.rt.i2.json" active false "polling again revokes the refresh token"

for c in basic post; do
	if [ $c = basic ]; then sec=$OIDC_BASIC_SECRET; else sec=$OIDC_POST_SECRET; fi
	s=$(oidc_post /token "$D/cc.$c.json" "janee-$c" "$sec" \
		grant_type=client_credentials scope=issues:read)
	expect_status "$s" 200 "client_credentials, janee-$c" "$D/cc.$c.json"
	expect_json "$D/cc.$c.json" scope issues:read "client_credentials, janee-$c: scope"
	expect_json "$D/cc.$c.json" refresh_token "" \
		"client_credentials, janee-$c: no refresh token"
	oidc_save_field "$D/cc.$c.json" access_token "$D/cc.$c.at"
	introspect "$D/cc.$c.at" "$D/cc.$c.i.json"
	expect_json "$D/cc.$c.i.json" scope issues:read \
		"client_credentials, janee-$c: introspection scope"
done
# each confidential client must use its registered method
s=$(curl -sS --cacert "$OIDC_CA" -o "$D/m1.json" -w '%{http_code}' -K - <<EOF
url = "$OIDC_ISSUER/token"
user = "janee-post:$OIDC_POST_SECRET"
data = "grant_type=client_credentials&scope=issues:read"
EOF
)
expect_status "$s" 401 "janee-post with HTTP Basic: 401" "$D/m1.json"
expect_json "$D/m1.json" error invalid_client "janee-post with HTTP Basic: invalid_client"
s=$(curl -sS --cacert "$OIDC_CA" -o "$D/m2.json" -w '%{http_code}' -K - <<EOF
url = "$OIDC_ISSUER/token"
data = "client_id=janee-basic&client_secret=$OIDC_BASIC_SECRET&grant_type=client_credentials&scope=issues:read"
EOF
)
expect_status "$s" 401 "janee-basic with the secret in the body: 401" "$D/m2.json"
expect_json "$D/m2.json" error invalid_client \
	"janee-basic with the secret in the body: invalid_client"
s=$(oidc_post /token "$D/cc.bad.json" janee-basic wrong-secret \
	grant_type=client_credentials scope=issues:read)
expect_status "$s" 401 "wrong client secret: 401"
expect_json "$D/cc.bad.json" error invalid_client "wrong client secret: invalid_client"
s=$(oidc_post /token "$D/cc.pub.json" janee-public "" \
	grant_type=client_credentials scope=issues:read)
expect_json "$D/cc.pub.json" error invalid_request \
	"grant type not allowed for the client: invalid_request (not unauthorized_client)"

# --- expiry: a second server with --device-ttl 3 --access-ttl 2
check "restart with --device-ttl 3 --access-ttl 2" \
	oidc_start --device-ttl 3 --access-ttl 2
s=$(oidc_post /device/auth "$D/x.auth.json" janee-public "" "scope=$API")
expect_json "$D/x.auth.json" expires_in 3 "device code lifetime from --device-ttl"
oidc_save_field "$D/x.auth.json" device_code "$D/x.dc"
s=$(oidc_post /token "$D/x.cc.json" janee-basic "$OIDC_BASIC_SECRET" \
	grant_type=client_credentials scope=issues:read)
expect_json "$D/x.cc.json" expires_in 2 "access token lifetime from --access-ttl"
oidc_save_field "$D/x.cc.json" access_token "$D/x.at"
sleep 4
introspect "$D/x.at" "$D/x.at.i.json"
expect_json "$D/x.at.i.json" active false "expired access token inactive"
oidc_device_poll janee-public "" "$D/x.dc" "$D/x.tok.json" 5
expect_json "$D/x.tok.json" error expired_token "expired device code: expired_token"
if oidc_approve "$(jget "$D/x.auth.json" user_code)" 2>"$D/x.err"; then
	not_ok "an expired code cannot be approved"
else ok "an expired code cannot be approved"; fi

# --- stop
pid=$OIDC_PID
oidc_stop
if kill -0 "$pid" 2>/dev/null; then not_ok "oidc_stop ends the server"; else
	ok "oidc_stop ends the server"; fi
if grep -q "$(cat "$D/a.at")" "$TMP/oidc.log"; then
	not_ok "server log holds no token"
else ok "server log holds no token"; fi

done_testing
