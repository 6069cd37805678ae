// janee serve --http under the official MCP TypeScript SDK's Streamable
// HTTP client (@modelcontextprotocol/sdk 1.32, client/streamableHttp.js),
// started by tests/t0840-serve-http.sh (providers auto, ask, oob, short).
// Two sessions at once (A can elicit, B cannot): the handshake and its
// Mcp-Session-Id, tools/list, request_token end to end (auto; ask through
// an elicitation that arrives on the POST's SSE stream and is answered by
// a second POST), B refused A's approved lease while A collects it, an
// out-of-band wait answered later with progress, URL mode through janee's
// page, twenty sessions at once, a lease's end notified on A's GET
// stream, and DELETE ending A (404 after).
//
// Environment: JANEE, TMP, JANEE_URL (the endpoint).  Writes the tokens
// it got to $TMP/tokens and the session ids to $TMP/sids.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
	ElicitRequestSchema,
	LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

import {
	TMP,
	check,
	failed,
	janee,
	janeeJson,
	notOk,
	sleep,
	text,
	tokenLive,
	waitFor,
} from './common.mjs';

process.on('uncaughtException', (e) => {
	notOk('the HTTP scenarios ran to the end', e?.stack ?? e);
	process.exit(1);
});
process.on('unhandledRejection', (e) => {
	notOk('the HTTP scenarios ran to the end', e?.stack ?? e);
	process.exit(1);
});

const URL_ = new URL(process.env.JANEE_URL);
const PROV = join(TMP, 'prov');
const tokens = [];
const show = (m) => JSON.stringify(m)?.slice(0, 600);

async function connect(name, elicit, caps = { elicitation: {} }) {
	const transport = new StreamableHTTPClientTransport(URL_);
	const s = { name, transport, logs: [], elicits: [] };
	s.client = new Client(
		{ name, version: '1.2.3' },
		{ capabilities: elicit ? caps : {} },
	);
	s.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
		s.logs.push(n.params);
	});
	if (elicit)
		s.client.setRequestHandler(ElicitRequestSchema, async (req) => {
			s.elicits.push(req.params);
			return elicit(req.params);
		});
	await s.client.connect(transport);
	return s;
}

async function call(s, name, args) {
	const r = await s.client.callTool({ name, arguments: args });
	const t = r.structuredContent?.token;
	if (typeof t === 'string') tokens.push(t);
	return r;
}

const leases = () => janeeJson(['lease', 'list', '--all', '--json']);

// --- two sessions, the handshake -------------------------------------

const A = await connect('http-a', async (p) => ({
	action: 'accept',
	content: { approve: true, ttl: p.requestedSchema?.properties?.ttl?.enum?.[0] },
}));
const B = await connect('http-b');
const hex64 = /^[0-9a-f]{64}$/;
check('A: initialize over HTTP gives a 64-hex Mcp-Session-Id', hex64.test(A.transport.sessionId ?? ''), A.transport.sessionId);
check('B: a second session at once, with an id of its own', hex64.test(B.transport.sessionId ?? '') && B.transport.sessionId !== A.transport.sessionId);
check('the negotiated version is 2025-11-25', A.transport.protocolVersion === '2025-11-25', A.transport.protocolVersion);
writeFileSync(join(TMP, 'sids'), `${A.transport.sessionId}\n${B.transport.sessionId}\n`);

const tl = await A.client.listTools();
const names = tl.tools.map((t) => t.name);
check('tools/list over HTTP names request_token, revoke_token, list_leases', ['request_token', 'revoke_token', 'list_leases'].every((n) => names.includes(n)), names);

// --- request_token end to end ------------------------------------------

const auto = await call(A, 'request_token', { provider: 'auto', scopes: ['read'], ttl_seconds: 60, reason: 'http auto' });
check('A: request_token (auto) gives a live token at the test provider', !auto.isError && tokenLive(PROV, auto.structuredContent?.token ?? ''), show(auto));

const asked = await call(A, 'request_token', { provider: 'ask', scopes: ['read'], ttl_seconds: 60, reason: 'http ask' });
check('A: ask is put to the client as elicitation/create over the SSE stream', A.elicits.length === 1 && A.elicits[0]?.message !== undefined, show(A.elicits));
check('and the answer, POSTed back, approves it: a live token', !asked.isError && tokenLive(PROV, asked.structuredContent?.token ?? ''), show(asked));

// --- B may not collect A's lease ----------------------------------------

const pend = await call(A, 'request_token', { provider: 'oob', scopes: ['read'], ttl_seconds: 60, reason: 'http oob' });
const id = /pending: lease (lse_[a-z2-7]{26})/.exec(text(pend))?.[1];
check('A: an out-of-band request answers pending with its lease id', id !== undefined, show(pend));
const ap = await janee(['approve', id ?? 'none']);
check('a person approves it at the terminal', ap.code === 0, ap.stderr);
const steal = await call(B, 'request_token', { provider: 'oob', reason: 'B collects', lease_id: id });
check("B: request_token with A's lease_id is refused (separate sessions)", steal.isError === true && /not requested in this session/.test(text(steal)) && !steal.structuredContent, show(steal));
const got = await call(A, 'request_token', { provider: 'oob', reason: 'A collects', lease_id: id });
check('A: collects its own approved lease (the control)', !got.isError && got.structuredContent?.lease_id === id && tokenLive(PROV, got.structuredContent?.token ?? ''), show(got));

