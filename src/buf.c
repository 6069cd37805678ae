/* A bounded, growable byte buffer that wipes what it held. */
#include "common.h"

#include <unistd.h>

#include "buf.h"
#include "util.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

static int
buf_grow(struct buf *b, size_t need)
{
	size_t ncap;
	char *np;

	if (need > b->max || need + 1 < need) {
		buf_free(b);
		return janee_err_set(
		    JANEE_ERR_INVALID, "input longer than %zu bytes", b->max);
	}
	if (need + 1 <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need + 1)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	/* Not realloc: the old block may hold a secret and must be wiped. */
	if ((np = malloc(ncap)) == NULL) {
		buf_free(b);
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	}
	if (b->p != NULL) {
		memcpy(np, b->p, b->len + 1);
		janee_freezero(b->p, b->cap);
	}
	b->p = np;
	b->cap = ncap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	int rc;

	if ((rc = buf_grow(b, b->len + n)) != 0)
		return rc;
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return janee_err_set(JANEE_ERR_INTERNAL, "bad format");
	if ((rc = buf_grow(b, b->len + (size_t)n)) != 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_read_fd(struct buf *b, int fd)
{
	char tmp[4096];
	ssize_t n;
	int rc = 0;

	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = janee_err_set(
			    JANEE_ERR_IO, "read failed: %s", strerror(errno));
			buf_free(b);
			break;
		}
		if ((rc = buf_add(b, tmp, (size_t)n)) != 0)
			break;
	}
	janee_wipe(tmp, sizeof(tmp));
	if (rc == 0 && b->p == NULL)
		rc = buf_add(b, "", 0);
	return rc;
}

void
buf_reset(struct buf *b)
{
	if (b->p != NULL) {
		janee_wipe(b->p, b->cap);
		b->p[0] = '\0';
	}
	b->len = 0;
}

void
buf_free(struct buf *b)
{
	size_t max = b->max;

	janee_freezero(b->p, b->cap);
	memset(b, 0, sizeof(*b));
	b->max = max;
}
