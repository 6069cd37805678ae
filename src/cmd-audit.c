/* janee audit list | export | verify | lookup. */
#include "common.h"

#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "cli.h"
#include "csv.h"
#include "keysrc.h"
#include "lease.h"
#include "store.h"
#include "suggest.h"
#include "util.h"

static int
read_filter(struct cli *c, struct audit_filter *f)
{
	const char *v;
	int64_t now = janee_now_ms();
	struct buf near;
	size_t n;
	int rc;

	audit_filter_init(f);
	if ((v = cli_get(c, "since")) != NULL &&
	    (rc = janee_time_parse(v, now, &f->since_ms)) != 0)
		return rc;
	if ((v = cli_get(c, "until")) != NULL &&
	    (rc = janee_time_parse(v, now, &f->until_ms)) != 0)
		return rc;
	f->provider = cli_get(c, "provider");
	f->event = cli_get(c, "event");
	f->lease_id = cli_get(c, "lease");
	if (f->event != NULL && !audit_event_known(f->event)) {
		for (n = 0; audit_event_names[n] != NULL; n++)
			;
		buf_init(&near, 4096);
		if (janee_suggest(f->event, audit_event_names, n, 3, &near) ==
		    0)
			buf_reset(&near);
		rc = cli_usage_error(c, "no event is called '%s'%s%s%s",
		    f->event, near.len ? "; did you mean " : "",
		    near.len ? near.p : "", near.len ? "?" : "");
		buf_free(&near);
		return rc;
	}
	return 0;
}

static cJSON *
row_json(const struct audit_row *r)
{
	char t[JANEE_TIME_LEN];
	cJSON *o, *sc;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	janee_time_fmt(r->ts_ms, t);
	cJSON_AddNumberToObject(o, "seq", (double)r->seq);
	cJSON_AddStringToObject(o, "time", t);
	cJSON_AddStringToObject(o, "event", r->event);
	cJSON_AddStringToObject(o, "actor", r->actor);
#define OPT(k, v) \
	((v) ? (void)cJSON_AddStringToObject(o, k, v) \
	     : (void)cJSON_AddNullToObject(o, k))
	OPT("client", r->client);
	OPT("provider", r->provider);
	OPT("lease_id", r->lease_id);
	sc = r->scopes ? cJSON_Parse(r->scopes) : NULL;
	if (sc != NULL)
		cJSON_AddItemToObject(o, "scopes", sc);
	else
		OPT("scopes", r->scopes);
	cJSON_AddStringToObject(o, "outcome", r->outcome);
	OPT("detail", r->detail);
#undef OPT
	cJSON_AddStringToObject(o, "hash", r->hash);
	if ((sc = audit_lease_json(r->lease)) != NULL)
		cJSON_AddItemToObject(o, "lease", sc);
	else
		cJSON_AddNullToObject(o, "lease");
	return o;
}

struct list_ctx {
	cJSON *arr; /* --json */
	int64_t rows;
};

static int
list_one(const struct audit_row *r, void *arg)
{
	struct list_ctx *lc = arg;
	cJSON *o;
	char t[JANEE_TIME_LEN];

	if (lc->arr != NULL) {
		if ((o = row_json(r)) == NULL ||
		    !cJSON_AddItemToArray(lc->arr, o))
			return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		return 0;
	}
	/* The header with the first row: no listing is a bare header. */
	if (lc->rows++ == 0)
		printf("%6s  %-24s  %-12s %-6s %-10s %-30s %-7s %s\n", "SEQ",
		    "TIME", "EVENT", "ACTOR", "PROVIDER", "LEASE", "OUTCOME",
		    "DETAIL");
	janee_time_fmt(r->ts_ms, t);
	printf("%6lld  %s  ", (long long)r->seq, t);
	cli_put_text(stdout, r->event, 12);
	putchar(' ');
	cli_put_text(stdout, r->actor, 6);
	putchar(' ');
	cli_put_text(stdout, r->provider ? r->provider : "-", 10);
	putchar(' ');
	cli_put_text(stdout, r->lease_id ? r->lease_id : "-", 30);
	putchar(' ');
	cli_put_text(stdout, r->outcome, 7);
	putchar(' ');
	cli_put_text(stdout, r->detail ? r->detail : "", 0);
	putchar('\n');
	return 0;
}

int
cmd_audit_list(struct cli *c)
{
	struct audit_filter f;
	struct list_ctx lc = { NULL, 0 };
	const char *v;
	int rc;

	if ((rc = read_filter(c, &f)) != 0)
		return rc;
	if ((v = cli_get(c, "limit")) != NULL &&
	    janee_parse_int(v, 1, INT64_MAX, &f.limit) != 0)
		return cli_usage_error(
		    c, "--limit takes a positive number, not '%s'", v);
	if (cli_has(c, "json") && (lc.arr = cJSON_CreateArray()) == NULL)
		return JANEE_ERR_NOMEM;
	if ((rc = audit_each(c->core.lg, &f, list_one, &lc)) != 0) {
		cJSON_Delete(lc.arr);
		return rc;
	}
	if (lc.arr != NULL)
		return cli_print_json(lc.arr);
	if (lc.rows == 0)
		printf("no audit events match\n");
	return 0;
}

