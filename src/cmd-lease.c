/* janee lease list | show | revoke | sweep. */
#include "common.h"

#include "buf.h"
#include "cli.h"
#include "grant.h"
#include "lease.h"
#include "table.h"
#include "util.h"

/*
 * An orphan's state in full: its token, which janee never recorded, may
 * be live until then (or until its own expiry, when that is not known).
 */
static const char *
orphan_state(const struct lease *l, char *buf, size_t n)
{
	char t[JANEE_TIME_LEN];

	if (l->expires_ms != 0)
		janee_time_fmt(l->expires_ms, t);
	if (!lease_may_be_live(l, janee_now_ms()))
		snprintf(buf, n, "orphaned: its token expired by %s", t);
	else
		snprintf(buf, n, "orphaned: may be live until %s",
		    l->expires_ms != 0 ? t : "its own expiry");
	return buf;
}

/* "active", or "active (overdue)" once its end has passed. */
static const char *
shown_state(const struct lease *l, char *buf, size_t n)
{
	if (l->state == LEASE_ACTIVE && l->attempts > 0)
		snprintf(buf, n, "active (revoke retry %lld)",
		    (long long)l->attempts);
	else if (l->state == LEASE_ACTIVE && l->expires_ms <= janee_now_ms())
		snprintf(buf, n, "active (overdue)");
	else
		snprintf(buf, n, "%s", lease_state_name(l->state));
	return buf;
}

char *
cli_scope_list(const char *json)
{
	cJSON *a = json ? cJSON_Parse(json) : NULL;
	const cJSON *e;
	struct buf b;
	int rc = 0;

	if (!cJSON_IsArray(a)) {
		cJSON_Delete(a);
		return janee_strdup(json ? json : "-");
	}
	buf_init(&b, 1 << 20);
	cJSON_ArrayForEach(e, a)
	{
		if (rc == 0 && b.len > 0)
			rc = buf_addstr(&b, " ");
		if (rc == 0)
			rc = buf_addstr(
			    &b, cJSON_IsString(e) ? e->valuestring : "?");
	}
	cJSON_Delete(a);
	if (rc == 0 && b.len == 0)
		rc = buf_addstr(&b, "-");
	if (rc != 0) {
		buf_free(&b);
		return NULL;
	}
	return b.p;
}

/* A state's colour: live green, waiting yellow, failed red, ended none. */
static const char *
state_colour(const char *cell)
{
	if (strncmp(cell, "active (", 8) == 0 ||
	    strncmp(cell, "orphaned", 8) == 0)
		return "33";
	if (strcmp(cell, "active") == 0)
		return "32";
	if (strcmp(cell, "requested") == 0 || strcmp(cell, "approved") == 0 ||
	    strcmp(cell, "minting") == 0)
		return "33";
	if (strcmp(cell, "failed") == 0 || strcmp(cell, "irrevocable") == 0)
		return "31";
	return NULL;
}

void
cli_lease_table(struct table *t)
{
	static const char *const head[] = { "ID", "PROVIDER", "STATE",
		"EXPIRES", "SCOPES", NULL };

	table_init(t, head);
	table_colour(t, 2, state_colour);
}

int
cli_lease_table_add(struct table *t, const struct lease *l)
{
	char exp[32], st[48], *scopes;
	const char *row[5];
	int rc;

	if (l->expires_ms)
		table_time_rel(l->expires_ms, janee_now_ms(), exp, sizeof(exp));
	else
		snprintf(exp, sizeof(exp), "-");
	if ((scopes = cli_scope_list(l->granted ? l->granted : l->requested)) ==
	    NULL)
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	row[0] = l->id;
	row[1] = l->provider;
	row[2] = shown_state(l, st, sizeof(st));
	row[3] = exp;
	row[4] = scopes;
	rc = table_add(t, row);
	free(scopes);
	return rc;
}

