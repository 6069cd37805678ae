# Fake GitHub for the integration scripts (sourced after tests/lib.sh).  The
# server is tests/fixtures/fake_github.mjs (Node.js, built-ins only); its
# header comment lists every endpoint and the /_control JSON.
#
# Functions
#   fake_github_app_key DIR
#       A throwaway GitHub App key: DIR/app.pem (RSA 2048, PKCS#8, mode
#       600) and DIR/app.pub (its public key), made with the openssl CLI.
#   fake_github_start --public-key FILE [--client-secret-file FILE]
#       Makes the test CA under $TMP/ca (make_test_ca, tests/lib/ca.sh),
#       starts the server in the background and waits (up to 10 s) for it.
#       Exports FAKE_GH (https://127.0.0.1:PORT: both the API base URL and
#       the device-login base URL), FAKE_GH_CA (CA certificate, PEM),
#       FAKE_GH_PID, FAKE_GH_LOG (never holds a secret) and
#       FAKE_GH_CAPTURE (every secret value the fake saw or issued, one a
#       line: the needles for leak checks).  The first start chains a
#       kill of every server started here onto the EXIT trap (the
#       rm -rf "$TMP" of tests/lib.sh is kept); the server also exits by
#       itself once the script's shell is gone.
#   fake_github_stop_all      stop every server started by this script
#   fake_github_control JSON  POST JSON to /_control; prints the answer,
#                             fails on a non-200 answer (e.g. a typo'd key)
#   fake_github_calls [PATH]  the call log (JSON array), optionally only
#                             the calls whose path contains PATH
#   fake_github_count PATH    number of logged calls whose path contains PATH
#   fake_github_state FILE    what the fake knows of the token in FILE:
#                             {"known", "live", "kind", "ended"}
#   fake_github_live FILE     succeeds when the token in FILE is live
#   fake_github_api PATH TOKENFILE
#                             GET PATH with the token in TOKENFILE as a
#                             bearer token (never in argv); prints the body
#                             then a last line "HTTP NNN"
#   fake_github_json EXPR     read JSON on stdin, print the Python
#                             expression EXPR over it (named j)

FAKE_GITHUB_MJS="$JANEE_SRCDIR/tests/fixtures/fake_github.mjs"
_fake_github_pids=
_fake_github_n=0
_fake_github_trapped=

. "$JANEE_SRCDIR/tests/lib/ca.sh"

fake_github_app_key() {
	_kd=${1:?fake_github_app_key: DIR missing}
	(
		umask 077
		mkdir -p "$_kd" &&
			openssl genpkey -algorithm RSA \
				-pkeyopt rsa_keygen_bits:2048 \
				-out "$_kd/app.pem" 2>"$_kd/err.log" &&
			openssl pkey -in "$_kd/app.pem" -pubout \
				-out "$_kd/app.pub" 2>>"$_kd/err.log"
	) && leak_secret_file github-app-key "$_kd/app.pem" || {
		echo "fake_github_app_key: openssl failed:" >&2
		sed 's/^/  /' "$_kd/err.log" >&2
		return 1
	}
	rm -f "$_kd/err.log"
}

# Put "stop the servers" in front of whatever EXIT trap is set now.
_fake_github_grab_trap() {
	case "${3:-}" in EXIT | 0) _fake_github_old_trap=${2:-} ;; esac
	return 0
}
_fake_github_chain_trap() {
	[ -n "$_fake_github_trapped" ] && return 0
	_fake_github_old_trap=
	trap >"$TMP/.fake-github-traps"
	eval "$(sed 's/^trap -- /_fake_github_grab_trap -- /' \
		"$TMP/.fake-github-traps")"
	rm -f "$TMP/.fake-github-traps"
	[ -n "$_fake_github_old_trap" ] || _fake_github_old_trap='capture_keep; rm -rf "$TMP"'
	trap "fake_github_stop_all; $_fake_github_old_trap" EXIT
	_fake_github_trapped=1
}

_fake_github_sleep() { sleep 0.1 2>/dev/null || sleep 1; }

