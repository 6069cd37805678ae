# janee's approval page from the tests (sourced after tests/lib.sh): the
# page served by `janee approvals --open --no-browser`, spoken to with
# curl (a cookie jar per browser session), and requests left waiting by
# `janee token` in the background.

# page_start: serve the page in the background; PAGE_LINK (the one-time
# link it printed), PAGE_ORIGIN, PAGE_PORT, page_pid.
page_start() {
	"$JANEE" approvals --open --no-browser >"$TMP/page.out" \
	    2>"$TMP/page.err" &
	page_pid=$!
	_ps_n=0
	until [ -s "$TMP/page.out" ] || [ $_ps_n -ge 150 ]; do
		sleep 0.1
		_ps_n=$((_ps_n + 1))
	done
	PAGE_LINK=$(head -n 1 "$TMP/page.out")
	PAGE_ORIGIN=${PAGE_LINK%%/open*}
	PAGE_PORT=${PAGE_ORIGIN##*:}
}

page_stop() {
	kill "$page_pid" 2>/dev/null
	wait "$page_pid" 2>/dev/null
}

# page_open LINK JAR: spend a one-time link; prints the status, keeps the
# headers in $TMP/open.hdr and the session cookie in JAR.
page_open() {
	curl -s -o /dev/null -D "$TMP/open.hdr" -w '%{http_code}' -c "$2" "$1"
}

# page_get JAR [PATH [CURL ARGS...]]: GET into $TMP/page.html (headers in
# $TMP/page.hdr); prints the status.
page_get() {
	_pg_jar=$1
	_pg_path=${2:-/}
	shift
	[ $# -gt 0 ] && shift
	curl -s -o "$TMP/page.html" -D "$TMP/page.hdr" -w '%{http_code}' \
	    -b "$_pg_jar" "$@" "$PAGE_ORIGIN$_pg_path"
}

# The CSRF token of the last page fetched.
page_csrf() {
	sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$TMP/page.html" |
	    head -n 1
}

# page_post JAR PATH DATA [CURL ARGS...]: a form POST; prints the status,
# the answer in $TMP/post.html and its headers in $TMP/post.hdr.
page_post() {
	_pp_jar=$1 _pp_path=$2 _pp_data=$3
	shift 3
	curl -s -o "$TMP/post.html" -D "$TMP/post.hdr" -w '%{http_code}' \
	    -b "$_pp_jar" --data "$_pp_data" "$@" "$PAGE_ORIGIN$_pp_path"
}

# token_bg NAME ARGS...: janee token in the background with no terminal
# (it waits for a person); $TMP/NAME.out and .err, and the lease it
# waits for in tlease, its pid in tpid.
token_bg() {
	_tb=$1
	shift
	setsid -w "$JANEE" token "$@" </dev/null >"$TMP/$_tb.out" \
	    2>"$TMP/$_tb.err" &
	tpid=$!
	_tb_n=0
	until grep -q "waits for your approval" "$TMP/$_tb.err" ||
	    [ $_tb_n -ge 300 ]; do
		sleep 0.1
		_tb_n=$((_tb_n + 1))
	done
	tlease=$(sed -n 's/.*lease \(lse_[a-z2-7]*\) for .* waits.*/\1/p' \
	    "$TMP/$_tb.err" | head -n 1)
}

# lease_state ID: the lease's state, from janee lease show --json.
lease_state() {
	"$JANEE" lease show "$1" --json 2>/dev/null |
	    "$PYTHON3" -c 'import json, sys; print(json.load(sys.stdin)["state"])'
}

# lease_field ID FIELD
lease_field() {
	"$JANEE" lease show "$1" --json 2>/dev/null |
	    "$PYTHON3" -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1]))' "$2"
}
