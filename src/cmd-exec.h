/*
 * janee exec and janee import-config (docs/EXEC.md).  Their entries are
 * in main.c's command table; these prototypes could join the others in
 * cli.h.
 */
#ifndef JANEE_CMD_EXEC_H
#define JANEE_CMD_EXEC_H

#include "cli.h"

/*
 * Mint leases, run a command with the tokens and resolved secrets only
 * in its environment, pass its stdio through, forward signals, end the
 * leases when it exits; exits with the command's status itself.
 */
int cmd_exec(struct cli *c);

/* Move plaintext secrets out of an MCP client's configuration. */
int cmd_import_config(struct cli *c);

#endif
