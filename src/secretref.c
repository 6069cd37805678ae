/* Secret references: secret:, env:, file:, keyring:, vault://, ${VAR}. */
#include "common.h"

#include <ctype.h>
#include <fcntl.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "home.h"
#include "janee/http.h"
#include "keyring.h"
#include "secretref.h"
#include "util.h"

#define FILE_MAX (1024 * 1024)
#define REF_SHOW 200 /* at most this much of a reference in a message */

static const struct {
	const char *prefix;
	enum secretref_kind kind;
} schemes[] = {
	{ "secret:", SECRETREF_SECRET },
	{ "env:", SECRETREF_ENV },
	{ "file:", SECRETREF_FILE },
	{ "keyring:", SECRETREF_KEYRING },
	{ "vault://", SECRETREF_VAULT },
};

enum secretref_kind
secretref_kind(const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < nitems(schemes); i++)
		if (strncmp(s, schemes[i].prefix, strlen(schemes[i].prefix)) ==
		    0)
			return schemes[i].kind;
	return SECRETREF_NONE;
}

/* --- env:, file: --------------------------------------------------- */

static int
valid_var(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

static int
from_env(const char *var, struct janee_secret **out)
{
	const char *v;

	if (!valid_var(var, strlen(var)))
		return janee_err_set(JANEE_ERR_CONFIG,
		    "'%s' is not an environment variable name", var);
	if ((v = getenv(var)) == NULL)
		return janee_err_set(
		    JANEE_ERR_NOT_FOUND, "the variable %s is not set", var);
	if (*v == '\0')
		return janee_err_set(
		    JANEE_ERR_NOT_FOUND, "the variable %s is empty", var);
	*out = janee_secret_new(v, strlen(v));
	return *out ? 0 : janee_err_set(JANEE_ERR_NOMEM, "out of memory");
}

/* Read a private file; one trailing "\n" or "\r\n" is dropped. */
static int
read_private(const char *path, struct janee_secret **out)
{
	struct buf b;
	int fd, rc;

	/* Refused unless ours and closed to group and others. */
	if ((rc = path_check_private(path, 0, 0)) != 0)
		return rc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return janee_err_set(JANEE_ERR_IO, "cannot open '%s': %s", path,
		    strerror(errno));
	buf_init(&b, FILE_MAX);
	rc = buf_read_fd(&b, fd);
	close(fd);
	if (rc != 0) {
		buf_free(&b);
		return rc;
	}
	if (b.len > 0 && b.p[b.len - 1] == '\n') {
		b.p[--b.len] = '\0';
		if (b.len > 0 && b.p[b.len - 1] == '\r')
			b.p[--b.len] = '\0';
	}
	if (b.len == 0) {
		buf_free(&b);
		return janee_err_set(
		    JANEE_ERR_NOT_FOUND, "the file '%s' is empty", path);
	}
	*out = janee_secret_new(b.p, b.len);
	buf_free(&b);
	return *out ? 0 : janee_err_set(JANEE_ERR_NOMEM, "out of memory");
}

/* "~/x" is $HOME/x; anything else as given. */
static char *
tilde(const char *path)
{
	const char *home = getenv("HOME");

	if (strncmp(path, "~/", 2) == 0 && home != NULL && *home != '\0')
		return janee_asprintf("%s/%s", home, path + 2);
	return janee_strdup(path);
}

static int
from_file(const char *path, struct janee_secret **out)
{
	char *p;
	int rc;

	if (*path == '\0')
		return janee_err_set(JANEE_ERR_CONFIG, "no path after file:");
	if ((p = tilde(path)) == NULL)
		return JANEE_ERR_NOMEM;
	rc = read_private(p, out);
	free(p);
	return rc;
}

static int
from_keyring(const char *spec, struct janee_secret **out)
{
	const char *slash = strchr(spec, '/');
	char *service;
	int rc;

	if (slash == NULL || slash == spec || slash[1] == '\0')
		return janee_err_set(JANEE_ERR_CONFIG,
		    "a keyring reference is keyring:SERVICE/ACCOUNT");
	if ((service = janee_strdup(spec)) == NULL)
		return JANEE_ERR_NOMEM;
	service[slash - spec] = '\0';
	rc = keyring_lookup(service, slash + 1, out);
	free(service);
	return rc;
}

/* --- vault:// ------------------------------------------------------ */

/* MOUNT and PATH: plain segments, so that nothing needs URL encoding. */
static int
vault_path_ok(const char *p, size_t n)
{
	size_t i, seg = 0;

	if (n == 0 || p[0] == '/' || p[n - 1] == '/')
		return 0;
	for (i = 0; i <= n; i++) {
		if (i == n || p[i] == '/') {
			if (seg == 0 || (seg == 1 && p[i - 1] == '.') ||
			    (seg == 2 && p[i - 1] == '.' && p[i - 2] == '.'))
				return 0;
			seg = 0;
			continue;
		}
		if (!(isalnum((unsigned char)p[i]) || strchr("._~-", p[i])))
			return 0;
		seg++;
	}
	return 1;
}

/* The token: VAULT_TOKEN, else VAULT_TOKEN_FILE, else ~/.vault-token. */
static int
vault_token(struct janee_secret **tok)
{
	const char *v = getenv("VAULT_TOKEN"), *f = getenv("VAULT_TOKEN_FILE");
	char *path;
	int rc;

	if (v != NULL && *v != '\0') {
		*tok = janee_secret_new(v, strlen(v));
		return *tok ? 0 : JANEE_ERR_NOMEM;
	}
	if (f != NULL && *f != '\0')
		path = tilde(f);
	else {
		if ((path = tilde("~/.vault-token")) == NULL)
			return JANEE_ERR_NOMEM;
		if (access(path, F_OK) != 0) {
			free(path);
			return janee_err_set(JANEE_ERR_LOCKED,
			    "no Vault token: set VAULT_TOKEN or VAULT_TOKEN_FILE, or log in with 'vault login' (~/.vault-token)");
		}
	}
	if (path == NULL)
		return JANEE_ERR_NOMEM;
	rc = read_private(path, tok);
	free(path);
	return rc;
}

/* Vault's error body: {"errors": ["...", ...]}; the texts, joined. */
static void
vault_errors(const struct janee_http_resp *r, char *out, size_t n)
{
	cJSON *j = cJSON_ParseWithLength(r->body, r->len), *e;
	const cJSON *errs;
	size_t used = 0;

	out[0] = '\0';
	errs = cJSON_GetObjectItemCaseSensitive(j, "errors");
	cJSON_ArrayForEach(e, errs)
	{
		if (!cJSON_IsString(e) || used >= n)
			continue;
		used += (size_t)snprintf(out + used, n - used, "%s%s",
		    used ? "; " : "", e->valuestring);
	}
	/* Vault's multi-error texts hold newlines and tabs: flatten them. */
	for (used = 0; out[used] != '\0'; used++)
		if (out[used] == '\n' || out[used] == '\t')
			out[used] = ' ';
	cJSON_Delete(j);
}

/* The field's value: strings as they are, numbers and booleans as text. */
static int
vault_field(cJSON *data, const char *field, struct janee_secret **out)
{
	const cJSON *v;
	char *s, names[256];
	size_t used = 0;
	int count = 0;
	cJSON *e;

	if (field == NULL) {
		/* No #FIELD: fine when the secret has exactly one. */
		cJSON_ArrayForEach(e, data) count++;
		if (count == 1)
			field = data->child->string;
	}
	v = field ? cJSON_GetObjectItemCaseSensitive(data, field) : NULL;
	if (v == NULL) {
		names[0] = '\0';
		cJSON_ArrayForEach(e, data)
		{
			if (used < sizeof(names))
				used += (size_t)snprintf(names + used,
				    sizeof(names) - used, "%s%s",
				    used ? ", " : "", e->string);
		}
		if (field == NULL)
			return janee_err_set(JANEE_ERR_NOT_FOUND,
			    "the secret has %d fields; name one with #FIELD (%s)",
			    count, names);
		return janee_err_set(JANEE_ERR_NOT_FOUND,
		    "the secret has no field '%s' (its fields: %s)", field,
		    *names ? names : "none");
	}
	if (cJSON_IsString(v)) {
		if (*v->valuestring == '\0')
			return janee_err_set(JANEE_ERR_NOT_FOUND,
			    "the field '%s' is empty", field);
		*out = janee_secret_new(v->valuestring, strlen(v->valuestring));
		return *out ? 0 : JANEE_ERR_NOMEM;
	}
	if (!cJSON_IsNumber(v) && !cJSON_IsBool(v))
		return janee_err_set(JANEE_ERR_CONFIG,
		    "the field '%s' is not a string, number or boolean", field);
	if ((s = cJSON_PrintUnformatted(v)) == NULL)
		return JANEE_ERR_NOMEM;
	*out = janee_secret_new(s, strlen(s));
	cJSON_free(s);
	return *out ? 0 : JANEE_ERR_NOMEM;
}

/*
 * MOUNT/PATH#FIELD: *plen is the length of MOUNT/PATH, *slash its first
 * '/', *field the FIELD (malloc'd) or NULL without one.
 */
static int
vault_spec(const char *spec, size_t *plen, const char **slash, char **field)
{
	const char *hash = strchr(spec, '#');

	*field = NULL;
	*plen = hash ? (size_t)(hash - spec) : strlen(spec);
	*slash = memchr(spec, '/', *plen);
	if (*slash == NULL || !vault_path_ok(spec, *plen) ||
	    (hash != NULL && hash[1] == '\0'))
		return janee_err_set(JANEE_ERR_CONFIG,
		    "a Vault reference is vault://MOUNT/PATH#FIELD (letters, digits and ._~- in the path)");
	if (hash != NULL && (*field = janee_strdup(hash + 1)) == NULL)
		return JANEE_ERR_NOMEM;
	return 0;
}

/* Vault's answer to GET /v1/MOUNT/data/PATH: the field's value, or why not. */
static int
vault_answer(const char *spec, size_t plen, const char *slash,
    const char *field, const struct janee_http_resp *resp,
    struct janee_secret **out)
{
	char errs[512];
	cJSON *j = NULL, *data, *meta;
	int rc;

	if (resp->status != 200) {
		vault_errors(resp, errs, sizeof(errs));
		j = cJSON_ParseWithLength(resp->body, resp->len);
		meta = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(j, "data"), "metadata");
		if (resp->status == 404 && cJSON_IsObject(meta))
			rc = janee_err_set(JANEE_ERR_NOT_FOUND,
			    "the latest version of the secret at %.*s was deleted or destroyed (Vault answered 404)",
			    (int)plen, spec);
		else if (resp->status == 404)
			rc = janee_err_set(JANEE_ERR_NOT_FOUND,
			    "no secret at %.*s (Vault answered 404%s%s); is the mount a KV version 2 engine?",
			    (int)plen, spec, *errs ? ": " : "", errs);
		else if (resp->status == 403)
			rc = janee_err_set(JANEE_ERR_DENIED,
			    "Vault refused the token (403%s%s); check its policy allows read on %.*s/data/%.*s, and VAULT_NAMESPACE",
			    *errs ? ": " : "", errs, (int)(slash - spec), spec,
			    (int)(plen - (size_t)(slash - spec) - 1),
			    slash + 1);
		else
			rc = janee_err_set(JANEE_ERR_PROVIDER,
			    "Vault answered HTTP %ld%s%s", resp->status,
			    *errs ? ": " : "", errs);
		goto out;
	}
	j = cJSON_ParseWithLength(resp->body, resp->len);
	data = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(j, "data"), "data");
	if (!cJSON_IsObject(data)) {
		rc = janee_err_set(JANEE_ERR_PROVIDER,
		    "Vault's answer has no data.data object; is the mount a KV version 2 engine?");
		goto out;
	}
	rc = vault_field(data, field, out);
