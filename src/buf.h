/*
 * A bounded, growable byte buffer (after curl's dynbuf and OpenSSH's
 * sshbuf).  Growth copies and wipes the old storage, a failed append frees
 * everything, and buf_free wipes: a buf may hold a secret.
 */
#ifndef JANEE_BUF_H
#define JANEE_BUF_H

#include "common.h"

struct buf {
	char *p; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max; /* appends past this fail */
};

void buf_init(struct buf *b, size_t max);
int buf_add(struct buf *b, const void *p, size_t n) JANEE_WUR;
int buf_addstr(struct buf *b, const char *s) JANEE_WUR;
int buf_printf(struct buf *b, const char *fmt, ...) JANEE_WUR
    __attribute__((format(printf, 2, 3)));
/* Read fd to EOF into b; the bound still applies. */
int buf_read_fd(struct buf *b, int fd) JANEE_WUR;
void buf_reset(struct buf *b); /* wipe contents, keep storage */
void buf_free(struct buf *b); /* wipe and free */

#endif
