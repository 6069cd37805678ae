/*
 * janee exec: mint leases, run a command with the tokens (and resolved
 * secret references) only in its environment, and end the leases when it
 * exits.  janee writes nothing to stdout and reads nothing from stdin:
 * the command inherits both, so it can be an MCP stdio server.
 */
#include "common.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api-proxy.h"
#include "audit.h"
#include "cli.h"
#include "cmd-exec.h"
#include "janee/http.h"
#include "lease.h"
#include "secretref.h"
#include "util.h"

extern char **environ;

#define LEDGER_POLL_MS 1000
#define KILL_GRACE_MS 5000
#define MAX_LEASES 16
#define MAX_VARS 64

struct exec_lease {
	char *provider;
	const struct prov *pv;
	/*
	 * The variable of each part the provider names (pv->info.parts, in
	 * its order; NULL: none): the provider's, and for the primary part
	 * --env NAME, --lease P:ENV or NAME_TOKEN when it names none.
	 */
	char *vars[JANEE_TOKEN_MAX_PARTS];
	struct janee_strlist scopes;
	struct janee_strlist resources;
	char id[JANEE_LEASE_ID_LEN];
	int64_t expires_ms;
	struct janee_token tok; /* until the command runs */
	int minted;
	int ended; /* its end was seen while the command ran */
};

struct exec_var {
	char *name;
	const char *ref; /* as given: a reference, or a plain string */
	struct janee_secret *val;
};

struct exec {
	struct cli *c;
	struct exec_lease leases[MAX_LEASES];
	size_t nleases;
	struct exec_var vars[MAX_VARS];
	size_t nvars;
	char **cmd; /* the command and its arguments (in c->pos) */
	int ncmd;
	char *path; /* the command's file */
	int64_t ttl_s;
	const char *reason;
	int keep; /* --on-expiry keep */
	int expand; /* --expand-args */
	/* --proxy: PROVIDER's lease is the proxy's, CMD gets its URL. */
	int proxy;
	struct exec_lease proxied;
	struct api_proxy *px;
};

/* --- signals before the command runs -------------------------------- */

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	if (!got_signal)
		got_signal = sig;
}

static const int fwd_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
	SIGUSR2, SIGWINCH };

/*
 * While janee waits (a prompt, an approval, a provider), a signal that
 * would end it is noted, so that what was minted is ended first.  A signal
 * ignored when janee started stays ignored, for the command too.
 */
