/*
 * janee proxy: a reverse proxy on 127.0.0.1 for programs that speak HTTP
 * themselves.  Each request is one call_api call (api-call.c: the same
 * rules, lease, send, scrubbing and audit event), made with the lease the
 * proxy holds; the program never sees the token.
 *
 * A request must carry the per-run key (API_PROXY_KEY_HEADER, or as the
 * credential of "Authorization: Bearer KEY" / "token KEY", so that a
 * client that takes a token works unchanged); it is compared in constant
 * time.  The key keeps other local processes of the same user from using
 * the lease (those of other users are refused before a byte is read,
 * web.h WEB_SAME_UID).  When the lease ends the proxy answers 401 and
 * asks for a new one on the next request, through the approval channels;
 * requests get 401 until it is approved.
 *
 * It runs in its caller's poll loop (janee proxy's, janee exec's):
 *   api_proxy_start -> loop { poll(api_proxy_fd, api_proxy_timeout_ms);
 *                             api_proxy_run } -> api_proxy_stop
 */
#ifndef JANEE_API_PROXY_H
#define JANEE_API_PROXY_H

#include "common.h"

#include "cli.h"

#define API_PROXY_KEY_HEADER "Janee-Proxy-Key"
#define API_PROXY_KEY_LEN 64 /* hex characters */

struct api_proxy;

struct api_proxy_opts {
	const char *provider;
	const struct janee_strlist *scopes;
	const struct janee_strlist *resources;
	int64_t ttl_s; /* 0: the policy's default */
	const char *reason; /* NULL: "janee proxy" */
	uint16_t port; /* 0: one the kernel picks */
};

/*
 * Parse --listen: "127.0.0.1:PORT", "localhost:PORT" or "PORT"; any
 * other address is refused (JANEE_ERR_USAGE): loopback only.
 */
int api_proxy_listen_parse(const char *s, uint16_t *port) JANEE_WUR;

/*
 * Check the provider (it must have "api" rules), obtain the first lease
 * as janee exec does (a prompt, or waiting for janee approve), then
 * listen.  The caller frees *out with api_proxy_stop.
 */
int api_proxy_start(struct cli *c, const struct api_proxy_opts *o,
    struct api_proxy **out) JANEE_WUR;

/* "http://127.0.0.1:PORT"; the key (hex); the variable for the URL. */
const char *api_proxy_url(const struct api_proxy *p);
const char *api_proxy_key(const struct api_proxy *p);
const char *api_proxy_env(const struct api_proxy *p);

int api_proxy_fd(const struct api_proxy *p);
/* Milliseconds until api_proxy_run has work without input; -1: none. */
int64_t api_proxy_timeout_ms(struct api_proxy *p);
void api_proxy_run(struct api_proxy *p);

/* End the lease it holds (and deny one waiting), stop listening. */
void api_proxy_stop(struct api_proxy *p, const char *why);

/*
 * An environment variable's name from a provider entry's name and a
 * suffix ("gh-app", "_TOKEN": GH_APP_TOKEN): upper case, other characters
 * '_', no leading digit.  NULL when out of memory.
 */
char *api_env_name(const char *name, const char *suffix);

/* cmd-proxy.c: janee proxy PROVIDER [--scope S]... [--listen ADDR]. */
int cmd_proxy(struct cli *c);

#endif
