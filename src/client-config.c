/*
 * MCP clients' configuration files (client-config.h).  Where each client
 * keeps its user-level file on Linux, from each client's documentation:
 * Claude Desktop $XDG_CONFIG_HOME/Claude/claude_desktop_config.json,
 * Cursor ~/.cursor/mcp.json, VS Code's user profile
 * $XDG_CONFIG_HOME/Code/User/mcp.json (a top-level "servers" object, each
 * entry with its "type"), Claude Code's user scope ~/.claude.json (the
 * top-level "mcpServers"; its "projects" hold the local scope).
 */
#include "common.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "client-config.h"
#include "home.h"
#include "util.h"

#define CONFIG_MAX (4 << 20)
#define DIFF_CONTEXT 3

const struct client_kind client_kinds[] = {
	{ "claude", "Claude Desktop", "mcpServers", 0 },
	{ "cursor", "Cursor", "mcpServers", 0 },
	{ "vscode", "VS Code", "servers", 1 },
	{ "claude-code", "Claude Code", "mcpServers", 1 },
	{ NULL, NULL, NULL, 0 },
};

const struct client_kind *
client_kind_find(const char *name)
{
	const struct client_kind *k;

	for (k = client_kinds; name != NULL && k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

const char *
client_kind_names(void)
{
	return "claude, cursor, vscode or claude-code";
}

char *
client_kind_path(const struct client_kind *k)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	char *conf, *p = NULL;

	if (home == NULL || *home != '/') {
		janee_err_set(JANEE_ERR_INVALID,
		    "HOME is not set to an absolute path, so %s's configuration cannot be found; set HOME",
		    k->label);
		return NULL;
	}
	/* XDG Base Directory: a relative XDG_CONFIG_HOME is ignored. */
	conf = xdg != NULL && *xdg == '/' ? janee_strdup(xdg)
					  : janee_asprintf("%s/.config", home);
	if (conf == NULL)
		return NULL;
	if (strcmp(k->name, "claude") == 0)
		p = janee_asprintf(
		    "%s/Claude/claude_desktop_config.json", conf);
	else if (strcmp(k->name, "cursor") == 0)
		p = janee_asprintf("%s/.cursor/mcp.json", home);
	else if (strcmp(k->name, "vscode") == 0)
		p = janee_asprintf("%s/Code/User/mcp.json", conf);
	else if (strcmp(k->name, "claude-code") == 0)
		p = janee_asprintf("%s/.claude.json", home);
	free(conf);
	return p;
}

/* --- reading ----------------------------------------------------------- */

/* The indentation the file uses, so that a rewrite keeps its look. */
static void
find_indent(struct client_config *cc)
{
	const char *p = cc->text, *nl;
	size_t n;

	snprintf(cc->indent, sizeof(cc->indent), "  ");
	while ((nl = strchr(p, '\n')) != NULL) {
		p = nl + 1;
		if (*p == '\t') {
			snprintf(cc->indent, sizeof(cc->indent), "\t");
			return;
		}
		n = strspn(p, " ");
		if (n > 0 && n < sizeof(cc->indent) && p[n] != '\n') {
			snprintf(
			    cc->indent, sizeof(cc->indent), "%*s", (int)n, "");
			return;
		}
	}
}

static int
read_text(struct client_config *cc)
{
	struct stat st;
	struct buf b;
	FILE *fp;
	int rc;

	if (stat(cc->real, &st) != 0 || !S_ISREG(st.st_mode))
		return janee_err_set(
		    JANEE_ERR_INVALID, "'%s' is not a regular file", cc->path);
	cc->mode = st.st_mode & 07777;
	if ((fp = fopen(cc->real, "re")) == NULL)
		return janee_err_set(JANEE_ERR_IO, "cannot open '%s': %s",
		    cc->path, strerror(errno));
	buf_init(&b, CONFIG_MAX);
	rc = buf_read_fd(&b, fileno(fp));
	fclose(fp);
	if (rc != 0)
		return rc;
	if (b.p == NULL && (rc = buf_add(&b, "", 0)) != 0)
		return rc;
	cc->text = b.p;
	cc->len = b.len;
	return 0;
}

int
client_config_read(
    struct client_config *cc, const char *path, int may_be_missing)
{
	int rc;

	memset(cc, 0, sizeof(*cc));
	cc->path = path;
	if ((cc->real = realpath(path, NULL)) == NULL) {
		if (errno != ENOENT || !may_be_missing)
			return janee_err_set(JANEE_ERR_NOT_FOUND,
			    "cannot open '%s': %s", path, strerror(errno));
		/* A new file: {} to start from, private until told. */
		if ((cc->real = janee_strdup(path)) == NULL ||
		    (cc->text = janee_strdup("{}\n")) == NULL ||
		    (cc->root = cJSON_CreateObject()) == NULL)
			return JANEE_ERR_NOMEM;
		cc->len = 3;
		cc->mode = 0600;
		snprintf(cc->indent, sizeof(cc->indent), "  ");
		return 0;
	}
	cc->exists = 1;
	if ((rc = read_text(cc)) != 0)
		return rc;
	find_indent(cc);
	/* An empty file, as some clients create, is an empty object. */
	if (cc->text[strspn(cc->text, " \t\r\n")] == '\0') {
		cc->root = cJSON_CreateObject();
		return cc->root ? 0 : JANEE_ERR_NOMEM;
	}
	if ((cc->root = cJSON_ParseWithLength(cc->text, cc->len)) == NULL ||
	    !cJSON_IsObject(cc->root))
		return janee_err_set(JANEE_ERR_INVALID,
		    "'%s' is not a JSON object (comments and trailing commas, which VS Code allows, are not supported: remove them and run again)",
		    path);
	return 0;
}

void
client_config_free(struct client_config *cc)
{
	cJSON_Delete(cc->root);
	if (cc->text != NULL)
		janee_freezero(cc->text, cc->len);
	free(cc->real);
	memset(cc, 0, sizeof(*cc));
}

cJSON *
client_config_servers(cJSON *root)
{
	cJSON *s, *mcp;

	if ((s = cJSON_GetObjectItemCaseSensitive(root, "mcpServers")) ==
		NULL &&
	    (s = cJSON_GetObjectItemCaseSensitive(root, "servers")) == NULL &&
	    (mcp = cJSON_GetObjectItemCaseSensitive(root, "mcp")) != NULL)
		s = cJSON_GetObjectItemCaseSensitive(mcp, "servers");
	return s;
}

/*
 * Print with the file's indentation: cJSON indents with tabs and puts a
 * tab after ':'; raw tabs never occur inside JSON strings (they are
 * escaped), so both can be replaced safely.
 */
char *
client_config_print(const struct client_config *cc, const cJSON *root)
{
	char *raw = cJSON_Print(root), *p;
	struct buf b;
	int bol = 1;

	if (raw == NULL)
		return NULL;
	buf_init(&b, 4 * (size_t)CONFIG_MAX);
	for (p = raw; *p != '\0'; p++) {
		int rc;

		if (*p == '\t' && bol)
			rc = buf_addstr(&b, cc->indent);
		else if (*p == '\t' && p > raw && p[-1] == ':')
			rc = buf_addstr(&b, " ");
		else {
			bol = *p == '\n';
			rc = buf_add(&b, p, 1);
		}
		if (rc != 0) {
			cJSON_free(raw);
			return NULL;
		}
	}
	cJSON_free(raw);
	if (buf_add(&b, "\n", 1) != 0)
		return NULL;
	return b.p;
}

/* --- the diff ---------------------------------------------------------- */

struct lines {
	char **v;
	size_t n;
};

static int
split_lines(char *text, struct lines *l)
{
	size_t cap = 64;
	char *p, *nl;

	l->n = 0;
	if ((l->v = malloc(cap * sizeof(*l->v))) == NULL)
		return JANEE_ERR_NOMEM;
	for (p = text; *p != '\0'; p = nl + 1) {
		if (l->n == cap) {
			char **nv = realloc(l->v, 2 * cap * sizeof(*nv));

			if (nv == NULL)
				return JANEE_ERR_NOMEM;
			l->v = nv;
			cap *= 2;
		}
		l->v[l->n++] = p;
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
	}
	return 0;
}

/* A unified diff (longest common subsequence of lines). */
int
client_config_diff(
    const char *name, const char *after, char *a_text, char *b_text)
{
	struct lines a, b;
	unsigned *lcs = NULL;
	size_t i, j, n, m, w, k, nops = 0, start, end, h;
	char *ops = NULL; /* ' ', '-', '+' */
	size_t *ia = NULL, *ib = NULL;
	int rc = 0;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if ((rc = split_lines(a_text, &a)) != 0 ||
	    (rc = split_lines(b_text, &b)) != 0)
		goto out;
	n = a.n;
	m = b.n;
	w = m + 1;
	if ((n + 1) * w > 50u * 1000 * 1000) {
		rc = janee_err_set(JANEE_ERR_INVALID,
		    "'%s' is too large to show a diff of", name);
		goto out;
	}
	if ((lcs = calloc((n + 1) * w, sizeof(*lcs))) == NULL ||
	    (ops = malloc(n + m + 1)) == NULL ||
	    (ia = malloc((n + m + 1) * sizeof(*ia))) == NULL ||
	    (ib = malloc((n + m + 1) * sizeof(*ib))) == NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	for (i = n; i-- > 0;)
		for (j = m; j-- > 0;)
			lcs[i * w + j] = strcmp(a.v[i], b.v[j]) == 0
			    ? lcs[(i + 1) * w + j + 1] + 1
			    : (lcs[(i + 1) * w + j] > lcs[i * w + j + 1]
				      ? lcs[(i + 1) * w + j]
				      : lcs[i * w + j + 1]);
	for (i = 0, j = 0; i < n || j < m;) {
		ia[nops] = i;
		ib[nops] = j;
		if (i < n && j < m && strcmp(a.v[i], b.v[j]) == 0) {
			ops[nops++] = ' ';
			i++;
			j++;
		} else if (i < n &&
		    (j == m || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
			ops[nops++] = '-'; /* removals first, as diff(1) does */
			i++;
		} else {
			ops[nops++] = '+';
			j++;
		}
	}
	printf("--- %s\n+++ %s (after %s)\n", name, name, after);
	for (k = 0; k < nops;) {
		if (ops[k] == ' ') {
			k++;
			continue;
		}
		/* A hunk: this change, the ones near it, and context. */
		start = k > DIFF_CONTEXT ? k - DIFF_CONTEXT : 0;
		for (end = k; end < nops; end++) {
			if (ops[end] != ' ')
				continue;
			for (h = end; h < nops && ops[h] == ' '; h++)
				;
			if (h == nops || h - end > 2 * DIFF_CONTEXT)
				break;
			end = h - 1;
		}
		if (end + DIFF_CONTEXT < nops)
			end += DIFF_CONTEXT;
		else
			end = nops;
		{
			size_t la = 0, lb = 0;

			for (h = start; h < end; h++) {
				la += ops[h] != '+';
				lb += ops[h] != '-';
			}
			printf("@@ -%zu,%zu +%zu,%zu @@\n", ia[start] + 1, la,
			    ib[start] + 1, lb);
		}
		for (h = start; h < end; h++)
			printf("%c%s\n", ops[h],
			    ops[h] == '+' ? b.v[ib[h]] : a.v[ia[h]]);
		k = end;
	}
out:
	free(lcs);
	free(ops);
	free(ia);
	free(ib);
	free(a.v);
	free(b.v);
	return rc;
}

/* --- writing ----------------------------------------------------------- */

int
client_config_self(const char *opt, char *out, size_t n)
{
	ssize_t len;

	if (opt != NULL) {
		snprintf(out, n, "%s", opt);
		return 0;
	}
	if ((len = readlink("/proc/self/exe", out, n - 1)) < 0)
		return janee_err_set(JANEE_ERR_IO,
		    "cannot find janee's own path: %s", strerror(errno));
	out[len] = '\0';
	return 0;
}

int
client_config_backup(const struct client_config *cc, char **bpath)
{
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	int n;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (n = 1; n < 100; n++) {
		free(*bpath);
		*bpath = n == 1
		    ? janee_asprintf("%s.janee-backup-%s", cc->real, stamp)
		    : janee_asprintf(
			  "%s.janee-backup-%s-%d", cc->real, stamp, n);
		if (*bpath == NULL)
			return JANEE_ERR_NOMEM;
		if (access(*bpath, F_OK) != 0)
			break;
	}
	/* 0600: the file may hold plaintext secrets. */
	return write_file_atomic(*bpath, cc->text, cc->len);
}

/* The directories of a new file, as the client would create them. */
static int
make_parents(const char *path)
{
	char *d = janee_strdup(path), *p;
	int rc = 0;

	if (d == NULL)
		return JANEE_ERR_NOMEM;
	for (p = d + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(d, 0700) != 0 && errno != EEXIST) {
			rc = janee_err_set(JANEE_ERR_IO,
			    "cannot create the directory '%s': %s", d,
			    strerror(errno));
			break;
		}
		*p = '/';
	}
	free(d);
	return rc;
}

int
client_config_write(struct client_config *cc, const char *text, mode_t mode)
{
	struct atomic_file af;
	size_t len = strlen(text);
	int rc;

	if (!cc->exists && (rc = make_parents(cc->real)) != 0)
		return rc;
	if ((rc = atomic_begin(cc->real, &af)) != 0)
		return rc;
	if (fwrite(text, 1, len, af.fp) != len ||
	    fchmod(fileno(af.fp), mode) != 0) {
		atomic_abort(&af);
		return janee_err_set(JANEE_ERR_IO, "cannot write '%s': %s",
		    cc->path, strerror(errno));
	}
	return atomic_commit(&af);
}
