/*
 * janee error codes.
 *
 * Fallible functions return int: 0 on success, a negative JANEE_ERR_* on
 * failure.  Codes are grouped by kind so that callers (the CLI's exit
 * status, later the MCP layer's JSON-RPC mapping) can act on the kind
 * without knowing every code.  The human-readable message of the first
 * failure is kept separately (janee_err_set) and never holds a secret.
 */
#ifndef JANEE_ERROR_H
#define JANEE_ERROR_H

enum janee_err {
	JANEE_OK = 0,

	/* usage: the caller asked for something malformed */
	JANEE_ERR_USAGE = -1,
	JANEE_ERR_INVALID = -2,

	/* state on disk */
	JANEE_ERR_IO = -10,
	JANEE_ERR_PERM = -11, /* unsafe permissions or owner */
	JANEE_ERR_NOT_INIT = -12, /* no janee home here yet */
	JANEE_ERR_EXISTS = -13,
	JANEE_ERR_NOT_FOUND = -14,
	JANEE_ERR_DB = -15, /* SQLite refused: full, read-only, locked */
	JANEE_ERR_SCHEMA = -16, /* database from a newer janee */
	JANEE_ERR_CONFIG = -17,

	/* keys and sealing */
	JANEE_ERR_CRYPTO = -20,
	JANEE_ERR_BAD_KEY = -21, /* wrong passphrase or key file */
	JANEE_ERR_TAMPERED = -22, /* authentication tag did not verify */
	JANEE_ERR_LOCKED = -23, /* no key available without asking */

	/* policy and lease state */
	JANEE_ERR_POLICY = -30,
	JANEE_ERR_DENIED = -31,
	JANEE_ERR_STATE = -32, /* illegal lease transition */
	JANEE_ERR_PENDING = -33, /* waits for a person's approval */

	/* providers */
	JANEE_ERR_PROVIDER = -40,
	JANEE_ERR_UNSUPPORTED = -41, /* "not supported" is not a failure */
	JANEE_ERR_NETWORK = -42,

	/* internal */
	JANEE_ERR_NOMEM = -60,
	JANEE_ERR_INTERNAL = -61,
};

/* The fixed text for a code ("permission denied", ...); never NULL. */
const char *janee_strerror(int code);

/*
 * Record a message for the failure being returned and return code, so
 * that `return janee_err_set(JANEE_ERR_IO, "cannot open '%s'", p);` works.
 * The first message since the last janee_err_clear() wins: an outer
 * caller's vaguer message does not replace the inner, precise one.
 */
int janee_err_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Add context to the failure being returned: the kept message becomes
 * fmt's text, which quotes the message being wrapped through
 * janee_err_msg(rc) among its arguments, e.g.
 *   return janee_err_wrap(JANEE_ERR_CONFIG, "%s: key '%s': %s", where,
 *       key, janee_err_msg(rc));
 * Unlike janee_err_set it replaces a kept message (the arguments may
 * point into it).  It is the one way janee adds context to an error.
 */
int janee_err_wrap(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The kept message, or janee_strerror(code) when none was set. */
const char *janee_err_msg(int code);
/* Whether a message is kept. */
int janee_err_pending(void);

void janee_err_clear(void);

#endif
