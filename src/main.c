/*
 * janee: short-lived, scope-narrowed tokens from long-lived credentials.
 * The command table and the dispatcher; each command lives in cmd-*.c.
 */
#include "common.h"

#include <malloc.h>

#include "agent.h"
#include "api-proxy.h"
#include "buf.h"
#include "cli.h"
#include "cmd-exec.h"
#include "home.h"
#include "suggest.h"
#include "util.h"

static const struct cli_opt opts_none[] = { { NULL, 0, 0 } };
static const struct cli_opt opts_json[] = { { "json", 'j', 0 },
	{ NULL, 0, 0 } };
static const struct cli_opt opts_init[] = { { "key-backend", 0, 1 },
	{ "new-passphrase-fd", 0, 1 }, { NULL, 0, 0 } };
static const struct cli_opt opts_secret_set[] = {
	{ "from-file", 0, CLI_ARG_FILE }, { NULL, 0, 0 }
};
static const struct cli_opt opts_rekey[] = { { "key-backend", 0, 1 },
	{ "new-passphrase-fd", 0, 1 }, { NULL, 0, 0 } };
static const struct cli_opt opts_lease_list[] = { { "active", 0, 0 },
	{ "all", 0, 0 }, { "provider", 0, 1 }, { "json", 'j', 0 },
	{ "grants", 0, 0 }, { NULL, 0, 0 } };
static const struct cli_opt opts_lease_revoke[] = { { "provider", 0, 1 },
	{ "all", 0, 0 }, { NULL, 0, 0 } };
static const struct cli_opt opts_audit_list[] = { { "since", 0, 1 },
	{ "until", 0, 1 }, { "provider", 0, 1 }, { "event", 0, 1 },
	{ "lease", 0, 1 }, { "limit", 0, 1 }, { "json", 'j', 0 },
	{ NULL, 0, 0 } };
static const struct cli_opt opts_audit_export[] = { { "format", 0, 1 },
	{ "since", 0, 1 }, { "until", 0, 1 }, { "provider", 0, 1 },
	{ "event", 0, 1 }, { "lease", 0, 1 }, { "output", 'o', CLI_ARG_FILE },
	{ NULL, 0, 0 } };
static const struct cli_opt opts_audit_verify[] = { { "expect", 0, 1 },
	{ "no-key", 0, 0 }, { "json", 'j', 0 }, { NULL, 0, 0 } };
static const struct cli_opt opts_login[] = { { "no-browser", 0, 0 },
	{ "profile", 0, 1 }, { "paste", 0, 0 }, { NULL, 0, 0 } };
static const struct cli_opt opts_provider_add[] = { { "type", 0, 1 },
	{ "issuer", 0, 1 }, { "token-endpoint", 0, 1 },
	{ "device-endpoint", 0, 1 }, { "revocation-endpoint", 0, 1 },
	{ "introspection-endpoint", 0, 1 }, { "client-id", 0, 1 },
	{ "client-secret", 0, 1 }, { "auth-method", 0, 1 }, { "grant", 0, 1 },
	{ "ca-file", 0, CLI_ARG_FILE }, { "scope", 0, 1 },
	{ "default-scope", 0, 1 }, { "login-scope", 0, 1 }, { "max-ttl", 0, 1 },
	{ "default-ttl", 0, 1 }, { "approval", 0, 1 }, { "lease-end", 0, 1 },
	{ "set", 0, 1 }, { NULL, 0, 0 } };
static const struct cli_opt opts_provider_edit[] = { { "set", 0, 1 },
	{ "unset", 0, 1 }, { NULL, 0, 0 } };
static const struct cli_opt opts_provider_rm[] = { { "yes", 'y', 0 },
	{ NULL, 0, 0 } };
static const struct cli_opt opts_provider_test[] = { { "scope", 's', 1 },
	{ "no-mint", 0, 0 }, { "json", 'j', 0 }, { NULL, 0, 0 } };
static const struct cli_opt opts_provider_show[] = { { "json", 'j', 0 },
	{ "scopes", 0, 0 }, { NULL, 0, 0 } };
static const struct cli_opt opts_serve[] = { { "http", 0, 1 }, { "path", 0, 1 },
	{ "tls-cert", 0, CLI_ARG_FILE }, { "tls-key", 0, CLI_ARG_FILE },
	{ "trust-proxy", 0, 0 }, { "allow-origin", 0, 1 },
	{ "session-idle", 0, 1 }, { "max-sessions", 0, 1 },
	{ "rate-limit", 0, 1 }, { NULL, 0, 0 } };
static const struct cli_opt opts_mcp_config[] = { { "client", 0, 1 },
	{ "install", 0, 0 }, { "dry-run", 0, 0 }, { NULL, 0, 0 } };
static const struct cli_opt opts_approvals[] = { { "json", 'j', 0 },
	{ "open", 0, 0 }, { "no-browser", 0, 0 }, { "watch", 0, 0 },
	{ NULL, 0, 0 } };
static const struct cli_opt opts_approve[] = { { "ttl", 't', 1 },
	{ "grant", 0, 1 }, { "json", 'j', 0 }, { NULL, 0, 0 } };
static const struct cli_opt opts_deny[] = { { "reason", 0, 1 },
	{ "json", 'j', 0 }, { NULL, 0, 0 } };
static const struct cli_opt opts_exec[] = { { "scope", 's', 1 },
	{ "resource", 0, 1 }, { "repo", 0, 1 }, { "ttl", 't', 1 },
	{ "env", 0, 1 }, { "lease", 0, 1 }, { "reason", 0, 1 },
	{ "on-expiry", 0, 1 }, { "expand-args", 0, 0 }, { "pass-env", 0, 1 },
	{ "proxy", 0, 0 }, { NULL, 0, 0 } };
