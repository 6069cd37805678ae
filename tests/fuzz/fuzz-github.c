/*
 * libFuzzer: what a GitHub server sends back, taken by the GitHub
 * provider's own code with no network: installation look-ups, the
 * installation token answer (201 with token, expires_at, permissions,
 * repository_selection and repositories, checked against the request),
 * its errors ({"message", "documentation_url"}, 401/403/404/422/429,
 * rate limits with Retry-After) and the installation's permissions that
 * explain a 422, GET /user, and the device flow's answers (device code,
 * then the user token or an error sent with HTTP 200).
 *
 * Input: byte 0 picks the parser and the provider entry, byte 1 the HTTP
 * status, byte 2 the content type and Retry-After; the rest is the body,
 * and after a NUL byte a second answer (the installation's, for a 422).
 */
#include "common.h"

#include "config.h"
#include "github.h"
#include "janee/http.h"
#include "oauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char config_json[] =
    "{\"providers\": {\"gh\": {\"type\": \"github-app\", \"client_id\": \"Iv23liFuzz\", \"private_key\": \"secret:app-key\", \"repository\": \"acme/api\", "
    "\"permissions\": [\"issues:write\", \"contents:read\", \"pull_requests:write\", \"metadata:read\"], \"repositories\": [\"api\", \"web\", \"id:42\"]},"
    "\"ghid\": {\"type\": \"github-app\", \"app_id\": 123456, \"private_key\": \"secret:app-key\", \"installation_id\": 77, \"permissions\": {\"issues\": \"read\", \"administration\": "
    "\"write\"}, \"all_repositories\": true}}}";

static const long statuses[] = { 200, 201, 204, 302, 400, 401, 403, 404, 422,
	429, 500, 503 };

static struct config *cfg;
static struct janee_strlist scopes[2], repos[2];

static int64_t
fixed_now_ms(void)
{
	return 1790000000000LL; /* 2026-09: expires_at answers are near */
}

static void
setup(void)
{
	const char *const s0[] = { "issues:write", "contents:read", NULL };
	const char *const r0[] = { "api", "id:42", NULL };
	const char *const s1[] = { "issues:read", "administration:read", NULL };
	size_t i, k;

	if (config_parse(config_json, "fuzz", janee_providers, NULL, &cfg) != 0)
		abort();
	for (i = 0; i < cfg->n; i++)
		cfg->provs[i].ctx.now_ms = fixed_now_ms;
	for (k = 0; s0[k] != NULL; k++)
		if (janee_strlist_add(&scopes[0], s0[k]) != 0)
			abort();
	for (k = 0; r0[k] != NULL; k++)
		if (janee_strlist_add(&repos[0], r0[k]) != 0)
			abort();
	for (k = 0; s1[k] != NULL; k++)
		if (janee_strlist_add(&scopes[1], s1[k]) != 0)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct janee_http_resp r, inst;
	struct janee_token tok;
	struct oauth_client c = { .name = "gh", .client_id = "Iv23liFuzz" };
	struct oauth_token ot;
	struct oauth_error oe;
	struct oauth_device dev;
	struct janee_mint_req req;
	struct prov *p;
	char *body, *nul;
	int64_t id;
	int which, alt;

	if (cfg == NULL)
		setup();
	if (size < 3)
		return 0;
	which = data[0] % 6;
	alt = (data[0] / 6) % 2;
	if ((body = malloc(size - 3 + 1)) == NULL)
		return 0;
	memcpy(body, data + 3, size - 3);
	body[size - 3] = '\0';
	memset(&r, 0, sizeof(r));
	memset(&inst, 0, sizeof(inst));
	r.status = statuses[data[1] % nitems(statuses)];
	r.body = body;
	r.len = size - 3;
	r.content_type = data[2] & 1 ? (char *)(uintptr_t) "text/html"
				     : (char *)(uintptr_t) "application/json";
	r.retry_after_s = data[2] & 2 ? (int64_t)(data[2] >> 2) : -1;
	/* A second answer after the first NUL: the installation's. */
	if ((nul = memchr(body, '\0', r.len)) != NULL) {
		r.len = (size_t)(nul - body);
		inst.status = 200;
		inst.body = nul + 1;
		inst.len = size - 3 - r.len - 1;
		inst.retry_after_s = -1;
	}
	p = config_find(cfg, alt ? "ghid" : "gh");
	memset(&tok, 0, sizeof(tok));
	memset(&req, 0, sizeof(req));
	req.lease_id = "lse_aaaaaaaaaaaaaaaaaaaaaaaaaa";
	req.scopes = &scopes[alt];
	req.resources = &repos[alt];
	req.ttl_s = 600;
	switch (which) {
	case 0:
		(void)gh_lookup_answer(&p->ctx,
		    "installation look-up (GET /repos/acme/api/installation)",
		    &r, &id);
		break;
	case 1:
		/* A success has a token that ends within GitHub's hour. */
		if (gh_token_answer(&p->ctx, &req, 77, &r,
			nul != NULL ? &inst : NULL, &tok) == 0 &&
		    (janee_token_get(&tok, "token") == NULL ||
			tok.expires_ms < fixed_now_ms() ||
			tok.expires_ms > fixed_now_ms() + 3600 * 1000))
			abort();
		janee_token_clear(&tok);
		break;
	case 2:
		free(gh_user_answer(&r));
		break;
	case 3:
		if (oauth_parse_token_answer(&c, &r, &ot, &oe) == 0)
			oauth_token_free(&ot);
		break;
	case 4:
		if (oauth_parse_device_answer(&c, &r, &dev) == 0)
			oauth_device_free(&dev);
		break;
	default:
		/* The token answer as a 201 whatever byte 1 says. */
		r.status = 201;
		if (gh_token_answer(&p->ctx, &req, 77, &r, NULL, &tok) == 0 &&
		    janee_token_get(&tok, "token") == NULL)
			abort();
		janee_token_clear(&tok);
		break;
	}
	free(body);
	janee_err_clear();
	return 0;
}
