/* Error codes to text, and the kept message of the first failure. */
#include "common.h"

static const struct {
	int code;
	const char *text;
} err_table[] = {
	{ JANEE_OK, "success" },
	{ JANEE_ERR_USAGE, "usage error" },
	{ JANEE_ERR_INVALID, "invalid input" },
	{ JANEE_ERR_IO, "input/output error" },
	{ JANEE_ERR_PERM, "unsafe permissions" },
	{ JANEE_ERR_NOT_INIT, "janee home not initialised" },
	{ JANEE_ERR_EXISTS, "already exists" },
	{ JANEE_ERR_NOT_FOUND, "not found" },
	{ JANEE_ERR_DB, "ledger write or read failed" },
	{ JANEE_ERR_SCHEMA, "ledger schema not supported" },
	{ JANEE_ERR_CONFIG, "invalid configuration" },
	{ JANEE_ERR_CRYPTO, "cryptographic failure" },
	{ JANEE_ERR_BAD_KEY, "wrong passphrase or key" },
	{ JANEE_ERR_TAMPERED, "sealed data failed authentication" },
	{ JANEE_ERR_LOCKED, "secret store is locked" },
	{ JANEE_ERR_POLICY, "refused by policy" },
	{ JANEE_ERR_DENIED, "denied" },
	{ JANEE_ERR_STATE, "illegal lease state change" },
	{ JANEE_ERR_PENDING, "waiting for approval" },
	{ JANEE_ERR_PROVIDER, "provider failure" },
	{ JANEE_ERR_UNSUPPORTED, "not supported by this provider" },
	{ JANEE_ERR_NETWORK, "network failure" },
	{ JANEE_ERR_NOMEM, "out of memory" },
	{ JANEE_ERR_INTERNAL, "internal error" },
};

/*
 * The kept message is as long as it needs to be: a message cut off
 * mid-word helps nobody.  The fixed buffer is the fallback when memory
 * for a longer one cannot be had.
 */
static _Thread_local char err_short[1024];
static _Thread_local char *err_long;
static _Thread_local int err_isset;

const char *
janee_strerror(int code)
{
	size_t i;

	for (i = 0; i < nitems(err_table); i++)
		if (err_table[i].code == code)
			return err_table[i].text;
	return "unknown error";
}

int
janee_err_set(int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err_isset)
		return code;
	va_start(ap, fmt);
	n = vsnprintf(err_short, sizeof(err_short), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(err_short) &&
	    (err_long = malloc((size_t)n + 1)) != NULL) {
		va_start(ap, fmt);
		vsnprintf(err_long, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	err_isset = 1;
	return code;
}

int
janee_err_wrap(int code, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;

	/* Formatted aside first: the arguments may point into the kept one. */
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return code; /* no memory: the message as it was will do */
	free(err_long);
	err_long = NULL;
	if ((size_t)n < sizeof(err_short)) {
		memcpy(err_short, msg, (size_t)n + 1);
		free(msg);
	} else
		err_long = msg;
	err_isset = 1;
	return code;
}

const char *
janee_err_msg(int code)
{
	if (err_isset)
		return err_long != NULL ? err_long : err_short;
	return janee_strerror(code);
}

int
janee_err_pending(void)
{
	return err_isset;
}

void
janee_err_clear(void)
{
	err_isset = 0;
	err_short[0] = '\0';
	free(err_long);
	err_long = NULL;
}
