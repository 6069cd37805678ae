#!/bin/sh
# The background agent as the reaper (issue 13), with the test provider
# (state_dir shows live tokens as files): a lease ends and no other janee
# process runs, and the token is revoked at the provider within 2 s of
# its end; so too after the issuing terminal hung up, after the MCP
# client quit, after kill -9 of the janee serve that issued it, and after
# the agent itself was killed (the next command starts another) or died
# in the middle of a revocation (the next agent finishes it, once).  One
# agent per home, even when several start at once; it leaves when it has
# nothing to do, on SIGTERM, or when its home is gone; what it runs with
# (no terminal, no core dumps, a scrubbed environment); janee status; and
# the first command after a long gap says how late it revoked.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/agent.sh"

setup_home || { not_ok "a janee home"; exit 1; }
HOME_ABS=$(cd "$JANEE_HOME" && pwd -P)

# ---- a lease issued at the command line, then nothing runs ----
check "no agent before the first lease" [ -z "$(agent_pid)" ]
jr token t --ttl 3 --json
expect_rc 0 "janee token (ttl 3 s)"
apid=$(agent_pid)
issued "$TMP/out"
check "issuing a lease started the agent" [ -n "$apid" ]
check "the token is live at the provider (until the lease's end)" live_to_its_end
check "janee token has exited: only the agent runs" [ -z "$(janee_others)" ]
check_revoked_by_agent "cli lease"
grep -q "lease $id (t) expired [0-9]* ms after its end" "$JANEE_HOME/agent.log"
check "the agent's log says it ended the lease, and how late" [ $? -eq 0 ]

# ---- what the agent runs with ----
jr token t --ttl 600
apid=$(agent_pid)
check "the agent is not a child of anyone here (double fork)" \
    [ "$(awk '{print $4}' "/proc/$apid/stat")" != "$$" ]
check "the agent has no controlling terminal" \
    [ "$(awk '{print $7}' "/proc/$apid/stat")" = 0 ]
check "the agent is in a session of its own" \
    [ "$(awk '{print $6}' "/proc/$apid/stat")" != "$(awk '{print $6}' /proc/$$/stat)" ]
expect_in "/proc/$apid/limits" '^Max core file size +0 +0 ' "the agent's core limit is 0"
tr '\0' '\n' <"/proc/$apid/cmdline" >"$TMP/agent.argv"
check "the agent's command line is janee --home HOME agent-run" \
    sh -c "sed -n 3,4p '$TMP/agent.argv' | tr '\n' ' ' | grep -qx '$HOME_ABS agent-run '"
check "its stdin and stdout are /dev/null" \
    sh -c "[ \"\$(readlink /proc/$apid/fd/0)\" = /dev/null ] && [ \"\$(readlink /proc/$apid/fd/1)\" = /dev/null ]"
check "its stderr is agent.log in the home" \
    [ "$(readlink "/proc/$apid/fd/2")" = "$HOME_ABS/agent.log" ]
check "the socket is 0600 and the home 0700" \
    sh -c "[ \"\$(stat -c %a '$JANEE_HOME/agent.sock')\" = 600 ] && [ \"\$(stat -c %a '$JANEE_HOME')\" = 700 ] && [ -S '$JANEE_HOME/agent.sock' ]"
check "agent.log and agent.lock are 0600" \
    sh -c "[ \"\$(stat -c %a '$JANEE_HOME/agent.log')\" = 600 ] && [ \"\$(stat -c %a '$JANEE_HOME/agent.lock')\" = 600 ]"

# Its environment is scrubbed: a passphrase or another secret in the
# environment of the command that starts it is not passed on.
agent_stop
JANEE_PASSPHRASE=canary-passphrase-4711 OTHER_SECRET=canary-other-0815 \
    jr token t --ttl 600
apid=$(agent_pid)
tr '\0' '\n' <"/proc/$apid/environ" >"$TMP/agent.env"
expect_not_in "$TMP/agent.env" 'JANEE_PASSPHRASE|canary-passphrase|OTHER_SECRET|canary-other' \
    "the agent's /proc/PID/environ has no JANEE_PASSPHRASE and no stray secret"
