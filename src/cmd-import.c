/*
 * janee import-config PATH: find plaintext secrets in an MCP client's
 * configuration (Claude Desktop's and Cursor's "mcpServers", VS Code's
 * "servers" or settings.json's "mcp.servers"), move each into janee's
 * store, and make the server start through `janee exec` with secret:
 * references.  --dry-run shows the change with values masked.  The real
 * run keeps a private backup, writes atomically, and a second run finds
 * nothing left to do.
 */
#include "common.h"

#include <unistd.h>

#include <cjson/cJSON.h>

#include "agent.h"
#include "cli.h"
#include "client-config.h"
#include "cmd-exec.h"
#include "secretref.h"
#include "secrets.h"
#include "store.h"
#include "util.h"

#define MAX_FINDS 256

struct find {
	const char *server;
	const char *key; /* env: the variable; args: the option, or NULL */
	int argi; /* the argument's index, -1 for env */
	size_t off; /* where the value starts in the argument */
	const char *value; /* in the parsed original */
	const char *what;
	char *name; /* in janee's store */
	char *var; /* the variable janee exec sets */
	int reused; /* the store has it already, same value */
};

struct import {
	struct cli *c;
	const char *path;
	struct client_config cc;
	cJSON *servers;
	struct find finds[MAX_FINDS];
	size_t nfinds;
	int warnings;
	struct store *store;
	struct janee_strlist existing; /* secret names, for --dry-run */
};

/* --- reading ----------------------------------------------------------- */

static int
parse_config(struct import *im)
{
	im->servers = client_config_servers(im->cc.root);
	if (!cJSON_IsObject(im->servers))
		return janee_err_set(JANEE_ERR_INVALID,
		    "'%s' has no MCP servers: no \"mcpServers\" (Claude Desktop, Cursor), \"servers\" (VS Code mcp.json) or \"mcp\": {\"servers\"} (VS Code settings) object",
		    im->path);
	return 0;
}

/* --- finding --------------------------------------------------------- */

static int
add_find(struct import *im, const char *server, const char *key, int argi,
    size_t off, const char *value, const char *what)
{
	struct find *f;

	if (im->nfinds >= MAX_FINDS)
		return janee_err_set(JANEE_ERR_INVALID,
		    "more than %d secrets in '%s'", MAX_FINDS, im->path);
	f = &im->finds[im->nfinds++];
	f->server = server;
	f->key = key;
	f->argi = argi;
	f->off = off;
	f->value = value;
	f->what = what;
	return 0;
}

/* A remote server's headers cannot go through janee exec: say so. */
static void
scan_headers(struct import *im, const char *server, const cJSON *e)
{
	const cJSON *h;
	const char *v, *what;
	char *m;

	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(e, "headers"))
	{
		if (!cJSON_IsString(h))
			continue;
		v = h->valuestring;
		if (strncmp(v, "Bearer ", 7) == 0)
			v += 7;
		if ((what = secretref_looks_secret(h->string, v)) == NULL &&
		    (what = secretref_looks_secret("TOKEN", v)) == NULL)
			continue;
		m = secretref_mask(v);
		fprintf(stderr,
		    "janee: warning: server '%s' sends %s in its header '%s' (%s); janee exec cannot wrap a remote server, so it is left as it is: use your client's own variables instead "
		    "(Cursor: ${env:NAME}; VS Code: ${input:ID})\n",
		    server, what, h->string, m ? m : "********");
		free(m);
		im->warnings++;
	}
}

static int
is_flag(const char *s)
{
	return s[0] == '-' && s[1] != '\0' && strchr(s, '=') == NULL;
}

/* The option's name without its dashes. */
static const char *
flag_name(const char *s)
{
	while (*s == '-')
		s++;
	return s;
}

