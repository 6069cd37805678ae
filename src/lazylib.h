/*
 * Shared libraries opened on first use instead of at start.  libcurl,
 * libjwt and libsecret bring about 45 more shared objects (GLib, GnuTLS,
 * Kerberos, LDAP, ...); loading and relocating them was 95% of the
 * start-up of every janee process, while most commands (and `janee serve`
 * until its first request to a provider) need none of them.  See
 * docs/PERFORMANCE.md.
 */
#ifndef JANEE_LAZYLIB_H
#define JANEE_LAZYLIB_H

#include "common.h"

struct lazylib {
	const char *what; /* "libcurl", for messages */
	const char *const *files; /* tried in order, NULL-ended */
	const char *const *syms; /* every symbol needed, NULL-ended */
	void **addr; /* one slot per symbol */
	int state; /* 0 not tried, 1 loaded, -1 failed */
	char why[256]; /* the failure, said again on each call */
};

/*
 * Open the library (RTLD_NOW | RTLD_LOCAL) and resolve every symbol, once.
 * 0, or JANEE_ERR_UNSUPPORTED with a message naming the library and what
 * to install.  Not thread-safe: janee is single-threaded.
 */
int lazylib_load(struct lazylib *lib) JANEE_WUR;

/* libcurl through src/curl-lazy.c: 0, or the error above. */
int janee_curl_load(void) JANEE_WUR;
/* libpq through src/pq-lazy.c: 0, or the error above. */
int janee_pq_load(void) JANEE_WUR;
/* libjwt through src/jwt-lazy.c: 0, or the error above. */
int janee_jwt_load(void) JANEE_WUR;

#endif
