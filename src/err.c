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

static _Thread_local char err_msg[1024];
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

	if (err_isset)
		return code;
	va_start(ap, fmt);
	vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
	va_end(ap);
	err_isset = 1;
	return code;
}

int
janee_err_wrap(int code, const char *fmt, ...)
{
	char tmp[sizeof(err_msg)];
	va_list ap;

	/* Formatted aside first: the arguments may point into err_msg. */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(err_msg, tmp, sizeof(err_msg));
	err_isset = 1;
	return code;
}

const char *
janee_err_msg(int code)
{
	if (err_isset)
		return err_msg;
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
	err_msg[0] = '\0';
}
