# Drive the loopback OAuth 2.0 test peer (tests/peers/oidc-server.mjs)
# from the integration scripts.  POSIX sh, sourced after tests/lib.sh
# (needs $TMP, $JANEE_SRCDIR).  Uses curl, python3 ($PYTHON3), openssl,
# node and npm.
#
# Server:
#   oidc_start [--device-ttl N] [--access-ttl N]
#       start the peer (stopping one already started; all its grants and
#       tokens are then forgotten); exports OIDC_ISSUER
#       (https://127.0.0.1:PORT), OIDC_PORT, OIDC_CA (the CA that signed
#       its certificate, $TMP/ca/ca.pem), OIDC_PID.  Its log is
#       $TMP/oidc.log.  Killed when the script exits (the EXIT trap of
#       tests/lib.sh is kept), or within a second if the script is killed.
#   oidc_stop
#       stop it; OIDC_ISSUER and OIDC_CA stay set, so a test can then
#       check how a client copes with a dead server.  (A script that sets
#       its own EXIT trap after oidc_start must call oidc_stop itself.)
#
# Clients (see tests/peers/README.md): janee-public (no secret),
# janee-basic ($OIDC_BASIC_SECRET, HTTP Basic only), janee-post
# ($OIDC_POST_SECRET, secret in the body only).  $OIDC_DEVICE_GRANT is the
# device grant's grant_type.
#
# Device pages (what a person does in a browser), by user code:
#   oidc_approve USER_CODE [LOGIN]   log in (any LOGIN, default "alice")
#                                    and consent to everything asked
#   oidc_deny USER_CODE              press "abort": the client then gets
#                                    access_denied
#
# Looking at tokens (authenticated as janee-basic, which may introspect
# any client's token):
#   oidc_introspect TOKEN|@FILE      print the introspection JSON
#
# Plain OAuth client calls, for self-tests (tokens stay in files):
#   oidc_post PATH OUT CLIENT SECRET [NAME=VALUE | NAME@FILE]...
#       POST a form to $OIDC_ISSUER$PATH authenticating as CLIENT with
#       the client's method (empty SECRET: public client, client_id in
#       the body; janee-post: client_secret_post; otherwise HTTP Basic).
#       NAME@FILE takes the value from FILE.  The body goes to OUT, the
#       HTTP status is printed.
#   oidc_device_poll CLIENT SECRET DEVICE_CODE_FILE OUT [SECONDS]
#       poll the token endpoint until the device grant ends (status 0 on
#       a token, 1 on an error: the error body is in OUT).
#   oidc_field FILE KEY              print a (non-secret) JSON member
#   oidc_save_field FILE KEY OUT     copy a JSON member to OUT (mode 600)
#
# Nothing here prints a token or a client secret, except what the
# introspection endpoint answers (which holds no token).

. "$JANEE_SRCDIR/tests/lib/ca.sh"

OIDC_BASIC_SECRET=basic-secret-0123456789abcdef
OIDC_POST_SECRET=post-secret-0123456789abcdef
leak_secret oidc-client-secret "$OIDC_BASIC_SECRET"
leak_secret oidc-client-secret "$OIDC_POST_SECRET"
OIDC_DEVICE_GRANT=urn:ietf:params:oauth:grant-type:device_code
: "${PYTHON3:=python3}"

_oidc_peers="$JANEE_SRCDIR/tests/peers"
_oidc_trap_set=

_oidc_err() { echo "oidc: $*" >&2; }

# Keep lib.sh's EXIT trap (rm -rf "$TMP") and stop the server first.
_oidc_chain_exit_trap() {
	[ -n "$_oidc_trap_set" ] && return 0
	_oidc_prev_exit='capture_keep; rm -rf "$TMP"'
	trap >"$TMP/.oidc-traps"
	_oidc_line=$(grep ' EXIT$' "$TMP/.oidc-traps" | head -n 1)
	rm -f "$TMP/.oidc-traps"
	case $_oidc_line in
	"trap -- '"*"' EXIT")
		_oidc_q=${_oidc_line#trap -- }
		eval "_oidc_prev_exit=${_oidc_q% EXIT}"
		;;
	esac
	trap '_oidc_on_exit' EXIT
	_oidc_trap_set=1
}

