#!/bin/sh
# janee exec withholds from the command the long-lived credentials janee
# read from its own environment (issue 12, finding 4): every variable a
# secret reference of config.json reads (env:VAR; the Vault variables of
# a vault:// reference; ${VAR} expansions), and what --env references
# read; --pass-env NAME passes one on purpose.  The session's basics
# (HOME, PATH) stay.  janee names what it withheld, never a value.
. "$JANEE_SRCDIR/tests/lib.sh"

LONG="tp-longlived-$(date +%s)-secret-value"
VTOK="hvs.vault-token-not-for-the-child"
PAT="ghp_notforthechild0123456789abcdefghij"
leak_secret env-credential "$LONG"
leak_secret vault-token "$VTOK"
leak_secret pat "$PAT"

setup_home || { not_ok "a janee home"; exit 1; }
TP_STATE="$TMP/prov"
export TP_STATE
cat >"$JANEE_HOME/config.json" <<JSON
{"providers": {
 "t": {"type": "test", "state_dir": "\${TP_STATE}", "scopes": ["read"],
   "max_ttl": "1h", "approval": "auto",
   "credential": "env:TP_LONGLIVED_SECRET"},
 "v": {"type": "test", "state_dir": "\${HOME}/../prov", "scopes": ["read"],
   "approval": "auto", "credential": "vault://kv/app#token"}}}
JSON
chmod 600 "$JANEE_HOME/config.json"

# run_env ARGS...: janee exec ARGS -- env, the command's environment in
# $TMP/child-env, janee's stderr in $TMP/err.
run_env() {
	TP_LONGLIVED_SECRET="$LONG" VAULT_TOKEN="$VTOK" \
	    VAULT_ADDR=https://vault.invalid:8200 MY_PAT="$PAT" \
	    UNRELATED_SETTING=kept \
	    "$JANEE" exec "$@" -- sh -c 'env >"$0"' "$TMP/child-env" \
	    >"$TMP/out" 2>"$TMP/err"
	echo $? >"$TMP/rc"
}

run_env t --scope read --ttl 10m
expect_rc 0 "janee exec t runs the command"
check "the command got its token" grep -q '^T_TOKEN=tst_' "$TMP/child-env"
expect_not_in "$TMP/child-env" '^TP_LONGLIVED_SECRET=' \
    "invariant (finding 4): the variable of the config's env: reference does not reach the command"
expect_not_in "$TMP/child-env" "$LONG" "its value is nowhere in the command's environment"
expect_not_in "$TMP/child-env" '^VAULT_TOKEN=' \
    "invariant (finding 4): VAULT_TOKEN (the config has a vault:// reference) does not reach it"
expect_not_in "$TMP/child-env" '^VAULT_ADDR=' "nor VAULT_ADDR"
expect_not_in "$TMP/child-env" '^TP_STATE=' "nor a variable a \${VAR} of the config reads"
expect_in "$TMP/child-env" "^HOME=$HOME\$" "HOME stays, though the config reads \${HOME}"
expect_in "$TMP/child-env" '^PATH=' "PATH stays"
expect_in "$TMP/child-env" '^UNRELATED_SETTING=kept$' "a variable no reference reads stays"
expect_in "$TMP/err" '^janee exec: not passing to the command: .*TP_LONGLIVED_SECRET' \
    "janee says which variables it withheld"
expect_in "$TMP/err" 'VAULT_TOKEN.*--pass-env NAME' "naming each, with the way out"
expect_not_in "$TMP/err" "$LONG|$VTOK|$PAT" "and never a value"

run_env t --scope read --ttl 10m --pass-env VAULT_TOKEN --pass-env TP_STATE
expect_rc 0 "janee exec with --pass-env"
expect_in "$TMP/child-env" "^VAULT_TOKEN=$VTOK\$" "--pass-env VAULT_TOKEN passes it"
expect_in "$TMP/child-env" '^TP_STATE=' "--pass-env TP_STATE passes it"
expect_not_in "$TMP/child-env" '^TP_LONGLIVED_SECRET=' "the others stay withheld"

# --env references: what they read is withheld too.
run_env --env GH=env:MY_PAT
expect_rc 0 "janee exec --env GH=env:MY_PAT"
expect_in "$TMP/child-env" "^GH=$PAT\$" "the command gets the value under the name asked for"
expect_not_in "$TMP/child-env" '^MY_PAT=' \
    "invariant (finding 4): the variable an --env reference read does not reach the command"
run_env --env GH=env:MY_PAT --pass-env MY_PAT
expect_in "$TMP/child-env" '^MY_PAT=' "unless --pass-env names it"

# Usage errors, before anything is minted.
before=$(mints)
jr exec t --pass-env JANEE_PASSPHRASE -- true
expect_rc 2 "--pass-env JANEE_PASSPHRASE is refused"
expect_in "$TMP/err" 'JANEE_PASSPHRASE never reaches the command' "and says so"
jr exec t --pass-env 'A-B' -- true
expect_rc 2 "--pass-env with a name that is no variable is refused"
check "nothing was minted for them" [ "$(mints)" -eq "$before" ]

done_testing
