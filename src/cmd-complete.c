/*
 * Shell completion: `janee completion bash|zsh|fish` prints a script
 * that, at each TAB, runs the hidden `janee __complete WORDS...` (the
 * words after "janee", the last one the word being completed).  The
 * answers come from the command table (commands, options, option values)
 * and from the home (provider names, their scopes, lease ids, secret
 * names), never from parsing --help.  One candidate per line, already
 * filtered by the word being completed; nothing on any trouble.
 */
#include "common.h"

#include "audit.h"
#include "cli.h"
#include "client-config.h"
#include "lease.h"
#include "secrets.h"

/* Option values known without any state. */
static const struct {
	const char *opt;
	const char *const *vals;
} fixed_values[] = {
	{ "key-backend",
	    (const char *const[]){ "passphrase", "keyfile", "keyring", NULL } },
	{ "format", (const char *const[]){ "csv", NULL } },
	{ "approval",
	    (const char *const[]){
		"auto", "ask", "out-of-band", "deny", NULL } },
	{ "on-expiry", (const char *const[]){ "kill", "keep", NULL } },
	{ "lease-end", (const char *const[]){ "revoke", "expire", NULL } },
	/* janee proxy listens on loopback only. */
	{ "listen", (const char *const[]){ "127.0.0.1:", NULL } },
};

struct complete {
	struct cli *c;
	const char *cur; /* the word being completed */
	size_t curlen;
	int lease_waiting; /* lease ids: only those waiting for approval */
};

static void
say(struct complete *k, const char *word)
{
	if (strncmp(word, k->cur, k->curlen) == 0)
		printf("%s\n", word);
}

static void
say_list(struct complete *k, const char *const *words)
{
	for (; *words != NULL; words++)
		say(k, *words);
}

static void
say_opts(struct complete *k, const struct cli_opt *opts)
{
	char w[64];

	for (; opts != NULL && opts->name != NULL; opts++) {
		snprintf(w, sizeof(w), "--%s", opts->name);
		say(k, w);
	}
}

static int
say_lease(const struct lease *l, void *arg)
{
	struct complete *k = arg;

	say(k, l->id);
	return 0;
}

static int
say_secret(const struct secret_info *si, void *arg)
{
	say(arg, si->name);
	return 0;
}

/* Open the home quietly: completion never prompts, sweeps or warns. */
static int
have_state(struct complete *k)
{
	if (k->c->core.lg == NULL &&
	    cli_open(k->c, CMD_LEDGER | CMD_NO_SWEEP) != 0)
		janee_err_clear();
	return k->c->core.lg != NULL;
}

static void
say_providers(struct complete *k)
{
	size_t i;

	if (have_state(k) && k->c->core.cfg != NULL)
		for (i = 0; i < k->c->core.cfg->n; i++)
			say(k, k->c->core.cfg->provs[i].name);
}

static void
say_scopes(struct complete *k, const char *provider)
{
	const struct prov *pv;
	size_t i;

	if (provider == NULL || !have_state(k) || k->c->core.cfg == NULL ||
	    (pv = config_find(k->c->core.cfg, provider)) == NULL)
		return;
	for (i = 0; i < pv->pol.ceiling.n; i++)
		say(k, pv->pol.ceiling.v[i]);
}

static void
say_leases(struct complete *k)
{
	struct lease_filter f = { .active_only = 1 };

	f.requested_only = k->lease_waiting;
	if (have_state(k) && lease_each(k->c->core.lg, &f, say_lease, k) != 0)
		janee_err_clear();
}

static void
say_secrets(struct complete *k)
{
	if (have_state(k) && secret_each(k->c->core.lg, say_secret, k) != 0)
		janee_err_clear();
}

static const struct cli_opt *
opt_named(const struct cli_opt *opts, const char *word)
{
	for (; opts != NULL && opts->name != NULL; opts++)
		if ((strncmp(word, "--", 2) == 0 &&
			strcmp(word + 2, opts->name) == 0) ||
		    (opts->shortname && word[0] == '-' &&
			word[1] == opts->shortname && word[2] == '\0'))
			return opts;
	return NULL;
}

