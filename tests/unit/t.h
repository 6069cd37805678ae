/*
 * A tiny assertion helper for unit tests.  Each test case prints
 * "ok - NAME" or "not ok - NAME" (TAP-like); tests/run.sh counts them.
 * Failed assertions print where and what on stderr and the case goes on,
 * so one run shows every broken assertion.
 */
#ifndef JANEE_T_H
#define JANEE_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ftw.h>
#include <sys/stat.h>

static int t_passed, t_failed, t_case_failed;

#define T_ASSERT(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "  %s:%d: assertion failed: %s\n", \
			    __FILE__, __LINE__, #cond); \
			t_case_failed = 1; \
		} \
	} while (0)

#define T_EQ_INT(a, b) \
	do { \
		long long t_a = (long long)(a), t_b = (long long)(b); \
		if (t_a != t_b) { \
			fprintf(stderr, \
			    "  %s:%d: %s == %lld, expected %s == " \
			    "%lld\n", \
			    __FILE__, __LINE__, #a, t_a, #b, t_b); \
			t_case_failed = 1; \
		} \
	} while (0)

#define T_EQ_STR(a, b) \
	do { \
		const char *t_a = (a), *t_b = (b); \
		if (t_a == NULL || t_b == NULL || strcmp(t_a, t_b) != 0) { \
			fprintf(stderr, \
			    "  %s:%d: %s is \"%s\", expected \"%s\"\n", \
			    __FILE__, __LINE__, #a, t_a ? t_a : "(null)", \
			    t_b ? t_b : "(null)"); \
			t_case_failed = 1; \
		} \
	} while (0)

#define T_RUN(fn) t_run(#fn, fn)

static __attribute__((unused)) void
t_run(const char *name, void (*fn)(void))
{
	t_case_failed = 0;
	fn();
	if (t_case_failed) {
		printf("not ok - %s\n", name);
		t_failed++;
	} else {
		printf("ok - %s\n", name);
		t_passed++;
	}
	fflush(stdout);
}

/* Scratch directories made by t_tmpdir, removed by t_done on success. */
static char *t_dirs[256];
static int t_ndirs;

static int
t_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/*
 * The exit status for main.  When every case passed the scratch
 * directories go; after a failure they stay, so it can be inspected.
 */
static __attribute__((unused)) int
t_done(void)
{
	int i;

	for (i = 0; i < t_ndirs; i++) {
		if (t_failed == 0)
			nftw(t_dirs[i], t_rm, 16, FTW_DEPTH | FTW_PHYS);
		else
			fprintf(stderr, "  kept %s\n", t_dirs[i]);
		free(t_dirs[i]);
	}
	return t_failed ? 1 : 0;
}

/* A fresh private directory under $TMPDIR (or /tmp). */
static __attribute__((unused)) char *
t_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;
	size_t n;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	n = strlen(base) + 32;
	if ((p = malloc(n)) == NULL)
		abort();
	snprintf(p, n, "%s/janee-unit.XXXXXX", base);
	if (mkdtemp(p) == NULL)
		abort();
	if (t_ndirs < (int)(sizeof(t_dirs) / sizeof(t_dirs[0])))
		t_dirs[t_ndirs++] = strdup(p);
	return p;
}

#endif