_oidc_on_exit() {
	oidc_stop
	eval "$_oidc_prev_exit"
}

oidc_start() {
	_oidc_args=
	while [ $# -gt 0 ]; do
		case $1 in
		--device-ttl | --access-ttl)
			[ $# -ge 2 ] || {
				_oidc_err "oidc_start: $1 needs a value"
				return 2
			}
			_oidc_args="$_oidc_args $1 $2"
			shift 2
			;;
		*)
			_oidc_err "oidc_start: unknown argument $1"
			return 2
			;;
		esac
	done
	oidc_stop
	if [ ! -f "$TMP/ca/server.pem" ]; then
		make_test_ca "$TMP/ca" || return 1
	fi
	sh "$_oidc_peers/install.sh" || return 1
	_oidc_chain_exit_trap

	rm -f "$TMP/oidc.port"
	# shellcheck disable=SC2086 # _oidc_args holds only flags and numbers
	node "$_oidc_peers/oidc-server.mjs" --cert "$TMP/ca/server.pem" \
		--key "$TMP/ca/server.key" --port-file "$TMP/oidc.port" \
		--parent-pid $$ $_oidc_args \
		</dev/null >>"$TMP/oidc.log" 2>&1 &
	OIDC_PID=$!
	export OIDC_PID

	_oidc_i=0
	while [ ! -s "$TMP/oidc.port" ]; do
		if ! kill -0 "$OIDC_PID" 2>/dev/null; then
			_oidc_err "oidc_start: the server died; its log:"
			sed 's/^/  | /' "$TMP/oidc.log" >&2
			wait "$OIDC_PID" 2>/dev/null
			unset OIDC_PID
			return 1
		fi
		_oidc_i=$((_oidc_i + 1))
		if [ "$_oidc_i" -gt 200 ]; then
			_oidc_err "oidc_start: no port after 20 s; its log:"
			sed 's/^/  | /' "$TMP/oidc.log" >&2
			oidc_stop
			return 1
		fi
		sleep 0.1
	done
	OIDC_PORT=$(tr -d ' \n' <"$TMP/oidc.port")
	OIDC_ISSUER="https://127.0.0.1:$OIDC_PORT"
	OIDC_CA="$TMP/ca/ca.pem"
	export OIDC_PORT OIDC_ISSUER OIDC_CA
	return 0
}

oidc_stop() {
	[ -n "${OIDC_PID:-}" ] || return 0
	if kill -TERM "$OIDC_PID" 2>/dev/null; then
		_oidc_i=0
		while kill -0 "$OIDC_PID" 2>/dev/null && [ "$_oidc_i" -lt 50 ]; do
			sleep 0.1
			_oidc_i=$((_oidc_i + 1))
		done
		kill -KILL "$OIDC_PID" 2>/dev/null
	fi
	wait "$OIDC_PID" 2>/dev/null
	unset OIDC_PID
	return 0
}

# _oidc_conf_str VALUE: VALUE quoted for a curl config file
_oidc_conf_str() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

# _oidc_auth CLIENT SECRET: curl config lines authenticating CLIENT
_oidc_auth() {
	if [ -z "$2" ]; then
		echo "data-urlencode = $(_oidc_conf_str "client_id=$1")"
	elif [ "$1" = janee-post ]; then
		echo "data-urlencode = $(_oidc_conf_str "client_id=$1")"
		echo "data-urlencode = $(_oidc_conf_str "client_secret=$2")"
	else
		echo "user = $(_oidc_conf_str "$1:$2")"
	fi
}

_oidc_need_server() {
	[ -n "${OIDC_ISSUER:-}" ] && [ -n "${OIDC_PID:-}" ] || {
		_oidc_err "$1: the server is not running (oidc_start first)"
		return 1
	}
}