/* The value of an option that takes one (prev is the option). */
static void
say_value(struct complete *k, const char *opt, const char *provider)
{
	size_t i;

	for (i = 0; i < nitems(fixed_values); i++)
		if (strcmp(fixed_values[i].opt, opt) == 0) {
			say_list(k, fixed_values[i].vals);
			return;
		}
	if (strcmp(opt, "provider") == 0)
		say_providers(k);
	else if (strcmp(opt, "client") == 0)
		for (i = 0; client_kinds[i].name != NULL; i++)
			say(k, client_kinds[i].name);
	else if (strcmp(opt, "lease") == 0)
		say_leases(k);
	else if (strcmp(opt, "event") == 0)
		say_list(k, audit_event_names);
	else if (strcmp(opt, "type") == 0)
		for (i = 0; janee_providers[i] != NULL; i++)
			say(k, janee_providers[i]->type);
	else if (strcmp(opt, "scope") == 0 || strcmp(opt, "permission") == 0 ||
	    strcmp(opt, "default-scope") == 0)
		say_scopes(k, provider);
}

static void
say_commands(struct complete *k, const char *group)
{
	const struct cmd *t;

	for (t = cmd_table; t->name != NULL; t++) {
		if (t->flags & CMD_HIDDEN)
			continue;
		if (group != NULL) {
			if (t->group != NULL && strcmp(t->group, group) == 0)
				say(k, t->name);
		} else if (t->group == NULL)
			say(k, t->name);
		else if (t == cmd_table || t[-1].group == NULL ||
		    strcmp(t[-1].group, t->group) != 0)
			say(k, t->group); /* a group, once */
	}
}

/* A positional argument, by the word the usage gives it. */
static void
say_positional(struct complete *k, const struct cmd *cmd)
{
	const char *what = cmd->args;

	what += strspn(what, "[");
	if (strncmp(what, "PROVIDER", 8) == 0 ||
	    (strncmp(what, "NAME", 4) == 0 && cmd->group != NULL &&
		strcmp(cmd->group, "provider") == 0))
		say_providers(k);
	else if (strncmp(what, "NAME", 4) == 0 && cmd->group != NULL &&
	    strcmp(cmd->group, "secret") == 0)
		say_secrets(k);
	else if (strncmp(what, "ID", 2) == 0) {
		k->lease_waiting = strcmp(cmd->name, "approve") == 0 ||
		    strcmp(cmd->name, "deny") == 0;
		say_leases(k);
	} else if (strncmp(what, "COMMAND", 7) == 0)
		say_commands(k, NULL);
}

int
cmd_complete(struct cli *c)
{
	struct complete k = { .c = c };
	const struct cmd *cmd = NULL, *t;
	const struct cli_opt *o;
	const char *provider = NULL, *group = NULL;
	char **w = c->pos;
	int n = c->npos, i, npos = 0;

	if (n == 0)
		return 0;
	k.cur = w[n - 1];
	k.curlen = strlen(k.cur);
	/* The words before the current one: command, options, arguments. */
	for (i = 0; i < n - 1; i++) {
		if ((o = opt_named(cli_global_opts, w[i])) != NULL) {
			/* Another home than the one main() resolved. */
			if (strcmp(o->name, "home") == 0 && i + 1 < n - 1) {
				home_free(&c->core.home);
				c->core.home_opt = w[i + 1];
			}
			i += o->has_arg ? 1 : 0;
			continue;
		}
		if (cmd == NULL && w[i][0] != '-') {
			for (t = cmd_table; t->name != NULL; t++)
				if ((group == NULL && t->group == NULL &&
					strcmp(t->name, w[i]) == 0) ||
				    (group != NULL && t->group != NULL &&
					strcmp(t->group, group) == 0 &&
					strcmp(t->name, w[i]) == 0))
					break;
			if (t->name != NULL)
				cmd = t;
			else if (group == NULL)
				group = w[i];
			continue;
		}
		if (cmd == NULL)
			continue;
		if ((o = opt_named(cmd->opts, w[i])) != NULL) {
			if (o->has_arg && i + 1 < n - 1 &&
			    strcmp(o->name, "provider") == 0)
				provider = w[i + 1];
			i += o->has_arg ? 1 : 0;
		} else if (w[i][0] != '-' && npos++ == 0)
			provider = provider ? provider : w[i];
	}
	/* The value of the option before the current word. */
	if (n >= 2) {
		o = cmd ? opt_named(cmd->opts, w[n - 2]) : NULL;
		if (o == NULL)
			o = opt_named(cli_global_opts, w[n - 2]);
		if (o != NULL && o->has_arg) {
			/* Files are the shell's to complete (CLI_ARG_FILE). */
			if (o->has_arg != CLI_ARG_FILE)
				say_value(&k, o->name, provider);
			return 0;
		}
	}
	if (k.cur[0] == '-') {
		if (cmd != NULL)
			say_opts(&k, cmd->opts);
		say_opts(&k, cli_global_opts);
		return 0;
	}
	if (cmd == NULL)
		say_commands(&k, group);
	else if (npos == 0)
		say_positional(&k, cmd);
	return 0;
}

