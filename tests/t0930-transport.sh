#!/bin/sh
# Invariant 4 at its boundaries, through the real binary and the fake
# OAuth server (issue 19): TLS is verified, chain and name (a certificate
# of the trusted CA for another name is refused, the right one works);
# plain http goes to loopback only, and the near misses (127.0.0.2,
# 127.0.0.1.nip.io, localhost.example.com, [::2]) are refused when the
# config loads, while http://localhost and http://[::1] work.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/fake-oauth.sh"

setup_home
printf 'fake-basic-secret' | "$JANEE" secret set basic >/dev/null 2>&1

cc_config() { # cc_config ISSUER [CA]: one client-credentials provider
	cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {"cc": {"type": "oauth2", "issuer": "$1", "ca_file": "${2:-$TMP/ca/ca.pem}",
   "client_id": "conf-basic", "client_secret": "secret:basic",
   "grant": "client_credentials", "scopes": ["a:read"], "approval": "auto"}}}
JSON
	chmod 600 "$JANEE_HOME/config.json"
}

# ---- TLS: the certificate must be the trusted CA's, for this host ----
make_test_ca "$TMP/ca" || { not_ok "a test CA"; exit 1; }
# A certificate of the same CA for another name only.
(
	cd "$TMP/ca" &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out other.key 2>/dev/null &&
	openssl req -new -subj /CN=other.example -key other.key \
	    -out other.csr 2>/dev/null &&
	printf 'subjectAltName = DNS:other.example\nextendedKeyUsage = serverAuth\n' >other.ext &&
	openssl x509 -req -in other.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days 1 -sha256 -extfile other.ext \
	    -out other.pem 2>/dev/null
) || { not_ok "a certificate for another name"; exit 1; }
mv "$TMP/ca/server.pem" "$TMP/ca/right.pem"
mv "$TMP/ca/server.key" "$TMP/ca/right.key"
cp "$TMP/ca/other.pem" "$TMP/ca/server.pem"
cp "$TMP/ca/other.key" "$TMP/ca/server.key"
fake_oauth_start >/dev/null || { not_ok "the fake OAuth server starts"; exit 1; }
cc_config "$FAKE_ISSUER"
jr token cc --scope a:read --ttl 5m
expect_rc 1 "invariant 4: a trusted CA's certificate for another name is refused"
check "invariant 4: and no token is printed" [ ! -s "$TMP/out" ]
expect_in "$TMP/err" "provider 'cc'.*(certificate|SSL)" "invariant 4: the error names the provider and the certificate"
cp "$TMP/ca/right.pem" "$TMP/ca/server.pem"
cp "$TMP/ca/right.key" "$TMP/ca/server.key"
fake_oauth_start >/dev/null || { not_ok "the fake OAuth server starts again"; exit 1; }
cc_config "$FAKE_ISSUER"
jr token cc --scope a:read --ttl 5m
expect_rc 0 "invariant 4: the certificate for 127.0.0.1 works (the control)"
# Another CA, not the one configured: the chain does not verify.
make_test_ca "$TMP/ca2" || { not_ok "a second test CA"; exit 1; }
cc_config "$FAKE_ISSUER" "$TMP/ca2/ca.pem"
jr token cc --scope a:read --ttl 5m
expect_rc 1 "invariant 4: a certificate of a CA not trusted is refused"

# ---- plain http: loopback only, exactly ----
for url in http://127.0.0.2:1 http://127.0.0.1.nip.io:1 \
    http://localhost.example.com:1 'http://[::2]:1' http://auth.example.com; do
	cc_config "$url"
	jr provider list
	expect_rc 1 "invariant 4: plain http to $url is refused when the config loads"
	expect_in "$TMP/err" "plain http to .* is refused; use https" "invariant 4: $url: the error says to use https"
done
fake_oauth_start --plain-http >/dev/null || { not_ok "a plain http fake"; exit 1; }
cc_config "http://localhost:$FAKE_PORT"
jr provider list
expect_rc 0 "plain http to localhost loads"
cc_config "http://127.0.0.1:$FAKE_PORT"
jr token cc --scope a:read --ttl 5m
expect_rc 0 "plain http to 127.0.0.1 mints (the control)"
if fake_oauth_start --plain-http --host ::1 >/dev/null 2>&1; then
	cc_config "http://[::1]:$FAKE_PORT"
	jr token cc --scope a:read --ttl 5m
	expect_rc 0 "plain http to [::1] mints"
else
	skip "plain http to [::1] mints" "no IPv6 loopback here"
fi

done_testing