const all = await leases();
const la = all.find((l) => l.id === auto.structuredContent?.lease_id);
const lb = await call(B, 'request_token', { provider: 'auto', scopes: ['read'], ttl_seconds: 60, reason: 'http b auto' });
const lbRow = (await leases()).find((l) => l.id === lb.structuredContent?.lease_id);
check('the ledger names each session\'s own client (self-reported) and session', la?.client === 'http-a/1.2.3' && lbRow?.client === 'http-b/1.2.3' && la?.session && lbRow?.session && la.session !== lbRow.session, show([la, lbRow]));
const lsB = await call(B, 'list_leases', {});
check("B: list_leases shows B's lease and none of A's", (lsB.structuredContent?.leases ?? []).some((l) => l.lease_id === lb.structuredContent?.lease_id) && !(lsB.structuredContent?.leases ?? []).some((l) => l.lease_id === id), show(lsB));

// --- a request that waits for a person, with progress -----------------

{
	const progress = [];
	const reason = 'http waits';
	const pending = A.client.callTool({ name: 'request_token', arguments: { provider: 'oob', scopes: ['read'], ttl_seconds: 60, reason } }, undefined, {
		onprogress: (p) => progress.push(p),
		timeout: 30000,
	});
	const w = await waitFor(async () => (await janeeJson(['approvals', '--json'])).find((l) => l.reason === reason), 5000, 50);
	await sleep(1300); // long enough for a progress notification
	const ap = await janee(['approve', w?.id ?? 'none']);
	const r = await pending;
	if (typeof r.structuredContent?.token === 'string') tokens.push(r.structuredContent.token);
	check('A: request_token that waits for a person answers when approved, later, on its stream', ap.code === 0 && !r.isError && r.structuredContent?.lease_id === w?.id && tokenLive(PROV, r.structuredContent?.token ?? ''), show(r));
	check(`with progress notifications while it waited (${progress.length})`, progress.length >= 1 && /janee approve/.test(progress[0]?.message ?? ''), show(progress));
}

// --- a lease's end, told on the GET stream ----------------------------

const short = await call(A, 'request_token', { provider: 'short', scopes: ['read'], ttl_seconds: 1, reason: 'http short' });
const note = await waitFor(() => A.logs.find((n) => n.data?.lease_id === short.structuredContent?.lease_id), 8000, 50);
check('A: the lease that ended is notified while no request is open (GET stream)', note?.data?.event === 'lease_ended', show(A.logs));
check('and its token was revoked at the provider', !tokenLive(PROV, short.structuredContent?.token ?? 'x'));

// --- URL-mode elicitation: janee's page, served from the same loop ------

// A one-time link opened as a browser would, then the page's Approve.
async function approveOnPage(url, lease) {
	const r = await fetch(url, { redirect: 'manual' });
	const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0];
	const origin = new URL(url).origin;
	const html = await (await fetch(`${origin}/`, { headers: { cookie } })).text();
	const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
	const a = await fetch(`${origin}/approve`, {
		method: 'POST',
		redirect: 'manual',
		headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: 'null', 'sec-fetch-site': 'same-origin' },
		body: new URLSearchParams({ csrf, lease }).toString(),
	});
	return { link: r.status, approve: a.status };
}

{
	let page;
	const U = await connect('http-url', async (p) => {
		if (p.mode === 'url') setTimeout(async () => (page = await approveOnPage(p.url, p.elicitationId)), 50);
		return { action: 'accept' };
	}, { elicitation: { form: {}, url: {} } });
	const r = await call(U, 'request_token', { provider: 'ask', scopes: ['read'], ttl_seconds: 60, reason: 'http url mode' });
	check('URL mode over HTTP: the link to janee\'s page arrives on the stream', U.elicits[0]?.mode === 'url' && /^http:\/\/127\.0\.0\.1:\d+\//.test(U.elicits[0]?.url ?? ''), show(U.elicits));
	check('the page (polled by the same loop) opens and approves; the call answers with a token', page?.link === 303 && page?.approve === 303 && !r.isError && tokenLive(PROV, r.structuredContent?.token ?? ''), show({ page, r }));
	await U.transport.terminateSession();
	await U.client.close();
}

// --- many sessions at once -----------------------------------------------

{
	const N = 20;
	const many = await Promise.all(Array.from({ length: N }, (_, i) => connect(`http-m${i}`)));
	const rs = await Promise.all(many.map((m, i) => call(m, 'request_token', { provider: 'auto', scopes: ['read'], ttl_seconds: 60, reason: `many ${i}` })));
	const ids = new Set(many.map((m) => m.transport.sessionId));
	check(`${N} sessions at once: ${N} session ids`, ids.size === N, [...ids].length);
	check(`each got a live token of its own`, rs.every((r) => !r.isError && tokenLive(PROV, r.structuredContent?.token ?? '')) && new Set(rs.map((r) => r.structuredContent?.token)).size === N, show(rs.find((r) => r.isError)));
	const rows = (await leases()).filter((l) => /^many \d+$/.test(l.reason ?? ''));
	check('each lease is in the ledger with its own client and session', rows.length === N && new Set(rows.map((l) => l.session)).size === N && rows.every((l) => l.client === `http-m${l.reason.split(' ')[1]}/1.2.3`), show(rows.slice(0, 3)));
	await Promise.all(many.map((m) => m.transport.terminateSession().then(() => m.client.close())));
}

// --- DELETE ends a session --------------------------------------------

const sidA = A.transport.sessionId;
await A.transport.terminateSession();
const after = await fetch(URL_, {
	method: 'POST',
	headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sidA, 'mcp-protocol-version': '2025-11-25' },
	body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
});
check('after DELETE the session is gone: 404', after.status === 404, after.status);
const bAfter = await B.client.listTools();
check('and B goes on (the control)', bAfter.tools.length > 0);

writeFileSync(join(TMP, 'tokens'), tokens.join('\n') + '\n');
await B.client.close();
process.exit(failed() ? 1 : 0);
