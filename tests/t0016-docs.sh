#!/bin/sh
# What a new user reads must be true (issue 16, item 5): the README's
# github-app example runs as written, the docs stand alone, help texts
# say what the commands do.
. "$JANEE_SRCDIR/tests/lib.sh"

S=$JANEE_SRCDIR
setup_home

# The README's example, its continuation lines joined, comments dropped.
awk '/^janee provider add gh --type github-app/ { on = 1 }
    on { print; if ($0 !~ /\\ *(#.*)?$/) exit }' "$S/README.md" |
    sed 's/#.*$//' | tr -d '\\\n' >"$TMP/example"
check "the README has the github-app example" grep -q 'github-app' "$TMP/example"
sed -i "s|^janee |\"\$JANEE\" |" "$TMP/example"
( eval "$(cat "$TMP/example")" ) >"$TMP/out" 2>"$TMP/err"
echo $? >"$TMP/rc"
expect_rc 0 "the README's github-app provider add works as written"

for f in README.md $(cd "$S" && echo docs/*.md) providers/README.md; do
	check "$f cites no file outside the repository" \
	    sh -c "! grep -q 'DESIGN\.md\|REFERENCE\.md' '$S/$f'"
done
check "providers/README.md does not call the providers planned" \
    sh -c "! grep -qi 'planned' '$S/providers/README.md'"
check "the README names the man page and completion" \
    sh -c "grep -q 'man janee' '$S/README.md' && grep -q 'janee completion' '$S/README.md'"

# A type's own defaults are the provider table's to say (no core file
# names a type: tests/t0002-layering.sh); help points there.
jr provider add --help
expect_in "$TMP/out" "revoke or expire \\(default: revoke, or the type's own: see janee provider types\\)" \
    "provider add --help says a type may have its own lease-end default, and where"
jr provider types
expect_in "$TMP/out" '^slack .*lease_end: expire by default' \
    "provider types gives Slack's own lease-end default"
jr help
expect_in "$TMP/out" "login .*a device code or a browser sign-in" \
    "janee help does not call every login a device flow"
jr status --help
expect_in "$TMP/out" 'audit chain: janee audit verify' \
    "status --help says where the audit chain is verified"

# --- the README's walk-through (issue 16, "done when") -------------------
# Its ```sh walk-through blocks, taken from README.md itself: each line
# runs as written, in a fresh home, against the suite's fakes.  Only the
# lines that set a CAPITALISED variable are the reader's own; the test
# gives each its fake's value, and fails on one it does not know (so the
# README cannot grow a step the test skips).  At `janee login` the test
# is the person at the browser.
. "$JANEE_SRCDIR/tests/lib/fake-github.sh"
. "$JANEE_SRCDIR/tests/lib/fake-slack.sh"
. "$JANEE_SRCDIR/tests/lib/oidc.sh"
. "$JANEE_SRCDIR/tests/lib/pg.sh"

"$PYTHON3" - "$S/README.md" "$TMP/walk" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"^```sh walk-through\n(.*?)^```$", text, re.S | re.M)
out = []
for b in blocks:
    b = re.sub(r"\\\n\s*", " ", b)  # continuation lines
    for line in b.splitlines():
        # a comment: '#' after a blank, outside quotes
        q, cut = None, len(line)
        for i, ch in enumerate(line):
            if q:
                q = None if ch == q else q
            elif ch in "'\"":
                q = ch
            elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
                cut = i
                break
        line = line[:cut].strip()
        if line:
            out.append(line)
    out.append("")  # the block's end
open(sys.argv[2], "w").write("\n".join(out) + "\n")
EOF
check "the README has the walk-through's six blocks" \
    [ "$(grep -c '^$' "$TMP/walk")" -eq 6 ]

if ! command -v "${NODE:-node}" >/dev/null 2>&1 || ! pg_bin >/dev/null 2>&1; then
	skip "the README's walk-through" "node or PostgreSQL is not installed"
	done_testing
	exit
fi

# The fakes, and the values the reader would put in the variables.
fake_github_app_key "$TMP/app" || not_ok "a throwaway GitHub App key"
fake_github_start --public-key "$TMP/app/app.pub" || not_ok "the fake GitHub starts"
fake_slack_start || not_ok "the fake Slack starts"
oidc_start || not_ok "oidc-provider starts"
pg_start >/dev/null || not_ok "PostgreSQL starts"
pg_psql -c 'CREATE DATABASE app' >/dev/null
pg_psql -d app >/dev/null <<'SQL'
REVOKE CONNECT ON DATABASE app, postgres, template1 FROM PUBLIC;
CREATE ROLE readonly NOLOGIN;
GRANT USAGE ON SCHEMA public TO readonly;
SQL
(umask 077 && printf 'fake-slack-secret-one\n' >"$TMP/slack-secret.txt")
GH_API=$FAKE_GH GH_CA=$FAKE_GH_CA GH_CLIENT_ID=Iv23liJaneeFake0001
GH_INSTALLATION=4242 GH_KEY=$TMP/app/app.pem GH_REPO=api
SLACK_API=$SLACK_URL SLACK_CLIENT_ID=1111.1111
SLACK_SECRET_FILE=$TMP/slack-secret.txt
SLACK_REDIRECT=https://janee.example/slack/oauth
OAUTH_ISSUER=$OIDC_ISSUER OAUTH_CA=$OIDC_CA OAUTH_CLIENT_ID=janee-public
PG_PASSWORD_FILE=$PGPASSWORD_FILE
export GH_API GH_CA GH_CLIENT_ID GH_INSTALLATION GH_KEY GH_REPO SLACK_API \
    SLACK_CA SLACK_CLIENT_ID SLACK_SECRET_FILE SLACK_REDIRECT OAUTH_ISSUER OAUTH_CA \
    OAUTH_CLIENT_ID PG_DSN PG_PASSWORD_FILE
YOURS=" GH_API GH_CA GH_CLIENT_ID GH_INSTALLATION GH_KEY GH_REPO SLACK_API SLACK_CA SLACK_CLIENT_ID SLACK_SECRET_FILE SLACK_REDIRECT OAUTH_ISSUER OAUTH_CA OAUTH_CLIENT_ID PG_DSN PG_PASSWORD_FILE "

# A fresh home; the person types the passphrase (here: from the
# environment, as a terminal-less run takes it); `janee` is this build.
WALK_PP="walk-through pass phrase 16"
leak_secret passphrase "$WALK_PP"
export JANEE_HOME="$TMP/walk-home" JANEE_NEW_PASSPHRASE="$WALK_PP" \
    JANEE_PASSPHRASE="$WALK_PP"
mkdir -p "$TMP/bin" "$TMP/walk-cwd"
ln -s "$JANEE" "$TMP/bin/janee"
PATH="$TMP/bin:$PATH"

# The person at the browser, while `janee login` waits: an OAuth device
# code is approved at oidc-provider; Slack's install link is followed
# (the fake approves at once) and the address it lands on is pasted
# (fd 7: the login's stdin).
person() { # person LOGIN-PID
	_n=0
	while [ $_n -lt 200 ] && kill -0 "$1" 2>/dev/null; do
		code=$(sed -n 's/.*one-time code: \([A-Z0-9-]*\).*/\1/p' "$TMP/w.err")
		link=$(grep -o 'https://[^ ]*/oauth/v2/authorize?[^ ]*' "$TMP/w.err")
		if [ -n "$code" ]; then
			oidc_approve "$code" >/dev/null 2>&1
			return
		elif [ -n "$link" ]; then
			loc=$(curl -sS --cacert "$SLACK_CA" -o /dev/null -w '%{redirect_url}' "$link")
			printf '%s\n' "$loc" >&7
			return
		fi
		sleep 0.1
		_n=$((_n + 1))
	done
}

# A token the walk-through minted, checked where it is used.
token_works() { # token_works PROVIDER TOKENFILE
	case $1 in
	gh) fake_github_live "$2" ;;
	slack) [ "$(fake_slack_api auth.test "$(cat "$2")" | fake_slack_json 'j["ok"]')" = true ] ;;
	api) [ "$(oidc_introspect "@$2" | fake_json 'j["active"]')" = true ] ;;
	db) "$PYTHON3" - "$2" "$PG_BIN/psql" <<'EOF'
