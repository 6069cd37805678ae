// call_api under the official MCP TypeScript SDK client, against the fake
// GitHub (tests/fixtures/fake_github.mjs), started by
// tests/t0560-call-api.sh, which writes the config (provider "github",
// approval ask, "api" rules) and checks the ledger, the audit and the
// fake's call log afterwards.
//
// Environment: JANEE, TMP, HOME, JANEE_HOME.  Writes every call_api
// result to $TMP/results.json for the script's token search.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import { JANEE, TMP, check, failed, janeeEnv, notOk, text } from './common.mjs';

process.on('uncaughtException', (e) => {
	notOk('the call_api scenarios ran to the end', e?.stack ?? e);
	process.exit(1);
});
process.on('unhandledRejection', (e) => {
	notOk('the call_api scenarios ran to the end', e?.stack ?? e);
	process.exit(1);
});

const results = [];
const elicits = [];
const transport = new StdioClientTransport({
	command: JANEE,
	args: ['serve'],
	env: janeeEnv(),
	stderr: 'pipe',
});
let stderr = '';
transport.stderr.on('data', (d) => (stderr += d));
const client = new Client({ name: 'call-api-test', version: '1.0.0' }, { capabilities: { elicitation: {} } });
client.setRequestHandler(ElicitRequestSchema, async (req) => {
	elicits.push(req.params);
	return { action: 'accept', content: { approve: true } };
});
await client.connect(transport);

const base = { provider: 'github', scopes: ['issues:read'], repositories: ['api'], reason: 'read the issues of acme/api' };
async function call(args) {
	const r = await client.callTool({ name: 'call_api', arguments: { ...base, ...args } });
	results.push(r);
	return r;
}
const show = (r) => JSON.stringify(r).slice(0, 1500);

const { tools } = await client.listTools();
const t = tools.find((x) => x.name === 'call_api');
check('tools/list has call_api with an inputSchema and an outputSchema',
	t && t.inputSchema?.required?.includes('path') && t.outputSchema?.properties?.lease_id, show(t));

// Ten calls in one session: one approval, one lease.
const leases = new Set();
let okCalls = 0;
for (let i = 0; i < 10; i++) {
	const r = await call({ method: 'GET', path: '/repos/acme/api/issues' });
	if (!r.isError && r.structuredContent?.status === 200 &&
	    JSON.parse(r.structuredContent.body)[0]?.title === 'first issue')
		okCalls++;
	else
		notOk(`call ${i + 1} of 10 answered 200 with the issues`, show(r));
	if (r.structuredContent?.lease_id) leases.add(r.structuredContent.lease_id);
}
check('ten call_api calls all answer 200 with the issues', okCalls === 10, okCalls);
check('the person was asked once for the ten calls (one elicitation)', elicits.length === 1, elicits.length);
check('the ten calls used one lease', leases.size === 1, [...leases].join(' '));
writeFileSync(join(TMP, 'lease'), [...leases][0] ?? '');

const r1 = results[0];
const header = (r, name) => Object.entries(r.structuredContent?.headers ?? {})
	.find(([k]) => k.toLowerCase() === name)?.[1];
check('the answer drops Set-Cookie and keeps ETag',
	header(r1, 'set-cookie') === undefined && header(r1, 'etag') === '"v1"', show(r1));
check('a text answer says body_encoding utf-8 and is not truncated',
	r1.structuredContent?.body_encoding === 'utf-8' && r1.structuredContent?.truncated === false, show(r1));

// The fake echoes the token back: janee redacts it, body and header.
const e = await call({ method: 'GET', path: '/repos/acme/api/issues', query: { echo: 'token' } });
const eb = e.structuredContent ? JSON.parse(e.structuredContent.body)[0]?.body ?? '' : '';
check('an answer echoing the token comes back with [redacted] for it (plain and base64)',
	!e.isError && /^plain \[redacted\] basic /.test(eb) && eb.includes('[redacted]', 20), show(e));
check('a header echoing the token comes back [redacted]', header(e, 'x-echo') === '[redacted]', show(e));

