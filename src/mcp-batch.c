/*
 * JSON-RPC batches, which protocol 2025-03-26 requires a server to accept
 * (and 2025-06-18 dropped).  The answers to a batch's requests go back in
 * one array once every request is answered; a request that waits for a
 * person holds its batch's answer until it is settled, since JSON-RPC has
 * no way to answer part of a batch.  What the server sends meanwhile
 * (progress, elicitations, answers to earlier requests) goes out at once.
 */
#include "common.h"

#include "mcp.h"

struct mcp_batch {
	struct mcp_batch *next;
	cJSON *out; /* the answers so far */
	cJSON *waiting; /* ids of its requests not answered yet */
};

/* A request that will be answered: it has a method, or is not a response. */
static int
will_answer(const cJSON *el, cJSON **idp)
{
	cJSON *id = cJSON_GetObjectItemCaseSensitive(el, "id");

	if (!cJSON_IsObject(el) || id == NULL ||
	    !(cJSON_IsString(id) ||
		(cJSON_IsNumber(id) &&
		    id->valuedouble == (double)(int64_t)id->valuedouble)))
		return 0;
	if (!cJSON_HasObjectItem(el, "method") &&
	    (cJSON_HasObjectItem(el, "result") ||
		cJSON_HasObjectItem(el, "error")))
		return 0; /* the client's answer to one of ours */
	*idp = id;
	return 1;
}

static void
batch_free(struct mcp_batch *b)
{
	cJSON_Delete(b->out);
	cJSON_Delete(b->waiting);
	free(b);
}

/* Send and forget b once nothing is missing (and it is not being run). */
static void
settle(struct mcp *m, struct mcp_batch *b)
{
	struct mcp_batch **pp;

	if (b == m->filling || cJSON_GetArraySize(b->waiting) > 0)
		return;
	for (pp = &m->batches; *pp != NULL; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	/* A batch of notifications and responses gets no answer at all. */
	if (cJSON_GetArraySize(b->out) > 0) {
		mcp_emit(m, b->out);
		b->out = NULL;
	}
	batch_free(b);
}

/* The batch waiting for an answer with this id, and where in its list. */
static struct mcp_batch *
find(struct mcp *m, const cJSON *id, int *at)
{
	struct mcp_batch *b;
	cJSON *w;
	int i;

	for (b = m->batches; b != NULL; b = b->next) {
		i = 0;
		cJSON_ArrayForEach(w, b->waiting)
		{
			if (cJSON_Compare(w, id, 1)) {
				*at = i;
				return b;
			}
			i++;
		}
	}
	return NULL;
}

void
mcp_batch(struct mcp *m, cJSON *arr, void (*dispatch)(struct mcp *, cJSON *))
{
	struct mcp_batch *b;
	const cJSON *method;
	cJSON *el, *id;

	if (cJSON_GetArraySize(arr) == 0) {
		mcp_emit(m,
		    mcp_error(NULL, -32600, "invalid request: an empty batch"));
		return;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->out = cJSON_CreateArray()) == NULL ||
	    (b->waiting = cJSON_CreateArray()) == NULL) {
		if (b != NULL)
			batch_free(b);
		mcp_emit(m, mcp_error(NULL, -32603, "out of memory"));
		return;
	}
	/* Every id to wait for is known before the first request runs. */
	cJSON_ArrayForEach(el, arr)
	{
		if (will_answer(el, &id))
			cJSON_AddItemToArray(
			    b->waiting, cJSON_Duplicate(id, 1));
	}
	b->next = m->batches;
	m->batches = b;
	m->filling = b;
	cJSON_ArrayForEach(el, arr)
	{
		method = cJSON_GetObjectItemCaseSensitive(el, "method");
		if (cJSON_IsString(method) &&
		    strcmp(method->valuestring, "initialize") == 0 &&
		    will_answer(el, &id)) {
			mcp_send(m,
			    mcp_error(id, -32600,
				"invalid request: initialize must not be part of a batch"));
			continue;
		}
		dispatch(m, el);
	}
	m->filling = NULL;
	settle(m, b);
}

int
mcp_batch_take(struct mcp *m, cJSON *v)
{
	struct mcp_batch *b;
	cJSON *id;
	int at;

	if (m->batches == NULL || cJSON_HasObjectItem(v, "method") ||
	    (id = cJSON_GetObjectItemCaseSensitive(v, "id")) == NULL)
		return 0;
	if ((b = find(m, id, &at)) != NULL)
		cJSON_DeleteItemFromArray(b->waiting, at);
	else if (cJSON_IsNull(id) && m->filling != NULL)
		b = m->filling; /* an element too broken to have an id */
	else
		return 0;
	cJSON_AddItemToArray(b->out, v);
	settle(m, b);
	return 1;
}

void
mcp_batch_forget(struct mcp *m, const cJSON *id)
{
	struct mcp_batch *b;
	int at;

	if (id != NULL && (b = find(m, id, &at)) != NULL) {
		cJSON_DeleteItemFromArray(b->waiting, at);
		settle(m, b);
	}
}

void
mcp_batch_free_all(struct mcp *m)
{
	struct mcp_batch *b;

	while ((b = m->batches) != NULL) {
		m->batches = b->next;
		batch_free(b);
	}
}