static void
catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa, old;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < nitems(sigs); i++) {
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

/* --- parsing -------------------------------------------------------- */

/* The store's passphrases: never in the command's environment. */
static const char *const passphrase_vars[] = { "JANEE_PASSPHRASE",
	"JANEE_NEW_PASSPHRASE" };

/* NAME_TOKEN, from the provider's entry name: a primary with no variable. */
static char *
default_env(const char *provider)
{
	return api_env_name(provider, "_TOKEN");
}

static struct exec_lease *
add_lease(struct exec *x, const char *provider)
{
	struct exec_lease *l;

	if (x->nleases >= MAX_LEASES) {
		janee_err_set(
		    JANEE_ERR_USAGE, "at most %d leases at once", MAX_LEASES);
		return NULL;
	}
	if (config_lookup(x->c->core.cfg, provider, 1,
		"list them with: janee provider list") == NULL)
		return NULL;
	l = &x->leases[x->nleases];
	if ((l->provider = janee_strdup(provider)) == NULL)
		return NULL;
	l->pv = config_find(x->c->core.cfg, provider);
	x->nleases++;
	return l;
}

/*
 * The variables of the lease's parts, as its provider names them; name
 * (--env NAME, or --lease P:ENV; NULL or empty: none) is the primary's.
 */
static int
set_lease_env(struct exec *x, struct exec_lease *l, const char *name)
{
	const struct janee_part_info *p, *prim = prov_primary(l->pv);
	const char *v;
	size_t i;

	(void)x;
	if (name != NULL && *name != '\0' && !janee_env_name_valid(name))
		return janee_err_set(JANEE_ERR_USAGE,
		    "'%s' is not an environment variable name", name);
	for (i = 0, p = l->pv->info.parts; p->name != NULL; p++, i++) {
		v = p->env;
		if (p == prim && name != NULL && *name != '\0')
			v = name;
		if (v != NULL)
			l->vars[i] = janee_strdup(v);
		else if (p == prim)
			l->vars[i] = default_env(l->provider);
		else
			continue;
		if (l->vars[i] == NULL)
			return JANEE_ERR_NOMEM;
	}
	return 0;
}

/* Call fn for each variable a lease sets, until it answers non-zero. */
static int
each_lease_var(struct exec *x, int (*fn)(const char *var, void *arg), void *arg)
{
	size_t i, k;
	int rc;

	for (i = 0; i < x->nleases; i++)
		for (k = 0; k < JANEE_TOKEN_MAX_PARTS; k++)
			if (x->leases[i].vars[k] != NULL &&
			    (rc = fn(x->leases[i].vars[k], arg)) != 0)
				return rc;
	return 0;
}

/* --lease PROVIDER:ENV:SCOPE,SCOPE (ENV and the scopes may be empty). */
static int
parse_lease(struct exec *x, const char *spec)
{
	const char *c1 = strchr(spec, ':'), *c2, *p, *comma;
	struct exec_lease *l;
	char *prov, *env, *scope;
	int rc;

	if (c1 == NULL || c1 == spec || (c2 = strchr(c1 + 1, ':')) == NULL)
		return janee_err_set(JANEE_ERR_USAGE,
		    "--lease takes PROVIDER:ENV:SCOPES (such as ci:CI_TOKEN:issues:read,contents:read), not '%s'",
		    spec);
	if ((prov = janee_asprintf("%.*s", (int)(c1 - spec), spec)) == NULL)
		return JANEE_ERR_NOMEM;
	l = add_lease(x, prov);
	free(prov);
	if (l == NULL)
		return JANEE_ERR_NOT_FOUND;
	if ((env = janee_asprintf("%.*s", (int)(c2 - c1 - 1), c1 + 1)) == NULL)
		return JANEE_ERR_NOMEM;
	rc = set_lease_env(x, l, env);
	free(env);
	for (p = c2 + 1; rc == 0 && *p != '\0';
	     p = *comma ? comma + 1 : comma) {
		comma = p + strcspn(p, ",");
		if (comma == p)
			continue;
		if ((scope = janee_asprintf("%.*s", (int)(comma - p), p)) ==
		    NULL)
			return JANEE_ERR_NOMEM;
		rc = janee_strlist_add(&l->scopes, scope);
		free(scope);
	}
	return rc;
}

/* --env NAME=REF (a secret reference) or NAME=TEXT (${VAR} expanded). */
static int
parse_var(struct exec *x, const char *spec)
{
	const char *eq = strchr(spec, '=');
	struct exec_var *v;
	const char *what;

	if (x->nvars >= MAX_VARS)
		return janee_err_set(
		    JANEE_ERR_USAGE, "at most %d --env variables", MAX_VARS);
	v = &x->vars[x->nvars];
	if ((v->name = janee_asprintf("%.*s", (int)(eq - spec), spec)) == NULL)
		return JANEE_ERR_NOMEM;
	x->nvars++;
	if (!janee_env_name_valid(v->name))
		return janee_err_set(JANEE_ERR_USAGE,
		    "'%s' is not an environment variable name", v->name);
	v->ref = eq + 1;
	if (secretref_kind(v->ref) == SECRETREF_NONE &&
	    (what = secretref_looks_secret(v->name, v->ref)) != NULL)
		/* A pasted secret would sit in janee's argv, seen by ps. */
		return janee_err_set(JANEE_ERR_USAGE,
		    "the value of --env %s looks like a secret (%s), and command lines are visible to every local user; store it with 'janee secret set NAME' and give --env %s=secret:NAME",
		    v->name, what, v->name);
	return 0;
}

static int
same_var(const char *var, void *arg)
{
	return strcmp(var, arg) == 0;
}

struct twice {
	const char *var;
	int n;
};

static int
count_var(const char *var, void *arg)
{
	struct twice *tw = arg;

	tw->n += strcmp(var, tw->var) == 0;
	return 0;
}

static int
parse(struct exec *x)
{
	struct cli *c = x->c;
	const struct janee_strlist *l;
	const char *onexp = cli_get(c, "on-expiry"), *ttl = cli_get(c, "ttl");
	struct exec_lease *main_lease = NULL;
	const char *tokenvar = NULL;
	size_t i;
	int rc, first = 0;

	if (ttl != NULL && (rc = janee_duration_parse(ttl, &x->ttl_s)) != 0)
		return rc;
	x->reason = cli_get(c, "reason");
	x->expand = cli_has(c, "expand-args");
	x->proxy = cli_has(c, "proxy");
	if (onexp != NULL && strcmp(onexp, "keep") == 0)
		x->keep = 1;
	else if (onexp != NULL && strcmp(onexp, "kill") != 0)
		return cli_usage_error(
		    c, "--on-expiry takes kill or keep, not '%s'", onexp);
	/*
	 * The words before "--" and after it arrive as one list: the first
	 * is the provider when it names one and a command follows.
	 */
	if (c->npos >= 2 && config_find(c->core.cfg, c->pos[0]) != NULL)
		first = 1;
	else if (c->npos == 1 && config_find(c->core.cfg, c->pos[0]) != NULL)
		return cli_usage_error(c,
		    "missing the command to run after '--' (janee exec %s -- CMD ARGS...)",
		    c->pos[0]);
	if (c->npos <= first)
		return cli_usage_error(
		    c, "missing the command to run after '--'");
	x->cmd = c->pos + first;
	x->ncmd = c->npos - first;
	l = cli_all(c, "env");
	for (i = 0; i < l->n; i++) {
		if (strchr(l->v[i], '=') != NULL) {
			if ((rc = parse_var(x, l->v[i])) != 0)
				return rc;
		} else if (tokenvar != NULL)
			return cli_usage_error(c,
			    "--env NAME (the token's variable) is given twice; use --lease PROVIDER:ENV:SCOPES for more tokens");
		else
			tokenvar = l->v[i];
	}
	if (x->proxy && !first)
		return cli_usage_error(c,
		    "--proxy needs a provider: janee exec PROVIDER --proxy -- CMD");
	if (x->proxy && tokenvar != NULL)
		return cli_usage_error(c,
		    "--proxy gives the command no token, so --env NAME names nothing");
	if (first) {
		if ((main_lease = add_lease(x, c->pos[0])) == NULL)
			return JANEE_ERR_NOT_FOUND;
		l = cli_all(c, "scope");
		for (i = 0; i < l->n; i++)
			if ((rc = janee_strlist_add(
				 &main_lease->scopes, l->v[i])) != 0)
				return rc;
		l = cli_all(c, "resource");
		for (i = 0; i < l->n; i++)
			if ((rc = janee_strlist_add(
				 &main_lease->resources, l->v[i])) != 0)
				return rc;
		l = cli_all(c, "repo");
		for (i = 0; i < l->n; i++)
			if ((rc = janee_strlist_add(
				 &main_lease->resources, l->v[i])) != 0)
				return rc;
		if ((rc = set_lease_env(x, main_lease, tokenvar)) != 0)
			return rc;
	} else if (tokenvar != NULL || cli_has(c, "scope") ||
	    cli_has(c, "repo") || cli_has(c, "resource"))
		return cli_usage_error(c,
		    "--env NAME, --scope and --resource (--repo) need a provider: janee exec PROVIDER [options] -- CMD");
	l = cli_all(c, "lease");
	for (i = 0; i < l->n; i++)
		if ((rc = parse_lease(x, l->v[i])) != 0)
			return rc;
	/* Names given twice, across leases and variables. */
	for (i = 0; i < x->nvars; i++) {
		size_t j;

		for (j = i + 1; j < x->nvars; j++)
			if (strcmp(x->vars[i].name, x->vars[j].name) == 0)
				return cli_usage_error(c,
				    "the variable %s is given twice",
				    x->vars[i].name);
		if (each_lease_var(x, same_var, x->vars[i].name) != 0)
			return cli_usage_error(c,
			    "the variable %s is given twice", x->vars[i].name);
	}
	for (i = 0; i < x->nleases; i++) {
		size_t k;

		for (k = 0; k < JANEE_TOKEN_MAX_PARTS; k++) {
			struct twice tw = { x->leases[i].vars[k], 0 };

			if (tw.var == NULL)
				continue;
			if (each_lease_var(x, count_var, &tw) != 0 || tw.n > 1)
				return cli_usage_error(c,
				    "the variable %s gets two tokens; name another with --lease PROVIDER:ENV:SCOPES",
				    tw.var);
		}
	}
	l = cli_all(c, "pass-env");
	for (i = 0; i < l->n; i++) {
		if (!janee_env_name_valid(l->v[i]))
			return cli_usage_error(c,
			    "--pass-env: '%s' is not an environment variable name",
			    l->v[i]);
		if (strcmp(l->v[i], passphrase_vars[0]) == 0 ||
		    strcmp(l->v[i], passphrase_vars[1]) == 0)
			return cli_usage_error(c,
			    "--pass-env: %s never reaches the command",
			    l->v[i]);
	}
	if (x->nleases == 0 && x->nvars == 0 && c->npos >= 2)
		return cli_usage_error(c,
		    "'%s' is not a provider (list them with: janee provider list), and there is no --lease or --env NAME=REF to give the command",
		    c->pos[0]);
	if (x->nleases == 0 && x->nvars == 0)
		return cli_usage_error(c,
		    "nothing to put in the command's environment: name a provider, --lease or --env NAME=REF");
	if (x->proxy) {
		/* The proxy holds PROVIDER's lease; the command, no token. */
		x->proxied = x->leases[0];
		memmove(&x->leases[0], &x->leases[1],
		    (x->nleases - 1) * sizeof(x->leases[0]));
		x->nleases--;
		memset(&x->leases[x->nleases], 0, sizeof(x->leases[0]));
	}
	return 0;
}

/* The proxy's variables: its URL under the API's name, and the key. */
static const char *const proxy_vars[] = { "JANEE_PROXY_URL",
	"JANEE_PROXY_KEY" };

static int
start_proxy(struct exec *x)
{
	struct api_proxy_opts o;

	memset(&o, 0, sizeof(o));
	o.provider = x->proxied.provider;
	o.scopes = &x->proxied.scopes;
	o.resources = &x->proxied.resources;
	o.ttl_s = x->ttl_s;
	o.reason = x->reason;
	return api_proxy_start(x->c, &o, &x->px);
}

/* --- the command's file --------------------------------------------- */

static int
executable(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

/* As execvp would search it, done before anything is minted. */
static int
find_command(struct exec *x)
{
	const char *cmd = x->cmd[0], *path = getenv("PATH"), *p, *colon;
	char *cand;

	if (strchr(cmd, '/') != NULL) {
		if (!executable(cmd))
			return janee_err_set(JANEE_ERR_NOT_FOUND,
			    "cannot run '%s': not an executable file", cmd);
		return (x->path = janee_strdup(cmd)) ? 0 : JANEE_ERR_NOMEM;
	}
	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p = colon + 1) {
		colon = p + strcspn(p, ":");
		cand = janee_asprintf("%.*s%s%s", (int)(colon - p), p,
		    colon == p ? "./" : "/", cmd);
		if (cand == NULL)
			return JANEE_ERR_NOMEM;
		if (executable(cand)) {
			x->path = cand;
			return 0;
		}
		free(cand);
		if (*colon == '\0')
			break;
	}
	return janee_err_set(
	    JANEE_ERR_NOT_FOUND, "cannot run '%s': not found in PATH", cmd);
}

/* --- secrets and tokens --------------------------------------------- */

/* Resolve --env values; each secret reference is audited, never its value. */
static int
resolve_vars(struct exec *x)
{
	struct audit_event ev = {
		.event = "secret_resolved", .actor = "user", .client = "exec"
	};
	struct exec_var *v;
	char *detail, *text;
	size_t i;
	int rc, arc;

	for (i = 0; i < x->nvars; i++) {
		v = &x->vars[i];
		if (secretref_kind(v->ref) == SECRETREF_NONE) {
			/* Not secret: ${VAR} expanded, not audited. */
			if ((rc = secretref_expand(v->ref, &text)) != 0)
				return rc;
			v->val = janee_secret_new(text, strlen(text));
			free(text);
			if (v->val == NULL)
				return JANEE_ERR_NOMEM;
			continue;
		}
		rc = broker_resolve(&x->c->core.broker, v->ref, &v->val);
		if ((detail = janee_asprintf("%s=%.200s", v->name, v->ref)) ==
		    NULL)
			return JANEE_ERR_NOMEM;
		ev.outcome = rc == 0 ? "ok" : "error";
		ev.detail = detail;
		arc = audit_record(x->c->core.lg, &ev);
		free(detail);
		if (rc != 0)
			return rc;
		/* Fail closed: a resolution that is not on record is unused. */
		if (arc != 0)
			return arc;
	}
	return 0;
}

/* While an approval is awaited: a caught signal stops the wait. */
static const char *
exec_waiting(void *arg, int64_t left_ms)
{
	(void)arg;
	(void)left_ms;
	return got_signal ? "janee exec was interrupted" : NULL;
}

static int
mint_one(struct exec *x, struct exec_lease *el)
{
	struct broker_req req;
	struct broker_grant g;
	char *reason = NULL;
	int rc;

	memset(&req, 0, sizeof(req));
	req.provider = el->provider;
	req.scopes = el->scopes; /* borrowed; policy_check normalizes it */
	req.resources = el->resources;
	req.ttl_s = x->ttl_s;
	if (x->reason == NULL &&
	    (reason = janee_asprintf("janee exec %s", x->cmd[0])) == NULL)
		return JANEE_ERR_NOMEM;
	req.reason = x->reason ? x->reason : reason;
	rc = cli_obtain(x->c, &req, x->cmd[0], exec_waiting, x, &g);
	el->scopes = req.scopes;
	el->resources = req.resources;
	free(reason);
	if (rc != 0) {
		broker_grant_free(&g);
		return rc;
	}
	el->minted = 1;
	memcpy(el->id, g.lease_id, sizeof(el->id));
	el->expires_ms = g.expires_ms;
	el->tok = g.tok; /* its parts go to the command */
	memset(&g.tok, 0, sizeof(g.tok));
	broker_grant_free(&g);
	return 0;
}

/* End what was minted and is still active; quiet about ended ones. */
static void
end_leases(struct exec *x, const char *why)
{
	struct lease l;
	size_t i;
	int rc;

	for (i = 0; i < x->nleases; i++) {
		if (!x->leases[i].minted)
			continue;
		if (lease_load(x->c->core.lg, x->leases[i].id, &l) != 0) {
			janee_err_clear();
			continue;
		}
		rc = l.state == LEASE_ACTIVE ? 1 : 0;
		lease_free(&l);
		if (rc &&
		    (rc = broker_end(
			 &x->c->core.broker, x->leases[i].id, why)) != 0) {
			fprintf(
			    stderr, "janee: warning: %s\n", janee_err_msg(rc));
			janee_err_clear();
		}
	}
}

/* --- the command ----------------------------------------------------- */

static void
free_strv(char **v, int wipe)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++) {
		if (wipe)
			janee_wipe(v[i], strlen(v[i]));
		free(v[i]);
	}
	free(v);
}

