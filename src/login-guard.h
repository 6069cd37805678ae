/*
 * What a provider's login shows a person passes one check in the core
 * (broker_login) before the front end (the CLI's show_code, show_url)
 * sees it.  A provider's answer decides the device flow's
 * verification_uri, and a config the Slack address: each must pass
 * janee_url_check (printable ASCII; https, or http to loopback), else it
 * is neither shown nor opened, and the login ends at its next wait with
 * that refusal.  The one-time code is shown escaped (text.h).
 */
#ifndef JANEE_LOGIN_GUARD_H
#define JANEE_LOGIN_GUARD_H

#include "common.h"

struct login_guard {
	const struct janee_login_ui *front; /* the front end's */
	struct janee_login_ui ui; /* what the provider is given */
	int refused; /* the refusal's error code, or 0 */
	char why[512]; /* its message */
};

/* Make g->ui, which checks, then calls front's. */
void
login_guard_init(struct login_guard *g, const struct janee_login_ui *front);

/* The login's result: rc, or the refusal when an address was refused. */
int login_guard_end(struct login_guard *g, int rc) JANEE_WUR;

#endif
