/*
 * The part of libcurl's API that janee uses, opened on first call (see
 * lazylib.h for why).  Each function has libcurl's own name and
 * signature, so the callers read as plain libcurl; janee is not linked
 * with -lcurl, so these are the only definitions it sees.  libcurl's own
 * calls inside itself never reach here: the program exports none of
 * these names.
 */
#include "common.h"

#include <stdarg.h>

/* The type-checking macros would rename the definitions below. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "lazylib.h"

/* curl_url_get's handle became const in later libcurl (configure). */
#ifndef JANEE_CURLU_CONST
#define JANEE_CURLU_CONST
#endif

enum {
	GLOBAL_INIT,
	EASY_INIT,
	EASY_SETOPT,
	EASY_PERFORM,
	EASY_GETINFO,
	EASY_RESET,
	EASY_CLEANUP,
	EASY_STRERROR,
	EASY_HEADER,
	EASY_ESCAPE,
	EASY_UNESCAPE,
	GETDATE,
	SLIST_APPEND,
	SLIST_FREE_ALL,
	FREE,
	URL,
	URL_SET,
	URL_GET,
	URL_CLEANUP,
	NSYMS
};

static const char *const syms[] = {
	[GLOBAL_INIT] = "curl_global_init",
	[EASY_INIT] = "curl_easy_init",
	[EASY_SETOPT] = "curl_easy_setopt",
	[EASY_PERFORM] = "curl_easy_perform",
	[EASY_GETINFO] = "curl_easy_getinfo",
	[EASY_RESET] = "curl_easy_reset",
	[EASY_CLEANUP] = "curl_easy_cleanup",
	[EASY_STRERROR] = "curl_easy_strerror",
	[EASY_HEADER] = "curl_easy_header",
	[EASY_ESCAPE] = "curl_easy_escape",
	[EASY_UNESCAPE] = "curl_easy_unescape",
	[GETDATE] = "curl_getdate",
	[SLIST_APPEND] = "curl_slist_append",
	[SLIST_FREE_ALL] = "curl_slist_free_all",
	[FREE] = "curl_free",
	[URL] = "curl_url",
	[URL_SET] = "curl_url_set",
	[URL_GET] = "curl_url_get",
	[URL_CLEANUP] = "curl_url_cleanup",
	[NSYMS] = NULL,
};

static const char *const files[] = { JANEE_CURL_SONAME,
	JANEE_CURL_LIBDIR "/" JANEE_CURL_SONAME, NULL };

static void *addr[NSYMS];

static struct lazylib libcurl = { "libcurl", files, syms, addr, 0, "" };

int
janee_curl_load(void)
{
	return lazylib_load(&libcurl);
}

/* Every entry below needs the library; the first call opens it. */
#define LOADED() (janee_curl_load() == 0)

CURLcode
curl_global_init(long flags)
{
	if (!LOADED())
		return CURLE_FAILED_INIT;
	return ((CURLcode(*)(long))addr[GLOBAL_INIT])(flags);
}

CURL *
curl_easy_init(void)
{
	if (!LOADED())
		return NULL;
	return ((CURL * (*)(void)) addr[EASY_INIT])();
}

/*
 * The one argument after the option has the type its number says (the
 * CURLOPTTYPE_ ranges), exactly as libcurl itself reads it.
 */
