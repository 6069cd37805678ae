/* Opening a shared library on first use; see lazylib.h for why. */
#include "common.h"

#include <dlfcn.h>

#include "lazylib.h"

static int
failed(struct lazylib *lib)
{
	return janee_err_set(JANEE_ERR_UNSUPPORTED, "%s", lib->why);
}

int
lazylib_load(struct lazylib *lib)
{
	const char *const *f;
	const char *err = "no file to try";
	void *h = NULL;
	size_t i;

	if (lib->state > 0)
		return 0;
	if (lib->state < 0)
		return failed(lib);
	for (f = lib->files; *f != NULL && h == NULL; f++)
		if ((h = dlopen(*f, RTLD_NOW | RTLD_LOCAL)) == NULL)
			err = dlerror();
	if (h == NULL) {
		snprintf(lib->why, sizeof(lib->why),
		    "cannot load %s (%s): %s; install it (Debian: see the README's dependency list)",
		    lib->what, lib->files[0], err);
		lib->state = -1;
		return failed(lib);
	}
	for (i = 0; lib->syms[i] != NULL; i++) {
		if ((lib->addr[i] = dlsym(h, lib->syms[i])) == NULL) {
			snprintf(lib->why, sizeof(lib->why),
			    "%s has no %s: janee needs a newer %s", lib->what,
			    lib->syms[i], lib->what);
			/* Keep the handle: dlclose of a half-used library is
			 * not worth the risk on a path that only fails. */
			lib->state = -1;
			return failed(lib);
		}
	}
	lib->state = 1;
	return 0;
}
