// janee serve against the official MCP TypeScript SDK client
// (@modelcontextprotocol/sdk 1.32, handshake era), started by
// tests/t0400-mcp-sdk.sh, which writes the config (providers auto, ask,
// oob, sens, never, dev: see there) and checks the ledger afterwards.
//
// Environment: JANEE (tests/janee-test), TMP (scratch; the test
// provider's state_dir is $TMP/prov), HOME and JANEE_HOME.
// Writes every token it got to $TMP/tokens (one a line) for the leak
// checks of the shell script.
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
	ElicitRequestSchema,
	LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

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
	tokenFile,
	tokenLive,
	waitFor,
} from './common.mjs';

const PROV = join(TMP, 'prov');

// A scenario that throws ends the script: say so, as a failure.
process.on('uncaughtException', (e) => {
	notOk('the SDK scenarios ran to the end', e?.stack ?? e);
	process.exit(1);
});
process.on('unhandledRejection', (e) => {
	notOk('the SDK scenarios ran to the end', e?.stack ?? e);
	process.exit(1);
});
const tokens = [];
const sessions = [];

// A strict JSON Schema 2020-12 validator: the ajv the SDK itself uses.
const sdkRequire = createRequire(
	import.meta.resolve('@modelcontextprotocol/sdk/validation/ajv'),
);
const Ajv2020 = sdkRequire('ajv/dist/2020').default;

// Start `janee serve` under an SDK client.  elicit: a function answering
// elicitation/create (the client then declares the capability).
async function connect(name, elicit) {
	const transport = new StdioClientTransport({
		command: JANEE,
		args: ['serve'],
		env: janeeEnv(),
		stderr: 'pipe',
	});
	const s = { name, transport, logs: [], stderr: '', exit: null, elicits: [] };
	transport.stderr.on('data', (d) => (s.stderr += d));
	s.client = new Client(
		{ name, version: '1.2.3' },
		{ capabilities: elicit ? { elicitation: {} } : {} },
	);
	s.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
		s.logs.push({ at: Date.now(), params: n.params });
	});
	if (elicit)
		s.client.setRequestHandler(ElicitRequestSchema, async (req) => {
			s.elicits.push(req.params);
			return elicit(req.params);
		});
	await s.client.connect(transport);
	const proc = transport._process;
	s.exited = new Promise((resolve) =>
		proc.once('exit', (code, signal) => resolve((s.exit = { code, signal }))),
	);
	sessions.push(s);
	return s;
}

async function call(s, name, args, options) {
	const r = await s.client.callTool({ name, arguments: args }, undefined, options);
	const t = r.structuredContent?.token;
	if (typeof t === 'string') tokens.push(t);
	return r;
}

const reqArgs = (provider, scopes, ttl, reason, extra = {}) => ({
	provider,
	scopes,
	ttl_seconds: ttl,
	reason,
	...extra,
});

// Leases as the CLI shows them (the person's view of the ledger).
async function leases() {
	return janeeJson(['lease', 'list', '--all', '--json']);
}
async function lease(id) {
	return (await leases()).find((l) => l.id === id);
}
async function waitingApproval(reason) {
	const list = await janeeJson(['approvals', '--json']);
	return list.find((l) => l.reason === reason);
}

const isoMs = (s) => Date.parse(s);

// --- connect, tools/list --------------------------------------------

let answer = () => ({ action: 'cancel' });
const A = await connect('sdk-a', (p) => answer(p));
check('the SDK client connects (initialize, 2025-11-25)', A.client.getServerVersion()?.name === 'janee');
const caps = A.client.getServerCapabilities();
check('the server declares tools and logging', caps?.tools && caps?.logging, JSON.stringify(caps));
check('and instructions', (A.client.getInstructions() ?? '').includes('request_token'));

