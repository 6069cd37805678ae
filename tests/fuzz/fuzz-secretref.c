/*
 * libFuzzer: secret references and what Vault sends back.  References
 * (secret:NAME, env:VAR, vault://MOUNT/PATH#FIELD) go through
 * secretref_resolve with no network (VAULT_ADDR is unset, so a vault://
 * reference stops after its path is checked); file: and keyring: are left
 * out (they read the file system and the session bus).  Vault's answers to
 * a KV version 2 read (data.data with string, number, boolean or other
 * fields, data.metadata of a deleted version, {"errors": [...]} with any
 * status) go through secretref_vault_answer.  ${VAR} expansion, the
 * plaintext-secret detector and masking take the same text.
 *
 * Input: byte 0 picks the parser, byte 1 the HTTP status; for a Vault
 * answer the rest is "MOUNT/PATH#FIELD\nBODY".
 */
#include "common.h"

#include "janee/http.h"
#include "secretref.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const long statuses[] = { 200, 200, 204, 400, 403, 404, 412, 500, 503 };

static int
sealed(void *arg, const char *name, struct janee_secret **out)
{
	(void)arg;
	if (strcmp(name, "github-app-key") != 0)
		return janee_err_set(
		    JANEE_ERR_NOT_FOUND, "no secret '%s'", name);
	*out = janee_secret_new("sealed", 6);
	return *out ? 0 : JANEE_ERR_NOMEM;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct janee_secret *sec = NULL;
	struct janee_http_resp r;
	enum secretref_kind k;
	char *s, *nl, *out = NULL;

	if (!ready) {
		/* Never the network, and a variable env: can find. */
		unsetenv("VAULT_ADDR");
		setenv("JANEE_FUZZ_TOKEN", "fuzz-value", 1);
		ready = 1;
	}
	if (size < 2)
		return 0;
	if ((s = malloc(size - 2 + 1)) == NULL)
		return 0;
	memcpy(s, data + 2, size - 2);
	s[size - 2] = '\0';
	switch (data[0] % 3) {
	case 0:
		k = secretref_kind(s);
		if (k == SECRETREF_FILE || k == SECRETREF_KEYRING)
			break;
		if (secretref_resolve(
			s, data[1] % 2 ? sealed : NULL, NULL, &sec) == 0 &&
		    sec == NULL)
			abort();
		janee_secret_free(sec);
		break;
	case 1:
		memset(&r, 0, sizeof(r));
		r.status = statuses[data[1] % nitems(statuses)];
		r.content_type = (char *)(uintptr_t) "application/json";
		r.retry_after_s = -1;
		if ((nl = memchr(s, '\n', size - 2)) == NULL)
			break;
		*nl = '\0';
		r.body = nl + 1;
		r.len = size - 2 - (size_t)(nl + 1 - s);
		if (secretref_vault_answer(s, &r, &sec) == 0 &&
		    (sec == NULL || sec->len == 0))
			abort(); /* a value is never empty */
		janee_secret_free(sec);
		break;
	default:
		if (secretref_expand(s, &out) == 0)
			free(out);
		(void)secretref_looks_secret(
		    data[1] % 2 ? "GITHUB_TOKEN" : NULL, s);
		free(secretref_mask(s));
		break;
	}
	free(s);
	janee_err_clear();
	return 0;
}
