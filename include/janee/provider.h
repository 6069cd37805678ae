/*
 * The provider interface.
 *
 * A provider turns a long-lived credential into short-lived tokens.  It
 * is a const struct janee_provider filled with designated initializers,
 * one file under providers/, listed in one NULL-terminated table
 * (src/providers.h); docs/PROVIDERS.md is the author's guide.  Providers
 * never touch SQLite, the MCP server or the terminal: they get a narrow
 * context (secret lookup, logins, clock, logger), say what an entry can
 * do in a struct janee_info, and fill a struct janee_token.  The broker
 * owns every lease state change.
 *
 * Optional slots may be NULL; the core checks before calling and answers
 * JANEE_ERR_UNSUPPORTED, which is distinct from a failure.  Version 3:
 * the info struct, tokens of named parts, resources, lease_live (2 was
 * reconcile's struct janee_reconcile and lease_minting).
 */
#ifndef JANEE_PROVIDER_H
#define JANEE_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "janee/error.h"

/* Bumped when a slot changes; the core refuses other versions. */
#define JANEE_PROVIDER_VERSION 3

/* A secret value: wiped before it is freed (janee_secret_free). */
struct janee_secret {
	unsigned char *data; /* NUL-terminated for convenience */
	size_t len;
};

/* Allocate a secret holding a copy of len bytes of p; NULL on ENOMEM. */
struct janee_secret *janee_secret_new(const void *p, size_t len);
/* Wipe and free; NULL is fine. */
void janee_secret_free(struct janee_secret *s);

/* A growable list of owned strings. */
struct janee_strlist {
	char **v;
	size_t n;
	size_t cap;
};

int janee_strlist_add(struct janee_strlist *l, const char *s)
    __attribute__((warn_unused_result));
int janee_strlist_has(const struct janee_strlist *l, const char *s);
/* Sort and drop duplicates, so that lists compare and print canonically. */
void janee_strlist_normalize(struct janee_strlist *l);
void janee_strlist_free(struct janee_strlist *l);

/*
 * A token is a set of named parts: most providers hand out one, "token";
 * a database login is "user", "password" and "url", with "url" the
 * primary.  Every part is sealed for revocation; a secret part is also
 * fingerprinted for `janee audit lookup`, and is never shown but to the
 * holder of the lease.
 */
#define JANEE_TOKEN_MAX_PARTS 12
#define JANEE_PART_SECRET 0x01u /* a secret; else a plain value (a host) */

struct janee_token_part {
	char *name;
	struct janee_secret *value;
	unsigned flags; /* JANEE_PART_* */
};

/* What a provider answers; the broker owns it and wipes the parts. */
struct janee_token {
	struct janee_token_part parts[JANEE_TOKEN_MAX_PARTS];
	size_t nparts;
	char *token_type; /* "bearer" when NULL */
	struct janee_strlist granted; /* scopes really granted */
	int64_t expires_ms; /* provider-side expiry, 0 unknown */
};

/*
 * Add part name with value, which t takes (it is freed on failure too,
 * and NULL is ENOMEM from the caller's janee_secret_new).  A name given
 * twice, or more than JANEE_TOKEN_MAX_PARTS parts, is JANEE_ERR_INTERNAL.
 */
int janee_token_put(struct janee_token *t, const char *name,
    struct janee_secret *value, unsigned flags)
    __attribute__((warn_unused_result));
/* The value of part name, or NULL. */
const struct janee_secret *
janee_token_get(const struct janee_token *t, const char *name);
void janee_token_clear(struct janee_token *t);

/* What the broker asks a provider to mint, already within policy. */
struct janee_mint_req {
	const char *lease_id;
	const struct janee_strlist *scopes;
	/* The resources asked for (GitHub: repositories, PostgreSQL:
	 * databases), within the allow-list; may be empty. */
	const struct janee_strlist *resources;
	int64_t ttl_s;
};

/* One part of a provider's tokens, as configure() describes them. */
struct janee_part_info {
	const char *name;
	/* The variable `janee exec` puts it in, or NULL: none (for the
	 * primary part, NAME_TOKEN after the entry's name). */
	const char *env;
	unsigned flags; /* JANEE_PART_SECRET */
};

/*
 * What a configured entry can do: configure() fills it, and the core
 * reads nothing else about the provider (not its slots) to decide.
 * Strings point to the provider's own (static or state) memory and must
 * live until unconfigure().
 */
