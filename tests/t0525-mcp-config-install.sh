#!/bin/sh
# janee mcp-config --install --client C (issue 16, item 11) writes janee
# into each client's own file at its documented Linux path (Claude
# Desktop, Cursor, VS Code's "servers", Claude Code's user scope), keeps
# every other entry and key, keeps a 0600 backup of the file as it was,
# and the entry written really starts janee serve; --dry-run shows the
# diff and writes nothing; a second run changes nothing.  import-config
# with no PATH finds the client configs by itself.  On a passphrase home
# both explain what the client will meet, and the way out.
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home
unset XDG_CONFIG_HOME
digest() { sha256sum "$1" | cut -d' ' -f1; }
backups() { ls -a "$(dirname "$1")" | grep -c 'janee-backup' || true; }

# The entry written, started as the client would: command, args and env
# from the file; it must answer MCP's initialize as janee.
starts_serve() { # FILE KEY
	"$PYTHON3" - "$1" "$2" <<'EOF'
import json, os, subprocess, sys
e = json.load(open(sys.argv[1]))[sys.argv[2]]["janee"]
env = {"PATH": os.environ["PATH"]}
env.update(e.get("env", {}))
p = subprocess.Popen([e["command"]] + e["args"], env=env,
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL)
req = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
       "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                  "clientInfo": {"name": "t0525", "version": "1"}}}
out, _ = p.communicate(json.dumps(req).encode() + b"\n", timeout=20)
r = json.loads(out.decode().splitlines()[0])
assert r["result"]["serverInfo"]["name"] == "janee", r
EOF
}

# path, servers key and whether entries carry "type": "stdio", per client
for spec in \
    "claude:$HOME/.config/Claude/claude_desktop_config.json:mcpServers:no" \
    "cursor:$HOME/.cursor/mcp.json:mcpServers:no" \
    "vscode:$HOME/.config/Code/User/mcp.json:servers:yes" \
    "claude-code:$HOME/.claude.json:mcpServers:yes"; do
	IFS=: read -r client file key typed <<EOF
$spec
EOF
	mkdir -p "$(dirname "$file")"
	# A file of the user's: another server, keys janee does not know.
	printf '{\n  "%s": {\n    "other": {"command": "npx", "args": ["-y", "x"], "env": {"A": "1"}}\n  },\n  "projects": {"/src/app": {"mcpServers": {}}},\n  "numStartups": 12,\n  "theme": "dark"\n}\n' \
	    "$key" >"$file"
	chmod 640 "$file"
	cp "$file" "$TMP/orig.json"
	before=$(digest "$file")

	jr mcp-config --client "$client" --install --dry-run
	expect_rc 0 "$client: --install --dry-run"
	check "$client: --dry-run changes nothing" [ "$(digest "$file")" = "$before" ]
	check "$client: --dry-run writes no backup" [ "$(backups "$file")" = 0 ]
	expect_in "$TMP/out" "^--- $file\$" "$client: the diff names the client's file"
	expect_in "$TMP/out" '^\+ +"janee": \{' "$client: the diff adds the janee entry"

	jr mcp-config --client "$client" --install
	expect_rc 0 "$client: --install"
	expect_in "$TMP/err" "added janee in .*'$file'" "$client: says which file it wrote"
	b=$(ls "$file".janee-backup-* 2>/dev/null | head -1)
	check "$client: a backup was kept, byte for byte" cmp -s "$b" "$TMP/orig.json"
	check "$client: the backup is 0600" [ "$(stat -c %a "$b")" = 600 ]
	check "$client: the file keeps its mode" [ "$(stat -c %a "$file")" = 640 ]
	check "$client: every other entry and key is kept, janee added under \"$key\"" \
	    "$PYTHON3" - "$TMP/orig.json" "$file" "$key" "$typed" "$JANEE_HOME" <<'EOF'
import json, sys
old, new = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
key, typed, home = sys.argv[3], sys.argv[4] == "yes", sys.argv[5]
j = new[key].pop("janee")
assert new == old, (new, old)
assert j["args"] == ["serve"] and j["env"] == {"JANEE_HOME": home}, j
assert (j.get("type") == "stdio") == typed, j
EOF
	check "$client: the entry written starts janee serve" starts_serve "$file" "$key"
	after=$(digest "$file")
	jr mcp-config --client "$client" --install
	expect_rc 0 "$client: --install again"
	expect_in "$TMP/err" 'already starts janee serve for this home; nothing was changed' \
	    "$client: a second run says nothing changed"
	check "$client: ... and writes nothing, no second backup" \
	    sh -c "[ '$(digest "$file")' = '$after' ] && [ $(backups "$file") = 1 ]"
done

# An old janee entry (another home) is replaced, its neighbours kept.
printf '{"mcpServers": {"janee": {"command": "/old/janee", "args": ["serve"], "env": {"JANEE_HOME": "/old/home"}}, "b": {"command": "x"}}}\n' \
    >"$HOME/.cursor/mcp.json"
jr mcp-config --client cursor --install --dry-run
expect_in "$TMP/out" '^-.*"/old/janee"' "an old janee entry: the diff shows it going"
jr mcp-config --client cursor --install
expect_in "$TMP/err" "updated janee in Cursor's" "an old janee entry is updated, and said so"
check "... to this janee and home, the other entry kept" "$PYTHON3" - "$HOME/.cursor/mcp.json" "$JANEE_HOME" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["mcpServers"]
assert s["janee"]["env"] == {"JANEE_HOME": sys.argv[2]} and s["b"] == {"command": "x"}, s
EOF