const { tools } = await A.client.listTools();
const names = tools.map((t) => t.name).sort();
check(
	'tools/list has request_token, call_api, list_providers, list_leases, revoke_token',
	JSON.stringify(names) ===
		JSON.stringify(['call_api', 'list_leases', 'list_providers', 'request_token', 'revoke_token']),
	names,
);
for (const t of tools) {
	const ajv = new Ajv2020({ strict: true, validateSchema: true });
	let why = '';
	try {
		ajv.compile(t.inputSchema);
		ajv.compile(t.outputSchema);
	} catch (e) {
		why = e.message;
	}
	check(`${t.name}: input and output schemas are valid JSON Schema (ajv strict)`, why === '', why);
	check(
		`${t.name}: object schemas, a title, a description and annotations`,
		t.inputSchema?.type === 'object' &&
			t.outputSchema?.type === 'object' &&
			t.title &&
			t.description &&
			typeof t.annotations?.readOnlyHint === 'boolean' &&
			typeof t.annotations?.destructiveHint === 'boolean',
		JSON.stringify(t),
	);
}
const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
check(
	'annotations: list_* read-only, revoke_token destructive, request_token not',
	byName.list_leases.annotations.readOnlyHint === true &&
		byName.list_providers.annotations.readOnlyHint === true &&
		byName.revoke_token.annotations.destructiveHint === true &&
		byName.request_token.annotations.readOnlyHint === false,
);
check(
	'request_token requires provider and reason',
	JSON.stringify([...byName.request_token.inputSchema.required].sort()) ===
		JSON.stringify(['provider', 'reason']),
);

// --- list_providers -----------------------------------------------

{
	const r = await call(A, 'list_providers', {});
	const ps = Object.fromEntries((r.structuredContent?.providers ?? []).map((p) => [p.name, p]));
	check(
		'list_providers: every provider with its approval mode',
		ps.auto?.approval === 'auto' &&
			ps.ask?.approval === 'ask' &&
			ps.oob?.approval === 'out-of-band' &&
			ps.never?.approval === 'deny' &&
			ps.sens?.approval === 'ask',
		JSON.stringify(r.structuredContent),
	);
	check(
		'list_providers: type (the CLI\'s field name), ceiling and max TTL',
		ps.auto?.type === 'test' && ps.auto?.kind === undefined &&
			JSON.stringify([...(ps.auto?.scopes ?? [])].sort()) === '["admin","read","write"]' &&
			ps.auto?.max_ttl_seconds === 3600,
		JSON.stringify(ps.auto),
	);
	check(
		'list_providers: a missing login names the command for the person',
		ps.dev?.login === 'not_logged_in' && ps.dev?.login_command === 'janee login dev',
		JSON.stringify(ps.dev),
	);
	check(
		'list_providers: a provider with no login says not_needed, and no command',
		ps.auto?.login === 'not_needed' && ps.auto?.login_command === undefined,
		JSON.stringify(ps.auto),
	);
	check('list_providers: the text content is the structured content', JSON.stringify(JSON.parse(text(r))) === JSON.stringify(r.structuredContent));
}

// --- auto approval ------------------------------------------------

let autoLease, autoToken;
{
	const t0 = Date.now();
	const r = await call(A, 'request_token', reqArgs('auto', ['read'], 600, 'run the CI job'));
	const sc = r.structuredContent ?? {};
	autoLease = sc.lease_id;
	autoToken = sc.token;
	check('auto: request_token answers a token (schema-validated by the SDK)', !r.isError && typeof sc.token === 'string', JSON.stringify(r));
	check(
		'auto: lease_id, provider, granted scopes, token_type, revocable',
		/^lse_[a-z2-7]{26}$/.test(sc.lease_id) &&
			sc.provider === 'auto' &&
			JSON.stringify(sc.scopes) === '["read"]' &&
			sc.token_type === 'bearer' &&
			sc.revocable === true,
		JSON.stringify(sc),
	);
	const exp = isoMs(sc.expires_at) - t0;
	check('auto: expires_at is ttl_seconds away', exp > 599000 && exp < 602000, `expires in ${exp} ms`);
	check('auto: the token is live at the provider', tokenLive(PROV, sc.token ?? ''));
	check('auto: the text content carries the same result', JSON.stringify(JSON.parse(text(r))) === JSON.stringify(sc));
	const l = await lease(autoLease);
	check('auto: the lease records the client (clientInfo) and a session id', l?.client === 'sdk-a/1.2.3' && /^[0-9a-f]{32}$/.test(l?.session ?? ''), JSON.stringify(l));
	A.session = l?.session;
	const e = A.elicits.length;
	check('auto: no question asked', e === 0);
	const r2 = await call(A, 'request_token', reqArgs('auto', ['read', 'nosuch'], 60, 'too much'));
	check('a scope outside the ceiling: isError with the scope named', r2.isError === true && /nosuch/.test(text(r2)), JSON.stringify(r2));
	const r3 = await call(A, 'request_token', reqArgs('auto', ['read'], 7200, 'too long'));
	check('a TTL over max_ttl: isError', r3.isError === true, JSON.stringify(r3));
	const r4 = await call(A, 'request_token', reqArgs('nosuch', ['read'], 60, 'who'));
	check('an unknown provider: isError pointing at list_providers', r4.isError === true && /list_providers/.test(text(r4)), JSON.stringify(r4));
}