expect_in "$TMP/agent.env" '^PATH=' "it keeps PATH"
expect_not_in "$TMP/agent.env" '^JANEE_TEST_CLOCK_OFFSET=|^JANEE_TEST_CAPTURE_DIR=|^JANEE_HOME=' \
    "it gets none of the variables it was not given (its home is in argv)"

# status
jr status
expect_in "$TMP/out" "^agent: +running, pid $apid since " "status shows the agent and its pid"
expect_in "$TMP/out" '^agent key: +not needed \(keyfile backend' "status: a key-file home needs no key in the agent"
jr status --json
check "status --json: agent running, pid, active leases, no key needed" "$PYTHON3" -c '
import json, sys
a = json.load(open(sys.argv[1]))["agent"]
assert a["running"] is True and a["pid"] == int(sys.argv[2]) and a["active_leases"] >= 1 \
    and a["key_held"] is False and a["key_needed"] is False, a' "$TMP/out" "$apid"
jr lease revoke --all

# ---- the issuing terminal hangs up ----
# script(1) gives janee a terminal; then the terminal goes away (SIGHUP
# to its session).  The agent lives in a session of its own.
agent_stop
if command -v script >/dev/null 2>&1; then
	script -qec "'$JANEE' token t --ttl 4 --json >'$TMP/tty.json' 2>/dev/null; sleep 60" /dev/null \
	    </dev/null >/dev/null 2>&1 &
	spid=$!
	wait_until 100 test -s "$TMP/tty.json"
	apid=$(agent_pid)
	kill -KILL "$spid" 2>/dev/null # the terminal closes: SIGHUP to its session
	wait "$spid" 2>/dev/null
	issued "$TMP/tty.json"
	check "terminal closed (SIGHUP): the agent is still there" [ -n "$apid" ] && alive "$apid"
	check_revoked_by_agent "after the terminal hung up"
else
	skip "the issuing terminal hangs up" "script(1) is not installed"
fi
jr token t --ttl 600
apid=$(agent_pid)
kill -HUP "$apid" 2>/dev/null
sleep 0.2
check "a SIGHUP sent to the agent itself does not end it" alive "$apid"
jr lease revoke --all

# ---- MCP: the client quits; janee serve is killed with SIGKILL ----
for how in quit kill9; do
	case $how in
	quit) opt= ;;
	kill9) opt=--kill9 ;;
	esac
	# shellcheck disable=SC2086 # opt is empty or one word
	mcp_call $opt request_token '{"provider": "t", "ttl_seconds": 5, "reason": "agent test"}' \
	    >"$TMP/mcp.out" 2>"$TMP/mcp.err"
	issued "$TMP/mcp.out"
	spid=$(sed -n 's/^serve pid //p' "$TMP/mcp.err")
	check "MCP ($how): the token is live (until the lease's end)" live_to_its_end
	check "MCP ($how): janee serve is gone" sh -c "! kill -0 $spid 2>/dev/null"
	check "MCP ($how): request_token answered" "$PYTHON3" -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["isError"] is False and r["structuredContent"]["lease_id"].startswith("lse_"), r' "$TMP/mcp.out"
	check_revoked_by_agent "MCP, $how"
done

# ---- the agent is killed; the next command starts another ----
jr token t --ttl 4 --json
issued "$TMP/out"
old=$(agent_pid)
kill -KILL "$old"
wait_until 30 _agent_gone
check "kill -9 of the agent: it is gone" [ -z "$(agent_pid)" ]
jr lease list
new=$(agent_pid)
check "the next janee command started a new agent" [ -n "$new" ] && [ "$new" != "$old" ]
check_revoked_by_agent "after the agent was killed and restarted"

# ---- the agent dies in the middle of a revocation ----
# JANEE_TEST_AGENT_CRASH_AT reaches only the agent that command starts:
# it dies after the provider revoked, before the ledger knew.  The lease
# stays claimed for a minute (BROKER_CLAIM_MS, so that no two sweepers
# revoke at once), but the dead agent left a note of it in agent.lock:
# the agent the next command starts (on the true clock) gives the claim
# back and revokes the lease again at once, with nothing else running.
# (A look in between runs with JANEE_NO_AGENT: it must not be that next
# command.)
agent_stop
JANEE_TEST_AGENT_CRASH_AT=during_revoke jr token t --ttl 2 --json
issued "$TMP/out"
apid=$(agent_pid)
provider_revoked() { [ -n "$(revoked_at "$hash")" ]; }
wait_until 100 provider_revoked
check "during_revoke: the agent revoked at the provider" [ ! -e "$TMP/prov/$hash" ]
check "during_revoke: and died there" wait_until 20 sh -c "! kill -0 $apid 2>/dev/null"
JANEE_NO_AGENT=1 "$JANEE" lease show "$id" --json >"$TMP/lease.json" 2>/dev/null
check "during_revoke: the lease is still active on record" [ "$(json_get "$TMP/lease.json" 'j["state"]')" = active ]
expect_in "$JANEE_HOME/agent.lock" "^revoking $id [0-9]+ [0-9]+\$" \
    "during_revoke: the dead agent's note names the lease it was revoking"
