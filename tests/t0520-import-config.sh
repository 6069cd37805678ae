#!/bin/sh
# janee import-config on sample configurations of each client (Claude
# Desktop, Cursor, VS Code mcp.json and settings.json): --dry-run shows a
# masked diff and changes nothing; the real run moves each plaintext
# secret into the store, keeps a 0600 backup, writes atomically, loses
# nothing of the other entries, and the rewritten servers really start
# through janee exec with the same values; a second run changes nothing.
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home
export TMP
CONFIGS="$JANEE_SRCDIR/tests/fixtures/mcp-configs"

# The samples hold @NAME@ placeholders, filled here with fresh values of
# each token's shape (so that no token-like string lives in the repo).
"$PYTHON3" - "$TMP/values.json" <<'EOF'
import json, secrets, string, sys
A = string.ascii_letters + string.digits
r = lambda n, al=A: "".join(secrets.choice(al) for _ in range(n))
v = {
    "GITHUB_PAT": "ghp_" + r(36),
    "GITHUB_FINE": "github_pat_" + r(22) + "_" + r(59),
    "GITHUB_OAUTH": "gho_" + r(36),
    "DB_PASSWORD": r(24),
    "WEATHER_KEY": r(32),
    "SLACK_BOT": "xoxb-" + r(12, string.digits) + "-" + r(13, string.digits) + "-" + r(24),
    "OPENAI_KEY": "sk-proj-" + r(48),
    "AWS_KEY_ID": "AKIA" + r(16, string.ascii_uppercase + string.digits),
    "REMOTE_TOKEN": r(40),
    "INTERNAL_SECRET": r(32),
    "INTERNAL_SECRET2": r(40),
}
json.dump(v, open(sys.argv[1], "w"))
EOF
"$PYTHON3" -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1])).values()))' \
	"$TMP/values.json" >"$TMP/needles"
fill() { # SAMPLE OUT
	"$PYTHON3" - "$1" "$2" "$TMP/values.json" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
for k, v in json.load(open(sys.argv[3])).items():
    text = text.replace("@%s@" % k, v)
import re
assert not re.search(r"@[A-Z0-9_]+@", text), text
open(sys.argv[2], "w").write(text)
EOF
}
no_leak() { # NAME FILE...
	_name=$1
	shift
	if cat "$@" 2>/dev/null | grep -qF -f "$TMP/needles"; then
		not_ok "$_name"
		echo "  a secret value appears in: $*" >&2
	else
		ok "$_name"
	fi
}
digest() { sha256sum "$1" | cut -d' ' -f1; }

# The rewritten servers, run for real: the part after "--" is swapped
# for a script that prints its arguments and variables, so the test can
# compare them with the original entry's.
cat >"$TMP/args.sh" <<'EOF'
for a in "$@"; do printf 'arg %s\n' "$a"; done
env | sort | sed 's/^/env /'
EOF
run_entry() { # NEWCONF SERVER -> $TMP/run.out
	"$PYTHON3" - "$1" "$2" "$TMP/args.sh" "$TMP/run.out" <<'EOF'
import json, os, subprocess, sys
conf = json.load(open(sys.argv[1]))
servers = conf.get("mcpServers") or conf.get("servers") or conf["mcp"]["servers"]
e = servers[sys.argv[2]]
args = e["args"]
i = args.index("--")
cmd = [e["command"]] + args[:i + 1] + ["sh", sys.argv[3]] + args[i + 2:]
env = dict(os.environ)
env.update(e.get("env", {}))
p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
open(sys.argv[4], "wb").write(p.stdout)
sys.exit(p.returncode)
EOF
}
# The original entry's arguments (after the command) and variables must
# be what the server sees now.
same_as_original() { # ORIGCONF SERVER
	"$PYTHON3" - "$1" "$2" "$TMP/run.out" <<'EOF'
import json, sys
conf = json.load(open(sys.argv[1]))
servers = conf.get("mcpServers") or conf.get("servers") or conf["mcp"]["servers"]
e = servers[sys.argv[2]]
got_args = [l[4:] for l in open(sys.argv[3]).read().splitlines() if l.startswith("arg ")]
got_env = dict(l[4:].split("=", 1) for l in open(sys.argv[3]).read().splitlines()
               if l.startswith("env ") and "=" in l)
assert got_args == e.get("args", []), (got_args, e.get("args"))
for k, v in e.get("env", {}).items():
    assert got_env.get(k) == v, k
EOF
}

