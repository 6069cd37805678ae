// URL-mode elicitation (MCP 2025-11-25, SEP-1036) and the other channels
// janee serve picks for a person, against the official SDK client
// (@modelcontextprotocol/sdk 1.32, which declares elicitation.url) and
// raw lines for the 2026-07-28 era; started by
// tests/t0820-url-elicitation.sh, which writes the config and runs the
// private session bus, the fake notification server (NOTIFY_LOG, its pid
// in NOTIFY_PID) and a fake xdg-open that writes what it opened to
// OPENED.  janee's page is spoken to with fetch, as the person's browser
// would (tests/t0810-page-browser.sh uses a real one).
import { existsSync, readFileSync } from 'node:fs';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
	ElicitationCompleteNotificationSchema,
	ElicitRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

import {
	JANEE,
	check,
	failed,
	janee,
	janeeEnv,
	janeeJson,
	notOk,
	sleep,
	text,
	waitFor,
} from './common.mjs';
import { Raw, rpc } from './raw.mjs';

process.on('uncaughtException', (e) => {
	notOk('the URL-mode scenarios ran to the end', e?.stack ?? e);
	process.exit(1);
});
process.on('unhandledRejection', (e) => {
	notOk('the URL-mode scenarios ran to the end', e?.stack ?? e);
	process.exit(1);
});

const NOTIFY_LOG = process.env.NOTIFY_LOG;
const OPENED = process.env.OPENED;
const tokens = [];
const show = (v) => JSON.stringify(v, null, 1);

// --- janee's page, as a browser would use it ----------------------------

// Open a one-time link: the session (its cookie) and the page's origin.
async function openLink(url) {
	const r = await fetch(url, { redirect: 'manual' });
	const c = r.headers.get('set-cookie');
	return { status: r.status, origin: new URL(url).origin, cookie: c ? c.split(';')[0] : '' };
}
async function getPage(s) {
	const r = await fetch(`${s.origin}/`, { headers: { cookie: s.cookie } });
	return { status: r.status, html: await r.text() };
}
// A form POST as the page's own form would send it (a browser adds
// Sec-Fetch-Site: same-origin; Origin: null under no-referrer).
async function post(s, path, fields) {
	const { html } = await getPage(s);
	const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
	const body = new URLSearchParams({ csrf, ...fields }).toString();
	const r = await fetch(`${s.origin}${path}`, {
		method: 'POST',
		redirect: 'manual',
		headers: {
			cookie: s.cookie,
			'content-type': 'application/x-www-form-urlencoded',
			origin: 'null',
			'sec-fetch-site': 'same-origin',
		},
		body,
	});
	return { status: r.status, after: (await getPage(s)).html };
}
const flash = (html) => /<p class="flash[^"]*">(.*?)<\/p>/.exec(html)?.[1] ?? '';

async function leaseState(id) {
	const l = await janeeJson(['lease', 'show', id, '--json']);
	return l.state;
}

// --- SDK clients ---------------------------------------------------------

async function connect(name, caps, elicit) {
	const transport = new StdioClientTransport({
		command: JANEE,
		args: ['serve'],
		env: janeeEnv(),
		stderr: 'pipe',
	});
	const s = { name, transport, stderr: '', elicits: [], completes: [], order: [] };
	transport.stderr.on('data', (d) => (s.stderr += d));
	s.client = new Client({ name, version: '1.0.0' }, { capabilities: caps });
	if (caps.elicitation) {
		s.client.setRequestHandler(ElicitRequestSchema, async (req) => {
			s.elicits.push(req.params);
			s.order.push(`elicit ${req.params.elicitationId ?? ''}`);
			return elicit(req.params);
		});
		s.client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => {
			s.completes.push(n.params.elicitationId);
			s.order.push(`complete ${n.params.elicitationId}`);
		});
	}
	await s.client.connect(transport);
	return s;
}

async function call(s, args, options) {
	const r = await s.client.callTool({ name: 'request_token', arguments: args }, undefined, {
		timeout: 120000,
		...options,
	});
	s.order.push('result');
	const t = r.structuredContent?.token;
	if (typeof t === 'string') tokens.push(t);
	return r;
}

const args = (provider, scopes, reason, ttl = 900) => ({ provider, scopes, ttl_seconds: ttl, reason });
const urlOnly = { elicitation: { url: {} } };

