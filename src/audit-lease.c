/*
 * Lease snapshots: an audit row that names a lease records the lease's
 * row as it stands in the same transaction (the broker writes the lease
 * and its event together), so the last event of a lease says what the
 * lease must look like now.  `janee audit verify` compares every lease
 * with it; a lease edited behind janee's back (a state set to expired so
 * that the token is never revoked, a sealed token removed, scopes or
 * expiry changed) no longer matches.
 *
 * What a row records is short, since every lease event carries one, in
 * two columns, lease and lease_digest (indexed, for verify):
 *
 *   STATE EXPIRES_MS FINGERPRINT8 SEALED       DIGEST
 *   active 1796595468711 05624b9c sealed       9f86d081884c7d659a2feaa0c55ad015
 *
 * ("-" for a NULL, "none" for no sealed token).  DIGEST is the first 128
 * bits of SHA-256 over every field that matters, NAME=LEN:VALUE; each in
 * a fixed order (NULL fields left out), so the same row always gives the
 * same bytes whatever its values hold:
 *
 *   state provider session requested granted repositories ttl_s
 *   expires_ms fingerprint sealed attempts
 *
 * "sealed" there is the SHA-256 of the sealed token (never the token,
 * which only the store's key opens).  The fields in front name the most
 * telling differences; the scopes are named from the event's own scopes.
 * The time of the next revocation attempt is not in it: a sweeper moves
 * it without an event when it claims a lease; verify bounds it instead.
 */
#include "common.h"

#include <cjson/cJSON.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "audit-int.h"
#include "broker.h"
#include "util.h"

#define SNAP_COLS \
	"state, provider, session, requested_scopes, granted_scopes, " \
	"repositories, ttl_s, expires_ms, fingerprint, sealed_token, " \
	"revoke_attempts"
#define SNAP_NCOLS 11
/* Columns by their place in SNAP_COLS. */
enum {
	SC_STATE,
	SC_PROVIDER,
	SC_SESSION,
	SC_REQUESTED,
	SC_GRANTED,
	SC_REPOS,
	SC_TTL,
	SC_EXPIRES,
	SC_FP,
	SC_SEALED,
	SC_ATTEMPTS
};

static const char *const snap_names[SNAP_NCOLS] = { "state", "provider",
	"session", "requested", "granted", "repositories", "ttl_s",
	"expires_ms", "fingerprint", "sealed", "attempts" };

#define DIGEST_LEN 16

/* A backoff never exceeds this (broker_backoff_ms). */
#define BACKOFF_MAX_MS 3600000

static int
snap_field(struct buf *b, const char *name, const void *p, size_t n)
{
	char num[24];

	if (buf_addstr(b, name) != 0 || buf_add(b, "=", 1) != 0 ||
	    buf_add(b, num, audit_dec((int64_t)n, ':', num)) != 0 ||
	    (n > 0 && buf_add(b, p, n) != 0) || buf_add(b, ";", 1) != 0)
		return JANEE_ERR_NOMEM;
	return 0;
}

static int
sha256(EVP_MD_CTX *md, const EVP_MD *sha, const void *p, size_t n,
    unsigned char out[AUDIT_HASH_LEN])
{
	unsigned int len;

	if (EVP_DigestInit_ex(md, sha, NULL) != 1 ||
	    EVP_DigestUpdate(md, p, n) != 1 ||
	    EVP_DigestFinal_ex(md, out, &len) != 1)
		return janee_err_set(JANEE_ERR_CRYPTO, "SHA-256 failed");
	return 0;
}