// --- a token of parts (a database login's shape) ------------------

{
	const r = await call(A, 'request_token', reqArgs('parts', ['read'], 300, 'read the items', { resources: ['app'] }));
	const sc = r.structuredContent ?? {};
	if (typeof sc.parts?.password === 'string') tokens.push(sc.parts.password);
	check(
		'parts: request_token answers a token of parts (schema-validated by the SDK)',
		!r.isError && sc.primary === 'url' && typeof sc.token === 'string' && sc.token === sc.parts?.url,
		JSON.stringify(r),
	);
	check(
		'parts: user, password, url and host by name',
		JSON.stringify(Object.keys(sc.parts ?? {}).sort()) === '["host","password","url","user"]',
		JSON.stringify(Object.keys(sc.parts ?? {})),
	);
	check('parts: the URL (the primary) is live at the provider', tokenLive(PROV, sc.token ?? ''));
	const both = await call(A, 'request_token', reqArgs('parts', ['read'], 300, 'both names', { resources: ['app'], repositories: ['app'] }));
	check('resources and repositories together: isError', both.isError === true && /same list/.test(text(both)), text(both));
	const off = await call(A, 'request_token', reqArgs('parts', ['read'], 300, 'off the list', { repositories: ['web'] }));
	check('repositories is the resources\' other name: off the allow-list, isError naming it', off.isError === true && /'web' is not on the allow-list/.test(text(off)), text(off));
	const v = await call(A, 'revoke_token', { lease_id: sc.lease_id });
	check('parts: revoke_token ends it at the provider', !v.isError && !tokenLive(PROV, sc.token ?? ''), JSON.stringify(v));
}

// --- approval: ask, by elicitation --------------------------------

{
	let seen;
	answer = (p) => {
		seen = p;
		const choices = p.requestedSchema?.properties?.ttl?.enum ?? [];
		return { action: 'accept', content: { approve: true, ttl: choices[0] } };
	};
	const t0 = Date.now();
	const r = await call(A, 'request_token', reqArgs('ask', ['read', 'write'], 600, 'label the issues of the sprint'));
	const sc = r.structuredContent ?? {};
	check('ask + accept: the client was asked once', A.elicits.length === 1, A.elicits.length);
	check(
		'ask: the form names the client, provider, scopes, TTL and the reason',
		/sdk-a\/1\.2\.3/.test(seen?.message) &&
			/'ask'/.test(seen?.message) &&
			/read/.test(seen?.message) &&
			/write/.test(seen?.message) &&
			/label the issues of the sprint/.test(seen?.message) &&
			/10m/.test(seen?.message),
		seen?.message,
	);
	const props = seen?.requestedSchema?.properties ?? {};
	check(
		'ask: a flat form of primitives (an approve boolean, a TTL choice)',
		seen?.mode === 'form' &&
			seen?.requestedSchema?.type === 'object' &&
			props.approve?.type === 'boolean' &&
			Array.isArray(props.ttl?.enum) &&
			Object.values(props).every((v) => ['string', 'number', 'integer', 'boolean'].includes(v.type)),
		JSON.stringify(seen),
	);
	check('ask + accept: a token', !r.isError && typeof sc.token === 'string' && tokenLive(PROV, sc.token), JSON.stringify(r));
	const exp = isoMs(sc.expires_at) - t0;
	check(
		`ask + accept with the shorter TTL '${props.ttl?.enum?.[0]}': the lease is shortened`,
		props.ttl?.enum?.[0] === '1m' && exp > 59000 && exp < 62000,
		`expires in ${exp} ms`,
	);
	const l = await lease(sc.lease_id);
	check('ask + accept: recorded as approved by the user', l?.ttl_seconds === 60 && l?.state === 'active', JSON.stringify(l));

	for (const [what, res, pattern] of [
		['decline', { action: 'decline' }, /decline/],
		['cancel', { action: 'cancel' }, /cancel/],
		['accept with approve=false', { action: 'accept', content: { approve: false } }, /'no'/],
	]) {
		answer = () => res;
		const before = (await leases()).length;
		const n = A.elicits.length;
		const r = await call(A, 'request_token', reqArgs('ask', ['read'], 300, `try ${what}`));
		check(`ask + ${what}: asked, then isError (denied)`, A.elicits.length === n + 1 && r.isError === true && /denied/.test(text(r)) && pattern.test(text(r)), JSON.stringify(r));
		check(`ask + ${what}: no token in the result`, r.structuredContent?.token === undefined && !/tst_/.test(text(r)));
		const all = await leases();
		const l = all.find((x) => x.reason === `try ${what}`);
		check(`ask + ${what}: the lease is denied, with the answer on record`, all.length === before + 1 && l?.state === 'denied' && pattern.test(l?.detail ?? ''), JSON.stringify(l));
	}
}

