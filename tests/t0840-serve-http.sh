#!/bin/sh
# janee serve --http: MCP Streamable HTTP (protocol 2025-11-25) and the
# 2026-07-28 stateless form, many sessions in one process.  The official
# SDK's Streamable HTTP client (tests/mcp/http.mjs) drives the handshake,
# tools, request_token with the test provider, an elicitation over SSE,
# an out-of-band wait with progress, URL mode through janee's page, two
# (and twenty) sessions with separate identities, a lease's end on the
# GET stream and DELETE; raw requests (curl) check what the transport refuses: a
# foreign Origin or Host 403, a body over 1 MiB 413, a missing session id
# 400, an unknown one 404, a wrong MCP-Protocol-Version 400, 405/406/415,
# the rate limit 429 with Retry-After, idle sessions ending, a network
# address refused without authentication, and HTTPS with a throwaway CA.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/ca.sh"

if ! command -v node >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
	skip "janee serve --http" "node or curl is not installed"
	exit 0
fi
if sh "$JANEE_SRCDIR/tests/mcp/install.sh"; then
	ok "the MCP SDK is installed (tests/mcp/install.sh)"
else
	not_ok "the MCP SDK is installed (tests/mcp/install.sh)"
	exit 1
fi

"$JANEE" init --key-backend keyfile >/dev/null 2>&1
mkdir -p "$TMP/prov"
test_prov() { # test_prov NAME APPROVAL [EXTRA JSON MEMBERS]
	printf '"%s": {"type": "test", "state_dir": "%s", "approval": "%s",
  "scopes": ["read", "write"], "max_ttl": "1h" %s}' \
		"$1" "$TMP/prov" "$2" "${3:-}"
}
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 $(test_prov auto auto),
 $(test_prov short auto),
 $(test_prov ask ask),
 $(test_prov oob out-of-band ', "approval_wait": "20s"'),
 $(test_prov oobq out-of-band ', "approval_wait": "1s"')}}
JSON
chmod 600 "$JANEE_HOME/config.json"

# serve_http NAME [OPTIONS...]: start janee serve --http on a port the
# kernel picks; sets PORT and PID_NAME (the pid, in $TMP/NAME.pid).
serve_http() {
	_n=$1
	shift
	"$JANEE" serve --http 127.0.0.1:0 "$@" 2>"$TMP/$_n.err" &
	echo $! >"$TMP/$_n.pid"
	PORT=
	for _i in $(seq 1 100); do
		PORT=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$TMP/$_n.err")
		[ -n "$PORT" ] && break
		sleep 0.1
	done
	[ -n "$PORT" ]
}
# serve_stop NAME: SIGTERM; its exit status (checked: a crash, or a leak
# under ASan, is a failure), its stderr shown when not 0.
serve_stop() {
	kill "$(cat "$TMP/$1.pid")" 2>/dev/null
	wait "$(cat "$TMP/$1.pid")"
	_st=$?
	[ "$_st" -eq 0 ] || sed 's/^/  /' "$TMP/$1.err" >&2
	return "$_st"
}

ACCEPT='Accept: application/json, text/event-stream'
JSON_CT='Content-Type: application/json'
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
LIST='{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
# status URL [curl options...]: the HTTP status; headers in $TMP/h, body in $TMP/b
status() {
	curl -s -o "$TMP/b" -D "$TMP/h" -w '%{http_code}' "$@"
}
init_session() { # the session id of a new session on $1 (a URL)
	status -X POST "$1" -H "$JSON_CT" -H "$ACCEPT" -d "$INIT" >/dev/null
	tr -d '\r' <"$TMP/h" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p'
}

if serve_http main; then ok "janee serve --http 127.0.0.1:0 listens"; else
	not_ok "janee serve --http 127.0.0.1:0 listens"
	cat "$TMP/main.err" >&2
	done_testing
	exit 1
fi
URL="http://127.0.0.1:$PORT/mcp"