fake_github_start() {
	_pub='' _sec=''
	while [ $# -gt 0 ]; do
		case "$1" in
		--public-key | --client-secret-file)
			[ $# -ge 2 ] || { echo "fake_github_start: $1 needs a value" >&2; return 2; }
			case "$1" in --public-key) _pub=$2 ;; *) _sec=$2 ;; esac
			shift ;;
		*) echo "fake_github_start: unknown option $1" >&2; return 2 ;;
		esac
		shift
	done
	[ -n "$_pub" ] || { echo "fake_github_start: --public-key is required" >&2; return 2; }
	command -v node >/dev/null 2>&1 || {
		echo "fake_github_start: node not found" >&2
		return 1
	}
	if [ ! -s "$TMP/ca/server.pem" ]; then
		make_test_ca "$TMP/ca" || return 1
	fi
	_fake_github_chain_trap
	_fake_github_n=$((_fake_github_n + 1))
	_dir="$TMP/fake-github.$_fake_github_n"
	mkdir -p "$_dir"
	: >"$_dir/capture"
	chmod 600 "$_dir/capture"
	set -- --cert "$TMP/ca/server.pem" --key "$TMP/ca/server.key" \
		--port-file "$_dir/port" --log "$_dir/server.log" \
		--public-key "$_pub" --capture "$_dir/capture" --parent-pid $$
	[ -z "$_sec" ] || set -- "$@" --client-secret-file "$_sec"
	node "$FAKE_GITHUB_MJS" "$@" >>"$_dir/server.log" 2>&1 </dev/null &
	_pid=$!
	_fake_github_pids="$_fake_github_pids $_pid"
	_i=0
	while [ ! -s "$_dir/port" ]; do
		if ! kill -0 "$_pid" 2>/dev/null || [ $_i -ge 100 ]; then
			echo "fake-github: the server did not start; its log:" >&2
			sed 's/^/  /' "$_dir/server.log" >&2
			_fake_github_kill "$_pid"
			return 1
		fi
		_i=$((_i + 1))
		_fake_github_sleep
	done
	FAKE_GH="https://127.0.0.1:$(cat "$_dir/port")"
	FAKE_GH_CA="$TMP/ca/ca.pem"
	FAKE_GH_PID=$_pid
	FAKE_GH_LOG="$_dir/server.log"
	FAKE_GH_CAPTURE="$_dir/capture"
	export FAKE_GH FAKE_GH_CA FAKE_GH_PID FAKE_GH_LOG FAKE_GH_CAPTURE
}

# _fake_github_kill PID: SIGTERM, wait up to 5 s, then SIGKILL
_fake_github_kill() {
	kill "$1" 2>/dev/null || return 0
	_j=0
	while kill -0 "$1" 2>/dev/null && [ $_j -lt 50 ]; do
		_j=$((_j + 1))
		_fake_github_sleep
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

fake_github_stop_all() {
	for _p in $_fake_github_pids; do
		_fake_github_kill "$_p"
	done
	_fake_github_pids=
	FAKE_GH_PID=
}

fake_github_control() {
	_out=$(curl -sS --max-time 10 --cacert "$FAKE_GH_CA" \
		-H 'Content-Type: application/json' --data-binary "$1" \
		-w '\n%{http_code}' "$FAKE_GH/_control") || return 1
	_code=${_out##*
}
	printf '%s\n' "${_out%
*}"
	[ "$_code" = 200 ]
}

fake_github_calls() {
	if [ $# -gt 0 ]; then
		curl -sS --max-time 10 --cacert "$FAKE_GH_CA" -G \
			--data-urlencode "path=$1" "$FAKE_GH/_calls"
	else
		curl -sS --max-time 10 --cacert "$FAKE_GH_CA" "$FAKE_GH/_calls"
	fi
}

fake_github_count() {
	fake_github_calls "$1" | fake_github_json 'len(j)'
}

fake_github_state() {
	curl -sS --max-time 10 --cacert "$FAKE_GH_CA" \
		-H 'Content-Type: text/plain' --data-binary "@$1" \
		"$FAKE_GH/_token_state"
}

fake_github_live() {
	[ "$(fake_github_state "$1" | fake_github_json 'j["live"]')" = true ]
}

fake_github_api() {
	_hf="$TMP/.fake-github-auth"
	(umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$2")" >"$_hf")
	curl -sS --max-time 30 --cacert "$FAKE_GH_CA" -H "@$_hf" \
		-H 'Accept: application/vnd.github+json' \
		-H 'X-GitHub-Api-Version: 2022-11-28' \
		-w '\nHTTP %{http_code}\n' "$FAKE_GH$1"
	_st=$?
	rm -f "$_hf"
	return $_st
}

fake_github_json() {
	"${PYTHON3:-python3}" -S -c '
import json, sys
j = json.load(sys.stdin)
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (dict, list, bool)) or r is None else r)
' "$1"
}
