/*
 * libFuzzer: answers from an OAuth token endpoint (RFC 6749 section 5,
 * with GitHub's errors-as-200 quirk), as JSON with a fuzzed status.
 */
#include "common.h"

#include "oauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oauth_client c = { .name = "fuzz" };
	struct janee_http_resp r;
	struct oauth_token tok;
	struct oauth_error err;
	char *body;

	if (size < 1)
		return 0;
	if ((body = malloc(size)) == NULL)
		return 0;
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	memset(&r, 0, sizeof(r));
	r.status = data[0] % 3 == 0 ? 200 : data[0] % 3 == 1 ? 400 : 302;
	r.body = body;
	r.len = size - 1;
	r.content_type = (char *)(uintptr_t) "application/json";
	r.retry_after_s = -1;
	if (oauth_parse_token_answer(&c, &r, &tok, &err) == 0)
		oauth_token_free(&tok);
	free(body);
	janee_err_clear();
	return 0;
}
