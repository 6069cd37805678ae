#!/bin/sh
# The CLI helps with slips (issue 16, items 6, 9 and 10): a typo gets one
# line with the closest match instead of the whole help; a long list in a
# message is never cut off but pointed to; completion scripts for bash,
# zsh and fish ask janee itself for commands, options, provider names,
# scopes, lease ids and secret names.
. "$JANEE_SRCDIR/tests/lib.sh"

setup_home

# --- did you mean ---------------------------------------------------------
jr tokn t
expect_rc 2 "a mistyped command is a usage error"
expect_in "$TMP/err" "^janee: unknown command 'tokn'; did you mean 'token'\\? \\(see: janee help\\)$" \
    "a mistyped command names the closest one"
check "on one line, not the whole help" [ "$(wc -l <"$TMP/err")" -eq 1 ]
jr lease lst
expect_in "$TMP/err" "did you mean 'lease list'\\?" "a mistyped subcommand names the whole command"
jr zzzzzz
expect_in "$TMP/err" "^janee: unknown command 'zzzzzz' \\(see: janee help\\)$" \
    "a word nothing is close to gets no suggestion"
jr token t --scop read
expect_rc 2 "a mistyped option is a usage error"
expect_in "$TMP/err" "unknown option '--scop'; did you mean '--scope'\\?" \
    "a mistyped option names the closest one"
expect_in "$TMP/err" "^usage: janee token " "and the command's usage line"
jr --hom "$JANEE_HOME" status
expect_in "$TMP/err" "unknown option '--hom'; did you mean '--home'\\?" \
    "a mistyped global option names the closest one"
jr token tt --scope read
expect_rc 1 "an unknown provider is an error"
expect_in "$TMP/err" "no provider 'tt' in .*config.json; did you mean 't'\\?" \
    "an unknown provider name gets the closest configured one"
jr audit list --event isued
expect_rc 2 "an unknown --event value is a usage error"
expect_in "$TMP/err" "no event is called 'isued'; did you mean 'issued'\\?" \
    "and names the closest event"
# Every event name janee writes is accepted by --event.
events=$("$PYTHON3" -c '
import re, sys, glob
names = set()
for f in glob.glob(sys.argv[1] + "/src/*.c") + glob.glob(sys.argv[1] + "/providers/*.c"):
    t = open(f).read()
    names |= set(re.findall(r"\.event = \"([a-z_]+)\"", t))
    # transition(b, l, STATE, "event", "outcome", ...), over lines too
    names |= set(re.findall(r"transition\([^;]*?\"([a-z_]+)\",\s*\"(?:ok|error|denied)\"", t))
print(" ".join(sorted(names)))' "$JANEE_SRCDIR")
check "the source has event names to check" [ -n "$events" ]
for ev in $events expired revoked; do
	"$JANEE" audit list --event "$ev" >/dev/null 2>"$TMP/err" ||
	    echo "$ev" >>"$TMP/refused"
done
check "every event name in the source is a known --event value" \
    [ ! -s "$TMP/refused" ]
cp "$JANEE_HOME/config.json" "$TMP/config.good"
sed 's/"approval": "auto"/"aproval": "auto"/' "$TMP/config.good" >"$JANEE_HOME/config.json"
jr provider list
expect_in "$TMP/err" "unknown key 'aproval'; did you mean 'approval'\\?" \
    "a mistyped config key names the closest known key"
sed 's/"providers"/"provider"/' "$TMP/config.good" >"$JANEE_HOME/config.json"
jr provider list
expect_in "$TMP/err" "unknown key 'provider'; did you mean 'providers'\\?" \
    "and so does a mistyped top-level key"

# --- long lists in messages: never cut, pointed to -----------------------
scopes=$(i=0; while [ $i -lt 60 ]; do printf '"issues%02d:read", ' $i; i=$((i + 1)); done)
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {"t": {"type": "test", "state_dir": "$TMP/prov",
  "scopes": [$scopes "issues:write", "issues:read"], "max_ttl": "1h",
  "approval": "auto"}}}
JSON
jr token t --scope issue:write
expect_rc 1 "a scope outside a long ceiling is refused"
expect_in "$TMP/err" "scope 'issue:write' is not within the policy of provider 't'; did you mean 'issues:write'\\? \\(62 allowed scopes; see them all with: janee provider show t --scopes\\)$" \
    "the message names the closest scope and where to see all, whole"
jr provider show t --scopes
check "provider show --scopes prints the whole ceiling, one per line" \
    [ "$(wc -l <"$TMP/out")" -eq 62 ]
expect_in "$TMP/out" "^issues:write$" "including the one suggested"
# A message longer than any buffer is still whole.
long=$(printf 'x%.0s' $(seq 1 1500))
jr token "$long"
check "a 1500-byte provider name comes back whole in the error" \
    grep -q "no provider '$long'" "$TMP/err"
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {"t": {"type": "test", "state_dir": "$TMP/prov",
  "scopes": ["read", "write", "admin"], "max_ttl": "1h", "approval": "auto"}}}
