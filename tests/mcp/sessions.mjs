// Session ownership and approval routing at their boundaries, through
// raw JSON-RPC lines to two `janee serve` processes (sessions A and B):
// every tool that takes a lease id refuses a lease of the other session
// (request_token's lease_id collect, revoke_token; list_leases shows only
// the session's own), and a request goes to a person at a terminal when
// any one of its scopes is in require_out_of_band, or when the client
// cannot show a form, never to auto.  Started by tests/t0910-sessions.sh
// (providers oob, ask, sens).
import {
	TMP,
	check,
	failed,
	janee,
	janeeJson,
	notOk,
	text,
	tokenLive,
	waitFor,
} from './common.mjs';
import { Raw, rpc } from './raw.mjs';
import { join } from 'node:path';

process.on('uncaughtException', (e) => {
	notOk('the session scenarios ran to the end', e?.stack ?? e);
	process.exit(1);
});

const PROV = join(TMP, 'prov');
const show = (m) => JSON.stringify(m)?.slice(0, 600);
const call = (s, id, name, args) => s.request(rpc(id, 'tools/call', { name, arguments: args }), 15000);
const leases = () => janeeJson(['lease', 'list', '--all', '--json']);
const mints = async () => (await janee(['audit', 'list', '--event', 'issued', '--json'])).stdout;

const A = new Raw();
const B = new Raw();
await A.initialize({}, '2025-11-25', 'a-init');
await B.initialize({}, '2025-11-25', 'b-init');

// --- A's lease, approved by a person; B may not collect it ---------------

const pend = await call(A, 'a1', 'request_token', { provider: 'oob', scopes: ['read'], ttl_seconds: 300, reason: 'session A asks' });
const id = /pending: lease (lse_[a-z2-7]{26})/.exec(text(pend?.result))?.[1];
check('A: an out-of-band request answers pending with its lease id', id !== undefined, show(pend));
const ap = await janee(['approve', id ?? 'none']);
check('a person approves it at the terminal', ap.code === 0, ap.stderr);
const issuedBefore = await mints();

const steal = await call(B, 'b1', 'request_token', { provider: 'oob', reason: 'session B collects', lease_id: id });
check("B: request_token with A's approved lease_id is refused", steal?.result?.isError === true && /not requested in this session/.test(text(steal.result)) && !steal.result.structuredContent, show(steal));
const l1 = (await leases()).find((l) => l.id === id);
check('and the lease is still approved, minted for nobody', l1?.state === 'approved' && (await mints()) === issuedBefore, show(l1));

const got = await call(A, 'a2', 'request_token', { provider: 'oob', reason: 'session A collects', lease_id: id });
const tok = got?.result?.structuredContent?.token ?? '';
check('A: collects its own approved lease (the control)', !got?.result?.isError && got?.result?.structuredContent?.lease_id === id && tokenLive(PROV, tok), show(got));

const rv = await call(B, 'b2', 'revoke_token', { lease_id: id });
check("B: revoke_token of A's lease is refused", rv?.result?.isError === true && /not one of this session's/.test(text(rv.result)), show(rv));
check("and A's token still lives, its lease active", tokenLive(PROV, tok) && (await leases()).find((l) => l.id === id)?.state === 'active');

const lb = await call(B, 'b3', 'list_leases', {});
check("B: list_leases does not show A's lease", Array.isArray(lb?.result?.structuredContent?.leases) && !lb.result.structuredContent.leases.some((l) => l.lease_id === id), show(lb));
const la = await call(A, 'a3', 'list_leases', {});
check('A: list_leases shows it (the control)', (la?.result?.structuredContent?.leases ?? []).some((l) => l.lease_id === id), show(la));

const own = await call(A, 'a4', 'revoke_token', { lease_id: id });
check('A: revoke_token of its own lease (the control)', !own?.result?.isError && !tokenLive(PROV, tok), show(own));

// --- approval routing: never auto for what needs a person ----------------

// B cannot show a form: "ask" waits for a person at a terminal.
const noForm = await call(B, 'b4', 'request_token', { provider: 'ask', scopes: ['read'], ttl_seconds: 60, reason: 'no form to show' });
check('ask from a client without elicitation: pending for a person, no token', /pending: lease lse_/.test(text(noForm?.result)) && !noForm?.result?.structuredContent, show(noForm));

// C can show a form; require_out_of_band names "write" only.
const C = new Raw();
await C.initialize({ elicitation: {} }, '2025-11-25', 'c-init');
C.send(rpc('c1', 'tools/call', { name: 'request_token', arguments: { provider: 'sens', scopes: ['read'], ttl_seconds: 60, reason: 'read only' } }));
const form = await C.next((m) => m.method === 'elicitation/create', 10000);
check('sens [read] (no scope needing a person): a form is shown (the control)', form !== undefined, show(C.pending()));
if (form) C.send({ jsonrpc: '2.0', id: form.id, result: { action: 'decline' } });
const declined = await C.next((m) => m.id === 'c1', 10000);
check('declined: denied', declined?.result?.isError === true, show(declined));

C.send(rpc('c2', 'tools/call', { name: 'request_token', arguments: { provider: 'sens', scopes: ['read', 'write'], ttl_seconds: 60, reason: 'read and write' } }));
const w = await waitFor(async () => (await janeeJson(['approvals', '--json'])).find((l) => l.reason === 'read and write'), 10000, 50);
check('sens [read, write]: waits for a person at a terminal (write is listed)', w?.state === 'requested', show(w));
const noForm2 = C.pending().filter((m) => m.method === 'elicitation/create');
check('and no form is shown for it (an accept may come from a program)', noForm2.length === 0, show(noForm2));
const r2 = await C.next((m) => m.id === 'c2', 10000);
check('the call answers pending, with no token', /pending: lease lse_/.test(text(r2?.result)) && !r2?.result?.structuredContent, show(r2));

C.send(rpc('c3', 'tools/call', { name: 'request_token', arguments: { provider: 'sens', scopes: ['write', 'zzz:read'], ttl_seconds: 60, reason: 'write first' } }));
const w3 = await waitFor(async () => (await janeeJson(['approvals', '--json'])).find((l) => l.reason === 'write first'), 10000, 50);
check('sens [write, zzz:read]: waits for a person too (write anywhere in the list)', w3?.state === 'requested', show(w3));
await C.next((m) => m.id === 'c3', 10000);

await A.close();
await B.close();
await C.close();
check('the three servers exit 0', A.exit?.code === 0 && B.exit?.code === 0 && C.exit?.code === 0, show([A.exit, B.exit, C.exit]));
process.exit(failed() ? 1 : 0);