static const struct cli_opt opts_proxy[] = { { "scope", 's', 1 },
	{ "resource", 0, 1 }, { "repo", 0, 1 }, { "ttl", 't', 1 },
	{ "listen", 0, 1 }, { "reason", 0, 1 }, { NULL, 0, 0 } };
static const struct cli_opt opts_import[] = { { "dry-run", 0, 0 },
	{ "command", 0, 1 }, { "client", 0, 1 }, { NULL, 0, 0 } };
static const struct cli_opt opts_unlock[] = { { "for", 0, 1 }, { NULL, 0, 0 } };
static const struct cli_opt opts_agent_run[] = { { "ready-fd", 0, 1 },
	{ NULL, 0, 0 } };
static const struct cli_opt opts_team_agent_key[] = {
	{ "key-file", 0, CLI_ARG_FILE }, { "generate", 0, 0 },
	{ "private-key-out", 0, CLI_ARG_FILE }, { NULL, 0, 0 }
};
static const struct cli_opt opts_token[] = { { "scope", 's', 1 },
	{ "permission", 0, 1 }, { "resource", 0, 1 }, { "repo", 0, 1 },
	{ "ttl", 't', 1 }, { "reason", 0, 1 }, { "json", 'j', 0 },
	{ NULL, 0, 0 } };

#define FILTER_HELP \
	"  --since T             from time T (ISO 8601, or a duration ago: " \
	"24h)\n" \
	"  --until T             before time T\n" \
	"  --provider P          only provider P\n" \
	"  --event E             only events E (requested, issued, ...)\n" \
	"  --lease ID            only lease ID\n"

