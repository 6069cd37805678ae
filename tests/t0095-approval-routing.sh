#!/bin/sh
# The broker alone decides how a request is approved (issue 12, findings 1
# and 2): require_out_of_band is applied to the scopes as they will be
# granted (defaults filled in), for every front end: janee serve, janee
# token and janee exec.  A front end only says what it can do (ask on a
# terminal, ask through its MCP client, wait for `janee approve`).
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home
# policy MEMBERS: provider "t" with exactly these policy members.
policy() {
	cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {"t": {"type": "test", "state_dir": "$TMP/prov",
  "scopes": ["read", "write", "admin"], "max_ttl": "1h", $1}}}
JSON
}
# Every front end's request goes through one policy: auto, except the
# scopes named here, which need a person at a terminal.
policy '"approval": "auto", "default_scopes": ["read", "write"],
  "require_out_of_band": ["write", "admin"], "approval_wait": "2s"'

# request ARGS: one request_token over a fresh session (answer in
# $TMP/serve.out)
request() {
	serve_open t0095
	serve_call 2 "$1"
	serve_close
}

# Finding 1: no scopes asked for means the defaults, and the defaults hold
# a scope that needs out-of-band approval: the request waits for a person.
request '{"provider":"t","reason":"finding 1"}'
expect_in "$TMP/serve.out" 'pending: lease lse_' \
    "finding 1: request_token without scopes waits when a default scope needs out-of-band approval"
expect_not_in "$TMP/serve.out" '"token":' "finding 1: and no token comes back"
check "finding 1: nothing was minted" [ "$(mints)" -eq 0 ]
request '{"provider":"t","scopes":["read"],"reason":"read only"}'
expect_in "$TMP/serve.out" '"token":"' "request_token for read alone is approved by policy"
check "and minted once" [ "$(mints)" -eq 1 ]
jr audit list --provider t --event approved --json
check "the policy's approval is audited as such" "$PYTHON3" -c '
import json, sys
ev = json.load(open(sys.argv[1]))
assert len(ev) == 1 and ev[0]["detail"] == "by policy (approval: auto)", ev' "$TMP/out"

