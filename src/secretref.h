/*
 * Secret references: where a secret is configured, janee keeps a
 * reference to it, never the value.
 *
 *   secret:NAME               janee's sealed store
 *   env:VAR                   the environment variable VAR
 *   file:PATH                 a file only its owner can read (~/ allowed);
 *                             one trailing newline is dropped
 *   keyring:SERVICE/ACCOUNT   the Secret Service (libsecret), items with
 *                             service=SERVICE, account=ACCOUNT
 *   vault://MOUNT/PATH#FIELD  HashiCorp Vault KV version 2: GET
 *                             $VAULT_ADDR/v1/MOUNT/data/PATH, field FIELD
 *                             (VAULT_TOKEN, else VAULT_TOKEN_FILE, else
 *                             ~/.vault-token; VAULT_NAMESPACE;
 *                             VAULT_CACERT)
 *
 * and ${VAR} expansion for strings that are not secret.  A reference
 * that cannot be resolved is an error whose message names the reference
 * and never holds a value.
 */
#ifndef JANEE_SECRETREF_H
#define JANEE_SECRETREF_H

#include "common.h"

enum secretref_kind {
	SECRETREF_NONE = 0, /* not a reference */
	SECRETREF_SECRET,
	SECRETREF_ENV,
	SECRETREF_FILE,
	SECRETREF_KEYRING,
	SECRETREF_VAULT,
};

/* The kind of reference s is, by its scheme; SECRETREF_NONE if none. */
enum secretref_kind secretref_kind(const char *s);

/*
 * How secret:NAME is looked up (janee's sealed store, which may need
 * unlocking); the caller frees *out.  NULL: secret: is refused.
 */
typedef int (*secretref_sealed_fn)(
    void *arg, const char *name, struct janee_secret **out);

/*
 * Resolve ref to its value; the caller frees *out (janee_secret_free).
 * A string that is not a reference is JANEE_ERR_CONFIG.
 */
int secretref_resolve(const char *ref, secretref_sealed_fn sealed, void *arg,
    struct janee_secret **out) JANEE_WUR;

/*
 * Expand ${VAR} in s from the environment, for strings that are not
 * secret ("$${" stands for a literal "${").  An unset variable is
 * JANEE_ERR_CONFIG naming it.  *out is malloc'd.
 */
int secretref_expand(const char *s, char **out) JANEE_WUR;

/*
 * The environment variables janee reads for s, added to out (once each):
 * VAR of env:VAR; the Vault variables for vault:// (VAULT_ADDR,
 * VAULT_TOKEN, VAULT_TOKEN_FILE, VAULT_NAMESPACE, VAULT_CACERT); and each
 * ${VAR} of a string that is expanded, except the session's own basics
 * (HOME, USER, LOGNAME, PATH, SHELL, PWD, TMPDIR, TERM, LANG, TZ and the
 * XDG base directories), which hold no credential and which programs
 * need.  Who runs a program for the person (janee exec, a browser
 * opener) keeps these names out of its environment.
 */
int secretref_env_names(const char *s, struct janee_strlist *out) JANEE_WUR;

/*
 * Whether value looks like a plaintext secret, configured under name
 * (an environment variable or option name; NULL when there is none):
 * a known token prefix (ghp_, github_pat_, gho_, xoxb-, xoxp-, sk-,
 * AKIA, ...), a URL with a password, or a high-entropy value under a
 * name such as *TOKEN, *SECRET, *KEY, *PASSWORD.  NULL when not, else
 * a short description ("a token of a known form (ghp_...)") that holds
 * no part of value but a public prefix.
 */
const char *secretref_looks_secret(const char *name, const char *value);

/*
 * A configuration value that stands for a secret (a client secret, a
 * private key) must be a reference: 0, or JANEE_ERR_CONFIG saying so
 * under where and key, never quoting value.
 */
int secretref_require(
    const char *where, const char *key, const char *value) JANEE_WUR;

/*
 * value for showing to a person: the known prefix or the URL around the
 * password kept, the rest replaced by "********".  Caller frees.
 */
char *secretref_mask(const char *value);

/*
 * Vault's answer to the GET of a vault:// reference, with no network:
 * spec is the reference after "vault://" (MOUNT/PATH#FIELD), resp the
 * answer (status and JSON body).  0 and *out (janee_secret_free) with the
 * field's value; otherwise an error whose message names the path and
 * says what Vault said, never a value.  secretref_resolve takes answers
 * so; the fuzzer (tests/fuzz/fuzz-secretref.c) calls this directly.
 */
struct janee_http_resp;
int secretref_vault_answer(const char *spec, const struct janee_http_resp *resp,
    struct janee_secret **out) JANEE_WUR;

#endif