const struct cmd cmd_table[] = {
	{ NULL, "init", "[--key-backend passphrase|keyfile|keyring]",
	    "create the janee home, its ledger and secret store",
	    "  --key-backend B       passphrase (default): the store's key comes from\n"
	    "                        a passphrase through scrypt; keyfile: a random key\n"
	    "                        in master.key, weaker (whoever reads the home\n"
	    "                        reads every secret); keyring: a random key kept\n"
	    "                        in the desktop's Secret Service (libsecret)\n"
	    "  --new-passphrase-fd N read the new passphrase from descriptor N\n"
	    "                        (or JANEE_NEW_PASSPHRASE, JANEE_PASSPHRASE)\n",
	    opts_init, 0, 0, CMD_NO_SWEEP, cmd_init },
	{ NULL, "status", "[--json]",
	    "show the home, key backend, schema, SQLite integrity and counts (the audit chain: janee audit verify; all: janee doctor)",
	    "  -j, --json            print as JSON\n", opts_json, 0, 0,
	    CMD_LEDGER, cmd_status },
	{ NULL, "doctor", "[--json]",
	    "check everything a working setup needs; say how to fix each problem",
	    "  checks the home's and its files' modes, the ledger's integrity, the\n"
	    "  audit chain, config.json, that every secret reference resolves, that\n"
	    "  the store unlocks with no terminal (as for an MCP client), and that\n"
	    "  libcurl and libjwt load; exits 1 on any problem\n"
	    "  -j, --json            print as JSON\n",
	    opts_json, 0, 0, CMD_NO_SWEEP, cmd_doctor },
	{ NULL, "token",
	    "PROVIDER [--scope S]... [--resource R]... [--ttl T] [--reason TEXT] [--json]",
	    "mint a short-lived token as a lease; the token alone goes to stdout",
	    "  -s, --scope S         a scope to grant (repeat; default: the provider's\n"
	    "                        default_scopes)\n"
	    "  --permission P        the same as --scope (a permission such as issues:read)\n"
	    "  --resource R          narrow to resource R, for providers that have them\n"
	    "                        (repositories, databases: janee provider show NAME)\n"
	    "  --repo R              the same as --resource (a repository)\n"
	    "  -t, --ttl T           lifetime such as 90s, 5m, 1h (default: the policy's)\n"
	    "  --reason TEXT         why, recorded in the audit trail\n"
	    "  -j, --json            print token, lease_id, expires_at and scopes as JSON\n"
	    "                        (and every part of a token of several parts)\n",
	    opts_token, 1, 1, CMD_LEDGER | CMD_CONFIG, cmd_token },
	{ NULL, "exec",
	    "[PROVIDER] [--scope S]... [--env NAME[=REF]]... [--lease P:ENV:SCOPES]... [--pass-env NAME]... [options] -- CMD [ARGS...]",
	    "run CMD with short-lived tokens and secrets in its environment only",
	    "  PROVIDER              mint a lease of this provider for CMD\n"
	    "  -s, --scope S, --resource R (--repo R)\n"
	    "                        what PROVIDER's lease grants (repeat)\n"
	    "  --env NAME            the variable for PROVIDER's token (its primary part;\n"
	    "                        default: the provider's variables, janee provider\n"
	    "                        show NAME, else NAME_TOKEN)\n"
	    "  --env NAME=REF        a secret reference for CMD: secret:NAME, env:VAR,\n"
	    "                        file:PATH, keyring:SERVICE/ACCOUNT, vault://MOUNT/PATH#FIELD\n"
	    "                        (or plain text, with ${VAR} expanded)\n"
	    "  --lease P:ENV:SCOPES  one more lease: provider P, variable ENV, scopes\n"
	    "                        S1,S2 (ENV and scopes may be empty)\n"
	    "  -t, --ttl T           the leases' lifetime (default: the policy's)\n"
	    "  --reason TEXT         why, recorded in the audit trail\n"
	    "  --on-expiry kill|keep at a lease's end: stop CMD (default) or let it run\n"
	    "  --expand-args         replace ${NAME} in ARGS by --env NAME's value\n"
	    "                        (arguments are visible to local users: prefer env)\n"
	    "  --pass-env NAME       pass janee's variable NAME to CMD although a secret\n"
	    "                        reference reads it (repeat); without it CMD gets\n"
	    "                        none of the variables that config.json's references\n"
	    "                        and ${VAR}, or --env's references, read (env:VAR,\n"
	    "                        VAULT_TOKEN...), nor JANEE_PASSPHRASE\n"
	    "  --proxy               no token for PROVIDER in CMD's environment: CMD gets\n"
	    "                        a janee proxy instead (its API URL variable, e.g.\n"
	    "                        GITHUB_API_URL, JANEE_PROXY_URL and JANEE_PROXY_KEY)\n",
	    opts_exec, 1, -1, CMD_LEDGER | CMD_CONFIG, cmd_exec },
	{ NULL, "proxy",
	    "PROVIDER [--scope S]... [--repo R]... [--listen 127.0.0.1:PORT] [options]",
	    "serve PROVIDER's API on loopback with call_api's rules; the token stays in janee",
	    "  PROVIDER              a provider with \"api\" rules in config.json\n"
	    "  -s, --scope S, --resource R (--repo R)\n"
	    "                        what the lease grants (repeat)\n"
	    "  --listen ADDR         127.0.0.1:PORT (loopback only; default: a free port)\n"
	    "  -t, --ttl T           each lease's lifetime (default: the policy's)\n"
	    "  --reason TEXT         why, recorded in the audit trail\n"
	    "Prints NAME_API_URL=, JANEE_PROXY_URL= and JANEE_PROXY_KEY= once; every\n"
	    "request needs the key in the header Janee-Proxy-Key (or as its bearer\n"
	    "token).  When the lease ends, requests get 401 until a new one is approved.\n",
	    opts_proxy, 1, 1, CMD_LEDGER | CMD_CONFIG, cmd_proxy },
	{ NULL, "import-config", "[PATH | --client C] [--dry-run]",
	    "move plaintext secrets out of an MCP client's config into janee",
	    "  PATH                  claude_desktop_config.json, Cursor's mcp.json,\n"
	    "                        VS Code's mcp.json or settings.json, ~/.claude.json\n"
	    "                        (default: the one client config found at the\n"
	    "                        usual paths: janee mcp-config --help)\n"
	    "  --client C            the file of client C: claude, cursor, vscode or\n"
	    "                        claude-code (when several are found, janee asks\n"
	    "                        on a terminal; without one, --client is needed)\n"
	    "  --dry-run             show the change, values masked; change nothing\n"
	    "  --command PATH        the janee to write into the config (default:\n"
	    "                        this one)\n",
	    opts_import, 0, 1, CMD_LEDGER, cmd_import_config },
	{ "secret", "set", "NAME [--from-file PATH]",
	    "store a secret sealed; the value comes from stdin, never argv",
	    "  --from-file PATH      read the value from PATH, byte for byte\n"
	    "                        (from stdin one trailing newline is dropped)\n",
	    opts_secret_set, 1, 1, CMD_LEDGER, cmd_secret_set },
	{ "secret", "list", "[--json]", "list secret names and dates",
	    "  -j, --json            print as JSON\n", opts_json, 0, 0,
	    CMD_LEDGER, cmd_secret_list },
	{ "secret", "rm", "NAME", "remove a secret", "", opts_none, 1, 1,
	    CMD_LEDGER, cmd_secret_rm },
	{ "secret", "rekey", "[--key-backend passphrase|keyfile|keyring]",
	    "wrap the store's data key under a new passphrase or key file",
	    "  --key-backend B       switch to backend B while rekeying\n"
	    "  --new-passphrase-fd N read the new passphrase from descriptor N\n"
	    "                        (or JANEE_NEW_PASSPHRASE)\n",
	    opts_rekey, 0, 0, CMD_LEDGER, cmd_secret_rekey },
	{ "lease", "list",
	    "[--active | --all] [--provider P] [--grants] [--json]",
	    "list leases (active ones by default), and session grants",
	    "  --active              leases not yet ended (the default)\n"
	    "  --all                 every lease, ended ones too\n"
	    "  --provider P          only provider P\n"
	    "  --grants              the session grants instead (in force; "
	    "all with\n"
	    "                        --all)\n"
	    "  -j, --json            print as JSON\n",
	    opts_lease_list, 0, 0, CMD_LEDGER, cmd_lease_list },
	{ "lease", "show", "ID [--json]", "show one lease",
	    "  -j, --json            print as JSON\n", opts_json, 1, 1,
	    CMD_LEDGER, cmd_lease_show },
	{ "lease", "revoke", "ID | GRANT | --provider P | --all",
	    "end leases now and revoke their tokens at the provider",
	    "  GRANT                 a session grant (grt_...): no more "
	    "approvals\n"
	    "                        under it, and the leases it approved "
	    "end\n"
	    "  --provider P          every active lease of provider P\n"
	    "  --all                 every active lease\n",
	    opts_lease_revoke, 0, 1, CMD_LEDGER | CMD_CONFIG,
	    cmd_lease_revoke },
	{ "lease", "sweep", "[--json]",
	    "expire overdue leases and deny requests left unsettled for a day, now, asking for the passphrase if needed",
	    "  -j, --json            print the counts as JSON\n", opts_json, 0,
	    0, CMD_LEDGER | CMD_CONFIG | CMD_NO_SWEEP, cmd_lease_sweep },
	{ "audit", "list", "[filters] [--limit N] [--json]",
	    "show audit events, oldest first",
	    FILTER_HELP "  --limit N             only the newest N events\n"
			"  -j, --json            print as JSON\n",
	    opts_audit_list, 0, 0, CMD_LEDGER, cmd_audit_list },
	{ "audit", "export", "[--format csv] [filters] [-o FILE]",
	    "export audit events as RFC 4180 CSV",
	    "  --format csv          the format (the default, and the one there is)\n" FILTER_HELP
	    "  -o, --output FILE     write FILE (0600, atomically) instead of stdout\n",
	    opts_audit_export, 0, 0, CMD_LEDGER, cmd_audit_export },
	{ "audit", "verify", "[--expect SEQ:HASH] [--no-key] [--json]",
	    "recompute the audit chain, check its keyed checkpoint and each "
	    "lease",
	    "  --expect SEQ:HASH     fail unless the chain still holds that "
	    "row\n"
	    "                        with that hash (from janee audit head)\n"
	    "  --no-key              do not unlock the store: the keyed "
	    "checkpoint\n"
	    "                        is not checked\n"
	    "  -j, --json            print as JSON\n",
	    opts_audit_verify, 0, 0, CMD_LEDGER, cmd_audit_verify },
	{ "audit", "head", "[--json]",
	    "print the audit chain's head as SEQ:HASH (for verify --expect)",
	    "  -j, --json            print as JSON\n", opts_json, 0, 0,
	    CMD_LEDGER, cmd_audit_head },
	{ "audit", "lookup", "[--json]",
	    "read a token on stdin and show the leases it belongs to",
	    "  -j, --json            print as JSON\n", opts_json, 0, 0,
	    CMD_LEDGER, cmd_audit_lookup },
	{ NULL, "serve", "[--http ADDR:PORT [--tls-cert F --tls-key F]]",
	    "run the MCP server on stdin/stdout (started by an MCP client), "
	    "or over HTTP",
	    "  (without --http the client speaks JSON-RPC on stdin)\n"
	    "  --http ADDR:PORT      serve MCP Streamable HTTP there instead "
	    "(loopback\n"
	    "                        only, 127.0.0.1:PORT or [::1]:PORT, "
	    "unless\n"
	    "                        config.json has \"auth\": team mode, "
	    "docs/TEAM.md)\n"
	    "  --path P              the MCP endpoint (default /mcp)\n"
	    "  --tls-cert FILE       serve HTTPS with this PEM certificate "
	    "chain\n"
	    "  --tls-key FILE        and this PEM private key\n"
	    "  --trust-proxy         behind a reverse proxy: rate-limit by "
	    "its\n"
	    "                        X-Forwarded-For\n"
	    "  --allow-origin O      accept requests with this Origin "
	    "(repeatable)\n"
	    "  --session-idle T      end sessions unused this long (default "
	    "30m)\n"
	    "  --max-sessions N      at most N sessions at once (default 64)\n"
	    "  --rate-limit N        requests per client and minute (default "
	    "600)\n",
	    opts_serve, 0, 0, CMD_NO_SWEEP, cmd_serve },
	{ NULL, "mcp-config",
	    "[--client claude|cursor|vscode|claude-code] [--install [--dry-run]]",
	    "print the JSON that makes an MCP client start janee serve, or write it into the client's file",
	    "  --client C            claude (default), cursor, vscode or claude-code\n"
	    "  --install             add (or update) the \"janee\" server in the client's\n"
	    "                        own file, keeping everything else; a backup of\n"
	    "                        the file first (FILE.janee-backup-TIME, 0600):\n"
	    "                          claude       $XDG_CONFIG_HOME/Claude/claude_desktop_config.json\n"
	    "                          cursor       ~/.cursor/mcp.json\n"
	    "                          vscode       $XDG_CONFIG_HOME/Code/User/mcp.json (\"servers\")\n"
	    "                          claude-code  ~/.claude.json (user scope)\n"
	    "                        ($XDG_CONFIG_HOME: ~/.config when unset)\n"
	    "  --dry-run             with --install: show the diff; write nothing\n",
	    opts_mcp_config, 0, 0, CMD_NO_SWEEP, cmd_mcp_config },
	{ NULL, "approvals", "[--json] | --open [--no-browser] | --watch",
	    "list requests waiting for a person's approval, and session "
	    "grants",
	    "  -j, --json            print the waiting requests as JSON\n"
	    "  --open                serve janee's approval page and open it "
	    "in the\n"
	    "                        browser (until Ctrl-C)\n"
	    "  --no-browser          with --open: print the page's one-time "
	    "link\n"
	    "  --watch               print requests as they arrive (until "
	    "Ctrl-C)\n",
	    opts_approvals, 0, 0, CMD_LEDGER, cmd_approvals },
	{ NULL, "approve", "ID [--ttl T] [--grant T] [--json]",
	    "approve a waiting request (out-of-band approval)",
	    "  -t, --ttl T           grant a shorter lifetime than asked\n"
	    "  --grant T             and approve this session's narrower "
	    "requests\n"
	    "                        for T without asking (session_grant_max)"
	    "\n"
	    "  -j, --json            print the lease (lease_id, provider, state,\n"
	    "                        scopes) and any grant_id as JSON\n",
	    opts_approve, 1, 1, CMD_LEDGER | CMD_CONFIG, cmd_approve },
	{ NULL, "deny", "ID [--reason TEXT] [--json]", "deny a waiting request",
	    "  --reason TEXT         why, for the audit trail and the agent\n"
	    "  -j, --json            print the lease (lease_id, provider, state,\n"
	    "                        scopes) as JSON\n",
	    opts_deny, 1, 1, CMD_LEDGER | CMD_CONFIG, cmd_deny },
	{ NULL, "login", "PROVIDER [--no-browser] [--profile NAME] [--paste]",
	    "sign in to a provider (a device code or a browser sign-in, as its type does) and keep the login sealed",
	    "  --no-browser          do not open a browser; print the URL only\n"
	    "                        (also the case when not on a terminal)\n"
	    "  --profile NAME        the install profile to log in (providers with profiles)\n"
	    "  --paste               read the redirect address (or the code) from stdin\n"
	    "                        instead of listening on 127.0.0.1 (browser logins)\n",
	    opts_login, 1, 1, CMD_LEDGER | CMD_CONFIG, cmd_login },
	{ NULL, "logout", "PROVIDER",
	    "end the provider's session grants and leases, revoke its login "
	    "there, forget it",
	    "", opts_none, 1, 1, CMD_LEDGER | CMD_CONFIG, cmd_logout },
	{ "provider", "add",
	    "NAME --type T [--issuer URL --client-id ID --scope S...] [--set KEY=VALUE...] [options]",
	    "add a provider to config.json (validated before it is written)",
	    "  --type T              the provider type (janee provider types lists them)\n"
	    "  --issuer URL          the issuer (endpoints by discovery), or:\n"
	    "  --token-endpoint URL, --device-endpoint URL,\n"
	    "  --revocation-endpoint URL, --introspection-endpoint URL\n"
	    "  --client-id ID        the OAuth client id\n"
	    "  --client-secret REF   a reference such as secret:NAME, never a value\n"
	    "  --auth-method M       client_secret_basic, client_secret_post or none\n"
	    "  --grant G             device_code (default), client_credentials,\n"
	    "                        token_exchange\n"
	    "  --scope S             a scope that may be granted (repeat; the ceiling)\n"
	    "  --default-scope S     granted when a request names none (repeat)\n"
	    "  --login-scope S       asked for at login (repeat; default: the ceiling)\n"
	    "  --max-ttl T, --default-ttl T   lease lifetimes (90s, 5m, 1h)\n"
	    "  --approval A          auto, ask, out-of-band or deny\n"
	    "  --lease-end E         revoke or expire (default: revoke, or the type's own: see janee provider types)\n"
	    "  --ca-file PATH        trust this CA for the provider's TLS\n"
	    "  --set KEY=VALUE       any config.json key of the type (repeat),\n"
	    "                        e.g. --set installation_id=123456 --set private_key=secret:k\n"
	    "                        --set 'permissions=[\"issues:write\"]'; VALUE is JSON\n"
	    "                        when true, false, null, an integer or [...] {...} \"...\",\n"
	    "                        else a string (each type's keys: docs/, docs/PROVIDERS.md)\n",
	    opts_provider_add, 1, 1, CMD_LEDGER | CMD_NO_SWEEP,
	    cmd_provider_add },
	{ "provider", "edit", "NAME (--set KEY=VALUE | --unset KEY)...",
	    "change a provider's keys in config.json (validated before it is "
	    "written)",
	    "  --set KEY=VALUE       set KEY (repeat); VALUE as for provider "
	    "add --set\n"
	    "  --unset KEY           remove KEY (repeat)\n",
	    opts_provider_edit, 1, 1, CMD_LEDGER | CMD_NO_SWEEP,
	    cmd_provider_edit },
	{ "provider", "rm", "NAME [--yes]",
	    "remove a provider: end its session grants and leases, log out, "
	    "then drop its entry",
	    "  -y, --yes             do not ask (needed without a terminal)\n",
	    opts_provider_rm, 1, 1, CMD_LEDGER | CMD_CONFIG, cmd_provider_rm },
	{ "provider", "test", "NAME [--scope S]... [--no-mint] [--json]",
	    "check a provider end to end: its config, secrets, login, a "
	    "real mint",
	    "  checks the entry, that each secret reference resolves and the "
	    "login;\n"
	    "  then mints a 60-second token (approved as janee token is) and "
	    "ends it\n"
	    "  at once, and, for a login the provider revokes tokens of, "
	    "mints again\n"
	    "  to find a server that ends the whole login with one token\n"
	    "  -s, --scope S         the scopes to mint (default: the "
	    "provider's\n"
	    "                        default_scopes)\n"
	    "  --no-mint             stop before minting\n"
	    "  -j, --json            {\"ok\", \"checks\": [{\"check\", \"ok\", "
	    "\"detail\"}]}, as doctor\n",
	    opts_provider_test, 1, 1, CMD_LEDGER | CMD_CONFIG,
	    cmd_provider_test },
	{ "provider", "types", "[--json]",
	    "list the provider types this janee has, and what each is",
	    "  -j, --json            print as JSON\n", opts_json, 0, 0,
	    CMD_NO_SWEEP, cmd_provider_types },
	{ "provider", "list", "[--json]",
	    "list configured providers, their policies and login state",
	    "  -j, --json            print as JSON\n", opts_json, 0, 0,
	    CMD_LEDGER | CMD_CONFIG, cmd_provider_list },
	{ "provider", "show", "NAME [--json | --scopes]",
	    "show one provider: policy, lease end, login state",
	    "  -j, --json            print as JSON\n"
	    "  --scopes              print its allowed scopes, one per line\n",
	    opts_provider_show, 1, 1, CMD_LEDGER | CMD_CONFIG,
	    cmd_provider_show },
	{ NULL, "unlock", "[--for DURATION]",
	    "hand the store's key to the background agent for a while",
	    "  --for DURATION        how long the agent holds the key "
	    "(default 8h,\n"
	    "                        at most 7d): 30m, 8h, 2d.  Commands, "
	    "janee serve\n"
	    "                        and the agent's revocations use it "
	    "meanwhile\n"
	    "                        without asking; janee lock wipes it "
	    "sooner.\n"
	    "                        The passphrase comes as usual "
	    "(terminal,\n"
	    "                        --passphrase-fd, JANEE_PASSPHRASE); "
	    "key-file and\n"
	    "                        keyring homes need no unlock\n",
	    opts_unlock, 0, 0, CMD_LEDGER | CMD_NO_SWEEP, cmd_unlock },
	{ NULL, "lock", "",
	    "wipe the store's key from the background agent now",
	    "  (no options of its own; janee status shows what the agent "
	    "holds)\n",
	    opts_none, 0, 0, CMD_LEDGER | CMD_NO_SWEEP, cmd_lock },
#define TEAM_AGENT_KEY_HELP \
	"  --key-file PATH       the agent's public key (PEM: RSA of 2048 bits or\n" \
	"                        more, or EC P-256); never a private key\n" \
	"  --generate            make an EC P-256 key pair; the private key is\n" \
	"                        printed once (or written to --private-key-out)\n" \
	"                        and never kept by janee\n" \
	"  --private-key-out PATH  with --generate: a new file, mode 0600\n"
	{ "agent", "add",
	    "NAME (--key-file PUB.pem | --generate [--private-key-out PATH])",
	    "register a remote agent for team mode (janee serve --http; docs/TEAM.md)",
	    TEAM_AGENT_KEY_HELP, opts_team_agent_key, 1, 1, CMD_LEDGER,
	    cmd_team_agent_add },
	{ "agent", "list", "[--json]",
	    "list the remote agents of team mode and their keys",
	    "  -j, --json            print as JSON\n", opts_json, 0, 0,
	    CMD_LEDGER, cmd_team_agent_list },
	{ "agent", "rm", "NAME",
	    "remove a remote agent: its tokens are refused from then on", "",
	    opts_none, 1, 1, CMD_LEDGER, cmd_team_agent_rm },
	{ "agent", "rotate",
	    "NAME (--key-file PUB.pem | --generate [--private-key-out PATH])",
	    "replace a remote agent's key: the old key and its tokens are refused",
	    TEAM_AGENT_KEY_HELP, opts_team_agent_key, 1, 1, CMD_LEDGER,
	    cmd_team_agent_rotate },
	{ NULL, "agent-run", "[--ready-fd N]",
	    "run the background agent in the foreground (janee starts it)",
	    "  --ready-fd N          write one byte to descriptor N once "
	    "listening\n",
	    opts_agent_run, 0, 0, CMD_NO_SWEEP | CMD_HIDDEN, cmd_agent_run },
	{ NULL, "version", "[--json]", "print the version",
	    "  -j, --json            print name and version as JSON\n",
	    opts_json, 0, 0, CMD_NO_SWEEP, cmd_version },
	{ NULL, "help", "[COMMAND...]", "show help for janee or a command", "",
	    opts_none, 0, -1, CMD_NO_SWEEP, cmd_help },
	{ NULL, "completion", "bash|zsh|fish",
	    "print a shell completion script",
	    "  bash                  source it, or install it as\n"
	    "                        $datadir/bash-completion/completions/janee\n"
	    "  zsh                   install it as _janee in a $fpath directory\n"
	    "  fish                  install it as ~/.config/fish/completions/janee.fish\n"
	    "The scripts ask janee itself (janee __complete) for commands, options,\nprovider names, scopes, lease ids and secret names.\n",
	    opts_none, 1, 1, CMD_NO_SWEEP, cmd_completion },
	{ NULL, "__complete", "-- WORDS...",
	    "candidates for the last word (used by the completion scripts)", "",
	    opts_none, 0, -1, CMD_NO_SWEEP | CMD_HIDDEN, cmd_complete },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL },
};

