/* janee's provider table: the built-in providers (src/providers.h). */
#include "common.h"

#include "config.h"
#include "providers.h"

const struct janee_provider *const janee_providers[] = {
	JANEE_BUILTIN_PROVIDERS NULL,
};