JSON
jr token t --scope delete
expect_in "$TMP/err" "(allowed scopes: admin, read, write)$" \
    "a short ceiling is listed whole"

# --- completion -----------------------------------------------------------
# The scripts call `janee`: put this build first on PATH by that name.
mkdir -p "$TMP/bin"
ln -s "$JANEE" "$TMP/bin/janee"
PATH="$TMP/bin:$PATH"
export PATH
"$JANEE" provider add gh --type oauth2 --issuer https://auth.example.com \
    --client-id cid --scope issues:read --scope issues:write >/dev/null 2>&1
echo value | "$JANEE" secret set deploy-key >/dev/null 2>&1
jr token t --scope read --ttl 10m
lease=$(sed -n 's/.*lease \(lse_[a-z2-7]*\).*/\1/p' "$TMP/err")
check "a lease to complete" [ -n "$lease" ]

complete_words() { # complete_words WORD...: __complete's answer, sorted, one line
	"$JANEE" __complete -- "$@" 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//'
}
check "__complete: command words" [ "$(complete_words to)" = "token" ]
check "__complete: a group's subcommands" \
    [ "$(complete_words lease s)" = "show sweep" ]
check "__complete: provider names for a PROVIDER argument" \
    [ "$(complete_words token "")" = "gh t" ]
check "__complete: the scopes of the provider named before" \
    [ "$(complete_words token gh --scope issues:)" = "issues:read issues:write" ]
check "__complete: options of the command" \
    [ "$(complete_words token gh --re)" = "--reason --repo --resource" ]
check "__complete: lease ids" [ "$(complete_words lease show lse_)" = "$lease" ]
check "__complete: secret names" [ "$(complete_words secret rm d)" = "deploy-key" ]
check "__complete: --key-backend values" \
    [ "$(complete_words init --key-backend k)" = "keyfile keyring" ]
check "__complete: --client values" \
    [ "$(complete_words mcp-config --client c)" = "claude claude-code cursor" ]
check "__complete: --client values of import-config" \
    [ "$(complete_words import-config --client v)" = "vscode" ]
check "__complete: mcp-config's --install and --dry-run" \
    [ "$(complete_words mcp-config --i)" = "--install" ]
check "__complete: --format values" \
    [ "$(complete_words audit export --format "")" = "csv" ]
check "__complete: another home by --home" \
    [ "$(complete_words --home "$TMP/nohome" token "")" = "" ]
check "__complete: nothing for a file option (the shell completes files)" \
    [ "$(complete_words audit export -o "")" = "" ]
check "__complete is not in the help" sh -c '! "$1" help | grep -q __complete' sh "$JANEE"

"$JANEE" completion bash >"$TMP/janee.bash"
check "bash: completes scopes of the provider typed" bash -c '
	source "$1"
	COMP_WORDS=(janee token gh --scope "issues:w"); COMP_CWORD=4
	_janee
	[ "${COMPREPLY[*]}" = "issues:write" ]' bash "$TMP/janee.bash"
check "bash: completes files after --from-file" bash -c '
	source "$1"; cd "$2"
	COMP_WORDS=(janee secret set k --from-file "janee.ba"); COMP_CWORD=5
	_janee
	[ "${COMPREPLY[*]}" = "janee.bash" ]' bash "$TMP/janee.bash" "$TMP"
if command -v zsh >/dev/null 2>&1; then
	"$JANEE" completion zsh >"$TMP/_janee"
	# compadd and _files are builtins of zsh's completion system; stand-ins
	# print what the script hands them.
	check "zsh: completes provider names and subcommands" zsh -f -c '
		compdef() { :; }
		compadd() { shift; print -l -- "$@"; }
		_files() { print FILES; }
		source "$1"
		words=(janee token ""); CURRENT=3
		[ "$(_janee | sort | tr "\n" " ")" = "gh t " ] || exit 1
		words=(janee lease s); CURRENT=3
		[ "$(_janee | tr "\n" " ")" = "show sweep " ] || exit 1
		words=(janee audit export -o x); CURRENT=5
		[ "$(_janee)" = FILES ]' zsh "$TMP/_janee"
else
	skip "zsh: completes provider names and subcommands" "zsh is not installed"
fi
if command -v fish >/dev/null 2>&1; then
	"$JANEE" completion fish >"$TMP/janee.fish"
	check "fish: completes commands, scopes and lease ids" fish -c '
		source $argv[1]
		test (complete -C "janee tok") = token; or exit 1
		test (string join " " (complete -C "janee token gh --scope issues:")) = "issues:read issues:write"; or exit 1
		test (complete -C "janee lease revoke lse_") = $argv[2]' "$TMP/janee.fish" "$lease"
else
	skip "fish: completes commands, scopes and lease ids" "fish is not installed"
fi

done_testing
