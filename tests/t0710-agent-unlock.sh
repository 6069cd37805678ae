#!/bin/sh
# A passphrase home and the background agent (issue 13): locked, janee
# serve refuses request_token and says what to run, and mcp-config,
# import-config, status and janee token say what that means; `janee
# unlock` hands the key to the agent, after which `env -u
# JANEE_PASSPHRASE janee serve` answers request_token and the agent
# revokes at each lease's end; `janee lock` and the deadline end that,
# also for a janee serve already running.  The key in the agent: bound to
# the ledger, never in its environment, command line, log or any file,
# in locked memory of a process that is not dumpable and has no core
# limit; another uid cannot use the socket.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/agent.sh"

PP="agent test pass phrase 81"
leak_secret passphrase "$PP"
(umask 077 && printf '%s\n' "$PP" >"$TMP/pp")
JANEE_NEW_PASSPHRASE="$PP" "$JANEE" init >/dev/null 2>&1 ||
    { not_ok "a passphrase home"; exit 1; }
mkdir -p "$TMP/prov"
write_config
HOME_ABS=$(cd "$JANEE_HOME" && pwd -P)
AC="$JANEE_SRCDIR/tests/fixtures/agent_client.py"
ac() { "$PYTHON3" "$AC" "$JANEE_HOME/agent.sock" "$@" "$JANEE_HOME/janee.db"; }
REQ='{"provider": "t", "ttl_seconds": 600, "reason": "unlock test"}'
is_error_saying() { # is_error_saying FILE LINE PATTERN
	"$PYTHON3" -c '
import json, re, sys
r = json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2])])
t = r["content"][0]["text"]
assert r["isError"] is True and re.search(sys.argv[3], t), r' "$@"
}
granted() { # granted FILE LINE
	"$PYTHON3" -c '
import json, sys
r = json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2])])
assert r["isError"] is False and r["structuredContent"]["token"], r' "$@"
}

# ---- locked: every place says so, and what to run ----
mcp_call --unset JANEE_PASSPHRASE request_token "$REQ" >"$TMP/mcp.out" 2>"$TMP/mcp.err"
check "locked: janee serve refuses request_token, saying: run janee unlock" \
    is_error_saying "$TMP/mcp.out" 0 'locked.*run: janee unlock'
jr status
expect_in "$TMP/out" '^agent key: +none: leases of this passphrase home are not revoked at their end unless janee runs then; run: janee unlock, or move the home to the keyring: janee secret rekey --key-backend keyring' \
    "locked: status says the agent holds no key, and the two ways out"
jr mcp-config
expect_rc 0 "locked: mcp-config prints the client's configuration"
expect_in "$TMP/err" 'passphrase, which janee serve .* cannot ask for \(it has no terminal\).*request_token calls fail.*run: janee unlock \[--for DURATION\].*secret rekey --key-backend keyring.*Never put the passphrase' \
    "locked: mcp-config warns: serve cannot ask, what fails, janee unlock or the keyring"
expect_not_in "$TMP/out" 'PASSPHRASE|agent test pass' "mcp-config's JSON holds no passphrase"

JANEE_PASSPHRASE="$PP" jr token t --ttl 600
expect_rc 0 "with JANEE_PASSPHRASE, janee token still works"
expect_in "$TMP/err" "note: this home's key comes from a passphrase and the background agent does not hold it, so it cannot revoke leases at their end; run: janee unlock \(or move the home to the keyring: janee secret rekey --key-backend keyring\)" \
    "janee token says the agent cannot revoke it, and what to run"
apid=$(agent_pid)
check "the agent runs all the same (it revokes once unlocked)" [ -n "$apid" ]
tr '\0' '\n' <"/proc/$apid/environ" >"$TMP/agent.env"
expect_not_in "$TMP/agent.env" "JANEE_PASSPHRASE|$PP" \
    "the agent started by a command with JANEE_PASSPHRASE did not get it"