# --- the SDK's Streamable HTTP client ---------------------------------
export JANEE TMP
JANEE_URL=$URL node "$JANEE_SRCDIR/tests/mcp/http.mjs" 2>"$TMP/node.err"
st=$?
cat "$TMP/node.err" >&2
check "the SDK scenarios exit 0" [ "$st" -eq 0 ]

# --- raw requests: what the transport refuses --------------------------
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Origin: http://127.0.0.1:$PORT" -d "$INIT")
check "an initialize from this server's own Origin is answered 200 (the control)" [ "$st" = 200 ]
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Origin: http://evil.example" -d "$INIT")
check "a foreign Origin: 403 (DNS rebinding)" [ "$st" = 403 ]
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Origin: null" -d "$INIT")
check "Origin null: 403" [ "$st" = 403 ]
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Host: evil.example:$PORT" -d "$INIT")
check "a Host that does not name this loopback server: 403" [ "$st" = 403 ]
head -c 1100000 /dev/zero | tr '\0' ' ' >"$TMP/big"
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" --data-binary @"$TMP/big")
check "a body over 1 MiB: 413" [ "$st" = 413 ]
# Declared too large: answered from the headers, the body never read (a
# server that waited for it would hold the connection 30 s).
st=$(status --max-time 5 -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Content-Length: 2000000" -d x)
crc=$?
check "a Content-Length over 1 MiB: 413 at once, before the body" eval '[ "$crc" -eq 0 ] && [ "$st" = 413 ]'
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -d "$LIST")
check "tools/list without Mcp-Session-Id: 400" [ "$st" = 400 ]
SID=$(init_session "$URL")
check "initialize answers an Mcp-Session-Id header" [ ${#SID} -eq 64 ]
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: 2025-11-25" -d "$LIST")
check "tools/list with the session id: 200 (the control)" eval '[ "$st" = 200 ] && grep -q request_token "$TMP/b"'
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $(printf '%064d' 7)" -d "$LIST")
check "an unknown session id: 404" [ "$st" = 404 ]
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: ../../etc" -d "$LIST")
check "a malformed session id: 404" [ "$st" = 404 ]
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: 1999-01-01" -d "$LIST")
check "an unsupported MCP-Protocol-Version: 400" [ "$st" = 400 ]
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: 2025-06-18" -d "$LIST")
check "a version other than the session's: 400" [ "$st" = 400 ]
st=$(status -X POST "$URL" -H "Content-Type: text/plain" -H "$ACCEPT" -H "Mcp-Session-Id: $SID" -d "$LIST")
check "a body that is not application/json: 415" [ "$st" = 415 ]
st=$(status -X POST "$URL" -H "$JSON_CT" -H "Accept: application/json" -H "Mcp-Session-Id: $SID" -d "$LIST")
check "a POST that does not accept text/event-stream: 406" [ "$st" = 406 ]
st=$(status -X PUT "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $SID" -d "$LIST")
check "PUT: 405 with Allow" eval '[ "$st" = 405 ] && grep -qi '\''^allow: GET, POST, DELETE'\'' "$TMP/h"'
st=$(status -X POST "http://127.0.0.1:$PORT/other" -H "$JSON_CT" -H "$ACCEPT" -d "$INIT")
check "another path: 404" [ "$st" = 404 ]
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $SID" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}')
check "a notification: 202" [ "$st" = 202 ]
st=$(status --max-time 10 -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $SID" -d "[$LIST]")
crc=$?
check "a batch in a 2025-11-25 session is answered (an error), not left open" eval '[ "$crc" -eq 0 ] && [ "$st" = 200 ] && grep -qi '\''^content-type: application/json'\'' "$TMP/h" && grep -q '\''"code":-32600'\'' "$TMP/b"'
st=$(status --max-time 10 -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $SID" -d '{"jsonrpc":"2.0","id":7,')
check "a body that is not JSON is answered -32700" eval '[ "$st" = 200 ] && grep -q '\''"code":-32700'\'' "$TMP/b"'
# Protocol 2025-03-26 allows batches; one without a request gets no
# answer, so it is accepted (202) like a single notification, not given
# a stream nothing would end (a connection held for ever).
S26=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -d "$(echo "$INIT" | sed 's/2025-11-25/2025-03-26/')" >/dev/null &&
	tr -d '\r' <"$TMP/h" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
H26="MCP-Protocol-Version: 2025-03-26"
st=$(status --max-time 5 -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $S26" -H "$H26" \
	-d '[{"jsonrpc":"2.0","method":"notifications/initialized"}]')
crc=$?
check "2025-03-26: a batch of notifications only: 202 at once" eval '[ "$crc" -eq 0 ] && [ "$st" = 202 ]'
st=$(status --max-time 5 -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $S26" -H "$H26" \
	-d '[{"jsonrpc":"2.0","id":77,"result":{}},{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}}]')
crc=$?
check "2025-03-26: a batch of a response and a notification: 202 at once" eval '[ "$crc" -eq 0 ] && [ "$st" = 202 ]'
st=$(status --max-time 5 -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $S26" -H "$H26" \
	-d "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},$LIST]")
crc=$?
check "2025-03-26: a batch with a request is answered (the control)" eval '[ "$crc" -eq 0 ] && [ "$st" = 200 ] && grep -q request_token "$TMP/b"'
st=$(status -X DELETE "$URL" -H "Mcp-Session-Id: $SID")
check "DELETE ends the session: 200" [ "$st" = 200 ]
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $SID" -d "$LIST")
check "and then it is unknown: 404" [ "$st" = 404 ]

# The 2026-07-28 form: no session, the version in the header and _meta.
META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"curl-sl","version":"1"}}'
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "MCP-Protocol-Version: 2026-07-28" -H "Mcp-Method: server/discover" \
	-d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\",\"params\":{$META}}")
check "2026-07-28: server/discover without a session is answered" eval '[ "$st" = 200 ] && grep -q '\''"supportedVersions"'\'' "$TMP/b" && ! grep -qi '\''^mcp-session-id'\'' "$TMP/h"'
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "MCP-Protocol-Version: 2026-07-28" \
	-d "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"request_token\",\"arguments\":{\"provider\":\"auto\",\"scopes\":[\"read\"],\"ttl_seconds\":60,\"reason\":\"stateless\"},$META}}")
check "2026-07-28: request_token without a session gives a token" eval '[ "$st" = 200 ] && grep -q '\''"resultType":"complete"'\'' "$TMP/b" && grep -q '\''"token"'\'' "$TMP/b"'
sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$TMP/b" >>"$TMP/tokens"
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "MCP-Protocol-Version: 2026-07-28" -H "Mcp-Method: tools/call" \
	-d "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\",\"params\":{$META}}")