// --- sensitive scopes need a person at a terminal ------------------

{
	answer = () => ({ action: 'accept', content: { approve: true } });
	const n = A.elicits.length;
	const t0 = Date.now();
	const r = await call(A, 'request_token', reqArgs('sens', ['issues:write'], 300, 'push a fix'));
	const waited = Date.now() - t0;
	check('require_out_of_band: a write scope is never put to the client', A.elicits.length === n, A.elicits);
	const id = /lse_[a-z2-7]{26}/.exec(text(r))?.[0];
	check(
		'after approval_wait (2s) request_token answers pending, with the lease id',
		r.isError === true && /pending/.test(text(r)) && id && waited >= 1900 && waited < 5000,
		`${waited} ms: ${text(r)}`,
	);
	const w = await waitingApproval('push a fix');
	check('janee approvals lists it for the person', w?.id === id && w?.client === 'sdk-a/1.2.3', JSON.stringify(w));
	const early = await call(A, 'request_token', reqArgs('sens', [], 300, 'push a fix', { lease_id: id }));
	check('collecting before approval: still pending', early.isError === true && /waits for a person/.test(text(early)), text(early));
	const longer = await janee(['approve', id ?? 'none', '--ttl', '1h']);
	check('janee approve --ttl longer than asked is refused', longer.code !== 0 && /cannot extend/.test(longer.stderr), longer.stderr);
	const ap = await janee(['approve', id ?? 'none', '--ttl', '1m']);
	check('janee approve --ttl 1m (a second process) succeeds', ap.code === 0, ap.stderr);
	const tc = Date.now();
	const c = await call(A, 'request_token', reqArgs('sens', [], 300, 'push a fix', { lease_id: id }));
	check('request_token with lease_id collects the approved token', !c.isError && c.structuredContent?.lease_id === id && tokenLive(PROV, c.structuredContent?.token ?? ''), JSON.stringify(c));
	const exp = isoMs(c.structuredContent?.expires_at) - tc;
	check('for the shorter TTL the person chose', exp > 59000 && exp < 62000, `expires in ${exp} ms`);
	check('with the scope asked for', JSON.stringify(c.structuredContent?.scopes) === '["issues:write"]');
	const again = await call(A, 'request_token', reqArgs('sens', [], 300, 'push a fix', { lease_id: id }));
	check('a token is handed out once', again.isError === true && again.structuredContent === undefined, text(again));
	answer = (p) => ({ action: 'accept', content: { approve: true, ttl: p.requestedSchema.properties.ttl.default } });
	const rd = await call(A, 'request_token', reqArgs('sens', ['issues:read'], 300, 'read the issues'));
	check('a read scope of the same provider is asked in the client', A.elicits.length === n + 1 && !rd.isError, text(rd));
}