static void
main_usage(FILE *fp)
{
	const struct cmd *cmd;

	fprintf(fp,
	    "usage: janee [--home DIR] [--passphrase-fd N] COMMAND [ARGS]\n\n"
	    "janee keeps long-lived credentials sealed and hands out short-lived,\n"
	    "scope-narrowed tokens as leases: approved, audited, expired on time.\n\ncommands:\n");
	for (cmd = cmd_table; cmd->name != NULL; cmd++) {
		char words[32];

		if (cmd->flags & CMD_HIDDEN)
			continue;
		snprintf(words, sizeof(words), "%s%s%s",
		    cmd->group ? cmd->group : "", cmd->group ? " " : "",
		    cmd->name);
		fprintf(fp, "  %-16s %s\n", words, cmd->summary);
	}
	fprintf(fp,
	    "\nglobal options:\n" CLI_GLOBAL_HELP
	    "  --version             print the version\n"
	    "\n'janee help COMMAND' or 'janee COMMAND --help' for more.\n");
}

static void
group_usage(const char *group, FILE *fp)
{
	const struct cmd *cmd;

	fprintf(fp, "usage: janee %s SUBCOMMAND\n\nsubcommands:\n", group);
	for (cmd = cmd_table; cmd->name != NULL; cmd++)
		if (cmd->group != NULL && strcmp(cmd->group, group) == 0)
			fprintf(fp, "  %-10s %s\n", cmd->name, cmd->summary);
}