# A client that has no file yet: created, private, directories made.
rm -rf "$HOME/.cursor"
jr mcp-config --client cursor --install
expect_rc 0 "cursor: --install with no file yet"
check "cursor: the new file is 0600 and no backup is made" \
    sh -c "[ \$(stat -c %a '$HOME/.cursor/mcp.json') = 600 ] && ! ls '$HOME/.cursor' | grep -q backup"
check "cursor: the new file starts janee serve" starts_serve "$HOME/.cursor/mcp.json" mcpServers

# XDG_CONFIG_HOME moves Claude Desktop's and VS Code's files.
mkdir -p "$TMP/xdg"
XDG_CONFIG_HOME="$TMP/xdg" "$JANEE" mcp-config --client vscode --install 2>"$TMP/err"
check "vscode: --install follows XDG_CONFIG_HOME" [ -f "$TMP/xdg/Code/User/mcp.json" ]

# What must not be overwritten.
printf '{"mcpServers": {"a": 1},}\n' >"$HOME/.cursor/mcp.json"
before=$(digest "$HOME/.cursor/mcp.json")
jr mcp-config --client cursor --install
expect_rc 1 "a file that is not JSON is refused"
expect_in "$TMP/err" 'is not a JSON object' "... saying so"
check "... and left as it was" [ "$(digest "$HOME/.cursor/mcp.json")" = "$before" ]
printf '{"mcpServers": ["x"]}\n' >"$HOME/.cursor/mcp.json"
jr mcp-config --client cursor --install
expect_rc 1 "a \"mcpServers\" that is not an object is refused"
expect_in "$TMP/err" '"mcpServers" is not an object' "... saying so"
jr mcp-config --client zed --install
expect_rc 2 "an unknown client is a usage error"
expect_in "$TMP/err" "unknown client 'zed'; use claude, cursor, vscode or claude-code" \
    "... naming the clients there are"
jr mcp-config --dry-run
expect_rc 2 "--dry-run without --install is a usage error"
jr mcp-config --client claude-code
expect_in "$TMP/out" '"mcpServers"' "mcp-config --client claude-code prints its entry"

# import-config with no PATH: the client configs at their usual paths.
rm -rf "$HOME/.cursor" "$HOME/.config" "$HOME/.claude.json"
jr import-config --dry-run
expect_rc 1 "import-config with no PATH and no client config"
expect_in "$TMP/err" 'no MCP client configuration at the usual paths' "... says so"
tok="ghp_$(head -c 64 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 36)"
leak_secret github-pat "$tok"
mkdir -p "$HOME/.cursor"
printf '{"mcpServers": {"github": {"command": "npx", "args": ["-y", "server-github"],\n  "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "%s"}}}}\n' "$tok" >"$HOME/.cursor/mcp.json"
jr import-config --dry-run
expect_rc 0 "import-config with no PATH finds the one client config"
expect_in "$TMP/err" "found Cursor's configuration: $HOME/.cursor/mcp.json" "... and names it"
expect_in "$TMP/out" "^--- $HOME/.cursor/mcp.json" "... and shows its diff"
cp "$HOME/.cursor/mcp.json" "$HOME/.claude.json"
# No terminal to ask on (setsid: none, even when the suite runs in one).
setsid -w "$JANEE" import-config --dry-run </dev/null >"$TMP/out" 2>"$TMP/err"
echo $? >"$TMP/rc"
expect_rc 1 "import-config with no PATH, two client configs and no terminal"
expect_in "$TMP/err" "found Claude Code's configuration: $HOME/.claude.json" "... lists the one"
expect_in "$TMP/err" 'found 2 client configurations .*choose one with --client' \
    "... and asks for --client"
jr import-config "$HOME/.claude.json" --client cursor
expect_rc 2 "import-config with both a PATH and --client is a usage error"
# On a terminal the person is asked, one found file after the other.
if command -v script >/dev/null 2>&1; then
	printf 'n\ny\n' | script -qec "'$JANEE' import-config --dry-run" /dev/null \
	    >"$TMP/tty.out" 2>&1
	expect_in "$TMP/tty.out" "import Cursor's '$HOME/.cursor/mcp.json'\\? \\[y/N\\]" \
	    "on a terminal, import-config asks about each config found"
	expect_in "$TMP/tty.out" "^\\+\\+\\+ $HOME/.claude.json \\(after janee import-config\\)" \
	    "... and goes on with the one the person chose"
	printf 'n\nn\n' | script -qec "'$JANEE' import-config --dry-run" /dev/null \
	    >"$TMP/tty.out" 2>&1
	expect_in "$TMP/tty.out" 'no client configuration chosen; nothing was changed' \
	    "... and changes nothing when none is chosen"
else
	skip "import-config asks on a terminal" "script(1) is not installed"
fi
jr import-config --client claude-code
expect_rc 0 "import-config --client claude-code imports ~/.claude.json"
expect_in "$TMP/err" "rewrote '$HOME/.claude.json'" "... that file"
check "... and not Cursor's" grep -qF "$tok" "$HOME/.cursor/mcp.json"

# A passphrase home: the client's janee serve cannot ask; say so.
PP="t0525 pass phrase 7"
leak_secret passphrase "$PP"
JANEE_HOME="$TMP/pp" JANEE_NEW_PASSPHRASE="$PP" "$JANEE" init >/dev/null 2>&1
JANEE_HOME="$TMP/pp" JANEE_NO_AGENT=1 "$JANEE" mcp-config --client vscode --install \
    >"$TMP/out" 2>"$TMP/err"
expect_in "$TMP/err" 'passphrase, which janee serve .* cannot ask for.*request_token calls fail.*run: janee unlock.*secret rekey --key-backend keyring' \
    "passphrase home: --install explains what fails and the way out"
expect_not_in "$HOME/.config/Code/User/mcp.json" 'PASSPHRASE|t0525 pass' \
    "passphrase home: the client's file holds no passphrase"

done_testing