struct janee_info {
	int needs_login; /* `janee login NAME` before it can mint */
	int revocable; /* revoke() ends its tokens at lease end */
	/* reconcile() finds what a crashed mint issued, or says why it
	 * cannot and how long such a token lives (else janee guesses) */
	int reconcilable;
	/* The policy's max_ttl when config.json sets none; 0: janee's 1h. */
	int64_t max_ttl_s;
	/*
	 * The parts its tokens have, NULL-name terminated; NULL: one secret
	 * part "token".  primary names the one `janee token` prints and
	 * request_token returns as "token" (NULL: the first).
	 */
	const struct janee_part_info *parts;
	const char *primary;
	/*
	 * For calling the provider's API with a lease's token (call_api and
	 * the proxy): the default base URL (NULL: none), the header that
	 * carries the token and the scheme before it ("Authorization",
	 * "Bearer"; a NULL scheme sends the token alone).
	 */
	const char *api_base;
	const char *auth_header;
	const char *auth_scheme;
	/*
	 * call_api's knowledge of the API: headers sent with every call
	 * whose name the agent did not set ("Name: value", NULL-terminated;
	 * NULL: none); the API version header, which an agent may set too
	 * (NULL: none); and the name of a rule's "{name}" that is one of the
	 * provider's resources ("repo"), so that a call it matched stays
	 * within the resource allow-list (compared without case; NULL:
	 * no such check).
	 */
	const char *const *api_headers;
	const char *api_version_header;
	const char *api_resource_var;
	/*
	 * The environment variable that clients of the API read its base
	 * URL from ("GITHUB_API_URL"): `janee exec --proxy` points it at
	 * the proxy.  NULL: NAME_API_URL from the provider's entry name.
	 */
	const char *api_base_env;
};

/* What reconcile() is told, and answers, about a lease cut short. */
struct janee_reconcile {
	int64_t minting_ms; /* in: when janee began minting the lease */
	int revoked; /* out: live tokens of the lease found and revoked */
	/*
	 * out, with a failure (a token of the lease may be left live): when
	 * that token expires, when the provider knows it; else how long the
	 * provider's tokens live (seconds), when it knows.  0: unknown.
	 */
	int64_t live_until_ms;
	int64_t lifetime_s;
};

struct janee_cfg; /* one provider entry of config.json */
struct janee_ctx;

/*
 * Typed readers for a provider's configuration entry.  Each marks its key
 * as used; after configure() the core refuses any key nobody read, naming
 * it.  A missing optional key leaves *out untouched and returns 0; a key
 * of the wrong type is JANEE_ERR_CONFIG with a message naming it.
 */
int janee_cfg_string(struct janee_cfg *c, const char *key, int required,
    const char **out) __attribute__((warn_unused_result));
/* A string that must be a secret reference (secret:, env:, ...). */
int janee_cfg_ref(struct janee_cfg *c, const char *key, int required,
    const char **out) __attribute__((warn_unused_result));
int janee_cfg_bool(struct janee_cfg *c, const char *key, int *out)
    __attribute__((warn_unused_result));
int janee_cfg_int(struct janee_cfg *c, const char *key, int64_t *out)
    __attribute__((warn_unused_result));
/* "90s", "5m", "1h", "2d" or integer seconds. */
int janee_cfg_duration(struct janee_cfg *c, const char *key, int64_t *out_s)
    __attribute__((warn_unused_result));
int janee_cfg_strlist(struct janee_cfg *c, const char *key,
    struct janee_strlist *out) __attribute__((warn_unused_result));
/*
 * Scopes as a list ["issues:read"] or as a map {"issues": "read"} (GitHub's
 * "permissions"); the map's pairs become "name:level".
 */
int janee_cfg_scopes(struct janee_cfg *c, const char *key,
    struct janee_strlist *out) __attribute__((warn_unused_result));
/*
 * An object-valued key (Slack's "profiles" map): *out is the cJSON object,
 * owned by the configuration and valid only during configure(); copy what
 * is kept.  The provider checks the members itself (the unknown-key check
 * does not look inside).
 */
struct cJSON;
int janee_cfg_object(struct janee_cfg *c, const char *key,
    const struct cJSON **out) __attribute__((warn_unused_result));

struct janee_http;

/*
 * The services a provider may use, filled by the core before configure()
 * is called; state and http are the exceptions (below).
 */
