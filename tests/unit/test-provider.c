/*
 * Unit tests: the provider interface, version 3 (include/janee/provider.h),
 * one slot at a time through the test provider (tests/provider-test.c)
 * and variants of its table: the version, configure() with the core's
 * services and the info it returns (and a promise with no slot behind it,
 * refused), mint() with tokens of parts (sealed, fingerprinted, checked
 * against the info), revoke() with the lease id and every part,
 * reconcile() only when the info says so, login(), the lease_live
 * service, and resources.
 */
/* The clock offset of the test programs (src/util.h). */
#define JANEE_TEST_HOOKS 1
#include "common.h"

#include <dirent.h>
#include <sys/stat.h>

#include "broker.h"
#include "config.h"
#include "lease.h"
#include "secrets.h"
#include "util.h"

#include "t.h"

extern const struct janee_provider test_provider;

/* Variants of the test provider's table, set per case. */
static struct janee_provider variant;
static const struct janee_provider *table[3];
/* What a variant's configure() adds to the info the test provider gave. */
static void (*info_hook)(struct janee_info *info);
/* What a variant's mint() does to the token the test provider made. */
static int (*mint_hook)(struct janee_token *t);
/* What the last revoke() was given. */
static char revoked_lease[JANEE_LEASE_ID_LEN];
static size_t revoked_parts;

static int
variant_configure(struct janee_ctx *ctx, struct janee_cfg *cfg, void **state,
    struct janee_info *info)
{
	int rc = test_provider.configure(ctx, cfg, state, info);

	if (rc == 0 && info_hook != NULL)
		info_hook(info);
	return rc;
}

static int
variant_mint(struct janee_ctx *ctx, const struct janee_mint_req *req,
    struct janee_token *out)
{
	int rc = test_provider.mint(ctx, req, out);

	return rc == 0 && mint_hook != NULL ? mint_hook(out) : rc;
}

static int
variant_revoke(
    struct janee_ctx *ctx, const char *lease_id, const struct janee_token *tok)
{
	snprintf(revoked_lease, sizeof(revoked_lease), "%s", lease_id);
	revoked_parts = tok->nparts;
	return test_provider.revoke(ctx, lease_id, tok);
}

struct fx {
	char *dir, *prov;
	struct home h;
	struct ledger *lg;
	struct config *cfg;
	struct keysrc ks;
	struct broker b;
};

/* A home, its ledger and store, and a broker over config.json's json. */
static int
fx_open(struct fx *f, const char *entry)
{
	struct janee_ctx services;
	char *json;
	int rc;

	memset(f, 0, sizeof(*f));
	f->dir = t_tmpdir();
	f->prov = janee_asprintf("%s/prov", f->dir);
	mkdir(f->prov, 0700);
	f->ks.fd = f->ks.new_fd = -1;
	if (home_resolve(f->dir, &f->h) != 0 ||
	    ledger_open(f->h.db, 1, &f->lg) != 0 || ledger_begin(f->lg) != 0 ||
	    store_create(f->lg, &f->h, "keyfile", &f->ks) != 0 ||
	    ledger_commit(f->lg) != 0)
		abort();
	broker_init(&f->b, f->lg, &f->h, NULL, &f->ks);
	if (broker_unlock(&f->b) != 0 ||
	    secret_put(
		f->lg, f->b.store, "cs", "configure-secret", 16, "test") != 0)
		abort();
	broker_services(&f->b, &services);
	json = janee_asprintf(
	    "{\"providers\": {\"p\": {\"type\": \"%s\", \"state_dir\": \"%s\", \"scopes\": [\"read\"], \"approval\": \"auto\"%s}}}",
	    variant.type, f->prov, entry ? entry : "");
	janee_err_clear();
	rc = config_parse(json, "config.json", table, &services, &f->cfg);
	free(json);
	f->b.cfg = f->cfg;
	return rc;
}

static void
fx_close(struct fx *f)
{
	broker_free(&f->b);
	config_free(f->cfg);
	ledger_close(f->lg);
	home_free(&f->h);
	free(f->prov);
	free(f->dir);
	janee_clock_offset_ms = 0;
	janee_err_clear();
}

