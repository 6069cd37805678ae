/*
 * The part of libjwt that janee uses (src/jwt.c), opened on first
 * call like libcurl (see lazylib.h and curl-lazy.c): with libjansson and
 * libb64 under it, three libraries every other command would load for
 * nothing.
 */
#include "common.h"

#include <jwt.h>

#include "lazylib.h"

enum {
	NEW,
	SET_ALG,
	ADD_GRANT,
	ADD_GRANT_INT,
	ADD_HEADER,
	ENCODE_STR,
	FREE,
	DECODE,
	GET_GRANTS_JSON,
	GET_ALG,
	NSYMS
};

static const char *const syms[] = {
	[NEW] = "jwt_new",
	[SET_ALG] = "jwt_set_alg",
	[ADD_GRANT] = "jwt_add_grant",
	[ADD_GRANT_INT] = "jwt_add_grant_int",
	[ADD_HEADER] = "jwt_add_header",
	[ENCODE_STR] = "jwt_encode_str",
	[FREE] = "jwt_free",
	[DECODE] = "jwt_decode",
	[GET_GRANTS_JSON] = "jwt_get_grants_json",
	[GET_ALG] = "jwt_get_alg",
	[NSYMS] = NULL,
};

static const char *const files[] = { JANEE_JWT_SONAME,
	JANEE_JWT_LIBDIR "/" JANEE_JWT_SONAME, NULL };

static void *addr[NSYMS];

static struct lazylib libjwt = { "libjwt", files, syms, addr, 0, "" };

#define LOADED() (lazylib_load(&libjwt) == 0)

int
janee_jwt_load(void)
{
	return lazylib_load(&libjwt);
}

int
jwt_new(jwt_t **jwt)
{
	if (!LOADED())
		return ENOSYS;
	return ((int (*)(jwt_t **))addr[NEW])(jwt);
}

int
jwt_set_alg(jwt_t *jwt, jwt_alg_t alg, const unsigned char *key, int len)
{
	if (!LOADED())
		return ENOSYS;
	return ((int (*)(jwt_t *, jwt_alg_t, const unsigned char *,
	    int))addr[SET_ALG])(jwt, alg, key, len);
}

int
jwt_add_grant(jwt_t *jwt, const char *grant, const char *val)
{
	if (!LOADED())
		return ENOSYS;
	return ((int (*)(jwt_t *, const char *, const char *))addr[ADD_GRANT])(
	    jwt, grant, val);
}

int
jwt_add_grant_int(jwt_t *jwt, const char *grant, long val)
{
	if (!LOADED())
		return ENOSYS;
	return ((int (*)(jwt_t *, const char *, long))addr[ADD_GRANT_INT])(
	    jwt, grant, val);
}

int
jwt_add_header(jwt_t *jwt, const char *header, const char *val)
{
	if (!LOADED())
		return ENOSYS;
	return ((int (*)(jwt_t *, const char *, const char *))addr[ADD_HEADER])(
	    jwt, header, val);
}

char *
jwt_encode_str(jwt_t *jwt)
{
	if (!LOADED())
		return NULL;
	return ((char *(*)(jwt_t *))addr[ENCODE_STR])(jwt);
}

void
jwt_free(jwt_t *jwt)
{
	if (LOADED())
		((void (*)(jwt_t *))addr[FREE])(jwt);
}

int
jwt_decode(jwt_t **jwt, const char *token, const unsigned char *key, int len)
{
	if (!LOADED())
		return ENOSYS;
	return ((int (*)(jwt_t **, const char *, const unsigned char *,
	    int))addr[DECODE])(jwt, token, key, len);
}

char *
jwt_get_grants_json(jwt_t *jwt, const char *grant)
{
	if (!LOADED())
		return NULL;
	return ((char *(*)(jwt_t *, const char *))addr[GET_GRANTS_JSON])(
	    jwt, grant);
}

jwt_alg_t
jwt_get_alg(jwt_t *jwt)
{
	if (!LOADED())
		return JWT_ALG_INVAL;
	return ((jwt_alg_t(*)(jwt_t *))addr[GET_ALG])(jwt);
}