/* Whether entry ("NAME=value") is the variable name. */
static int
entry_is(const char *entry, const char *name)
{
	size_t n = strcspn(entry, "=");

	return strlen(name) == n && strncmp(entry, name, n) == 0;
}

/* each_lease_var's test: whether var is entry's name. */
static int
names_entry(const char *var, void *arg)
{
	return entry_is(arg, var);
}

static int
our_name(struct exec *x, const char *entry)
{
	size_t i;

	for (i = 0; i < nitems(passphrase_vars); i++)
		if (entry_is(entry, passphrase_vars[i]))
			return 1;
	/* Every variable of a lease, also one its token lacks (PGPORT). */
	if (each_lease_var(x, names_entry, (void *)(uintptr_t)entry) != 0)
		return 1;
	for (i = 0; i < x->nvars; i++)
		if (entry_is(entry, x->vars[i].name))
			return 1;
	/* --proxy: the proxy's variables, and none of the token's. */
	if (x->px != NULL) {
		for (i = 0; i < nitems(proxy_vars); i++)
			if (entry_is(entry, proxy_vars[i]))
				return 1;
		if (entry_is(entry, api_proxy_env(x->px)))
			return 1;
		for (i = 0; i < JANEE_TOKEN_MAX_PARTS; i++)
			if (x->proxied.vars[i] != NULL &&
			    entry_is(entry, x->proxied.vars[i]))
				return 1;
	}
	return 0;
}

