// Raw JSON lines against `janee serve` (handshake era): every protocol
// error of issue 6, each answered per JSON-RPC 2.0 / MCP with the server
// still answering afterwards; then the end of a session (EOF, SIGTERM)
// with approvals waiting, which must be cancelled and audited.
// Started by tests/t0410-mcp-protocol.sh (providers auto, oob, ask).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { TMP, check, failed, janee, janeeJson, notOk, sleep, tokenLive, waitFor } from './common.mjs';
import { Raw, rpc } from './raw.mjs';

process.on('uncaughtException', (e) => {
	notOk('the protocol scenarios ran to the end', e?.stack ?? e);
	process.exit(1);
});
process.on('unhandledRejection', (e) => {
	notOk('the protocol scenarios ran to the end', e?.stack ?? e);
	process.exit(1);
});

const show = (m) => JSON.stringify(m)?.slice(0, 400);
const tokens = []; // for the leak checks of the shell script
const stderrs = [];

// An error answer with this code and id (null for "no id").
function isError(m, code, id) {
	return (
		m !== undefined &&
		m.jsonrpc === '2.0' &&
		m.error?.code === code &&
		typeof m.error?.message === 'string' &&
		m.error.message.length > 0 &&
		'id' in m &&
		m.id === id &&
		!('result' in m)
	);
}

// Send a line and expect exactly one error answer (code, id) before the
// answer to a ping sent right after it: the server is still answering.
let pings = 0;
async function expectError(s, name, line, code, id) {
	s.send(line);
	const pid = `ping-${++pings}`;
	s.send(rpc(pid, 'ping'));
	const first = await s.next(undefined, 5000);
	const second = first?.id === pid ? undefined : await s.next(undefined, 5000);
	check(`${name}: ${code} with id ${JSON.stringify(id)}`, isError(first, code, id), show(first));
	check(`${name}: and the server still answers`, second?.id === pid && second?.result && Object.keys(second.result).length === 0, show(second));
}

// Send a line and expect no answer at all: the ping after it is next.
async function expectSilence(s, name, line) {
	s.send(line);
	const pid = `ping-${++pings}`;
	s.send(rpc(pid, 'ping'));
	const first = await s.next(undefined, 5000);
	check(`${name}: no answer, and the server still answers`, first?.id === pid && 'result' in first, show(first));
}

const s = new Raw();

// --- before initialize ----------------------------------------------

{
	const p = await s.request(rpc(0, 'ping'));
	check('ping before initialize is answered {}', p?.result && Object.keys(p.result).length === 0, show(p));
	await expectError(s, 'tools/list before initialize', rpc(1, 'tools/list'), -32600, 1);
	await expectError(s, 'tools/call before initialize', rpc(2, 'tools/call', { name: 'list_leases', arguments: {} }), -32600, 2);
	await expectSilence(s, 'a notification before initialize', { jsonrpc: '2.0', method: 'notifications/roots/list_changed' });
}

// --- initialize -------------------------------------------------------

{
	const r = await s.request(rpc('init', 'initialize', { protocolVersion: '2099-01-01', capabilities: {}, clientInfo: { name: 'raw', version: '1' } }));
	check('initialize with an unknown version: the server offers its latest (2025-11-25)', r?.result?.protocolVersion === '2025-11-25', show(r));
	check('initialize: capabilities tools and logging, serverInfo', r?.result?.capabilities?.tools && r?.result?.capabilities?.logging && r?.result?.serverInfo?.name === 'janee', show(r));
	s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
	const t = await s.request(rpc(3, 'tools/list'));
	check('tools/list after initialize', t?.result?.tools?.length === 5, show(t));
	check('tools/list: no cache hints in the handshake era', t?.result && !('ttlMs' in t.result) && !('resultType' in t.result), show(t?.result && { ...t.result, tools: '...' }));
}
for (const v of ['2025-06-18', '2025-03-26', '2024-11-05']) {
	const o = new Raw();
	const r = await o.initialize({}, v);
	check(`initialize ${v}: echoed`, r?.result?.protocolVersion === v, show(r));
	await o.close();
}

