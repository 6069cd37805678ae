// janee's approval page in a real browser: Debian's chromium, headless,
// driven by playwright-core (tests/browser/package.json), with the
// official MCP SDK client (tests/mcp) asking for tokens through janee
// serve with elicitation.url.  Started by tests/t0810-page-browser.sh.
//
// The person opens the page from the URL elicitation, approves with a
// shorter lifetime (the tool result arrives), denies with a reason; a
// spent link, a wrong Host and a form on another origin posting to
// janee are refused; on the page of `janee approvals --open` the person
// gives a session grant and revokes an active lease.  Screenshots of the
// page (a pending request; active leases) go to SHOTS.
//
// Environment: JANEE, TMP, SHOTS (a directory), PAGE_LINK (a person's
// link from janee approvals --open --no-browser), CHROMIUM.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

import { Client } from '../mcp/node_modules/@modelcontextprotocol/sdk/dist/esm/client/index.js';
import { StdioClientTransport } from '../mcp/node_modules/@modelcontextprotocol/sdk/dist/esm/client/stdio.js';
import {
	ElicitationCompleteNotificationSchema,
	ElicitRequestSchema,
} from '../mcp/node_modules/@modelcontextprotocol/sdk/dist/esm/types.js';

import {
	JANEE,
	TMP,
	check,
	failed,
	janeeEnv,
	janeeJson,
	notOk,
	text,
	tokenLive,
	waitFor,
} from '../mcp/common.mjs';

const SHOTS = process.env.SHOTS;
const PERSON_LINK = process.env.PAGE_LINK;
const PROV = join(TMP, 'prov');
const show = (v) => JSON.stringify(v, null, 1);
const tokens = [];

let ctx;
async function bail(e) {
	notOk('the browser scenarios ran to the end', e?.stack ?? e);
	await ctx?.close().catch(() => {});
	process.exit(1);
}
process.on('uncaughtException', bail);
process.on('unhandledRejection', bail);

ctx = await chromium.launchPersistentContext(mkdtempSync(join(TMP, 'chromium-')), {
	executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
	headless: true,
	viewport: { width: 1000, height: 700 },
	args: [
		// CI runs the suite as root, and chromium refuses to start as root
		// with its sandbox on ("Running as root without --no-sandbox is not
		// supported"): the setuid/user-namespace sandbox drops privileges it
		// cannot drop from root.  The browser only ever loads janee's own
		// loopback page and the test's data: pages, so turning the sandbox
		// off there costs nothing; as any other user it stays on.
		...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
		'--headless',
		'--disable-gpu',
		'--no-first-run',
		'--disable-background-networking',
		'--disable-component-update',
		'--disable-sync',
	],
});
const page = ctx.pages()[0] ?? (await ctx.newPage());
check('chromium started headless', true);

async function leaseState(id) {
	return (await janeeJson(['lease', 'show', id, '--json'])).state;
}

// --- the MCP SDK client, with elicitation.url --------------------------
const links = [];
const completes = [];
const transport = new StdioClientTransport({ command: JANEE, args: ['serve'], env: janeeEnv(), stderr: 'pipe' });
let serveErr = '';
transport.stderr.on('data', (d) => (serveErr += d));
const client = new Client({ name: 'browser-test-agent', version: '2.0' }, { capabilities: { elicitation: { url: {} } } });
client.setRequestHandler(ElicitRequestSchema, async (req) => {
	links.push(req.params);
	// The client's answer says only that the person agreed to go there.
	return { action: 'accept' };
});
client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => completes.push(n.params.elicitationId));
await client.connect(transport);

function ask(reason, scopes = ['issues:read'], ttl = 1800) {
	return client
		.callTool({ name: 'request_token', arguments: { provider: 'gh', scopes, ttl_seconds: ttl, reason } }, undefined, { timeout: 120000 })
		.then((r) => {
			if (typeof r.structuredContent?.token === 'string') tokens.push(r.structuredContent.token);
			return r;
		});
}

// --- 1. open the page from the URL elicitation; approve, shorter ---------
const first = ask('Open a pull request with the docs fix for issue #42');
const e1 = await waitFor(() => links[0], 15000);
check('request_token waits, and the client is sent a URL elicitation', e1?.mode === 'url' && /\/open\?c=/.test(e1.url), show(e1));
const resp = await page.goto(e1.url);
check('the link opens janee\'s page in the browser', resp?.status() === 200 && /janee: approvals/.test(await page.title()), resp?.status());
check('the URL bar no longer holds the capability', !page.url().includes('c='), page.url());
check('the page shows the request, its reason and its client (self-reported)', (await page.textContent('main')).includes('Open a pull request with the docs fix for issue #42') && (await page.textContent('main')).includes('browser-test-agent/2.0self-reported'));
check('no script on the page', (await page.$$('script')).length === 0);
if (SHOTS) await page.screenshot({ path: join(SHOTS, 'approval-page-pending.png'), fullPage: true });
await page.selectOption('select[name=ttl]', '5m');
await Promise.all([page.waitForNavigation(), page.click('button.ok')]);
check('the page says it was approved', /Approved lse_/.test(await page.textContent('main')));
const r1 = await first;
const life = Date.parse(r1.structuredContent?.expires_at) - Date.now();
check('the tool result arrives with the token', !r1.isError && typeof r1.structuredContent?.token === 'string', show(r1));
check('for the shorter lifetime chosen in the browser (5m)', life > 240000 && life <= 300000, r1.structuredContent?.expires_at);
check('after notifications/elicitation/complete', completes.includes(e1.elicitationId), show(completes));
const lease1 = r1.structuredContent?.lease_id;

