/*
 * libFuzzer: what Slack sends back, taken by the Slack provider's own code
 * with no network: the Web API envelope of every method ({"ok": ...,
 * "error", "needed", "provided"}, HTTP 429, answers that are not JSON),
 * oauth.v2.access and oauth.v2.exchange install answers (team,
 * enterprise, authed_user, the bot and user tokens with their rotation
 * fields and scopes) checked against a profile and followed by auth.test,
 * refresh answers, auth.revoke; and what the browser brings back: the
 * loopback listener's request head and the redirect's code/state query.
 *
 * Input: byte 0 picks the parser and the profile, byte 1 the HTTP status,
 * byte 2 the content type and Retry-After; the rest is the body, and
 * after a NUL byte auth.test's answer for an install (a valid one when
 * there is none).
 */
#include "common.h"

#include <cjson/cJSON.h>

#include "config.h"
#include "janee/http.h"
#include "oauth-loopback.h"
#include "slack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char config_json[] =
    "{\"providers\": {\"slack\": {\"type\": \"slack\", \"client_id\": \"1111.1111\", \"client_secret\": \"secret:slack-one\", \"redirect_uri\": \"https://janee.example/slack/callback\", "
    "\"scopes\": [\"channels:read\", \"chat:write\", \"search:read\", \"users:read\"], \"profiles\": {\"reader\": {\"scopes\": [\"channels:read\"]}, "
    "\"poster\": {\"scopes\": [\"channels:read\", \"chat:write\"], \"client_id\": \"2222.2222\", \"client_secret\": \"secret:slack-two\"}, \"searcher\": {\"user_scopes\": [\"search:read\"], "
    "\"client_id\": \"3333.3333\"}, \"both\": {\"scopes\": [\"chat:write\"], \"user_scopes\": [\"users:read\"]}}}}}";

static const char *const profiles[] = { "reader", "poster", "searcher",
	"both" };
static const char *const methods[] = { "oauth.v2.access", "oauth.v2.exchange",
	"auth.test", "auth.revoke" };
static const long statuses[] = { 200, 200, 400, 404, 429, 500, 302 };
static const char *const types[] = { "application/json",
	"application/json; charset=utf-8", "text/html", NULL };

static const char valid_test[] =
    "{\"ok\": true, \"url\": \"https://fake-team.slack.example/\", \"team\": \"Fake Team\", \"user\": \"janee-bot\", \"team_id\": \"T0FAKETEAM\", \"user_id\": \"U0BOTONE\", "
    "\"bot_id\": \"B0BOTONE\", \"app_id\": \"A0APPONE\", \"expires_in\": 43200}";

static struct config *cfg;

static int64_t
fixed_now_ms(void)
{
	return 1790000000000LL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct janee_http_resp r, test;
	struct oauth_redirect red;
	struct prov *p;
	char *body, *nul, code[64];
	cJSON *j;
	int which, ours;
	const char *prof;

	if (cfg == NULL) {
		if (config_parse(
			config_json, "fuzz", janee_providers, NULL, &cfg) != 0)
			abort();
		config_find(cfg, "slack")->ctx.now_ms = fixed_now_ms;
	}
	if (size < 3)
		return 0;
	p = config_find(cfg, "slack");
	which = data[0] % 7;
	prof = profiles[(data[0] / 7) % nitems(profiles)];
	if ((body = malloc(size - 3 + 1)) == NULL)
		return 0;
	memcpy(body, data + 3, size - 3);
	body[size - 3] = '\0';
	memset(&r, 0, sizeof(r));
	r.status = statuses[data[1] % nitems(statuses)];
	r.body = body;
	r.len = size - 3;
	r.content_type = (char *)(uintptr_t)types[data[2] % nitems(types)];
	r.retry_after_s = data[2] & 4 ? (int64_t)(data[2] >> 3) : -1;
	memset(&test, 0, sizeof(test));
	test.status = 200;
	test.content_type = (char *)(uintptr_t) "application/json";
	test.retry_after_s = -1;
	if ((nul = memchr(body, '\0', r.len)) != NULL) {
		r.len = (size_t)(nul - body);
		test.body = nul + 1;
		test.len = size - 3 - r.len - 1;
	} else {
		test.body = (char *)(uintptr_t)valid_test;
		test.len = sizeof(valid_test) - 1;
	}
	switch (which) {
	case 0:
		if (slack_answer(&p->ctx,
			methods[(data[0] / 7) % nitems(methods)], &r, &j, code,
			sizeof(code)) == 0)
			cJSON_Delete(j);
		break;
	case 1:
		(void)slack_revoke_answer(&p->ctx, &r, code, sizeof(code));
		break;
	case 2:
		(void)slack_install_answer(&p->ctx, prof, 0, &r, &test);
		break;
	case 3:
		(void)slack_install_answer(&p->ctx, prof, 1, &r, &test);
		break;
	case 4:
		(void)slack_refresh_answer(&p->ctx, &r);
		break;
	case 5:
		if (oauth_request_parse(body, "/slack/callback", &red, &ours) ==
			0 &&
		    ours)
			oauth_redirect_free(&red);
		break;
	default:
		if (oauth_redirect_parse(body,
			data[1] % 2 ? "/slack/callback" : NULL, &red) == 0)
			oauth_redirect_free(&red);
		break;
	}
	free(body);
	janee_err_clear();
	return 0;
}
