/*
 * A witness outside the home: with "audit": {"syslog": true} in
 * config.json, each event janee commits is also sent to syslog(3)
 * (facility authpriv; on systemd, the journal), with its seq and hash.
 * Whoever can rewrite the home cannot take back what the journal holds,
 * so the lines there are heads to check the ledger against with
 * `janee audit verify --expect SEQ:HASH`.
 *
 * A line says which event, lease, provider and outcome, never a detail,
 * a client's name, a scope list or anything secret: the journal is read
 * by more people than the ledger.  Lines wait for the transaction's
 * commit (ledger_commit calls audit_witness_end) and are dropped on a
 * rollback, so the journal names only events that are on record.
 */
#include "common.h"

#include <syslog.h>

#include "audit-int.h"
#include "util.h"

struct audit_witness {
	struct buf pending; /* lines, each ending in '\n' */
};

/* Up to max bytes of s, each outside printable ASCII as '?'; "-" for
 * NULL or empty.  Returns the end of what it wrote. */
static char *
put(char *o, char *end, const char *s, size_t max)
{
	size_t i;

	if (s == NULL || *s == '\0')
		s = "-";
	for (i = 0; s[i] != '\0' && i < max && o < end; i++)
		*o++ = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
	return o;
}

void
audit_witness_line(const char *ledger, int64_t seq, const char *hash,
    const struct audit_event *ev, char *out, size_t n)
{
	static const char *const names[] = { " hash=", " event=", " lease=",
		" provider=", " outcome=", " ledger=" };
	const char *vals[6];
	char *o, *end;
	size_t i;
	int k;

	if (n == 0)
		return;
	vals[0] = hash;
	vals[1] = ev->event;
	vals[2] = ev->lease_id;
	vals[3] = ev->provider;
	vals[4] = ev->outcome;
	vals[5] = ledger;
	k = snprintf(out, n, "audit seq=%lld", (long long)seq);
	if (k < 0 || (size_t)k >= n)
		return;
	o = out + k;
	end = out + n - 1;
	for (i = 0; i < nitems(names); i++) {
		for (k = 0; names[i][k] != '\0' && o < end; k++)
			*o++ = names[i][k];
		o = put(o, end, vals[i], i == 5 ? 240 : 80);
	}
	*o = '\0';
}

int
audit_witness_syslog(struct ledger *lg)
{
	if (lg->witness != NULL)
		return 0;
	if ((lg->witness = calloc(1, sizeof(*lg->witness))) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	buf_init(&lg->witness->pending, 64u << 20);
	openlog("janee", LOG_PID, LOG_AUTHPRIV);
	return 0;
}

int
audit_witness_add(struct ledger *lg, int64_t seq, const char *hash,
    const struct audit_event *ev)
{
	char line[640];

	if (lg->witness == NULL)
		return 0;
	audit_witness_line(lg->path, seq, hash, ev, line, sizeof(line));
	if (buf_addstr(&lg->witness->pending, line) != 0 ||
	    buf_add(&lg->witness->pending, "\n", 1) != 0)
		return janee_err_set(JANEE_ERR_NOMEM,
		    "too many audit events in one transaction for the "
		    "syslog witness");
	return 0;
}

void
audit_witness_end(struct ledger *lg, int committed)
{
	struct buf *b;
	char *p, *nl;

	if (lg == NULL || lg->witness == NULL)
		return;
	b = &lg->witness->pending;
	for (p = b->p; committed && p != NULL && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		syslog(LOG_NOTICE, "%s", p);
	}
	buf_reset(b);
}

void
audit_witness_free(struct ledger *lg)
{
	if (lg->witness == NULL)
		return;
	buf_free(&lg->witness->pending);
	free(lg->witness);
	lg->witness = NULL;
}