/*
 * The variables janee read long-lived credentials from (issue 12): what
 * the config's secret references and ${VAR} expansions read (env:VAR,
 * the Vault variables), and what the --env references read; withheld
 * from the command unless --pass-env names them.
 */
static int
withheld_names(struct exec *x, struct janee_strlist *out)
{
	const struct janee_strlist *pass = cli_all(x->c, "pass-env");
	struct janee_strlist all;
	size_t i;
	int rc = 0;

	memset(&all, 0, sizeof(all));
	for (i = 0; x->c->core.cfg != NULL && i < x->c->core.cfg->env_names.n &&
	     rc == 0;
	     i++)
		rc = janee_strlist_add(&all, x->c->core.cfg->env_names.v[i]);
	for (i = 0; i < x->nvars && rc == 0; i++)
		if (secretref_kind(x->vars[i].ref) != SECRETREF_NONE)
			rc = secretref_env_names(x->vars[i].ref, &all);
	for (i = 0; i < all.n && rc == 0; i++)
		if (!janee_strlist_has(pass, all.v[i]) &&
		    !janee_strlist_has(out, all.v[i]))
			rc = janee_strlist_add(out, all.v[i]);
	janee_strlist_free(&all);
	return rc;
}

/*
 * The command's environment: janee's own, less the passphrase variables,
 * the variables janee read credentials from (withheld_names) and the
 * names janee sets, plus the tokens and the resolved variables.  Says
 * which variables it withheld (their names only).
 */