// --- parse errors -----------------------------------------------------

await expectError(s, 'invalid JSON (a truncated object)', '{"jsonrpc": "2.0", "id": 4, "method": "ping"', -32700, null);
await expectError(s, 'invalid JSON (not JSON at all)', 'hello, server', -32700, null);
await expectError(s, 'invalid JSON (trailing garbage)', '{"jsonrpc": "2.0", "id": 5, "method": "ping"} x', -32700, null);
await expectError(s, 'invalid JSON (a second value on the line)', '{"jsonrpc": "2.0", "id": 5, "method": "ping"} {}', -32700, null);
await expectError(s, 'invalid JSON (a NUL byte after the value)', Buffer.from('{"jsonrpc": "2.0", "id": 5, "method": "ping"}\0\n'), -32700, null);
for (const [what, bytes] of [
	['a stray continuation byte', [0x80]],
	['0xff', [0xff]],
	['an overlong encoding of "/"', [0xc0, 0xaf]],
	['a UTF-16 surrogate', [0xed, 0xa0, 0x80]],
	['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
	['a truncated sequence', [0xe2, 0x82]],
]) {
	const line = Buffer.concat([
		Buffer.from('{"jsonrpc":"2.0","id":6,"method":"ping","params":{"x":"'),
		Buffer.from(bytes),
		Buffer.from('"}}\n'),
	]);
	await expectError(s, `invalid UTF-8 (${what})`, line, -32700, null);
}
{
	const r = await s.request(rpc('utf8', 'ping', { x: 'é — ключ 🔑' }));
	check('valid multi-byte UTF-8 is accepted', r?.result !== undefined, show(r));
}

// --- invalid requests -------------------------------------------------

await expectError(s, 'a number, not a request', '42', -32600, null);
await expectError(s, 'a string, not a request', '"ping"', -32600, null);
await expectError(s, 'null, not a request', 'null', -32600, null);
await expectError(s, 'an empty object', '{}', -32600, null);
await expectError(s, 'jsonrpc "1.0"', { jsonrpc: '1.0', id: 7, method: 'ping' }, -32600, 7);
await expectError(s, 'no jsonrpc member', { id: 8, method: 'ping' }, -32600, 8);
await expectError(s, 'a method that is not a string', { jsonrpc: '2.0', id: 9, method: 7 }, -32600, 9);
await expectError(s, 'no method', { jsonrpc: '2.0', id: 10 }, -32600, 10);
await expectError(s, 'an id that is an object', { jsonrpc: '2.0', id: { a: 1 }, method: 'ping' }, -32600, null);
await expectError(s, 'an id that is a fraction', { jsonrpc: '2.0', id: 1.5, method: 'ping' }, -32600, null);
await expectError(s, 'an id that is null', { jsonrpc: '2.0', id: null, method: 'ping' }, -32600, null);
await expectError(s, 'an id that is a boolean', { jsonrpc: '2.0', id: true, method: 'ping' }, -32600, null);
{
	const r = await s.request(rpc('a string id', 'ping'));
	const q = await s.request(rpc(-12, 'ping'));
	check('string and negative integer ids are echoed as they came', r?.id === 'a string id' && q?.id === -12, show([r, q]));
}

// --- unknown methods, notifications -----------------------------------

await expectError(s, 'an unknown method', rpc(11, 'resources/list'), -32601, 11);
await expectError(s, 'another unknown method', rpc(12, 'tools/frobnicate', {}), -32601, 12);
await expectError(s, 'a notification with an id (initialized)', { jsonrpc: '2.0', id: 13, method: 'notifications/initialized' }, -32600, 13);
await expectError(s, 'a notification with an id (cancelled)', { jsonrpc: '2.0', id: 14, method: 'notifications/cancelled', params: { requestId: 1 } }, -32600, 14);
await expectSilence(s, 'an unknown notification', { jsonrpc: '2.0', method: 'notifications/nosuch' });
await expectSilence(s, 'a request without an id (so a notification)', { jsonrpc: '2.0', method: 'tools/list' });
await expectSilence(s, 'a response to nothing we asked', { jsonrpc: '2.0', id: 'janee-elicit-999', result: { action: 'accept' } });
await expectSilence(s, 'notifications/cancelled for an unknown request', { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'nope' } });
await expectSilence(s, 'an empty line', '');
await expectSilence(s, 'a line of spaces', '   \t ');
{
	s.send(Buffer.from('{"jsonrpc":"2.0","id":"crlf","method":"ping"}\r\n'));
	const r = await s.next((m) => m.id === 'crlf');
	check('a CRLF line ending is accepted', r?.result !== undefined, show(r));
}

