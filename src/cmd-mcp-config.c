/*
 * janee mcp-config: the entry that makes an MCP client start janee serve,
 * printed, or with --install written into the client's own file (a
 * backup first; every other entry and key kept; --dry-run shows the
 * diff and writes nothing).
 */
#include "common.h"

#include <unistd.h>

#include "agent.h"
#include "cli.h"
#include "client-config.h"
#include "util.h"

/* {"command": janee, "args": ["serve"], "env": {"JANEE_HOME": home}} */
static cJSON *
janee_entry(const struct client_kind *k, const char *exe, const char *home)
{
	cJSON *s, *args, *env;

	if ((s = cJSON_CreateObject()) == NULL)
		return NULL;
	if (k->typed)
		cJSON_AddStringToObject(s, "type", "stdio");
	cJSON_AddStringToObject(s, "command", exe);
	args = cJSON_AddArrayToObject(s, "args");
	cJSON_AddItemToArray(args, cJSON_CreateString("serve"));
	/* The home, never a secret: clients start servers with little env. */
	env = cJSON_AddObjectToObject(s, "env");
	if (env == NULL ||
	    cJSON_AddStringToObject(env, "JANEE_HOME", home) == NULL) {
		cJSON_Delete(s);
		return NULL;
	}
	return s;
}

/*
 * A passphrase store cannot be unlocked without a person: janee serve
 * works while the agent holds the key (janee unlock).
 */
static void
explain_locked(struct cli *c)
{
	struct ledger *lg = NULL;

	if (ledger_open(c->core.home.db, 0, &lg) == 0)
		agent_explain_locked(c->core.home.dir, lg, stderr,
		    "janee serve (started by the MCP client)",
		    "its request_token calls fail");
	janee_err_clear();
	ledger_close(lg);
}

static int
install(struct cli *c, const struct client_kind *k, cJSON *entry)
{
	struct client_config cc;
	char *path, *old = NULL, *new = NULL, *bpath = NULL;
	cJSON *servers, *have;
	int rc, update;

	if ((path = client_kind_path(k)) == NULL)
		return JANEE_ERR_NOMEM;
	if ((rc = client_config_read(&cc, path, 1)) != 0)
		goto out;
	servers = cJSON_GetObjectItemCaseSensitive(cc.root, k->servers_key);
	if (servers == NULL)
		servers = cJSON_AddObjectToObject(cc.root, k->servers_key);
	if (!cJSON_IsObject(servers)) {
		rc = janee_err_set(JANEE_ERR_INVALID,
		    "'%s': \"%s\" is not an object, so janee cannot add itself; fix it by hand and run again",
		    path, k->servers_key);
		goto out;
	}
	have = cJSON_GetObjectItemCaseSensitive(servers, "janee");
	if (have != NULL && cJSON_Compare(have, entry, 1)) {
		fprintf(stderr,
		    "janee: %s's '%s' already starts janee serve for this home; nothing was changed\n",
		    k->label, path);
		explain_locked(c);
		goto out;
	}
	if ((update = have != NULL))
		cJSON_ReplaceItemInObjectCaseSensitive(servers, "janee", entry);
	else
		cJSON_AddItemToObject(servers, "janee", entry);
	entry = NULL; /* the tree owns it */
	/* The diff is of the file as it is against what would be written. */
	if ((old = janee_strdup(cc.exists ? cc.text : "")) == NULL ||
	    (new = client_config_print(&cc, cc.root)) == NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	if (cli_has(c, "dry-run")) {
		rc = client_config_diff(
		    path, "janee mcp-config --install", old, new);
		fprintf(stderr, "janee: --dry-run: %s '%s' was not %s\n",
		    k->label, path, cc.exists ? "changed" : "created");
		explain_locked(c);
		goto out;
	}
	if (cc.exists && (rc = client_config_backup(&cc, &bpath)) != 0)
		goto out;
	/* The file keeps its mode; a new one is private. */
	if ((rc = client_config_write(&cc, new, cc.mode)) != 0)
		goto out;
	fprintf(stderr,
	    "janee: %s janee in %s's '%s'%s%s%s; restart %s to start it\n",
	    update ? "updated" : "added", k->label, path,
	    bpath ? " (the file as it was: '" : "", bpath ? bpath : "",
	    bpath ? "')" : "", k->label);
	explain_locked(c);
out:
	cJSON_Delete(entry);
	free(old);
	free(new);
	free(bpath);
	client_config_free(&cc);
	free(path);
	return rc;
}

int
cmd_mcp_config(struct cli *c)
{
	const char *name = cli_get(c, "client");
	const struct client_kind *k;
	char exe[4096], *text;
	cJSON *root, *servers, *entry;
	int rc;

	if (name == NULL)
		name = "claude";
	if ((k = client_kind_find(name)) == NULL)
		return cli_usage_error(c, "unknown client '%s'; use %s", name,
		    client_kind_names());
	if (cli_has(c, "dry-run") && !cli_has(c, "install"))
		return cli_usage_error(c, "--dry-run goes with --install");
	if ((rc = client_config_self(NULL, exe, sizeof(exe))) != 0)
		return rc;
	if ((entry = janee_entry(k, exe, c->core.home.dir)) == NULL)
		return JANEE_ERR_NOMEM;
	if (cli_has(c, "install"))
		return install(c, k, entry);
	root = cJSON_CreateObject();
	servers = cJSON_AddObjectToObject(root, k->servers_key);
	cJSON_AddItemToObject(servers, "janee", entry);
	explain_locked(c);
	text = cJSON_Print(root);
	printf("%s\n", text ? text : "");
	cJSON_free(text);
	cJSON_Delete(root);
	return 0;
}