/*
 * Options whose value is a file, for the scripts' own file completion:
 * each once, its long name between pre and post (and its short letter,
 * when it has one, between pre_short and post), sep between them all.
 */
static void
file_opts(
    const char *sep, const char *pre, const char *pre_short, const char *post)
{
	int first = 1;

	const struct cli_opt *tables[64], *o;
	const struct cmd *t;
	size_t n = 0, i;
	char seen[1024] = " ", w[64];

	for (t = cmd_table; t->name != NULL && n + 1 < nitems(tables); t++)
		if (t->opts != NULL)
			tables[n++] = t->opts;
	tables[n++] = cli_global_opts;
	for (i = 0; i < n; i++)
		for (o = tables[i]; o->name != NULL; o++) {
			snprintf(w, sizeof(w), " %s ", o->name);
			if (o->has_arg != CLI_ARG_FILE ||
			    strstr(seen, w) != NULL ||
			    strlen(seen) + strlen(w) >= sizeof(seen))
				continue;
			memcpy(seen + strlen(seen), w + 1, strlen(w));
			printf(
			    "%s%s%s%s", first ? "" : sep, pre, o->name, post);
			if (o->shortname)
				printf("%s%s%c%s", sep, pre_short, o->shortname,
				    post);
			first = 0;
		}
}

int
cmd_completion(struct cli *c)
{
	const char *sh = c->pos[0];

	if (strcmp(sh, "bash") == 0) {
		printf("# bash completion for janee: janee completion bash\n"
		       "_janee()\n{\n"
		       "\tlocal cur=${COMP_WORDS[COMP_CWORD]}\n"
		       "\tlocal prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
		       "\tcase $prev in\n\t");
		file_opts(" | ", "--", "-", "");
		printf(
		    ")\n"
		    "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
		    "\t\treturn\n\t\t;;\n\tesac\n"
		    "\tlocal IFS=$'\\n'\n"
		    "\tCOMPREPLY=($(janee __complete -- \"${COMP_WORDS[@]:1:COMP_CWORD}\" 2>/dev/null))\n"
		    "}\ncomplete -F _janee janee\n");
	} else if (strcmp(sh, "zsh") == 0) {
		printf("#compdef janee\n"
		       "# zsh completion for janee: janee completion zsh\n"
		       "_janee()\n{\n"
		       "\tcase ${words[CURRENT-1]} in\n\t");
		file_opts("|", "--", "-", "");
		printf(
		    ")\n\t\t_files\n\t\treturn\n\t\t;;\n\tesac\n"
		    "\tlocal -a c\n"
		    "\tc=(\"${(@f)$(janee __complete -- \"${(@)words[2,CURRENT]}\" 2>/dev/null)}\")\n"
		    "\tcompadd -- \"${(@)c:#}\"\n"
		    "}\n"
		    "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
		    "\t_janee \"$@\"\nelse\n\tcompdef _janee janee\nfi\n");
	} else if (strcmp(sh, "fish") == 0) {
		printf("# fish completion for janee: janee completion fish\n"
		       "function __janee_complete\n"
		       "\tset -l words (commandline -opc) (commandline -ct)\n"
		       "\tjanee __complete -- $words[2..-1] 2>/dev/null\n"
		       "end\n"
		       "complete -c janee -f -a '(__janee_complete)'\n");
		file_opts("", "complete -c janee -r -F -l ",
		    "complete -c janee -r -F -s ", "\n");
	} else
		return cli_usage_error(
		    c, "no completion for '%s'; use bash, zsh or fish", sh);
	return 0;
}