import os, subprocess, sys, urllib.parse as u
url = u.urlsplit(open(sys.argv[1]).read().strip())
env = dict(os.environ, PGHOST=u.unquote(url.hostname or "") or
           u.parse_qs(url.query).get("host", [""])[0],
           PGPORT=str(url.port or 5432), PGUSER=u.unquote(url.username),
           PGPASSWORD=u.unquote(url.password), PGDATABASE=url.path[1:])
r = subprocess.run([sys.argv[2], "-X", "-tA", "-c", "select current_user"],
                   env=env, capture_output=True, text=True)
assert r.returncode == 0 and r.stdout.strip().startswith("janee_"), r
EOF
		;;
	*) return 1 ;;
	esac
}

block=1 tokens=0
while IFS= read -r line; do
	if [ -z "$line" ]; then
		block=$((block + 1))
		continue
	fi
	case $line in
	[A-Z]*=*)
		name=${line%%=*}
		case $YOURS in
		*" $name "*) ok "walk-through $block: $name is the reader's (the fake's here)" ;;
		*) not_ok "walk-through $block: the test knows the variable $name" ;;
		esac
		continue ;;
	esac
	# stdin: nothing, but for a login what the person pastes (fd 7)
	in=/dev/null
	case $line in "janee login "*)
		rm -f "$TMP/paste"
		mkfifo "$TMP/paste"
		exec 7<>"$TMP/paste"
		in=$TMP/paste ;;
	esac
	(cd "$TMP/walk-cwd" && exec sh -c "$line") <"$in" >"$TMP/w.out" 2>"$TMP/w.err" &
	pid=$!
	[ "$in" = /dev/null ] || person "$pid"
	wait "$pid"
	echo $? >"$TMP/rc"
	[ "$in" = /dev/null ] || exec 7>&-
	cp "$TMP/w.out" "$TMP/out"
	cp "$TMP/w.err" "$TMP/err"
	expect_rc 0 "walk-through $block runs as written: $line"
	case $line in
	"janee token "*)
		tokens=$((tokens + 1))
		prov=${line#janee token }
		prov=${prov%% *}
		head -n 1 "$TMP/w.out" | tr -d '\n' >"$TMP/tok.$prov"
		check "walk-through $block: the $prov token works at the provider" \
		    token_works "$prov" "$TMP/tok.$prov" ;;
	esac
done <"$TMP/walk"
check "the walk-through minted a token of each of the four provider types" \
    [ "$tokens" -eq 4 ]
janee lease list --json >"$TMP/leases.json" 2>/dev/null
check "... four active leases, one per provider" "$PYTHON3" -c '
import json, sys
ls = json.load(open(sys.argv[1]))
assert sorted(l["provider"] for l in ls if l["state"] == "active") == ["api", "db", "gh", "slack"], ls
' "$TMP/leases.json"
check "the walk-through's MCP client config starts janee serve for its home" \
    "$PYTHON3" - "$HOME/.claude.json" "$JANEE_HOME" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))["mcpServers"]["janee"]
assert e["args"] == ["serve"] and e["env"] == {"JANEE_HOME": sys.argv[2]}, e
EOF
janee lease revoke --all >/dev/null 2>&1

done_testing
