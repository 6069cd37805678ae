/*
 * The command-line front: one table of commands (main.c), one option
 * parser, and the state a command may ask for (home, ledger, config,
 * broker), opened on demand.
 */
#ifndef JANEE_CLI_H
#define JANEE_CLI_H

#include "common.h"

#include <cjson/cJSON.h>

#include "core.h"
#include "table.h"

#define CLI_MAX_OPTS 32 /* per command; parse_opts refuses a longer table */

/* Options every command takes; listed in --help. */
#define CLI_GLOBAL_HELP \
	"  --home DIR            the janee home (default $JANEE_HOME, " \
	"then ~/.janee)\n" \
	"  --passphrase-fd N     read the store's passphrase from descriptor " \
	"N\n" \
	"  -h, --help            show this help\n"

struct cli_opt {
	const char *name; /* long name, without "--" */
	char shortname; /* or 0 */
	int has_arg; /* 0, 1, or CLI_ARG_FILE: a path (shells complete it) */
};

#define CLI_ARG_FILE 2

/* The options every command takes (--home, ...). */
extern const struct cli_opt cli_global_opts[];

struct cmd;

struct cli {
	const struct cmd *cmd;
	/* parsed */
	struct janee_strlist vals[CLI_MAX_OPTS]; /* per cmd option */
	int seen[CLI_MAX_OPTS];
	char **pos;
	int npos;
	struct core core; /* home, ledger, config, broker: cli_open */
};

/* State a command needs before it runs (core.h's, and the sweep). */
#define CMD_LEDGER CORE_LEDGER /* an initialised home and its ledger */
#define CMD_CONFIG CORE_CONFIG /* config.json must load (else warn) */
#define CMD_NO_SWEEP 0x04 /* do not sweep overdue leases first */
#define CMD_HIDDEN 0x08 /* not listed in help (__complete, agent-run) */

struct cmd {
	const char *group; /* "secret", or NULL for a top-level command */
	const char *name;
	const char *args; /* usage after the command words */
	const char *summary;
	const char *help; /* the command's own options, one per line */
	const struct cli_opt *opts; /* NULL-name terminated, or NULL */
	int min_args, max_args; /* positional arguments; -1: no limit */
	unsigned flags;
	int (*exec)(struct cli *c);
};

extern const struct cmd cmd_table[];

/* Index of option `name` in the command's table (it must exist). */
int cli_opt_index(const struct cli *c, const char *name);
/* The last value given for an option, or NULL. */
const char *cli_get(const struct cli *c, const char *name);
const struct janee_strlist *cli_all(const struct cli *c, const char *name);
int cli_has(const struct cli *c, const char *name);

