# Fake OAuth 2.0 authorization server for the integration scripts
# (sourced after tests/lib.sh).  The server is tests/fixtures/fake_oauth.py;
# its docstring lists every endpoint and the /_control JSON.
#
# Functions
#   fake_oauth_start [--plain-http] [--issuer-override URL] [--host H]
#       Makes the test CA under $TMP/ca (make_test_ca, tests/lib/ca.sh),
#       starts the server in the background and waits (up to 10 s) for it.
#       Exports FAKE_ISSUER (https://127.0.0.1:PORT, or http:// with
#       --plain-http), FAKE_CA (CA certificate, PEM), FAKE_PID, FAKE_PORT
#       and FAKE_LOG (the server's own log, in $TMP; never holds token,
#       secret or code values).  The first start chains a kill of every
#       server started here onto the EXIT trap set by tests/lib.sh (the
#       rm -rf "$TMP" is kept).  A script that sets its own EXIT trap
#       afterwards should call fake_oauth_stop_all in it (the server also
#       exits by itself once the script's shell is gone).
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

FAKE_OAUTH_PY="$JANEE_SRCDIR/tests/fixtures/fake_oauth.py"
_fake_oauth_pids=
_fake_oauth_n=0
_fake_oauth_trapped=

. "$JANEE_SRCDIR/tests/lib/ca.sh"

# The CA and server certificate, made once per script.
_fake_oauth_ca() {
	[ -s "$TMP/ca/server.pem" ] && [ -s "$TMP/ca/server.key" ] && return 0
	make_test_ca "$TMP/ca"
}

# Put "stop the servers" in front of whatever EXIT trap is set now.
_fake_oauth_grab_trap() {
	case "${3:-}" in EXIT | 0) _fake_oauth_old_trap=${2:-} ;; esac
	return 0
}
_fake_oauth_chain_trap() {
	[ -n "$_fake_oauth_trapped" ] && return 0
	_fake_oauth_old_trap=
	trap >"$TMP/.fake-oauth-traps"
	eval "$(sed 's/^trap -- /_fake_oauth_grab_trap -- /' \
		"$TMP/.fake-oauth-traps")"
	rm -f "$TMP/.fake-oauth-traps"
	[ -n "$_fake_oauth_old_trap" ] || _fake_oauth_old_trap='capture_keep; rm -rf "$TMP"'
	trap "fake_oauth_stop_all; $_fake_oauth_old_trap" EXIT
	_fake_oauth_trapped=1
}

_fake_oauth_sleep() { sleep 0.1 2>/dev/null || sleep 1; }

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
	_fake_oauth_ca || return 1
	_fake_oauth_chain_trap
	_fake_oauth_n=$((_fake_oauth_n + 1))
	_dir="$TMP/fake-oauth.$_fake_oauth_n"
	mkdir -p "$_dir"
	set --
	[ -z "$_plain" ] || set -- "$@" --plain-http
	[ -z "$_iss" ] || set -- "$@" --issuer-override "$_iss"
	[ -z "$_host" ] || set -- "$@" --host "$_host"
	"${PYTHON3:-python3}" "$FAKE_OAUTH_PY" --cert "$TMP/ca/server.pem" \
		--key "$TMP/ca/server.key" --port-file "$_dir/port" \
		--log "$_dir/server.log" --parent-pid $$ "$@" \
		>>"$_dir/server.log" 2>&1 </dev/null &
	_pid=$!
	_fake_oauth_pids="$_fake_oauth_pids $_pid"
	_i=0
	while [ ! -s "$_dir/port" ]; do
		if ! kill -0 "$_pid" 2>/dev/null || [ $_i -ge 100 ]; then
			echo "fake-oauth: the server did not start; its log:" >&2
			sed 's/^/  /' "$_dir/server.log" >&2
			_fake_oauth_kill "$_pid"
			return 1
		fi
		_i=$((_i + 1))
		_fake_oauth_sleep
	done
	FAKE_PORT=$(cat "$_dir/port")
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
	FAKE_PID=$_pid
	FAKE_LOG="$_dir/server.log"
	export FAKE_ISSUER FAKE_CA FAKE_PID FAKE_PORT FAKE_LOG
}

# _fake_oauth_kill PID: SIGTERM, wait up to 5 s, then SIGKILL
_fake_oauth_kill() {
	kill "$1" 2>/dev/null || return 0
	_j=0
	while kill -0 "$1" 2>/dev/null && [ $_j -lt 50 ]; do
		_j=$((_j + 1))
		_fake_oauth_sleep
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

fake_oauth_stop() {
	[ -n "${FAKE_PID:-}" ] || return 0
	_fake_oauth_kill "$FAKE_PID"
	_keep=
	for _p in $_fake_oauth_pids; do
		[ "$_p" = "$FAKE_PID" ] || _keep="$_keep $_p"
	done
	_fake_oauth_pids=$_keep
	FAKE_PID=
}

fake_oauth_stop_all() {
	for _p in $_fake_oauth_pids; do
		_fake_oauth_kill "$_p"
	done
	_fake_oauth_pids=
	FAKE_PID=
}

# fake_oauth_curl PATH ARGS...: body on stdout, then "HTTP NNN"
fake_oauth_curl() {
	_path=$1
	shift
	curl -sS --max-time 30 --cacert "$FAKE_CA" -w '\nHTTP %{http_code}\n' \
		"$@" "$FAKE_ISSUER$_path"
}

fake_oauth_control() {
	_out=$(curl -sS --max-time 10 --cacert "$FAKE_CA" \
		-H 'Content-Type: application/json' --data-binary "$1" \
		-w '\n%{http_code}' "$FAKE_ISSUER/_control") || return 1
	_code=${_out##*
}
	printf '%s\n' "${_out%
*}"
	[ "$_code" = 200 ]
}

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

fake_oauth_json() {
	"${PYTHON3:-python3}" -S -c '
import json, sys
j = json.load(sys.stdin)
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (dict, list, bool)) or r is None else r)
' "$1"
}