/* The variant: the test provider under the type "v", hooks cleared. */
static void
reset(void)
{
	variant = test_provider;
	variant.type = "v";
	variant.configure = variant_configure;
	variant.mint = variant_mint;
	variant.revoke = variant_revoke;
	table[0] = &variant;
	table[1] = NULL;
	info_hook = NULL;
	mint_hook = NULL;
	revoked_lease[0] = '\0';
	revoked_parts = 0;
}

static int
issue(struct fx *f, const char *resource, struct broker_grant *g)
{
	struct broker_req req;
	int rc;

	memset(&req, 0, sizeof(req));
	req.provider = "p";
	req.reason = "unit test";
	req.ttl_s = 600;
	if (janee_strlist_add(&req.scopes, "read") != 0 ||
	    (resource != NULL &&
		janee_strlist_add(&req.resources, resource) != 0))
		abort();
	janee_err_clear();
	rc = broker_issue(&f->b, &req, g);
	janee_strlist_free(&req.scopes);
	janee_strlist_free(&req.resources);
	return rc;
}

static int
live_tokens(const struct fx *f)
{
	struct dirent *e;
	DIR *d = opendir(f->prov);
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		n += strlen(e->d_name) == 64;
	if (d != NULL)
		closedir(d);
	return n;
}

static int
calls(const struct fx *f, const char *what)
{
	char *p = janee_asprintf("%s/calls.log", f->prov), line[256];
	FILE *fp = fopen(p, "r");
	int n = 0;

	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
		n += strncmp(line, what, strlen(what)) == 0;
	if (fp != NULL)
		fclose(fp);
	free(p);
	return n;
}

static int
found(const struct lease *l, void *arg)
{
	snprintf(arg, JANEE_LEASE_ID_LEN, "%s", l->id);
	return 0;
}

/* ---- the table ---- */

static void
another_version_is_refused(void)
{
	char want[64];
	struct fx f;

	reset();
	variant.version = JANEE_PROVIDER_VERSION - 1;
	snprintf(want, sizeof(want), "built for interface %d, not %d",
	    JANEE_PROVIDER_VERSION - 1, JANEE_PROVIDER_VERSION);
	T_EQ_INT(fx_open(&f, NULL), JANEE_ERR_CONFIG);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_CONFIG), want) != NULL);
	fx_close(&f);
	reset();
	variant.mint = NULL;
	T_EQ_INT(fx_open(&f, NULL), JANEE_ERR_CONFIG);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_CONFIG),
		     "no configure() or mint()") != NULL);
	fx_close(&f);
}

/* ---- configure() ---- */

static void
configure_has_the_core_services_before_it_runs(void)
{
	struct config *c = NULL;
	struct fx f;

	reset();
	/* The test provider refuses when a service is missing, and reads
	 * the secret "cs" in configure() itself. */
	T_EQ_INT(fx_open(&f, ", \"configure_secret\": \"secret:cs\""), 0);
	fx_close(&f);
	/* A check-only parse has services too: they refuse, plainly. */
	janee_err_clear();
	T_EQ_INT(
	    config_parse(
		"{\"providers\": {\"p\": {\"type\": \"v\", \"state_dir\": \"/tmp\", \"scopes\": [\"r\"], \"configure_secret\": \"secret:cs\"}}}",
		"config.json", table, NULL, &c),
	    JANEE_ERR_CONFIG);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_CONFIG),
		     "no secret store while checking") != NULL);
	janee_err_clear();
	T_EQ_INT(
	    config_parse(
		"{\"providers\": {\"p\": {\"type\": \"v\", \"state_dir\": \"/tmp\", \"scopes\": [\"r\"]}}}",
		"config.json", table, NULL, &c),
	    0);
	config_free(c);
}

