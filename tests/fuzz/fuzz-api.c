/*
 * libFuzzer: call_api's path check and rule matcher (src/api-rules.c).
 * The input is "RULE\nMETHOD\nPATH": the rule is checked as config.json's
 * would be, the path as an agent's; whatever passes both is matched.  A
 * path that passes the check never holds a "." or ".." segment, "//", a
 * backslash or a control byte (the invariant the check exists for).
 */
#include "common.h"

#include "api-rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
path_invariants(const char *path)
{
	const char *p;
	size_t i;

	if (path[0] != '/' || strstr(path, "//") != NULL ||
	    strstr(path, "/./") != NULL || strstr(path, "/../") != NULL ||
	    strchr(path, '\\') != NULL)
		abort();
	for (i = 0; path[i] != '\0'; i++)
		if ((unsigned char)path[i] < 0x20 ||
		    (unsigned char)path[i] >= 0x7f)
			abort();
	p = strrchr(path, '/');
	if (strcmp(p, "/.") == 0 || strcmp(p, "/..") == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *method, *path, err[200];
	struct api_rules r;
	struct api_match m;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if ((method = strchr(s, '\n')) == NULL ||
	    (path = strchr(method + 1, '\n')) == NULL) {
		(void)api_path_check(s, err, sizeof(err));
		free(s);
		return 0;
	}
	*method++ = '\0';
	*path++ = '\0';
	if (api_path_check(path, err, sizeof(err)) == 0) {
		path_invariants(path);
		memset(&r, 0, sizeof(r));
		if (api_rule_check("fuzz", s) == 0 &&
		    janee_strlist_add(&r.allow, s) == 0) {
			/* A path a rule allows, the same rule denies. */
			if (api_decide(&r, method, path, &m) == API_ALLOW) {
				r.deny = r.allow;
				if (api_decide(&r, method, path, &m) !=
				    API_DENY)
					abort();
				memset(&r.deny, 0, sizeof(r.deny));
			}
		}
		janee_strlist_free(&r.allow);
	}
	(void)api_method_ok(method);
	free(s);
	janee_err_clear();
	return 0;
}
