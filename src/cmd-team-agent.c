/*
 * janee agent add|list|rm|rotate: the remote agents of team mode
 * (src/team-agents.h, docs/TEAM.md).  Not the background agent
 * (src/cmd-agent.c, janee agent-run).
 */
#include "common.h"

#include <fcntl.h>
#include <unistd.h>

#include "cli.h"
#include "team-agents.h"
#include "util.h"

#define KEY_FILE_MAX 16384

/* The public key from --key-file. */
static int
read_key_file(const char *path, char **spki, char kid[TEAM_KID_LEN],
    enum janee_jwt_alg *alg)
{
	char buf[KEY_FILE_MAX + 1];
	size_t n;
	FILE *fp;
	int rc;

	if ((fp = fopen(path, "re")) == NULL)
		return janee_err_set(JANEE_ERR_IO,
		    "cannot open key file '%s': %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf), fp);
	rc = ferror(fp);
	fclose(fp);
	if (rc != 0 || n > KEY_FILE_MAX)
		return janee_err_set(JANEE_ERR_INVALID,
		    "key file '%s' cannot be read or is over %d bytes", path,
		    KEY_FILE_MAX);
	rc = team_key_import(buf, n, path, spki, kid, alg);
	janee_wipe(buf, sizeof(buf));
	return rc;
}

/*
 * A new key pair: the private key to --private-key-out (created 0600,
 * never over an existing file) or to stdout, once; janee keeps only the
 * public key.  *written is the file made, for removal if the
 * registration then fails.
 */
static int
generate(struct cli *c, char **spki, char kid[TEAM_KID_LEN],
    enum janee_jwt_alg *alg, const char **written)
{
	const char *out = cli_get(c, "private-key-out");
	struct janee_secret *priv = NULL;
	size_t off = 0;
	ssize_t w;
	int fd, rc;

	*written = NULL;
	if ((rc = team_key_generate(&priv, spki, kid)) != 0)
		return rc;
	*alg = JANEE_JWT_ES256;
	if (out == NULL) {
		fwrite(priv->data, 1, priv->len, stdout);
		rc = fflush(stdout) == 0 ? 0
					 : janee_err_set(JANEE_ERR_IO,
					       "cannot print the private key");
		goto done;
	}
	if ((fd = open(out,
		 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) <
	    0) {
		rc = janee_err_set(JANEE_ERR_IO,
		    "cannot create '%s' for the private key: %s (janee never writes over a file)",
		    out, strerror(errno));
		goto done;
	}
	while (off < priv->len &&
	    ((w = write(fd, priv->data + off, priv->len - off)) > 0 ||
		(w < 0 && errno == EINTR)))
		off += w > 0 ? (size_t)w : 0;
	if (off < priv->len || fsync(fd) != 0) {
		rc = janee_err_set(JANEE_ERR_IO,
		    "cannot write the private key to '%s': %s", out,
		    strerror(errno));
		close(fd);
		unlink(out);
		goto done;
	}
	if (close(fd) != 0) {
		rc = janee_err_set(JANEE_ERR_IO, "cannot write '%s': %s", out,
		    strerror(errno));
		unlink(out);
		goto done;
	}
	*written = out;
done:
	janee_secret_free(priv);
	return rc;
}

/* --key-file or --generate, exactly one. */
static int
new_key(struct cli *c, char **spki, char kid[TEAM_KID_LEN],
    enum janee_jwt_alg *alg, const char **written)
{
	const char *file = cli_get(c, "key-file");
	int gen = cli_has(c, "generate");