// --- bad params, unknown tools ----------------------------------------

await expectError(s, 'params that are an array', rpc(15, 'tools/list', [1, 2]), -32602, 15);
await expectError(s, 'params that are a string', rpc(16, 'ping', 'x'), -32602, 16);
await expectError(s, 'tools/call of an unknown tool', rpc(17, 'tools/call', { name: 'exec_shell', arguments: {} }), -32602, 17);
await expectError(s, 'tools/call without a name', rpc(18, 'tools/call', { arguments: {} }), -32602, 18);
await expectError(s, 'tools/call with a name that is not a string', rpc(19, 'tools/call', { name: 3 }), -32602, 19);
await expectError(s, 'tools/call with arguments that are not an object', rpc(20, 'tools/call', { name: 'list_leases', arguments: [1] }), -32602, 20);
await expectError(s, 'logging/setLevel with an unknown level', rpc(21, 'logging/setLevel', { level: 'loud' }), -32602, 21);
await expectError(s, 'logging/setLevel without a level', rpc(22, 'logging/setLevel', {}), -32602, 22);
{
	const r = await s.request(rpc(23, 'logging/setLevel', { level: 'warning' }));
	check('logging/setLevel warning is accepted', r?.result !== undefined, show(r));
	await s.request(rpc(24, 'logging/setLevel', { level: 'info' }));
}
// Arguments that fail the tool's inputSchema: since 2025-11-25 (SEP-1303)
// a tool error the model can correct, not a protocol error.
for (const [what, args] of [
	['an unknown argument', { provider: 'auto', reason: 'r', shell: 'rm -rf /' }],
	['ttl_seconds that is a string', { provider: 'auto', reason: 'r', ttl_seconds: 'ten' }],
	['ttl_seconds that is a fraction', { provider: 'auto', reason: 'r', ttl_seconds: 1.5 }],
	['scopes that are not strings', { provider: 'auto', reason: 'r', scopes: [1] }],
	['scopes that are a string', { provider: 'auto', reason: 'r', scopes: 'read' }],
	['no reason', { provider: 'auto', scopes: ['read'] }],
	['no provider', { reason: 'r' }],
]) {
	const r = await s.request(rpc(`args-${what}`, 'tools/call', { name: 'request_token', arguments: args }));
	check(`request_token with ${what}: isError naming the problem (2025-11-25)`, r?.result?.isError === true && /invalid arguments for request_token/.test(r.result.content?.[0]?.text ?? ''), show(r));
}
{
	const r = await s.request(rpc('noargs', 'tools/call', { name: 'request_token' }));
	check('request_token without arguments: isError (2025-11-25)', r?.result?.isError === true && /missing argument/.test(r.result.content?.[0]?.text ?? ''), show(r));
	const z = await s.request(rpc('ttl0', 'tools/call', { name: 'request_token', arguments: { provider: 'auto', reason: 'r', ttl_seconds: 0 } }));
	check('request_token with ttl_seconds 0: isError', z?.result?.isError === true, show(z));
}
{
	// In 2025-06-18 invalid arguments were still a protocol error.
	const o = new Raw();
	await o.initialize({}, '2025-06-18');
	const r = await o.request(rpc(1, 'tools/call', { name: 'request_token', arguments: { provider: 'auto', reason: 'r', ttl_seconds: 'ten' } }));
	check('2025-06-18: invalid arguments are -32602', isError(r, -32602, 1), show(r));
	await o.close();
}