static void
add_time(cJSON *o, const char *key, int64_t ms)
{
	char t[JANEE_TIME_LEN];

	if (ms == 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	janee_time_fmt(ms, t);
	cJSON_AddStringToObject(o, key, t);
}

static void
add_str(cJSON *o, const char *key, const char *v)
{
	if (v == NULL)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddStringToObject(o, key, v);
}

static void
add_scopes(cJSON *o, const char *key, const char *json)
{
	cJSON *a = json ? cJSON_Parse(json) : NULL;

	if (a == NULL)
		a = cJSON_CreateArray();
	cJSON_AddItemToObject(o, key, a);
}

cJSON *
cli_lease_json(const struct lease *l)
{
	cJSON *o;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	/* MCP's name for it (list_leases); "id" stays for older scripts. */
	add_str(o, "lease_id", l->id);
	add_str(o, "id", l->id);
	add_str(o, "provider", l->provider);
	add_str(o, "state", lease_state_name(l->state));
	cJSON_AddBoolToObject(o, "overdue",
	    l->state == LEASE_ACTIVE && l->expires_ms <= janee_now_ms());
	/* An orphan's token, which janee cannot end, may still be live. */
	cJSON_AddBoolToObject(
	    o, "may_be_live", lease_may_be_live(l, janee_now_ms()));
	add_str(o, "account", l->account);
	add_str(o, "client", l->client);
	/* The verified remote agent (team mode), or null: a local client. */
	add_str(o, "agent", l->agent);
	add_str(o, "session", l->session);
	add_str(o, "reason", l->reason);
	add_scopes(o, "requested_scopes", l->requested);
	add_scopes(o, "granted_scopes", l->granted);
	cJSON_AddNumberToObject(o, "ttl_seconds", (double)l->ttl_s);
	add_time(o, "created_at", l->created_ms);
	add_time(o, "approved_at", l->approved_ms);
	add_time(o, "issued_at", l->issued_ms);
	add_time(o, "expires_at", l->expires_ms);
	add_time(o, "ended_at", l->ended_ms);
	add_str(o, "fingerprint", l->fingerprint);
	cJSON_AddNumberToObject(o, "revoke_attempts", (double)l->attempts);
	add_time(o, "next_attempt_at",
	    l->state == LEASE_ACTIVE && l->attempts > 0 ? l->next_attempt_ms
							: 0);
	add_str(o, "detail", l->detail);
	return o;
}

struct each_ctx {
	cJSON *arr;
	struct table t;
};

static int
list_one(const struct lease *l, void *arg)
{
	struct each_ctx *ec = arg;
	cJSON *o;

	if (ec->arr == NULL)
		return cli_lease_table_add(&ec->t, l);
	if ((o = cli_lease_json(l)) == NULL ||
	    !cJSON_AddItemToArray(ec->arr, o))
		return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	return 0;
}

/* One session grant for people (approvals, lease list). */
int
cli_grant_row(const struct grant *g, void *arg)
{
	char t[JANEE_TIME_LEN], d[32];
	int64_t now = janee_now_ms();

	(void)arg;
	janee_time_fmt(g->expires_ms, t);
	janee_duration_fmt(g->max_ttl_s, d, sizeof(d));
	/* Scopes and repositories were the agent's words, as approved. */
	printf("%s  %s  provider %s, scopes ", g->id,
	    g->revoked		      ? "revoked"
		: g->expires_ms > now ? "in force"
				      : "expired",
	    g->provider);
	cli_put_text(stdout, g->scopes, 0);
	if (g->repositories != NULL) {
		fputs(", repositories ", stdout);
		cli_put_text(stdout, g->repositories, 0);
	}
	printf(", leases up to %s, until %s\n    for session %.8s of ", d, t,
	    g->session);
	cli_put_text(stdout, g->client ? g->client : "?", 0);
	printf(" (granted with %s); revoke: janee lease revoke %s\n",
	    g->lease_id, g->id);
	return 0;
}

static int
count_grant(const struct grant *g, void *arg)
{
	(void)g;
	(*(int *)arg)++;
	return 0;
}

struct grants_json {
	struct ledger *lg;
	cJSON *arr;
};

static int
grant_json(const struct grant *g, void *arg)
{
	struct grants_json *gj = arg;
	cJSON *o = cJSON_CreateObject(), *ids;
	struct janee_strlist leases;
	char t[JANEE_TIME_LEN];
	size_t i;
	int rc;

	memset(&leases, 0, sizeof(leases));
	if (o == NULL || !cJSON_AddItemToArray(gj->arr, o))
		return JANEE_ERR_NOMEM;
	/* approve --json's name for it; "id" stays for older scripts. */
	cJSON_AddStringToObject(o, "grant_id", g->id);
	cJSON_AddStringToObject(o, "id", g->id);
	cJSON_AddStringToObject(o, "state",
	    g->revoked				 ? "revoked"
		: g->expires_ms > janee_now_ms() ? "active"
						 : "expired");
	cJSON_AddStringToObject(o, "provider", g->provider);
	cJSON_AddItemToObject(o, "scopes", cJSON_Parse(g->scopes));
	cJSON_AddItemToObject(o, "repositories",
	    g->repositories ? cJSON_Parse(g->repositories)
			    : cJSON_CreateNull());
	cJSON_AddStringToObject(o, "session", g->session);
	if (g->client)
		cJSON_AddStringToObject(o, "client", g->client);
	cJSON_AddNumberToObject(o, "max_ttl_seconds", (double)g->max_ttl_s);
	cJSON_AddStringToObject(o, "granted_with", g->lease_id);
	janee_time_fmt(g->created_ms, t);
	cJSON_AddStringToObject(o, "created_at", t);
	janee_time_fmt(g->expires_ms, t);
	cJSON_AddStringToObject(o, "expires_at", t);
	if (g->ended_ms) {
		janee_time_fmt(g->ended_ms, t);
		cJSON_AddStringToObject(o, "ended_at", t);
	}
	if ((rc = grant_leases(gj->lg, g->id, &leases)) != 0)
		return rc;
	ids = cJSON_AddArrayToObject(o, "leases");
	for (i = 0; i < leases.n; i++)
		cJSON_AddItemToArray(ids, cJSON_CreateString(leases.v[i]));
	janee_strlist_free(&leases);
	return 0;
}

/* lease list --grants: session grants, in force (or --all) */
static int
list_grants(struct cli *c)
{
	struct grant_filter gf = { .live_only = !cli_has(c, "all"),
		.now_ms = janee_now_ms() };
	struct grants_json gj = { c->core.lg, NULL };
	int rc;

	int n = 0;

	if (!cli_has(c, "json")) {
		if ((rc = grant_each(c->core.lg, &gf, count_grant, &n)) != 0)
			return rc;
		if (n == 0) {
			printf(gf.live_only ? "no session grants in force (all "
					      "of them: janee lease list "
					      "--grants --all)\n"
					    : "no session grants\n");
			return 0;
		}
		return grant_each(c->core.lg, &gf, cli_grant_row, NULL);
	}
	if ((gj.arr = cJSON_CreateArray()) == NULL)
		return JANEE_ERR_NOMEM;
	if ((rc = grant_each(c->core.lg, &gf, grant_json, &gj)) != 0) {
		cJSON_Delete(gj.arr);
		return rc;
	}
	return cli_print_json(gj.arr);
}

int
cmd_lease_list(struct cli *c)
{
	struct lease_filter f = { .active_only = 1 };
	struct grant_filter gf;
	struct each_ctx ec;
	int rc, n = 0;

	memset(&ec, 0, sizeof(ec));
	if (cli_has(c, "active") && cli_has(c, "all"))
		return cli_usage_error(
		    c, "--active and --all exclude each other");
	f.active_only = !cli_has(c, "all");
	f.provider = cli_get(c, "provider");
	if (cli_has(c, "grants"))
		return list_grants(c);
	if (cli_has(c, "json") && (ec.arr = cJSON_CreateArray()) == NULL)
		return JANEE_ERR_NOMEM;
	cli_lease_table(&ec.t);
	if ((rc = lease_each(c->core.lg, &f, list_one, &ec)) != 0 ||
	    ec.arr != NULL) {
		if (rc == 0)
			rc = cli_print_json(ec.arr);
		else
			cJSON_Delete(ec.arr);
		table_free(&ec.t);
		return rc;
	}
	table_print(&ec.t, stdout,
	    f.active_only
		? "no active leases (all of them: janee lease list --all)"
		: "no leases");
	table_free(&ec.t);
	/* The session grants in force approve leases too: say so here. */
	gf.now_ms = janee_now_ms();
	gf.live_only = 1;
	if ((rc = grant_each(c->core.lg, &gf, count_grant, &n)) != 0 || n == 0)
		return rc;
	printf("\nsession grants in force:\n");
	return grant_each(c->core.lg, &gf, cli_grant_row, NULL);
}

/* A labelled line whose value may come from an agent. */
static void
show_text(const char *label, const char *v)
{
	fputs(label, stdout);
	cli_put_text(stdout, v, 0);
	putchar('\n');
}

static void
show_scopes(const char *label, const char *json)
{
	char *s = cli_scope_list(json);

	show_text(label, s ? s : "?");
	free(s);
}

int
cmd_lease_show(struct cli *c)
{
	struct lease l;
	char t[JANEE_TIME_LEN], st[80];
	int rc;

	if ((rc = lease_load(c->core.lg, c->pos[0], &l)) != 0)
		return rc;
	if (cli_has(c, "json")) {
		rc = cli_print_json(cli_lease_json(&l));
		lease_free(&l);
		return rc;
	}
	printf("id:         %s\n", l.id);
	printf("provider:   %s\n", l.provider);
	printf("state:      %s\n",
	    l.state == LEASE_ORPHANED ? orphan_state(&l, st, sizeof(st))
				      : shown_state(&l, st, sizeof(st)));
	show_text("client:     ", l.client);
	if (l.session)
		show_text("session:    ", l.session);
	show_text("reason:     ", l.reason ? l.reason : "-");
	show_scopes("requested:  ", l.requested);
	show_scopes("granted:    ", l.granted);
	printf("ttl:        %llds\n", (long long)l.ttl_s);
	janee_time_fmt(l.created_ms, t);
	printf("created:    %s\n", t);
	if (l.issued_ms) {
		janee_time_fmt(l.issued_ms, t);
		printf("issued:     %s\n", t);
	}
	if (l.expires_ms) {
		janee_time_fmt(l.expires_ms, t);
		printf("expires:    %s\n", t);
	}
	if (l.ended_ms) {
		janee_time_fmt(l.ended_ms, t);
		printf("ended:      %s\n", t);
	}
	if (l.fingerprint)
		printf("token:      hmac-sha256:%s\n", l.fingerprint);
	if (l.attempts)
		printf("%s %lld failed attempt%s\n",
		    l.state == LEASE_MINTING || l.state == LEASE_ORPHANED
			? "reconcile: "
			: "revocation:",
		    (long long)l.attempts, l.attempts == 1 ? "" : "s");
	if (l.detail)
		show_text("detail:     ", l.detail);
	lease_free(&l);
	return 0;
}

struct revoke_ctx {
	struct janee_strlist ids;
};

static int
collect(const struct lease *l, void *arg)
{
	struct revoke_ctx *rcx = arg;

	/* An orphan's token was never recorded: there is nothing to end. */
	if (l->state == LEASE_ORPHANED)
		return 0;
	return janee_strlist_add(&rcx->ids, l->id);
}

int
cli_end_leases(struct cli *c, const char *provider)
{
	struct lease_filter f = { .active_only = 1 };
	struct revoke_ctx rcx;
	size_t i, ok = 0, failed = 0;
	int rc;

	memset(&rcx, 0, sizeof(rcx));
	f.provider = provider;
	if ((rc = lease_each(c->core.lg, &f, collect, &rcx)) != 0)
		goto out;
	for (i = 0; i < rcx.ids.n; i++) {
		if ((rc = broker_end(&c->core.broker, rcx.ids.v[i],
			 "revoked by the user")) == 0) {
			ok++;
			continue;
		}
		fprintf(stderr, "janee: %s\n", janee_err_msg(rc));
		janee_err_clear();
		failed++;
		if (rc == JANEE_ERR_LOCKED || rc == JANEE_ERR_BAD_KEY)
			break;
	}
	fprintf(stderr, "janee: revoked %zu lease%s%s", ok, ok == 1 ? "" : "s",
	    failed ? "" : "\n");
	if (failed)
		fprintf(stderr, ", %zu failed\n", failed);
	rc = failed
	    ? janee_err_set(JANEE_ERR_PROVIDER, "%zu lease%s not revoked",
		  failed, failed == 1 ? " was" : "s were")
	    : 0;
out:
	janee_strlist_free(&rcx.ids);
	return rc;
}

int
cmd_lease_revoke(struct cli *c)
{
	int rc, byfilter = cli_has(c, "all") || cli_has(c, "provider");

	if (byfilter == (c->npos == 1) || c->npos > 1 ||
	    (cli_has(c, "all") && cli_has(c, "provider")))
		return cli_usage_error(c,
		    "name one lease ID, or --provider P, "
		    "or --all");
	if (!byfilter && grant_id_valid(c->pos[0])) {
		/* A session grant: no more approvals, and its leases end. */
		if ((rc = broker_grant_end(&c->core.broker, c->pos[0],
			 "revoked by the user")) != 0)
			return rc;
		fprintf(stderr,
		    "janee: revoked session grant %s and ended its leases\n",
		    c->pos[0]);
		return 0;
	}
	if (!byfilter) {
		if ((rc = broker_end(&c->core.broker, c->pos[0],
			 "revoked by the user")) != 0)
			return rc;
		fprintf(stderr, "janee: revoked lease %s\n", c->pos[0]);
		return 0;
	}
	return cli_end_leases(c, cli_get(c, "provider"));
}

int
cmd_lease_sweep(struct cli *c)
{
	struct sweep_report r = { 0 };
	int rc;

	if ((rc = broker_sweep(&c->core.broker, 1, &r)) != 0)
		return rc;
	if (cli_has(c, "json")) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "expired", (double)r.expired);
		cJSON_AddNumberToObject(o, "retrying", (double)r.retrying);
		cJSON_AddNumberToObject(
		    o, "irrevocable", (double)r.irrevocable);
		cJSON_AddNumberToObject(o, "orphaned", (double)r.orphaned);
		cJSON_AddNumberToObject(o, "abandoned", (double)r.abandoned);
		return cli_print_json(o);
	}
	printf(
	    "expired %lld, retrying %lld, irrevocable %lld, orphaned %lld, abandoned %lld\n",
	    (long long)r.expired, (long long)r.retrying,
	    (long long)r.irrevocable, (long long)r.orphaned,
	    (long long)r.abandoned);
	return 0;
}
