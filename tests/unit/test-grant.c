/*
 * Unit tests: session grants in the broker (src/grant.h), and how a
 * decision's channel and a front end's capabilities route approval.
 * Requests against the test provider from one MCP session; a person
 * approves one with a grant; later requests are or are not approved by
 * it without asking.
 */
#define JANEE_TEST_HOOKS 1
#include "common.h"

#include <sys/stat.h>

#include "audit.h"
#include "broker.h"
#include "grant.h"
#include "lease.h"
#include "util.h"

#include "t.h"

extern const struct janee_provider test_provider;

static const struct janee_provider *table[] = { &test_provider, NULL };

struct fx {
	char *dir, *prov;
	struct home h;
	struct ledger *lg;
	struct config *cfg;
	struct keysrc ks;
	struct broker b;
};

static void
fx_open(struct fx *f)
{
	struct janee_ctx services;
	char *json;

	memset(f, 0, sizeof(*f));
	f->dir = t_tmpdir();
	f->prov = janee_asprintf("%s/prov", f->dir);
	mkdir(f->prov, 0700);
	f->ks.fd = f->ks.new_fd = -1;
	json = janee_asprintf(
	    "{\"providers\": {"
	    "\"g\": {\"type\": \"test\", \"state_dir\": \"%s\", \"scopes\": "
	    "[\"read\", \"write\", \"admin\"], \"max_ttl\": \"1h\", "
	    "\"approval\": \"ask\", \"session_grant_max\": \"30m\", "
	    "\"require_out_of_band\": [\"admin\"]},"
	    "\"r\": {\"type\": \"test\", \"state_dir\": \"%s\", \"scopes\": "
	    "[\"read\"], \"repositories\": [\"api\", \"web\"], \"approval\": "
	    "\"out-of-band\", \"session_grant_max\": \"30m\"},"
	    "\"off\": {\"type\": \"test\", \"state_dir\": \"%s\", \"scopes\": "
	    "[\"read\"], \"approval\": \"ask\"}}}",
	    f->prov, f->prov, f->prov);
	if (home_resolve(f->dir, &f->h) != 0 ||
	    ledger_open(f->h.db, 1, &f->lg) != 0 || ledger_begin(f->lg) != 0 ||
	    store_create(f->lg, &f->h, "keyfile", &f->ks) != 0 ||
	    ledger_commit(f->lg) != 0) {
		fprintf(stderr, "fixture: %s\n", janee_err_msg(-1));
		abort();
	}
	/* As core_broker does: the broker's services before configure(). */
	broker_init(&f->b, f->lg, &f->h, NULL, &f->ks);
	broker_services(&f->b, &services);
	if (config_parse(json, "test", table, &services, &f->cfg) != 0) {
		fprintf(stderr, "fixture: %s\n", janee_err_msg(-1));
		abort();
	}
	free(json);
	f->b.cfg = f->cfg;
	f->b.client = "agent/1.0";
	f->b.session = "session-a";
	f->b.actor = "agent";
	janee_clock_offset_ms = 0;
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

/* "a,b,c" into l. */
static void
add_list(struct janee_strlist *l, const char *s)
{
	char item[64];
	size_t n;

	for (; s != NULL && *s != '\0'; s += n + (s[n] == ',')) {
		n = strcspn(s, ",");
		snprintf(item, sizeof(item), "%.*s", (int)n, s);
		if (janee_strlist_add(l, item) != 0)
			abort();
	}
}

/*
 * Submit as janee serve would with a client that can do nothing but
 * wait: rc of broker_submit; *id gets the lease id.
 */
static int
ask(struct fx *f, const char *prov, const char *scopes, int64_t ttl,
    const char *repos, char id[JANEE_LEASE_ID_LEN], enum broker_route *route)
{
	struct broker_req req;
	struct broker_grant g;
	int rc;

	memset(&req, 0, sizeof(req));
	req.provider = prov;
	req.ttl_s = ttl;
	req.reason = "unit test";
	add_list(&req.scopes, scopes);
	add_list(&req.resources, repos);
	rc = broker_submit(&f->b, &req, BROKER_CAN_WAIT, &g);
	memcpy(id, g.lease_id, JANEE_LEASE_ID_LEN);
	if (route != NULL)
		*route = g.route;
	broker_grant_free(&g);
	janee_strlist_free(&req.scopes);
	janee_strlist_free(&req.resources);
	janee_err_clear();
	return rc;
}

static enum lease_state
state_of(struct fx *f, const char *id)
{
	struct lease l;
	enum lease_state s;

	if (lease_load(f->lg, id, &l) != 0)
		return LEASE_NSTATES;
	s = l.state;
	lease_free(&l);
	return s;
}

/* A request from session-a approved by a person with a grant. */
static void
granted(struct fx *f, const char *prov, const char *scopes, int64_t ttl,
    const char *repos, int64_t grant_s, char gid[JANEE_LEASE_ID_LEN],
    char lid[JANEE_LEASE_ID_LEN])
{
	struct broker_grant g;

	T_EQ_INT(
	    ask(f, prov, scopes, ttl, repos, lid, NULL), JANEE_ERR_PENDING);
	T_EQ_INT(broker_approve_grant(
		     &f->b, lid, "user", "unit test", 0, grant_s, gid),
	    0);
	T_EQ_INT(broker_collect(&f->b, lid, &g), 0);
	broker_grant_free(&g);
	T_EQ_INT(state_of(f, lid), LEASE_ACTIVE);
}

static int
find_detail(const struct audit_row *r, void *arg)
{
	const char *want = arg;

	return r->detail != NULL && strcmp(r->detail, want) == 0 &&
	    strcmp(r->event, "approved") == 0 && strcmp(r->actor, "janee") == 0;
}

static void
a_grant_covers_a_narrower_request_of_the_session(void)
{
	struct fx f;
	char gid[JANEE_LEASE_ID_LEN], lid[JANEE_LEASE_ID_LEN];
	char id[JANEE_LEASE_ID_LEN], *want;
	enum broker_route route;
	struct audit_filter af;

	fx_open(&f);
	granted(&f, "g", "read,write", 900, NULL, 600, gid, lid);
	T_ASSERT(grant_id_valid(gid));
	/* Narrower scopes, a shorter lifetime, the same session. */
	T_EQ_INT(ask(&f, "g", "read", 300, NULL, id, &route), 0);
	T_EQ_INT(route, BROKER_GRANTED);
	T_EQ_INT(state_of(&f, id), LEASE_ACTIVE);
	/* The same set and lifetime is covered too. */
	T_EQ_INT(ask(&f, "g", "write,read", 900, NULL, id, &route), 0);
	T_EQ_INT(route, BROKER_GRANTED);
	/* Audited as approved by the grant. */
	want = janee_asprintf("approved (session grant %s)", gid);
	audit_filter_init(&af);
	af.lease_id = id;
	T_EQ_INT(audit_each(f.lg, &af, find_detail, want), 1);
	free(want);
	fx_close(&f);
}

static void
a_grant_never_covers_a_wider_request(void)
{
	struct fx f;
	char gid[JANEE_LEASE_ID_LEN], lid[JANEE_LEASE_ID_LEN];
	char id[JANEE_LEASE_ID_LEN];

	fx_open(&f);
	granted(&f, "g", "read", 900, NULL, 600, gid, lid);
	/* A scope more, a lifetime longer: a person decides again. */
	T_EQ_INT(
	    ask(&f, "g", "read,write", 300, NULL, id, NULL), JANEE_ERR_PENDING);
	T_EQ_INT(state_of(&f, id), LEASE_REQUESTED);
	T_EQ_INT(ask(&f, "g", "read", 901, NULL, id, NULL), JANEE_ERR_PENDING);
	T_EQ_INT(ask(&f, "g", "write", 60, NULL, id, NULL), JANEE_ERR_PENDING);
	fx_close(&f);
}

static void
a_grant_covers_repositories_within_its_own(void)
{
	struct fx f;
	char gid[JANEE_LEASE_ID_LEN], lid[JANEE_LEASE_ID_LEN];
	char id[JANEE_LEASE_ID_LEN];

	fx_open(&f);
	granted(&f, "r", "read", 900, "api", 600, gid, lid);
	T_EQ_INT(ask(&f, "r", "read", 300, "api", id, NULL), 0);
	/* Another repository, or none (which means the whole allow-list). */
	T_EQ_INT(ask(&f, "r", "read", 300, "web", id, NULL), JANEE_ERR_PENDING);
	T_EQ_INT(
	    ask(&f, "r", "read", 300, "api,web", id, NULL), JANEE_ERR_PENDING);
	T_EQ_INT(ask(&f, "r", "read", 300, NULL, id, NULL), JANEE_ERR_PENDING);
	fx_close(&f);
}

static void
a_grant_covers_no_other_session(void)
{
	struct fx f;
	char gid[JANEE_LEASE_ID_LEN], lid[JANEE_LEASE_ID_LEN];
	char id[JANEE_LEASE_ID_LEN];

	fx_open(&f);
	granted(&f, "g", "read", 900, NULL, 600, gid, lid);
	f.b.session = "session-b";
	T_EQ_INT(ask(&f, "g", "read", 60, NULL, id, NULL), JANEE_ERR_PENDING);
	/* Nor a request from no session at all (the CLI). */
	f.b.session = NULL;
	T_EQ_INT(ask(&f, "g", "read", 60, NULL, id, NULL), JANEE_ERR_PENDING);
	fx_close(&f);
}

static void
a_grant_covers_nothing_once_expired(void)
{
	struct fx f;
	char gid[JANEE_LEASE_ID_LEN], lid[JANEE_LEASE_ID_LEN];
	char id[JANEE_LEASE_ID_LEN];

	fx_open(&f);
	granted(&f, "g", "read", 60, NULL, 300, gid, lid);
	janee_clock_offset_ms = 299 * 1000;
	T_EQ_INT(ask(&f, "g", "read", 60, NULL, id, NULL), 0);
	janee_clock_offset_ms = 301 * 1000;
	T_EQ_INT(ask(&f, "g", "read", 60, NULL, id, NULL), JANEE_ERR_PENDING);
	fx_close(&f);
}

static void
revoking_a_grant_stops_it_and_ends_its_leases(void)
{
	struct fx f;
	char gid[JANEE_LEASE_ID_LEN], lid[JANEE_LEASE_ID_LEN];
	char id[JANEE_LEASE_ID_LEN], id2[JANEE_LEASE_ID_LEN];
	struct grant gr;

	fx_open(&f);
	granted(&f, "g", "read", 900, NULL, 600, gid, lid);
	T_EQ_INT(ask(&f, "g", "read", 60, NULL, id, NULL), 0);
	/* Approved under the grant but not yet collected. */
	T_EQ_INT(ask(&f, "g", "read", 60, NULL, id2, NULL), 0);
	T_EQ_INT(broker_grant_end(&f.b, gid, "unit test"), 0);
	T_EQ_INT(grant_load(f.lg, gid, &gr), 0);
	T_ASSERT(gr.revoked && !grant_live(&gr, janee_now_ms()));
	grant_free(&gr);
	T_EQ_INT(state_of(&f, lid), LEASE_REVOKED);
	T_EQ_INT(state_of(&f, id), LEASE_REVOKED);
	T_EQ_INT(state_of(&f, id2), LEASE_REVOKED);
	T_EQ_INT(ask(&f, "g", "read", 60, NULL, id, NULL), JANEE_ERR_PENDING);
	/* Once: a second revocation says it is not in force. */
	T_EQ_INT(broker_grant_end(&f.b, gid, "again"), JANEE_ERR_STATE);
	fx_close(&f);
}

static int
count_row(const struct audit_row *r, void *arg)
{
	(void)r;
	++*(int *)arg;
	return 0;
}

/*
 * The provider goes (provider rm, logout): its grants in force end, each
 * audited, with the leases they approved; another provider's grant, and
 * one that expired, are left as they are.
 */
static void
a_providers_grants_end_with_it(void)
{
	struct fx f;
	char g1[JANEE_LEASE_ID_LEN], g2[JANEE_LEASE_ID_LEN];
	char g3[JANEE_LEASE_ID_LEN], l1[JANEE_LEASE_ID_LEN];
	char l2[JANEE_LEASE_ID_LEN], l3[JANEE_LEASE_ID_LEN];
	char id[JANEE_LEASE_ID_LEN];
	struct audit_filter af;
	struct grant gr;
	size_t n = 99;
	int k;

	fx_open(&f);
	/* g1 expires at 60 s; g2 (another session) and g3 (r) hold. */
	granted(&f, "g", "read", 30, NULL, 60, g1, l1);
	janee_clock_offset_ms = 61 * 1000;
	f.b.session = "session-b";
	granted(&f, "g", "read", 900, NULL, 600, g2, l2);
	granted(&f, "r", "read", 900, "api", 600, g3, l3);
	T_EQ_INT(ask(&f, "g", "read", 60, NULL, id, NULL), 0);
	T_EQ_INT(broker_end_provider_grants(&f.b, "g", "logout", &n), 0);
	T_EQ_INT(n, 1);
	T_EQ_INT(grant_load(f.lg, g2, &gr), 0);
	T_ASSERT(gr.revoked);
	T_EQ_STR(gr.detail, "logout");
	grant_free(&gr);
	T_EQ_INT(state_of(&f, l2), LEASE_REVOKED);
	T_EQ_INT(state_of(&f, id), LEASE_REVOKED);
	audit_filter_init(&af);
	af.event = "session_grant_revoked";
	k = 0;
	T_EQ_INT(audit_each(f.lg, &af, count_row, &k), 0);
	T_EQ_INT(k, 1);
	/* The expired one stays expired, not revoked; r's holds. */
	T_EQ_INT(grant_load(f.lg, g1, &gr), 0);
	T_ASSERT(!gr.revoked);
	grant_free(&gr);
	T_EQ_INT(grant_load(f.lg, g3, &gr), 0);
	T_ASSERT(!gr.revoked && grant_live(&gr, janee_now_ms()));
	grant_free(&gr);
	T_EQ_INT(state_of(&f, l3), LEASE_ACTIVE);
	/* Nothing in force any more: nothing to end. */
	T_EQ_INT(broker_end_provider_grants(&f.b, "g", "logout", &n), 0);
	T_EQ_INT(n, 0);
	T_EQ_INT(ask(&f, "g", "read", 60, NULL, id, NULL), JANEE_ERR_PENDING);
	fx_close(&f);
}

static void
invariant_7_a_grant_never_covers_require_out_of_band_scopes(void)
{
	struct janee_strlist *oob;
	struct fx f;
	char gid[JANEE_LEASE_ID_LEN], lid[JANEE_LEASE_ID_LEN];
	char id[JANEE_LEASE_ID_LEN];

	fx_open(&f);
	/* No grant from a request with such a scope... */
	T_EQ_INT(
	    ask(&f, "g", "read,admin", 60, NULL, id, NULL), JANEE_ERR_PENDING);
	T_EQ_INT(broker_approve_grant(&f.b, id, "user", "t", 0, 600, gid),
	    JANEE_ERR_POLICY);
	janee_err_clear();
	T_EQ_INT(state_of(&f, id), LEASE_REQUESTED);
	/* ...and a grant never approves one. */
	granted(&f, "g", "read,write", 900, NULL, 600, gid, lid);
	T_EQ_INT(ask(&f, "g", "admin", 60, NULL, id, NULL), JANEE_ERR_PENDING);
	T_EQ_INT(
	    ask(&f, "g", "read,admin", 60, NULL, id, NULL), JANEE_ERR_PENDING);
	fx_close(&f);
	/*
	 * Nor a grant given before the policy named the scope: the policy
	 * of the moment decides (config.json may change between requests).
	 */
	fx_open(&f);
	oob = &config_find(f.cfg, "g")->pol.oob_scopes;
	janee_strlist_free(oob);
	granted(&f, "g", "read,admin", 900, NULL, 600, gid, lid);
	T_EQ_INT(ask(&f, "g", "admin", 60, NULL, id, NULL), 0);
	if (janee_strlist_add(oob, "admin") != 0)
		abort();
	T_EQ_INT(ask(&f, "g", "admin", 60, NULL, id, NULL), JANEE_ERR_PENDING);
	T_EQ_INT(ask(&f, "g", "read", 60, NULL, id, NULL), 0);
	fx_close(&f);
}

static void
grants_are_off_unless_the_policy_allows_and_bounded_by_it(void)
{
	struct fx f;
	char gid[JANEE_LEASE_ID_LEN], id[JANEE_LEASE_ID_LEN];

	fx_open(&f);
	T_EQ_INT(ask(&f, "off", "read", 60, NULL, id, NULL), JANEE_ERR_PENDING);
	T_EQ_INT(broker_approve_grant(&f.b, id, "user", "t", 0, 60, gid),
	    JANEE_ERR_POLICY);
	janee_err_clear();
	T_EQ_INT(ask(&f, "g", "read", 60, NULL, id, NULL), JANEE_ERR_PENDING);
	T_EQ_INT(broker_approve_grant(&f.b, id, "user", "t", 0, 31 * 60, gid),
	    JANEE_ERR_POLICY);
	janee_err_clear();
	/* An approval with a grant cannot lengthen the lease either. */
	T_EQ_INT(broker_approve_grant(&f.b, id, "user", "t", 120, 600, gid),
	    JANEE_ERR_POLICY);
	janee_err_clear();
	T_EQ_INT(state_of(&f, id), LEASE_REQUESTED);
	/* A request from no session cannot be granted for a session. */
	f.b.session = NULL;
	T_EQ_INT(ask(&f, "g", "read", 60, NULL, id, NULL), JANEE_ERR_PENDING);
	T_EQ_INT(broker_approve_grant(&f.b, id, "user", "t", 0, 60, gid),
	    JANEE_ERR_POLICY);
	janee_err_clear();
	fx_close(&f);
}

static void
links_are_preferred_to_forms_never_for_out_of_band(void)
{
	struct fx f;
	struct janee_strlist s;
	struct prov *pv;

	fx_open(&f);
	memset(&s, 0, sizeof(s));
	pv = config_find(f.cfg, "g");
	if (janee_strlist_add(&s, "read") != 0)
		abort();
	T_EQ_INT(broker_route(pv, &s,
		     BROKER_CAN_LINK | BROKER_CAN_ELICIT | BROKER_CAN_WAIT),
	    BROKER_LINK);
	T_EQ_INT(broker_route(pv, &s, BROKER_CAN_ELICIT | BROKER_CAN_WAIT),
	    BROKER_ELICIT);
	T_EQ_INT(broker_route(pv, &s, BROKER_CAN_WAIT), BROKER_OUT_OF_BAND);
	/* A terminal at hand still comes first (janee token). */
	T_EQ_INT(broker_route(pv, &s, BROKER_CAN_PROMPT | BROKER_CAN_LINK),
	    BROKER_PROMPT);
	if (janee_strlist_add(&s, "admin") != 0)
		abort();
	T_EQ_INT(broker_route(pv, &s,
		     BROKER_CAN_LINK | BROKER_CAN_ELICIT | BROKER_CAN_WAIT),
	    BROKER_OUT_OF_BAND);
	janee_strlist_free(&s);
	fx_close(&f);
}

static void
invariant_7_a_client_cannot_approve_what_must_be_approved_out_of_band(void)
{
	struct fx f;
	char id[JANEE_LEASE_ID_LEN], id2[JANEE_LEASE_ID_LEN];

	fx_open(&f);
	/* require_out_of_band, and approval out-of-band. */
	T_EQ_INT(ask(&f, "g", "admin", 60, NULL, id, NULL), JANEE_ERR_PENDING);
	T_EQ_INT(broker_decide_via(&f.b, id, 1, BROKER_VIA_CLIENT, "user",
		     "through the client", 0),
	    JANEE_ERR_DENIED);
	janee_err_clear();
	T_EQ_INT(state_of(&f, id), LEASE_REQUESTED);
	T_EQ_INT(ask(&f, "r", "read", 60, "api", id2, NULL), JANEE_ERR_PENDING);
	T_EQ_INT(broker_decide_via(&f.b, id2, 1, BROKER_VIA_CLIENT, "user",
		     "through the client", 0),
	    JANEE_ERR_DENIED);
	janee_err_clear();
	/* It may deny them; a person approves them. */
	T_EQ_INT(
	    broker_decide_via(&f.b, id2, 0, BROKER_VIA_CLIENT, "user", "no", 0),
	    0);
	T_EQ_INT(broker_decide_via(&f.b, id, 1, BROKER_VIA_PERSON, "user",
		     "at the terminal", 0),
	    0);
	/* An ask request may be approved through the client. */
	T_EQ_INT(ask(&f, "g", "read", 60, NULL, id, NULL), JANEE_ERR_PENDING);
	T_EQ_INT(broker_decide_via(&f.b, id, 1, BROKER_VIA_CLIENT, "user",
		     "through the client", 0),
	    0);
	fx_close(&f);
}

int
main(void)
{
	T_RUN(a_grant_covers_a_narrower_request_of_the_session);
	T_RUN(a_grant_never_covers_a_wider_request);
	T_RUN(a_grant_covers_repositories_within_its_own);
	T_RUN(a_grant_covers_no_other_session);
	T_RUN(a_grant_covers_nothing_once_expired);
	T_RUN(revoking_a_grant_stops_it_and_ends_its_leases);
	T_RUN(a_providers_grants_end_with_it);
	T_RUN(invariant_7_a_grant_never_covers_require_out_of_band_scopes);
	T_RUN(grants_are_off_unless_the_policy_allows_and_bounded_by_it);
	T_RUN(links_are_preferred_to_forms_never_for_out_of_band);
	T_RUN(
	    invariant_7_a_client_cannot_approve_what_must_be_approved_out_of_band);
	return t_done();
}