static void
info_defaults_and_the_lifetime_ceiling(void)
{
	struct fx f;
	const struct prov *pv;

	reset();
	T_EQ_INT(fx_open(&f, NULL), 0);
	pv = config_find(f.cfg, "p");
	/* No parts named: one secret part "token", the primary. */
	T_EQ_STR(prov_primary(pv)->name, "token");
	T_ASSERT(prov_primary(pv)->flags & JANEE_PART_SECRET);
	T_ASSERT(prov_primary(pv)->env == NULL);
	T_EQ_INT(pv->info.revocable, 1);
	T_EQ_INT(pv->info.needs_login, 0);
	T_EQ_INT(pv->pol.max_ttl_s, 3600); /* janee's, with none named */
	fx_close(&f);
	/* The provider's default lifetime ceiling; config.json's wins. */
	T_EQ_INT(fx_open(&f, ", \"default_max_ttl\": \"20m\""), 0);
	T_EQ_INT(config_find(f.cfg, "p")->pol.max_ttl_s, 1200);
	T_EQ_INT(config_find(f.cfg, "p")->pol.default_ttl_s, 900);
	fx_close(&f);
	T_EQ_INT(
	    fx_open(&f, ", \"default_max_ttl\": \"20m\", \"max_ttl\": \"2m\""),
	    0);
	T_EQ_INT(config_find(f.cfg, "p")->pol.max_ttl_s, 120);
	T_EQ_INT(config_find(f.cfg, "p")->pol.default_ttl_s, 120);
	fx_close(&f);
	T_EQ_INT(fx_open(&f, ", \"api_base\": \"https://api.example\""), 0);
	pv = config_find(f.cfg, "p");
	T_EQ_STR(pv->info.api_base, "https://api.example");
	T_EQ_STR(pv->info.auth_header, "Authorization");
	T_EQ_STR(pv->info.auth_scheme, "Bearer");
	fx_close(&f);
}

static void
promise_revocable(struct janee_info *in)
{
	in->revocable = 1;
}
static void
promise_reconcilable(struct janee_info *in)
{
	in->reconcilable = 1;
}
static void
promise_login(struct janee_info *in)
{
	in->needs_login = 1;
}
static void
parts_twice(struct janee_info *in)
{
	static const struct janee_part_info p[] = { { "a", "A", 0 },
		{ "a", "B", 0 }, { NULL, NULL, 0 } };
	in->parts = p;
}
static void
same_variable(struct janee_info *in)
{
	static const struct janee_part_info p[] = { { "a", "V", 0 },
		{ "b", "V", 0 }, { NULL, NULL, 0 } };
	in->parts = p;
}
static void
bad_variable(struct janee_info *in)
{
	static const struct janee_part_info p[] = { { "a", "1X", 0 },
		{ NULL, NULL, 0 } };
	in->parts = p;
}
static void
primary_missing(struct janee_info *in)
{
	static const struct janee_part_info p[] = { { "a", NULL, 0 },
		{ NULL, NULL, 0 } };
	in->parts = p;
	in->primary = "b";
}

static void
an_info_the_table_cannot_keep_is_refused(void)
{
	static const struct {
		void (*hook)(struct janee_info *);
		int drop; /* 1 revoke, 2 reconcile, 3 login: no such slot */
		const char *says;
	} cases[] = {
		{ promise_revocable, 1, "can revoke but has no revoke()" },
		{ promise_reconcilable, 2,
		    "can reconcile but has no reconcile()" },
		{ promise_login, 3, "needs a login but has no login()" },
		{ parts_twice, 0, "twice" },
		{ same_variable, 0, "twice" },
		{ bad_variable, 0, "no variable name" },
		{ primary_missing, 0, "primary part it does not have" },
	};
	struct fx f;
	size_t i;
	int rc;

	for (i = 0; i < nitems(cases); i++) {
		reset();
		info_hook = cases[i].hook;
		if (cases[i].drop == 1)
			variant.revoke = NULL;
		if (cases[i].drop == 2)
			variant.reconcile = NULL;
		rc = fx_open(&f, NULL);
		T_ASSERT(rc != 0);
		if (strstr(janee_err_msg(rc), cases[i].says) == NULL) {
			fprintf(stderr, "  case %zu: \"%s\" lacks \"%s\"\n", i,
			    janee_err_msg(rc), cases[i].says);
			t_case_failed = 1;
		}
		fx_close(&f);
	}
}

/* ---- mint() and the token's parts ---- */

