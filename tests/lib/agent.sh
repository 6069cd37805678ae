# Helpers for the background agent's tests (sourced after tests/lib.sh).
#
#   agent_pid                the pid of the agent serving $JANEE_HOME, or
#                            nothing (its lock file names it; the process
#                            must be `janee ... agent-run` for this home)
#   agent_pids_for HOME      every agent-run process for HOME, one a line
#   janee_others             pids of other janee processes (this test's
#                            binary) still running, one a line
#   wait_until TENTHS CMD... run CMD every 0.1 s until it succeeds, at
#                            most TENTHS times (status 1 if it never did)
#   wait_ms MS CMD...        the same for at most MS ms of the wall clock,
#                            however long CMD takes (a bound in time)
#   now_ms                   the wall clock in milliseconds
#   iso_ms ISO               an ISO 8601 time janee printed, in ms
#   sleep_until_ms MS        sleep until the wall clock reaches MS
#   json_get FILE EXPR       print the python EXPR over j (FILE's JSON)
#   mcp_call ARGS...         tests/fixtures/mcp_call.py (a raw MCP client)
#   agent_stop               SIGTERM the agent and wait until it is gone
#   issued FILE              read a grant (janee token --json, an MCP
#                            result) into $id, $hash, $end_iso
#   check_revoked_by_agent NAME   the checks of a lease revoked on time
#   live_to_its_end          the token $hash is live at the provider, or
#                            was revoked there no earlier than its lease's
#                            end $end_iso

_agent_home_abs() { (cd "${1:-$JANEE_HOME}" 2>/dev/null && pwd -P); }