// --- out-of-band approval while request_token waits ---------------

{
	const progress = [];
	const reason = 'deploy the docs';
	const t0 = Date.now();
	const pending = call(A, 'request_token', reqArgs('oob', ['read'], 120, reason), {
		onprogress: (p) => progress.push(p),
	});
	const w = await waitFor(() => waitingApproval(reason), 4000, 50);
	check('out-of-band: the request waits in the ledger (janee approvals)', w?.state === 'requested', JSON.stringify(w));
	await sleep(1200); // long enough for a progress notification
	const ap = await janee(['approve', w?.id ?? 'none']);
	const tApproved = Date.now();
	const r = await pending;
	const dt = Date.now() - tApproved;
	check('janee approve from a second process', ap.code === 0, ap.stderr);
	check('the waiting request_token answers with the token', !r.isError && r.structuredContent?.lease_id === w?.id && tokenLive(PROV, r.structuredContent?.token ?? ''), JSON.stringify(r));
	check(`within a second of the approval (${dt} ms)`, dt < 1000);
	check(
		`progress notifications while it waited (${progress.length})`,
		progress.length >= 1 && progress.every((p, i) => p.progress === i + 1) && /janee approve/.test(progress[0]?.message ?? ''),
		JSON.stringify(progress),
	);
	check('and it did not answer before the approval', Date.now() - t0 >= 1200);
	const l = await lease(w?.id);
	check('the lease shows the approval by the user', l?.state === 'active' && l?.approved_at, JSON.stringify(l));

	const p2 = call(A, 'request_token', reqArgs('oob', ['read'], 120, 'rotate the keys'));
	const w2 = await waitFor(() => waitingApproval('rotate the keys'), 4000, 50);
	const dn = await janee(['deny', w2?.id ?? 'none', '--reason', 'not today']);
	const r2 = await p2;
	check('janee deny from a second process', dn.code === 0, dn.stderr);
	check('the waiting request_token answers denied, with the reason', r2.isError === true && /denied/.test(text(r2)) && /not today/.test(text(r2)), text(r2));

	// notifications/cancelled from the SDK (an AbortSignal)
	const ac = new AbortController();
	const p3 = call(A, 'request_token', reqArgs('oob', ['read'], 120, 'abandon this'), { signal: ac.signal });
	const w3 = await waitFor(() => waitingApproval('abandon this'), 4000, 50);
	ac.abort('the agent gave up');
	let threw = false;
	try {
		await p3;
	} catch {
		threw = true;
	}
	const l3 = await waitFor(async () => {
		const x = await lease(w3?.id);
		return x?.state === 'denied' ? x : undefined;
	}, 3000, 50);
	check('a cancelled request (notifications/cancelled) closes its lease', threw && /cancelled by the MCP client/.test(l3?.detail ?? ''), JSON.stringify(l3));
	const ap3 = await janee(['approve', w3?.id ?? 'none']);
	check('and it can no longer be approved', ap3.code !== 0);
}

// --- a client that cannot elicit: ask falls back to out-of-band ----

const B = await connect('sdk-b', null);
{
	const p = call(B, 'request_token', reqArgs('ask', ['read'], 120, 'no forms here'));
	const w = await waitFor(() => waitingApproval('no forms here'), 4000, 50);
	check('ask without the elicitation capability waits for out-of-band approval, never auto', w?.state === 'requested' && w?.client === 'sdk-b/1.2.3', JSON.stringify(w));
	await janee(['approve', w?.id ?? 'none']);
	const r = await p;
	check('and answers once approved at the terminal', !r.isError && tokenLive(PROV, r.structuredContent?.token ?? ''), JSON.stringify(r));
	B.lease = r.structuredContent?.lease_id;
}

// --- deny, and no login from request_token -------------------------

{
	const r = await call(A, 'request_token', reqArgs('never', ['read'], 60, 'please'));
	check('approval: deny refuses with isError', r.isError === true && /deny/.test(text(r)), text(r));
	const d = await call(A, 'request_token', reqArgs('dev', ['a:read'], 60, 'needs a login'));
	check('a provider without a login: isError naming `janee login dev`', d.isError === true && /janee login dev/.test(text(d)), text(d));
}

