/*
 * libFuzzer: the small parsers of what people type: durations, times,
 * integers, lease ids, secret names.
 */
#include "common.h"

#include "secrets.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, out[64];
	int64_t v;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (janee_duration_parse(s, &v) == 0) {
		/* What parses formats back to something that parses alike. */
		int64_t again;

		janee_duration_fmt(v, out, sizeof(out));
		if (janee_duration_parse(out, &again) != 0 || again != v)
			abort();
	}
	(void)janee_time_parse(s, 1790000000000LL, &v);
	(void)janee_parse_int(s, INT64_MIN, INT64_MAX, &v);
	(void)janee_lease_id_valid(s);
	(void)secret_name_valid(s);
	free(s);
	janee_err_clear();
	return 0;
}
