# Fake Slack for the integration scripts (sourced after tests/lib.sh).  The
# server is tests/fixtures/fake_slack.mjs (Node.js, built-ins only); its
# header lists the apps, every endpoint and the /_control JSON.
#
# Functions
#   fake_slack_start
#       Starts the server (fake_start slack, tests/lib/fake.sh).  Exports
#       SLACK_URL (https://127.0.0.1:PORT),
#       SLACK_CA (the CA certificate), SLACK_PID and SLACK_LOG (the
#       server's log; never holds a token, secret or code).
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

. "$JANEE_SRCDIR/tests/lib/fake.sh"

fake_slack_start() {
	fake_start slack || return 1
	SLACK_URL="https://127.0.0.1:$FAKE_STARTED_PORT"
	SLACK_CA="$TMP/ca/ca.pem"
	SLACK_PID=$FAKE_STARTED_PID
	SLACK_LOG=$FAKE_STARTED_LOG
	export SLACK_URL SLACK_CA SLACK_PID SLACK_LOG
}

fake_slack_stop_all() { fake_stop_all; }

fake_slack_control() { fake_control "$SLACK_URL" "$SLACK_CA" "$1"; }

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

fake_slack_json() { fake_json "$1"; }