static void
parts_are_sealed_fingerprinted_and_handed_out(void)
{
	char fp[STORE_FP_HEX], id[JANEE_LEASE_ID_LEN] = "";
	struct lease_filter lf = { .active_only = 0 };
	const struct janee_secret *pw, *url;
	struct broker_grant g;
	struct lease l;
	struct fx f;

	reset();
	T_EQ_INT(fx_open(&f, ", \"parts\": \"login\""), 0);
	T_EQ_INT(issue(&f, NULL, &g), 0);
	T_EQ_INT(g.tok.nparts, 4);
	pw = janee_token_get(&g.tok, "password");
	url = janee_token_get(&g.tok, "url");
	T_ASSERT(pw != NULL && url != NULL &&
	    janee_token_get(&g.tok, "user") != NULL &&
	    janee_token_get(&g.tok, "host") != NULL);
	T_EQ_INT(lease_load(f.lg, g.lease_id, &l), 0);
	/* The primary (url) is the lease's fingerprint. */
	T_EQ_INT(store_fingerprint(f.b.store, url->data, url->len, fp), 0);
	T_EQ_STR(l.fingerprint, fp);
	/* Sealed, every part; none in clear. */
	T_ASSERT(l.sealed != NULL);
	T_ASSERT(memmem(l.sealed, l.sealed_len, pw->data, pw->len) == NULL);
	T_ASSERT(memmem(l.sealed, l.sealed_len, url->data, url->len) == NULL);
	lease_free(&l);
	/* The password, another secret part, leads to the lease too. */
	T_EQ_INT(store_fingerprint(f.b.store, pw->data, pw->len, fp), 0);
	lf.fingerprint = fp;
	T_EQ_INT(lease_each(f.lg, &lf, found, id), 0);
	T_EQ_STR(id, g.lease_id);
	/* A plain part is not fingerprinted: the user name finds nothing. */
	id[0] = '\0';
	T_EQ_INT(
	    store_fingerprint(f.b.store, janee_token_get(&g.tok, "user")->data,
		janee_token_get(&g.tok, "user")->len, fp),
	    0);
	T_EQ_INT(lease_each(f.lg, &lf, found, id), 0);
	T_EQ_STR(id, "");
	/* revoke() gets the lease id and all four parts, opened again. */
	T_EQ_INT(live_tokens(&f), 1);
	T_EQ_INT(broker_end(&f.b, g.lease_id, "done"), 0);
	T_EQ_STR(revoked_lease, g.lease_id);
	T_EQ_INT(revoked_parts, 4);
	T_EQ_INT(live_tokens(&f), 0);
	broker_grant_free(&g);
	fx_close(&f);
}

static void
a_one_part_token_is_sealed_as_its_bytes(void)
{
	const struct janee_secret *tok;
	struct janee_secret *open = NULL;
	struct broker_grant g;
	struct lease l;
	struct fx f;

	reset();
	T_EQ_INT(fx_open(&f, NULL), 0);
	T_EQ_INT(issue(&f, NULL, &g), 0);
	tok = janee_token_get(&g.tok, "token");
	T_EQ_INT(lease_load(f.lg, g.lease_id, &l), 0);
	/* As janee always sealed it: leases sealed before v2 open alike. */
	T_EQ_INT(store_open(f.b.store, "lease-token", l.id, l.sealed,
		     l.sealed_len, &open),
	    0);
	T_ASSERT(open != NULL && open->len == tok->len &&
	    memcmp(open->data, tok->data, tok->len) == 0);
	janee_secret_free(open);
	lease_free(&l);
	T_EQ_INT(broker_end(&f.b, g.lease_id, "done"), 0);
	T_EQ_INT(revoked_parts, 1);
	broker_grant_free(&g);
	fx_close(&f);
}

static int
drop_primary(struct janee_token *t)
{
	/* The url goes; the other parts stay. */
	janee_secret_free(t->parts[1].value);
	free(t->parts[1].name);
	t->parts[1] = t->parts[--t->nparts];
	return 0;
}

static int
add_undeclared(struct janee_token *t)
{
	return janee_token_put(t, "extra", janee_secret_new("x", 1), 0);
}