struct janee_ctx {
	const char *name; /* the provider's entry name in config.json */
	void *state; /* what configure() returned */
	/*
	 * The process's HTTP client, set before any slot but configure():
	 * configure() reads config.json and touches no network.
	 */
	struct janee_http *http;
	/*
	 * The policy's ceiling ("scopes") and the resource allow-list (the
	 * key the provider names in janee_provider.resources, such as
	 * "repositories"), which configure() may extend from its own keys
	 * (GitHub's "permissions" map).  The core refuses an empty ceiling
	 * after configure().
	 */
	struct janee_strlist *ceiling;
	struct janee_strlist *resources;
	/* Resolve a reference such as "secret:NAME"; caller frees. */
	int (*secret_get)(
	    struct janee_ctx *ctx, const char *ref, struct janee_secret **out);
	/*
	 * The login `janee login NAME` stored for this entry, as the
	 * provider's own bytes (sealed by the core).  cred_get answers
	 * JANEE_ERR_NOT_FOUND with a message saying which command to run.
	 * Hold cred_lock around read-refresh-store: it serializes refreshes
	 * of one login across processes.
	 */
	int (*cred_get)(struct janee_ctx *ctx, struct janee_secret **out);
	int (*cred_put)(struct janee_ctx *ctx, const struct janee_secret *val,
	    const char *account);
	int (*cred_broken)(struct janee_ctx *ctx, const char *why);
	/*
	 * The provider refused the login's refresh token: mark the login
	 * broken with why, and return JANEE_ERR_PROVIDER with the pending
	 * message of rc (or why, when none is pending), saying the login no
	 * longer works and which `janee login` to run (with --profile when
	 * profile is not NULL).
	 */
	int (*login_gone)(struct janee_ctx *ctx, int rc, const char *why,
	    const char *profile);
	int (*cred_lock)(struct janee_ctx *ctx);
	void (*cred_unlock)(struct janee_ctx *ctx);
	/*
	 * Whether janee still holds lease_id live (requested, approved,
	 * minting or active): reconcile() asks it of what it finds at the
	 * provider, since a provider never reads the ledger.  1 yes (also
	 * when the ledger cannot say: never drop what may be live), 0 no.
	 */
	int (*lease_live)(struct janee_ctx *ctx, const char *lease_id);
	/*
	 * Whether lease_id is still minting: a token minted for it may not
	 * be in the ledger yet (janee may have died meanwhile).  A provider
	 * that keeps the tokens it minted for reconcile() drops those of
	 * leases no longer minting.  1 yes (also when the ledger cannot
	 * say), 0 no.
	 */
	int (*lease_minting)(struct janee_ctx *ctx, const char *lease_id);
	int64_t (*now_ms)(void);
	/* Diagnostics to stderr; never pass a secret. */
	void (*log)(struct janee_ctx *ctx, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
	void *core; /* opaque to providers */
};

/* What a login may show the person; filled by the CLI. */
struct janee_login_ui {
	/* The one-time code and where to enter it. */
	void (*show_code)(void *arg, const char *user_code, const char *uri,
	    const char *uri_complete, int64_t expires_in);
	/* Called about every 100 ms while waiting; non-zero cancels. */
	int (*waiting)(void *arg);
	void *arg;
	/* A browser flow's address: shown, and opened unless told not to. */
	void (*show_url)(void *arg, const char *url);
	const char *profile; /* --profile NAME, or NULL */
	int paste; /* --paste: read the answer, do not listen */
};

/*
 * A provider: one const table, valid before configure() and the same for
 * every entry of its type.  The core refuses a table whose version is not
 * JANEE_PROVIDER_VERSION.
 */
struct janee_provider {
	int version; /* JANEE_PROVIDER_VERSION */
	const char *type; /* the "type" value in config.json */
	const char *summary;
	/*
	 * What the provider narrows a token to besides scopes, by its own
	 * name: the config.json key of the allow-list and the word for one
	 * ("repositories", "repository"); NULL: nothing (a request that names
	 * resources is refused).  config.json, the CLI (--resource) and MCP
	 * ("resources") also take the generic name.
	 */
	const char *resources;
	const char *resource;

	/*
	 * Read the provider's own keys (janee_cfg_*); *state is passed back
	 * in ctx->state.  Fill *info (zeroed by the core) with what the
	 * entry can do.  Required.
	 */
	int (*configure)(struct janee_ctx *ctx, struct janee_cfg *cfg,
	    void **state, struct janee_info *info);
	void (*unconfigure)(void *state);

	/* Mint one token for req; fill out.  Required. */
	int (*mint)(struct janee_ctx *ctx, const struct janee_mint_req *req,
	    struct janee_token *out);

	/*
	 * End lease_id's token (its parts as minted) before its natural
	 * expiry; called when info.revocable.  Revoking a token the provider
	 * no longer knows is success.
	 */
	int (*revoke)(struct janee_ctx *ctx, const char *lease_id,
	    const struct janee_token *tok);

	/*
	 * A janee process died while minting lease_id: find any token the
	 * provider issued for it, revoke it, and say how many in r->revoked;
	 * 0 returned means no token of the lease is left live.  A failure
	 * (with a message saying why) means one may be: the lease is then
	 * orphaned, until r->live_until_ms or for r->lifetime_s when known.
	 * JANEE_ERR_NETWORK: tried again later.  Called when
	 * info.reconcilable; without it such a token is orphaned.  It may
	 * also end what it finds of leases janee no longer holds
	 * (ctx->lease_live), never anything else.
	 */
	int (*reconcile)(struct janee_ctx *ctx, const char *lease_id,
	    struct janee_reconcile *r);

	/* Interactive login by a person (`janee login NAME`).  Optional. */
	int (*login)(struct janee_ctx *ctx, const struct janee_login_ui *ui);
	/* Revoke the stored login at the provider.  Optional. */
	int (*logout)(struct janee_ctx *ctx);
};

#endif