check "2026-07-28: an Mcp-Method header that differs from the body: 400" [ "$st" = 400 ]
CALLP="{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"list_providers\",\"arguments\":{},$META}}"
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "MCP-Protocol-Version: 2026-07-28" -H "Mcp-Method: tools/call" -H "Mcp-Name: list_providers" -d "$CALLP")
check "2026-07-28: Mcp-Method and Mcp-Name that mirror the body: 200 (the control)" eval '[ "$st" = 200 ] && grep -q '\''"auto"'\'' "$TMP/b"'
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "MCP-Protocol-Version: 2026-07-28" -H "Mcp-Method: tools/call" -H "Mcp-Name: revoke_token" -d "$CALLP")
check "2026-07-28: an Mcp-Name header that differs from the tool called: 400" [ "$st" = 400 ]
# A form's approval: input_required.  The call's session ends with its
# answer; what it kept for the requestState goes with it (a leak under
# ASan otherwise, seen at serve_stop), and the lease stays requested.
METAF=$(echo "$META" | sed 's/clientCapabilities":{}/clientCapabilities":{"elicitation":{"form":{}}}/')
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "MCP-Protocol-Version: 2026-07-28" \
	-d "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"request_token\",\"arguments\":{\"provider\":\"ask\",\"scopes\":[\"read\"],\"ttl_seconds\":60,\"reason\":\"stateless form\"},$METAF}}")