out:
	cJSON_Delete(j);
	return rc;
}

int
secretref_vault_answer(const char *spec, const struct janee_http_resp *resp,
    struct janee_secret **out)
{
	const char *slash;
	char *field = NULL;
	size_t plen;
	int rc;

	*out = NULL;
	if ((rc = vault_spec(spec, &plen, &slash, &field)) == 0)
		rc = vault_answer(spec, plen, slash, field, resp, out);
	free(field);
	return rc;
}

static int
from_vault(const char *spec, struct janee_secret **out)
{
	const char *addr = getenv("VAULT_ADDR"),
		   *ns = getenv("VAULT_NAMESPACE");
	const char *ca = getenv("VAULT_CACERT"), *slash, *hdrs[4];
	struct janee_secret *tok = NULL;
	struct janee_http_resp resp;
	struct janee_http_req req;
	struct janee_http *h = NULL;
	struct buf th, nh;
	char *url = NULL, *field = NULL;
	size_t alen, plen;
	int rc, n = 0;

	memset(&resp, 0, sizeof(resp));
	buf_init(&th, 64 * 1024);
	buf_init(&nh, 4096);
	if ((rc = vault_spec(spec, &plen, &slash, &field)) != 0)
		goto out;
	if (addr == NULL || *addr == '\0') {
		rc = janee_err_set(JANEE_ERR_CONFIG,
		    "VAULT_ADDR is not set (the Vault server, such as https://vault.example.com:8200)");
		goto out;
	}
	alen = strlen(addr);
	while (alen > 0 && addr[alen - 1] == '/')
		alen--;
	if ((url = janee_asprintf("%.*s/v1/%.*s/data/%.*s", (int)alen, addr,
		 (int)(slash - spec), spec,
		 (int)(plen - (size_t)(slash - spec) - 1), slash + 1)) ==
	    NULL) {
		rc = JANEE_ERR_NOMEM;
		goto out;
	}
	if ((rc = vault_token(&tok)) != 0)
		goto out;
	/* The token goes in X-Vault-Token; http.c wipes its header copies. */
	if ((rc = buf_printf(&th, "X-Vault-Token: %s", (char *)tok->data)) != 0)
		goto out;
	hdrs[n++] = th.p;
	if (ns != NULL && *ns != '\0') {
		if ((rc = buf_printf(&nh, "X-Vault-Namespace: %s", ns)) != 0)
			goto out;
		hdrs[n++] = nh.p;
	}
	hdrs[n++] = "X-Vault-Request: true";
	hdrs[n] = NULL;
	if ((h = janee_http_new()) == NULL) {
		rc = JANEE_ERR_NETWORK;
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.what = "Vault";
	req.ca_file = ca != NULL && *ca != '\0' ? ca : NULL;
	req.headers = hdrs;
	/* A KV secret's fields can have any name: never trace the answer. */
	req.secret_answer = 1;
	if ((rc = janee_http_do(h, &req, &resp)) != 0)
		goto out;
	rc = vault_answer(spec, plen, slash, field, &resp, out);
out:
	janee_http_resp_free(&resp);
	janee_http_free(h);
	janee_secret_free(tok);
	buf_free(&th);
	buf_free(&nh);
	free(url);
	free(field);
	return rc;
}

/* --- resolution ---------------------------------------------------- */

int
secretref_resolve(const char *ref, secretref_sealed_fn sealed, void *arg,
    struct janee_secret **out)
{
	enum secretref_kind k = secretref_kind(ref);
	const char *rest;
	int rc;

	*out = NULL;
	if (k == SECRETREF_NONE)
		return janee_err_set(JANEE_ERR_CONFIG,
		    "not a secret reference; use secret:NAME, env:VAR, file:PATH, keyring:SERVICE/ACCOUNT or vault://MOUNT/PATH#FIELD");
	rest = ref + strlen(schemes[k - 1].prefix);
	switch (k) {
	case SECRETREF_SECRET:
		rc = sealed != NULL
		    ? sealed(arg, rest, out)
		    : janee_err_set(JANEE_ERR_CONFIG,
			  "janee's own store cannot be used here");
		break;
	case SECRETREF_ENV:
		rc = from_env(rest, out);
		break;
	case SECRETREF_FILE:
		rc = from_file(rest, out);
		break;
	case SECRETREF_KEYRING:
		rc = from_keyring(rest, out);
		break;
	default:
		rc = from_vault(rest, out);
		break;
	}
	if (rc == 0)
		return 0;
	janee_secret_free(*out);
	*out = NULL;
	/* Name the reference in front of the cause. */
	return janee_err_wrap(
	    rc, "cannot resolve '%.*s': %s", REF_SHOW, ref, janee_err_msg(rc));
}

int
secretref_expand(const char *s, char **out)
{
	struct buf b;
	const char *p, *end, *v;
	char name[256];
	int rc = 0;

	*out = NULL;
	buf_init(&b, 1 << 20);
	for (p = s; *p != '\0' && rc == 0; p++) {
		if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
			rc = buf_addstr(&b, "${");
			p += 2;
			continue;
		}
		if (p[0] != '$' || p[1] != '{') {
			rc = buf_add(&b, p, 1);
			continue;
		}
		if ((end = strchr(p + 2, '}')) == NULL ||
		    !valid_var(p + 2, (size_t)(end - p - 2)) ||
		    (size_t)(end - p - 2) >= sizeof(name)) {
			buf_free(&b);
			return janee_err_set(JANEE_ERR_CONFIG,
			    "'%.*s': a variable is written ${NAME}", REF_SHOW,
			    s);
		}
		memcpy(name, p + 2, (size_t)(end - p - 2));
		name[end - p - 2] = '\0';
		if ((v = getenv(name)) == NULL) {
			buf_free(&b);
			return janee_err_set(JANEE_ERR_NOT_FOUND,
			    "cannot expand '${%s}': the variable %s is not set",
			    name, name);
		}
		rc = buf_addstr(&b, v);
		p = end;
	}
	if (rc == 0 && b.p == NULL)
		rc = buf_add(&b, "", 0);
	if (rc != 0) {
		buf_free(&b);
		return rc;
	}
	*out = b.p; /* buf's storage is plain malloc'd memory */
	return 0;
}

