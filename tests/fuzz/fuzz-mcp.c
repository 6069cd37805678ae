/*
 * libFuzzer: MCP / JSON-RPC messages from a client, both eras, fed to the
 * server's framing and dispatch as if read from stdin.  The ledger is not
 * opened (tools answer "cannot serve"), so the protocol layer is what is
 * exercised: framing, UTF-8, JSON-RPC validation, the handshake,
 * server/discover, tools/list and argument checking.
 */
#include "common.h"

#include "mcp.h"

static struct core core;
static struct mcp m;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		/* Protocol output is not the point here. */
		if (freopen("/dev/null", "w", stdout) == NULL)
			abort();
		ready = 1;
	}
	mcp_init(&m, &core);
	m.ready_failed = 1;
	snprintf(m.ready_error, sizeof(m.ready_error), "fuzzing");
	mcp_feed(&m, (const char *)data, size);
	mcp_feed(&m, "\n", 1);
	mcp_shutdown(&m, "fuzz");
	mcp_free(&m);
	janee_err_clear();
	return 0;
}