t0=$(now_ms)
jr lease list
# (Looks that start no agent and take no python: a bound in time.)
lease_state() {
	JANEE_NO_AGENT=1 "$JANEE" lease show "$id" --json >"$TMP/state.json" 2>/dev/null
	json_str "$TMP/state.json" state
}
lease_expired() { [ "$(lease_state)" = expired ]; }
check "during_revoke: the next command's agent finishes the expiry within 5 s" \
    wait_ms 5000 lease_expired
lease_json "$id"
check "during_revoke: the lease is expired" [ "$(json_str "$TMP/lease.json" state)" = expired ]
ended=$(iso_ms "$(json_str "$TMP/lease.json" ended_at)" 2>/dev/null)
check "during_revoke: it ended at most 5 s after the next command ran" \
    [ $((${ended:-0} - t0)) -ge 0 -a $((${ended:-0} - t0)) -le 5000 ]
expired_n() {
	"$JANEE" audit list --event expired --json >"$TMP/exp.json" 2>/dev/null &&
	    json_get "$TMP/exp.json" "len([e for e in j if e['lease_id'] == '$id'])"
}
expired_once() { [ "$(expired_n)" = 1 ]; }
sleep 1.5
check "during_revoke: it ended once: one 'expired' audit event" expired_once
n=$(grep -c "^revoke $hash " "$TMP/prov/calls.log")
check "during_revoke: the provider was asked twice (revocation is at least once, and idempotent)" [ "$n" -eq 2 ]
expect_in "$JANEE_HOME/agent.log" "the agent before this one died revoking lease $id; revoking it again now" \
    "during_revoke: the next agent's log says it took over the dead one's revocation"
check "during_revoke: the note is gone once the lease is settled" \
    sh -c "! grep -q '^revoking' '$JANEE_HOME/agent.lock'"
agent_stop

# ---- a command dies in the middle of a revocation ----
# No note then: its claim holds for BROKER_CLAIM_MS, and the agent must
# wake when it runs out and revoke again, with no command running and no
# one sweeping.  A janee lease list 601 s ahead sweeps the lease and dies
# after the provider revoked; the claim then ends 661 s ahead of the
# true clock.  The next agent runs some 5 s short of that (its offset
# comes from the claim's end in the ledger), so it starts with the lease
# claimed and must wake for the claim's end.
jr token t --ttl 600 --json
issued "$TMP/out"
agent_stop
JANEE_NO_AGENT=1 JANEE_TEST_CLOCK_OFFSET=601 JANEE_TEST_CRASH_AT=during_revoke jr lease list
check "a command died revoking: it died there" [ "$(rc)" -eq 137 ]
check "a command died revoking: the provider had revoked" [ ! -e "$TMP/prov/$hash" ]
until_ms=$(sqlite3 -readonly "$JANEE_HOME/janee.db" \
    "SELECT next_attempt_ms FROM leases WHERE id = '$id' AND state = 'active'")
claimed() { [ -n "$until_ms" ] && [ "$until_ms" -gt $(($(now_ms) + 600000)) ]; }
check "a command died revoking: the lease is active and claimed for a minute" claimed
off=$(((until_ms - $(now_ms) - 5000) / 1000))
# The next command (on the true clock: the claim holds for it) starts
# the agent.
JANEE_TEST_AGENT_CLOCK_OFFSET=$off jr lease list
agent_next_end() {
	"$JANEE" status --json >"$TMP/st.json" 2>/dev/null &&
	    [ "$(iso_ms "$(json_get "$TMP/st.json" 'j["agent"].get("next_end", "1970-01-01T00:00:00Z")')")" = "$until_ms" ]
}
check "a command died revoking: the next agent waits for the claim's end" \
    wait_until 20 agent_next_end