oidc_post() {
	[ $# -ge 4 ] || {
		_oidc_err "usage: oidc_post PATH OUT CLIENT SECRET [NAME=VALUE|NAME@FILE]..."
		return 2
	}
	_oidc_need_server oidc_post || return 1
	_oidc_path=$1 _oidc_out=$2 _oidc_client=$3 _oidc_secret=$4
	shift 4
	for _oidc_kv in "$@"; do
		case $_oidc_kv in
		*=*) ;;
		*@*)
			[ -r "${_oidc_kv#*@}" ] || {
				_oidc_err "oidc_post: cannot read ${_oidc_kv#*@}"
				return 1
			}
			;;
		*)
			_oidc_err "oidc_post: bad field $_oidc_kv (NAME=VALUE or NAME@FILE)"
			return 2
			;;
		esac
	done
	_oidc_conf=$(mktemp "$TMP/.oidc-req.XXXXXX") || return 1
	chmod 600 "$_oidc_conf"
	{
		echo "url = $(_oidc_conf_str "$OIDC_ISSUER$_oidc_path")"
		echo "output = $(_oidc_conf_str "$_oidc_out")"
		_oidc_auth "$_oidc_client" "$_oidc_secret"
		for _oidc_kv in "$@"; do
			case $_oidc_kv in
			*=*) _oidc_v="$_oidc_kv" ;;
			*) _oidc_v="${_oidc_kv%%@*}=$(cat "${_oidc_kv#*@}")" ;;
			esac
			echo "data-urlencode = $(_oidc_conf_str "$_oidc_v")"
		done
	} >"$_oidc_conf" || {
		rm -f "$_oidc_conf"
		return 1
	}
	curl -sS --max-time 15 --cacert "$OIDC_CA" -w '%{http_code}\n' \
		-K "$_oidc_conf"
	_oidc_rc=$?
	rm -f "$_oidc_conf"
	return $_oidc_rc
}

oidc_field() {
	"$PYTHON3" - "$1" "$2" <<'EOF'
import json, sys
try:
    v = json.load(open(sys.argv[1])).get(sys.argv[2])
except Exception:
    v = None
if v is not None:
    print(v if isinstance(v, str) else json.dumps(v))
EOF
}

oidc_save_field() {
	(umask 077 && "$PYTHON3" - "$1" "$2" "$3" <<'EOF'
import json, sys
try:
    v = json.load(open(sys.argv[1])).get(sys.argv[2])
except Exception:
    v = None
if not isinstance(v, str) or not v:
    sys.stderr.write("oidc: no %s in %s\n" % (sys.argv[2], sys.argv[1]))
    sys.exit(1)
with open(sys.argv[3], "w") as f:
    f.write(v)
EOF
	)
}

oidc_introspect() {
	[ $# -eq 1 ] || {
		_oidc_err "usage: oidc_introspect TOKEN|@FILE"
		return 2
	}
	_oidc_need_server oidc_introspect || return 1
	case $1 in
	@*) _oidc_tokfile=${1#@} ;;
	*)
		_oidc_tokfile=$(mktemp "$TMP/.oidc-tok.XXXXXX") || return 1
		chmod 600 "$_oidc_tokfile"
		printf '%s' "$1" >"$_oidc_tokfile"
		;;
	esac
	_oidc_body=$(mktemp "$TMP/.oidc-body.XXXXXX") || return 1
	_oidc_status=$(oidc_post /token/introspection "$_oidc_body" \
		janee-basic "$OIDC_BASIC_SECRET" "token@$_oidc_tokfile")
	[ "$_oidc_tokfile" = "${1#@}" ] || rm -f "$_oidc_tokfile"
	if [ "$_oidc_status" != 200 ]; then
		_oidc_err "oidc_introspect: HTTP $_oidc_status"
		sed 's/^/  | /' "$_oidc_body" >&2
		rm -f "$_oidc_body"
		return 1
	fi
	cat "$_oidc_body"
	echo
	rm -f "$_oidc_body"
}

