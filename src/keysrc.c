/* Passphrases: from a descriptor, the environment, or the terminal. */
#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include "buf.h"
#include "keysrc.h"
#include "util.h"

#define PASSPHRASE_MAX 1024
#define PASSPHRASE_MIN 8

/* Strip one trailing "\n" (or "\r\n"), as `echo pw |` adds one. */
static void
chomp(struct buf *b)
{
	if (b->len > 0 && b->p[b->len - 1] == '\n') {
		b->p[--b->len] = '\0';
		if (b->len > 0 && b->p[b->len - 1] == '\r')
			b->p[--b->len] = '\0';
	}
}

static int
to_secret(struct buf *b, const char *from, struct janee_secret **out)
{
	chomp(b);
	if (b->len == 0) {
		buf_free(b);
		return janee_err_set(
		    JANEE_ERR_USAGE, "the passphrase from %s is empty", from);
	}
	*out = janee_secret_new(b->p, b->len);
	buf_free(b);
	return *out ? 0 : JANEE_ERR_NOMEM;
}

/* Read one line (up to EOF or newline) from fd without buffering past it. */
static int
read_fd_line(int fd, struct buf *b, size_t max)
{
	char c;
	ssize_t n;
	int rc;

	buf_init(b, max);
	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			return janee_err_set(JANEE_ERR_USAGE, "cancelled");
		if (n < 0) {
			buf_free(b);
			return janee_err_set(JANEE_ERR_IO,
			    "cannot read the passphrase: %s", strerror(errno));
		}
		if (n == 0 || c == '\n')
			break;
		if ((rc = buf_add(b, &c, 1)) != 0)
			return janee_err_set(rc,
			    "the passphrase is longer than %d bytes",
			    PASSPHRASE_MAX);
	}
	c = 0;
	return buf_add(b, "", 0);
}

static void
on_signal(int sig)
{
	(void)sig; /* only interrupts read(2) */
}

int
tty_read_hidden(const char *prompt, int to_eof, size_t max, struct buf *b)
{
	struct sigaction sa, old_int, old_term;
	struct termios t, saved;
	int fd, rc;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0)
		return JANEE_ERR_LOCKED;
	if (tcgetattr(fd, &saved) != 0) {
		close(fd);
		return JANEE_ERR_LOCKED;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: read sees EINTR */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	t = saved;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	t.c_lflag |= ICANON;
	buf_init(b, max);
	if (write(fd, prompt, strlen(prompt)) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &t) != 0)
		rc = janee_err_set(JANEE_ERR_IO, "cannot use the terminal");
	else if (to_eof)
		rc = buf_read_fd(b, fd);
	else
		rc = read_fd_line(fd, b, max);
	/* Restore echo whatever happened, Ctrl-C included. */
	tcsetattr(fd, TCSAFLUSH, &saved);
	if (write(fd, "\n", 1) < 0)
		(void)0;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	close(fd);
	if (rc == JANEE_ERR_IO && errno == EINTR)
		rc = janee_err_set(JANEE_ERR_USAGE, "cancelled");
	return rc;
}

static int
tty_ask(const char *prompt, struct janee_secret **out)
{
	struct buf b;
	int rc;

	if ((rc = tty_read_hidden(prompt, 0, PASSPHRASE_MAX, &b)) != 0)
		return rc;
	return to_secret(&b, "the terminal", out);
}

int
keysrc_quiet(const struct keysrc *ks)
{
	const char *env = getenv("JANEE_PASSPHRASE");

	return ks->fd >= 0 || (env != NULL && *env != '\0');
}

static int
from_fd(int fd, struct janee_secret **out)
{
	struct buf b;
	int rc;

	if ((rc = read_fd_line(fd, &b, PASSPHRASE_MAX)) != 0)
		return rc;
	return to_secret(&b, "the passphrase descriptor", out);
}

static int
from_env(const char *var, struct janee_secret **out)
{
	const char *env = getenv(var);

	if (env == NULL || *env == '\0')
		return JANEE_ERR_NOT_FOUND;
	*out = janee_secret_new(env, strlen(env));
	return *out ? 0 : JANEE_ERR_NOMEM;
}

int
keysrc_get(struct keysrc *ks, const char *prompt, struct janee_secret **out)
{
	int rc;

	*out = NULL;
	if (ks->fd >= 0) {
		rc = from_fd(ks->fd, out);
		/* A descriptor can be read once: keep the answer's absence. */
		ks->fd = -1;
		return rc;
	}
	if ((rc = from_env("JANEE_PASSPHRASE", out)) != JANEE_ERR_NOT_FOUND)
		return rc;
	if (ks->may_prompt && (rc = tty_ask(prompt, out)) != JANEE_ERR_LOCKED)
		return rc;
	return janee_err_set(JANEE_ERR_LOCKED,
	    "the secret store is locked and no passphrase was given; run in a terminal, pass --passphrase-fd N, or set JANEE_PASSPHRASE");
}

static int
check_new(struct janee_secret **out)
{
	if ((*out)->len < PASSPHRASE_MIN) {
		janee_secret_free(*out);
		*out = NULL;
		return janee_err_set(JANEE_ERR_USAGE,
		    "the new passphrase is shorter than %d bytes; choose a longer one",
		    PASSPHRASE_MIN);
	}
	return 0;
}

int
keysrc_get_new(struct keysrc *ks, int for_init, struct janee_secret **out)
{
	struct janee_secret *again = NULL;
	int rc;

	*out = NULL;
	if (ks->new_fd >= 0) {
		rc = from_fd(ks->new_fd, out);
		ks->new_fd = -1;
		return rc ? rc : check_new(out);
	}
	if ((rc = from_env("JANEE_NEW_PASSPHRASE", out)) != JANEE_ERR_NOT_FOUND)
		return rc ? rc : check_new(out);
	if (for_init && (ks->fd >= 0 || getenv("JANEE_PASSPHRASE") != NULL)) {
		if ((rc = keysrc_get(ks, "", out)) != 0)
			return rc;
		return check_new(out);
	}
	if (!ks->may_prompt)
		return janee_err_set(JANEE_ERR_USAGE,
		    "no new passphrase given; run in a terminal, pass --new-passphrase-fd N, or set JANEE_NEW_PASSPHRASE");
	if ((rc = tty_ask("New passphrase: ", out)) != 0 ||
	    (rc = check_new(out)) != 0 ||
	    (rc = tty_ask("Repeat passphrase: ", &again)) != 0)
		goto fail;
	if ((*out)->len != again->len ||
	    janee_ct_cmp((*out)->data, again->data, again->len) != 0) {
		rc = janee_err_set(JANEE_ERR_USAGE,
		    "the passphrases do not match; nothing was changed");
		goto fail;
	}
	janee_secret_free(again);
	return 0;
fail:
	if (rc == JANEE_ERR_LOCKED)
		rc = janee_err_set(JANEE_ERR_USAGE,
		    "no terminal to ask for a new passphrase; pass --new-passphrase-fd N or set JANEE_NEW_PASSPHRASE");
	janee_secret_free(again);
	janee_secret_free(*out);
	*out = NULL;
	return rc;
}
