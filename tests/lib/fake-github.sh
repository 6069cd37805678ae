# Fake GitHub for the integration scripts (sourced after tests/lib.sh).  The
# server is tests/fixtures/fake_github.mjs (Node.js, built-ins only); its
# header comment lists every endpoint and the /_control JSON.
#
# Functions
#   fake_github_app_key DIR
#       A throwaway GitHub App key: DIR/app.pem (RSA 2048, PKCS#8, mode
#       600) and DIR/app.pub (its public key), made with the openssl CLI.
#   fake_github_start --public-key FILE [--client-secret-file FILE]
#       Starts the server (fake_start github, tests/lib/fake.sh).
#       Exports FAKE_GH (https://127.0.0.1:PORT: both the API base URL and
#       the device-login base URL), FAKE_GH_CA (CA certificate, PEM),
#       FAKE_GH_PID, FAKE_GH_LOG (never holds a secret) and
#       FAKE_GH_CAPTURE (every secret value the fake saw or issued, one a
#       line: the needles for leak checks).
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

. "$JANEE_SRCDIR/tests/lib/fake.sh"

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
	set -- --public-key "$_pub"
	[ -z "$_sec" ] || set -- "$@" --client-secret-file "$_sec"
	fake_start github "$@" || return 1
	FAKE_GH="https://127.0.0.1:$FAKE_STARTED_PORT"
	FAKE_GH_CA="$TMP/ca/ca.pem"
	FAKE_GH_PID=$FAKE_STARTED_PID
	FAKE_GH_LOG=$FAKE_STARTED_LOG
	FAKE_GH_CAPTURE="$FAKE_DIR/capture"
	export FAKE_GH FAKE_GH_CA FAKE_GH_PID FAKE_GH_LOG FAKE_GH_CAPTURE
}

fake_github_stop_all() {
	fake_stop_all
	FAKE_GH_PID=
}

fake_github_control() { fake_control "$FAKE_GH" "$FAKE_GH_CA" "$1"; }

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

fake_github_json() { fake_json "$1"; }