static void
cmd_help_text(const struct cmd *cmd, FILE *fp)
{
	cli_usage(cmd, fp);
	fprintf(fp, "\n%s\n\noptions:\n%s" CLI_GLOBAL_HELP, cmd->summary,
	    cmd->help);
}

static int
is_group(const char *word)
{
	const struct cmd *cmd;

	for (cmd = cmd_table; cmd->name != NULL; cmd++)
		if (cmd->group != NULL && strcmp(cmd->group, word) == 0)
			return 1;
	return 0;
}

/* Find the command named by argv; *used is how many words it took. */
static const struct cmd *
find_cmd(int argc, char **argv, int *used)
{
	const struct cmd *cmd;

	for (cmd = cmd_table; cmd->name != NULL; cmd++) {
		if (cmd->group == NULL && strcmp(cmd->name, argv[0]) == 0) {
			*used = 1;
			return cmd;
		}
		if (cmd->group != NULL && argc > 1 &&
		    strcmp(cmd->group, argv[0]) == 0 &&
		    strcmp(cmd->name, argv[1]) == 0) {
			*used = 2;
			return cmd;
		}
	}
	return NULL;
}

/*
 * A typo's one-line answer: "unknown command 'tokn'; did you mean
 * 'token'?", then where to look, instead of the whole help.  group is the
 * command group typed (its subcommands are the candidates), or NULL.
 */
