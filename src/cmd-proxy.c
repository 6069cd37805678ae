/*
 * janee proxy PROVIDER: serve call_api's calls to programs that speak
 * HTTP themselves, on 127.0.0.1, until interrupted (api-proxy.h).  The
 * URL and the per-run key go to stdout once, as NAME=VALUE lines; what
 * happens (leases asked for, in use, expired) goes to stderr.
 */
#include "common.h"

#include <poll.h>
#include <signal.h>

#include "api-proxy.h"
#include "util.h"

static volatile sig_atomic_t stop_signal;

static void
on_stop(int sig)
{
	stop_signal = sig;
}

int
cmd_proxy(struct cli *c)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct api_proxy_opts o;
	struct api_proxy *p = NULL;
	struct janee_strlist res;
	struct sigaction sa;
	struct pollfd pfd;
	const char *s;
	int64_t t;
	size_t i;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	o.provider = c->pos[0];
	o.scopes = cli_all(c, "scope");
	o.reason = cli_get(c, "reason");
	if ((s = cli_get(c, "ttl")) != NULL &&
	    (rc = janee_duration_parse(s, &o.ttl_s)) != 0)
		return rc;
	if ((s = cli_get(c, "listen")) != NULL &&
	    (rc = api_proxy_listen_parse(s, &o.port)) != 0)
		return cli_usage_error(c, "%s", janee_err_msg(rc));
	for (i = 0; i < cli_all(c, "resource")->n; i++)
		if ((rc = janee_strlist_add(
			 &res, cli_all(c, "resource")->v[i])) != 0)
			goto out;
	for (i = 0; i < cli_all(c, "repo")->n; i++)
		if ((rc = janee_strlist_add(&res, cli_all(c, "repo")->v[i])) !=
		    0)
			goto out;
	o.resources = &res;
	c->core.broker.client = "proxy";
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll returns at once with EINTR. */
	for (i = 0; i < nitems(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	if ((rc = api_proxy_start(c, &o, &p)) != 0)
		goto out;
	/* Once, for the person or the script that started it. */
	printf("%s=%s\nJANEE_PROXY_URL=%s\nJANEE_PROXY_KEY=%s\n",
	    api_proxy_env(p), api_proxy_url(p), api_proxy_url(p),
	    api_proxy_key(p));
	fflush(stdout);
	fprintf(stderr,
	    "janee proxy: '%s' on %s; send the key in the header "
	    "%s (or as the bearer token); Ctrl-C ends the lease\n",
	    o.provider, api_proxy_url(p), API_PROXY_KEY_HEADER);
	while (!stop_signal) {
		pfd.fd = api_proxy_fd(p);
		pfd.events = POLLIN;
		t = api_proxy_timeout_ms(p);
		if (t > 60000 || t < 0)
			t = 60000;
		if (poll(&pfd, 1, (int)t) < 0 && errno != EINTR) {
			rc = janee_err_set(
			    JANEE_ERR_IO, "poll: %s", strerror(errno));
			break;
		}
		api_proxy_run(p);
	}
	fprintf(stderr, "janee proxy: stopped; its lease is ended\n");
out:
	api_proxy_stop(p, "janee proxy stopped");
	janee_strlist_free(&res);
	return rc;
}