struct export_ctx {
	struct csv csv;
	int64_t rows;
};

static int
export_one(const struct audit_row *r, void *arg)
{
	struct export_ctx *ec = arg;
	char t[JANEE_TIME_LEN];

	janee_time_fmt(r->ts_ms, t);
	csv_field_int(&ec->csv, r->seq);
	csv_field(&ec->csv, t);
	csv_field(&ec->csv, r->event);
	csv_field(&ec->csv, r->actor);
	csv_field(&ec->csv, r->client);
	csv_field(&ec->csv, r->provider);
	csv_field(&ec->csv, r->lease_id);
	csv_field(&ec->csv, r->scopes);
	csv_field(&ec->csv, r->outcome);
	csv_field(&ec->csv, r->detail);
	csv_field(&ec->csv, r->hash);
	csv_field(&ec->csv, r->lease);
	csv_end_row(&ec->csv);
	ec->rows++;
	/* Stop early on a closed pipe or a full disk. */
	return ec->csv.err ? janee_err_set(JANEE_ERR_IO, "cannot write CSV: %s",
				 strerror(errno ? errno : EIO))
			   : 0;
}

static const char *const csv_header[] = { "seq", "time", "event", "actor",
	"client", "provider", "lease_id", "scopes", "outcome", "detail", "hash",
	"lease" };

/* What an export took, for its own audit event: every filter. */
static char *
export_detail(const struct audit_filter *f, int64_t rows, const char *out)
{
	char t[JANEE_TIME_LEN];
	struct buf b;
	int rc;

	buf_init(&b, 1 << 16);
	rc = buf_printf(&b, "format=csv rows=%lld to=%s", (long long)rows,
	    out ? out : "stdout");
	if (rc == 0 && f->since_ms != INT64_MIN) {
		janee_time_fmt(f->since_ms, t);
		rc = buf_printf(&b, " since=%s", t);
	}
	if (rc == 0 && f->until_ms != INT64_MAX) {
		janee_time_fmt(f->until_ms, t);
		rc = buf_printf(&b, " until=%s", t);
	}
	if (rc == 0 && f->provider)
		rc = buf_printf(&b, " provider=%s", f->provider);
	if (rc == 0 && f->event)
		rc = buf_printf(&b, " event=%s", f->event);
	if (rc == 0 && f->lease_id)
		rc = buf_printf(&b, " lease=%s", f->lease_id);
	return rc == 0 ? b.p : NULL;
}

int
cmd_audit_export(struct cli *c)
{
	struct audit_event ev = {
		.event = "export", .actor = "user", .outcome = "ok"
	};
	struct audit_filter f;
	struct export_ctx ec;
	struct atomic_file af;
	const char *fmt = cli_get(c, "format"), *out = cli_get(c, "output");
	char *detail = NULL;
	size_t i;
	int rc;

	memset(&af, 0, sizeof(af));
	if ((rc = read_filter(c, &f)) != 0)
		return rc;
	if (fmt != NULL && strcmp(fmt, "csv") != 0)
		return cli_usage_error(c,
		    "unknown format '%s'; the format there is: --format csv",
		    fmt);
	/* Never let an export replace janee's own state. */
	if (out != NULL && home_contains(&c->core.home, out))
		return janee_err_set(JANEE_ERR_USAGE,
		    "refusing to write the export into the janee home '%s'; choose another path",
		    c->core.home.dir);
	if (out != NULL && (rc = atomic_begin(out, &af)) != 0)
		return rc;
	memset(&ec, 0, sizeof(ec));
	/* 64 KiB writes rather than stdio's 4 KiB: 1/16 of the syscalls. */
	setvbuf(out ? af.fp : stdout, NULL, _IOFBF, 1 << 16);
	csv_init(&ec.csv, out ? af.fp : stdout);
	for (i = 0; i < nitems(csv_header); i++)
		csv_field(&ec.csv, csv_header[i]);
	csv_end_row(&ec.csv);
	if ((rc = audit_each(c->core.lg, &f, export_one, &ec)) != 0 ||
	    (rc = csv_finish(&ec.csv)) != 0 ||
	    (out != NULL && (rc = atomic_commit(&af)) != 0)) {
		atomic_abort(&af);
		return rc;
	}
	if ((detail = export_detail(&f, ec.rows, out)) == NULL)
		return JANEE_ERR_NOMEM;
	ev.detail = detail;
	rc = audit_record(c->core.lg, &ev);
	free(detail);
	if (rc == 0 && out != NULL)
		fprintf(stderr, "janee: exported %lld event(s) to '%s'\n",
		    (long long)ec.rows, out);
	return rc;
}