# --- Claude Desktop ------------------------------------------------------
C="$TMP/claude_desktop_config.json"
fill "$CONFIGS/claude_desktop_config.json" "$C"
cp "$C" "$TMP/claude.orig"
before=$(digest "$C")

jr import-config "$C" --dry-run --command "$JANEE"
expect_rc 0 "claude: --dry-run"
check "claude: --dry-run changes nothing" [ "$(digest "$C")" = "$before" ]
check "claude: --dry-run writes no backup" [ -z "$(ls "$TMP" | grep janee-backup)" ]
"$JANEE" secret list --json >"$TMP/secrets" 2>/dev/null
check "claude: --dry-run stores nothing" [ "$(cat "$TMP/secrets")" = "[]" ]
no_leak "claude: the diff shows no secret value" "$TMP/out" "$TMP/err"
expect_in "$TMP/out" '^--- ' "claude: the diff has its header"
expect_in "$TMP/out" '^-.*"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_\*\*\*\*\*\*\*\*"' \
	"claude: the old value is masked, its kind kept"
expect_in "$TMP/out" '^-.*postgresql://app:\*\*\*\*\*\*\*\*@db\.internal' \
	"claude: a URL's password is masked, the rest kept"
expect_in "$TMP/out" '^\+.*"GITHUB_PERSONAL_ACCESS_TOKEN=secret:mcp-github-GITHUB_PERSONAL_ACCESS_TOKEN"' \
	"claude: the new entry uses a secret: reference"
expect_in "$TMP/err" '3 secret\(s\) would move' "claude: three secrets found"

jr import-config "$C" --command "$JANEE"
expect_rc 0 "claude: import"
no_leak "claude: the run's output shows no secret value" "$TMP/out" "$TMP/err"
no_leak "claude: the rewritten config holds no secret value" "$C"
backup=$(ls "$TMP"/claude_desktop_config.json.janee-backup-* 2>/dev/null | head -1)
check "claude: a backup was kept" [ -n "$backup" ]
check "claude: the backup is the original, byte for byte" cmp -s "$backup" "$TMP/claude.orig"
check "claude: the backup is 0600" [ "$(stat -c %a "$backup")" = 600 ]
check "claude: the config keeps its mode" [ "$(stat -c %a "$C")" = 644 ]
check "claude: no temporary file is left" [ -z "$(ls "$TMP" | grep '\.tmp\.')" ]
expect_in "$TMP/err" "backup .* still holds the plaintext secrets" "claude: the backup is pointed out"
"$JANEE" secret list --json >"$TMP/secrets" 2>/dev/null
check "claude: the three secrets are in the store" "$PYTHON3" -c '
import json, sys
names = sorted(s["name"] for s in json.load(open(sys.argv[1])))
assert names == ["mcp-github-GITHUB_PERSONAL_ACCESS_TOKEN", "mcp-postgres-arg2",
                 "mcp-weather-arg1"], names
' "$TMP/secrets"
check "claude: nothing else was lost or changed" "$PYTHON3" - "$TMP/claude.orig" "$C" "$JANEE" "$JANEE_HOME" <<'EOF'
import json, os, sys
old, new = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
janee, home = sys.argv[3], os.path.realpath(sys.argv[4])
assert new["globalShortcut"] == old["globalShortcut"]
o, n = old["mcpServers"], new["mcpServers"]
assert list(n) == list(o), list(n)
assert n["filesystem"] == o["filesystem"]
g = n["github"]
assert g["command"] == janee
assert g["args"] == ["exec", "--env",
    "GITHUB_PERSONAL_ACCESS_TOKEN=secret:mcp-github-GITHUB_PERSONAL_ACCESS_TOKEN",
    "--", "npx", "-y", "@modelcontextprotocol/server-github"], g["args"]