# When the claim ends on the true clock, which calls.log speaks; the
# provider's second revocation is the agent's.
end_true=$((until_ms - off * 1000))
asked_twice() { [ "$(grep -c "^revoke $hash " "$TMP/prov/calls.log")" -eq 2 ]; }
check "a command died revoking: the agent revokes again once the claim ran out" \
    wait_until 100 asked_twice
at=$(sed -n "s/^revoke $hash @\([0-9]*\)\$/\1/p" "$TMP/prov/calls.log" | tail -n 1)
echo "# a command died revoking: the agent revoked again $((at - end_true)) ms after the claim's end"
check "a command died revoking: it did 0..2000 ms after the claim's end" \
    [ $((at - end_true)) -ge 0 -a $((at - end_true)) -le 2000 ]
check "a command died revoking: the agent finishes the expiry" wait_until 20 expired_once
lease_json "$id"
check "a command died revoking: the lease is expired" [ "$(json_get "$TMP/lease.json" 'j["state"]')" = expired ]
sleep 1
check "a command died revoking: it ended once: one 'expired' audit event" expired_once
check "a command died revoking: and the provider was asked no more than twice" asked_twice
agent_stop

# ---- janee dies while minting: the agent reconciles the lease ----
# An agent waits for a lease left minting as for an end (the next command
# starts one for it, as for an active lease): once it is stale (five
# minutes after minting began), it reconciles it as any sweep does, with
# no other janee process running.  The agent runs 400 s ahead to see the
# five minutes pass; the command that starts it sweeps on the true clock,
# so leaves the lease alone.
jr lease revoke --all
agent_stop
live0=$(live_tokens)
JANEE_TEST_CRASH_AT=after_mint jr token t --ttl 600
check "died while minting: janee died there" [ "$(rc)" -eq 137 ]
mid=$(sed -n 's/^mint //p' "$TMP/prov/calls.log" | tail -n 1)
check "died while minting: the provider minted a token for the lease" [ "$(live_tokens)" -eq $((live0 + 1)) ]
agent_stop
JANEE_TEST_AGENT_CLOCK_OFFSET=400 jr lease list
check "died while minting: the next command starts an agent for the lease left minting" [ -n "$(agent_pid)" ]
reconciled() { grep -q "^reconcile $mid" "$TMP/prov/calls.log"; }
check "died while minting: the agent reconciles the stale lease" wait_until 50 reconciled
check "died while minting: no janee process ran but the agent" [ -z "$(janee_others)" ]
lease_json "$mid"
check "died while minting: the lease is failed, not left minting" [ "$(json_get "$TMP/lease.json" 'j["state"]')" = failed ]
expect_in "$TMP/lease.json" 'janee stopped while minting; 1 token' "died while minting: it says the token was found and revoked"
check "died while minting: no token of it is live at the provider" [ "$(live_tokens)" -eq "$live0" ]
agent_stop

# ---- config.json broken (being edited, say) ----
# An agent that loaded it before goes on with what it loaded.
jr token t --ttl 2 --json
issued "$TMP/out"
cp "$JANEE_HOME/config.json" "$TMP/config.good"
printf '{"providers": {"t": ' >"$JANEE_HOME/config.json"
sleep_until_ms $(($(iso_ms "$end_iso") + 2000))
check "config.json broken: the running agent revokes with the one it loaded" \
    [ ! -e "$TMP/prov/$hash" ]
expect_in "$JANEE_HOME/agent.log" 'config.json: .*; revoking with the configuration loaded before' \
    "and its log says so"
# An agent that starts while it is broken revokes nothing (no attempt is
# spent on a provider it cannot see) until it loads.
cat "$TMP/config.good" >"$JANEE_HOME/config.json"
jr token t --ttl 2 --json
issued "$TMP/out"
agent_stop
check "(the agent that loaded it is stopped)" [ -z "$(agent_pid)" ]
printf '{"providers": {"t": ' >"$JANEE_HOME/config.json"
"$JANEE" --home "$HOME_ABS" agent-run >/dev/null 2>"$TMP/b.err" &
bpid=$!
sleep_until_ms $(($(iso_ms "$end_iso") + 2500))
"$JANEE" lease show "$id" --json >"$TMP/lease.json" 2>/dev/null
check "config.json broken at the agent's start: the lease is left alone (active, no attempt)" \
    [ "$(json_get "$TMP/lease.json" '(j["state"], j["revoke_attempts"])')" = "('active', 0)" ]