# Finding 2: janee token honours require_out_of_band: it waits for janee
# approve (no terminal: setsid detaches it), then prints the token.
token_bg() { # token_bg ARGS...: janee token in the background, no terminal
	# Emptied first: the background redirection may come after the
	# wait below has read the last run's "waits for your approval".
	: >"$TMP/tok.err"
	setsid -w "$JANEE" token "$@" </dev/null >"$TMP/tok.out" 2>"$TMP/tok.err" &
	tpid=$!
	n=0
	until grep -q "waits for your approval" "$TMP/tok.err" || [ $n -ge 300 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	tlease=$(sed -n "s/.*lease \(lse_[a-z2-7]*\) for 't' waits.*/\1/p" "$TMP/tok.err")
	if [ -z "$tlease" ]; then
		echo "  janee token $* said nothing of waiting after $n tries:" >&2
		sed 's/^/  stderr: /' "$TMP/tok.err" >&2
		"$JANEE" lease list --all >&2
	fi
}
policy '"approval": "auto", "require_out_of_band": ["write", "admin"],
  "approval_wait": "60s"'
before=$(mints)
token_bg t --scope write --scope admin --reason "finding 2"
check "finding 2: janee token with out-of-band scopes waits for janee approve" \
    [ -n "$tlease" ]
expect_in "$TMP/tok.err" "run 'janee approve lse_" "and says what to run"
check "finding 2: nothing is minted while it waits" [ "$(mints)" -eq "$before" ]
jr approve "$tlease"
expect_rc 0 "janee approve in another process"
wait $tpid
echo $? >"$TMP/rc"
expect_rc 0 "finding 2: then janee token prints the token"
check "a token on stdout" [ "$(wc -c <"$TMP/tok.out")" -gt 40 ]
check "minted once" [ "$(mints)" -eq $((before + 1)) ]

token_bg t --scope admin --reason "to be denied"
jr deny "$tlease" --reason "no admin today"
wait $tpid
echo $? >"$TMP/rc"
expect_rc 1 "a denied janee token exits 1"
expect_in "$TMP/tok.err" "no admin today" "saying the person's reason"
check "and minted nothing" [ "$(mints)" -eq $((before + 1)) ]

policy '"approval": "auto", "require_out_of_band": ["admin"],
  "approval_wait": "1s"'
setsid -w "$JANEE" token t --scope admin </dev/null >"$TMP/out" 2>"$TMP/err"
echo $? >"$TMP/rc"
expect_rc 1 "janee token nobody approves fails after approval_wait"
expect_in "$TMP/err" "not approved: no approval in time" "saying so"

# approval: ask with no terminal to ask on: janee token waits for janee
# approve as janee exec does (it used to refuse, saying approve did not
# exist yet).
policy '"approval": "ask", "approval_wait": "60s"'
before=$(mints)
token_bg t --scope read
check "approval ask without a terminal: janee token waits for janee approve" \
    [ -n "$tlease" ]
expect_not_in "$TMP/tok.err" "cannot take yet" "and does not say approval is missing"
jr approve "$tlease" --ttl 5m
wait $tpid
echo $? >"$TMP/rc"
expect_rc 0 "approved: the token"
jr lease show "$tlease" --json
check "with the approver's shorter lifetime" "$PYTHON3" -c '
import json, sys
l = json.load(open(sys.argv[1]))
assert l["state"] == "active" and l["ttl_seconds"] == 300, l' "$TMP/out"

# While it waits on a terminal, janee token (like exec and login) shows a
# spinner with the time left; Ctrl-C denies the request instead of
# leaving it waiting (issue 16, item 13).
if command -v script >/dev/null 2>&1; then
	policy '"approval": "out-of-band", "approval_wait": "60s"'
	: >"$TMP/tty.out"
	script -qec "'$JANEE' token t --scope read" /dev/null \
	    >"$TMP/tty.out" 2>&1 &
	wpid=$!
	n=0
	until grep -q "left; Ctrl-C cancels" "$TMP/tty.out" || [ $n -ge 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	expect_in "$TMP/tty.out" "waiting for janee approve lse_[a-z2-7]* \\([0-9]:[0-9][0-9] left; Ctrl-C cancels\\)" \
	    "janee token waiting on a terminal shows a spinner and the time left"
	wlease=$(sed -n 's/.*lease \(lse_[a-z2-7]*\) for.*/\1/p' "$TMP/tty.out" | head -n 1)
	# Ctrl-C reaches janee (under script's shell, perhaps run by
	# valgrind), not the shell: the process whose command line runs the
	# token command and that is no shell.
	for c1 in $(pgrep -P "$wpid"); do
		for p in "$c1" $(pgrep -P "$c1") $(pgrep -P "$c1" | xargs -r -n1 pgrep -P); do
			case "$(cat /proc/"$p"/comm 2>/dev/null)" in
			sh | dash | bash | script) continue ;;
			esac
			tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
			    grep -q -- ' token t --scope read' && kill -INT "$p"
		done
	done
	wait $wpid
	jr lease show "$wlease" --json
	check "Ctrl-C while janee token waits denies the request" "$PYTHON3" -c '
import json, sys
l = json.load(open(sys.argv[1]))
assert l["state"] == "denied" and "interrupted" in l["detail"], l' "$TMP/out"
else
	skip "janee token waiting on a terminal shows a spinner and the time left" "no script(1)"
	skip "Ctrl-C while janee token waits denies the request" "no script(1)"
fi

# One place decides: no front end reads the approval policy itself.
check "only the broker reads approval and require_out_of_band to decide" \
    sh -c '! grep -nE "policy_needs_oob|oob_scopes|pol\.approval\b" \
	"$1"/src/*.c "$1"/src/*.h | grep -vE "^$1/src/(broker\.c|config\.[ch]):" |
	grep -v "approval_name(pv->pol.approval)"' sh "$JANEE_SRCDIR"

done_testing