check "2026-07-28: a form's approval answers input_required with a requestState" eval '[ "$st" = 200 ] && grep -q '\''"resultType":"input_required"'\'' "$TMP/b" && grep -q '\''"requestState"'\'' "$TMP/b"'
st=$(status "$URL" -H "Accept: text/event-stream")
check "a GET stream without a session: 405" [ "$st" = 405 ]

# --- the ledger: each session's own identity ----------------------------
jr lease list --all --json
check "leases of the HTTP sessions name their client and a session each" "$PYTHON3" -c '
import json, sys
ls = json.load(open(sys.argv[1]))
a = {l["session"] for l in ls if l["client"] == "http-a/1.2.3"}
b = {l["session"] for l in ls if l["client"] == "http-b/1.2.3"}
assert len(a) == 1 and len(b) == 1 and a != b, (a, b)
sids = open(sys.argv[2]).read().split()
# The ledger never holds the HTTP session id (it would let its reader in).
assert not (a | b) & set(sids), "an Mcp-Session-Id is in the ledger"
' "$TMP/out" "$TMP/sids"
# A session with its GET stream open while janee serve is stopped.
SID=$(init_session "$URL")
curl -s -N --max-time 20 "$URL" -H "Accept: text/event-stream" -H "Mcp-Session-Id: $SID" >"$TMP/get.out" 2>/dev/null &
getpid=$!
sleep 0.5
serve_stop main
st=$?
check "janee serve --http exits 0 on SIGTERM with a session and its GET stream open" [ "$st" -eq 0 ]
wait "$getpid"
check "and the GET stream was ended (not left hanging)" [ $? -ne 28 ]
st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -d "$INIT")
check "nothing listens after it" [ "$st" = 000 ]

# --- limits: rate, idle, sessions ---------------------------------------
if serve_http rate --rate-limit 20; then
	URL="http://127.0.0.1:$PORT/mcp"
	n429=0
	for i in $(seq 1 30); do
		st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -d "$LIST")
		[ "$st" = 429 ] && n429=$((n429 + 1)) && cp "$TMP/h" "$TMP/h429"
	done
	check "--rate-limit 20: 30 requests at once meet 429s" [ "$n429" -ge 5 ]
	check "with Retry-After" grep -qi '^retry-after: [1-9]' "$TMP/h429"
	serve_stop rate
	check "janee serve --http (rate) exits 0 on SIGTERM" [ $? -eq 0 ]
else not_ok "janee serve --http --rate-limit starts"; fi