oidc_device_poll() {
	[ $# -ge 4 ] || {
		_oidc_err "usage: oidc_device_poll CLIENT SECRET DEVICE_CODE_FILE OUT [SECONDS]"
		return 2
	}
	_oidc_deadline=$(($(date +%s) + ${5:-30}))
	_oidc_wait=1
	while :; do
		_oidc_status=$(oidc_post /token "$4" "$1" "$2" \
			"grant_type=$OIDC_DEVICE_GRANT" "device_code@$3") || return 1
		[ "$_oidc_status" = 200 ] && return 0
		case $(oidc_field "$4" error) in
		authorization_pending) ;;
		slow_down) _oidc_wait=$((_oidc_wait + 5)) ;;
		*) return 1 ;;
		esac
		if [ "$(date +%s)" -ge "$_oidc_deadline" ]; then
			_oidc_err "oidc_device_poll: still pending after ${5:-30} s"
			return 1
		fi
		sleep "$_oidc_wait"
	done
}

_oidc_xsrf() {
	sed -n 's/.*name="xsrf" value="\([^"]*\)".*/\1/p' "$1" | head -n 1
}

_oidc_marker() {
	sed -n 's/.*data-janee-error="\([^"]*\)".*/\1/p' "$1" | head -n 1
}

# _oidc_device_form JAR PAGE USER_CODE [NAME=VALUE]: load /device, submit
# the user code (plus the extra field); prints "STATUS REDIRECT".
_oidc_device_form() {
	_oidc_r=$(_oidc_get "$1" "$2" "$OIDC_ISSUER/device") || return 1
	case $_oidc_r in
	"200 "*) ;;
	*)
		_oidc_err "GET /device answered ${_oidc_r%% *}"
		return 1
		;;
	esac
	_oidc_x=$(_oidc_xsrf "$2")
	[ -n "$_oidc_x" ] || {
		_oidc_err "no xsrf value on the /device page"
		return 1
	}
	if [ $# -ge 4 ]; then
		_oidc_postf "$1" "$2" "$OIDC_ISSUER/device" "xsrf=$_oidc_x" \
			"user_code=$3" "$4"
	else
		_oidc_postf "$1" "$2" "$OIDC_ISSUER/device" "xsrf=$_oidc_x" \
			"user_code=$3"
	fi
}

# _oidc_get JAR PAGE URL / _oidc_postf JAR PAGE URL FIELD...
_oidc_get() {
	curl -sS --max-time 15 --cacert "$OIDC_CA" -b "$1" -c "$1" -o "$2" \
		-w '%{http_code} %{redirect_url}\n' "$3"
}

_oidc_postf() {
	_oidc_j=$1 _oidc_p=$2 _oidc_u=$3
	shift 3
	_oidc_c=$(mktemp "$TMP/.oidc-form.XXXXXX") || return 1
	for _oidc_kv in "$@"; do
		echo "data-urlencode = $(_oidc_conf_str "$_oidc_kv")"
	done >"$_oidc_c"
	curl -sS --max-time 15 --cacert "$OIDC_CA" -b "$_oidc_j" -c "$_oidc_j" \
		-o "$_oidc_p" -w '%{http_code} %{redirect_url}\n' -K "$_oidc_c" \
		"$_oidc_u"
	_oidc_rc=$?
	rm -f "$_oidc_c"
	return $_oidc_rc
}

oidc_approve() {
	[ $# -ge 1 ] && [ -n "$1" ] || {
		_oidc_err "usage: oidc_approve USER_CODE [LOGIN]"
		return 2
	}
	_oidc_need_server oidc_approve || return 1
	_oidc_tmpd=$(mktemp -d "$TMP/.oidc-web.XXXXXX") || return 1
	_oidc_approve_in "$_oidc_tmpd" "$1" "${2:-alice}"
	_oidc_rc=$?
	rm -rf "$_oidc_tmpd"
	return $_oidc_rc
}