assert g["env"] == {"GITHUB_TOOLSETS": "issues,pull_requests", "JANEE_HOME": home}, g["env"]
p = n["postgres"]["args"]
assert p[:4] == ["exec", "--env", "JANEE_SECRET_1=secret:mcp-postgres-arg2", "--expand-args"], p
# a database URL moves whole: it is one secret
assert p[-1] == "${JANEE_SECRET_1}", p
w = n["weather"]
assert "--api-key=${JANEE_SECRET_1}" in w["args"] and w["args"][-2:] == ["--units", "metric"]
assert w["env"]["LOG_LEVEL"] == "debug" and w["env"]["TIMEOUT_MS"] == "30000"
EOF
for s in github postgres weather; do
	run_entry "$C" "$s"
	check "claude: server '$s' starts through janee exec" [ $? -eq 0 ]
	check "claude: server '$s' gets its original arguments and variables" \
		same_as_original "$TMP/claude.orig" "$s"
done
"$JANEE" audit list --event secret_set --json >"$TMP/audit" 2>/dev/null
check "claude: storing each secret is audited" "$PYTHON3" -c '
import json, sys
assert len(json.load(open(sys.argv[1]))) == 3' "$TMP/audit"

after=$(digest "$C")
jr import-config "$C" --command "$JANEE"
expect_rc 0 "claude: a second run"
check "claude: a second run changes nothing" [ "$(digest "$C")" = "$after" ]
check "claude: and keeps no second backup" [ "$(ls "$TMP" | grep -c 'claude_desktop_config.json.janee-backup')" -eq 1 ]
expect_in "$TMP/err" 'no plaintext secret to import' "claude: and says there was nothing to do"

# --- Cursor ----------------------------------------------------------------
C="$TMP/mcp.json"
fill "$CONFIGS/cursor-mcp.json" "$C"
cp "$C" "$TMP/cursor.orig"
jr import-config "$C" --dry-run --command "$JANEE"
expect_rc 0 "cursor: --dry-run"
no_leak "cursor: the diff and warnings show no secret value" "$TMP/out" "$TMP/err"
expect_in "$TMP/out" '"SLACK_BOT_TOKEN": "xoxb-\*\*\*\*\*\*\*\*"' "cursor: a Slack token is found and masked"
expect_in "$TMP/out" '"AWS_ACCESS_KEY_ID": "AKIA\*\*\*\*\*\*\*\*"' "cursor: an AWS key id is found"
expect_in "$TMP/err" "server 'remote-docs' sends .* header 'Authorization'" \
	"cursor: a remote server's header secret is pointed out"
jr import-config "$C" --command "$JANEE"
expect_rc 0 "cursor: import"
grep -vxF "$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["REMOTE_TOKEN"])' "$TMP/values.json")" \
	"$TMP/needles" >"$TMP/needles.moved"
if grep -qF -f "$TMP/needles.moved" "$C"; then
	not_ok "cursor: the rewritten config holds no moved secret"
else
	ok "cursor: the rewritten config holds no moved secret"
fi
check "cursor: what janee cannot wrap is left as it was" "$PYTHON3" - "$TMP/cursor.orig" "$C" <<'EOF'
import json, sys
o, n = (json.load(open(p))["mcpServers"] for p in sys.argv[1:3])
assert n["remote-docs"] == o["remote-docs"]
assert n["templated"] == o["templated"]
assert n["slack"]["env"]["SLACK_TEAM_ID"] == "T01234567"
assert n["slack"]["env"]["SLACK_CHANNEL_IDS"] == "C01234567, C76543210"
t = n["openai-tools"]
assert t["env"]["AWS_REGION"] == "eu-west-1" and t["env"]["CACHE_DIR"] == "~/.cache/tools"
assert "OPENAI_API_KEY" not in t["env"] and "AWS_ACCESS_KEY_ID" not in t["env"]
EOF
for s in slack openai-tools; do
	run_entry "$C" "$s"
	check "cursor: server '$s' starts through janee exec" [ $? -eq 0 ]
	check "cursor: server '$s' gets its original variables" \
		same_as_original "$TMP/cursor.orig" "$s"
done
after=$(digest "$C")
jr import-config "$C" --command "$JANEE"
check "cursor: a second run changes nothing" [ "$(digest "$C")" = "$after" ]