static int
scan_entry(struct import *im, const char *server, const cJSON *e)
{
	const cJSON *args, *env, *v, *type;
	const char *what, *a, *prev = NULL, *eq;
	char name[128];
	int i, rc;

	type = cJSON_GetObjectItemCaseSensitive(e, "type");
	if (cJSON_GetObjectItemCaseSensitive(e, "url") != NULL ||
	    (cJSON_IsString(type) && strcmp(type->valuestring, "stdio") != 0)) {
		scan_headers(im, server, e);
		return 0;
	}
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "command")))
		return 0;
	env = cJSON_GetObjectItemCaseSensitive(e, "env");
	cJSON_ArrayForEach(v, env)
	{
		if (cJSON_IsString(v) &&
		    (what = secretref_looks_secret(
			 v->string, v->valuestring)) != NULL &&
		    (rc = add_find(im, server, v->string, -1, 0, v->valuestring,
			 what)) != 0)
			return rc;
	}
	args = cJSON_GetObjectItemCaseSensitive(e, "args");
	i = 0;
	cJSON_ArrayForEach(v, args)
	{
		if (!cJSON_IsString(v)) {
			prev = NULL;
			i++;
			continue;
		}
		a = v->valuestring;
		what = NULL;
		if (a[0] == '-' && (eq = strchr(a, '=')) != NULL) {
			/* --api-key=VALUE */
			snprintf(name, sizeof(name), "%.*s",
			    (int)(eq - flag_name(a)), flag_name(a));
			if ((what = secretref_looks_secret(name, eq + 1)) !=
				NULL &&
			    (rc = add_find(im, server, NULL, i,
				 (size_t)(eq + 1 - a), a, what)) != 0)
				return rc;
		} else if ((what = secretref_looks_secret(
				prev ? flag_name(prev) : NULL, a)) != NULL &&
		    (rc = add_find(im, server, NULL, i, 0, a, what)) != 0)
			return rc;
		prev = is_flag(a) ? a : NULL;
		i++;
	}
	return 0;
}

static int
scan(struct import *im)
{
	const cJSON *e;
	int rc;

	cJSON_ArrayForEach(e, im->servers)
	{
		if (cJSON_IsObject(e) &&
		    (rc = scan_entry(im, e->string, e)) != 0)
			return rc;
	}
	return 0;
}

/* --- naming ------------------------------------------------------------ */

static char *
store_name(const char *server, const char *key, int argi)
{
	char *s;
	size_t i;

	s = key ? janee_asprintf("mcp-%s-%s", server, key)
		: janee_asprintf("mcp-%s-arg%d", server, argi);
	if (s == NULL)
		return NULL;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
			s[i] == '_' || s[i] == '-'))
			s[i] = '-';
	if (i > 120)
		s[120] = '\0';
	return s;
}

static int
name_taken(struct import *im, size_t upto, const char *name)
{
	size_t i;

	for (i = 0; i < upto; i++)
		if (im->finds[i].name && strcmp(im->finds[i].name, name) == 0)
			return 1;
	return 0;
}

static int
list_name(const struct secret_info *si, void *arg)
{
	return janee_strlist_add(arg, si->name);
}

/*
 * A store name per secret: mcp-SERVER-VARIABLE, or -2, -3, ... when that
 * name holds another value.  The same value under the same name is
 * reused, so that an interrupted run can simply be run again.
 */
static int
choose_name(struct import *im, size_t k, int dry)
{
	struct find *f = &im->finds[k];
	struct janee_secret *have = NULL;
	char *base, *cand;
	int n, rc;

	if ((base = store_name(f->server, f->key, f->argi)) == NULL)
		return JANEE_ERR_NOMEM;
	for (n = 1; n < 100; n++) {
		cand = n == 1 ? janee_strdup(base)
			      : janee_asprintf("%s-%d", base, n);
		if (cand == NULL) {
			free(base);
			return JANEE_ERR_NOMEM;
		}
		if (name_taken(im, k, cand)) {
			free(cand);
			continue;
		}
		if (dry) {
			if (!janee_strlist_has(&im->existing, cand))
				break;
			free(cand);
			continue;
		}
		rc = secret_get(im->c->core.lg, im->store, cand, &have);
		if (rc == JANEE_ERR_NOT_FOUND) {
			janee_err_clear();
			break;
		}
		if (rc != 0) {
			free(cand);
			free(base);
			return rc;
		}
		if (have->len == strlen(f->value + f->off) &&
		    janee_ct_cmp(have->data, f->value + f->off, have->len) ==
			0) {
			f->reused = 1;
			janee_secret_free(have);
			break;
		}
		janee_secret_free(have);
		have = NULL;
		free(cand);
	}
	free(base);
	if (n >= 100)
		return janee_err_set(JANEE_ERR_EXISTS,
		    "no free secret name for server '%s'", f->server);
	f->name = cand;
	return 0;
}

/* The variable janee exec sets: the env key, or JANEE_SECRET_N for args. */
static int
choose_var(struct import *im, size_t k)
{
	struct find *f = &im->finds[k];
	size_t i;
	int n = 1;

	if (f->argi < 0)
		return (f->var = janee_strdup(f->key)) ? 0 : JANEE_ERR_NOMEM;
	for (i = 0; i < k; i++)
		n += im->finds[i].argi >= 0 &&
		    strcmp(im->finds[i].server, f->server) == 0;
	return (f->var = janee_asprintf("JANEE_SECRET_%d", n))
	    ? 0
	    : JANEE_ERR_NOMEM;
}