/* --- the environment a reference reads ------------------------------ */

static int
add_name(struct janee_strlist *out, const char *name, size_t n)
{
	char *v;
	int rc;

	if ((v = janee_asprintf("%.*s", (int)n, name)) == NULL)
		return JANEE_ERR_NOMEM;
	rc = janee_strlist_has(out, v) ? 0 : janee_strlist_add(out, v);
	free(v);
	return rc;
}

/* ${VAR} of these is the session's identity or layout, not a secret. */
static int
basic_var(const char *name, size_t n)
{
	static const char *const basics[] = { "HOME", "USER", "LOGNAME", "PATH",
		"SHELL", "PWD", "TMPDIR", "TERM", "LANG", "TZ",
		"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
		"XDG_CACHE_HOME", "XDG_RUNTIME_DIR" };
	size_t i;

	for (i = 0; i < nitems(basics); i++)
		if (strlen(basics[i]) == n && memcmp(basics[i], name, n) == 0)
			return 1;
	return 0;
}

int
secretref_env_names(const char *s, struct janee_strlist *out)
{
	static const char *const vault[] = { "VAULT_ADDR", "VAULT_TOKEN",
		"VAULT_TOKEN_FILE", "VAULT_NAMESPACE", "VAULT_CACERT" };
	const char *p, *end;
	size_t i;
	int rc = 0;

	switch (secretref_kind(s)) {
	case SECRETREF_ENV:
		p = s + strlen("env:");
		return valid_var(p, strlen(p)) ? add_name(out, p, strlen(p))
					       : 0;
	case SECRETREF_VAULT:
		for (i = 0; i < nitems(vault) && rc == 0; i++)
			rc = add_name(out, vault[i], strlen(vault[i]));
		return rc;
	case SECRETREF_NONE:
		break;
	default:
		return 0;
	}
	/* As secretref_expand reads it: "$${" is a literal "${". */
	for (p = s; *p != '\0' && rc == 0; p++) {
		if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
			p += 2;
			continue;
		}
		if (p[0] != '$' || p[1] != '{' ||
		    (end = strchr(p + 2, '}')) == NULL)
			continue;
		if (valid_var(p + 2, (size_t)(end - p - 2)) &&
		    !basic_var(p + 2, (size_t)(end - p - 2)))
			rc = add_name(out, p + 2, (size_t)(end - p - 2));
		p = end;
	}
	return rc;
}