// --- read as a gateway reads (issue 12, finding 9) -----------------------
// cJSON ends a string at \u0000 and keeps both members of a duplicate key
// (look-ups get the first); a gateway or filter in front of janee reads
// the whole string, or the last member.  janee refuses such a message,
// naming the place, so that nobody acts on a reading the others do not
// share.  The lines are written by hand: JSON.stringify cannot repeat a
// key.

await expectError(s, 'invariant (finding 9): a tool name with a NUL (request_token\\u0000zzz)',
	'{"jsonrpc":"2.0","id":"nul-name","method":"tools/call","params":{"name":"request_token\\u0000zzz","arguments":{"provider":"auto","scopes":["read"],"ttl_seconds":60,"reason":"nul-name"}}}',
	-32602, 'nul-name');
await expectError(s, 'a method with a NUL', '{"jsonrpc":"2.0","id":"nul-method","method":"tools/list\\u0000x"}', -32600, 'nul-method');
await expectError(s, 'an id with a NUL (answered with id null)', '{"jsonrpc":"2.0","id":"a\\u0000b","method":"ping"}', -32600, null);
await expectError(s, 'a scope with a NUL', '{"jsonrpc":"2.0","id":"nul-scope","method":"tools/call","params":{"name":"request_token","arguments":{"provider":"auto","scopes":["read\\u0000admin"],"reason":"nul-scope"}}}', -32602, 'nul-scope');
await expectError(s, 'a member name with a NUL', '{"jsonrpc":"2.0","id":"nul-key","method":"tools/call","params":{"name\\u0000x":"list_leases","arguments":{}}}', -32602, 'nul-key');
await expectError(s, 'invariant (finding 9): a duplicate tool name (list_providers, then request_token)',
	'{"jsonrpc":"2.0","id":"dup-name","method":"tools/call","params":{"name":"list_providers","name":"request_token","arguments":{"provider":"auto","scopes":["read"],"ttl_seconds":60,"reason":"dup-name"}}}',
	-32602, 'dup-name');
