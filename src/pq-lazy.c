/*
 * The part of libpq that janee uses (the PostgreSQL provider; later a
 * PostgreSQL ledger), opened on first call like libcurl (see lazylib.h
 * and curl-lazy.c): libpq brings OpenSSL's TLS half, Kerberos and LDAP,
 * which no other command needs.  Each function has libpq's own name and
 * signature; janee is not linked with -lpq, so these are the only
 * definitions it sees.
 */
#include "common.h"

#include <libpq-fe.h>

#include "lazylib.h"

enum {
	CONNECTDB_PARAMS,
	FINISH,
	STATUS,
	ERROR_MESSAGE,
	SET_NOTICE_PROCESSOR,
	EXEC,
	EXEC_PARAMS,
	RESULT_STATUS,
	RESULT_ERROR_FIELD,
	NTUPLES,
	GETVALUE,
	CLEAR,
	FREEMEM,
	ESCAPE_IDENTIFIER,
	ESCAPE_LITERAL,
	ENCRYPT_PASSWORD_CONN,
	HOST,
	PORT,
	DB,
	CONNINFO_PARSE,
	CONNINFO_FREE,
	NSYMS
};

static const char *const syms[] = {
	[CONNECTDB_PARAMS] = "PQconnectdbParams",
	[FINISH] = "PQfinish",
	[STATUS] = "PQstatus",
	[ERROR_MESSAGE] = "PQerrorMessage",
	[SET_NOTICE_PROCESSOR] = "PQsetNoticeProcessor",
	[EXEC] = "PQexec",
	[EXEC_PARAMS] = "PQexecParams",
	[RESULT_STATUS] = "PQresultStatus",
	[RESULT_ERROR_FIELD] = "PQresultErrorField",
	[NTUPLES] = "PQntuples",
	[GETVALUE] = "PQgetvalue",
	[CLEAR] = "PQclear",
	[FREEMEM] = "PQfreemem",
	[ESCAPE_IDENTIFIER] = "PQescapeIdentifier",
	[ESCAPE_LITERAL] = "PQescapeLiteral",
	[ENCRYPT_PASSWORD_CONN] = "PQencryptPasswordConn",
	[HOST] = "PQhost",
	[PORT] = "PQport",
	[DB] = "PQdb",
	[CONNINFO_PARSE] = "PQconninfoParse",
	[CONNINFO_FREE] = "PQconninfoFree",
	[NSYMS] = NULL,
};

static const char *const files[] = { JANEE_PQ_SONAME,
	JANEE_PQ_LIBDIR "/" JANEE_PQ_SONAME, NULL };

static void *addr[NSYMS];

static struct lazylib libpq = { "libpq", files, syms, addr, 0, "" };

int
janee_pq_load(void)
{
	return lazylib_load(&libpq);
}

/* Every entry below needs the library; the first call opens it. */
#define LOADED() (janee_pq_load() == 0)

PGconn *
PQconnectdbParams(
    const char *const *keywords, const char *const *values, int expand_dbname)
{
	if (!LOADED())
		return NULL;
	return ((PGconn * (*)(const char *const *, const char *const *, int))
		addr[CONNECTDB_PARAMS])(keywords, values, expand_dbname);
}

void
PQfinish(PGconn *conn)
{
	if (LOADED())
		((void (*)(PGconn *))addr[FINISH])(conn);
}

ConnStatusType
PQstatus(const PGconn *conn)
{
	if (!LOADED())
		return CONNECTION_BAD;
	return ((ConnStatusType(*)(const PGconn *))addr[STATUS])(conn);
}

char *
PQerrorMessage(const PGconn *conn)
{
	if (!LOADED())
		return (char *)(uintptr_t) "libpq is not available";
	return ((char *(*)(const PGconn *))addr[ERROR_MESSAGE])(conn);
}

PQnoticeProcessor
PQsetNoticeProcessor(PGconn *conn, PQnoticeProcessor proc, void *arg)
{
	if (!LOADED())
		return NULL;
	return ((PQnoticeProcessor(*)(PGconn *, PQnoticeProcessor,
	    void *))addr[SET_NOTICE_PROCESSOR])(conn, proc, arg);
}

