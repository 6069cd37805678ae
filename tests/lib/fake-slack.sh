# Fake Slack for the integration scripts (sourced after tests/lib.sh).  The
# server is tests/fixtures/fake_slack.mjs (Node.js, built-ins only); its
# header lists the apps, every endpoint and the /_control JSON.
#
# Functions
#   fake_slack_start
#       Makes the test CA under $TMP/ca (make_test_ca, tests/lib/ca.sh) if
#       there is none, starts the server in the background and waits (up
#       to 10 s) for it.  Exports SLACK_URL (https://127.0.0.1:PORT),
#       SLACK_CA (the CA certificate), SLACK_PID and SLACK_LOG (the
#       server's log; never holds a token, secret or code).  The first
#       start puts a stop of every server started here in front of the
#       EXIT trap that is set (tests/lib.sh's rm -rf "$TMP" is kept).
#   fake_slack_stop_all        stop every server started by this script
#   fake_slack_control JSON    POST JSON to /_control and print the answer;
#                              fails on a non-200 answer (a typo'd key)
#   fake_slack_calls [API]     the call log (JSON array), or the calls of
#                              one Web API method (oauth.v2.access, ...)
#   fake_slack_state           counts of installs and live tokens (JSON)
#   fake_slack_api METHOD TOKEN [CURLARGS...]
#                              call a Web API method with a bearer token;
#                              prints the JSON answer
#   fake_slack_json EXPR       read JSON on stdin and print the Python
#                              expression EXPR over it (named j)

FAKE_SLACK_MJS="$JANEE_SRCDIR/tests/fixtures/fake_slack.mjs"
NODE=${NODE:-node}
_fake_slack_pids=
_fake_slack_n=0
_fake_slack_trapped=

. "$JANEE_SRCDIR/tests/lib/ca.sh"

_fake_slack_grab_trap() {
	case "${3:-}" in EXIT | 0) _fake_slack_old_trap=${2:-} ;; esac
	return 0
}

# Put "stop the servers" in front of whatever EXIT trap is set now.
_fake_slack_chain_trap() {
	[ -n "$_fake_slack_trapped" ] && return 0
	_fake_slack_old_trap=
	trap >"$TMP/.fake-slack-traps"
	eval "$(sed 's/^trap -- /_fake_slack_grab_trap -- /' \
		"$TMP/.fake-slack-traps")"
	rm -f "$TMP/.fake-slack-traps"
	[ -n "$_fake_slack_old_trap" ] || _fake_slack_old_trap='capture_keep; rm -rf "$TMP"'
	trap "fake_slack_stop_all; $_fake_slack_old_trap" EXIT
	_fake_slack_trapped=1
}

fake_slack_start() {
	command -v "$NODE" >/dev/null 2>&1 || {
		echo "fake-slack: node not found" >&2
		return 1
	}
	if [ ! -s "$TMP/ca/server.pem" ]; then
		make_test_ca "$TMP/ca" || return 1
	fi
	_fake_slack_chain_trap
	_fake_slack_n=$((_fake_slack_n + 1))
	_dir="$TMP/fake-slack.$_fake_slack_n"
	mkdir -p "$_dir"
	"$NODE" "$FAKE_SLACK_MJS" --cert "$TMP/ca/server.pem" \
		--key "$TMP/ca/server.key" --port-file "$_dir/port" \
		--log "$_dir/server.log" --parent-pid $$ \
		>>"$_dir/server.log" 2>&1 </dev/null &
	_pid=$!
	_fake_slack_pids="$_fake_slack_pids $_pid"
	_i=0
	while [ ! -s "$_dir/port" ]; do
		if ! kill -0 "$_pid" 2>/dev/null || [ $_i -ge 100 ]; then
			echo "fake-slack: the server did not start; its log:" >&2
			sed 's/^/  /' "$_dir/server.log" >&2
			kill "$_pid" 2>/dev/null
			return 1
		fi
		_i=$((_i + 1))
		sleep 0.1
	done
	SLACK_URL="https://127.0.0.1:$(cat "$_dir/port")"
	SLACK_CA="$TMP/ca/ca.pem"
	SLACK_PID=$_pid
	SLACK_LOG="$_dir/server.log"
	export SLACK_URL SLACK_CA SLACK_PID SLACK_LOG
}

fake_slack_stop_all() {
	for _p in $_fake_slack_pids; do
		kill "$_p" 2>/dev/null || continue
		_j=0
		while kill -0 "$_p" 2>/dev/null && [ $_j -lt 50 ]; do
			_j=$((_j + 1))
			sleep 0.1
		done
		kill -9 "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	_fake_slack_pids=
}

fake_slack_control() {
	_out=$(curl -sS --max-time 10 --cacert "$SLACK_CA" \
		-H 'Content-Type: application/json' --data-binary "$1" \
		-w '\n%{http_code}' "$SLACK_URL/_control") || return 1
	_code=${_out##*
}
	printf '%s\n' "${_out%
*}"
	[ "$_code" = 200 ]
}

fake_slack_calls() {
	if [ $# -gt 0 ]; then
		curl -sS --max-time 10 --cacert "$SLACK_CA" -G \
			--data-urlencode "api=$1" "$SLACK_URL/_calls"
	else
		curl -sS --max-time 10 --cacert "$SLACK_CA" "$SLACK_URL/_calls"
	fi
}

fake_slack_state() {
	curl -sS --max-time 10 --cacert "$SLACK_CA" "$SLACK_URL/_state"
}

# The token goes in a header read from stdin, never into curl's argv.
fake_slack_api() {
	_m=$1 _t=$2
	shift 2
	printf 'Authorization: Bearer %s\n' "$_t" |
		curl -sS --max-time 10 --cacert "$SLACK_CA" -H @- "$@" \
			-X POST "$SLACK_URL/api/$_m"
}

fake_slack_json() {
	"${PYTHON3:-python3}" -S -c '
import json, sys
j = json.load(sys.stdin)
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (dict, list, bool)) or r is None else r)
' "$1"
}