static char **
child_env(struct exec *x)
{
	const struct janee_part_info *p;
	const struct janee_secret *v;
	const struct exec_lease *el;
	struct janee_strlist withheld, told;
	size_t n = 0, i, j, k = 0;
	char **env;

	memset(&withheld, 0, sizeof(withheld));
	memset(&told, 0, sizeof(told));
	while (environ[n] != NULL)
		n++;
	if (withheld_names(x, &withheld) != 0 ||
	    (env = calloc(n + x->nleases * JANEE_TOKEN_MAX_PARTS + x->nvars +
		     nitems(proxy_vars) + 2,
		 sizeof(*env))) == NULL) {
		janee_strlist_free(&withheld);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (our_name(x, environ[i]))
			continue;
		for (j = 0; j < withheld.n; j++)
			if (entry_is(environ[i], withheld.v[j]))
				break;
		if (j < withheld.n) {
			if (janee_strlist_add(&told, withheld.v[j]) != 0)
				goto fail;
			continue;
		}
		if ((env[k++] = janee_strdup(environ[i])) == NULL)
			goto fail;
	}
	/* Each part of a token in its variable; a part not minted, none. */
	for (i = 0; i < x->nleases; i++) {
		el = &x->leases[i];
		for (j = 0, p = el->pv->info.parts; p->name != NULL; p++, j++)
			if (el->vars[j] != NULL &&
			    (v = janee_token_get(&el->tok, p->name)) != NULL &&
			    (env[k++] = janee_asprintf("%s=%s", el->vars[j],
				 (const char *)v->data)) == NULL)
				goto fail;
	}
	for (i = 0; i < x->nvars; i++)
		if ((env[k++] = janee_asprintf("%s=%s", x->vars[i].name,
			 (char *)x->vars[i].val->data)) == NULL)
			goto fail;
	if (x->px != NULL &&
	    ((env[k++] = janee_asprintf("%s=%s", api_proxy_env(x->px),
		  api_proxy_url(x->px))) == NULL ||
		(env[k++] = janee_asprintf(
		     "%s=%s", proxy_vars[0], api_proxy_url(x->px))) == NULL ||
		(env[k++] = janee_asprintf(
		     "%s=%s", proxy_vars[1], api_proxy_key(x->px))) == NULL))
		goto fail;
	if (told.n > 0) {
		fprintf(stderr, "janee exec: not passing to the command:");
		for (i = 0; i < told.n; i++)
			fprintf(stderr, " %s", told.v[i]);
		fprintf(stderr,
		    " (secret references read them; --pass-env NAME passes one)\n");
	}
	janee_strlist_free(&withheld);
	janee_strlist_free(&told);
	return env;
fail:
	janee_strlist_free(&withheld);
	janee_strlist_free(&told);
	free_strv(env, 1);
	return NULL;
}