if serve_http idle --session-idle 3s --max-sessions 2; then
	URL="http://127.0.0.1:$PORT/mcp"
	S2=$(init_session "$URL")
	S1=$(init_session "$URL")
	st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -d "$INIT")
	check "--max-sessions 2: a third session is refused 503" [ "$st" = 503 ]
	# S1 is used every half second for 4 s; S2 is left alone.
	used=0
	for i in 1 2 3 4 5 6 7 8; do
		sleep 0.5
		st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $S1" -d "$LIST")
		[ "$st" = 200 ] && used=$((used + 1))
	done
	check "a session in use does not expire (the control)" [ "$used" -eq 8 ]
	st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $S2" -d "$LIST")
	check "--session-idle 3s: a session unused for 4 s is gone (404)" [ "$st" = 404 ]
	S3=$(init_session "$URL")
	check "and its place is free again" [ ${#S3} -eq 64 ]
	st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $S3" \
		-d '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"request_token","arguments":{"provider":"oobq","scopes":["read"],"ttl_seconds":60,"reason":"left waiting"}}}')
	LID=$(grep -o 'lse_[a-z2-7]*' "$TMP/b" | head -1)
	check "a request that waits for a person answers pending, as an SSE stream" eval '[ "$st" = 200 ] && [ -n "$LID" ] && grep -qi '\''^content-type: text/event-stream'\'' "$TMP/h"'
	sleep 3.6
	st=$(status -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $S3" -d "$LIST")
	check "the idle session ended" [ "$st" = 404 ]
	jr lease list --all --json
	check "and its pending request ended with it (denied)" "$PYTHON3" -c '
import json, sys
l = [l for l in json.load(open(sys.argv[1])) if l["id"] == sys.argv[2]]
assert l and l[0]["state"] == "denied", l
' "$TMP/out" "$LID"
	serve_stop idle
	check "janee serve --http (idle) exits 0 on SIGTERM" [ $? -eq 0 ]
else not_ok "janee serve --http --session-idle starts"; fi

# A request in flight past --session-idle: its session is not idle, and
# no idle timer for it may come due (a timer due at once spins the loop).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
if [ -r /proc/self/stat ] && serve_http spin --session-idle 1s; then
	URL="http://127.0.0.1:$PORT/mcp"
	S4=$(init_session "$URL")
	spid=$(cat "$TMP/spin.pid")
	t0=$(cpu_ticks "$spid")
	curl -s -N --max-time 4 -X POST "$URL" -H "$JSON_CT" -H "$ACCEPT" -H "Mcp-Session-Id: $S4" \
		-d '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"request_token","arguments":{"provider":"oob","scopes":["read"],"ttl_seconds":60,"reason":"waits"}}}' >"$TMP/spin.out" 2>/dev/null &
	cpid=$!
	sleep 3.5
	t1=$(cpu_ticks "$spid")
	wait "$cpid"
	check "a request waiting 3.5 s past --session-idle 1s: janee serve stays idle (CPU $((t1 - t0)) ticks, under 50)" [ $((t1 - t0)) -lt 50 ]
	serve_stop spin
	check "janee serve --http (spin) exits 0 on SIGTERM" [ $? -eq 0 ]
else skip "the idle timer with a request in flight" "no /proc, or janee serve did not start"; fi

# --- no network without authentication ----------------------------------
"$JANEE" serve --http 0.0.0.0:0 >"$TMP/out" 2>"$TMP/err"
echo $? >"$TMP/rc"
check "--http 0.0.0.0 without authentication is refused" [ "$(rc)" -ne 0 ]
check "saying why" grep -q "unauthenticated credential broker must not listen on a network" "$TMP/err"
"$JANEE" serve --tls-cert x >"$TMP/out" 2>"$TMP/err"
check "--tls-cert without --http is a usage error" [ $? -ne 0 ]

# --- TLS with a throwaway CA ---------------------------------------------
if make_test_ca "$TMP/ca" && serve_http tls --tls-cert "$TMP/ca/server.pem" --tls-key "$TMP/ca/server.key"; then
	st=$(status -X POST "https://127.0.0.1:$PORT/mcp" --cacert "$TMP/ca/ca.pem" -H "$JSON_CT" -H "$ACCEPT" -H "Origin: https://127.0.0.1:$PORT" -d "$INIT")
	check "HTTPS: initialize verified against the test CA: 200" eval '[ "$st" = 200 ] && grep -q '\''"protocolVersion"'\'' "$TMP/b"'
	st=$(status -X POST "https://127.0.0.1:$PORT/mcp" -H "$JSON_CT" -H "$ACCEPT" -d "$INIT")
	check "HTTPS: a client without the CA does not trust it" [ "$st" = 000 ]
	st=$(status -X POST "http://127.0.0.1:$PORT/mcp" -H "$JSON_CT" -H "$ACCEPT" -d "$INIT")
	check "plain HTTP to the TLS port gets no MCP answer" [ "$st" != 200 ]
	serve_stop tls
	check "janee serve --http (tls) exits 0 on SIGTERM" [ $? -eq 0 ]
else not_ok "janee serve --http with --tls-cert starts"; cat "$TMP/tls.err" >&2; fi
"$JANEE" serve --http 127.0.0.1:0 --tls-cert "$TMP/ca/ca.key" --tls-key "$TMP/ca/ca.pem" >"$TMP/out" 2>"$TMP/err"
check "a key and certificate that are not a pair are refused" [ $? -ne 0 ]

# --- no token where it does not belong ------------------------------------
if [ -s "$TMP/tokens" ]; then
	if grep -qaFf "$TMP/tokens" "$TMP/main.err" "$TMP/node.err"; then
		not_ok "no token in janee serve's stderr"
	else ok "no token in janee serve's stderr"; fi
else not_ok "tokens were collected for the leak check"; fi
done_testing