static void
unknown_command(const char *group, const char *word)
{
	const char *names[128];
	const struct cmd *cmd;
	size_t n = 0, idx[3], got, i;

	for (cmd = cmd_table; cmd->name != NULL && n < nitems(names); cmd++)
		if (group == NULL)
			names[n++] = cmd->group ? cmd->group : cmd->name;
		else if (cmd->group != NULL && strcmp(cmd->group, group) == 0)
			names[n++] = cmd->name;
	got = janee_nearest(word, names, n, nitems(idx), idx);
	fprintf(stderr, "janee: unknown command '%s%s%s'", group ? group : "",
	    group ? " " : "", word);
	/* Whole command words, "lease list", so the answer can be typed. */
	for (i = 0; i < got; i++)
		fprintf(stderr, "%s'%s%s%s'", i ? ", " : "; did you mean ",
		    group ? group : "", group ? " " : "", names[idx[i]]);
	fprintf(stderr, "%s (see: janee help%s%s)\n", got ? "?" : "",
	    group ? " " : "", group ? group : "");
}

int
cmd_version(struct cli *c)
{
	cJSON *o;

	if (!cli_has(c, "json")) {
		printf("janee %s\n", PACKAGE_VERSION);
		return 0;
	}
	/* As MCP's serverInfo says it. */
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "name", "janee") == NULL ||
	    cJSON_AddStringToObject(o, "version", PACKAGE_VERSION) == NULL) {
		cJSON_Delete(o);
		return JANEE_ERR_NOMEM;
	}
	return cli_print_json(o);
}