/* ${NAME} in the arguments, for --env names only (--expand-args). */
static char *
expand_arg(struct exec *x, const char *a)
{
	size_t i, n, cap = strlen(a) + 1, len = 0;
	const char *p, *end;
	char *out, *tmp;

	if ((out = malloc(cap)) == NULL)
		return NULL;
	for (p = a; *p != '\0';) {
		const char *val = NULL;

		if (p[0] == '$' && p[1] == '{' &&
		    (end = strchr(p + 2, '}')) != NULL) {
			n = (size_t)(end - p - 2);
			for (i = 0; i < x->nvars; i++)
				if (strlen(x->vars[i].name) == n &&
				    strncmp(p + 2, x->vars[i].name, n) == 0)
					val = (char *)x->vars[i].val->data;
		}
		if (val == NULL) {
			n = 1;
			val = p;
		} else {
			p = end + 1;
			n = strlen(val);
		}
		if (len + n + 1 > cap) {
			cap = 2 * (len + n + 1);
			if ((tmp = malloc(cap)) == NULL) {
				janee_freezero(out, len);
				return NULL;
			}
			memcpy(tmp, out, len);
			janee_freezero(out, len);
			out = tmp;
		}
		memcpy(out + len, val, n);
		len += n;
		if (val == p)
			p++;
	}
	out[len] = '\0';
	return out;
}