int
audit_snapper_init(struct audit_snapper *sn)
{
	memset(sn, 0, sizeof(*sn));
	buf_init(&sn->canon, 1 << 20);
	if ((sn->md = EVP_MD_CTX_new()) == NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	if ((sn->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return janee_err_set(
		    JANEE_ERR_CRYPTO, "SHA-256 is unavailable");
	return 0;
}

void
audit_snapper_free(struct audit_snapper *sn)
{
	EVP_MD_CTX_free(sn->md);
	EVP_MD_free(sn->sha256);
	buf_free(&sn->canon);
	memset(sn, 0, sizeof(*sn));
}

/* A word of the recorded form: printable, no spaces, "-" when empty. */
static int
snap_word(struct buf *out, const char *s, size_t n)
{
	size_t i;
	char c;

	if (s == NULL || n == 0)
		return buf_add(out, "- ", 2);
	for (i = 0; i < n; i++) {
		c = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
		if (buf_add(out, &c, 1) != 0)
			return JANEE_ERR_NOMEM;
	}
	return buf_add(out, " ", 1);
}

/*
 * The recorded form of the lease columns at st's col0.. (SNAP_COLS
 * order) into out; `state`, when not NULL, stands for the row's state.
 */
static int
snap_build(struct audit_snapper *sn, sqlite3_stmt *st, int col0,
    const char *state, struct buf *out)
{
	unsigned char md[AUDIT_HASH_LEN], sealed[AUDIT_HASH_LEN];
	char hex[7 + AUDIT_HEX_LEN + 1], num[24];
	const void *v;
	size_t n;
	int i, c, rc = 0, has_sealed;

	buf_reset(&sn->canon);
	has_sealed = sqlite3_column_type(st, col0 + SC_SEALED) != SQLITE_NULL;
	for (i = 0; i < SNAP_NCOLS && rc == 0; i++) {
		c = col0 + i;
		if (sqlite3_column_type(st, c) == SQLITE_NULL)
			continue;
		switch (i) {
		case SC_TTL:
		case SC_EXPIRES:
		case SC_ATTEMPTS:
			n = audit_dec(sqlite3_column_int64(st, c), 0, num);
			rc = snap_field(&sn->canon, snap_names[i], num, n);
			break;
		case SC_SEALED:
			v = sqlite3_column_blob(st, c);
			n = (size_t)sqlite3_column_bytes(st, c);
			if ((rc = sha256(sn->md, sn->sha256, v ? v : "", n,
				 sealed)) != 0)
				break;
			memcpy(hex, "sha256:", 7);
			janee_hex(sealed, sizeof(sealed), hex + 7);
			rc = snap_field(
			    &sn->canon, snap_names[i], hex, sizeof(hex) - 1);
			break;
		default:
			if (i == SC_STATE && state != NULL) {
				v = state;
				n = strlen(state);
			} else {
				v = sqlite3_column_text(st, c);
				n = (size_t)sqlite3_column_bytes(st, c);
			}
			rc = snap_field(&sn->canon, snap_names[i], v, n);
		}
	}
	if (rc != 0 ||
	    (rc = sha256(sn->md, sn->sha256, sn->canon.p ? sn->canon.p : "",
		 sn->canon.len, md)) != 0)
		return rc;
	buf_reset(out);
	v = state ? (const void *)state
		  : sqlite3_column_text(st, col0 + SC_STATE);
	if (snap_word(out, v, v ? strlen(v) : 0) != 0)
		return JANEE_ERR_NOMEM;
	n = 0;
	if (sqlite3_column_type(st, col0 + SC_EXPIRES) != SQLITE_NULL)
		n = audit_dec(
		    sqlite3_column_int64(st, col0 + SC_EXPIRES), 0, num);
	if (snap_word(out, num, n) != 0)
		return JANEE_ERR_NOMEM;
	v = sqlite3_column_text(st, col0 + SC_FP);
	n = v ? (size_t)sqlite3_column_bytes(st, col0 + SC_FP) : 0;
	if (snap_word(out, v, n < 8 ? n : 8) != 0 ||
	    buf_addstr(out, has_sealed ? "sealed " : "none ") != 0)
		return JANEE_ERR_NOMEM;
	janee_hex(md, DIGEST_LEN, hex);
	return buf_add(out, hex, 2 * DIGEST_LEN);
}

int
audit_snap_prepare(struct ledger *lg, sqlite3_stmt **st)
{
	return ledger_prepare(
	    lg, "SELECT " SNAP_COLS " FROM leases WHERE id = ?", st);
}

int
audit_snap_take(struct ledger *lg, struct audit_snapper *sn, sqlite3_stmt *st,
    const char *id, struct buf *out, int *found)
{
	int rc = 0;

	*found = 0;
	buf_reset(out);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*found = 1;
		rc = snap_build(sn, st, 0, NULL, out);
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = ledger_fail(lg, "cannot read the lease an event names");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* The recorded form's five words, pointing into s. */
struct snap_words {
	const char *w[5];
	size_t n[5];
};

static int
snap_split(const char *s, size_t len, struct snap_words *sw)
{
	const char *p = s, *end = s + len, *q;
	int i;

	for (i = 0; i < 5; i++) {
		for (q = p; q < end && *q != ' '; q++)
			;
		if (q == p || (i < 4 && q == end))
			return -1;
		sw->w[i] = p;
		sw->n[i] = (size_t)(q - p);
		p = q + 1;
	}
	return q == end ? 0 : -1;
}

cJSON *
audit_lease_json(const char *s)
{
	static const char *const names[] = { "state", "expires_ms",
		"fingerprint_prefix", "sealed", "digest" };
	struct snap_words sw;
	cJSON *o, *item;
	char *val;
	int i;

	if (s == NULL || snap_split(s, strlen(s), &sw) != 0 ||
	    (o = cJSON_CreateObject()) == NULL)
		return NULL;
	for (i = 0; i < 5; i++) {
		if ((val = janee_asprintf("%.*s", (int)sw.n[i], sw.w[i])) ==
		    NULL) {
			cJSON_Delete(o);
			return NULL;
		}
		if (strcmp(val, "-") == 0)
			item = cJSON_CreateNull();
		else if (i == 1)
			item =
			    cJSON_CreateNumber((double)strtoll(val, NULL, 10));
		else if (i == 3)
			item = cJSON_CreateBool(strcmp(val, "sealed") == 0);
		else
			item = cJSON_CreateString(val);
		free(val);
		if (item == NULL || !cJSON_AddItemToObject(o, names[i], item)) {
			cJSON_Delete(item);
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

/* --- verify: every lease against its last event ---------------------- */

/*
 * Each lease with its last event's seq and digest.  The digest comes
 * from the index (migration 7 indexes lease_id, seq, lease_digest), so
 * the common case, a lease that matches, costs one index seek and no
 * read of the audit row; that row is read only to explain a difference,
 * or for an active lease's due time.
 */
/* "SEQ DIGEST" of lease l's last event; DIGEST "-" before snapshots. */
#define LAST_DIGEST \
	"(SELECT seq || ' ' || coalesce(lease_digest, '-') FROM audit " \
	"WHERE lease_id = l.id ORDER BY seq DESC LIMIT 1)"
#define LEASE_PASS \
	"SELECT l.id, l.state, l.provider, l.session, l.requested_scopes, " \
	"l.granted_scopes, l.repositories, l.ttl_s, l.expires_ms, " \
	"l.fingerprint, l.sealed_token, l.revoke_attempts, " \
	"l.next_attempt_ms, " LAST_DIGEST " FROM leases AS l"
enum {
	LP_ID,
	LP_SNAP, /* SNAP_NCOLS columns */
	LP_NEXT = LP_SNAP + SNAP_NCOLS,
	LP_LAST
};

/* The last event of a lease, as read for a closer look. */
struct last_event {
	int64_t seq, ts_ms;
	char *event, *scopes, *lease;
};

static void
last_event_free(struct last_event *e)
{
	free(e->event);
	free(e->scopes);
	free(e->lease);
	memset(e, 0, sizeof(*e));
}

static int
last_event_read(
    struct ledger *lg, sqlite3_stmt *st, int64_t seq, struct last_event *e)
{
	int rc = 0;

	last_event_free(e);
	e->seq = seq;
	sqlite3_bind_int64(st, 1, seq);
	if (sqlite3_step(st) == SQLITE_ROW) {
		e->ts_ms = sqlite3_column_int64(st, 0);
		if (janee_strdup_opt((const char *)sqlite3_column_text(st, 1),
			&e->event) != 0 ||
		    janee_strdup_opt((const char *)sqlite3_column_text(st, 2),
			&e->scopes) != 0 ||
		    janee_strdup_opt((const char *)sqlite3_column_text(st, 3),
			&e->lease) != 0)
			rc = JANEE_ERR_NOMEM;
	} else
		rc = ledger_fail(lg, "cannot read the audit chain");
	sqlite3_reset(st);
	if (rc == 0 && e->event == NULL &&
	    (e->event = janee_strdup("?")) == NULL)
		rc = JANEE_ERR_NOMEM;
	return rc;
}

/* Which states an event from before snapshots leaves a lease in. */
static const struct {
	const char *event, *states;
} legacy_states[] = {
	{ "requested", " requested " },
	{ "approved", " approved minting " },
	{ "denied", " denied " },
	{ "minting", " minting " },
	{ "reconcile_failed", " minting " },
	{ "issued", " active " },
	{ "revoke_failed", " active " },
	{ "mint_failed", " failed " },
	{ "reconciled", " failed " },
	{ "expired", " expired " },
	{ "revoked", " revoked " },
	{ "irrevocable", " irrevocable " },
	{ "orphaned", " orphaned " },
};

struct lease_check {
	struct ledger *lg;
	const struct audit_verify_opts *o;
	struct audit_verify *v;
	const char *id;
	int64_t seq;
	int bad; /* this lease was found to differ */
	int64_t no_event; /* leases no event names at all */
};

static void lease_bad(struct lease_check *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
lease_bad(struct lease_check *lc, const char *fmt, ...)
{
	char what[768];
	va_list ap;

	if (!lc->bad)
		lc->v->lease_bad++;
	lc->bad = 1;
	if (lc->o == NULL || lc->o->lease_bad == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	lc->o->lease_bad(lc->o->arg, lc->id, lc->seq, what);
}

/* A word of the recorded form for a message: cleaned, at most 40 bytes. */
static void
show(const struct snap_words *sw, int i, char out[48])
{
	char tmp[48];
	size_t n = sw->n[i] < 40 ? sw->n[i] : 40;

	memcpy(tmp, sw->w[i], n);
	tmp[n] = '\0';
	janee_clean_text(tmp, out, 48);
}

/* The lease's scopes as its events record them: granted, else asked. */
static const char *
row_scopes(sqlite3_stmt *st)
{
	const char *g =
	    (const char *)sqlite3_column_text(st, LP_SNAP + SC_GRANTED);

	return g
	    ? g
	    : (const char *)sqlite3_column_text(st, LP_SNAP + SC_REQUESTED);
}

static int
scopes_differ(sqlite3_stmt *st, const struct last_event *e)
{
	const char *want = row_scopes(st);

	return (want == NULL) != (e->scopes == NULL) ||
	    (want != NULL && strcmp(want, e->scopes) != 0);
}

/* Name what differs between the lease and its last event's snapshot. */
static void
snap_diff(struct lease_check *lc, sqlite3_stmt *st, const struct buf *row,
    const struct last_event *e)
{
	static const char *const what[] = { "its state",
		"its expiry (expires_ms)", "its token fingerprint",
		"its sealed token (for revocation)" };
	struct snap_words r, a;
	char rv[48], av[48], scopes[48];
	int i, said = 0;

	if (snap_split(row->p, row->len, &r) != 0 || e->lease == NULL ||
	    snap_split(e->lease, strlen(e->lease), &a) != 0) {
		lease_bad(lc,
		    "its last audit event (row %lld, %s) records the lease "
		    "in a form janee does not write",
		    (long long)e->seq, e->event);
		return;
	}
	for (i = 0; i < 4; i++) {
		if (r.n[i] == a.n[i] && memcmp(r.w[i], a.w[i], r.n[i]) == 0)
			continue;
		show(&r, i, rv);
		show(&a, i, av);
		lease_bad(lc,
		    "%s is %s in the lease but %s in its last audit event "
		    "(row %lld, %s)",
		    what[i], rv, av, (long long)e->seq, e->event);
		said = 1;
	}
	if (scopes_differ(st, e)) {
		janee_clean_text(row_scopes(st), scopes, sizeof(scopes));
		lease_bad(lc,
		    "its scopes are %s in the lease but not in its last audit "
		    "event (row %lld, %s)",
		    scopes, (long long)e->seq, e->event);
		said = 1;
	}
	if (!said)
		lease_bad(lc,
		    "it differs from its last audit event (row %lld, %s) in "
		    "what the event records by digest: its provider, session, "
		    "scopes asked, repositories, ttl, revocation attempts, "
		    "token fingerprint or sealed token",
		    (long long)e->seq, e->event);
}

/* Before snapshots: the state the event implies, and the scopes. */
static void
legacy_check(
    struct lease_check *lc, sqlite3_stmt *st, const struct last_event *e)
{
	const char *state =
	    (const char *)sqlite3_column_text(st, LP_SNAP + SC_STATE);
	char tok[32];
	size_t i;

	for (i = 0; state != NULL && i < nitems(legacy_states); i++) {
		if (strcmp(e->event, legacy_states[i].event) != 0)
			continue;
		snprintf(tok, sizeof(tok), " %s ", state);
		if (strstr(legacy_states[i].states, tok) == NULL)
			lease_bad(lc,
			    "its state is %s in the lease but its last audit "
			    "event (row %lld, %s) leaves it %.*s",
			    state, (long long)e->seq, e->event,
			    (int)strcspn(legacy_states[i].states + 1, " "),
			    legacy_states[i].states + 1);
	}
	if (scopes_differ(st, e))
		lease_bad(lc,
		    "its scopes differ from those of its last audit event "
		    "(row %lld, %s)",
		    (long long)e->seq, e->event);
}

/*
 * An active lease must come due: the sweep finds it by its next attempt.
 * That is its expiry (issued), a backoff after a failed revocation (at
 * most an hour after that event), or a claim window after a sweeper
 * took it (at most BROKER_CLAIM_MS after now).
 */
static void
due_check(struct lease_check *lc, sqlite3_stmt *st, const struct last_event *e,
    int64_t now)
{
	char t1[JANEE_TIME_LEN], t2[JANEE_TIME_LEN];
	int64_t next, bound;

	if (sqlite3_column_type(st, LP_NEXT) == SQLITE_NULL) {
		lease_bad(lc,
		    "it is active but has no time for its revocation: no "
		    "sweep would ever revoke its token");
		return;
	}
	next = sqlite3_column_int64(st, LP_NEXT);
	bound = sqlite3_column_int64(st, LP_SNAP + SC_EXPIRES);
	if (e->ts_ms + BACKOFF_MAX_MS > bound)
		bound = e->ts_ms + BACKOFF_MAX_MS;
	if (now > bound)
		bound = now;
	bound += BROKER_CLAIM_MS;
	if (next > bound) {
		janee_time_fmt(next, t1);
		janee_time_fmt(bound, t2);
		lease_bad(lc,
		    "its revocation is put off to %s, past what its events "
		    "allow (%s)",
		    t1, t2);
	}
}

/*
 * The counts differ: name the leases on record (a "requested" event)
 * whose row is gone, and the rows whose request is not on record.  Only
 * then: these scan the chain.
 */
static int
unmatched_leases(struct lease_check *lc, const struct audit_lease_pass *p)
{
	static const char *const sql[] = {
		"SELECT lease_id, min(seq) FROM audit AS a "
		"WHERE event = 'requested' AND lease_id IS NOT NULL AND "
		"NOT EXISTS (SELECT 1 FROM leases WHERE id = a.lease_id) "
		"GROUP BY lease_id ORDER BY 2",
		/* Those with no event at all were named already. */
		"SELECT id, 0 FROM leases AS l WHERE NOT EXISTS (SELECT 1 "
		"FROM audit WHERE lease_id = l.id AND event = 'requested') "
		"AND EXISTS (SELECT 1 FROM audit WHERE lease_id = l.id) "
		"ORDER BY created_ms",
	};
	sqlite3_stmt *st;
	int64_t found = 0;
	size_t i;
	int rc = 0, step;

	for (i = 0; rc == 0 && i < nitems(sql); i++) {
		if ((rc = ledger_prepare(lc->lg, sql[i], &st)) != 0)
			return rc;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			lc->id = (const char *)sqlite3_column_text(st, 0);
			lc->seq = sqlite3_column_int64(st, 1);
			lc->bad = 0;
			if (i == 0)
				lease_bad(lc,
				    "the audit trail records its request (row "
				    "%lld) but its row is gone from the leases "
				    "table",
				    (long long)lc->seq);
			else
				lease_bad(lc,
				    "the audit trail does not record its "
				    "request: it was added behind janee's "
				    "back");
			found++;
		}
		if (step != SQLITE_DONE)
			rc = ledger_fail(lc->lg, "cannot read the audit chain");
		sqlite3_finalize(st);
	}
	if (rc == 0 && found == 0) {
		lc->id = "-";
		lc->seq = 0;
		lc->bad = 0;
		lease_bad(lc,
		    "the ledger holds %lld leases but the audit trail "
		    "records %lld requests",
		    (long long)lc->v->leases, (long long)p->requested);
	}
	return rc;
}

/*
 * Compare one lease (the row at st) with its last event: its digest from
 * the index first; the event itself only when needed.
 */
static int
check_lease(struct lease_check *lc, sqlite3_stmt *st, sqlite3_stmt *ev_st,
    struct audit_snapper *sn, struct buf *row, int64_t now)
{
	struct last_event e;
	const char *last, *digest, *state;
	int64_t seq;
	int rc = 0, same = 0, legacy, active;
	char *end;

	memset(&e, 0, sizeof(e));
	state = (const char *)sqlite3_column_text(st, LP_SNAP + SC_STATE);
	if ((last = (const char *)sqlite3_column_text(st, LP_LAST)) == NULL) {
		lease_bad(lc,
		    "no audit event records it: it was added behind janee's "
		    "back");
		lc->no_event++;
		return 0;
	}
	seq = strtoll(last, &end, 10);
	digest = *end == ' ' ? end + 1 : "-";
	lc->seq = seq;
	legacy = strcmp(digest, "-") == 0;
	active = state != NULL && strcmp(state, "active") == 0;
	if (!legacy) {
		if ((rc = snap_build(sn, st, LP_SNAP, NULL, row)) != 0)
			return rc;
		same = row->len >= 2 * DIGEST_LEN &&
		    strcmp(row->p + row->len - 2 * DIGEST_LEN, digest) == 0;
		/*
		 * A lease approved at once goes on to minting in the same
		 * transaction, with no event of its own.
		 */
		if (!same && state != NULL && strcmp(state, "minting") == 0) {
			if ((rc = snap_build(
				 sn, st, LP_SNAP, "approved", row)) != 0)
				return rc;
			same = row->len >= 2 * DIGEST_LEN &&
			    strcmp(row->p + row->len - 2 * DIGEST_LEN,
				digest) == 0;
			if (!same &&
			    (rc = snap_build(sn, st, LP_SNAP, NULL, row)) != 0)
				return rc;
		}
		if (same && !active)
			return 0;
	}
	if ((rc = last_event_read(lc->lg, ev_st, seq, &e)) != 0)
		goto out;
	if (legacy)
		legacy_check(lc, st, &e);
	else if (!same)
		snap_diff(lc, st, row, &e);
	if (active)
		due_check(lc, st, &e, now);
out:
	last_event_free(&e);
	return rc;
}

/*
 * Every lease, one by one, with its last event (`where`, when not NULL,
 * narrows it to some leases).  Each lease costs an index seek in an
 * order unrelated to the index's: fine for a few, slow for a million.
 */
static int
lease_pass(struct lease_check *lc, const char *where, int64_t now)
{
	struct audit_snapper sn;
	sqlite3_stmt *st = NULL, *ev_st = NULL;
	struct buf row;
	char *sql;
	int rc, step = SQLITE_DONE;

	buf_init(&row, 1 << 20);
	if ((sql = janee_asprintf("%s%s", LEASE_PASS, where ? where : "")) ==
	    NULL)
		return JANEE_ERR_NOMEM;
	if ((rc = audit_snapper_init(&sn)) != 0 ||
	    (rc = ledger_prepare(lc->lg, sql, &st)) != 0 ||
	    (rc = ledger_prepare(lc->lg,
		 "SELECT ts_ms, event, scopes, lease || ' ' || lease_digest "
		 "FROM audit WHERE seq = ?",
		 &ev_st)) != 0)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (where == NULL)
			lc->v->leases++;
		lc->id = (const char *)sqlite3_column_text(st, LP_ID);
		lc->seq = 0;
		lc->bad = 0;
		if (lc->id == NULL)
			lc->id = "?";
		if ((rc = check_lease(lc, st, ev_st, &sn, &row, now)) != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = ledger_fail(lc->lg, "cannot read the leases");
out:
	free(sql);
	sqlite3_finalize(st);
	sqlite3_finalize(ev_st);
	audit_snapper_free(&sn);
	buf_free(&row);
	return rc;
}

/*
 * The fast way, with the key: instead of one seek per lease in the
 * leases' order, two passes in orders the disk likes.  One walks the
 * lease ids in index order and takes each one's last digest from the
 * audit index (the seeks then move forward through it); the other reads
 * the leases table in its own order and digests each row.  They cannot
 * be compared row by row (their orders differ), so each pass sums, for
 * every lease, HMAC-SHA256 under the checkpoint key of "id digest"; the
 * sums agree when every lease has the digest of its last event.  Without
 * the key nobody can choose rows whose sum comes out the same.
 *
 * Minting leases are left out of both sums (an approval moves a lease
 * on to minting without an event, so its digest may be either state's)
 * and checked one by one, with the active ones (whose due time needs the
 * last event's time).  *done is 0 when this cannot say (a lease with no
 * event or one recorded before snapshots, too many minting, the sums
 * differ): the caller then goes lease by lease, which names each one.
 */
#define FAST_MAX_MINTING 4096

/*
 * SipHash-2-4 with 128-bit output (OpenSSL's EVP_MAC "SIPHASH"), keyed
 * with 16 bytes derived from the checkpoint key: a PRF as HMAC-SHA256
 * is, and several times cheaper per lease, which is what this pass
 * spends its time on.
 */
struct lease_sum {
	EVP_MAC_CTX *mac;
	unsigned char key[16];
	uint64_t lane[2];
};

static int
sum_add(struct lease_sum *ls, const char *id, const char *digest, size_t n)
{
	unsigned char out[16];
	size_t len = 0;
	uint64_t w;
	int i, j;

	if (EVP_MAC_init(ls->mac, ls->key, sizeof(ls->key), NULL) != 1 ||
	    EVP_MAC_update(
		ls->mac, (const unsigned char *)id, strlen(id) + 1) != 1 ||
	    EVP_MAC_update(ls->mac, (const unsigned char *)digest, n) != 1 ||
	    EVP_MAC_final(ls->mac, out, &len, sizeof(out)) != 1 ||
	    len != sizeof(out))
		return janee_err_set(
		    JANEE_ERR_CRYPTO, "SipHash failed in OpenSSL");
	for (i = 0; i < 2; i++) {
		for (w = 0, j = 0; j < 8; j++)
			w = w << 8 | out[8 * i + j];
		ls->lane[i] += w;
	}
	return 0;
}

static int
sum_init(struct ledger *lg, struct lease_sum *ls)
{
	static const char label[] = "janee-lease-set-v1";
	unsigned char k[32];
	OSSL_PARAM params[2];
	size_t klen = 0, size = sizeof(ls->lane);
	EVP_MAC *m;
	int ok;

	memset(ls, 0, sizeof(*ls));
	/* Its own key: HMAC-SHA256(checkpoint key, label), cut to 128 bits. */
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, lg->audit_key,
		sizeof(lg->audit_key), (const unsigned char *)label,
		sizeof(label) - 1, k, sizeof(k), &klen) == NULL)
		return janee_err_set(
		    JANEE_ERR_CRYPTO, "HMAC-SHA256 failed in OpenSSL");
	memcpy(ls->key, k, sizeof(ls->key));
	janee_wipe(k, sizeof(k));
	if ((m = EVP_MAC_fetch(NULL, "SIPHASH", NULL)) == NULL)
		return janee_err_set(
		    JANEE_ERR_CRYPTO, "SipHash is unavailable");
	ls->mac = EVP_MAC_CTX_new(m);
	EVP_MAC_free(m);
	params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size);
	params[1] = OSSL_PARAM_construct_end();
	ok = ls->mac != NULL && EVP_MAC_CTX_set_params(ls->mac, params) == 1;
	return ok
	    ? 0
	    : janee_err_set(JANEE_ERR_CRYPTO, "SipHash failed in OpenSSL");
}

static void
sum_free(struct lease_sum *ls)
{
	EVP_MAC_CTX_free(ls->mac);
	janee_wipe(ls, sizeof(*ls));
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Whether id is among the n sorted ids of set (a forward-only cursor). */
static int
in_sorted(char (*set)[JANEE_LEASE_ID_LEN], int n, int *cur, const char *id)
{
	int c;

	while (*cur < n && (c = strcmp(set[*cur], id)) < 0)
		(*cur)++;
	return *cur < n && strcmp(set[*cur], id) == 0;
}

static int
fast_pass(struct lease_check *lc, const struct audit_lease_pass *p, int *done)
{
	static char minting[FAST_MAX_MINTING][JANEE_LEASE_ID_LEN];
	struct lease_sum a, b;
	struct audit_snapper sn;
	sqlite3_stmt *st = NULL;
	struct buf row;
	const char *id, *last, *d, *state;
	char *end;
	int rc, step, nm = 0, cur = 0;
	int64_t na = 0, nb = 0;

	*done = 0;
	memset(&b, 0, sizeof(b));
	buf_init(&row, 1 << 20);
	if ((rc = sum_init(lc->lg, &a)) != 0 ||
	    (rc = sum_init(lc->lg, &b)) != 0 ||
	    (rc = audit_snapper_init(&sn)) != 0 ||
	    (rc = ledger_prepare(lc->lg,
		 /* The partial index: ORDER BY id would walk every lease. */
		 "SELECT id FROM leases INDEXED BY leases_minting "
		 "WHERE state = 'minting'",
		 &st)) != 0)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW && nm < FAST_MAX_MINTING)
		snprintf(minting[nm++], JANEE_LEASE_ID_LEN, "%s",
		    (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	st = NULL;
	if (step == SQLITE_ROW)
		goto out; /* too many: lease by lease */
	qsort(minting, (size_t)nm, sizeof(minting[0]), cmp_id);
	/* The lease ids in index order, each with its last digest. */
	if ((rc = ledger_prepare(lc->lg,
		 "SELECT l.id, " LAST_DIGEST " FROM leases AS l ORDER BY l.id",
		 &st)) != 0)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		id = (const char *)sqlite3_column_text(st, 0);
		last = (const char *)sqlite3_column_text(st, 1);
		na++;
		if (id == NULL || last == NULL)
			goto out; /* a lease no event names */
		(void)strtoll(last, &end, 10);
		d = *end == ' ' ? end + 1 : "-";
		if (strlen(d) != 2 * DIGEST_LEN)
			goto out; /* recorded before snapshots */
		if (in_sorted(minting, nm, &cur, id))
			continue;
		if ((rc = sum_add(&a, id, d, 2 * DIGEST_LEN)) != 0)
			goto out;
	}
	if (step != SQLITE_DONE) {
		rc = ledger_fail(lc->lg, "cannot read the leases");
		goto out;
	}
	sqlite3_finalize(st);
	/* The rows in their own order, each digested as an event would. */
	if ((rc = ledger_prepare(
		 lc->lg, "SELECT id, " SNAP_COLS " FROM leases", &st)) != 0)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		nb++;
		id = (const char *)sqlite3_column_text(st, 0);
		state = (const char *)sqlite3_column_text(st, 1);
		if (id == NULL ||
		    (state != NULL && strcmp(state, "minting") == 0))
			continue;
		if ((rc = snap_build(&sn, st, 1, NULL, &row)) != 0 ||
		    (rc = sum_add(&b, id, row.p + row.len - 2 * DIGEST_LEN,
			 2 * DIGEST_LEN)) != 0)
			goto out;
	}
	if (step != SQLITE_DONE) {
		rc = ledger_fail(lc->lg, "cannot read the leases");
		goto out;
	}
	if (na != nb || memcmp(a.lane, b.lane, sizeof(a.lane)) != 0)
		goto out;
	/* Every lease matches.  What the sums leave to one by one: */
	lc->v->leases = na;
	if ((rc = lease_pass(lc, " WHERE l.state IN ('active', 'minting')",
		 p->now_ms)) == 0)
		*done = lc->v->leases_summed = 1;
out:
	sqlite3_finalize(st);
	sum_free(&a);
	sum_free(&b);
	audit_snapper_free(&sn);
	buf_free(&row);
	return rc;
}

int
audit_verify_leases(struct ledger *lg, const struct audit_verify_opts *o,
    const struct audit_lease_pass *p, struct audit_verify *v)
{
	struct lease_check lc = { .lg = lg, .o = o, .v = v };
	int rc, done = 0;

	if (lg->audit_keyed && !o->no_key &&
	    (rc = fast_pass(&lc, p, &done)) != 0)
		return rc;
	if (!done) {
		v->leases = v->lease_bad = 0;
		v->leases_summed = 0;
		lc.no_event = 0;
		if ((rc = lease_pass(&lc, NULL, p->now_ms)) != 0)
			return rc;
	}
	if (v->leases - lc.no_event != p->requested)
		return unmatched_leases(&lc, p);
	return 0;
}