_oidc_approve_in() {
	_oidc_jar="$1/jar" _oidc_pg="$1/page.html"
	: >"$_oidc_jar"
	_oidc_r=$(_oidc_device_form "$_oidc_jar" "$_oidc_pg" "$2") || return 1
	if ! grep -q 'data-janee-page="device-confirm"' "$_oidc_pg"; then
		_oidc_err "oidc_approve: user code $2 refused (HTTP ${_oidc_r%% *}, $(_oidc_marker "$_oidc_pg"))"
		return 1
	fi
	_oidc_x=$(_oidc_xsrf "$_oidc_pg")
	_oidc_r=$(_oidc_postf "$_oidc_jar" "$_oidc_pg" "$OIDC_ISSUER/device" \
		"xsrf=$_oidc_x" "user_code=$2" confirm=yes) || return 1
	# Then: login form, consent form, each followed by a resume redirect,
	# ending on the success page.
	_oidc_steps=0
	while [ "$_oidc_steps" -lt 10 ]; do
		_oidc_steps=$((_oidc_steps + 1))
		_oidc_st=${_oidc_r%% *} _oidc_loc=${_oidc_r#* }
		case $_oidc_st in
		200)
			if grep -q 'data-janee-page="device-success"' "$_oidc_pg"; then
				return 0
			fi
			_oidc_err "oidc_approve: unexpected page ($(_oidc_marker "$_oidc_pg"))"
			return 1
			;;
		30[123]) ;;
		*)
			_oidc_err "oidc_approve: HTTP $_oidc_st ($(_oidc_marker "$_oidc_pg"))"
			return 1
			;;
		esac
		case $_oidc_loc in
		"$OIDC_ISSUER"/interaction/*)
			_oidc_r=$(_oidc_get "$_oidc_jar" "$_oidc_pg" "$_oidc_loc") ||
				return 1
			[ "${_oidc_r%% *}" = 200 ] || {
				_oidc_err "oidc_approve: interaction page HTTP ${_oidc_r%% *}"
				return 1
			}
			if grep -q 'name="prompt" value="login"' "$_oidc_pg"; then
				_oidc_r=$(_oidc_postf "$_oidc_jar" "$_oidc_pg" "$_oidc_loc" \
					prompt=login "login=$3" password=x) || return 1
			elif grep -q 'name="prompt" value="consent"' "$_oidc_pg"; then
				_oidc_r=$(_oidc_postf "$_oidc_jar" "$_oidc_pg" "$_oidc_loc" \
					prompt=consent) || return 1
			else
				_oidc_err "oidc_approve: unknown interaction page"
				return 1
			fi
			;;
		"$OIDC_ISSUER"/device/*)
			_oidc_r=$(_oidc_get "$_oidc_jar" "$_oidc_pg" "$_oidc_loc") ||
				return 1
			;;
		*)
			_oidc_err "oidc_approve: redirected to an unexpected place"
			return 1
			;;
		esac
	done
	_oidc_err "oidc_approve: too many steps"
	return 1
}

oidc_deny() {
	[ $# -eq 1 ] && [ -n "$1" ] || {
		_oidc_err "usage: oidc_deny USER_CODE"
		return 2
	}
	_oidc_need_server oidc_deny || return 1
	_oidc_tmpd=$(mktemp -d "$TMP/.oidc-web.XXXXXX") || return 1
	: >"$_oidc_tmpd/jar"
	_oidc_r=$(_oidc_device_form "$_oidc_tmpd/jar" "$_oidc_tmpd/page.html" \
		"$1" abort=yes)
	_oidc_rc=$?
	_oidc_m=$(_oidc_marker "$_oidc_tmpd/page.html")
	rm -rf "$_oidc_tmpd"
	[ $_oidc_rc -eq 0 ] || return 1
	if [ "${_oidc_r%% *}" = 200 ] && [ "$_oidc_m" = AbortedError ]; then
		return 0
	fi
	_oidc_err "oidc_deny: user code $1 not denied (HTTP ${_oidc_r%% *}, ${_oidc_m:-no error})"
	return 1
}