// --- 2. deny with a reason ----------------------------------------------
const second = ask('Delete the staging branch');
const e2 = await waitFor(() => links[1], 15000);
await page.goto(e2.url);
await page.fill('input[name=reason]', 'not this week');
await Promise.all([page.waitForNavigation(), page.click('button.no')]);
const r2 = await second;
check('deny in the browser: the tool result is a denial with the reason', r2.isError && /denied on janee's page: not this week/.test(text(r2)), show(r2));
check('the lease is denied', (await leaseState(e2.elicitationId)) === 'denied');

// --- 3. what the page refuses ---------------------------------------------
const spent = await page.goto(e1.url);
check('a reused capability is refused', spent?.status() === 403 && /used already/.test(await page.textContent('body')), spent?.status());
const port = new URL(e1.url).port;
const wrongHost = await page.goto(`http://localhost:${port}/`);
check('a wrong Host (localhost) is refused', wrongHost?.status() === 403 && /only at its own address/.test(await page.textContent('body')), wrongHost?.status());

// The person's own page (janee approvals --open), in the same browser.
await page.goto(PERSON_LINK);
check("the person's link opens the whole page", /Active leases/.test(await page.textContent('main')));
const third = ask('Read issues for triage', ['issues:read'], 900);
const e3 = await waitFor(() => links[2], 15000);
await page.reload();
const csrf = await page.getAttribute('input[name=csrf]', 'value');
const personOrigin = new URL(PERSON_LINK).origin;
// A page of another origin (another port of 127.0.0.1: the same site,
// so the SameSite=Strict cookie goes along) posts a well-formed form,
// with the person's own CSRF token, to janee.
const evil = createServer((req, res) => {
	res.setHeader('content-type', 'text/html');
	res.end(`<!doctype html><form method="post" action="${personOrigin}/approve">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="lease" value="${e3.elicitationId}">
<button id="go">Win a prize</button></form>`);
});
await new Promise((r) => evil.listen(0, '127.0.0.1', r));
await page.goto(`http://127.0.0.1:${evil.address().port}/`);
const [evilAnswer] = await Promise.all([page.waitForNavigation(), page.click('#go')]);
check('a page from another origin posting to janee is refused', evilAnswer?.status() === 403 && /another origin/.test(await page.textContent('body')), evilAnswer?.status());
check('and the request still waits', (await leaseState(e3.elicitationId)) === 'requested');
evil.close();

// --- 4. a session grant, then revoke an active lease ------------------------
await page.goto(`${personOrigin}/`);
const req3 = page.locator(`article#${e3.elicitationId}`);
await req3.locator('select[name=grant]').selectOption('15m');
await Promise.all([page.waitForNavigation(), req3.locator('button.ok').click()]);
const r3 = await third;
check("approved with a session grant on the person's page", !r3.isError && /session grant grt_/.test(await page.textContent('main')), show(r3));
const r4 = await ask('Read issues again', ['issues:read'], 600);
check("the session's narrower request is approved without asking", !r4.isError && links.length === 3, show(r4));
await page.reload();
check('the page lists the grant and the active leases', (await page.locator('form[action="/revoke-grant"]').count()) === 1 && (await page.locator('form[action="/revoke"]').count()) >= 3);
if (SHOTS) await page.screenshot({ path: join(SHOTS, 'approval-page-leases.png'), fullPage: true });
check("lease 1's token is live before the revocation", tokenLive(PROV, r1.structuredContent.token));
const row = page.locator('tr', { has: page.locator(`code:text-is("${lease1}")`) });
await Promise.all([page.waitForNavigation(), row.locator('button').click()]);
check('revoke an active lease in the browser', (await leaseState(lease1)) === 'revoked' && /Revoked lse_/.test(await page.textContent('main')));
check('its token is revoked at the provider', !tokenLive(PROV, r1.structuredContent.token));
const html = await page.content();
check('no token appears on the page', tokens.length >= 3 && !tokens.some((t) => html.includes(t)));

await client.close();
await ctx.close();
writeFileSync(join(TMP, 'tokens'), tokens.join('\n') + '\n');
process.exit(failed() ? 1 : 0);
