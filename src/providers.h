/*
 * The providers built into janee.  Adding a provider is one file under
 * providers/ and one line in JANEE_BUILTIN_PROVIDERS; janee's table
 * (src/providers.c) and the test binary's (tests/provider-test.c) both
 * take the list from here.
 */
#ifndef JANEE_PROVIDERS_H
#define JANEE_PROVIDERS_H

#include "janee/provider.h"

extern const struct janee_provider oauth2_provider;
extern const struct janee_provider github_provider;
extern const struct janee_provider slack_provider;
extern const struct janee_provider postgresql_provider;

#define JANEE_BUILTIN_PROVIDERS \
	&oauth2_provider, &github_provider, &slack_provider, \
	    &postgresql_provider,

#endif