/* --- recognising plaintext secrets ---------------------------------- */

/*
 * Known token forms, said by their prefix: the service a prefix belongs
 * to is no business of the core (no file outside providers/ names a
 * provider; t0002-layering).
 */
static const struct {
	const char *prefix;
	size_t min_rest; /* characters after the prefix */
	const char *what;
} prefixes[] = {
	{ "github_pat_", 20, "a token of a known form (github_pat_...)" },
	{ "ghp_", 20, "a token of a known form (ghp_...)" },
	{ "gho_", 20, "a token of a known form (gho_...)" },
	{ "ghu_", 20, "a token of a known form (ghu_...)" },
	{ "ghs_", 20, "a token of a known form (ghs_...)" },
	{ "ghr_", 20, "a token of a known form (ghr_...)" },
	{ "xoxb-", 10, "a token of a known form (xoxb-...)" },
	{ "xoxp-", 10, "a token of a known form (xoxp-...)" },
	{ "xoxa-", 10, "a token of a known form (xoxa-...)" },
	{ "xoxe.", 10, "a token of a known form (xoxe....)" },
	{ "sk-", 20, "an API key (sk-)" },
	{ "AKIA", 16, "an AWS access key" },
	{ "glpat-", 20, "a token of a known form (glpat-...)" },
};

