/*
 * MCP clients' configuration files, shared by janee import-config and
 * janee mcp-config --install: where each client keeps its file on Linux,
 * reading it, finding its servers, printing it in its own indentation, a
 * diff, a private backup and an atomic rewrite.
 */
#ifndef JANEE_CLIENT_CONFIG_H
#define JANEE_CLIENT_CONFIG_H

#include <sys/types.h>

#include <cjson/cJSON.h>

#include "common.h"

/* One MCP client: its name for --client, its file, its servers' key. */
struct client_kind {
	const char *name; /* claude, cursor, vscode, claude-code */
	const char *label; /* Claude Desktop, ... */
	const char *servers_key; /* mcpServers, or VS Code's servers */
	int typed; /* its entries name their transport ("type": "stdio") */
};

extern const struct client_kind client_kinds[];

/* The kind named name, or NULL. */
const struct client_kind *client_kind_find(const char *name);

/* "claude, cursor, vscode or claude-code", for messages. */
const char *client_kind_names(void);

/* The client's user-level file on Linux (malloc'd), or NULL. */
char *client_kind_path(const struct client_kind *k);

struct client_config {
	const char *path; /* as named to the user */
	char *real; /* the file itself (a symbolic link is followed) */
	int exists;
	char *text; /* its bytes, wiped on free (they may hold secrets) */
	size_t len;
	mode_t mode;
	cJSON *root;
	char indent[16];
};

/*
 * Read and parse path; with may_be_missing, a file that does not exist
 * reads as {} (written 0600 later).
 */
int client_config_read(
    struct client_config *cc, const char *path, int may_be_missing) JANEE_WUR;
void client_config_free(struct client_config *cc);

/* The servers object: "mcpServers", "servers" or "mcp": {"servers"}. */
cJSON *client_config_servers(cJSON *root);

/* root printed in the file's indentation, ending in a newline. */
char *client_config_print(const struct client_config *cc, const cJSON *root);

/* A unified diff of two texts (both are cut into lines in place). */
int client_config_diff(
    const char *name, const char *after, char *a_text, char *b_text) JANEE_WUR;

/* A private (0600) copy of the file as read, beside it; its path. */
int
client_config_backup(const struct client_config *cc, char **bpath) JANEE_WUR;

/* Replace the file atomically with text, with mode. */
int client_config_write(
    struct client_config *cc, const char *text, mode_t mode) JANEE_WUR;

/* The janee to write into a client's config: opt, else this program. */
int client_config_self(const char *opt, char *out, size_t n) JANEE_WUR;

#endif