ac ping >"$TMP/ping.json"
check "the agent holds no key (it got none)" "$PYTHON3" -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["answered"] and r["flags"] & 1 == 0 and r["flags"] & 2, r' "$TMP/ping.json"

# Import an MCP client's config into a locked passphrase home.
tok=ghp_$("$PYTHON3" -c 'import secrets, string; print("".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36)))')
leak_secret github-pat "$tok"
printf '{"mcpServers": {"github": {"command": "npx", "args": ["-y", "server-github"],\n  "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "%s"}}}}\n' "$tok" >"$TMP/claude.json"
JANEE_PASSPHRASE="$PP" jr import-config "$TMP/claude.json" --dry-run
expect_in "$TMP/err" 'janee exec \(which would start those servers\).*the servers could not start.*run: janee unlock' \
    "import-config --dry-run warns that the rewritten servers could not start"
JANEE_PASSPHRASE="$PP" jr import-config "$TMP/claude.json"
expect_rc 0 "import-config on a locked passphrase home"
expect_in "$TMP/err" "rewrote '$TMP/claude.json'" "import-config rewrote the config"
expect_in "$TMP/err" 'warning: .*passphrase, which janee exec \(which now starts those servers\) cannot ask for.*the servers cannot start.*run: janee unlock.*secret rekey --key-backend keyring' \
    "import-config explains that the rewritten servers cannot start until janee unlock"

# ---- unlock ----
JANEE_PASSPHRASE="wrong pass phrase" jr unlock
expect_rc 1 "unlock with a wrong passphrase fails"
expect_in "$TMP/err" 'wrong passphrase' "and says so"
ac ping >"$TMP/ping.json"
check "after a wrong passphrase the agent holds no key" \
    "$PYTHON3" -c 'import json,sys; r = json.load(open(sys.argv[1])); assert r["flags"] & 1 == 0, r' "$TMP/ping.json"
jr unlock --for 8d
expect_rc 2 "unlock --for 8d is refused (at most 7d)"
expect_in "$TMP/err" 'longer than an unlock may last \(7d\)' "and says the limit"
jr unlock --for soon
expect_rc 2 "unlock --for with no duration is a usage error"

jr --passphrase-fd 3 unlock 3<"$TMP/pp"
expect_rc 0 "unlock (passphrase from a descriptor), no --for"
expect_in "$TMP/out" "the background agent \(pid $apid\) holds the store's key until .* \(8h\); janee lock wipes it sooner" \
    "unlock says who holds the key and until when (8h by default)"