/* Print usage of c's command to fp. */
void cli_usage(const struct cmd *cmd, FILE *fp);
/* A usage error: message, usage line, JANEE_ERR_USAGE (exit 2). */
int cli_usage_error(const struct cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Check the positional argument count against the command's table. */
int cli_check_args(const struct cli *c) JANEE_WUR;

/*
 * Open the home, the ledger, the config and the broker as flags ask
 * (core_open), warn of a config that does not load when it need not,
 * and sweep overdue leases first unless CMD_NO_SWEEP.
 */
int cli_open(struct cli *c, unsigned flags) JANEE_WUR;
/* Load config.json and start the broker (for commands that mint). */
int cli_broker(struct cli *c) JANEE_WUR;
void cli_close(struct cli *c);

/* Print a JSON value to stdout on one line, then free it. */
int cli_print_json(cJSON *v) JANEE_WUR;
/*
 * Print text that came from elsewhere (an agent's reason) for a person,
 * padded to width: unsafe characters escaped (janee_text_char), so that
 * a newline cannot forge a line, an escape sequence cannot reach the
 * terminal and a bidi control cannot reorder the line.
 */
void cli_put_text(FILE *fp, const char *s, int width);
/* Whether stdin and stderr are a terminal (for prompts). */
int cli_interactive(void);

/*
 * Approval at the CLI (cli-ask.c).  cli_obtain submits req to the broker
 * saying what the CLI can do: a y/N question on the terminal when there
 * is one (purpose, such as the command janee exec runs, is shown), else
 * a wait for `janee approve`, with waiting() called as broker_await
 * says.  Returns as broker_submit does, never JANEE_ERR_PENDING.
 */
struct prov;
int cli_can_prompt(void);
/*
 * A yes/no question of janee's own words (no outside text) on the
 * terminal: 1 yes, 0 no, -1 when there is no terminal.
 */
int cli_confirm(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * End (and revoke) every active lease of provider (NULL: of every
 * provider), saying how many; JANEE_ERR_PROVIDER when some failed.
 */
int cli_end_leases(struct cli *c, const char *provider);
int cli_ask_tty(const struct prov *pv, const struct lease *l, void *arg);
/*
 * The line people see while janee waits for them (login, token, exec):
 * a spinner, what is awaited and the time left, redrawn at most every
 * 250 ms, on a terminal only; cli_wait_done clears it.
 */
void cli_wait_line(const char *what, int64_t left_ms);
void cli_wait_done(void);
int cli_obtain(struct cli *c, struct broker_req *req, const char *purpose,
    const char *(*waiting)(void *arg, int64_t left_ms), void *arg,
    struct broker_grant *g) JANEE_WUR;

/* A lease for people (one table row) and for programs (never a token). */
struct lease;
void cli_lease_table(struct table *t);
int cli_lease_table_add(struct table *t, const struct lease *l) JANEE_WUR;
/*
 * A scope list as people read it everywhere ("issues:read issues:write"),
 * from its JSON array text; NULL text is "-".  malloc'd, NULL on ENOMEM.
 */
char *cli_scope_list(const char *json);
/* A session grant for people (cmd-lease.c); a grant_each callback. */
struct grant;
int cli_grant_row(const struct grant *g, void *arg);
cJSON *cli_lease_json(const struct lease *l);

/* Commands, one file per group (cmd-*.c). */
int cmd_init(struct cli *c);
int cmd_status(struct cli *c);
int cmd_doctor(struct cli *c);

/* Checks that go on after a failure (doctor, provider test). */
struct checklist {
	cJSON *checks; /* with --json */
	int problems;
};
/*
 * Record one check: rc 0 passes with detail, else the current error
 * message (which says what to run) is the problem; the error is cleared.
 */
void
check_report(struct checklist *d, const char *name, int rc, const char *detail);
/*
 * The end of a checklist: with --json, {"ok", "checks"} on stdout; an
 * error naming the number of problems, or 0.
 */
int check_end(struct checklist *d) JANEE_WUR;
/* Each secret reference among v's strings resolves; *n counts them. */
int check_refs(struct ledger *lg, const cJSON *v, int *n) JANEE_WUR;
int cmd_version(struct cli *c);
int cmd_help(struct cli *c);
int cmd_secret_set(struct cli *c);
int cmd_secret_list(struct cli *c);
int cmd_secret_rm(struct cli *c);
int cmd_secret_rekey(struct cli *c);
int cmd_lease_list(struct cli *c);
int cmd_lease_show(struct cli *c);
int cmd_lease_revoke(struct cli *c);
int cmd_lease_sweep(struct cli *c);
int cmd_audit_list(struct cli *c);
int cmd_audit_export(struct cli *c);
int cmd_audit_verify(struct cli *c);
int cmd_audit_head(struct cli *c);
int cmd_audit_lookup(struct cli *c);
int cmd_token(struct cli *c);
int cmd_provider_list(struct cli *c);
int cmd_provider_show(struct cli *c);
int cmd_provider_add(struct cli *c);
int cmd_provider_edit(struct cli *c);
int cmd_provider_rm(struct cli *c);
int cmd_provider_test(struct cli *c);
int cmd_provider_types(struct cli *c);
int cmd_login(struct cli *c);
int cmd_serve(struct cli *c);
int cmd_mcp_config(struct cli *c);
int cmd_approvals(struct cli *c);
int cmd_approve(struct cli *c);
int cmd_deny(struct cli *c);
int cmd_logout(struct cli *c);
int cmd_unlock(struct cli *c);
int cmd_lock(struct cli *c);
/* janee agent add|list|rm|rotate: team mode's remote agents. */
int cmd_team_agent_add(struct cli *c);
int cmd_team_agent_list(struct cli *c);
int cmd_team_agent_rm(struct cli *c);
int cmd_team_agent_rotate(struct cli *c);
int cmd_agent_run(struct cli *c);
/* The agent's lines of `janee status` (json NULL: as text). */
int cli_agent_status(struct cli *c, cJSON *json) JANEE_WUR;
int cmd_complete(struct cli *c);
int cmd_completion(struct cli *c);

#endif