CURLcode
curl_easy_setopt(CURL *e, CURLoption opt, ...)
{
	CURLcode (*f)(CURL *, CURLoption, ...);
	CURLcode rc;
	va_list ap;

	if (!LOADED())
		return CURLE_FAILED_INIT;
	f = (CURLcode(*)(CURL *, CURLoption, ...))addr[EASY_SETOPT];
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = f(e, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
		rc = f(e, opt, va_arg(ap, void *));
	else if (opt < CURLOPTTYPE_OFF_T)
		rc = f(e, opt, va_arg(ap, void (*)(void)));
	else if (opt < CURLOPTTYPE_BLOB)
		rc = f(e, opt, va_arg(ap, curl_off_t));
	else
		rc = f(e, opt, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode
curl_easy_perform(CURL *e)
{
	if (!LOADED())
		return CURLE_FAILED_INIT;
	return ((CURLcode(*)(CURL *))addr[EASY_PERFORM])(e);
}

/* Every kind of information is returned through one pointer. */
CURLcode
curl_easy_getinfo(CURL *e, CURLINFO info, ...)
{
	CURLcode rc;
	va_list ap;

	if (!LOADED())
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	rc = ((CURLcode(*)(CURL *, CURLINFO, ...))addr[EASY_GETINFO])(
	    e, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

void
curl_easy_reset(CURL *e)
{
	if (LOADED())
		((void (*)(CURL *))addr[EASY_RESET])(e);
}

void
curl_easy_cleanup(CURL *e)
{
	if (LOADED())
		((void (*)(CURL *))addr[EASY_CLEANUP])(e);
}

const char *
curl_easy_strerror(CURLcode rc)
{
	if (!LOADED())
		return "libcurl could not be loaded";
	return ((const char *(*)(CURLcode))addr[EASY_STRERROR])(rc);
}

CURLHcode
curl_easy_header(CURL *e, const char *name, size_t index, unsigned int origin,
    int request, struct curl_header **hout)
{
	if (!LOADED())
		return CURLHE_NOT_BUILT_IN;
	return ((CURLHcode(*)(CURL *, const char *, size_t, unsigned int, int,
	    struct curl_header **))addr[EASY_HEADER])(
	    e, name, index, origin, request, hout);
}

char *
curl_easy_escape(CURL *e, const char *s, int len)
{
	if (!LOADED())
		return NULL;
	return ((char *(*)(CURL *, const char *, int))addr[EASY_ESCAPE])(
	    e, s, len);
}

char *
curl_easy_unescape(CURL *e, const char *s, int len, int *outlen)
{
	if (!LOADED())
		return NULL;
	return ((char *(*)(CURL *, const char *, int,
	    int *))addr[EASY_UNESCAPE])(e, s, len, outlen);
}

time_t
curl_getdate(const char *p, const time_t *unused)
{
	if (!LOADED())
		return -1;
	return ((time_t(*)(const char *, const time_t *))addr[GETDATE])(
	    p, unused);
}

struct curl_slist *
curl_slist_append(struct curl_slist *l, const char *s)
{
	if (!LOADED())
		return NULL;
	return ((struct curl_slist * (*)(struct curl_slist *, const char *))
		addr[SLIST_APPEND])(l, s);
}

void
curl_slist_free_all(struct curl_slist *l)
{
	if (LOADED())
		((void (*)(struct curl_slist *))addr[SLIST_FREE_ALL])(l);
}

void
curl_free(void *p)
{
	if (LOADED())
		((void (*)(void *))addr[FREE])(p);
}

CURLU *
curl_url(void)
{
	if (!LOADED())
		return NULL;
	return ((CURLU * (*)(void)) addr[URL])();
}

CURLUcode
curl_url_set(CURLU *u, CURLUPart what, const char *part, unsigned int flags)
{
	if (!LOADED())
		return CURLUE_OUT_OF_MEMORY;
	return ((CURLUcode(*)(CURLU *, CURLUPart, const char *,
	    unsigned int))addr[URL_SET])(u, what, part, flags);
}

CURLUcode
curl_url_get(
    JANEE_CURLU_CONST CURLU *u, CURLUPart what, char **part, unsigned int flags)
{
	if (!LOADED())
		return CURLUE_OUT_OF_MEMORY;
	return ((CURLUcode(*)(JANEE_CURLU_CONST CURLU *, CURLUPart, char **,
	    unsigned int))addr[URL_GET])(u, what, part, flags);
}

void
curl_url_cleanup(CURLU *u)
{
	if (LOADED())
		((void (*)(CURLU *))addr[URL_CLEANUP])(u);
}
