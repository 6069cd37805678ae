#!/bin/sh
# Text an agent sends reaches a person escaped, and a spreadsheet never
# runs it (issue 12, findings 7 and 6).  An MCP client names itself with
# C1 controls, a bidi override and a formula behind a semicolon, and gives
# a reason with ESC, BEL, U+202E, U+2066 and U+0085: `janee approvals`,
# `janee lease show`, `janee lease list`, the elicitation message and the
# CSV export each show it without a raw control character, and the CSV
# quotes and neutralizes it.
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home || { not_ok "a janee home"; exit 1; }
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 "oob": {"type": "test", "state_dir": "$TMP/prov", "approval": "out-of-band",
  "approval_wait": "60s", "scopes": ["read"], "max_ttl": "1h"},
 "ask": {"type": "test", "state_dir": "$TMP/prov", "approval": "ask",
  "scopes": ["read"], "max_ttl": "1h"}}}
JSON
chmod 600 "$JANEE_HOME/config.json"

# What an agent may send, as JSON escapes (cJSON decodes them to UTF-8).
CLIENT='a;=cmd|'"'"' /C calc'"'"'!A0\u009b31m\u202eevil'
REASON='fix the docs\u001b]0;pwned\u0007 \u202etxt.exe\u2066x\u2069\u0085\u200f end'

# unsafe FILE: whether FILE holds a character that must not reach a
# person raw (C0 but newline, DEL, C1, bidi controls, U+2028/9).
unsafe() {
	"$PYTHON3" -c '
import re, sys
t = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
bad = re.compile("[\x00-\x09\x0b-\x1f\x7f\x80-\x9f\u061c\u200e\u200f"
                 "\u202a-\u202e\u2066-\u2069\u2028\u2029]")
sys.exit(0 if bad.search(t) else 1)' "$1"
}
shown_safe() { ! unsafe "$1"; }

# session PROVIDER CAPS: a serve session that asks one request_token and
# stays open (stdin on fd 6) until session_end.
session() {
	rm -f "$TMP/in"
	mkfifo "$TMP/in"
	"$JANEE" serve <"$TMP/in" >"$TMP/serve.out" 2>"$TMP/serve.err" &
	spid=$!
	exec 6>"$TMP/in"
	printf '%s\n' \
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":$2,\"clientInfo\":{\"name\":\"$CLIENT\",\"version\":\"1\"}}}" \
	    '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"request_token\",\"arguments\":{\"provider\":\"$1\",\"scopes\":[\"read\"],\"ttl_seconds\":60,\"reason\":\"$REASON\"}}}" >&6
}
session_end() {
	exec 6>&-
	wait "$spid"
}
# wait_for FILE PATTERN: until grep -q finds it (slow under valgrind)
wait_for() {
	n=0
	until grep -q -- "$2" "$1" 2>/dev/null || [ $n -ge 600 ]; do
		sleep 0.1
		n=$((n + 1))
	done
}

# --- out-of-band: what janee approvals shows -----------------------------
session oob '{}'
n=0
until "$JANEE" approvals --json 2>/dev/null | grep -q lse_ || [ $n -ge 600 ]; do
	sleep 0.1
	n=$((n + 1))
done
jr approvals
expect_rc 0 "janee approvals lists the waiting request"
check "invariant (finding 7): janee approvals shows no raw control or bidi character of the agent's" \
    shown_safe "$TMP/out"
check "the reason is shown with each control escaped, the rest as sent" \
    grep -qF 'reason: fix the docs\x1b]0;pwned\x07 \u202etxt.exe\u2066x\u2069\u0085\u200f end' "$TMP/out"
check "the client's name is shown with its C1 and bidi controls escaped" \
    grep -qF "asked by a;=cmd|' /C calc'!A0\\u009b31m\\u202eevil/1" "$TMP/out"
lease=$(sed -n 's/^\(lse_[a-z2-7]*\) .*/\1/p' "$TMP/out" | head -1)
jr approvals --json
check "approvals --json keeps the exact text (JSON escapes it)" "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d[0]["reason"] == "fix the docs\x1b]0;pwned\x07 \u202etxt.exe\u2066x\u2069\x85\u200f end", d
' "$TMP/out"
session_end

jr lease show "$lease"
expect_rc 0 "lease show of the denied request"
check "janee lease show shows no raw control or bidi character" \
    shown_safe "$TMP/out"
check "lease show escapes the reason" \
    grep -qF 'fix the docs\x1b]0;pwned\x07 \u202etxt.exe' "$TMP/out"
jr lease list --all
check "janee lease list shows no raw control or bidi character" \
    shown_safe "$TMP/out"

# --- ask: the elicitation message a person reads -------------------------
session ask '{"elicitation":{}}'
wait_for "$TMP/serve.out" '"elicitation/create"'
session_end
check "janee asks through an elicitation" grep -q '"elicitation/create"' "$TMP/serve.out"
check "invariant (finding 7): the elicitation message holds no raw control or bidi character" \
    "$PYTHON3" -c '
import json, re, sys
bad = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
for line in open(sys.argv[1], encoding="utf-8"):
    m = json.loads(line)
    if m.get("method") == "elicitation/create":
        msg = m["params"]["message"]
        assert not bad.search(msg), ascii(msg)
        assert "\\u202etxt.exe" in msg and "\\x1b]0;pwned\\x07" in msg, msg
        assert "calc'"'"'!A0\\u009b31m\\u202eevil/1 asks" in msg, msg
        break
else:
    sys.exit(1)
' "$TMP/serve.out"
check "janee serve's stderr holds no raw control or bidi character" \
    shown_safe "$TMP/serve.err"

# --- the CSV export: one cell, no formula ---------------------------------
jr audit export --format csv
expect_rc 0 "audit export --format csv"
cp "$TMP/out" "$TMP/audit.csv"
check "invariant (finding 6): no cell a spreadsheet may cut from the CSV starts a formula" \
    "$PYTHON3" "$JANEE_SRCDIR/tests/csvcheck.py" "$TMP/audit.csv" --crlf \
    --no-formula --columns 12
check "the client's name is one quoted field, its formula behind an apostrophe" \
    grep -qF "\"a;'=cmd|' /C calc'!A0" "$TMP/audit.csv"
check "and reads back as one field with the exact name" "$PYTHON3" -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
name = "a;'"'"'=cmd|'"'"' /C calc'"'"'!A0\x9b31m\u202eevil/1 session "
names = [r["client"] for r in rows if r["client"].startswith("a;")]
assert names and all(n.startswith(name) for n in names), names
' "$TMP/audit.csv"

done_testing