jr status --json
check "status --json: key held, until about 8 hours from now" "$PYTHON3" -c '
import datetime, json, sys
a = json.load(open(sys.argv[1]))["agent"]
u = datetime.datetime.fromisoformat(a["key_until"].replace("Z", "+00:00"))
left = (u - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
assert a["key_held"] is True and a["key_needed"] is True and 8 * 3600 - 120 < left <= 8 * 3600, (a, left)' "$TMP/out"
jr status
expect_in "$TMP/out" '^agent key: +held until .* \(janee lock wipes it\)' "status shows until when the key is held"
jr audit list --event unlock
expect_in "$TMP/out" ' unlock ' "the unlock is in the audit trail"
jr mcp-config
expect_in "$TMP/err" 'holds it until .* janee serve \(started by the MCP client\) works until then' \
    "unlocked: mcp-config says until when janee serve works"

# The key in the agent: where it is not.
ac getkey >"$TMP/key.json"
key=$(json_str "$TMP/key.json" key_hex)
check "the agent hands the key to the same uid (for this ledger)" [ ${#key} -eq 64 ]
leak_secret agent-data-key-hex "$key"
check "the key is in no file of the home, not in the agent's environment, command line or log" \
    "$PYTHON3" - "$key" "$JANEE_HOME" "$apid" <<'EOF'
import base64, os, sys
key = bytes.fromhex(sys.argv[1])
needles = [key, key.hex().encode(), key.hex().upper().encode(),
           base64.b64encode(key)[:40], base64.urlsafe_b64encode(key)[:40]]
places = [os.path.join(sys.argv[2], f) for f in os.listdir(sys.argv[2])]
places += ["/proc/%s/environ" % sys.argv[3], "/proc/%s/cmdline" % sys.argv[3]]
for p in places:
    if os.path.isfile(p):
        data = open(p, "rb").read()
        for n in needles:
            assert n not in data, (p, "holds the key")
EOF
expect_in "/proc/$apid/limits" '^Max core file size +0 +0 ' "the agent's core limit is 0"
lck=$(sed -n 's/^VmLck:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$apid/status")
if grep -q __asan_report_load "$JANEE_BUILDDIR/tests/janee-test" 2>/dev/null; then
	skip "the agent's key page is locked in memory" "AddressSanitizer makes mlock a no-op (VmLck ${lck:-?} kB)"
else
	check "the agent's key page is locked in memory (VmLck ${lck:-?} kB)" [ "${lck:-0}" -ge 4 ]
fi
"$PYTHON3" "$AC" "$JANEE_HOME/agent.sock" getkey "$TMP/other.db" >/dev/null 2>&1 # no such ledger
sqlite3_copy() { "$PYTHON3" -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB)")
db.execute("INSERT INTO meta VALUES (?, ?)", ("store.dek", b"another wrapping"))
db.commit()' "$1"; }
sqlite3_copy "$TMP/other.db"
"$PYTHON3" "$AC" "$JANEE_HOME/agent.sock" getkey "$TMP/other.db" >"$TMP/key2.json"
check "the agent does not hand the key out for another ledger's wrapping" \
    "$PYTHON3" -c 'import json,sys; r = json.load(open(sys.argv[1])); assert r["answered"] and r["key_hex"] == "" and r["flags"] & 1 == 0, r' "$TMP/key2.json"
"$PYTHON3" "$AC" "$JANEE_HOME/agent.sock" garbage >"$TMP/g.json"
"$PYTHON3" "$AC" "$JANEE_HOME/agent.sock" oldversion >"$TMP/o.json"
check "a packet that is no request gets no key, and the agent lives on" \
    sh -c "grep -q '\"key_hex\": \"\"\\|\"answered\": false\\|\"length\"' '$TMP/g.json' && kill -0 $apid"
check "a request of another version is answered as such (version 1, status != 0)" \
    "$PYTHON3" -c 'import json,sys; r = json.load(open(sys.argv[1])); assert r["version"] == 1 and r["status"] != 0 and r["key_hex"] == "", r' "$TMP/o.json"

# ---- unlocked: janee serve without a passphrase, the agent revokes ----
mcp_call --unset JANEE_PASSPHRASE request_token '{"provider": "t", "ttl_seconds": 6, "reason": "unlocked"}' \
    >"$TMP/mcp.out" 2>"$TMP/mcp.err"
issued "$TMP/mcp.out"
check "unlocked: env -u JANEE_PASSPHRASE janee serve answers request_token" granted "$TMP/mcp.out" 0
check "unlocked: the token is live (until the lease's end)" live_to_its_end
check_revoked_by_agent "passphrase home, unlocked"
printf 'a value' | jr secret set from-agent
expect_rc 0 "unlocked: a command seals a secret without asking for the passphrase"
jr lease revoke --all

# ---- janee lock, also for a janee serve that is already running ----
mcp_call --unset JANEE_PASSPHRASE --between "'$JANEE' lock" \
    request_token "$REQ" request_token "$REQ" >"$TMP/mcp.out" 2>"$TMP/mcp.err"
check "a running janee serve: request_token works before janee lock" granted "$TMP/mcp.out" 0
check "and is refused after it, saying: run janee unlock" \
    is_error_saying "$TMP/mcp.out" 1 'locked.*agent holds no key.*run: janee unlock'
expect_in "$TMP/mcp.err" "the background agent \(pid $apid\) wiped the store's key" "janee lock says it wiped the key"
mcp_call --unset JANEE_PASSPHRASE request_token "$REQ" >"$TMP/mcp.out" 2>"$TMP/mcp.err"
check "after janee lock a new janee serve is refused too, saying: run janee unlock" \
    is_error_saying "$TMP/mcp.out" 0 'locked.*run: janee unlock'
ac getkey >"$TMP/key.json"
check "after janee lock the agent hands out no key" \
    "$PYTHON3" -c 'import json,sys; r = json.load(open(sys.argv[1])); assert r["answered"] and r["key_hex"] == "" and r["flags"] & 1 == 0, r' "$TMP/key.json"
expect_in "$JANEE_HOME/agent.log" 'wiped the store.s key: janee lock' "the agent's log says the key was wiped by janee lock"
jr lock
expect_in "$TMP/out" "held no key" "a second janee lock: the agent held no key"

# ---- the deadline ----
# 8 s: the first request must come before it even when python and janee
# serve start slowly on a loaded machine; the second comes 8.5 s after
# the first answer, so after it.
jr --passphrase-fd 3 unlock --for 8s 3<"$TMP/pp"
expect_rc 0 "unlock --for 8s"
mcp_call --unset JANEE_PASSPHRASE --between "sleep 8.5" \
    request_token "$REQ" request_token "$REQ" >"$TMP/mcp.out" 2>"$TMP/mcp.err"
check "deadline: request_token works before it" granted "$TMP/mcp.out" 0
check "deadline: and is refused after it, saying: run janee unlock" \
    is_error_saying "$TMP/mcp.out" 1 'locked.*agent holds no key.*run: janee unlock'
expect_in "$JANEE_HOME/agent.log" 'wiped the store.s key: its time ran out' "the agent wiped the key at its deadline"
jr status
expect_in "$TMP/out" '^agent key: +none' "after the deadline status shows no key"
jr lease revoke --all --passphrase-fd 3 3<"$TMP/pp"

# ---- SIGTERM wipes the key and ends the agent ----
jr --passphrase-fd 3 unlock --for 1h 3<"$TMP/pp"
apid=$(agent_pid)
kill -TERM "$apid"
check "SIGTERM: the agent holding a key exits" wait_until 30 sh -c "! kill -0 $apid 2>/dev/null"
expect_in "$JANEE_HOME/agent.log" 'wiped the store.s key: exiting' "SIGTERM: it wiped the key on its way out"
jr lock
expect_in "$TMP/out" 'no background agent runs' "janee lock with no agent says so"

# ---- another uid cannot use the socket ----
if [ "$(id -u)" -ne 0 ]; then
	skip "another uid cannot use the agent's socket" "needs root to act as another user (setpriv); the home is 0700 and the agent checks SO_PEERCRED"
elif ! command -v setpriv >/dev/null 2>&1 || ! id nobody >/dev/null 2>&1; then
	skip "another uid cannot use the agent's socket" "setpriv or the user nobody is missing"
elif ! NBPY=$(for p in "$(command -v "$PYTHON3")" /usr/bin/python3; do
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$p" -c pass 2>/dev/null && echo "$p" && break
done) || [ -z "$NBPY" ]; then
	skip "another uid cannot use the agent's socket" "no python that uid nobody may run"
else
	jr --passphrase-fd 3 unlock --for 1h 3<"$TMP/pp"
	apid=$(agent_pid)
	asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	cp "$AC" /tmp/janee-agent-client.$$.py
	chmod 644 /tmp/janee-agent-client.$$.py
	asnobody "$NBPY" /tmp/janee-agent-client.$$.py "$JANEE_HOME/agent.sock" ping >"$TMP/nb.json" 2>&1
	check "uid nobody: the 0700 home keeps it from the socket (EACCES)" \
	    grep -q '"errno": 13' "$TMP/nb.json"
	# Loosened by mistake: the agent still refuses (SO_PEERCRED).
	chmod 711 "$TMP" "$JANEE_HOME"
	chmod 666 "$JANEE_HOME/agent.sock"
	asnobody "$NBPY" /tmp/janee-agent-client.$$.py "$JANEE_HOME/agent.sock" ping >"$TMP/nb.json" 2>&1
	chmod 700 "$TMP" "$JANEE_HOME"
	chmod 600 "$JANEE_HOME/agent.sock"
	rm -f /tmp/janee-agent-client.$$.py
	# The agent closes at once: the client sees EOF, EPIPE or ECONNRESET.
	check "uid nobody, through loosened modes: connected, and the agent hung up" \
	    grep -Eq '"answered": false|"errno": (32|104)\}' "$TMP/nb.json"
	expect_in "$JANEE_HOME/agent.log" 'refused a connection from uid 65534 .*only uid 0 may use this agent' \
	    "the agent logs the refused uid"
	check "the agent still serves its own user" sh -c "'$PYTHON3' '$AC' '$JANEE_HOME/agent.sock' ping | grep -q '\"answered\": true'"
	# Not dumpable: /proc/PID/* of a non-dumpable process belong to root.
	# As root that says nothing, so an agent of uid nobody shows it.
	NB=$(mktemp -d /tmp/janee-nobody.XXXXXX)
	chmod 755 "$NB"
	chown nobody "$NB"
	if asnobody test -x "$JANEE"; then
		asnobody env -i PATH="$PATH" HOME="$NB" JANEE_HOME="$NB/j" "$JANEE" init --key-backend keyfile >/dev/null 2>&1
		asnobody mkdir "$NB/prov"
		printf '{"providers": {"t": {"type": "test", "state_dir": "%s", "scopes": ["read"], "default_scopes": ["read"], "approval": "auto"}}}\n' "$NB/prov" >"$NB/cfg"
		asnobody sh -c "umask 077 && cat '$NB/cfg' >'$NB/j/config.json'"
		asnobody env -i PATH="$PATH" HOME="$NB" JANEE_HOME="$NB/j" "$JANEE" token t --ttl 600 >/dev/null 2>"$TMP/nb.err"
		nbpid=$(head -n 1 "$NB/j/agent.lock" 2>/dev/null)
		check "an agent of uid nobody runs" sh -c "grep -q '^Uid:.65534' /proc/$nbpid/status"
		check "not dumpable: its /proc/PID/environ belongs to root, not to nobody" \
		    [ "$(stat -c %u "/proc/$nbpid/environ")" = 0 ]
		expect_in "/proc/$nbpid/limits" '^Max core file size +0 +0 ' "its core limit is 0"
		kill -TERM "$nbpid" 2>/dev/null
		wait_until 30 sh -c "! kill -0 $nbpid 2>/dev/null"
	else
		skip "not dumpable (an agent of another uid)" "uid nobody cannot run $JANEE"
	fi
	rm -rf "$NB"
	jr lock
fi
if [ "$(id -u)" -ne 0 ]; then
	# Our own agent: non-dumpable, so its /proc files belong to root.
	jr --passphrase-fd 3 unlock --for 1h 3<"$TMP/pp"
	apid=$(agent_pid)
	check "not dumpable: the agent's /proc/PID/environ belongs to root" \
	    [ "$(stat -c %u "/proc/$apid/environ")" = 0 ]
	jr lock
fi

# ---- a key-file home needs no unlock ----
"$JANEE" --home "$TMP/kf" init --key-backend keyfile >/dev/null 2>&1
jr --home "$TMP/kf" unlock
expect_rc 0 "unlock on a key-file home"
expect_in "$TMP/out" 'comes from the keyfile backend and needs no unlock' "says it needs none"

agent_stop
done_testing