# --- VS Code mcp.json (tab-indented, inputs, typed servers) -------------------
C="$TMP/vscode/mcp.json"
mkdir -p "$TMP/vscode"
fill "$CONFIGS/vscode-mcp.json" "$C"
cp "$C" "$TMP/vscode.orig"
jr import-config "$C" --command "$JANEE"
expect_rc 0 "vscode: import"
no_leak "vscode: the rewritten config holds no secret value" "$C"
check "vscode: the file keeps its tab indentation" grep -q "$(printf '^\t"servers": {')" "$C"
check "vscode: inputs, types and untouched servers are kept" "$PYTHON3" - "$TMP/vscode.orig" "$C" <<'EOF'
import json, sys
o, n = (json.load(open(p)) for p in sys.argv[1:3])
assert n["inputs"] == o["inputs"]
assert n["servers"]["db"] == o["servers"]["db"]
assert n["servers"]["remote"] == o["servers"]["remote"]
assert n["servers"]["github"]["type"] == "stdio"
a = n["servers"]["internal"]["args"]
assert a[-3:] == ["internal_mcp", "--token", "${JANEE_SECRET_1}"], a
assert n["servers"]["internal"]["env"]["PYTHONUNBUFFERED"] == "1"
EOF
for s in github internal; do
	run_entry "$C" "$s"
	check "vscode: server '$s' starts through janee exec" [ $? -eq 0 ]
	check "vscode: server '$s' gets its original arguments and variables" \
		same_as_original "$TMP/vscode.orig" "$s"
done

# --- VS Code settings.json ----------------------------------------------------
C="$TMP/settings.json"
fill "$CONFIGS/vscode-settings.json" "$C"
cp "$C" "$TMP/settings.orig"
# A symbolic link to the file: the file is rewritten, the link stays.
ln -s "$C" "$TMP/settings-link.json"
jr import-config "$TMP/settings-link.json" --command "$JANEE"
expect_rc 0 "vscode settings: import through a symbolic link"
check "vscode settings: the link is still a link" [ -L "$TMP/settings-link.json" ]
no_leak "vscode settings: no secret value is left" "$C"
check "vscode settings: the editor's settings are kept" "$PYTHON3" - "$TMP/settings.orig" "$C" <<'EOF'
import json, sys
o, n = (json.load(open(p)) for p in sys.argv[1:3])
assert {k: v for k, v in n.items() if k != "mcp"} == {k: v for k, v in o.items() if k != "mcp"}
assert n["mcp"]["servers"]["github"]["args"][0] == "exec"
EOF
run_entry "$C" github
check "vscode settings: the server starts through janee exec" same_as_original "$TMP/settings.orig" github

# --- errors and edge cases ----------------------------------------------------
printf '{"mcpServers": {"x": {"command": "a", // comment\n}}}\n' >"$TMP/comments.json"
jr import-config "$TMP/comments.json"
expect_rc 1 "a file with comments is refused, not mangled"
expect_in "$TMP/err" "comments and trailing commas" "and the message says why"
printf '{"other": 1}\n' >"$TMP/none.json"
jr import-config "$TMP/none.json"
expect_rc 1 "a file without MCP servers is refused"
jr import-config "$TMP/nonexistent.json"
expect_rc 1 "a missing file is an error"

# The same name for another value: a new name, the first one untouched.
C="$TMP/again.json"
"$PYTHON3" - "$C" <<'EOF'
import json, secrets, string, sys
v = "ghp_" + "".join(secrets.choice(string.ascii_letters) for _ in range(36))
json.dump({"mcpServers": {"github": {"command": "npx", "args": [],
    "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": v}}}}, open(sys.argv[1], "w"))
EOF
jr import-config "$C" --command "$JANEE"
expect_rc 0 "another config with the same server name"
expect_in "$TMP/err" 'secret:mcp-github-GITHUB_PERSONAL_ACCESS_TOKEN-[2-9]$' \
	"gets a new secret name"
run_entry "$TMP/claude_desktop_config.json" github
check "and the first config's server still gets its own value" \
	same_as_original "$TMP/claude.orig" github

# A passphrase store: the rewritten servers could not unlock it.
no_leak "the ledger holds no secret in plaintext" "$JANEE_HOME/janee.db" "$JANEE_HOME/janee.db-wal"

done_testing