await expectError(s, 'a duplicate method', '{"jsonrpc":"2.0","id":"dup-method","method":"ping","method":"tools/list"}', -32600, 'dup-method');
await expectError(s, 'a duplicate id (answered with id null)', '{"jsonrpc":"2.0","id":"one","id":"two","method":"ping"}', -32600, null);
await expectError(s, 'a duplicate key deep in the arguments', '{"jsonrpc":"2.0","id":"dup-deep","method":"tools/call","params":{"name":"request_token","arguments":{"provider":"auto","scopes":["read"],"reason":"dup-deep","reason":"other"}}}', -32602, 'dup-deep');
await expectError(s, 'a raw tab inside a string (not JSON)', '{"jsonrpc":"2.0","id":"tab","method":"ping","params":{"x":"a\tb"}}', -32700, null);
{
	const e = await s.request(JSON.parse('{"jsonrpc":"2.0","id":"nul-why","method":"tools/list\\u0000x"}'));
	check('the error names the place and the NUL', /invalid request: method holds a NUL character \(\\u0000\)/.test(e?.error?.message ?? ''), show(e));
	s.send('{"jsonrpc":"2.0","id":"dup-why","method":"ping","params":{"a":[{"k":1,"k":2}]}}');
	const d = await s.next((m) => m.id === 'dup-why');
	check('the error names the duplicate key and where it is', /invalid params: the key params\.a\[0\]\.k appears twice/.test(d?.error?.message ?? ''), show(d));
	// Not fooled: an escaped backslash before "u0000" is no NUL, and the
	// same key in two objects is no duplicate.
	const r = await s.request(JSON.parse('{"jsonrpc":"2.0","id":"not-nul","method":"ping","params":{"x":"\\\\u0000","y":{"k":1},"z":{"k":2}}}'));
	check('"\\\\u0000" (a backslash, then u0000) and one key in two objects are accepted', r?.result !== undefined && !r.error, show(r));
}
{
	const leases = await janeeJson(['lease', 'list', '--all', '--json']);
	const hit = leases.filter((l) => ['nul-name', 'nul-scope', 'dup-name', 'dup-deep', 'other'].includes(l.reason));
	check('none of the refused requests made a lease', hit.length === 0, show(hit));
}
// An answer to an elicitation that reads "accept" to cJSON and "decline"
// (or "accept\0...") to any other reader is refused: the request waits
// until a plain answer comes.
for (const [what, body] of [
	['a duplicate action', (id) => `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"action":"accept","content":{"approve":true},"action":"decline"}}`],
	['an action with a NUL', (id) => `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"action":"accept\\u0000decline","content":{"approve":true}}}`],
]) {
	const o = new Raw();
	await o.initialize({ elicitation: {} });
	const reason = `elicit ${what}`;
	o.send(rpc('el', 'tools/call', { name: 'request_token', arguments: { provider: 'ask', scopes: ['read'], ttl_seconds: 60, reason } }));
	const el = await o.next((m) => m.method === 'elicitation/create', 5000);
	o.send(body(el?.id));
	const e = await o.next((m) => m.error !== undefined, 5000);
	check(`invariant (finding 9): an elicitation answer with ${what} is refused (-32600, id null)`, isError(e, -32600, null), show(e));
	const l = await leaseOf(reason);
	check(`an elicitation answer with ${what}: the lease still waits, nothing issued`, l?.state === 'requested' && o.pending().every((m) => m.id !== 'el'), show(l));
	o.send({ jsonrpc: '2.0', id: el?.id, result: { action: 'decline' } });
	const r = await o.next((m) => m.id === 'el', 5000);
	check(`an elicitation answer with ${what}: a plain decline then denies it`, r?.result?.isError === true && !('token' in (r.result.structuredContent ?? {})), show(r));
	await o.close();
}

// --- oversize lines -----------------------------------------------------

{
	const MiB = 1024 * 1024;
	// A valid request whose line is 1 MiB + 1 KiB long, written in pieces.
	const pad = 'x'.repeat(MiB + 1024);
	const big = JSON.stringify(rpc('big', 'ping', { pad }));
	for (let i = 0; i < big.length; i += 65536) s.send(Buffer.from(big.slice(i, i + 65536)));
	s.send(Buffer.from('\n'));
	s.send(rpc('after-big', 'ping'));
	const a = await s.next(undefined, 10000);
	const b = await s.next(undefined, 10000);
	check('a line over 1 MiB: -32600 with id null', isError(a, -32600, null) && /1 MiB/.test(a.error.message), show(a));
	check('a line over 1 MiB: not processed, and the server still answers', b?.id === 'after-big', show(b));
	// Just under the limit: answered normally.
	const fit = JSON.stringify(rpc('fits', 'ping', { pad: '' }));
	const line = JSON.stringify(rpc('fits', 'ping', { pad: 'y'.repeat(MiB - fit.length) }));
	check('(the test line is exactly 1 MiB)', line.length === MiB, line.length);
	const r = await s.request(JSON.parse(line), 10000);
	check('a line of exactly 1 MiB is served', r?.result !== undefined, show(r));
	// Two oversize lines in one write, then a request in the same write.
	s.send(Buffer.from(`${'z'.repeat(MiB + 5)}\n${'w'.repeat(2 * MiB)}\n${JSON.stringify(rpc('same-write', 'ping'))}\n`));
	const e1 = await s.next(undefined, 10000);
	const e2 = await s.next(undefined, 10000);
	const e3 = await s.next(undefined, 10000);
	check('two oversize lines in one write: two -32600 errors', isError(e1, -32600, null) && isError(e2, -32600, null), show([e1, e2]));
	check('and the request after them is answered', e3?.id === 'same-write', show(e3));
}

// --- batches ------------------------------------------------------------