/* --- rewriting --------------------------------------------------------- */

static cJSON *
entry_in(cJSON *root, struct import *im, const char *server)
{
	(void)im;
	return cJSON_GetObjectItemCaseSensitive(
	    client_config_servers(root), server);
}

/* The original, with each found value masked: what --dry-run shows. */
static cJSON *
masked_copy(struct import *im)
{
	cJSON *root = cJSON_Duplicate(im->cc.root, 1), *e, *v;
	struct find *f;
	char *m, *full;
	size_t i;

	for (i = 0; root != NULL && i < im->nfinds; i++) {
		f = &im->finds[i];
		e = entry_in(root, im, f->server);
		v = f->argi < 0
		    ? cJSON_GetObjectItemCaseSensitive(
			  cJSON_GetObjectItemCaseSensitive(e, "env"), f->key)
		    : cJSON_GetArrayItem(
			  cJSON_GetObjectItemCaseSensitive(e, "args"), f->argi);
		m = secretref_mask(f->value + f->off);
		full = m ? janee_asprintf("%.*s%s", (int)f->off, f->value, m)
			 : NULL;
		if (v == NULL || full == NULL ||
		    cJSON_SetValuestring(v, full) == NULL) {
			free(m);
			free(full);
			cJSON_Delete(root);
			return NULL;
		}
		free(m);
		free(full);
	}
	return root;
}

static int
is_janee(const char *cmd, const char *self)
{
	const char *base = strrchr(cmd, '/');

	base = base ? base + 1 : cmd;
	return strcmp(cmd, self) == 0 || strcmp(base, "janee") == 0;
}