int
cmd_help(struct cli *c)
{
	const struct cmd *cmd;
	int used;

	if (c->npos == 0) {
		main_usage(stdout);
		return 0;
	}
	if ((cmd = find_cmd(c->npos, c->pos, &used)) != NULL &&
	    used == c->npos) {
		cmd_help_text(cmd, stdout);
		return 0;
	}
	if (c->npos == 1 && is_group(c->pos[0])) {
		group_usage(c->pos[0], stdout);
		return 0;
	}
	return cli_usage_error(c, "no help for '%s'", c->pos[0]);
}

static const struct cli_opt *
find_opt(
    const struct cli_opt *opts, const char *name, size_t len, char sn, int *idx)
{
	int i;

	for (i = 0; opts != NULL && opts[i].name != NULL; i++)
		if ((sn && opts[i].shortname == sn) ||
		    (!sn && strlen(opts[i].name) == len &&
			strncmp(opts[i].name, name, len) == 0)) {
			*idx = i;
			return &opts[i];
		}
	return NULL;
}

const struct cli_opt cli_global_opts[] = { { "home", 0, CLI_ARG_FILE },
	{ "passphrase-fd", 0, 1 }, { "help", 'h', 0 }, { "version", 0, 0 },
	{ NULL, 0, 0 } };

/* "unknown option '--scop'; did you mean '--scope'?", as an error. */
static int
unknown_option(const struct cli_opt *opts, const char *arg)
{
	const struct cli_opt *tables[2] = { opts, cli_global_opts };
	char names[CLI_MAX_OPTS + 8][40], word[64];
	const char *cands[CLI_MAX_OPTS + 8];
	struct buf near;
	size_t n = 0, t;
	int i, rc;

	for (t = 0; t < nitems(tables); t++)
		for (i = 0; tables[t] != NULL && tables[t][i].name != NULL &&
		     n < nitems(names);
		     i++) {
			snprintf(names[n], sizeof(names[n]), "--%s",
			    tables[t][i].name);
			cands[n] = names[n];
			n++;
		}
	/* The name alone: "--scop=x" is a slip for "--scope". */
	snprintf(word, sizeof(word), "%.*s", (int)strcspn(arg, "="), arg);
	buf_init(&near, 4096);
	if (janee_suggest(word, cands, n, 3, &near) == 0)
		buf_reset(&near);
	rc = janee_err_set(JANEE_ERR_USAGE, "unknown option '%s'%s%s%s", arg,
	    near.len ? "; did you mean " : "", near.len ? near.p : "",
	    near.len ? "?" : "");
	buf_free(&near);
	return rc;
}

/* Apply a global option; 1 when --help was asked for. */
static int
apply_global(struct cli *c, int idx, const char *val)
{
	int64_t fd;

	switch (idx) {
	case 0:
		c->core.home_opt = val;
		return 0;
	case 1:
		if (janee_parse_int(val, 0, 1024, &fd) != 0)
			return janee_err_set(JANEE_ERR_USAGE,
			    "--passphrase-fd takes a descriptor number, not '%s'",
			    val);
		c->core.ks.fd = (int)fd;
		return 0;
	case 2:
		return 1;
	default:
		return 2; /* --version */
	}
}

/*
 * Parse argv (after the command words).  Returns 0, 1 for --help, 2 for
 * --version, or an error.  "--" ends the options.
 */
