/* libFuzzer: config.json, with every provider type janee knows. */
#include "common.h"

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	char *text;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_parse(text, "fuzz", janee_providers, NULL, &cfg) == 0)
		config_free(cfg);
	free(text);
	janee_err_clear();
	return 0;
}
