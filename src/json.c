/* Small cJSON readers (json.h). */
#include "common.h"

#include "json.h"

const char *
json_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
json_put(cJSON *o, const char *k, cJSON *v)
{
	if (o != NULL && v != NULL && cJSON_AddItemToObject(o, k, v))
		return 0;
	cJSON_Delete(v);
	return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
}

int
json_push(cJSON *a, cJSON *v)
{
	if (a != NULL && v != NULL && cJSON_AddItemToArray(a, v))
		return 0;
	cJSON_Delete(v);
	return janee_err_set(JANEE_ERR_NOMEM, "out of memory");
}
