/* The janee home: location, private creation, permission checks. */
#include "common.h"

#include <fcntl.h>
#include <libgen.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"
#include "util.h"

int
home_resolve(const char *opt, struct home *h)
{
	const char *env, *base;

	memset(h, 0, sizeof(*h));
	if (opt != NULL && *opt != '\0')
		h->dir = janee_strdup(opt);
	else if ((env = getenv("JANEE_HOME")) != NULL && *env != '\0')
		h->dir = janee_strdup(env);
	else {
		if ((base = getenv("HOME")) == NULL || *base == '\0')
			return janee_err_set(JANEE_ERR_USAGE,
			    "cannot find the janee home: HOME is not set; use --home DIR or set JANEE_HOME");
		h->dir = janee_asprintf("%s/.janee", base);
	}
	if (h->dir == NULL)
		return JANEE_ERR_NOMEM;
	/* Keep paths tidy in messages: no trailing slash. */
	while (strlen(h->dir) > 1 && h->dir[strlen(h->dir) - 1] == '/')
		h->dir[strlen(h->dir) - 1] = '\0';
	h->db = janee_asprintf("%s/janee.db", h->dir);
	h->config = janee_asprintf("%s/config.json", h->dir);
	h->keyfile = janee_asprintf("%s/master.key", h->dir);
	if (h->db == NULL || h->config == NULL || h->keyfile == NULL) {
		home_free(h);
		return JANEE_ERR_NOMEM;
	}
	JANEE_FILE_HOOK(h->dir, 1);
	return 0;
}

void
home_free(struct home *h)
{
	free(h->dir);
	free(h->db);
	free(h->config);
	free(h->keyfile);
	memset(h, 0, sizeof(*h));
}

int
home_create(const struct home *h)
{
	if (mkdir(h->dir, 0700) != 0 && errno != EEXIST)
		return janee_err_set(JANEE_ERR_IO, "cannot create '%s': %s",
		    h->dir, strerror(errno));
	return path_check_private(h->dir, 1, 0);
}

int
path_check_private(const char *path, int is_dir, int may_be_absent)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT && may_be_absent)
			return 0;
		if (errno == ENOENT)
			return janee_err_set(
			    JANEE_ERR_NOT_FOUND, "'%s' does not exist", path);
		return janee_err_set(JANEE_ERR_IO, "cannot inspect '%s': %s",
		    path, strerror(errno));
	}
	if (is_dir && !S_ISDIR(st.st_mode))
		return janee_err_set(
		    JANEE_ERR_PERM, "'%s' is not a directory", path);
	if (!is_dir && !S_ISREG(st.st_mode))
		return janee_err_set(JANEE_ERR_PERM,
		    "'%s' is not a regular file (a symbolic link is refused)",
		    path);
	if (st.st_uid != geteuid())
		return janee_err_set(JANEE_ERR_PERM,
		    "'%s' is owned by uid %u, not by you (uid %u); run: chown %u '%s'",
		    path, (unsigned)st.st_uid, (unsigned)geteuid(),
		    (unsigned)geteuid(), path);
	if ((st.st_mode & 077) != 0)
		return janee_err_set(JANEE_ERR_PERM,
		    "'%s' is accessible by group or others (mode %04o); run: chmod %s '%s'",
		    path, (unsigned)(st.st_mode & 07777),
		    is_dir ? "700" : "600", path);
	return 0;
}

int
home_exists(const struct home *h)
{
	struct stat st;

	if (stat(h->dir, &st) != 0 && errno == ENOENT)
		return janee_err_set(JANEE_ERR_NOT_INIT,
		    "no janee home at '%s'; run: janee init", h->dir);
	if (stat(h->db, &st) != 0 && errno == ENOENT)
		return janee_err_set(JANEE_ERR_NOT_INIT,
		    "no ledger at '%s'; run: janee init", h->db);
	return 0;
}