PGresult *
PQexec(PGconn *conn, const char *query)
{
	if (!LOADED())
		return NULL;
	return ((PGresult * (*)(PGconn *, const char *)) addr[EXEC])(
	    conn, query);
}

PGresult *
PQexecParams(PGconn *conn, const char *command, int nParams,
    const Oid *paramTypes, const char *const *paramValues,
    const int *paramLengths, const int *paramFormats, int resultFormat)
{
	if (!LOADED())
		return NULL;
	return ((PGresult *
	    (*)(PGconn *, const char *, int, const Oid *, const char *const *,
		const int *, const int *, int)) addr[EXEC_PARAMS])(conn,
	    command, nParams, paramTypes, paramValues, paramLengths,
	    paramFormats, resultFormat);
}

ExecStatusType
PQresultStatus(const PGresult *res)
{
	if (!LOADED())
		return PGRES_FATAL_ERROR;
	return ((ExecStatusType(*)(const PGresult *))addr[RESULT_STATUS])(res);
}

char *
PQresultErrorField(const PGresult *res, int fieldcode)
{
	if (!LOADED())
		return NULL;
	return ((char *(*)(const PGresult *, int))addr[RESULT_ERROR_FIELD])(
	    res, fieldcode);
}

int
PQntuples(const PGresult *res)
{
	if (!LOADED())
		return 0;
	return ((int (*)(const PGresult *))addr[NTUPLES])(res);
}

char *
PQgetvalue(const PGresult *res, int tup_num, int field_num)
{
	if (!LOADED())
		return NULL;
	return ((char *(*)(const PGresult *, int, int))addr[GETVALUE])(
	    res, tup_num, field_num);
}

void
PQclear(PGresult *res)
{
	if (LOADED())
		((void (*)(PGresult *))addr[CLEAR])(res);
}

void
PQfreemem(void *ptr)
{
	if (LOADED())
		((void (*)(void *))addr[FREEMEM])(ptr);
}

char *
PQescapeIdentifier(PGconn *conn, const char *str, size_t len)
{
	if (!LOADED())
		return NULL;
	return ((char *(*)(PGconn *, const char *,
	    size_t))addr[ESCAPE_IDENTIFIER])(conn, str, len);
}

char *
PQescapeLiteral(PGconn *conn, const char *str, size_t len)
{
	if (!LOADED())
		return NULL;
	return ((char *(*)(PGconn *, const char *,
	    size_t))addr[ESCAPE_LITERAL])(conn, str, len);
}

char *
PQencryptPasswordConn(
    PGconn *conn, const char *passwd, const char *user, const char *algorithm)
{
	if (!LOADED())
		return NULL;
	return ((char *(*)(PGconn *, const char *, const char *,
	    const char *))addr[ENCRYPT_PASSWORD_CONN])(
	    conn, passwd, user, algorithm);
}

char *
PQhost(const PGconn *conn)
{
	if (!LOADED())
		return NULL;
	return ((char *(*)(const PGconn *))addr[HOST])(conn);
}

char *
PQport(const PGconn *conn)
{
	if (!LOADED())
		return NULL;
	return ((char *(*)(const PGconn *))addr[PORT])(conn);
}

char *
PQdb(const PGconn *conn)
{
	if (!LOADED())
		return NULL;
	return ((char *(*)(const PGconn *))addr[DB])(conn);
}

PQconninfoOption *
PQconninfoParse(const char *conninfo, char **errmsg)
{
	if (errmsg != NULL)
		*errmsg = NULL;
	if (!LOADED())
		return NULL;
	return ((PQconninfoOption * (*)(const char *, char **))
		addr[CONNINFO_PARSE])(conninfo, errmsg);
}

void
PQconninfoFree(PQconninfoOption *connOptions)
{
	if (LOADED())
		((void (*)(PQconninfoOption *))addr[CONNINFO_FREE])(
		    connOptions);
}