/* Characters of tokens: letters, digits, and - _ . */
static size_t
token_span(const char *s)
{
	size_t n = 0;

	while (isalnum((unsigned char)s[n]) || s[n] == '-' || s[n] == '_' ||
	    s[n] == '.')
		n++;
	return n;
}

static const char *
known_prefix(const char *v, size_t *plen)
{
	size_t i, n;

	for (i = 0; i < nitems(prefixes); i++) {
		n = strlen(prefixes[i].prefix);
		if (strncmp(v, prefixes[i].prefix, n) == 0 &&
		    token_span(v + n) >= prefixes[i].min_rest &&
		    v[n + token_span(v + n)] == '\0') {
			if (plen != NULL)
				*plen = n;
			return prefixes[i].what;
		}
	}
	return NULL;
}

/* The password of "scheme://user:password@host...": offset and length. */
static int
url_password(const char *v, size_t *off, size_t *len)
{
	const char *p = strstr(v, "://"), *auth, *end, *at, *colon;

	if (p == NULL || p == v)
		return 0;
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	/* The last '@' of the authority ends the user information. */
	for (at = NULL, p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return 0;
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (colon == NULL || colon + 1 == at)
		return 0;
	*off = (size_t)(colon + 1 - v);
	*len = (size_t)(at - colon - 1);
	return 1;
}

/* Name words (split at non-letters and at lower-to-upper case changes). */
static int
secret_name(const char *name)
{
	static const char *const words[] = { "TOKEN", "SECRET", "KEY", "KEYS",
		"PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL", "CREDENTIALS",
		"PAT", "APIKEY", "ACCESSKEY", "SECRETKEY", "PRIVATEKEY", NULL };
	/* Not KEY: MONKEY, HOTKEY and TURKEY are no secrets. */
	static const char *const tails[] = { "TOKEN", "SECRET", "PASSWORD",
		NULL };
	char w[64];
	size_t i, n = 0, j;
	int lower = 0;

	for (i = 0;; i++) {
		unsigned char c = (unsigned char)name[i];
		int split = !isalnum(c) || (lower && isupper(c));

		if (split || n + 1 >= sizeof(w)) {
			w[n] = '\0';
			for (j = 0; n > 0 && words[j] != NULL; j++)
				if (strcmp(w, words[j]) == 0)
					return 1;
			/* "ACCESSTOKEN", "DBPASSWORD": a word that ends so. */
			for (j = 0; n > 0 && tails[j] != NULL; j++)
				if (n > strlen(tails[j]) + 2 &&
				    strcmp(w + n - strlen(tails[j]),
					tails[j]) == 0)
					return 1;
			n = 0;
		}
		if (c == '\0')
			return 0;
		if (isalnum(c))
			w[n++] = (char)toupper(c);
		lower = islower(c) || isdigit(c);
	}
}

/*
 * A high-entropy value: long, no spaces, varied characters.  Counting
 * distinct bytes bounds the Shannon entropy from above (log2 of it), and
 * random tokens of 16+ characters have 12 or more distinct ones.
 */
static int
high_entropy(const char *v)
{
	unsigned char seen[256];
	size_t i, n = strlen(v), distinct = 0;
	int lo = 0, up = 0, dg = 0;

	if (n < 16)
		return 0;
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (isspace(c))
			return 0;
		if (!seen[c]++)
			distinct++;
		lo |= islower(c) != 0;
		up |= isupper(c) != 0;
		dg |= isdigit(c) != 0;
	}
	return distinct >= 12 && lo + up + dg >= 2;
}

