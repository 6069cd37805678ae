#!/bin/sh
# janee exec: the token in the command's environment and nowhere else,
# stdio passed through byte for byte, exit status and signals passed on,
# the lease ended when the command exits or when the lease ends first
# (--on-expiry kill | keep), several leases, out-of-band approval.
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home
# A second provider for the several-leases case.
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
  "t": {"type": "test", "state_dir": "$TMP/prov",
    "scopes": ["read", "write", "admin"], "default_scopes": ["read"],
    "max_ttl": "1h", "approval": "auto"},
  "u": {"type": "test", "state_dir": "$TMP/prov",
    "scopes": ["read", "write"], "default_scopes": ["read"],
    "max_ttl": "1h", "approval": "auto"},
  "db": {"type": "test", "state_dir": "$TMP/prov", "parts": "login",
    "scopes": ["read"], "default_scopes": ["read"],
    "max_ttl": "1h", "approval": "auto"}}}
JSON
chmod 600 "$JANEE_HOME/config.json"

lease_state() {
	"$JANEE" lease show "$1" --json 2>/dev/null |
		"$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["state"])'
}
# the lease id janee exec named on stderr, or the newest lease
newest_lease() {
	"$JANEE" lease list --all --json 2>/dev/null | "$PYTHON3" -c '
import json, sys
ls = json.load(sys.stdin)
print(max(ls, key=lambda l: l["created_at"])["id"] if ls else "")'
}
wait_for() { # FILE [TRIES]
	_n=0
	while [ ! -s "$1" ] && [ $_n -lt "${2:-100}" ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	[ -s "$1" ]
}

# --- the token: in the child's environment, nowhere else -------------
cat >"$TMP/child.sh" <<'EOF'
# the token to a file for the checks (a test may look at it; janee not)
printf '%s' "$T_TOKEN" >"$TMP/token"
# janee's own argv and environment, from its child
tr '\0' '\n' </proc/$PPID/cmdline >"$TMP/parent-argv"
tr '\0' '\n' </proc/$PPID/environ >"$TMP/parent-env"
tr '\0' '\n' </proc/$$/cmdline >"$TMP/child-argv"
env >"$TMP/child-env"
ls "$TMP/prov" | grep -vc calls.log >"$TMP/live-during"
exit 7
EOF
export TMP
leak_secret passphrase not-for-the-child
JANEE_PASSPHRASE=not-for-the-child jr exec t --scope read --ttl 10m -- sh "$TMP/child.sh"
expect_rc 7 "exec exits with the command's status"
tok=$(cat "$TMP/token")
check "the command got a test token in T_TOKEN" \
	sh -c "printf '%s' '$tok' | grep -Eq '^tst_[A-Za-z0-9]{40}$'"
check "janee wrote nothing to stdout" [ ! -s "$TMP/out" ]
expect_not_in "$TMP/err" "$tok" "the token is not in janee's stderr"
expect_not_in "$TMP/parent-argv" "$tok" "the token is not in janee's argv"
expect_not_in "$TMP/parent-env" "$tok" "the token is not in janee's environment"
expect_not_in "$TMP/child-argv" "$tok" "the token is not in the command's argv"
check "the token was live while the command ran" [ "$(cat "$TMP/live-during")" -eq 1 ]
check "the token is dead once the command exited" [ "$(live_tokens)" -eq 0 ]
lease=$(newest_lease)
check "the lease was revoked when the command exited" [ "$(lease_state "$lease")" = revoked ]
expect_not_in "$TMP/child-env" '^JANEE_PASSPHRASE=' "the store passphrase does not reach the command"
# The same script, run plainly and through janee exec, sees the same
# descriptors (a shell running a script holds one or two of its own).
echo 'ls /proc/$$/fd' >"$TMP/fds.sh"
sh "$TMP/fds.sh" >"$TMP/plain-fds" 2>/dev/null
"$JANEE" exec t -- sh "$TMP/fds.sh" >"$TMP/child-fds" 2>/dev/null
if cmp -s "$TMP/plain-fds" "$TMP/child-fds"; then
	ok "the command inherits no descriptor of janee's"
else
	not_ok "the command inherits no descriptor of janee's"
	echo "  plain: $(tr '\n' ' ' <"$TMP/plain-fds"); under janee: $(tr '\n' ' ' <"$TMP/child-fds")" >&2
fi
for f in "$JANEE_HOME/janee.db" "$JANEE_HOME/janee.db-wal"; do
	[ -f "$f" ] || continue
	if grep -qF "$tok" "$f"; then
		not_ok "the ledger holds no token ($(basename "$f"))"
	else
		ok "the ledger holds no token ($(basename "$f"))"
	fi
done
"$JANEE" audit list --json >"$TMP/audit" 2>&1
expect_not_in "$TMP/audit" "$tok" "the audit trail holds no token"
expect_in "$TMP/audit" '"detail": ?"janee exec sh"' "the lease's reason names the command"

# --- stdio passes through byte for byte -------------------------------
head -c 200000 /dev/urandom >"$TMP/blob"
"$JANEE" exec t -- cat <"$TMP/blob" >"$TMP/blob.out" 2>"$TMP/err"
check "binary stdin reaches stdout unchanged" cmp -s "$TMP/blob" "$TMP/blob.out"
printf 'line one\n{"jsonrpc":"2.0","id":1}\n\nlast line without newline' >"$TMP/lines"
"$JANEE" exec t -- sh -c 'while IFS= read -r l || [ -n "$l" ]; do printf "%s\n" "$l"; done' \
	<"$TMP/lines" >"$TMP/lines.out" 2>"$TMP/err"
printf '\n' >>"$TMP/lines"
check "a line-echoing command sees every line" cmp -s "$TMP/lines" "$TMP/lines.out"
check "stderr of janee stays empty when all goes well" [ ! -s "$TMP/err" ]

# --- exit statuses ------------------------------------------------------
jr exec t -- sh -c 'exit 0'
expect_rc 0 "status 0 passes through"
jr exec t -- sh -c 'kill -TERM $$'
expect_rc 143 "death by SIGTERM is 128+15"
jr exec t -- sh -c 'kill -KILL $$'
expect_rc 137 "death by SIGKILL is 128+9"
n=$(mints)
jr exec t -- "$TMP/no-such-command"
expect_rc 1 "a command that does not exist is an error"
expect_in "$TMP/err" "cannot run '$TMP/no-such-command'" "and says which"
check "nothing is minted for a command that cannot run" [ "$(mints)" -eq "$n" ]
jr exec t
expect_rc 2 "a provider without a command is a usage error"
jr exec -- true
expect_rc 2 "a command with nothing to give it is a usage error"
jr exec nosuch -- true
expect_rc 2 "an unknown provider without a lease to give is a usage error"
expect_in "$TMP/err" "'nosuch' is not a provider" "and says the provider is unknown"
jr exec t --on-expiry later -- true
expect_rc 2 "--on-expiry takes kill or keep"
jr exec t --env 'BAD NAME' -- true
expect_rc 2 "an invalid variable name is refused"
check "all tokens are dead after the failures" [ "$(live_tokens)" -eq 0 ]

# --- signals are forwarded ---------------------------------------------
# The command is Python, not sh: a shell cannot trap a signal that was
# ignored when it started (POSIX), and a CI runner may start everything
# with SIGHUP ignored (nohup); the test is of janee's forwarding.
cat >"$TMP/sig.py" <<'EOF'
import os, signal, sys, time
sigs = os.path.join(os.environ["TMP"], "sigs")
def note(n, f):
    name = signal.Signals(n).name[3:]
    with open(sigs, "a") as out:
        out.write(name + "\n")
    if n == signal.SIGTERM:
        sys.exit(42)
for s in (signal.SIGUSR1, signal.SIGHUP, signal.SIGTERM):
    signal.signal(s, note)
with open(os.path.join(os.environ["TMP"], "ready"), "w") as r:
    r.write("ready\n")
while True:
    time.sleep(0.1)
EOF
rm -f "$TMP/ready" "$TMP/sigs"
"$JANEE" exec t -- "$PYTHON3" "$TMP/sig.py" </dev/null >"$TMP/out" 2>"$TMP/err" &
jpid=$!
wait_for "$TMP/ready"
# Each signal is sent once the one before reached the command: on a
# loaded machine a fixed pause let two arrive at once, and pending
# signals are delivered in signal-number order (HUP before USR1).
sig_seen() { # NAME: the command recorded it (up to 10 s)
	_n=0
	while ! grep -qx "$1" "$TMP/sigs" 2>/dev/null && [ $_n -lt 100 ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
}
kill -USR1 $jpid
sig_seen USR1
kill -HUP $jpid
sig_seen HUP
kill -TERM $jpid
wait $jpid
echo $? >"$TMP/rc"
expect_rc 42 "after SIGTERM janee exits with the command's own status"
got=$(tr '\n' ' ' <"$TMP/sigs")
check "SIGUSR1, SIGHUP and SIGTERM reached the command, in order" \
	[ "$got" = "USR1 HUP TERM " ]
[ "$got" = "USR1 HUP TERM " ] || echo "  the command recorded: $got" >&2
check "the lease ended with the command" [ "$(live_tokens)" -eq 0 ]

# --- the lease ends while the command runs -----------------------------
rm -f "$TMP/ready"
jr exec t --ttl 2s -- sh -c 'echo ready >"$TMP/ready"; sleep 30'
expect_rc 143 "--on-expiry kill (the default) stops the command at lease end"
expect_in "$TMP/err" 'lease lse_[a-z2-7]+ \(t\) expired; stopping .sh. \(--on-expiry kill\)' \
	"and says so on stderr"
check "the expired lease's token is dead" [ "$(live_tokens)" -eq 0 ]
check "the lease is expired" [ "$(lease_state "$(newest_lease)")" = expired ]

start=$(date +%s)
jr exec t --ttl 1s -- sh -c 'trap "" TERM; sleep 30'
end=$(date +%s)
expect_rc 137 "a command that ignores SIGTERM is killed after the grace time"
check "after about five seconds" [ $((end - start)) -ge 5 ] && [ $((end - start)) -lt 20 ]

jr exec t --ttl 1s --on-expiry keep -- sh -c 'sleep 3; echo still here; exit 5'
expect_rc 5 "--on-expiry keep lets the command finish"
expect_in "$TMP/out" '^still here$' "its output passed through"
expect_in "$TMP/err" 'keeps running, its token no longer works \(--on-expiry keep\)' \
	"and the lease's end is said on stderr"
check "the token was revoked at its end all the same" [ "$(live_tokens)" -eq 0 ]

# A lease revoked from another terminal ends the command too.
rm -f "$TMP/ready"
"$JANEE" exec t --ttl 10m -- sh -c 'echo ready >"$TMP/ready"; sleep 30' \
	</dev/null >"$TMP/out" 2>"$TMP/err" &
jpid=$!
wait_for "$TMP/ready"
"$JANEE" lease revoke "$(newest_lease)" >/dev/null 2>&1
wait $jpid
echo $? >"$TMP/rc"
expect_rc 143 "janee lease revoke stops the command it was given to"
expect_in "$TMP/err" 'was revoked; stopping' "with a message saying why"

# --- several leases --------------------------------------------------------
jr exec t --scope write --lease u:U_TOK:read,write --lease t:SECOND: -- sh -c '
	[ -n "$T_TOKEN" ] && [ -n "$U_TOK" ] && [ -n "$SECOND" ] || exit 3
	[ "$T_TOKEN" != "$U_TOK" ] && [ "$U_TOK" != "$SECOND" ] || exit 4
	ls "$TMP/prov" | grep -vc calls.log'
expect_rc 0 "three leases, three variables, three tokens"
check "all three were live at once" [ "$(out)" -eq 3 ]
check "and all three are dead after" [ "$(live_tokens)" -eq 0 ]
"$JANEE" lease list --all --json >"$TMP/leases" 2>/dev/null
check "each lease has the scopes asked for" "$PYTHON3" -c '
import json, sys
ls = sorted(json.load(open(sys.argv[1])), key=lambda l: l["created_at"])[-3:]
got = sorted((l["provider"], tuple(l["requested_scopes"])) for l in ls)
assert got == [("t", ("read",)), ("t", ("write",)), ("u", ("read", "write"))], got
assert all(l["state"] == "revoked" for l in ls), ls
' "$TMP/leases"
jr exec t --lease t:T_TOKEN:read -- true
expect_rc 2 "two tokens for one variable are refused"
jr exec t --lease 'u' -- true
expect_rc 2 "a malformed --lease is refused"
jr exec t --scope nope -- true
expect_rc 1 "a scope outside the policy is refused"
check "refusals leave no token" [ "$(live_tokens)" -eq 0 ]

# A failure at the second lease ends the first.
jr exec t --lease u:U_TOK:admin -- true
expect_rc 1 "a refused second lease stops exec"
check "and the first lease's token was ended" [ "$(live_tokens)" -eq 0 ]

# --- approval out of band (no terminal) -----------------------------------
"$PYTHON3" - "$JANEE_HOME/config.json" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["providers"]["t"]["approval"] = "out-of-band"
c["providers"]["u"]["approval"] = "ask"
json.dump(c, open(p, "w"))
EOF
for how in approve deny; do
	rm -f "$TMP/err"
	setsid "$JANEE" exec t -- sh -c 'echo "got ${#T_TOKEN}"' \
		</dev/null >"$TMP/out" 2>"$TMP/err" &
	jpid=$!
	n=0
	until grep -q 'waits for your approval' "$TMP/err" 2>/dev/null || [ $n -ge 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	id=$(sed -n "s/.*lease \(lse_[a-z2-7]*\) for 't' waits.*/\1/p" "$TMP/err")
	check "out-of-band: janee exec says on stderr what to run ($how)" [ -n "$id" ]
	"$JANEE" approvals >"$TMP/pending" 2>&1
	expect_in "$TMP/pending" "$id" "the request is listed by janee approvals ($how)"
	"$JANEE" "$how" "$id" >/dev/null 2>&1
	wait $jpid
	echo $? >"$TMP/rc"
	if [ $how = approve ]; then
		expect_rc 0 "after janee approve the command runs"
		expect_in "$TMP/out" '^got 44$' "with its token"
	else
		expect_rc 1 "after janee deny exec fails"
		expect_in "$TMP/err" "denied" "saying it was denied"
		check "and the command did not run" [ ! -s "$TMP/out" ]
	fi
done
check "no live token remains after the approvals" [ "$(live_tokens)" -eq 0 ]

# --- a token of several parts: each in the variable its provider names --
cat >"$TMP/parts.sh" <<'EOF'
env | grep '^TEST_' | sort >"$TMP/parts-env"
printf '%s' "${DB_URL:-}" >"$TMP/parts-dburl"
EOF
TEST_HOST=inherited jr exec db -- sh "$TMP/parts.sh"
expect_rc 0 "exec with a provider whose tokens have parts"
expect_in "$TMP/parts-env" '^TEST_USER=tst_lse_[a-z2-7]{26}$' "the user part in TEST_USER"
expect_in "$TMP/parts-env" '^TEST_PASSWORD=pw_[A-Za-z0-9]{29}$' "the password in TEST_PASSWORD"
expect_in "$TMP/parts-env" '^TEST_URL=test://tst_lse_[a-z2-7]{26}:pw_[A-Za-z0-9]{29}@test.invalid/db$' \
	"the URL, its primary part, in TEST_URL"
expect_in "$TMP/parts-env" '^TEST_HOST=test.invalid$' "the host in TEST_HOST, not the inherited value"
check "exactly those four" [ "$(wc -l <"$TMP/parts-env")" -eq 4 ]
jr exec db --env DB_URL -- sh "$TMP/parts.sh"
check "--env NAME takes the primary part only" \
	sh -c "grep -q '^test://tst_lse_' '$TMP/parts-dburl' && ! grep -q '^TEST_URL=' '$TMP/parts-env' && grep -q '^TEST_PASSWORD=' '$TMP/parts-env'"
before=$(mints)
jr exec db --lease db:OTHER_URL: -- true
expect_rc 2 "two leases whose parts go to the same variables are refused"
expect_in "$TMP/err" "the variable TEST_(USER|PASSWORD|HOST) gets two tokens" "naming the variable"
check "before anything is minted" [ "$(mints)" -eq "$before" ]
check "no live token remains after the parts" [ "$(live_tokens)" -eq 0 ]

# ask with a terminal: a y/N question there (script(1) gives a terminal)
if command -v script >/dev/null 2>&1; then
	(sleep 1; printf 'y\n') | script -qec "'$JANEE' exec u -- sh -c 'echo ran \${#U_TOKEN}'" \
		/dev/null >"$TMP/tty.out" 2>&1
	expect_in "$TMP/tty.out" "grant \\[\"read\"\\] on 'u' for .* to run 'sh'\\? \\[y/N\\]" \
		"approval ask on a terminal: the question names scopes, provider and command"
	expect_in "$TMP/tty.out" '^ran 44' "answered y, the command runs with its token"
	(sleep 1; printf 'n\n') | script -qec "'$JANEE' exec u -- sh -c 'echo ran'" \
		/dev/null >"$TMP/tty.out" 2>&1
	expect_in "$TMP/tty.out" 'denied at the terminal' "answered n, exec is denied"
	expect_not_in "$TMP/tty.out" '^ran' "and the command does not run"
else
	skip "approval ask on a terminal" "script(1) is not installed"
fi

# ask without a terminal waits for janee approve too
rm -f "$TMP/err"
setsid "$JANEE" exec u -- true </dev/null >"$TMP/out" 2>"$TMP/err" &
jpid=$!
n=0
until grep -q 'waits for your approval' "$TMP/err" 2>/dev/null || [ $n -ge 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
id=$(sed -n "s/.*lease \(lse_[a-z2-7]*\) for 'u' waits.*/\1/p" "$TMP/err")
check "approval ask with no terminal waits out of band" [ -n "$id" ]
kill -TERM $jpid
wait $jpid
echo $? >"$TMP/rc"
expect_rc 143 "a waiting exec ends on SIGTERM"
check "and its request is closed as denied" [ "$(lease_state "$id")" = denied ]

done_testing
