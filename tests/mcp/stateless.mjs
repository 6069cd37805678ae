// janee serve in the stateless 2026-07-28 era: the official v2 client
// (@modelcontextprotocol/client, pinned and auto-negotiating) and raw
// JSON lines for what a well-behaved client never sends: server/discover,
// the _meta fields on every request, resultType, and elicitation as an
// input_required round trip whose requestState is MACed, bound to the
// call's arguments and short-lived (tampered, foreign, another call's,
// replayed and expired states).  Started by tests/t0420-mcp-stateless.sh
// (providers auto, ask, oob).  FAKETIME_LIB: libfaketime, to move one
// server's clock past the requestState's expiry (skipped without it).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

import {
	JANEE,
	TMP,
	check,
	failed,
	janee,
	janeeEnv,
	janeeJson,
	notOk,
	ok,
	sleep,
	text,
	tokenLive,
	waitFor,
} from './common.mjs';
import { Raw, rpc } from './raw.mjs';

process.on('uncaughtException', (e) => {
	notOk('the stateless scenarios ran to the end', e?.stack ?? e);
	process.exit(1);
});
process.on('unhandledRejection', (e) => {
	notOk('the stateless scenarios ran to the end', e?.stack ?? e);
	process.exit(1);
});

const PROV = join(TMP, 'prov');
const STATELESS = '2026-07-28';
const show = (m) => JSON.stringify(m)?.slice(0, 500);
const tokens = [];
const keep = (r) => {
	const t = r?.structuredContent?.token ?? r?.result?.structuredContent?.token;
	if (typeof t === 'string') tokens.push(t);
	return r;
};

async function leaseBy(reason) {
	return (await janeeJson(['lease', 'list', '--all', '--json'])).find((l) => l.reason === reason);
}
async function lease(id) {
	return (await janeeJson(['lease', 'list', '--all', '--json'])).find((l) => l.id === id);
}

// --- the v2 SDK client ------------------------------------------------

async function v2(name, mode, elicit) {
	const transport = new StdioClientTransport({
		command: JANEE,
		args: ['serve'],
		env: janeeEnv(),
		stderr: 'pipe',
	});
	const s = { stderr: '', elicits: [] };
	transport.stderr.on('data', (d) => (s.stderr += d));
	s.client = new Client(
		{ name, version: '2.0.0' },
		{
			capabilities: elicit ? { elicitation: {} } : {},
			...(mode ? { versionNegotiation: { mode } } : {}),
		},
	);
	if (elicit)
		s.client.setRequestHandler('elicitation/create', async (req) => {
			s.elicits.push(req.params);
			return elicit(req.params);
		});
	await s.client.connect(transport);
	return s;
}

{
	let answer = () => ({ action: 'accept', content: { approve: true } });
	const s = await v2('v2-pinned', { pin: STATELESS }, (p) => answer(p));
	check('v2 client pinned to 2026-07-28 connects (server/discover)', s.client.getNegotiatedProtocolVersion?.() === STATELESS, s.client.getNegotiatedProtocolVersion?.());
	check('v2 client: the server identifies itself in the discover _meta', s.client.getServerVersion()?.name === 'janee', show(s.client.getServerVersion()));
	const { tools } = await s.client.listTools();
	check('v2 client: tools/list (with its cache hints) is accepted', tools.length === 5, show(tools.map((t) => t.name)));
	const a = keep(await s.client.callTool({ name: 'request_token', arguments: { provider: 'auto', scopes: ['read'], ttl_seconds: 300, reason: 'v2 auto' } }));
	check('v2 client: request_token with auto approval', !a.isError && tokenLive(PROV, a.structuredContent?.token ?? ''), show(a));
	const l = await lease(a.structuredContent?.lease_id);
	check('v2 client: clientInfo from _meta is on the lease', l?.client === 'v2-pinned/2.0.0', show(l));

	const r = keep(await s.client.callTool({ name: 'request_token', arguments: { provider: 'ask', scopes: ['read', 'write'], ttl_seconds: 600, reason: 'v2 ask' } }));
	check('v2 client: ask goes through input_required, answered by its elicitation handler', s.elicits.length === 1 && s.elicits[0]?.mode === 'form' && /v2 ask/.test(s.elicits[0]?.message ?? ''), show(s.elicits));
	check('v2 client: and the retried call returns the token', !r.isError && tokenLive(PROV, r.structuredContent?.token ?? ''), show(r));
	answer = () => ({ action: 'decline' });
	const d = await s.client.callTool({ name: 'request_token', arguments: { provider: 'ask', scopes: ['read'], ttl_seconds: 60, reason: 'v2 decline' } });
	check('v2 client: a declined input_required is a denial (isError)', d.isError === true && /decline/.test(text(d)), show(d));
	check('v2 client: the declined lease is denied', (await leaseBy('v2 decline'))?.state === 'denied');
	const ls = await s.client.callTool({ name: 'list_leases', arguments: {} });
	check('v2 client: list_leases shows its two leases', (ls.structuredContent?.leases ?? []).length === 2, show(ls));
	const rv = await s.client.callTool({ name: 'revoke_token', arguments: { lease_id: a.structuredContent?.lease_id } });
	check('v2 client: revoke_token', !rv.isError && !tokenLive(PROV, a.structuredContent?.token ?? ''), show(rv));
	await s.client.close();
	check('v2 client: no token in janee serve\'s stderr', !tokens.some((t) => s.stderr.includes(t)), s.stderr);
}
{
	const s = await v2('v2-auto', 'auto', null);
	check('v2 client in auto mode negotiates 2026-07-28 (probing a throwaway server first)', s.client.getNegotiatedProtocolVersion?.() === STATELESS, s.client.getNegotiatedProtocolVersion?.());
	const t = await s.client.callTool({ name: 'list_providers', arguments: {} });
	check('v2 client in auto mode: list_providers', (t.structuredContent?.providers ?? []).length === 3, show(t));
	await s.client.close();
}
{
	const s = await v2('v2-legacy', undefined, null);
	check('v2 client in its default legacy mode: the handshake era', s.client.getNegotiatedProtocolVersion?.() === '2025-11-25', s.client.getNegotiatedProtocolVersion?.());
	await s.client.close();
}