static void
a_token_not_as_declared_is_refused_and_ended(void)
{
	struct broker_grant g;
	struct lease l;
	struct fx f;
	int rc;

	reset();
	mint_hook = drop_primary;
	T_EQ_INT(fx_open(&f, ", \"parts\": \"login\""), 0);
	rc = issue(&f, NULL, &g);
	T_EQ_INT(rc, JANEE_ERR_PROVIDER);
	T_ASSERT(strstr(janee_err_msg(rc), "returned no token") != NULL);
	T_EQ_INT(g.tok.nparts, 0);
	T_EQ_INT(lease_load(f.lg, g.lease_id, &l), 0);
	T_EQ_INT(l.state, LEASE_FAILED);
	lease_free(&l);
	broker_grant_free(&g);
	fx_close(&f);

	reset();
	mint_hook = add_undeclared;
	T_EQ_INT(fx_open(&f, ", \"parts\": \"login\""), 0);
	rc = issue(&f, NULL, &g);
	T_EQ_INT(rc, JANEE_ERR_PROVIDER);
	T_ASSERT(strstr(janee_err_msg(rc),
		     "part 'extra' it does not declare") != NULL);
	/* It came back: it is revoked at once, not left live. */
	T_EQ_STR(revoked_lease, g.lease_id);
	T_EQ_INT(live_tokens(&f), 0);
	broker_grant_free(&g);
	fx_close(&f);
}

static void
not_revocable_means_no_sealed_copy_and_no_revoke(void)
{
	struct broker_grant g;
	struct lease l;
	struct fx f;

	reset();
	T_EQ_INT(
	    fx_open(&f, ", \"revocable\": false, \"expires_in\": \"2m\""), 0);
	T_EQ_INT(issue(&f, NULL, &g), 0);
	T_EQ_INT(g.revocable, 0);
	T_EQ_INT(lease_load(f.lg, g.lease_id, &l), 0);
	T_ASSERT(l.sealed == NULL);
	T_ASSERT(l.detail != NULL && strstr(l.detail, "not revocable") != NULL);
	/* It lives as long as the provider says, and no longer. */
	T_ASSERT(l.expires_ms - l.issued_ms <= 120000);
	lease_free(&l);
	T_EQ_INT(broker_end(&f.b, g.lease_id, "done"), 0);
	T_EQ_STR(revoked_lease, ""); /* revoke() was never called */
	T_EQ_INT(live_tokens(&f), 1);
	broker_grant_free(&g);
	fx_close(&f);
}

/* ---- reconcile() and lease_live ---- */

static void
unreconcilable(struct janee_info *in)
{
	in->reconcilable = 0;
}

static void
reconcile_runs_only_when_the_info_says(void)
{
	struct broker_grant g;
	struct sweep_report r;
	struct lease l;
	struct fx f;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		reset();
		info_hook = pass ? unreconcilable : NULL;
		T_EQ_INT(fx_open(&f, NULL), 0);
		T_EQ_INT(issue(&f, NULL, &g), 0);
		/* As a crash after the mint leaves it: minting, a token
		 * live at the provider. */
		T_EQ_INT(
		    ledger_exec(f.lg, "UPDATE leases SET state = 'minting'"),
		    0);
		janee_clock_offset_ms = 600 * 1000;
		memset(&r, 0, sizeof(r));
		T_EQ_INT(broker_sweep(&f.b, 1, &r), 0);
		T_EQ_INT(lease_load(f.lg, g.lease_id, &l), 0);
		/* Not reconcilable: a token may be live, janee cannot look. */
		T_EQ_INT(l.state, pass ? LEASE_ORPHANED : LEASE_FAILED);
		T_EQ_INT(calls(&f, "reconcile"), pass ? 0 : 1);
		T_ASSERT(l.detail != NULL &&
		    strstr(l.detail,
			pass ? "cannot look for a token" : "1 token(s)") !=
			NULL);
		T_EQ_INT(live_tokens(&f), pass ? 1 : 0);
		lease_free(&l);
		broker_grant_free(&g);
		fx_close(&f);
	}
}