static char **
child_argv(struct exec *x)
{
	char **v;
	int i;

	if ((v = calloc((size_t)x->ncmd + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < x->ncmd; i++)
		if ((v[i] = x->expand ? expand_arg(x, x->cmd[i])
				      : janee_strdup(x->cmd[i])) == NULL) {
			free_strv(v, 1);
			return NULL;
		}
	return v;
}

/* The tokens and values now live in envp alone: wipe janee's copies. */
static void
drop_secrets(struct exec *x)
{
	size_t i;

	for (i = 0; i < x->nleases; i++)
		janee_token_clear(&x->leases[i].tok);
	for (i = 0; i < x->nvars; i++) {
		janee_secret_free(x->vars[i].val);
		x->vars[i].val = NULL;
	}
}

/*
 * fork and execve; the child sets the signal mask back and runs only
 * async-signal-safe calls (janee may have threads from libsecret).  An
 * exec failure comes back through a close-on-exec pipe.
 */
static int
spawn(
    struct exec *x, char **argv, char **envp, const sigset_t *old, pid_t *pidp)
{
	int ep[2], e, ksfd = x->c->core.ks.fd, st;
	ssize_t n;
	pid_t pid;

	if (pipe2(ep, O_CLOEXEC) != 0)
		return janee_err_set(
		    JANEE_ERR_IO, "cannot make a pipe: %s", strerror(errno));
	if ((pid = fork()) < 0) {
		e = errno;
		close(ep[0]);
		close(ep[1]);
		return janee_err_set(
		    JANEE_ERR_IO, "cannot fork: %s", strerror(e));
	}
	if (pid == 0) {
		close(ep[0]);
		sigprocmask(SIG_SETMASK, old, NULL);
		/* The passphrase descriptor is janee's, not the command's. */
		if (ksfd > 2)
			close(ksfd);
		execve(x->path, argv, envp);
		e = errno;
		while (write(ep[1], &e, sizeof(e)) < 0 && errno == EINTR)
			;
		_exit(127);
	}
	close(ep[1]);
	while ((n = read(ep[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(ep[0]);
	if (n == (ssize_t)sizeof(e)) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		return janee_err_set(
		    e == ENOENT ? JANEE_ERR_NOT_FOUND : JANEE_ERR_IO,
		    "cannot run '%s': %s", x->path, strerror(e));
	}
	*pidp = pid;
	return 0;
}

/* A lease ended while the command runs: say so, and act per --on-expiry. */
static void
lease_ended(struct exec *x, struct exec_lease *el, const char *how, pid_t pid,
    int64_t *kill_at)
{
	el->ended = 1;
	if (x->keep) {
		fprintf(stderr,
		    "janee: lease %s (%s) %s; '%s' keeps running, its token no longer works (--on-expiry keep)\n",
		    el->id, el->provider, how, x->cmd[0]);
		return;
	}
	fprintf(stderr,
	    "janee: lease %s (%s) %s; stopping '%s' (--on-expiry kill)\n",
	    el->id, el->provider, how, x->cmd[0]);
	if (*kill_at == 0) {
		kill(pid, SIGTERM);
		*kill_at = janee_now_ms() + KILL_GRACE_MS;
	}
}

/* Expired leases are revoked now, by the sweep (janee's own act). */
static void
sweep_now(struct exec *x)
{
	struct sweep_report r;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = broker_sweep(&x->c->core.broker, 1, &r)) != 0) {
		fprintf(stderr, "janee: warning: %s\n", janee_err_msg(rc));
		janee_err_clear();
	}
}

/* Look at each lease: its end time, and (now and then) the ledger. */
static void
check_leases(struct exec *x, pid_t pid, int64_t *kill_at, int64_t *next_poll)
{
	int64_t now = janee_now_ms();
	struct exec_lease *el;
	struct lease l;
	size_t i;
	int poll_db = now >= *next_poll, swept = 0;

	if (poll_db)
		*next_poll = now + LEDGER_POLL_MS;
	for (i = 0; i < x->nleases; i++) {
		el = &x->leases[i];
		if (el->ended)
			continue;
		if (now >= el->expires_ms) {
			if (!swept++)
				sweep_now(x);
			lease_ended(x, el, "expired", pid, kill_at);
			continue;
		}
		if (!poll_db)
			continue;
		if (lease_load(x->c->core.lg, el->id, &l) != 0) {
			janee_err_clear();
			continue;
		}
		if (l.state != LEASE_ACTIVE) {
			char how[64];

			snprintf(how, sizeof(how), "was %s",
			    lease_state_name(l.state));
			lease_ended(x, el, how, pid, kill_at);
		}
		lease_free(&l);
	}
}

/* Wait for the command; forward signals; watch the leases.  The status. */
static int
supervise(struct exec *x, pid_t pid, int sfd)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[2] = { { .fd = sfd, .events = POLLIN },
		{ .fd = -1, .events = POLLIN } };
	int64_t pw;
	int64_t now, wait, kill_at = 0, next_poll = 0;
	int st = 0, killed = 0;
	size_t i;
	pid_t w;

	for (;;) {
		check_leases(x, pid, &kill_at, &next_poll);
		now = janee_now_ms();
		if (kill_at != 0 && now >= kill_at && !killed) {
			kill(pid, SIGKILL);
			killed = 1;
		}
		wait = next_poll - now;
		for (i = 0; i < x->nleases; i++)
			if (!x->leases[i].ended &&
			    x->leases[i].expires_ms - now < wait)
				wait = x->leases[i].expires_ms - now;
		if (kill_at != 0 && !killed && kill_at - now < wait)
			wait = kill_at - now;
		if (x->px != NULL) {
			pfd[1].fd = api_proxy_fd(x->px);
			if ((pw = api_proxy_timeout_ms(x->px)) >= 0 &&
			    pw < wait)
				wait = pw;
		}
		if (wait < 0)
			wait = 0;
		if (poll(pfd, 2, (int)(wait + 1)) < 0 && errno != EINTR)
			break;
		if (x->px != NULL)
			api_proxy_run(x->px);
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGCHLD)
				continue;
			/*
			 * Only what was sent to janee itself: a terminal's
			 * ^C or window change reached the whole foreground
			 * process group, the command included (si_code is
			 * SI_KERNEL then; kill(2) gives SI_USER).
			 */
			if ((int)si.ssi_code <= 0)
				kill(pid, (int)si.ssi_signo);
		}
		while ((w = waitpid(pid, &st, WNOHANG)) < 0 && errno == EINTR)
			;
		if (w == pid)
			break;
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

static void
exec_free(struct exec *x)
{
	size_t i, k;

	drop_secrets(x);
	api_proxy_stop(x->px, "the command run by janee exec exited");
	x->px = NULL;
	free(x->proxied.provider);
	for (k = 0; k < JANEE_TOKEN_MAX_PARTS; k++)
		free(x->proxied.vars[k]);
	janee_strlist_free(&x->proxied.scopes);
	janee_strlist_free(&x->proxied.resources);
	memset(&x->proxied, 0, sizeof(x->proxied));
	for (i = 0; i < x->nleases; i++) {
		free(x->leases[i].provider);
		for (k = 0; k < JANEE_TOKEN_MAX_PARTS; k++)
			free(x->leases[i].vars[k]);
		janee_strlist_free(&x->leases[i].scopes);
		janee_strlist_free(&x->leases[i].resources);
	}
	for (i = 0; i < x->nvars; i++)
		free(x->vars[i].name);
	free(x->path);
}

/* Run the command; janee exits here with its status. */
static void
run(struct exec *x)
{
	sigset_t set, old;
	char **argv = NULL, **envp = NULL;
	size_t i;
	pid_t pid = -1;
	int sfd = -1, status, rc;

	sigemptyset(&set);
	for (i = 0; i < nitems(fwd_signals); i++)
		sigaddset(&set, fwd_signals[i]);
	sigaddset(&set, SIGCHLD);
	/* Blocked before fork: nothing is lost between fork and the loop. */
	sigprocmask(SIG_BLOCK, &set, &old);
	if ((sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		rc = janee_err_set(
		    JANEE_ERR_IO, "cannot watch signals: %s", strerror(errno));
	else if ((argv = child_argv(x)) == NULL ||
	    (envp = child_env(x)) == NULL)
		rc = JANEE_ERR_NOMEM;
	else if (got_signal)
		rc = janee_err_set(JANEE_ERR_USAGE, "interrupted");
	else {
		/* No HTTP connections for the command to inherit. */
		janee_http_free(x->c->core.broker.http);
		x->c->core.broker.http = NULL;
		rc = spawn(x, argv, envp, &old, &pid);
	}
	free_strv(envp, 1);
	free_strv(argv, 1);
	drop_secrets(x);
	if (rc != 0) {
		fprintf(stderr, "janee: %s\n", janee_err_msg(rc));
		janee_err_clear();
		end_leases(x, "janee exec could not start the command");
		status = rc == JANEE_ERR_NOT_FOUND ? 127 : 126;
		if (got_signal)
			status = 128 + got_signal;
	} else
		status = supervise(x, pid, sfd);
	if (sfd >= 0)
		close(sfd);
	if (rc == 0)
		end_leases(x, "the command run by janee exec exited");
	exec_free(x);
	fflush(stderr);
	cli_close(x->c);
	exit(status);
}

int
cmd_exec(struct cli *c)
{
	struct exec x;
	char *msg;
	size_t i;
	int rc;

	memset(&x, 0, sizeof(x));
	x.c = c;
	c->core.broker.client = "exec";
	catch_signals();
	if ((rc = parse(&x)) != 0 || (rc = find_command(&x)) != 0 ||
	    (rc = resolve_vars(&x)) != 0)
		goto fail;
	for (i = 0; i < x.nleases; i++) {
		if (got_signal) {
			rc = janee_err_set(JANEE_ERR_USAGE, "interrupted");
			goto fail;
		}
		if ((rc = mint_one(&x, &x.leases[i])) != 0)
			goto fail;
	}
	if (x.proxy && (rc = start_proxy(&x)) != 0)
		goto fail;
	run(&x); /* does not return */
	return 0;
fail:
	/* What was minted before the failure is ended at once. */
	msg = janee_strdup(janee_err_msg(rc));
	janee_err_clear();
	end_leases(&x, "janee exec did not run the command");
	exec_free(&x);
	if (got_signal) {
		fprintf(stderr, "janee: %s\n", msg ? msg : "interrupted");
		free(msg);
		cli_close(c);
		exit(128 + got_signal);
	}
	if (msg != NULL && strcmp(msg, janee_strerror(rc)) != 0)
		janee_err_set(rc, "%s", msg);
	free(msg);
	return rc;
}