// --- raw lines: discovery and _meta -----------------------------------

const META = (caps = { elicitation: {} }, extra = {}) => ({
	'io.modelcontextprotocol/protocolVersion': STATELESS,
	'io.modelcontextprotocol/clientCapabilities': caps,
	'io.modelcontextprotocol/clientInfo': { name: 'stateless-raw', version: '3' },
	...extra,
});
const tcall = (id, name, args, more = {}, meta = META()) =>
	rpc(id, 'tools/call', { name, arguments: args, _meta: meta, ...more });
const lineOf = (s, id) => s.stdoutLines.find((l) => JSON.parse(l).id === id) ?? '';
const count = (hay, needle) => hay.split(needle).length - 1;

const s = new Raw();
{
	const d = await s.request(rpc('d1', 'server/discover', { _meta: META() }));
	const r = d?.result ?? {};
	check('server/discover: supportedVersions has 2026-07-28 (and the handshake versions)', r.supportedVersions?.[0] === STATELESS && r.supportedVersions?.includes('2025-11-25'), show(r));
	check('server/discover: capabilities, instructions', r.capabilities?.tools && typeof r.instructions === 'string', show(r));
	check('server/discover: ttlMs and cacheScope (public or private)', Number.isInteger(r.ttlMs) && r.ttlMs >= 0 && ['public', 'private'].includes(r.cacheScope), show(r));
	check('server/discover: serverInfo in _meta', r._meta?.['io.modelcontextprotocol/serverInfo']?.name === 'janee', show(r._meta));
	check('server/discover: resultType "complete", once on the wire', r.resultType === 'complete' && count(lineOf(s, 'd1'), '"resultType"') === 1, lineOf(s, 'd1'));
	const d2 = await s.request(rpc('d2', 'server/discover'));
	check('server/discover without _meta (a probe) is answered too', d2?.result?.supportedVersions?.includes(STATELESS) && count(lineOf(s, 'd2'), '"resultType"') === 1, show(d2));
	const p = await s.request(rpc('p', 'ping', { _meta: META() }));
	check('ping with _meta: {} with resultType complete', p?.result?.resultType === 'complete', show(p));
	const t = await s.request(rpc('t', 'tools/list', { _meta: META() }));
	check('tools/list with _meta and no initialize: the tools, resultType, cache hints', t?.result?.tools?.length === 5 && t.result.resultType === 'complete' && Number.isInteger(t.result.ttlMs) && ['public', 'private'].includes(t.result.cacheScope), show({ ...t?.result, tools: t?.result?.tools?.length }));
	const n = await s.request(rpc('n', 'tools/list'));
	check('tools/list with neither initialize nor _meta: -32600', n?.error?.code === -32600, show(n));
	const v = await s.request(rpc('v', 'tools/list', { _meta: { ...META(), 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } }));
	check('an unsupported protocolVersion in _meta: -32022 with supported and requested', v?.error?.code === -32022 && v.error.data?.supported?.includes(STATELESS) && v.error.data?.requested === '2099-01-01', show(v));
	const u = await s.request(rpc('u', 'nosuch/method', { _meta: META() }));
	check('an unknown method with _meta: -32601', u?.error?.code === -32601, show(u));
	const bad = await s.request(tcall('badargs', 'request_token', { provider: 'auto', reason: 'x', ttl_seconds: 'ten' }));
	check('invalid tool arguments: isError, resultType complete', bad?.result?.isError === true && bad.result.resultType === 'complete', show(bad));
	const a = keep(await s.request(tcall('auto', 'request_token', { provider: 'auto', scopes: ['read'], ttl_seconds: 60, reason: 'raw stateless auto' })));
	check('request_token (auto) with _meta: a token, resultType complete', a?.result?.resultType === 'complete' && tokenLive(PROV, a.result.structuredContent?.token ?? ''), show(a));
	check('the lease records clientInfo from _meta', (await leaseBy('raw stateless auto'))?.client === 'stateless-raw/3');
}