	*written = NULL;
	if ((file != NULL) == gen)
		return cli_usage_error(c,
		    "give the agent's public key with --key-file PATH, or --generate a key pair");
	if (!gen && cli_has(c, "private-key-out"))
		return cli_usage_error(
		    c, "--private-key-out goes with --generate");
	if (gen)
		return generate(c, spki, kid, alg, written);
	return read_key_file(file, spki, kid, alg);
}

static int
add_or_rotate(struct cli *c, int rotate)
{
	const char *name = c->pos[0], *written = NULL;
	char kid[TEAM_KID_LEN], *spki = NULL;
	enum janee_jwt_alg alg;
	struct team_agent a;
	int rc;

	if (!janee_name_valid(name))
		return cli_usage_error(c,
		    "invalid agent name '%s': 1-64 lowercase letters, digits, '-' and '_'",
		    name);
	/* Before a key is made: nobody gets a key for a name that fails. */
	rc = team_agent_get(c->core.lg, name, &a);
	team_agent_free(&a);
	if (rotate && rc != 0)
		return rc;
	if (!rotate && rc == 0)
		return janee_err_set(JANEE_ERR_EXISTS,
		    "agent '%s' is already registered; change its key with: janee agent rotate %s",
		    name, name);
	if (!rotate && rc != JANEE_ERR_NOT_FOUND)
		return rc;
	janee_err_clear();
	if ((rc = new_key(c, &spki, kid, &alg, &written)) != 0)
		return rc;
	rc = rotate
	    ? team_agent_rotate(c->core.lg, name, spki, kid, alg, "user")
	    : team_agent_add(c->core.lg, name, spki, kid, alg, "user");
	free(spki);
	if (rc != 0) {
		if (written != NULL)
			unlink(written);
		return rc;
	}
	fprintf(stderr, "janee: agent '%s' %s with key %s (%s)%s%s\n", name,
	    rotate ? "now signs" : "registered", kid, janee_jwt_alg_name(alg),
	    written ? "; its private key is in " : "", written ? written : "");
	if (cli_has(c, "generate") && written == NULL)
		fprintf(stderr,
		    "janee: the private key above is shown once and not kept: give it to the agent now\n");
	return 0;
}

int
cmd_team_agent_add(struct cli *c)
{
	return add_or_rotate(c, 0);
}

int
cmd_team_agent_rotate(struct cli *c)
{
	return add_or_rotate(c, 1);
}

int
cmd_team_agent_rm(struct cli *c)
{
	int rc;

	if ((rc = team_agent_rm(c->core.lg, c->pos[0], "user")) == 0)
		fprintf(stderr,
		    "janee: removed agent '%s'; its tokens are refused from now on\n",
		    c->pos[0]);
	return rc;
}

static int
list_one(const struct team_agent *a, void *arg)
{
	cJSON *arr = arg, *o;
	char created[JANEE_TIME_LEN], rotated[JANEE_TIME_LEN];

	janee_time_fmt(a->created_ms, created);
	if (a->rotated_ms > 0)
		janee_time_fmt(a->rotated_ms, rotated);
	if (arr == NULL) {
		printf("%-24s  %-5s  %-43s  %s%s%s\n", a->name,
		    janee_jwt_alg_name(a->alg), a->key_id, created,
		    a->rotated_ms > 0 ? "  rotated " : "",
		    a->rotated_ms > 0 ? rotated : "");
		return 0;
	}
	if ((o = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddItemToArray(arr, o) ||
	    !cJSON_AddStringToObject(o, "name", a->name) ||
	    !cJSON_AddStringToObject(o, "alg", janee_jwt_alg_name(a->alg)) ||
	    !cJSON_AddStringToObject(o, "key_id", a->key_id) ||
	    !cJSON_AddStringToObject(o, "public_key", a->public_key) ||
	    !cJSON_AddStringToObject(o, "created", created) ||
	    (a->rotated_ms > 0 &&
		!cJSON_AddStringToObject(o, "rotated", rotated)))
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	return 0;
}

int
cmd_team_agent_list(struct cli *c)
{
	cJSON *arr = NULL;
	int rc;

	if (cli_has(c, "json") && (arr = cJSON_CreateArray()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if (arr == NULL)
		printf("%-24s  %-5s  %-43s  %s\n", "NAME", "ALG", "KEY ID",
		    "REGISTERED");
	if ((rc = team_agent_each(c->core.lg, list_one, arr)) != 0) {
		cJSON_Delete(arr);
		return rc;
	}
	return arr ? cli_print_json(arr) : 0;
}