static int
parse_opts(struct cli *c, const struct cli_opt *opts, int argc, char **argv)
{
	const struct cli_opt *o;
	const char *arg, *name, *eq, *val;
	int i, idx, global, rc, ask = 0;
	size_t len;
	char sn;

	/* c->vals has a slot per option: a longer table would overrun it. */
	for (i = 0; opts != NULL && opts[i].name != NULL; i++)
		if (i >= CLI_MAX_OPTS)
			return janee_err_set(JANEE_ERR_INTERNAL,
			    "this command has more than %d options; raise CLI_MAX_OPTS",
			    CLI_MAX_OPTS);
	if ((c->pos = calloc((size_t)argc + 1, sizeof(*c->pos))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	for (i = 0; i < argc; i++) {
		arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			while (++i < argc)
				c->pos[c->npos++] = argv[i];
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			c->pos[c->npos++] = argv[i];
			continue;
		}
		sn = 0;
		if (arg[1] == '-') {
			name = arg + 2;
			eq = strchr(name, '=');
			len = eq ? (size_t)(eq - name) : strlen(name);
		} else {
			if (arg[2] != '\0')
				return janee_err_set(JANEE_ERR_USAGE,
				    "unknown option '%s'", arg);
			name = arg + 1;
			eq = NULL;
			len = 1;
			sn = arg[1];
		}
		global = 0;
		if ((o = find_opt(opts, name, len, sn, &idx)) == NULL) {
			if ((o = find_opt(
				 cli_global_opts, name, len, sn, &idx)) == NULL)
				return unknown_option(opts, arg);
			global = 1;
		}
		val = NULL;
		if (o->has_arg) {
			if (eq != NULL)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return janee_err_set(JANEE_ERR_USAGE,
				    "option '--%s' needs a value", o->name);
		} else if (eq != NULL)
			return janee_err_set(JANEE_ERR_USAGE,
			    "option '--%s' takes no value", o->name);
		if (global) {
			if ((rc = apply_global(c, idx, val)) < 0)
				return rc;
			if (rc > 0)
				ask = rc;
			continue;
		}
		c->seen[idx]++;
		if (val != NULL &&
		    (rc = janee_strlist_add(&c->vals[idx], val)) != 0)
			return rc;
	}
	return ask;
}

static int
exit_code(int rc)
{
	if (rc == 0)
		return 0;
	return rc == JANEE_ERR_USAGE ? 2 : 1;
}

/*
 * cJSON holds copies of tokens (a --json answer) in its nodes and printed
 * strings; wipe every block it frees.
 */
static void
json_free_wipe(void *p)
{
	if (p == NULL)
		return;
	janee_wipe(p, malloc_usable_size(p));
	free(p);
}

int
main(int argc, char **argv)
{
	cJSON_Hooks hooks = { malloc, json_free_wipe };

	const struct cmd *cmd;
	struct cli c;
	int rc, used, first;

	process_harden();
	cJSON_InitHooks(&hooks);
	/*
	 * This is janee: it may start and ask the background agent, unless
	 * told not to (JANEE_NO_AGENT: a container or script that sweeps by
	 * itself, or a test that edits the ledger under janee's feet).
	 */
	agent_enabled = getenv("JANEE_NO_AGENT") == NULL;
	memset(&c, 0, sizeof(c));
	c.core.ks.fd = -1;
	c.core.ks.new_fd = -1;
	c.core.ks.may_prompt = 1;

	/* Global options before the command. */
	for (first = 1; first < argc && argv[first][0] == '-'; first++) {
		int idx;
		const struct cli_opt *o;
		const char *arg = argv[first], *name, *eq;
		size_t len;

		if (strcmp(arg, "--") == 0) {
			first++;
			break;
		}
		name = arg + (arg[1] == '-' ? 2 : 1);
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		o = find_opt(cli_global_opts, name, len,
		    arg[1] == '-' ? 0 : (arg[2] == '\0' ? arg[1] : '?'), &idx);
		if (o == NULL) {
			fprintf(stderr, "janee: %s (see: janee help)\n",
			    janee_err_msg(unknown_option(NULL, arg)));
			return 2;
		}
		if (o->has_arg && eq == NULL && first + 1 >= argc) {
			fprintf(
			    stderr, "janee: option '%s' needs a value\n", arg);
			return 2;
		}
		rc = apply_global(
		    &c, idx, o->has_arg ? (eq ? eq + 1 : argv[++first]) : NULL);
		if (rc < 0) {
			fprintf(stderr, "janee: %s\n", janee_err_msg(rc));
			return 2;
		}
		if (rc == 1) {
			main_usage(stdout);
			return 0;
		}
		if (rc == 2) {
			printf("janee %s\n", PACKAGE_VERSION);
			return 0;
		}
	}
	if (first >= argc) {
		main_usage(stderr);
		return 2;
	}
	if ((cmd = find_cmd(argc - first, argv + first, &used)) == NULL) {
		if (is_group(argv[first])) {
			if (first + 1 < argc &&
			    strcmp(argv[first + 1], "--help") != 0 &&
			    strcmp(argv[first + 1], "-h") != 0) {
				unknown_command(argv[first], argv[first + 1]);
				return 2;
			}
			group_usage(
			    argv[first], first + 1 < argc ? stdout : stderr);
			return first + 1 < argc ? 0 : 2;
		}
		unknown_command(NULL, argv[first]);
		return 2;
	}
	c.cmd = cmd;
	rc =
	    parse_opts(&c, cmd->opts, argc - first - used, argv + first + used);
	if (rc < 0) {
		fprintf(stderr, "janee: %s\n", janee_err_msg(rc));
		cli_usage(cmd, stderr);
		rc = JANEE_ERR_USAGE;
		goto out;
	}
	if (rc == 1) {
		cmd_help_text(cmd, stdout);
		rc = 0;
		goto out;
	}
	if (rc == 2) {
		printf("janee %s\n", PACKAGE_VERSION);
		rc = 0;
		goto out;
	}
	if ((rc = cli_check_args(&c)) == 0 &&
	    (rc = cli_open(&c, cmd->flags)) == 0)
		rc = cmd->exec(&c);
	/* A message may quote a lease's or a server's text: escaped. */
	if ((rc != 0 && rc != JANEE_ERR_USAGE) ||
	    (rc == JANEE_ERR_USAGE &&
		janee_err_msg(rc) != janee_strerror(rc))) {
		fputs("janee: ", stderr);
		cli_put_text(stderr, janee_err_msg(rc), 0);
		fputc('\n', stderr);
	}
out:
	if (fflush(stdout) != 0 && rc == 0) {
		fprintf(stderr, "janee: cannot write output: %s\n",
		    strerror(errno));
		rc = JANEE_ERR_IO;
	}
	cli_close(&c);
	free(c.pos);
	return exit_code(rc);
}
