#!/bin/sh
# The agent revokes at each provider type within 2 s of a lease's end,
# with no other janee process running (issue 13): a GitHub installation
# token (the fake GitHub logs when DELETE /installation/token came), a
# Slack token with lease_end "revoke" (the fake Slack logs auth.revoke),
# and a generic OAuth 2.0 token from oidc-provider (RFC 7009 revocation;
# introspection then says inactive).  The ledger's end of each lease, set
# only after the provider answered, is at most 2 s after the lease's end.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/agent.sh"
. "$JANEE_SRCDIR/tests/lib/fake-github.sh"
. "$JANEE_SRCDIR/tests/lib/fake-slack.sh"
. "$JANEE_SRCDIR/tests/lib/oidc.sh"

if ! command -v node >/dev/null 2>&1; then
	skip "the agent against the providers' fakes and peers" "node is not installed"
	exit 0
fi
"$JANEE" init --key-backend keyfile >/dev/null 2>&1

# ended_in_ledger NAME: lease $id is expired in the ledger, its end at
# most 2 s after the lease's (the agent settles after the provider's
# answer, so this bounds the revocation too).
ended_in_ledger() {
	lease_json "$id"
	check "$1: the lease is expired, at most 2 s after its end" "$PYTHON3" -c '
import datetime, json, sys
j = json.load(open(sys.argv[1]))
ms = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000
late = ms(j["ended_at"]) - ms(j["expires_at"])
print("# %s: the ledger ended it %d ms after its end" % (sys.argv[2], late))
assert j["state"] == "expired" and 0 <= late <= 2000, (j["state"], late)' "$TMP/lease.json" "$1"
}
at_end_plus_2s() { # wait until $end_iso + 2 s; check that only the agent ran
	sleep_until_ms $(($(iso_ms "$end_iso") + 2000))
	check "$1: 2 s after the end no janee process ran but the agent" [ -z "$(janee_others)" ]
}
# after_end NAME CALLS: the time_ms of the first call in the fake's JSON
# call list CALLS, less the lease's end, checked to be 0..2000 ms
revoked_call_in_time() {
	check "$1: the provider got the revocation 0..2000 ms after the end" "$PYTHON3" -c '
import datetime, json, sys
c = json.load(open(sys.argv[1]))
end = datetime.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00")).timestamp() * 1000
assert c, "no revocation call"
d = c[0]["time_ms"] - end
print("# %s: the provider got the revocation %d ms after the end" % (sys.argv[3], d))
assert 0 <= d <= 2000, d' "$2" "$end_iso" "$1"
}

# ---- GitHub: DELETE /installation/token ----
CLIENT_ID=Iv23liJaneeFake0001 # the app the fake knows
fake_github_app_key "$TMP/app" && fake_github_start --public-key "$TMP/app/app.pub"
check "the fake GitHub starts" [ -n "${FAKE_GH:-}" ]
"$JANEE" secret set app-key --from-file "$TMP/app/app.pem" >/dev/null 2>&1
# ---- Slack and oidc-provider ----
fake_slack_start
check "the fake Slack starts" [ -n "${SLACK_URL:-}" ]
printf 'fake-slack-secret-two' | "$JANEE" secret set slack-two 2>/dev/null
oidc_start
check "oidc-provider starts" [ -n "${OIDC_ISSUER:-}" ]
printf '%s' "$OIDC_BASIC_SECRET" | "$JANEE" secret set basic-secret 2>/dev/null
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 "github": {"type": "github-app", "client_id": "$CLIENT_ID",
   "private_key": "secret:app-key", "installation_id": 4242,
   "permissions": {"issues": "write"}, "repositories": ["api"],
   "base_url": "$FAKE_GH", "ca_file": "$FAKE_GH_CA", "approval": "auto"},
 "rv": {"type": "slack", "base_url": "$SLACK_URL", "ca_file": "$SLACK_CA",
   "client_id": "2222.2222", "client_secret": "secret:slack-two",
   "lease_end": "revoke", "profiles": {"me": {"user_scopes": ["users:read"]}},
   "max_ttl": "1h", "approval": "auto"},
 "basic": {"type": "oauth2", "issuer": "$OIDC_ISSUER", "ca_file": "$OIDC_CA",
   "client_id": "janee-basic", "client_secret": "secret:basic-secret",
   "auth_method": "client_secret_basic", "grant": "client_credentials",
   "scopes": ["issues:read"], "approval": "auto"}}}
JSON
chmod 600 "$JANEE_HOME/config.json"

if [ -n "${FAKE_GH:-}" ]; then
	fake_github_control '{"clear_calls": true}' >/dev/null
	jr token github --scope issues:read --repo api --ttl 3 --json
	expect_rc 0 "github: a 3 s installation token"
	issued "$TMP/out"
	json_str "$TMP/out" token | tr -d '\n' >"$TMP/gh.tok"
	check "github: the token is live at the fake" fake_github_live "$TMP/gh.tok"
	at_end_plus_2s github
	gh_dead() { ! fake_github_live "$TMP/gh.tok"; }
	check "github: 2 s after the end the token is dead at the fake" gh_dead
	fake_github_calls /installation/token >"$TMP/gh.calls"
	revoked_call_in_time github "$TMP/gh.calls"
	ended_in_ledger github
fi

if [ -n "${SLACK_URL:-}" ]; then
	# An install of the profile through the loopback redirect.
	"$JANEE" login rv --profile me --no-browser </dev/null >"$TMP/login.out" 2>"$TMP/login.err" &
	lpid=$!
	authz=
	wait_until 100 grep -q 'https://[^ ]*/oauth/v2/authorize?' "$TMP/login.err"
	authz=$(grep -o 'https://[^ ]*/oauth/v2/authorize?[^ ]*' "$TMP/login.err")
	loc=$(curl -sS --cacert "$SLACK_CA" -o /dev/null -w '%{redirect_url}' "$authz")
	curl -sS "$loc" >/dev/null
	wait "$lpid"
	check "slack: the install" [ $? -eq 0 ]
	fake_slack_control '{"clear_calls": true, "revoke_ends_install": false}' >/dev/null
	jr token rv --scope users:read --ttl 3 --json
	expect_rc 0 "slack: a 3 s token"
	issued "$TMP/out"
	json_str "$TMP/out" token | tr -d '\n' >"$TMP/sl.tok"
	at_end_plus_2s slack
	fake_slack_api auth.test "$(cat "$TMP/sl.tok")" >"$TMP/sl.test"
	check "slack: 2 s after the end the token is revoked at the fake" grep -q '"token_revoked"' "$TMP/sl.test"
	fake_slack_calls auth.revoke >"$TMP/sl.calls"
	revoked_call_in_time slack "$TMP/sl.calls"
	ended_in_ledger slack
fi

if [ -n "${OIDC_ISSUER:-}" ]; then
	jr token basic --scope issues:read --ttl 3 --json
	expect_rc 0 "oauth2: a 3 s client-credentials token from oidc-provider"
	issued "$TMP/out"
	(umask 077 && json_str "$TMP/out" token | tr -d '\n' >"$TMP/oidc.tok")
	oidc_introspect "@$TMP/oidc.tok" >"$TMP/intro.json"
	check "oauth2: introspection says active" grep -q '"active": *true' "$TMP/intro.json"
	at_end_plus_2s oauth2
	oidc_introspect "@$TMP/oidc.tok" >"$TMP/intro.json"
	check "oauth2: 2 s after the end introspection says inactive" grep -q '"active": *false' "$TMP/intro.json"
	ended_in_ledger oauth2
fi

agent_stop
done_testing
