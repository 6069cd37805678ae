# The fake servers of the integration scripts, started one way (sourced
# after tests/lib.sh; tests/lib/fake-KIND.sh source it and wrap it).
#
# Functions
#   fake_start KIND [ARGS...]
#       KIND is oauth (tests/fixtures/fake_oauth.py, Python), github,
#       slack or vault (tests/fixtures/fake_KIND.mjs, Node.js).  Makes the
#       test CA under $TMP/ca (make_test_ca, tests/lib/ca.sh) if there is
#       none, starts the server in the background with its certificate, a
#       port file, a log and ARGS, and waits (up to 10 s) for its port.
#       Sets FAKE_DIR (the server's directory, $TMP/fake-KIND.N),
#       FAKE_STARTED_PID, FAKE_STARTED_PORT and FAKE_STARTED_LOG (the
#       server's log: it never holds a token, secret or code).  The github
#       fake also gets FAKE_DIR/capture (mode 600): every secret value it
#       saw or issued, one a line, the needles for leak checks.  The first
#       start puts a stop of every fake started here in front of the EXIT
#       trap that is set (tests/lib.sh's rm -rf "$TMP" is kept); a server
#       also exits by itself once the script's shell is gone.
#   fake_stop PID         stop that server (SIGTERM, 5 s, then SIGKILL)
#   fake_stop_all         stop every fake started by this script
#   fake_control URL CA JSON
#                         POST JSON to URL/_control; prints the answer,
#                         fails on a non-200 answer (e.g. a typo'd key)
#   fake_json EXPR        read JSON on stdin, print the Python expression
#                         EXPR over it (named j)

_fake_pids=
_fake_n=0
_fake_trapped=

. "$JANEE_SRCDIR/tests/lib/ca.sh"

# Put "stop the servers" in front of the EXIT trap, once.
_fake_chain_trap() {
	[ -n "$_fake_trapped" ] && return 0
	chain_exit_trap fake_stop_all
	_fake_trapped=1
}

_fake_sleep() { sleep 0.1 2>/dev/null || sleep 1; }

# _fake_kill PID: SIGTERM, wait up to 5 s, then SIGKILL
_fake_kill() {
	kill "$1" 2>/dev/null || return 0
	_fk_j=0
	while kill -0 "$1" 2>/dev/null && [ $_fk_j -lt 50 ]; do
		_fk_j=$((_fk_j + 1))
		_fake_sleep
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

fake_start() {
	_fs_kind=${1:?fake_start: KIND missing}
	shift
	# The log the server writes (--log), and where its own output goes.
	_fs_log=server.log _fs_out=server.log
	case $_fs_kind in
	oauth) set -- "${PYTHON3:-python3}" \
		"$JANEE_SRCDIR/tests/fixtures/fake_oauth.py" "$@" ;;
	github | slack | vault)
		command -v "${NODE:-node}" >/dev/null 2>&1 || {
			echo "fake-$_fs_kind: node not found" >&2
			return 1
		}
		[ "$_fs_kind" = vault ] && _fs_log=requests.log _fs_out=server.out
		set -- "${NODE:-node}" \
			"$JANEE_SRCDIR/tests/fixtures/fake_$_fs_kind.mjs" "$@" ;;
	*) echo "fake_start: unknown kind '$_fs_kind'" >&2; return 2 ;;
	esac
	if [ ! -s "$TMP/ca/server.pem" ] || [ ! -s "$TMP/ca/server.key" ]; then
		make_test_ca "$TMP/ca" || return 1
	fi
	_fake_chain_trap
	_fake_n=$((_fake_n + 1))
	FAKE_DIR="$TMP/fake-$_fs_kind.$_fake_n"
	mkdir -p "$FAKE_DIR"
	if [ "$_fs_kind" = github ]; then
		: >"$FAKE_DIR/capture"
		chmod 600 "$FAKE_DIR/capture"
		set -- "$@" --capture "$FAKE_DIR/capture"
	fi
	"$@" --cert "$TMP/ca/server.pem" --key "$TMP/ca/server.key" \
		--port-file "$FAKE_DIR/port" --log "$FAKE_DIR/$_fs_log" \
		--parent-pid $$ >>"$FAKE_DIR/$_fs_out" 2>&1 </dev/null &
	FAKE_STARTED_PID=$!
	_fake_pids="$_fake_pids $FAKE_STARTED_PID"
	_fs_i=0
	while [ ! -s "$FAKE_DIR/port" ]; do
		if ! kill -0 "$FAKE_STARTED_PID" 2>/dev/null ||
			[ $_fs_i -ge 100 ]; then
			echo "fake-$_fs_kind: the server did not start; its log:" >&2
			sed 's/^/  /' "$FAKE_DIR/$_fs_out" >&2
			fake_stop "$FAKE_STARTED_PID"
			return 1
		fi
		_fs_i=$((_fs_i + 1))
		_fake_sleep
	done
	touch "$FAKE_DIR/$_fs_log"
	FAKE_STARTED_PORT=$(cat "$FAKE_DIR/port")
	FAKE_STARTED_LOG="$FAKE_DIR/$_fs_log"
}

fake_stop() {
	_fake_kill "$1"
	_fst_keep=
	for _fst_p in $_fake_pids; do
		[ "$_fst_p" = "$1" ] || _fst_keep="$_fst_keep $_fst_p"
	done
	_fake_pids=$_fst_keep
}

fake_stop_all() {
	for _fsa_p in $_fake_pids; do
		_fake_kill "$_fsa_p"
	done
	_fake_pids=
}

fake_control() {
	_fc_out=$(curl -sS --max-time 10 --cacert "$2" \
		-H 'Content-Type: application/json' --data-binary "$3" \
		-w '\n%{http_code}' "$1/_control") || return 1
	_fc_code=${_fc_out##*
}
	printf '%s\n' "${_fc_out%
*}"
	[ "$_fc_code" = 200 ]
}

fake_json() {
	"${PYTHON3:-python3}" -S -c '
import json, sys
j = json.load(sys.stdin)
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (dict, list, bool)) or r is None else r)
' "$1"
}
