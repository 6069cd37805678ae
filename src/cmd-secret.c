/* janee secret set | list | rm | rekey. */
#include "common.h"

#include <fcntl.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "cli.h"
#include "secrets.h"
#include "util.h"

/* A secret is a key, a token or a certificate, not a data set. */
#define SECRET_MAX (1 << 20)

static int
read_value(struct cli *c, struct buf *b)
{
	const char *path = cli_get(c, "from-file");
	int fd, rc;

	buf_init(b, SECRET_MAX);
	if (path == NULL) {
		/* At a terminal: hidden input, so the value is not on screen. */
		if (isatty(STDIN_FILENO))
			rc = tty_read_hidden(
			    "paste the value, then Ctrl-D (input is hidden)\n",
			    1, SECRET_MAX, b);
		else
			rc = buf_read_fd(b, STDIN_FILENO);
		if (rc != 0)
			return rc;
		/* One trailing newline, as `echo value |` adds. */
		if (b->len > 0 && b->p[b->len - 1] == '\n')
			b->p[--b->len] = '\0';
		return 0;
	}
	if ((rc = path_check_private(path, 0, 0)) != 0 && rc != JANEE_ERR_PERM)
		return rc;
	if (rc == JANEE_ERR_PERM) {
		/* The value gets sealed all the same; the file is the risk. */
		fprintf(stderr,
		    "janee: warning: %s; once stored, remove the file\n",
		    janee_err_msg(rc));
		janee_err_clear();
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return janee_err_set(JANEE_ERR_IO, "cannot open '%s': %s", path,
		    strerror(errno));
	rc = buf_read_fd(b, fd);
	close(fd);
	return rc;
}

int
cmd_secret_set(struct cli *c)
{
	struct buf b;
	int rc;

	if (!secret_name_valid(c->pos[0]))
		return cli_usage_error(c,
		    "invalid secret name '%s'; use letters, digits, '.', '_' and '-'",
		    c->pos[0]);
	/* Unlock first: nobody types a secret only to hear the key is wrong. */
	if ((rc = broker_unlock(&c->core.broker)) != 0 ||
	    (rc = read_value(c, &b)) != 0)
		return rc;
	if (b.len == 0) {
		buf_free(&b);
		return janee_err_set(JANEE_ERR_INVALID,
		    "the value for secret '%s' is empty; nothing was stored",
		    c->pos[0]);
	}
	rc = secret_put(
	    c->core.lg, c->core.broker.store, c->pos[0], b.p, b.len, "user");
	buf_free(&b);
	if (rc == 0)
		fprintf(
		    stderr, "janee: stored secret '%s' sealed\n", c->pos[0]);
	return rc;
}

struct list_ctx {
	cJSON *arr;
	int rows;
};

static int
list_one(const struct secret_info *si, void *arg)
{
	struct list_ctx *lc = arg;
	char created[JANEE_TIME_LEN], updated[JANEE_TIME_LEN];
	cJSON *o;

	janee_time_fmt(si->created_ms, created);
	janee_time_fmt(si->updated_ms, updated);
	if (lc->arr == NULL) {
		/* The header with the first row: no bare header. */
		if (lc->rows++ == 0)
			printf(
			    "%-32s  %-24s  %s\n", "NAME", "CREATED", "UPDATED");
		printf("%-32s  %s  %s\n", si->name, created, updated);
		return 0;
	}
	if ((o = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddItemToArray(lc->arr, o))
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	cJSON_AddStringToObject(o, "name", si->name);
	cJSON_AddStringToObject(o, "created_at", created);
	cJSON_AddStringToObject(o, "updated_at", updated);
	return 0;
}

int
cmd_secret_list(struct cli *c)
{
	struct list_ctx lc = { NULL, 0 };
	int rc;

	if (cli_has(c, "json") && (lc.arr = cJSON_CreateArray()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if ((rc = secret_each(c->core.lg, list_one, &lc)) != 0) {
		cJSON_Delete(lc.arr);
		return rc;
	}
	if (lc.arr != NULL)
		return cli_print_json(lc.arr);
	if (lc.rows == 0)
		printf("no secrets (store one with: janee secret set NAME)\n");
	return 0;
}

int
cmd_secret_rm(struct cli *c)
{
	int rc;

	if ((rc = secret_rm(c->core.lg, c->pos[0], "user")) == 0)
		fprintf(stderr, "janee: removed secret '%s'\n", c->pos[0]);
	return rc;
}

int
cmd_secret_rekey(struct cli *c)
{
	struct audit_event ev = {
		.event = "secret_rekey", .actor = "user", .outcome = "ok"
	};
	const char *backend = cli_get(c, "key-backend"), *fdarg;
	int64_t fd;
	int rc;

	if (backend != NULL && !store_backend_known(backend))
		return cli_usage_error(c,
		    "unknown key backend '%s'; use passphrase, keyfile or keyring",
		    backend);
	if ((fdarg = cli_get(c, "new-passphrase-fd")) != NULL) {
		if (janee_parse_int(fdarg, 0, 1024, &fd) != 0)
			return cli_usage_error(
			    c, "--new-passphrase-fd takes a descriptor number");
		c->core.ks.new_fd = (int)fd;
	}
	if ((rc = broker_unlock(&c->core.broker)) != 0 ||
	    (rc = store_rekey(c->core.broker.store, c->core.lg, &c->core.home,
		 backend, &c->core.ks, &ev)) != 0)
		return rc;
	fprintf(stderr, "janee: the store's key is rewrapped%s%s\n",
	    backend ? "; key backend is now " : "", backend ? backend : "");
	return 0;
}
