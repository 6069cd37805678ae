/*
 * The providers built into janee.  Adding a provider is one file under
 * providers/ and one line here.  The GitHub App, Slack and generic OAuth
 * 2.0 providers are still to come; tests link their own table with a
 * test-only provider (tests/provider-test.c).
 */
#include "common.h"

#include "config.h"

const struct janee_provider *const janee_providers[] = {
	NULL,
};