await expectError(s, 'a batch of requests', JSON.stringify([rpc(30, 'ping'), rpc(31, 'ping')]), -32600, null);
await expectError(s, 'an empty batch', '[]', -32600, null);
await expectError(s, 'a batch of one notification', JSON.stringify([{ jsonrpc: '2.0', method: 'notifications/initialized' }]), -32600, null);
{
	const pending = s.pending();
	check('no stray answers were left over (one answer per request)', pending.length === 0, show(pending));
}

// --- batches in protocol 2025-03-26, which requires accepting them -------

{
	const b = new Raw();
	const r = await b.initialize({}, '2025-03-26', 'b-init');
	check('2025-03-26: initialize echoes the version', r?.result?.protocolVersion === '2025-03-26', show(r));
	const isArr = (m) => Array.isArray(m);
	const byId = (arr, id) => (Array.isArray(arr) ? arr.filter((x) => x?.id === id) : []);

	b.send(JSON.stringify([rpc('b1', 'ping'), { jsonrpc: '2.0', method: 'notifications/roots/list_changed' }, rpc('b2', 'tools/list')]));
	let a = await b.next(isArr);
	check('2025-03-26: a batch is answered with one array, one answer per request', a?.length === 2 && byId(a, 'b1')[0]?.result && byId(a, 'b2')[0]?.result?.tools?.length === 5, show(a));

	await expectSilence(b, '2025-03-26: a batch of notifications only', JSON.stringify([{ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }]));
	await expectError(b, '2025-03-26: an empty batch', '[]', -32600, null);

	b.send(JSON.stringify([1, rpc('b3', 'ping'), rpc('b4', 'no/such'), rpc('b5', 'initialize', { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'x', version: '1' } })]));
	a = await b.next(isArr);
	check('2025-03-26: a bad element gets its error inside the array (id null)', a?.length === 4 && a.some((x) => isError(x, -32600, null)) && byId(a, 'b3')[0]?.result, show(a));
	check('2025-03-26: an unknown method in a batch: -32601 in the array', isError(byId(a, 'b4')[0], -32601, 'b4'), show(a));
	check('2025-03-26: initialize inside a batch is refused', isError(byId(a, 'b5')[0], -32600, 'b5'), show(a));

	// A request that waits for a person holds its batch's answer; what the
	// server sends meanwhile (progress) goes out on its own.
	b.send(JSON.stringify([
		rpc('b6', 'tools/call', { name: 'request_token', arguments: { provider: 'oob', scopes: ['read'], ttl_seconds: 60, reason: 'batched oob' }, _meta: { progressToken: 'pb6' } }),
		rpc('b7', 'ping'),
	]));
	const prog = await b.next((m) => m.method === 'notifications/progress', 10000);
	const lid = /janee approve (lse_[a-z2-7]+)/.exec(prog?.params?.message ?? '')?.[1];
	check('2025-03-26: progress for a batched request comes on its own line', prog?.params?.progressToken === 'pb6' && lid, show(prog));
	const early = await b.next(isArr, 300);
	check('2025-03-26: the batch is not answered while one request waits', early === undefined, show(early));
	const ap = lid ? await janee(['approve', lid]) : { code: -1 };
	check('2025-03-26: a second janee process approves', ap.code === 0, show(ap));
	a = await b.next(isArr, 10000);
	const tok = byId(a, 'b6')[0]?.result?.structuredContent?.token;
	if (tok) tokens.push(tok);
	check('2025-03-26: then one array answers both, with the token', a?.length === 2 && tok && byId(a, 'b7')[0]?.result, show(a));
	b.send(JSON.stringify([rpc('b8', 'tools/call', { name: 'revoke_token', arguments: { lease_id: lid } })]));
	a = await b.next(isArr, 10000);
	check('2025-03-26: revoke_token in a batch', a?.length === 1 && byId(a, 'b8')[0]?.result?.isError === false, show(a));
	check('2025-03-26: and the token is revoked at the provider', tok && !tokenLive(join(TMP, 'prov'), tok));

	const left = b.pending().filter((m) => m.method !== 'notifications/progress');
	check('2025-03-26: no stray answers', left.length === 0, show(left));
	await b.close();
	check('2025-03-26: the batch session exits 0', b.exit?.code === 0, show(b.exit));
}