// --- 1. a URL-only client: the page decides --------------------------------
{
	let link;
	const s = await connect('url-client', urlOnly, async (p) => {
		link = p.url;
		return { action: 'accept' };
	});
	const pending = call(s, args('ask', ['read'], 'deploy <b>the</b> docs'));
	await waitFor(() => link, 10000);
	const e = s.elicits[0] ?? {};
	check('url client: janee sends elicitation/create with mode url', e.mode === 'url', show(e));
	check('with a one-time link to its page on 127.0.0.1', /^http:\/\/127\.0\.0\.1:\d+\/open\?c=[A-Za-z0-9_-]{43}$/.test(e.url ?? ''), e.url);
	check('an elicitationId naming the lease', /^lse_[a-z2-7]{26}$/.test(e.elicitationId ?? ''), e.elicitationId);
	check('no form in it', e.requestedSchema === undefined, show(e));
	check("a message that holds no agent text (the reason stays on the page)", typeof e.message === 'string' && !/deploy|<b>/.test(e.message), e.message);
	const lid = e.elicitationId;
	check('the request waits for a person', (await leaseState(lid)) === 'requested');
	// Another request waits meanwhile (a person's, from the CLI).
	const other = await janee(['approvals', '--json']);
	const ps = await openLink(link);
	check("the link opens a session on janee's page", ps.status === 303 && ps.cookie.startsWith('janee_page_'), show(ps));
	const { html } = await getPage(ps);
	check('the page shows the request, the reason escaped', html.includes(lid) && html.includes('deploy &lt;b&gt;the&lt;/b&gt; docs'), html);
	check('and the client marked self-reported', /url-client\/1\.0\.0<span class="tag">self-reported/.test(html), html);
	check("a client's link shows its one request, and nothing else of the page", !html.includes('Active leases') && (html.match(/<article/g) ?? []).length === 1, html);
	const again = await openLink(link);
	check('the link is spent once used', again.status === 403);
	// A client's session cannot give a session grant.
	let r = await post(ps, '/approve', { lease: lid, ttl: '5m', grant: '5m' });
	check("a client's link cannot give a session grant", /only from janee approvals --open/.test(flash(r.after)) && (await leaseState(lid)) === 'requested', flash(r.after));
	r = await post(ps, '/approve', { lease: lid, ttl: '5m' });
	check('approve on the page with a shorter lifetime: 303', r.status === 303);
	const res = await pending;
	const sc = res.structuredContent ?? {};
	check('request_token then answers with the token', !res.isError && typeof sc.token === 'string', show(res));
	const life = Date.parse(sc.expires_at) - Date.now();
	check('for the lifetime chosen on the page (5m)', life > 240000 && life <= 300000, sc.expires_at);
	check('notifications/elicitation/complete names the elicitation, before the result', s.completes.includes(lid) && s.order.indexOf(`complete ${lid}`) < s.order.lastIndexOf('result'), show(s.order));
	const audit = await janeeJson(['audit', 'list', '--lease', lid, '--json']);
	check("audited as approved by the user on janee's page", audit.some((a) => a.event === 'approved' && a.actor === 'user' && /janee's page \(a link the MCP client carried\)/.test(a.detail)), show(audit));
	check('(other requests untouched)', other.code === 0);

	// decline and cancel deny
	for (const action of ['decline', 'cancel']) {
		s.client.setRequestHandler(ElicitRequestSchema, async (req) => {
			s.elicits.push(req.params);
			return { action };
		});
		const d = await call(s, args('ask', ['read'], `to ${action}`));
		const id = s.elicits.at(-1).elicitationId;
		check(`url client: ${action} denies the request`, d.isError && /denied/.test(text(d)) && (await leaseState(id)) === 'denied', show(d));
		check(`and no elicitation/complete for a ${action}`, !s.completes.includes(id));
	}

	// Nobody answers in time: "pending"; then -32042 with a fresh link.
	let link2;
	s.client.setRequestHandler(ElicitRequestSchema, async (req) => {
		s.elicits.push(req.params);
		link2 = req.params.url;
		return { action: 'accept' };
	});
	const slow = await call(s, args('askshort', ['read'], 'nobody answers yet'));
	const sid = s.elicits.at(-1).elicitationId;
	check('unanswered within approval_wait: the call answers "pending" on the page', slow.isError && /pending: lease .* janee's page/.test(text(slow)) && (await leaseState(sid)) === 'requested', show(slow));
	let err;
	try {
		await call(s, { ...args('askshort', ['read'], 'nobody answers yet'), lease_id: sid });
	} catch (x) {
		err = x;
	}
	const els = err?.data?.elicitations ?? [];
	check('collecting it with lease_id: -32042 (URL elicitation required)', err?.code === -32042, String(err));
	check('listing the URL elicitation it needs, with a fresh link', els.length === 1 && els[0].mode === 'url' && els[0].elicitationId === sid && /\/open\?c=/.test(els[0].url) && els[0].url !== link2, show(els));
	const ps2 = await openLink(els[0].url);
	await post(ps2, '/approve', { lease: sid });
	const got = await call(s, { ...args('askshort', ['read'], 'nobody answers yet'), lease_id: sid });
	check('approved on the page, lease_id collects the token', !got.isError && typeof got.structuredContent?.token === 'string', show(got));

	await s.client.close();
}

// --- 2. both modes: URL is preferred; form only: a form as before ----------
{
	const s = await connect('both', { elicitation: { form: {}, url: {} } }, async (p) => {
		if (p.mode === 'url') {
			const ps = await openLink(p.url);
			setTimeout(() => post(ps, '/approve', { lease: p.elicitationId }), 100);
		}
		return { action: 'accept', content: { approve: true } };
	});
	const r = await call(s, args('ask', ['read'], 'both modes'));
	check('a client with form and url gets url mode', s.elicits[0]?.mode === 'url' && !r.isError, show(s.elicits));
	await s.client.close();
	const f = await connect('form-only', { elicitation: {} }, async () => ({ action: 'accept', content: { approve: true, ttl: '1m' } }));
	const fr = await call(f, args('ask', ['read'], 'form only'));
	const fe = f.elicits[0] ?? {};
	check('a form-only client ({}) gets a form, as before', fe.mode === 'form' && fe.requestedSchema?.properties?.approve && !fe.url, show(fe));
	check('and its answer approves (ask)', !fr.isError && Date.parse(fr.structuredContent?.expires_at) - Date.now() <= 60000, show(fr));
	await f.client.close();
}

// --- 3. require_out_of_band with a URL client: the link shows, never approves
{
	let link;
	const s = await connect('url-sens', urlOnly, async (p) => {
		link = p.url;
		return { action: 'accept' };
	});
	const pending = call(s, args('sens', ['issues:write'], 'write access'));
	await waitFor(() => link, 10000);
	const lid = s.elicits[0]?.elicitationId;
	check('out of band: a URL client is sent the page link too', s.elicits[0]?.mode === 'url' && typeof lid === 'string', show(s.elicits));
	const ps = await openLink(link);
	const { html } = await getPage(ps);
	check('the page marks it out of band only, with no Approve', html.includes('out of band only') && !html.includes('action="/approve"') && html.includes('janee approvals --open'), html);
	const r = await post(ps, '/approve', { lease: lid });
	check("invariant 7: approving through the client's link is refused by the broker", /must be approved out of band/.test(flash(r.after)) && (await leaseState(lid)) === 'requested', flash(r.after));
	const a = await janee(['approve', lid]);
	check('janee approve (a person) still approves it', a.code === 0, a.stderr);
	const res = await pending;
	check('and request_token answers with the token', !res.isError && typeof res.structuredContent?.token === 'string', show(res));
	check('elicitation/complete for the link', s.completes.includes(lid));
	if (NOTIFY_LOG)
		check("out of band, the person's desktop is told too", readFileSync(NOTIFY_LOG, 'utf8').includes(lid));
	await s.client.close();
}

// --- 4. neither form nor url: a desktop notification, janee approve --------
if (NOTIFY_LOG) {
	const notes = () => (existsSync(NOTIFY_LOG) ? readFileSync(NOTIFY_LOG, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
	const s = await connect('plain', {}, null);
	const pending = call(s, args('ask', ['read'], 'secret-reason-text'));
	const mine = () => notes().filter((x) => x.call === 'Notify' && x.body.startsWith('plain/1.0.0 '));
	const n = await waitFor(() => mine()[0], 10000);
	check('a client with neither form nor url: a desktop notification is sent', n !== undefined, show(notes()));
	const lid = /lse_[a-z2-7]{26}/.exec(n?.body ?? '')?.[0];
	check('its title says a request waits', n?.summary === 'janee: a request waits for you' && n.app_name === 'janee', show(n));
	check('its body names provider, scopes, lease, not the reason', /from ask with scopes \["read"\]/.test(n?.body ?? '') && lid && !/secret-reason-text/.test(n.body), n?.body);
	check('it offers an action that opens the page', JSON.stringify(n?.actions) === JSON.stringify(['default', 'Review', 'open', 'Review']), show(n?.actions));
	const a = await janee(['approve', lid]);
	const res = await pending;
	check('janee approve completes the waiting call', a.code === 0 && !res.isError && typeof res.structuredContent?.token === 'string', show(res));
	check('and the notification is closed', await waitFor(() => notes().some((x) => x.call === 'CloseNotification' && x.id === n.id), 5000));
	check('no token in any notification', !tokens.some((t) => readFileSync(NOTIFY_LOG, 'utf8').includes(t)));

	// The person clicks it: janee opens its page with a person's link.
	const pending2 = call(s, args('ask', ['read'], 'clicked'));
	const n2 = await waitFor(() => mine()[1], 10000);
	process.kill(Number(process.env.NOTIFY_PID), 'SIGUSR1');
	const opened = await waitFor(() => existsSync(OPENED) && readFileSync(OPENED, 'utf8').trim(), 10000);
	check("clicking the notification opens janee's page with a one-time link", /^http:\/\/127\.0\.0\.1:\d+\/open\?c=[A-Za-z0-9_-]{43}$/.test(opened ?? ''), opened);
	const ps = await openLink(opened);
	const { html } = await getPage(ps);
	const lid2 = /lse_[a-z2-7]{26}/.exec(n2?.body ?? '')?.[0];
	check("it is a person's page: everything waiting, active leases", html.includes(lid2) && html.includes('Active leases'), html);
	await post(ps, '/approve', { lease: lid2 });
	const res2 = await pending2;
	check("approved there, request_token answers with the token", !res2.isError && typeof res2.structuredContent?.token === 'string', show(res2));
	await s.client.close();
} else check('(the notification scenarios need the fake notification server)', true);

// --- 5. the 2026-07-28 era: the link in input_required ------------------------
{
	const META = {
		'io.modelcontextprotocol/protocolVersion': '2026-07-28',
		'io.modelcontextprotocol/clientCapabilities': urlOnly,
		'io.modelcontextprotocol/clientInfo': { name: 'stateless-url', version: '1' },
	};
	const tcall = (id, a, more = {}) => rpc(id, 'tools/call', { name: 'request_token', arguments: a, _meta: META, ...more });
	const raw = new Raw();
	const a1 = args('ask', ['read'], 'stateless url');
	const r1 = await raw.request(tcall('u1', a1));
	const ir = r1?.result?.inputRequests?.approval;
	check('2026-07-28: input_required carries a URL elicitation', r1?.result?.resultType === 'input_required' && ir?.method === 'elicitation/create' && ir?.params?.mode === 'url' && /\/open\?c=/.test(ir?.params?.url ?? ''), show(r1));
	const st = r1?.result?.requestState;
	const lid = ir?.params?.elicitationId;
	// A form's answer in the repeated call approves nothing: it waits.
	raw.send(tcall('u2', a1, { requestState: st, inputResponses: { approval: { action: 'accept', content: { approve: true } } } }));
	const early = await raw.next((m) => m.id === 'u2', 1500);
	check("the repeated call's accept approves nothing: it waits for the page", early === undefined && (await leaseState(lid)) === 'requested', show(early));
	const ps = await openLink(ir.params.url);
	await post(ps, '/approve', { lease: lid, ttl: '1m' });
	const r2 = await raw.next((m) => m.id === 'u2', 10000);
	check('approved on the page: the waiting call answers with the token', r2?.result?.resultType === 'complete' && !r2.result.isError && typeof r2.result.structuredContent?.token === 'string', show(r2));
	if (typeof r2?.result?.structuredContent?.token === 'string') tokens.push(r2.result.structuredContent.token);
	const a3 = args('ask', ['read'], 'stateless declined');
	const r3 = await raw.request(tcall('u3', a3));
	const r4 = await raw.request(tcall('u4', a3, { requestState: r3?.result?.requestState, inputResponses: { approval: { action: 'decline' } } }));
	check('2026-07-28: decline denies', r4?.result?.isError === true && /did not open janee's page/.test(r4.result.content?.[0]?.text ?? ''), show(r4));
	await raw.close();
}

// Tokens for the shell script's leak checks.
import('node:fs').then(({ writeFileSync }) => writeFileSync(`${process.env.TMP}/tokens`, tokens.join('\n') + '\n'));
await sleep(50);
process.exit(failed() ? 1 : 0);
