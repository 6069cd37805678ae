# Fake OAuth 2.0 authorization server for the integration scripts
# (sourced after tests/lib.sh).  The server is tests/fixtures/fake_oauth.py;
# its docstring lists every endpoint and the /_control JSON.
#
# Functions
#   fake_oauth_start [--plain-http] [--issuer-override URL] [--host H]
#       Starts the server (fake_start oauth, tests/lib/fake.sh).
#       Exports FAKE_ISSUER (https://127.0.0.1:PORT, or http:// with
#       --plain-http), FAKE_CA (CA certificate, PEM), FAKE_PID, FAKE_PORT
#       and FAKE_LOG (the server's own log, in $TMP; never holds token,
#       secret or code values).  A script that sets its own EXIT trap
#       afterwards should call fake_oauth_stop_all in it.
#       Starting again runs a second server; FAKE_* then name the newest.
#   fake_oauth_stop           stop the server named by FAKE_PID
#   fake_oauth_stop_all       stop every server started by this script
#   fake_oauth_control JSON   POST JSON to /_control; prints the answer,
#                             fails on a non-200 answer (e.g. a typo'd key)
#   fake_oauth_reset          forget tokens, calls, faults and settings
#   fake_oauth_fault PATH KIND [COUNT [EXTRA]]
#                             queue a fault; EXTRA is JSON members, e.g.
#                             '"seconds": 3' or '"size": 1048576'
#   fake_oauth_calls [PATH]   print the call log (JSON array), optionally
#                             only the calls to PATH
#   fake_oauth_count PATH [GRANT_TYPE]   number of logged calls
#   fake_oauth_tokens         counts of live and dead tokens (JSON)
#   fake_oauth_grant CLIENT [SCOPE]      mint a grant directly (no device
#                             flow); prints {"access_token", "refresh_token",
#                             "scope", ...}
#   fake_oauth_curl PATH CURLARGS...     curl $FAKE_ISSUER/PATH with the CA;
#                             prints the body then a last line "HTTP NNN"
#   fake_oauth_json EXPR      read JSON on stdin, print the Python
#                             expression EXPR over it (named j), e.g.
#                             fake_oauth_json 'j["access_token"]'
#
# Registered clients: pub (public), conf-basic / fake-basic-secret
# (client_secret_basic only), conf-post / fake-post-secret
# (client_secret_post only).  Scopes: a:read a:write b:read.

. "$JANEE_SRCDIR/tests/lib/fake.sh"

fake_oauth_start() {
	_plain='' _iss='' _host=''
	while [ $# -gt 0 ]; do
		case "$1" in
		--plain-http) _plain=1 ;;
		--issuer-override | --host)
			[ $# -ge 2 ] || { echo "fake_oauth_start: $1 needs a value" >&2; return 2; }
			case "$1" in --host) _host=$2 ;; *) _iss=$2 ;; esac
			shift ;;
		*) echo "fake_oauth_start: unknown option $1" >&2; return 2 ;;
		esac
		shift
	done
	set --
	[ -z "$_plain" ] || set -- "$@" --plain-http
	[ -z "$_iss" ] || set -- "$@" --issuer-override "$_iss"
	[ -z "$_host" ] || set -- "$@" --host "$_host"
	fake_start oauth "$@" || return 1
	FAKE_PORT=$FAKE_STARTED_PORT
	case "${_host:-127.0.0.1}" in
	*:*) _h="[$_host]" ;;
	*) _h=${_host:-127.0.0.1} ;;
	esac
	if [ -n "$_plain" ]; then
		FAKE_ISSUER="http://$_h:$FAKE_PORT"
	else
		FAKE_ISSUER="https://$_h:$FAKE_PORT"
	fi
	FAKE_CA="$TMP/ca/ca.pem"
	FAKE_PID=$FAKE_STARTED_PID
	FAKE_LOG=$FAKE_STARTED_LOG
	export FAKE_ISSUER FAKE_CA FAKE_PID FAKE_PORT FAKE_LOG
}

fake_oauth_stop() {
	[ -n "${FAKE_PID:-}" ] || return 0
	fake_stop "$FAKE_PID"
	FAKE_PID=
}

fake_oauth_stop_all() {
	fake_stop_all
	FAKE_PID=
}

# fake_oauth_curl PATH ARGS...: body on stdout, then "HTTP NNN"
fake_oauth_curl() {
	_path=$1
	shift
	curl -sS --max-time 30 --cacert "$FAKE_CA" -w '\nHTTP %{http_code}\n' \
		"$@" "$FAKE_ISSUER$_path"
}

fake_oauth_control() { fake_control "$FAKE_ISSUER" "$FAKE_CA" "$1"; }

fake_oauth_reset() { fake_oauth_control '{"reset": true}' >/dev/null; }

fake_oauth_fault() {
	fake_oauth_control "{\"fault\": {\"path\": \"$1\", \"kind\": \"$2\", \"count\": ${3:-1}${4:+, $4}}}" >/dev/null
}

fake_oauth_calls() {
	if [ $# -gt 0 ]; then
		curl -sS --max-time 10 --cacert "$FAKE_CA" -G \
			--data-urlencode "path=$1" "$FAKE_ISSUER/_calls"
	else
		curl -sS --max-time 10 --cacert "$FAKE_CA" "$FAKE_ISSUER/_calls"
	fi
}

fake_oauth_count() {
	fake_oauth_calls "$1" | "${PYTHON3:-python3}" -S -c '
import json, sys
gt = sys.argv[1] if len(sys.argv) > 1 else None
print(sum(1 for c in json.load(sys.stdin) if gt is None or c["grant_type"] == gt))
' ${2:+"$2"}
}

fake_oauth_tokens() {
	curl -sS --max-time 10 --cacert "$FAKE_CA" "$FAKE_ISSUER/_tokens"
}

fake_oauth_grant() {
	_req="{\"grant\": {\"client_id\": \"$1\"${2:+, \"scope\": \"$2\"}}}"
	fake_oauth_control "$_req" | fake_oauth_json 'json.dumps(j["grant"])'
}

fake_oauth_json() { fake_json "$1"; }