// --- list_leases, revoke_token -------------------------------------

{
	const r = await call(A, 'list_leases', {});
	const ids = (r.structuredContent?.leases ?? []).map((l) => l.lease_id);
	const mine = (await leases()).filter((l) => l.session === A.session && l.state === 'active').map((l) => l.id);
	check(
		`list_leases: this session's ${mine.length} active leases, no others`,
		mine.length >= 4 && JSON.stringify([...ids].sort()) === JSON.stringify([...mine].sort()) && !ids.includes(B.lease),
		JSON.stringify({ ids, mine }),
	);
	check('list_leases never shows a token', !tokens.some((t) => JSON.stringify(r).includes(t)) && !JSON.stringify(r).includes('"token"'));
	const rb = await call(B, 'list_leases', {});
	check("another session's list_leases shows only its own", JSON.stringify((rb.structuredContent?.leases ?? []).map((l) => l.lease_id)) === JSON.stringify([B.lease]), JSON.stringify(rb));

	const x = await call(B, 'revoke_token', { lease_id: autoLease });
	check("revoke_token refuses another session's lease", x.isError === true && tokenLive(PROV, autoToken), text(x));
	const v = await call(A, 'revoke_token', { lease_id: autoLease });
	check('revoke_token ends the lease', !v.isError && v.structuredContent?.state === 'revoked' && v.structuredContent?.lease_id === autoLease, JSON.stringify(v));
	check('the token is revoked at the provider (its file is gone)', !tokenLive(PROV, autoToken));
	const after = await call(A, 'list_leases', {});
	check('list_leases no longer shows it', !(after.structuredContent?.leases ?? []).some((l) => l.lease_id === autoLease));
	const v2 = await call(A, 'revoke_token', { lease_id: autoLease });
	check('revoking it again: isError', v2.isError === true, text(v2));
	check('the ledger says revoked', (await lease(autoLease))?.state === 'revoked');
}

// --- a lease that ends during the session --------------------------

{
	const r = await call(A, 'request_token', reqArgs('auto', ['read'], 2, 'a short job'));
	const sc = r.structuredContent ?? {};
	const exp = isoMs(sc.expires_at);
	const file = tokenFile(PROV, sc.token ?? '');
	check('a 2-second lease', !r.isError && tokenLive(PROV, sc.token ?? ''), JSON.stringify(r));
	let gone;
	await waitFor(() => {
		if (!tokenLive(PROV, sc.token ?? '')) gone = Date.now();
		return gone;
	}, 6000, 5);
	const note = await waitFor(() => A.logs.find((n) => n.params?.data?.lease_id === sc.lease_id), 3000, 5);
	const dGone = gone - exp;
	const dNote = note ? note.at - exp : NaN;
	check(
		`revoked at the provider ${dGone} ms after expires_at (within 1 s, not before)`,
		gone !== undefined && dGone >= 0 && dGone <= 1000,
		`expires_at ${sc.expires_at}, file ${file} gone at ${gone ? new Date(gone).toISOString() : 'never'}`,
	);
	check(
		`the client is told (notifications/message) ${dNote} ms after expires_at`,
		note && dNote >= 0 && dNote <= 1000 && note.params.data.event === 'lease_ended' && note.params.data.state === 'expired',
		JSON.stringify(note),
	);
	check('the notification holds no token', note && !tokens.some((t) => JSON.stringify(note.params).includes(t)));
	console.log(`# expiry: expires_at ${sc.expires_at}; token file gone +${dGone} ms; notification +${dNote} ms`);
	const l = await lease(sc.lease_id);
	check('the ledger says expired', l?.state === 'expired', JSON.stringify(l));
	check("another session is not told of this session's lease", !B.logs.some((n) => n.params?.data?.lease_id === sc.lease_id));
}

// --- a real OAuth server: oidc-provider --------------------------------
// Provider "oidc": the generic OAuth 2.0 provider, client credentials, at
// the oidc-provider test peer.  Whether a token lives is what the
// server's introspection endpoint (RFC 7662) says.