// --- raw lines: the input_required round trip --------------------------

// The lease a requestState names (its payload is readable, not secret).
const idOf = (st) => Buffer.from(String(st).split('.')[0], 'base64url').toString().split('.')[0];

const argsX = { provider: 'ask', scopes: ['read'], ttl_seconds: 300, reason: 'round trip X' };
const argsY = { provider: 'ask', scopes: ['write'], ttl_seconds: 120, reason: 'round trip Y' };
const accept = { approval: { action: 'accept', content: { approve: true } } };
let stateX, stateY;
{
	const x = await s.request(tcall('x1', 'request_token', argsX));
	const r = x?.result ?? {};
	stateX = r.requestState;
	const ir = r.inputRequests?.approval;
	check('ask with the elicitation capability: resultType input_required', r.resultType === 'input_required', show(r));
	check('inputRequests: one elicitation/create form', ir?.method === 'elicitation/create' && ir.params?.mode === 'form' && ir.params?.requestedSchema?.properties?.approve?.type === 'boolean' && /round trip X/.test(ir.params?.message ?? ''), show(ir));
	check('a requestState, and no token, no content', typeof stateX === 'string' && stateX.length > 20 && !('content' in r) && !('structuredContent' in r), show(r));
	const l = await lease(idOf(stateX));
	check('the lease waits (requested)', l?.state === 'requested' && l?.reason === 'round trip X', show(l));
	const y = await s.request(tcall('y1', 'request_token', argsY));
	stateY = y?.result?.requestState;
	check('a second call gets its own requestState', typeof stateY === 'string' && stateY !== stateX, show(y));
}

