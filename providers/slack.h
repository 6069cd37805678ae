/*
 * The Slack provider's answer parsers, exposed for the fuzzer
 * (tests/fuzz/fuzz-slack.c).  The browser install's loopback listener and
 * PKCE helpers are shared: src/oauth-loopback.h.
 */
#ifndef JANEE_SLACK_H
#define JANEE_SLACK_H

#include "common.h"

/*
 * Slack's answers as the provider (providers/slack.c) takes them, with no
 * network: the provider calls them after its HTTP request, the fuzzer
 * (tests/fuzz/fuzz-slack.c) on its inputs.  ctx is a configured "slack"
 * entry; messages name it and never hold a token.
 */
struct cJSON;
struct janee_http_resp;

/*
 * A Web API answer to method: HTTP 200 JSON with "ok".  0 and *out (the
 * caller's, cJSON_Delete) on "ok": true; otherwise JANEE_ERR_PROVIDER with
 * an actionable message (a 429 that held, no JSON object, no "ok",
 * Slack's error and what to do about it), the error code in code.
 */
int slack_answer(struct janee_ctx *ctx, const char *method,
    const struct janee_http_resp *r, struct cJSON **out, char *code,
    size_t codesz) JANEE_WUR;

/*
 * auth.revoke's answer: 0 on "revoked": true, or when Slack no longer
 * accepts the token (code says why); else JANEE_ERR_PROVIDER.
 */
int slack_revoke_answer(struct janee_ctx *ctx, const struct janee_http_resp *r,
    char *code, size_t codesz) JANEE_WUR;

/*
 * For the fuzzer: an install of profile, oauth.v2.access's answer r (or
 * oauth.v2.exchange's, with exchange set) and auth.test's answer test for
 * each token in it, taken as `janee login` does, but nothing is stored.
 */
int slack_install_answer(struct janee_ctx *ctx, const char *profile,
    int exchange, const struct janee_http_resp *r,
    const struct janee_http_resp *test) JANEE_WUR;

/* For the fuzzer: a refresh's answer (oauth.v2.access), taken as a mint
 * takes it, but nothing is stored. */
int slack_refresh_answer(
    struct janee_ctx *ctx, const struct janee_http_resp *r) JANEE_WUR;

#endif