int
home_check_modes(const struct home *h)
{
	static const char *const extra[] = { "-wal", "-shm", "-journal" };
	char *p;
	size_t i;
	int rc;

	if ((rc = path_check_private(h->dir, 1, 0)) != 0 ||
	    (rc = path_check_private(h->db, 0, 0)) != 0 ||
	    (rc = path_check_private(h->config, 0, 1)) != 0 ||
	    (rc = path_check_private(h->keyfile, 0, 1)) != 0)
		return rc;
	for (i = 0; i < nitems(extra); i++) {
		if ((p = janee_asprintf("%s%s", h->db, extra[i])) == NULL)
			return JANEE_ERR_NOMEM;
		rc = path_check_private(p, 0, 1);
		free(p);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
home_check(const struct home *h)
{
	int rc;

	if ((rc = home_exists(h)) != 0)
		return rc;
	return home_check_modes(h);
}

int
home_contains(const struct home *h, const char *path)
{
	char *copy, *dir, *rdir = NULL, *rhome = NULL;
	int in;

	if ((copy = janee_strdup(path)) == NULL)
		return 1; /* refuse when unsure */
	dir = dirname(copy);
	rdir = realpath(dir, NULL);
	rhome = realpath(h->dir, NULL);
	in = rdir != NULL && rhome != NULL &&
	    strncmp(rdir, rhome, strlen(rhome)) == 0 &&
	    (rdir[strlen(rhome)] == '\0' || rdir[strlen(rhome)] == '/');
	free(rdir);
	free(rhome);
	free(copy);
	return in;
}

void
process_harden(void)
{
	struct rlimit rl = { 0, 0 };

	umask(077);
	/* Secrets pass through this process: never write them to a core. */
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int
atomic_begin(const char *path, struct atomic_file *af)
{
	int fd;

	memset(af, 0, sizeof(*af));
	if ((af->tmp = janee_asprintf("%s.tmp.XXXXXX", path)) == NULL)
		return JANEE_ERR_NOMEM;
	if ((fd = mkstemp(af->tmp)) < 0) {
		free(af->tmp);
		af->tmp = NULL;
		return janee_err_set(JANEE_ERR_IO,
		    "cannot create a file next to '%s': %s", path,
		    strerror(errno));
	}
	if (fchmod(fd, 0600) != 0 || (af->fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		atomic_abort(af);
		return janee_err_set(JANEE_ERR_IO, "cannot prepare '%s': %s",
		    path, strerror(errno));
	}
	af->path = path;
	return 0;
}

int
atomic_commit(struct atomic_file *af)
{
	int rc = 0;

	if (fflush(af->fp) != 0 || ferror(af->fp) || fsync(fileno(af->fp)) != 0)
		rc = janee_err_set(JANEE_ERR_IO, "cannot write '%s': %s",
		    af->path, strerror(errno ? errno : EIO));
	if (fclose(af->fp) != 0 && rc == 0)
		rc = janee_err_set(JANEE_ERR_IO, "cannot write '%s': %s",
		    af->path, strerror(errno));
	af->fp = NULL;
	if (rc == 0 && rename(af->tmp, af->path) != 0)
		rc = janee_err_set(JANEE_ERR_IO, "cannot replace '%s': %s",
		    af->path, strerror(errno));
	if (rc != 0) {
		atomic_abort(af);
		return rc;
	}
	free(af->tmp);
	af->tmp = NULL;
	JANEE_FILE_HOOK(af->path, 0);
	return 0;
}

void
atomic_abort(struct atomic_file *af)
{
	if (af->fp != NULL)
		fclose(af->fp);
	if (af->tmp != NULL) {
		unlink(af->tmp);
		free(af->tmp);
	}
	memset(af, 0, sizeof(*af));
}

int
write_file_atomic(const char *path, const void *data, size_t len)
{
	struct atomic_file af;
	int rc;

	if ((rc = atomic_begin(path, &af)) != 0)
		return rc;
	if (len > 0 && fwrite(data, 1, len, af.fp) != len) {
		atomic_abort(&af);
		return janee_err_set(JANEE_ERR_IO, "cannot write '%s': %s",
		    path, strerror(errno));
	}
	return atomic_commit(&af);
}