// Each of these must be refused, leave the lease waiting, and give no token.
async function refused(name, args, state, pattern, inputs = accept) {
	const r = keep(await s.request(tcall(`bad-${name}`, 'request_token', args, { requestState: state, inputResponses: inputs })));
	check(`${name}: refused (isError), no token`, r?.result?.isError === true && pattern.test(text(r.result)) && !r.result.structuredContent, show(r));
}
{
	const [p64, m64] = stateX.split('.');
	const payload = Buffer.from(p64, 'base64url').toString();
	const longer = payload.replace(/\.(\d+)$/, (_, e) => `.${Number(e) + 3600000}`);
	const forged = `${Buffer.from(longer).toString('base64url')}.${m64}`;
	// The MAC's first character is six bits of the MAC: flipping it
	// always changes the MAC.  Its last carries four bits and two unused
	// ones: setting an unused bit spells the same MAC another way.
	const firstMac = m64[0] === 'A' ? 'B' : 'A';
	const b64u = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
	const sloppyLast = b64u[b64u.indexOf(m64.slice(-1)) | 1];
	const lY = idOf(stateY);
	const otherLease = payload.replace(/^lse_[a-z2-7]{26}/, lY);
	const notIssued = /not one this server issued/;
	check('(the requestState payload names the lease, the digest and the expiry)', /^lse_[a-z2-7]{26}\.[0-9a-f]{64}\.\d+$/.test(payload), payload);
	await refused('a requestState with its expiry pushed back', argsX, forged, notIssued);
	await refused('a requestState with a flipped MAC', argsX, `${p64}.${firstMac}${m64.slice(1)}`, notIssued);
	await refused('a requestState whose MAC is spelled with its unused bits set', argsX, `${p64}.${m64.slice(0, -1)}${sloppyLast}`, notIssued);
	await refused("a requestState naming another lease (Y's)", argsY, `${Buffer.from(otherLease).toString('base64url')}.${m64}`, notIssued);
	await refused('a requestState with no MAC', argsX, p64, notIssued);
	// The MAC's length and every one of its bits: an empty MAC, one cut
	// to 3 bytes (4 characters, a canonical spelling of its own), and
	// one bit off in its last whole byte (the second half of the MAC).
	await refused('a requestState with an empty MAC ("<payload>.")', argsX, `${p64}.`, notIssued);
	await refused('a requestState with its MAC cut to 3 bytes', argsX, `${p64}.${m64.slice(0, 4)}`, notIssued);
	const macBytes = Buffer.from(m64, 'base64url');
	macBytes[30] ^= 0x01;
	await refused('a requestState with one bit off in the last half of its MAC', argsX, `${p64}.${macBytes.toString('base64url')}`, notIssued);
	await refused('garbage as requestState', argsX, 'not.base64!', notIssued);
	await refused('an empty requestState', argsX, '', notIssued);
	await refused('a requestState of 10 kB', argsX, 'A'.repeat(10000) + '.' + m64, notIssued);
	const other = new Raw();
	const o = await other.request(tcall('o1', 'request_token', { ...argsX, reason: 'in another process' }));
	await other.close();
	await refused("another server process's requestState (another key)", argsX, o?.result?.requestState ?? 'none', notIssued);
	const anotherCall = /belongs to another call/;
	await refused('the requestState with other arguments (ttl changed)', { ...argsX, ttl_seconds: 3600 }, stateX, anotherCall);
	await refused('the requestState with other arguments (a scope added)', { ...argsX, scopes: ['read', 'write'] }, stateX, anotherCall);
	await refused("X's requestState with Y's arguments", argsY, stateX, anotherCall);
	check('after all that, X and Y still wait', (await lease(idOf(stateX)))?.state === 'requested' && (await lease(idOf(stateY)))?.state === 'requested');
}
{
	// The genuine round trip: same arguments (members in another order:
	// the digest is over the canonical form), a new id, the answer.
	const reordered = { reason: argsX.reason, ttl_seconds: argsX.ttl_seconds, scopes: argsX.scopes, provider: argsX.provider };
	const r = keep(await s.request(tcall('x2', 'request_token', reordered, { requestState: stateX, inputResponses: accept })));
	check('round 2 with the requestState and the answer: the token', r?.result?.resultType === 'complete' && !r.result.isError && tokenLive(PROV, r.result.structuredContent?.token ?? ''), show(r));
	check('the token is for what was asked', JSON.stringify(r?.result?.structuredContent?.scopes) === '["read"]' && r?.result?.structuredContent?.provider === 'ask');
	const again = keep(await s.request(tcall('x3', 'request_token', argsX, { requestState: stateX, inputResponses: accept })));
	check('replaying the requestState: refused, no second token', again?.result?.isError === true && !again.result.structuredContent, show(again));
	const audit = await janeeJson(['audit', 'list', '--json']);
	const lx = idOf(stateX);
	check('audit: X approved by the user in the client, issued once', audit.filter((a) => a.lease_id === lx && a.event === 'issued').length === 1 && audit.some((a) => a.lease_id === lx && a.event === 'approved' && a.actor === 'user' && /elicitation/.test(a.detail ?? '')), show(audit.filter((a) => a.lease_id === lx)));

	const d = await s.request(tcall('y2', 'request_token', argsY, { requestState: stateY, inputResponses: { approval: { action: 'cancel' } } }));
	check('round 2 with cancel: denied', d?.result?.isError === true && /cancel/.test(text(d.result)) && d.result.resultType === 'complete', show(d));
	check('and Y is denied in the ledger', (await lease(idOf(stateY)))?.state === 'denied');
	const z = await s.request(tcall('z1', 'request_token', { ...argsX, reason: 'no answer given' }));
	const nz = await s.request(tcall('z2', 'request_token', { ...argsX, reason: 'no answer given' }, { requestState: z?.result?.requestState }));
	check('round 2 without inputResponses: denied, never approved', nz?.result?.isError === true && (await leaseBy('no answer given'))?.state === 'denied', show(nz));
}

// --- raw lines: out-of-band in the stateless era ------------------------