static void
lease_live_answers_for_the_ledger(void)
{
	struct broker_grant g;
	struct prov *pv;
	struct fx f;

	reset();
	T_EQ_INT(fx_open(&f, NULL), 0);
	pv = config_find(f.cfg, "p");
	T_EQ_INT(issue(&f, NULL, &g), 0);
	T_EQ_INT(pv->ctx.lease_live(&pv->ctx, g.lease_id), 1);
	T_EQ_INT(broker_end(&f.b, g.lease_id, "done"), 0);
	T_EQ_INT(pv->ctx.lease_live(&pv->ctx, g.lease_id), 0);
	T_EQ_INT(
	    pv->ctx.lease_live(&pv->ctx, "lse_aaaaaaaaaaaaaaaaaaaaaaaaaa"), 0);
	T_ASSERT(!janee_err_pending());
	broker_grant_free(&g);
	fx_close(&f);
}

/* ---- login() ---- */

static void
no_login_slot_is_unsupported_not_a_failure(void)
{
	struct janee_login_ui ui;
	struct fx f;

	reset();
	memset(&ui, 0, sizeof(ui));
	T_EQ_INT(fx_open(&f, NULL), 0);
	T_EQ_INT(broker_login(&f.b, "p", &ui), JANEE_ERR_UNSUPPORTED);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_UNSUPPORTED),
		     "has no interactive login") != NULL);
	fx_close(&f);
}

/* ---- resources ---- */

static void
resources_by_either_name_and_none_without(void)
{
	struct broker_grant g;
	struct fx f;
	int rc;

	reset();
	/* The generic name and the provider's own, not both. */
	T_EQ_INT(fx_open(&f, ", \"resources\": [\"api\"]"), 0);
	T_EQ_INT(config_find(f.cfg, "p")->pol.resources.n, 1);
	rc = issue(&f, "web", &g);
	T_EQ_INT(rc, JANEE_ERR_POLICY);
	T_ASSERT(strstr(janee_err_msg(rc),
		     "repository 'web' is not on the allow-list") != NULL);
	broker_grant_free(&g);
	T_EQ_INT(issue(&f, "api", &g), 0);
	broker_grant_free(&g);
	fx_close(&f);
	T_EQ_INT(
	    fx_open(&f, ", \"resources\": [\"a\"], \"repositories\": [\"a\"]"),
	    JANEE_ERR_CONFIG);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_CONFIG), "give one") != NULL);
	fx_close(&f);
	/* A provider that narrows to scopes alone takes none. */
	reset();
	variant.resources = variant.resource = NULL;
	T_EQ_INT(fx_open(&f, ", \"resources\": [\"a\"]"), JANEE_ERR_CONFIG);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_CONFIG),
		     "narrows tokens to scopes alone") != NULL);
	fx_close(&f);
	T_EQ_INT(fx_open(&f, ", \"repositories\": [\"a\"]"), JANEE_ERR_CONFIG);
	T_ASSERT(strstr(janee_err_msg(JANEE_ERR_CONFIG),
		     "unknown key 'repositories'") != NULL);
	fx_close(&f);
	T_EQ_INT(fx_open(&f, NULL), 0);
	rc = issue(&f, "api", &g);
	T_EQ_INT(rc, JANEE_ERR_POLICY);
	T_ASSERT(strstr(janee_err_msg(rc), "it takes no resources") != NULL);
	T_EQ_INT(calls(&f, "mint"), 0);
	broker_grant_free(&g);
	fx_close(&f);
}

int
main(void)
{
	T_RUN(another_version_is_refused);
	T_RUN(configure_has_the_core_services_before_it_runs);
	T_RUN(info_defaults_and_the_lifetime_ceiling);
	T_RUN(an_info_the_table_cannot_keep_is_refused);
	T_RUN(parts_are_sealed_fingerprinted_and_handed_out);
	T_RUN(a_one_part_token_is_sealed_as_its_bytes);
	T_RUN(a_token_not_as_declared_is_refused_and_ended);
	T_RUN(not_revocable_means_no_sealed_copy_and_no_revoke);
	T_RUN(reconcile_runs_only_when_the_info_says);
	T_RUN(lease_live_answers_for_the_ledger);
	T_RUN(no_login_slot_is_unsupported_not_a_failure);
	T_RUN(resources_by_either_name_and_none_without);
	return t_done();
}