/* One server entry, rewritten to run through janee exec. */
static int
rewrite_entry(struct import *im, cJSON *root, const char *server,
    const char *self, const char *home)
{
	cJSON *e = entry_in(root, im, server), *cmd, *args, *env, *nargs, *a;
	struct find *f;
	char *s;
	size_t i;
	int wrapped, nenv = 0, expand = 0, pos = 0;

	cmd = cJSON_GetObjectItemCaseSensitive(e, "command");
	args = cJSON_GetObjectItemCaseSensitive(e, "args");
	env = cJSON_GetObjectItemCaseSensitive(e, "env");
	wrapped = is_janee(cmd->valuestring, self) && cJSON_IsArray(args) &&
	    cJSON_IsString(cJSON_GetArrayItem(args, 0)) &&
	    strcmp(cJSON_GetArrayItem(args, 0)->valuestring, "exec") == 0;
	/* Secrets in arguments become ${VAR}, expanded by janee exec. */
	for (i = 0; i < im->nfinds; i++) {
		f = &im->finds[i];
		if (strcmp(f->server, server) != 0 || f->argi < 0)
			continue;
		a = cJSON_GetArrayItem(args, f->argi);
		if ((s = janee_asprintf(
			 "%.*s${%s}", (int)f->off, f->value, f->var)) == NULL)
			return JANEE_ERR_NOMEM;
		if (cJSON_SetValuestring(a, s) == NULL) {
			free(s);
			return JANEE_ERR_NOMEM;
		}
		free(s);
		expand = 1;
	}
	if ((nargs = cJSON_CreateArray()) == NULL)
		return JANEE_ERR_NOMEM;
	cJSON_AddItemToArray(nargs, cJSON_CreateString("exec"));
	for (i = 0; i < im->nfinds; i++) {
		f = &im->finds[i];
		if (strcmp(f->server, server) != 0)
			continue;
		if ((s = janee_asprintf("%s=secret:%s", f->var, f->name)) ==
		    NULL) {
			cJSON_Delete(nargs);
			return JANEE_ERR_NOMEM;
		}
		cJSON_AddItemToArray(nargs, cJSON_CreateString("--env"));
		cJSON_AddItemToArray(nargs, cJSON_CreateString(s));
		free(s);
		if (f->argi < 0)
			cJSON_DeleteItemFromObjectCaseSensitive(env, f->key);
		nenv++;
	}
	if (expand)
		cJSON_AddItemToArray(
		    nargs, cJSON_CreateString("--expand-args"));
	if (wrapped) {
		/* Already janee exec: its own options and command follow. */
		cJSON_ArrayForEach(a, args)
		{
			if (pos++ > 0)
				cJSON_AddItemToArray(
				    nargs, cJSON_Duplicate(a, 1));
		}
	} else {
		cJSON_AddItemToArray(nargs, cJSON_CreateString("--"));
		cJSON_AddItemToArray(
		    nargs, cJSON_CreateString(cmd->valuestring));
		cJSON_ArrayForEach(a, args)
		    cJSON_AddItemToArray(nargs, cJSON_Duplicate(a, 1));
		if (!cJSON_SetValuestring(cmd, self)) {
			cJSON_Delete(nargs);
			return JANEE_ERR_NOMEM;
		}
	}
	if (args != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(e, "args", nargs);
	else
		cJSON_AddItemToObject(e, "args", nargs);
	/* Clients start servers with little environment: name the home. */
	if (env == NULL)
		env = cJSON_AddObjectToObject(e, "env");
	if (cJSON_GetObjectItemCaseSensitive(env, "JANEE_HOME") == NULL)
		cJSON_AddStringToObject(env, "JANEE_HOME", home);
	return nenv > 0 ? 0 : JANEE_ERR_INTERNAL;
}

static cJSON *
rewritten(struct import *im, const char *self, const char *home, int *rcp)
{
	cJSON *root = cJSON_Duplicate(im->cc.root, 1);
	size_t i, j;
	int rc = 0, seen;

	if (root == NULL) {
		*rcp = JANEE_ERR_NOMEM;
		return NULL;
	}
	for (i = 0; i < im->nfinds && rc == 0; i++) {
		for (seen = 0, j = 0; j < i; j++)
			seen |= strcmp(im->finds[j].server,
				    im->finds[i].server) == 0;
		if (!seen)
			rc = rewrite_entry(
			    im, root, im->finds[i].server, self, home);
	}
	if (rc != 0) {
		cJSON_Delete(root);
		root = NULL;
	}
	*rcp = rc;
	return root;
}

/* --- the command ------------------------------------------------------- */

static void
import_free(struct import *im)
{
	size_t i;

	for (i = 0; i < im->nfinds; i++) {
		free(im->finds[i].name);
		free(im->finds[i].var);
	}
	client_config_free(&im->cc);
	store_free(im->store);
	janee_strlist_free(&im->existing);
}

/*
 * Several client configurations: on a terminal, the person says which
 * (each in turn, the first yes wins); else --client must.
 */
static int
ask_which(int found, char **path)
{
	const struct client_kind *k;
	char *p;
	int yes;

	if (!cli_can_prompt())
		return janee_err_set(JANEE_ERR_INVALID,
		    "found %d client configurations (above); choose one with --client %s, or give its PATH",
		    found, client_kind_names());
	for (k = client_kinds; k->name != NULL; k++) {
		if ((p = client_kind_path(k)) == NULL)
			return JANEE_ERR_NOMEM;
		if (access(p, F_OK) == 0 &&
		    (yes = cli_confirm("import %s's '%s'", k->label, p)) > 0) {
			*path = p;
			return 0;
		}
		free(p);
	}
	return janee_err_set(JANEE_ERR_INVALID,
	    "no client configuration chosen; nothing was changed (--client %s, or a PATH, chooses one)",
	    client_kind_names());
}

/*
 * With no PATH: the file of --client, or the one client configuration
 * found at the clients' usual paths; several: ask_which.
 */
static int
find_config(struct cli *c, char **path)
{
	const struct client_kind *k, *only = NULL;
	const char *name = cli_get(c, "client");
	char *p;
	int found = 0;

	if (c->npos > 0 && name != NULL)
		return cli_usage_error(c, "give a PATH or --client, not both");
	if (c->npos > 0)
		return (*path = janee_strdup(c->pos[0])) ? 0 : JANEE_ERR_NOMEM;
	if (name != NULL) {
		if ((k = client_kind_find(name)) == NULL)
			return cli_usage_error(c, "unknown client '%s'; use %s",
			    name, client_kind_names());
		return (*path = client_kind_path(k)) ? 0 : JANEE_ERR_NOMEM;
	}
	for (k = client_kinds; k->name != NULL; k++) {
		if ((p = client_kind_path(k)) == NULL)
			return JANEE_ERR_NOMEM;
		if (access(p, F_OK) == 0) {
			fprintf(stderr, "janee: found %s's configuration: %s\n",
			    k->label, p);
			found++;
			only = k;
		}
		free(p);
	}
	if (found == 1)
		return (*path = client_kind_path(only)) ? 0 : JANEE_ERR_NOMEM;
	if (found > 1)
		return ask_which(found, path);
	return janee_err_set(JANEE_ERR_NOT_FOUND,
	    "no MCP client configuration at the usual paths (janee mcp-config --help lists them); give its PATH");
}

int
cmd_import_config(struct cli *c)
{
	struct import im;
	char self[4096], *home = NULL, *oldtext = NULL, *newtext = NULL;
	char *bpath = NULL, *path = NULL;
	cJSON *old = NULL, *new = NULL;
	int dry = cli_has(c, "dry-run"), rc, stored = 0;
	size_t i;

	memset(&im, 0, sizeof(im));
	im.c = c;
	if ((rc = find_config(c, &path)) != 0)
		goto out;
	im.path = path;
	if ((rc = client_config_self(
		 cli_get(c, "command"), self, sizeof(self))) != 0 ||
	    (rc = client_config_read(&im.cc, im.path, 0)) != 0 ||
	    (rc = parse_config(&im)) != 0 || (rc = scan(&im)) != 0)
		goto out;
	if (im.nfinds == 0) {
		fprintf(stderr,
		    "janee: no plaintext secret to import in '%s'%s; nothing was changed\n",
		    im.path, im.warnings ? " (see the warnings above)" : "");
		goto out;
	}
	if ((home = realpath(c->core.home.dir, NULL)) == NULL) {
		rc = janee_err_set(JANEE_ERR_IO, "cannot resolve '%s': %s",
		    c->core.home.dir, strerror(errno));
		goto out;
	}
	if (dry)
		rc = secret_each(c->core.lg, list_name, &im.existing);
	else
		rc = store_unlock(
		    c->core.lg, &c->core.home, &c->core.ks, &im.store);
	if (rc != 0)
		goto out;
	for (i = 0; i < im.nfinds; i++)
		if ((rc = choose_name(&im, i, dry)) != 0 ||
		    (rc = choose_var(&im, i)) != 0)
			goto out;
	if ((old = masked_copy(&im)) == NULL ||
	    (new = rewritten(&im, self, home, &rc)) == NULL ||
	    (oldtext = client_config_print(&im.cc, old)) == NULL ||
	    (newtext = client_config_print(&im.cc, new)) == NULL) {
		if (rc == 0)
			rc = janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (dry) {
		rc = client_config_diff(
		    im.path, "janee import-config", oldtext, newtext);
		fprintf(stderr,
		    "janee: --dry-run: %zu secret(s) would move into janee's store; nothing was changed\n",
		    im.nfinds);
		agent_explain_locked(c->core.home.dir, c->core.lg, stderr,
		    "janee exec (which would start those servers)",
		    "the servers could not start");
		goto out;
	}
	/* The secrets first: a failure later leaves the file as it was. */
	for (i = 0; i < im.nfinds; i++) {
		struct find *f = &im.finds[i];

		if (!f->reused &&
		    (rc = secret_put(c->core.lg, im.store, f->name,
			 f->value + f->off, strlen(f->value + f->off),
			 "user")) != 0)
			goto out;
		stored++;
		fprintf(stderr, "janee: server '%s': %s %s -> secret:%s\n",
		    f->server, f->argi < 0 ? "variable" : "argument",
		    f->argi < 0 ? f->key : f->var, f->name);
	}
	/* The file keeps its mode (it holds no secret now), less any
	 * write permission for others. */
	if ((rc = client_config_backup(&im.cc, &bpath)) != 0 ||
	    (rc = client_config_write(
		 &im.cc, newtext, im.cc.mode & 0755 & ~0022)) != 0)
		goto out;
	fprintf(stderr,
	    "janee: rewrote '%s' (%d secret(s) moved); the servers now start through janee exec\n"
	    "janee: the backup '%s' (0600) still holds the plaintext secrets: delete it once the client works, and revoke the old tokens where they were issued\n",
	    im.path, stored, bpath);
	/* Those janee exec commands cannot start on a locked passphrase home. */
	agent_explain_locked(c->core.home.dir, c->core.lg, stderr,
	    "janee exec (which now starts those servers)",
	    "the servers cannot start");
out:
	if (old != NULL)
		cJSON_Delete(old);
	if (new != NULL)
		cJSON_Delete(new);
	if (oldtext != NULL)
		janee_freezero(oldtext, strlen(oldtext));
	free(newtext);
	free(home);
	free(bpath);
	import_free(&im);
	free(path);
	return rc;
}