{
	// No elicitation capability: ask falls back to a person at a terminal.
	const noCaps = META({});
	s.send(tcall('oob1', 'request_token', { provider: 'ask', scopes: ['read'], ttl_seconds: 60, reason: 'stateless no forms' }, {}, { ...noCaps, progressToken: 'pt-1' }));
	const w = await waitFor(async () => (await janeeJson(['approvals', '--json'])).find((l) => l.reason === 'stateless no forms'), 5000, 50);
	check('ask without the elicitation capability in _meta: waits for a person, no input_required', w?.state === 'requested', show(w));
	await sleep(1100);
	await janee(['approve', w?.id ?? 'none']);
	const r = keep(await s.next((m) => m.id === 'oob1', 5000));
	check('approved at the terminal: the token, with resultType complete', r?.result?.resultType === 'complete' && tokenLive(PROV, r.result.structuredContent?.token ?? ''), show(r));
	const prog = s.pending().filter((m) => m.method === 'notifications/progress');
	check(`progress notifications with the progressToken from _meta (${prog.length})`, prog.length >= 1 && prog.every((m) => m.params?.progressToken === 'pt-1'), show(prog));
	s.send(tcall('oob2', 'request_token', { provider: 'oob', scopes: ['read'], ttl_seconds: 60, reason: 'stateless oob deny' }));
	const w2 = await waitFor(async () => (await janeeJson(['approvals', '--json'])).find((l) => l.reason === 'stateless oob deny'), 5000, 50);
	await janee(['deny', w2?.id ?? 'none']);
	const r2 = await s.next((m) => m.id === 'oob2', 5000);
	check('denied at the terminal: isError with resultType complete', r2?.result?.isError === true && r2.result.resultType === 'complete', show(r2));
}

// --- the end of the session with an input_required outstanding ---------

{
	const r = await s.request(tcall('left', 'request_token', { ...argsX, reason: 'left waiting' }));
	check('one more input_required, never answered', r?.result?.resultType === 'input_required', show(r));
	await s.close();
	check('EOF: exit 0', s.exit?.code === 0, show(s.exit));
	const l = await leaseBy('left waiting');
	check('EOF: the lease waiting on its requestState is cancelled and audited', l?.state === 'denied' && /closed the session/.test(l?.detail ?? ''), show(l));
	check('stdout held only JSON-RPC messages', s.notJson.length === 0, show(s.notJson));
	check('stdout was valid UTF-8 throughout', s.stdoutIsUtf8());
	check("no token in janee serve's stderr", !tokens.some((t) => s.stderr.includes(t)), s.stderr);
}

// --- an expired requestState --------------------------------------------
// The state's key lives in the server process and its expiry is checked
// on the server's own clock, so the honest test moves that clock: this
// server runs under libfaketime, whose offset (read from a file on every
// call) we push past the 10 minutes a requestState lives, between the
// two rounds of one call.

if (!process.env.FAKETIME_LIB) {
	ok('an expired requestState is refused # SKIP libfaketime not found');
} else {
	const clock = join(TMP, 'faketime');
	writeFileSync(clock, '+0\n');
	const f = new Raw({
		env: {
			LD_PRELOAD: process.env.FAKETIME_LIB,
			FAKETIME_TIMESTAMP_FILE: clock,
			FAKETIME_NO_CACHE: '1',
			ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ? process.env.ASAN_OPTIONS + ':' : ''}verify_asan_link_order=0`,
		},
	});
	const args = { ...argsX, reason: 'expires' };
	const r1 = await f.request(tcall('e1', 'request_token', args));
	const st = r1?.result?.requestState;
	const exp = Number(Buffer.from((st ?? '').split('.')[0], 'base64url').toString().split('.')[2]);
	const left = exp - Date.now();
	check(`(the requestState says it expires in ${Math.round(left / 1000)} s)`, left > 590000 && left <= 600000, left);
	// 9 minutes on: still valid (a control: same server, same state).
	writeFileSync(clock, '+540\n');
	const mid = await f.request(tcall('e2', 'request_token', { ...args, ttl_seconds: 1 }, { requestState: st, inputResponses: accept }));
	check('9 minutes later the state is still good (wrong arguments are the only fault)', /belongs to another call/.test(text(mid?.result)), show(mid));
	writeFileSync(clock, '+660\n');
	const r2 = keep(await f.request(tcall('e3', 'request_token', args, { requestState: st, inputResponses: accept })));
	check('11 minutes later: refused as expired, no token', r2?.result?.isError === true && /expired/.test(text(r2.result)) && !r2.result.structuredContent, show(r2));
	const l = await waitFor(async () => {
		const x = await leaseBy('expires');
		return x?.state === 'denied' ? x : undefined;
	}, 5000, 50);
	check('and its lease is denied (no answer in time), on the record', /no answer/.test(l?.detail ?? ''), show(l));
	await f.close();
	check('the faketime server exits 0', f.exit?.code === 0, show(f.exit));
}

writeFileSync(join(TMP, 'tokens'), tokens.join('\n') + '\n', { mode: 0o600 });
process.exit(failed() ? 1 : 0);
