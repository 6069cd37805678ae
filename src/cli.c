/* Option parsing and on-demand state for commands. */
#include "common.h"

#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "util.h"

int
cli_opt_index(const struct cli *c, const char *name)
{
	int i;

	for (i = 0; c->cmd->opts != NULL && c->cmd->opts[i].name != NULL; i++)
		if (strcmp(c->cmd->opts[i].name, name) == 0)
			return i;
	abort(); /* a command asked for an option it does not declare */
}

const char *
cli_get(const struct cli *c, const char *name)
{
	const struct janee_strlist *l = cli_all(c, name);

	return l->n ? l->v[l->n - 1] : NULL;
}

const struct janee_strlist *
cli_all(const struct cli *c, const char *name)
{
	return &c->vals[cli_opt_index(c, name)];
}

int
cli_has(const struct cli *c, const char *name)
{
	return c->seen[cli_opt_index(c, name)];
}

void
cli_usage(const struct cmd *cmd, FILE *fp)
{
	fprintf(fp, "usage: janee %s%s%s%s%s\n", cmd->group ? cmd->group : "",
	    cmd->group ? " " : "", cmd->name, *cmd->args ? " " : "", cmd->args);
}

int
cli_usage_error(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fputs("janee: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cli_usage(c->cmd, stderr);
	return JANEE_ERR_USAGE;
}

int
cli_check_args(const struct cli *c)
{
	const char *a = c->cmd->args;
	int len;

	if (c->npos < c->cmd->min_args) {
		/* Name the first missing word of the usage: "PROVIDER". */
		len = (int)strcspn(a, " ");
		return cli_usage_error(c, "missing %.*s", len, a);
	}
	if (c->cmd->max_args >= 0 && c->npos > c->cmd->max_args)
		return cli_usage_error(
		    c, "unexpected argument '%s'", c->pos[c->cmd->max_args]);
	return 0;
}

/*
 * Print a field for a person, padded to width.  Fields such as a reason
 * come from agents: a raw newline would let one forge a line that looks
 * like another event, an escape sequence would reach the terminal, and a
 * bidi control would reorder what is shown.  Unsafe characters are shown
 * escaped (text.h says which); JSON and CSV keep the exact text.
 */
void
cli_put_text(FILE *fp, const char *s, int width)
{
	char esc[JANEE_TEXT_ESC];
	size_t len;
	int n = 0;

	for (; *s != '\0'; s += len, n++)
		if (janee_text_char(s, &len, esc)) {
			fputs(esc, fp);
			n += (int)strlen(esc) - 1;
		} else
			fwrite(s, 1, len, fp);
	/* A character is one column here (wide ones are rare in fields). */
	for (; n < width; n++)
		putc(' ', fp);
}

int
cli_interactive(void)
{
	return isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
}

static void
sweep_notice(struct cli *c)
{
	struct sweep_report r = { 0 };
	int rc;

	if ((rc = broker_sweep(&c->core.broker, 0, &r)) != 0) {
		fprintf(stderr,
		    "janee: warning: could not expire overdue leases: %s\n",
		    janee_err_msg(rc));
		janee_err_clear();
		return;
	}
	if (r.waiting > 0)
		fprintf(stderr,
		    "janee: %lld lease(s) past their end wait for revocation, which needs the store's passphrase; run: janee lease sweep\n",
		    (long long)r.waiting);
	if (r.retrying > 0)
		fprintf(stderr,
		    "janee: warning: %lld revocation(s) failed and will be retried; see: janee lease list\n",
		    (long long)r.retrying);
	if (r.irrevocable > 0)
		fprintf(stderr,
		    "janee: warning: %lld lease(s) could not be revoked and are now irrevocable; see: janee lease list --all\n",
		    (long long)r.irrevocable);
	if (r.orphaned > 0)
		fprintf(stderr,
		    "janee: warning: %lld lease(s) were cut short by a crash while minting and are orphaned: a token janee cannot end may be live; see: janee lease list\n",
		    (long long)r.orphaned);
}

int
cli_broker(struct cli *c)
{
	return core_broker(&c->core);
}

int
cli_open(struct cli *c, unsigned flags)
{
	int rc, opened;

	if ((rc = core_open(&c->core, flags, &opened)) != 0)
		return rc;
	if (c->core.config_error != NULL) {
		/* Let status, audit and the like work on a broken config. */
		fprintf(stderr, "janee: warning: %s\n", c->core.config_error);
		free(c->core.config_error);
		c->core.config_error = NULL;
	}
	if (opened && c->core.have_broker && !(flags & CMD_NO_SWEEP))
		sweep_notice(c);
	return 0;
}

void
cli_close(struct cli *c)
{
	int i;

	core_close(&c->core);
	for (i = 0; i < CLI_MAX_OPTS; i++)
		janee_strlist_free(&c->vals[i]);
}

int
cli_print_json(cJSON *v)
{
	char *s;
	int rc = 0;

	if (v == NULL || (s = cJSON_PrintUnformatted(v)) == NULL) {
		cJSON_Delete(v);
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	if (puts(s) == EOF)
		rc = janee_err_set(JANEE_ERR_IO, "cannot write output");
	cJSON_free(s);
	cJSON_Delete(v);
	return rc;
}
