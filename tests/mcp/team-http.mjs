// Team mode over HTTP under the official MCP SDK's Streamable HTTP client
// (started by tests/t0860-team-http.sh): an agent with a bearer token from
// janee's token endpoint gets a lease within its own policy and is refused
// one beyond it; without a token, or with a forged one, the SDK's
// connect fails with janee's 401.
//
// Environment: JANEE, TMP, JANEE_URL (the endpoint), TEAM_TOKEN (the
// agent's access token).  Writes the lease id it got to $TMP/lease_id.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { TMP, check, failed, notOk, text } from './common.mjs';

const URL_ = new URL(process.env.JANEE_URL);
const TOKEN = process.env.TEAM_TOKEN;

async function connect(token) {
	const init = token ? { headers: { Authorization: `Bearer ${token}` } } : {};
	const transport = new StreamableHTTPClientTransport(URL_, { requestInit: init });
	const client = new Client({ name: 'team-bot', version: '1.0' }, { capabilities: {} });
	await client.connect(transport);
	return client;
}

async function refused(name, token) {
	try {
		const c = await connect(token);
		await c.close();
		notOk(name, 'connected');
	} catch (e) {
		check(name, e?.code === 401, `code ${e?.code}: ${e?.message ?? e}`);
	}
}

async function main() {
	await refused('the SDK without a token: connect fails with 401', null);
	// The token with its signature's last characters changed.
	const forged = TOKEN.slice(0, -4) + (TOKEN.endsWith('AAAA') ? 'BBBB' : 'AAAA');
	await refused('the SDK with a badly signed token: connect fails with 401', forged);

	const c = await connect(TOKEN);
	check('the SDK with the agent\'s token: the handshake succeeds', true);
	const tools = await c.listTools();
	check('tools/list answers with request_token', tools.tools.some((t) => t.name === 'request_token'));
	let r = await c.callTool({
		name: 'request_token',
		arguments: { provider: 't', scopes: ['read'], ttl_seconds: 60, reason: 'team test' },
	});
	check('request_token within the agent\'s policy: a lease', !r.isError && r.structuredContent?.lease_id,
		JSON.stringify(r).slice(0, 400));
	if (r.structuredContent?.lease_id)
		writeFileSync(join(TMP, 'lease_id'), r.structuredContent.lease_id);
	r = await c.callTool({
		name: 'request_token',
		arguments: { provider: 't', scopes: ['write'], ttl_seconds: 60, reason: 'beyond my policy' },
	});
	check('request_token beyond the agent\'s policy (write): refused', r.isError === true,
		JSON.stringify(r).slice(0, 400));
	check('the refusal names the agent', /ci-bot/.test(text(r)), text(r));
	await c.close();
}

main().then(() => process.exit(failed() ? 1 : 0), (e) => {
	notOk('the team scenarios ran to the end', e?.stack ?? e);
	process.exit(1);
});
