/*
 * libFuzzer: the providers' parsers of what a browser, a person or a
 * configuration hands them: Slack's redirect answers (pasted, or the
 * loopback request target), GitHub scopes ("permission:level") and
 * repository ids and names, and secret references, ${VAR} expansion, the
 * plaintext-secret detector and its masking.
 */
#include "common.h"

#include "github.h"
#include "secretref.h"
#include "oauth-loopback.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oauth_redirect r;
	enum gh_level level;
	int64_t id;
	char *s, *out = NULL;
	int perm;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&r, 0, sizeof(r));
	if (oauth_redirect_parse(s, size % 2 ? "/slack/callback" : NULL, &r) ==
	    0)
		oauth_redirect_free(&r);
	(void)gh_scope_parse("fuzz", s, &perm, &level);
	(void)gh_repo_id_parse(s, &id);
	(void)gh_repo_name_ok(s);
	(void)gh_owner_ok(s);
	(void)secretref_kind(s);
	if (secretref_expand(s, &out) == 0)
		free(out);
	(void)secretref_looks_secret("API_TOKEN", s);
	free(secretref_mask(s));
	free(s);
	janee_err_clear();
	return 0;
}