// --- stdout carries protocol only ---------------------------------------

{
	const r = await s.request(rpc('last', 'tools/call', { name: 'request_token', arguments: { provider: 'auto', scopes: ['read'], ttl_seconds: 60, reason: 'raw' } }));
	check('after all that, request_token still works', r?.result?.structuredContent?.token?.startsWith('tst_'), show(r));
	tokens.push(r?.result?.structuredContent?.token);
	await s.close();
	stderrs.push(s.stderr);
	check('EOF: janee serve exits 0', s.exit?.code === 0, show(s.exit));
	check(`stdout held only JSON-RPC messages (${s.stdoutLines.length} lines)`, s.notJson.length === 0, show(s.notJson));
	check('stdout was valid UTF-8 throughout', s.stdoutIsUtf8());
}

// --- text cut short: stdout stays UTF-8 -----------------------------------
// janee bounds what it echoes (a client's name, a reason, a tool name in
// an error) by bytes; a cut in the middle of a character must not put
// invalid UTF-8 on stdout, nor in the ledger.

{
	const o = new Raw();
	const name = 'a'.repeat(63) + 'é' + 'tail';
	await o.request(rpc('i', 'initialize', { protocolVersion: '2025-11-25', capabilities: { elicitation: {} }, clientInfo: { name, version: 'v'.repeat(31) + 'ü' } }));
	o.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
	const e = await o.request(rpc('u', 'tools/call', { name: 'z'.repeat(63) + '€' }));
	check('an unknown tool named with a cut character: -32602', isError(e, -32602, 'u'), show(e));
	o.send(rpc('ask', 'tools/call', { name: 'request_token', arguments: { provider: 'ask', scopes: ['read'], ttl_seconds: 60, reason: 'r'.repeat(799) + 'ж'.repeat(100) } }));
	const el = await o.next((m) => m.method === 'elicitation/create', 5000);
	check('an elicitation whose reason is cut short is sent', typeof el?.params?.message === 'string', show(el));
	o.send({ jsonrpc: '2.0', id: el?.id, result: { action: 'decline' } });
	await o.next((m) => m.id === 'ask', 5000);
	await o.close();
	check('stdout stayed valid UTF-8 (names, reasons and errors cut short)', o.stdoutIsUtf8());
	const l = (await janeeJson(['lease', 'list', '--all', '--json'])).find((x) => x.reason?.startsWith('rrrr'));
	check("the client's name is cut on a character boundary in the ledger", l?.client === 'a'.repeat(63) + '/' + 'v'.repeat(31), show(l?.client));
}

// --- the end of a session with approvals waiting ------------------------

async function leaseOf(reason) {
	return (await janeeJson(['lease', 'list', '--all', '--json'])).find((l) => l.reason === reason);
}

async function endWithPending(how) {
	const o = new Raw();
	await o.initialize(how.elicit ? { elicitation: {} } : {});
	const reason = `waiting at ${how.name}`;
	o.send(rpc('wait', 'tools/call', { name: 'request_token', arguments: { provider: how.provider, scopes: ['read'], ttl_seconds: 60, reason } }));
	let asked;
	if (how.elicit) asked = await o.next((m) => m.method === 'elicitation/create', 5000);
	const l = await waitFor(async () => {
		const x = await leaseOf(reason);
		return x?.state === 'requested' ? x : undefined;
	}, 5000, 50);
	check(`${how.name}: the request waits (${how.elicit ? 'elicitation sent' : 'out-of-band'})`, l && (!how.elicit || asked?.params?.requestedSchema), show(l));
	const t0 = Date.now();
	if (how.signal) await o.kill(how.signal);
	else await o.close();
	const dt = Date.now() - t0;
	check(`${how.name}: janee serve exits 0 at once (${dt} ms)`, o.exit?.code === 0 && o.exit?.signal === null && dt < 2000, show(o.exit));
	const after = await leaseOf(reason);
	check(`${how.name}: the waiting lease is cancelled (denied)`, after?.state === 'denied' && how.why.test(after?.detail ?? ''), show(after));
	const audit = await janeeJson(['audit', 'list', '--json']);
	const row = audit.find((a) => a.lease_id === l?.id && a.event === 'denied');
	check(`${how.name}: and audited`, row && how.why.test(row.detail ?? '') && row.outcome === 'denied', show(row));
	check(`${how.name}: no answer was sent for the cancelled call`, !o.pending().some((m) => m.id === 'wait'));
}