# (grep -z reads /proc/PID/cmdline's NUL-separated words as lines: one
# process for all, so that the helpers stay fast next to 2 s deadlines.)
agent_pids_for() {
	_ah=$(_agent_home_abs "$1") || return 0
	for _ap in $(grep -lzx -- agent-run /proc/[0-9]*/cmdline 2>/dev/null); do
		grep -qzx -- "$_ah" "$_ap" 2>/dev/null || continue
		_ap=${_ap#/proc/}
		_ap=${_ap%/cmdline}
		# The test binary's output copier (tests/capture.c) is a fork
		# with the same command line: count the agent, not it.
		_pp=$(awk '{print $4}' "/proc/$_ap/stat" 2>/dev/null)
		grep -qzx -- agent-run "/proc/$_pp/cmdline" 2>/dev/null && continue
		echo "$_ap"
	done
}

agent_pid() {
	_lp=$(head -n 1 "$JANEE_HOME/agent.lock" 2>/dev/null)
	[ -n "$_lp" ] || return 0
	_ah=$(_agent_home_abs) || return 0
	grep -qzx -- agent-run "/proc/$_lp/cmdline" 2>/dev/null &&
	    grep -qzx -- "$_ah" "/proc/$_lp/cmdline" 2>/dev/null && echo "$_lp"
	return 0
}

janee_others() {
	for _ap in $(grep -lzx -- "$JANEE" /proc/[0-9]*/cmdline 2>/dev/null); do
		# argv[0] only: the first word
		[ "$( (tr '\0' '\n' <"$_ap") 2>/dev/null | head -n 1)" = "$JANEE" ] || continue
		_ap=${_ap#/proc/}
		echo "${_ap%/cmdline}"
	done
	return 0
}

wait_until() {
	_wn=$1
	shift
	while ! "$@"; do
		_wn=$((_wn - 1))
		[ "$_wn" -gt 0 ] || return 1
		sleep 0.1
	done
}

wait_ms() {
	_wd=$(($(date +%s%3N) + $1))
	shift
	while ! "$@"; do
		[ "$(date +%s%3N)" -lt "$_wd" ] || return 1
		sleep 0.1
	done
}

now_ms() { "$PYTHON3" -c 'import time; print(int(time.time() * 1000))'; }

iso_ms() {
	"$PYTHON3" -c '
import datetime, sys
t = datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
print(round(t.timestamp() * 1000))' "$1"
}

sleep_until_ms() {
	"$PYTHON3" -c '
import sys, time
time.sleep(max(0.0, int(sys.argv[1]) / 1000 - time.time()))' "$1"
}

json_get() {
	"$PYTHON3" -c '
import json, sys
j = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}

mcp_call() {
	JANEE="$JANEE" TMP="$TMP" "$PYTHON3" "$JANEE_SRCDIR/tests/fixtures/mcp_call.py" "$@"
}

_agent_gone() { [ -z "$(agent_pid)" ]; }

agent_stop() {
	_sp=$(agent_pid)
	[ -n "$_sp" ] || return 0
	kill -TERM "$_sp" 2>/dev/null
	wait_until 50 _agent_gone
}

# alive PID: the process exists and is not a zombie
alive() {
	[ -d "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# Fast (no python: it can take seconds to start on a loaded machine,
# and these run between a lease's start and its end):
#   json_str FILE KEY     a string member of the JSON in FILE (first one)
#   tok_hash TOKEN        the test provider's name for TOKEN's file
#   revoked_at HASH       when the test provider revoked it (ms), if it did
json_str() { sed -n "s/.*\"$2\": *\"\([^\"]*\)\".*/\1/p" "$1" | head -n 1; }
tok_hash() { printf '%s' "$1" | sha256sum | cut -d ' ' -f 1; }
revoked_at() {
	sed -n "s/^revoke $1 @\([0-9]*\)\$/\1/p" "$TMP/prov/calls.log" 2>/dev/null |
	    head -n 1
}

lease_json() { # lease_json ID: the lease as JSON in $TMP/lease.json
	"$JANEE" lease show "$1" --json >"$TMP/lease.json" 2>/dev/null
}
# issued FILE: what janee token --json (or an MCP result) in FILE issued:
# $id, $hash (the token's file at the test provider), $end_iso
issued() {
	id=$(json_str "$1" lease_id)
	hash=$(tok_hash "$(json_str "$1" token)")
	end_iso=$(json_str "$1" expires_at)
}
# live_to_its_end: "the token is live", said so that it holds however
# long the test took to look: a short lease (seconds) may have ended, and
# been revoked, before a loaded machine got here.  The provider logs a
# revocation before it removes the token, so one of the two is seen.
live_to_its_end() {
	[ -e "$TMP/prov/$hash" ] && return 0
	_lat=$(revoked_at "$hash")
	[ -n "$_lat" ] && [ "$_lat" -ge "$(iso_ms "$end_iso")" ]
}

# check_revoked_by_agent NAME: the lease $id of token $hash ended at
# $end_iso; 2 s later the provider has revoked it (it says when: at most
# 2 s after the end), no other janee process ran, and the ledger has the
# lease expired at most 2 s after its end.
check_revoked_by_agent() {
	_name=$1
	_end=$(iso_ms "$end_iso")
	sleep_until_ms $((_end + 2000))
	check "$_name: no janee process ran but the agent" [ -z "$(janee_others)" ]
	check "$_name: 2 s after the lease's end its token is gone at the provider" \
	    [ ! -e "$TMP/prov/$hash" ]
	_at=$(revoked_at "$hash")
	echo "# $_name: revoked at the provider $((${_at:-0} - _end)) ms after the lease's end"
	check "$_name: the provider revoked it 0..2000 ms after the end" \
	    [ -n "$_at" ] && [ $((_at - _end)) -ge 0 ] && [ $((_at - _end)) -le 2000 ]
	lease_json "$id"
	check "$_name: the lease is expired, ended at most 2 s after its end" \
	    "$PYTHON3" -c '
import datetime, json, sys
j = json.load(open(sys.argv[1]))
ms = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000
late = ms(j["ended_at"]) - ms(j["expires_at"])
assert j["state"] == "expired" and 0 <= late <= 2000, (j["state"], late)' "$TMP/lease.json"
}