function introspect(token) {
	const body = new URLSearchParams({ token }).toString();
	const auth = Buffer.from(`janee-basic:${process.env.OIDC_BASIC_SECRET}`).toString('base64');
	return new Promise((resolve, reject) => {
		const req = https.request(
			new URL('/token/introspection', process.env.OIDC_ISSUER),
			{
				method: 'POST',
				ca: readFileSync(process.env.OIDC_CA),
				headers: {
					authorization: `Basic ${auth}`,
					'content-type': 'application/x-www-form-urlencoded',
					'content-length': Buffer.byteLength(body),
				},
			},
			(res) => {
				let b = '';
				res.on('data', (d) => (b += d));
				res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(b)) : reject(new Error(`introspection: HTTP ${res.statusCode}`))));
			},
		);
		req.on('error', reject);
		req.end(body);
	});
}

if (!process.env.OIDC_ISSUER) {
	ok('request_token against oidc-provider # SKIP the test peer did not start');
} else {
	const r = await call(A, 'request_token', reqArgs('oidc', ['issues:read'], 600, 'read the issues at the real server'));
	const tok = r.structuredContent?.token ?? '';
	const i1 = tok ? await introspect(tok) : {};
	check('oidc-provider: request_token issues a live token (introspection: active)', !r.isError && i1.active === true, JSON.stringify({ r: text(r), i1 }));
	check('oidc-provider: narrowed to the scope asked for', i1.scope === 'issues:read' && i1.client_id === 'janee-basic', JSON.stringify(i1));
	const v = await call(A, 'revoke_token', { lease_id: r.structuredContent?.lease_id });
	const i2 = tok ? await introspect(tok) : {};
	check('oidc-provider: revoke_token kills it at the server (active: false)', !v.isError && i2.active === false, JSON.stringify({ v: text(v), i2 }));

	const e = await call(A, 'request_token', reqArgs('oidc', ['issues:read'], 2, 'a short job at the real server'));
	const et = e.structuredContent?.token ?? '';
	const exp = isoMs(e.structuredContent?.expires_at);
	check('oidc-provider: a 2-second lease, live', !e.isError && (await introspect(et)).active === true, text(e));
	let dead;
	await waitFor(async () => {
		if (!(await introspect(et)).active) dead = Date.now();
		return dead;
	}, 6000, 25);
	const note = await waitFor(() => A.logs.find((n) => n.params?.data?.lease_id === e.structuredContent?.lease_id), 3000, 10);
	const dDead = dead - exp;
	check(
		`oidc-provider: the expired lease's token is dead at the server ${dDead} ms after expires_at (within 1 s)`,
		dead !== undefined && dDead >= 0 && dDead <= 1000,
		`expires_at ${e.structuredContent?.expires_at}, dead at ${dead ? new Date(dead).toISOString() : 'never'}`,
	);
	check('oidc-provider: and the client is told', note?.params?.data?.state === 'expired', JSON.stringify(note));
	console.log(`# expiry at oidc-provider: expires_at ${e.structuredContent?.expires_at}; inactive at the server +${dDead} ms; notification +${note ? note.at - exp : NaN} ms`);
}

// --- end of the sessions -------------------------------------------

for (const s of sessions) {
	const t0 = Date.now();
	await s.client.close();
	const e = await Promise.race([s.exited, sleep(5000).then(() => null)]);
	const dt = Date.now() - t0;
	check(`${s.name}: janee serve exits 0 when the client closes stdin (${dt} ms)`, e?.code === 0 && dt < 2000, JSON.stringify(e));
	check(`${s.name}: no token in janee serve's stderr`, !tokens.some((t) => s.stderr.includes(t)), s.stderr);
}
check('the SDK saw tokens at all', tokens.length >= 6, tokens.length);
writeFileSync(join(TMP, 'tokens'), tokens.join('\n') + '\n', { mode: 0o600 });
writeFileSync(join(TMP, 'serve.err'), sessions.map((s) => s.stderr).join(''), { mode: 0o600 });

process.exit(failed() ? 1 : 0);