/* What verify found wrong with leases: on stderr, and for --json. */
struct verify_ctx {
	cJSON *problems; /* --json: the first VERIFY_MAX_PROBLEMS */
	int64_t n;
};

#define VERIFY_MAX_PROBLEMS 1000

static void
verify_lease_bad(void *arg, const char *id, int64_t seq, const char *what)
{
	struct verify_ctx *vc = arg;
	cJSON *o;

	vc->n++;
	if (vc->problems == NULL) {
		fprintf(stderr, "janee: lease ");
		cli_put_text(stderr, id, 0);
		fprintf(stderr, ": ");
		cli_put_text(stderr, what, 0);
		fputc('\n', stderr);
		return;
	}
	if (vc->n > VERIFY_MAX_PROBLEMS || (o = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddStringToObject(o, "lease_id", id);
	if (seq > 0)
		cJSON_AddNumberToObject(o, "last_event_seq", (double)seq);
	cJSON_AddStringToObject(o, "problem", what);
	if (!cJSON_AddItemToArray(vc->problems, o))
		cJSON_Delete(o);
}

static const char *
keyed_name(enum audit_keyed k)
{
	switch (k) {
	case AUDIT_KEYED_OK:
		return "ok";
	case AUDIT_KEYED_PENDING:
		return "none yet";
	case AUDIT_KEYED_BAD:
		return "bad";
	case AUDIT_KEYED_UNCHECKED:
		break;
	}
	return "not checked";
}

/*
 * The key for the checkpoint: through the broker, or straight from the
 * store when config.json did not load (verify must work then too).
 */
static int
verify_unlock(struct cli *c)
{
	struct store *s = NULL;
	int rc;

	if (c->core.have_broker)
		return broker_unlock(&c->core.broker);
	rc = store_unlock(c->core.lg, &c->core.home, &c->core.ks, &s);
	store_free(s); /* the ledger keeps the checkpoint key it needs */
	return rc;
}

static void
verify_print(const struct audit_verify *v, const char *expect)
{
	printf("audit chain ok: %lld events, head %s\n", (long long)v->rows,
	    v->head);
	switch (v->keyed) {
	case AUDIT_KEYED_OK:
		printf("keyed checkpoint: row %lld (keyed since row %lld); "
		       "%lld events after the last keyed checkpoint\n",
		    (long long)v->ckpt_seq, (long long)v->ckpt_first,
		    (long long)v->unkeyed);
		break;
	case AUDIT_KEYED_PENDING:
		printf("keyed checkpoint: none yet (the ledger predates "
		       "them); %lld events after the last keyed checkpoint, "
		       "until a janee with the key records an event\n",
		    (long long)v->unkeyed);
		break;
	default:
		printf("keyed checkpoint: not checked (--no-key); %lld events "
		       "are only hash-chained as far as this run knows\n",
		    (long long)v->unkeyed);
	}
	if (expect != NULL)
		printf("expected head %s: held\n", expect);
	printf("leases: %lld checked, each matches its last audit event\n",
	    (long long)v->leases);
}

int
cmd_audit_verify(struct cli *c)
{
	struct audit_verify_opts vo = { .lease_bad = verify_lease_bad };
	struct verify_ctx vc = { NULL, 0 };
	const char *expect = cli_get(c, "expect");
	char want[65];
	struct audit_verify v;
	cJSON *o = NULL, *ck;
	int rc;

	if (expect != NULL) {
		if ((rc = audit_parse_head(expect, &vo.expect_seq, want)) != 0)
			return cli_usage_error(c, "%s", janee_err_msg(rc));
		vo.expect_hash = want;
	}
	vo.no_key = cli_has(c, "no-key");
	if (!vo.no_key && (rc = verify_unlock(c)) != 0)
		return rc;
	if (cli_has(c, "json") &&
	    ((o = cJSON_CreateObject()) == NULL ||
		(vc.problems = cJSON_CreateArray()) == NULL)) {
		cJSON_Delete(o);
		return JANEE_ERR_NOMEM;
	}
	vo.arg = &vc;
	if ((rc = audit_verify_with(c->core.lg, &vo, &v)) != 0) {
		cJSON_Delete(o);
		cJSON_Delete(vc.problems);
		return rc;
	}
	if (o != NULL) {
		cJSON_AddBoolToObject(
		    o, "ok", v.bad_seq == 0 && v.lease_bad == 0);
		cJSON_AddNumberToObject(o, "rows", (double)v.rows);
		cJSON_AddStringToObject(o, "head", v.head);
		if (v.bad_seq != 0) {
			cJSON_AddNumberToObject(
			    o, "first_bad_seq", (double)v.bad_seq);
			cJSON_AddStringToObject(o, "problem", v.why);
		}
		cJSON_AddStringToObject(o, "keyed", keyed_name(v.keyed));
		if (v.keyed == AUDIT_KEYED_OK &&
		    (ck = cJSON_AddObjectToObject(o, "checkpoint")) != NULL) {
			cJSON_AddNumberToObject(ck, "seq", (double)v.ckpt_seq);
			cJSON_AddNumberToObject(
			    ck, "first", (double)v.ckpt_first);
		}
		cJSON_AddNumberToObject(o, "unkeyed", (double)v.unkeyed);
		if (expect != NULL)
			cJSON_AddStringToObject(o, "expect", expect);
		cJSON_AddNumberToObject(o, "leases", (double)v.leases);
		cJSON_AddNumberToObject(o, "lease_bad", (double)v.lease_bad);
		cJSON_AddItemToObject(o, "lease_problems", vc.problems);
		if ((rc = cli_print_json(o)) != 0)
			return rc;
	} else if (v.bad_seq == 0 && v.lease_bad == 0)
		verify_print(&v, expect);
	if (v.bad_seq != 0)
		return janee_err_set(JANEE_ERR_TAMPERED,
		    "audit chain broken "
		    "at row %lld: %s",
		    (long long)v.bad_seq, v.why);
	if (v.lease_bad != 0)
		return janee_err_set(JANEE_ERR_TAMPERED,
		    "%lld lease(s) differ from their last audit event: the "
		    "leases table was edited behind janee's back",
		    (long long)v.lease_bad);
	return 0;
}

int
cmd_audit_head(struct cli *c)
{
	char hash[65];
	int64_t seq;
	cJSON *o;
	int rc;

	if ((rc = audit_head(c->core.lg, &seq, hash)) != 0)
		return rc;
	if (!cli_has(c, "json")) {
		printf("%lld:%s\n", (long long)seq, hash);
		return 0;
	}
	if ((o = cJSON_CreateObject()) == NULL)
		return JANEE_ERR_NOMEM;
	cJSON_AddNumberToObject(o, "seq", (double)seq);
	cJSON_AddStringToObject(o, "hash", hash);
	return cli_print_json(o);
}

struct lookup_ctx {
	cJSON *arr;
	struct table t;
	int n;
};

static int
lookup_one(const struct lease *l, void *arg)
{
	struct lookup_ctx *lc = arg;
	cJSON *o;

	if (lc->arr == NULL) {
		if (cli_lease_table_add(&lc->t, l) != 0)
			return JANEE_ERR_NOMEM;
	} else if ((o = cli_lease_json(l)) == NULL ||
	    !cJSON_AddItemToArray(lc->arr, o))
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	lc->n++;
	return 0;
}

int
cmd_audit_lookup(struct cli *c)
{
	struct lease_filter f = { .active_only = 0 };
	struct lookup_ctx lc;
	char fp[STORE_FP_HEX];
	struct buf b;
	int rc;

	memset(&lc, 0, sizeof(lc));
	/* At a terminal the token is read hidden, never echoed. */
	if (isatty(STDIN_FILENO))
		rc = tty_read_hidden(
		    "paste the token, then Ctrl-D (input is hidden)\n", 1,
		    64 * 1024, &b);
	else {
		buf_init(&b, 64 * 1024);
		rc = buf_read_fd(&b, STDIN_FILENO);
	}
	if (rc != 0)
		return rc;
	while (b.len > 0 && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == '\r'))
		b.p[--b.len] = '\0';
	if (b.len == 0) {
		buf_free(&b);
		return janee_err_set(JANEE_ERR_USAGE, "no token on stdin");
	}
	rc = broker_unlock(&c->core.broker);
	if (rc == 0)
		rc = store_fingerprint(c->core.broker.store, b.p, b.len, fp);
	buf_free(&b);
	if (rc != 0)
		return rc;
	f.fingerprint = fp;
	if (cli_has(c, "json") && (lc.arr = cJSON_CreateArray()) == NULL)
		return JANEE_ERR_NOMEM;
	cli_lease_table(&lc.t);
	if ((rc = lease_each(c->core.lg, &f, lookup_one, &lc)) != 0) {
		cJSON_Delete(lc.arr);
		table_free(&lc.t);
		return rc;
	}
	if (lc.arr != NULL && (rc = cli_print_json(lc.arr)) != 0) {
		table_free(&lc.t);
		return rc;
	}
	if (lc.arr == NULL && lc.n > 0)
		table_print(&lc.t, stdout, "");
	table_free(&lc.t);
	if (lc.n == 0)
		return janee_err_set(JANEE_ERR_NOT_FOUND,
		    "no lease holds this token (fingerprint hmac-sha256:%s)",
		    fp);
	return 0;
}