/* Values that are plainly no secret: paths, numbers, words, templates. */
static int
plainly_not(const char *v)
{
	if (*v == '\0' || secretref_kind(v) != SECRETREF_NONE ||
	    strstr(v, "${") != NULL)
		return 1;
	if (v[0] == '/' || strncmp(v, "./", 2) == 0 ||
	    strncmp(v, "../", 3) == 0 || strncmp(v, "~/", 2) == 0)
		return 1;
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
		return 1;
	return v[strspn(v, "0123456789.-")] == '\0';
}

const char *
secretref_looks_secret(const char *name, const char *value)
{
	const char *what;
	size_t off, len;

	if (value == NULL || plainly_not(value))
		return NULL;
	if ((what = known_prefix(value, NULL)) != NULL)
		return what;
	/* A password that is itself a template, "${DB_PASSWORD}", is not. */
	if (url_password(value, &off, &len) &&
	    !(len >= 2 && value[off] == '$' && value[off + 1] == '{'))
		return "a URL with a password";
	if (strstr(value, "://") != NULL)
		return NULL;
	if (name != NULL && secret_name(name) && high_entropy(value))
		return "a high-entropy value under a secret-like name";
	return NULL;
}

int
secretref_require(const char *where, const char *key, const char *value)
{
	if (secretref_kind(value) != SECRETREF_NONE)
		return 0;
	return janee_err_set(JANEE_ERR_CONFIG,
	    "%s: key '%s' must be a reference to the secret (secret:NAME, env:VAR, file:PATH, keyring:SERVICE/ACCOUNT or vault://...), not the secret itself: store it with 'janee secret set NAME' "
	    "and write secret:NAME",
	    where, key);
}

char *
secretref_mask(const char *value)
{
	size_t plen, off, len;

	if (known_prefix(value, &plen) != NULL)
		return janee_asprintf("%.*s********", (int)plen, value);
	if (url_password(value, &off, &len))
		return janee_asprintf(
		    "%.*s********%s", (int)off, value, value + off + len);
	return janee_strdup("********");
}