// Refused before any request: the script checks the fake saw none.
const refusals = [
	['a denied path (hooks) is refused by its deny rule', { method: 'GET', path: '/repos/acme/api/hooks' }, /denied by the rule/],
	['an unlisted method is refused (no allow rule)', { method: 'POST', path: '/repos/acme/api/issues', body: '{}' }, /matches no "allow" rule/],
	['a repository outside the allow-list is refused', { method: 'GET', path: '/repos/acme/secret/issues' }, /not in the provider's repository allow-list/],
	['a traversal path is refused', { method: 'GET', path: '/repos/acme/api/../secret/issues' }, /path is refused/],
	['an encoded traversal path is refused', { method: 'GET', path: '/repos/acme/api/%2e%2e/secret/issues' }, /path is refused/],
	['a denied path spelled with an encoded letter (%68ooks) is refused', { method: 'GET', path: '/repos/acme/api/%68ooks' }, /path is refused: it holds a percent-encoded letter/],
	['an encoded \';\' (%3B) is refused', { method: 'GET', path: '/repos/acme/api/issues%3Bx' }, /path is refused: it holds an encoded ';'/],
	['an Authorization header is refused', { method: 'GET', path: '/repos/acme/api/issues', headers: { Authorization: 'Bearer x' } }, /refused/],
	['a Cookie header is refused', { method: 'GET', path: '/repos/acme/api/issues', headers: { Cookie: 'a=b' } }, /refused/],
	['a header off the safe list is refused', { method: 'GET', path: '/repos/acme/api/issues', headers: { 'X-Other': '1' } }, /not one call_api passes on/],
	['a lowercase method is refused', { method: 'get', path: '/repos/acme/api/issues' }, /method/],
];
for (const [name, args, re] of refusals) {
	const r = await call(args);
	check(name, r.isError && re.test(text(r)), show(r));
}
// A safe header passes (the API version header, the provider's).
const v = await call({ method: 'GET', path: '/repos/acme/api/issues', headers: { Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28' } });
check('the safe headers (Accept, the API version header) pass', !v.isError && v.structuredContent?.status === 200, show(v));

// "resources" is the generic name of "repositories": the same list, so
// the same lease; both at once are refused.
const rs = await call({ method: 'GET', path: '/repos/acme/api/issues', repositories: undefined, resources: ['api'] });
check('resources (the generic name of repositories) is the same lease, asked once',
	!rs.isError && rs.structuredContent?.status === 200 && rs.structuredContent.lease_id === [...leases][0] && elicits.length === 1, show(rs));
const both = await call({ method: 'GET', path: '/repos/acme/api/issues', resources: ['api'] });
check('repositories and resources at once are refused', both.isError && /same list/.test(text(both)), show(both));

// An oauth2 provider whose API is the fake OAuth server's resource
// (client_credentials, client conf-basic): janee knows the client secret
// too, and redacts it.
const cc = { provider: 'cc', scopes: ['a:read'], repositories: undefined, reason: 'who am I at the fake API' };
const w = await call({ ...cc, method: 'GET', path: '/whoami' });
check('oauth2: an allowed call passes the server\'s bearer check',
	!w.isError && w.structuredContent?.status === 200 && JSON.parse(w.structuredContent.body).client_id === 'conf-basic', show(w));
const wt = await call({ ...cc, method: 'GET', path: '/whoami', query: { echo: 'token' } });
check('oauth2: an answer echoing the token has [redacted] for it',
	!wt.isError && JSON.parse(wt.structuredContent?.body ?? '{}').token === '[redacted]', show(wt));
const ws = await call({ ...cc, method: 'GET', path: '/whoami', query: { echo: 'secret' } });
check('oauth2: an answer echoing the client secret has [redacted] for it',
	!ws.isError && JSON.parse(ws.structuredContent?.body ?? '{}').secret === '[redacted]', show(ws));
check('oauth2: the same lease serves the three calls',
	w.structuredContent?.lease_id && w.structuredContent.lease_id === ws.structuredContent?.lease_id, show([w, ws]));
const bl = await call({ ...cc, method: 'GET', path: '/blob' });
const bytes = Buffer.from(bl.structuredContent?.body ?? '', 'base64');
check('a binary answer comes back base64, byte for byte',
	bl.structuredContent?.body_encoding === 'base64' && bytes.length === 256 && bytes.every((b, i) => b === i), show(bl));
const bg = await call({ ...cc, method: 'GET', path: '/big' });
check('an answer larger than max_response (64KiB) is cut there and says truncated',
	!bg.isError && bg.structuredContent?.truncated === true && bg.structuredContent.body.length === 65536, show({ ...bg.structuredContent, body: bg.structuredContent?.body?.length }));
// The cut at max_response splits an echoed token (its first 20 bytes
// before the cut): what is left of it would pass whole-match redaction,
// so janee drops it; the x's before it stay.
const bs = await call({ ...cc, method: 'GET', path: '/big', query: { echo: 'token', at: String(65536 - 20) } });
const bsb = bs.structuredContent?.body ?? '';
check('an answer cut in the middle of an echoed token comes back without the start of it',
	!bs.isError && bs.structuredContent?.truncated === true && bsb.length === 65536 - 20 && /^x*$/.test(bsb),
	show({ ...bs.structuredContent, body: bsb.length, tail: bsb.slice(-24) }));
// A lease that ended is not reused: the next call gets a new one.
const rk = await client.callTool({ name: 'revoke_token', arguments: { lease_id: w.structuredContent?.lease_id ?? '' } });
const w2 = await call({ ...cc, method: 'GET', path: '/whoami' });
check('after its lease is revoked, the next call runs on a new lease',
	!rk.isError && !w2.isError && w2.structuredContent?.status === 200 &&
	w2.structuredContent.lease_id !== w.structuredContent?.lease_id, show([rk, w2]));
const un = await call({ ...cc, method: 'GET', path: '/token' });
check('oauth2: a path no rule allows is refused', un.isError && /matches no "allow" rule/.test(text(un)), show(un));

// Slack: the Web API under the provider's base_url + /api by default.
const sl = { provider: 'slack', scopes: ['channels:read'], repositories: undefined, reason: 'list the channels' };
const cl = await call({ ...sl, method: 'POST', path: '/conversations.list', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'limit=10' });
check('slack: conversations.list answers ok through the default Web API base',
	!cl.isError && cl.structuredContent?.status === 200 && JSON.parse(cl.structuredContent.body).ok === true, show(cl));
const rv = await call({ ...sl, method: 'POST', path: '/auth.revoke' });
check('slack: auth.revoke is refused by its deny rule (deny wins over allow)', rv.isError && /denied by the rule/.test(text(rv)), show(rv));

// HEAD reads no body (the fake answers it 404, as it serves GET only).
const t0 = Date.now();
const hd = await call({ method: 'HEAD', path: '/repos/acme/api/issues' });
check('a HEAD call is answered at once, with no body',
	!hd.isError && hd.structuredContent?.status === 404 && hd.structuredContent.body === '' && Date.now() - t0 < 5000, show(hd));

writeFileSync(join(TMP, 'results.json'), JSON.stringify(results));
writeFileSync(join(TMP, 'serve.err'), stderr);
await client.close();
process.exit(failed() ? 1 : 0);