expect_in "$TMP/b.err" 'config.json: .*; revoking nothing until it loads' \
    "and its log says so"
cat "$TMP/config.good" >"$JANEE_HOME/config.json"
check "config.json fixed: the agent revokes within a few seconds" \
    wait_until 40 sh -c "[ ! -e '$TMP/prov/$hash' ]"
kill -TERM "$bpid" 2>/dev/null
wait "$bpid"

# ---- one agent per home ----
# Two started by hand at once: one serves, the other says so and exits.
"$JANEE" --home "$HOME_ABS" agent-run >"$TMP/a1.out" 2>"$TMP/a1.err" &
a1=$!
"$JANEE" --home "$HOME_ABS" agent-run >"$TMP/a2.out" 2>"$TMP/a2.err" &
a2=$!
loser_gone() { ! kill -0 "$a1" 2>/dev/null || ! kill -0 "$a2" 2>/dev/null; }
check "two agents racing: one of them exits" wait_until 60 loser_gone
if kill -0 "$a1" 2>/dev/null; then win=$a1 lose=$a2 lerr=$TMP/a2.err; else win=$a2 lose=$a1 lerr=$TMP/a1.err; fi
wait "$lose"
check "the one that lost exits with status 0" [ $? -eq 0 ]
expect_in "$lerr" "an agent already runs for '.*' \(pid $win\); this one exits" "and says which agent runs"
check "the winner serves: janee status sees it" sh -c "'$JANEE' status | grep -q 'pid $win since'"
agent_pids_for "$JANEE_HOME" >"$TMP/agents"
check "exactly one agent process for the home ($(tr "\n" " " <"$TMP/agents"))" [ "$(wc -l <"$TMP/agents")" -eq 1 ]
kill -TERM "$win"
wait "$win"
check "SIGTERM: the agent exits with status 0" [ $? -eq 0 ]
check "SIGTERM: its socket is removed" [ ! -e "$JANEE_HOME/agent.sock" ]
expect_in "$JANEE_HOME/agent.log" 'stopped by a signal' "SIGTERM: the log says why it stopped"

# Four commands issuing leases at once on a home with no agent: one agent.
for i in 1 2 3 4; do
	"$JANEE" token t --ttl 600 >/dev/null 2>"$TMP/race$i.err" &
done
wait
check "four concurrent issuers, no warning from any" sh -c "! cat '$TMP'/race*.err | grep -q warning"
check "four concurrent issuers leave exactly one agent" \
    wait_until 40 sh -c "[ \$(grep -lzx -- agent-run /proc/[0-9]*/cmdline 2>/dev/null | xargs grep -lzx -- '$HOME_ABS' 2>/dev/null | wc -l) -eq 1 ]"

# ---- it leaves when there is nothing to do ----
jr lease revoke --all
check "no active lease, no key: the agent exits by itself" wait_until 80 _agent_gone
expect_in "$JANEE_HOME/agent.log" 'no active lease and no key; exiting' "and its log says why"
check "the socket is gone with it" [ ! -e "$JANEE_HOME/agent.sock" ]

# ---- after a long gap (a reboot): the next command says how late ----
jr token t --ttl 60 --json
issued "$TMP/out"
kill -KILL "$(agent_pid)"
wait_until 30 _agent_gone
JANEE_TEST_CLOCK_OFFSET=600 jr lease list
expect_in "$TMP/err" "lease $id \(t\) ended at .* and is expired only now, 9m[0-9]*s? late" \
    "a command that revokes long after the end says how late"
check "its token is gone" [ ! -e "$TMP/prov/$hash" ]

# ---- the home goes away: the agent follows ----
jr token t --ttl 600
apid=$(agent_pid)
mv "$JANEE_HOME" "$TMP/moved"
check "the home moved away: the agent exits within a few seconds" \
    wait_until 40 sh -c "! kill -0 $apid 2>/dev/null"
mv "$TMP/moved" "$JANEE_HOME"
jr lease revoke --all

done_testing