await endWithPending({ name: 'EOF', provider: 'oob', why: /cancelled: the MCP client closed the session/ });
await endWithPending({ name: 'SIGTERM', provider: 'oob', signal: 'SIGTERM', why: /cancelled: janee serve was stopped/ });
await endWithPending({ name: 'EOF during an elicitation', provider: 'ask', elicit: true, why: /cancelled: the MCP client closed the session/ });
await endWithPending({ name: 'SIGINT during an elicitation', provider: 'ask', elicit: true, signal: 'SIGINT', why: /cancelled: janee serve was stopped/ });

{
	// A partial line at EOF is dropped; the exit is still clean.
	const o = new Raw();
	await o.initialize({});
	o.send(Buffer.from('{"jsonrpc":"2.0","id":"partial","method":"pi'));
	await o.close();
	check('EOF in the middle of a line: exit 0, no answer', o.exit?.code === 0 && !o.pending().some((m) => m.id === 'partial'), show(o.exit));
}

{
	// A client that starts the server only to probe it, then kills it.
	const o = new Raw();
	const d = await o.request(rpc('probe', 'server/discover'));
	await o.kill('SIGTERM');
	check('a probe (server/discover), then SIGTERM at once: exit 0', d?.result && o.exit?.code === 0, show(o.exit));
	check('and nothing on stdout but the answer', o.stdoutLines.length === 1, show(o.stdoutLines));
}

{
	// SIGTERM while the server is busy outside poll(): revoking an expired
	// lease at a provider whose revocation endpoint takes 3 s (the shell
	// script queued a "slow" fault on the fake OAuth server's /revoke).
	// janee must exit once that call is done, not sleep in poll() first.
	if (!process.env.SLOW_REVOKE) {
		check('SIGTERM during a slow revocation # SKIP no fake OAuth server', true);
	} else {
		const o = new Raw();
		await o.initialize({});
		const r = await o.request(rpc('cc', 'tools/call', { name: 'request_token', arguments: { provider: 'cc', scopes: ['a:read'], ttl_seconds: 1, reason: 'slow revoke' } }), 10000);
		const exp = Date.parse(r?.result?.structuredContent?.expires_at ?? '');
		check('a 1-second lease from the OAuth provider', r?.result?.isError === false && exp > 0, show(r));
		tokens.push(r?.result?.structuredContent?.token);
		await sleep(Math.max(0, exp - Date.now()) + 1000); // revocation under way
		const t0 = Date.now();
		o.proc.kill('SIGTERM');
		const e = await Promise.race([o.exited, sleep(10000).then(() => null)]);
		const dt = Date.now() - t0;
		if (e === null) o.proc.kill('SIGKILL');
		stderrs.push(o.stderr);
		check(`SIGTERM during a 3 s revocation: exit 0 once it is done (${dt} ms)`, e?.code === 0 && dt < 4500, show(e));
		const l = (await janeeJson(['lease', 'list', '--all', '--json'])).find((x) => x.reason === 'slow revoke');
		check('and the lease was revoked and closed, not left half-done', l?.state === 'expired', show(l));
	}
}

writeFileSync(join(TMP, 'tokens'), tokens.filter(Boolean).join('\n') + '\n', { mode: 0o600 });
writeFileSync(join(TMP, 'serve.err'), stderrs.join(''), { mode: 0o600 });
process.exit(failed() ? 1 : 0);
