// Benchmark of `janee serve` (issue 6, "Performance"): cold start to the
// tools/list answer, peak RSS, and request_token latency with auto
// approval against a local provider, beside that provider's own round
// trip from the same harness.  Run by bench/mcp-bench.sh, which builds
// janee, makes a home, starts the fake OAuth server and sets:
//
//   JANEE        tests/janee-test (the CLI with the test provider)
//   JANEE_REAL   janee (the binary users run), for the cold start
//   JANEE_HOME, HOME       a home with providers t (test), cc (oauth2,
//                          client credentials, https), cchttp (the same
//                          over plain http to 127.0.0.1)
//   FAKE_HTTPS, FAKE_HTTP  the fake OAuth servers' issuers; FAKE_CA
//   BENCH_COLD, BENCH_CALLS, BENCH_WARMUP   how many runs / calls
//
// The harness talks raw JSON lines over pipes (no SDK), so its own cost
// stays small; the "floor" rows measure it.  Node's clock:
// process.hrtime.bigint().
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';

// bench/mcp-bench.mjs --token-server PORTFILE: a minimal OAuth 2.0
// authorization server for client credentials (RFC 8414 discovery, a
// token endpoint, RFC 7009 revocation) on plain http, 127.0.0.1, with
// TCP_NODELAY, answering each request in one write: "a local provider"
// whose own round trip is as short as loopback allows.  GET /api/ping
// with a token it issued is the API of bench/call-api-bench.mjs.
if (process.argv[2] === '--token-server') {
	const { writeFileSync } = await import('node:fs');
	const { randomBytes } = await import('node:crypto');
	const auth = 'Basic ' + Buffer.from('conf-basic:fake-basic-secret').toString('base64');
	const issued = new Set();
	const server = http.createServer({ noDelay: true, keepAliveTimeout: 60000 }, (req, res) => {
		let body = '';
		req.setEncoding('utf8');
		req.on('data', (d) => (body += d));
		req.on('end', () => {
			const base = `http://127.0.0.1:${server.address().port}`;
			const send = (status, obj) => {
				const b = JSON.stringify(obj);
				res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b), 'cache-control': 'no-store' });
				res.end(b);
			};
			if (req.method === 'GET' && req.url.startsWith('/.well-known/'))
				return send(200, {
					issuer: base,
					token_endpoint: `${base}/token`,
					revocation_endpoint: `${base}/revoke`,
					grant_types_supported: ['client_credentials'],
					token_endpoint_auth_methods_supported: ['client_secret_basic'],
				});
			if (req.method === 'GET' && req.url === '/api/ping')
				return issued.has((req.headers.authorization ?? '').replace(/^Bearer /, ''))
					? send(200, { ok: true })
					: send(401, { error: 'invalid_token' });
			if (req.method !== 'POST') return send(404, { error: 'not_found' });
			if (req.headers.authorization !== auth) return send(401, { error: 'invalid_client' });
			const form = new URLSearchParams(body);
			if (req.url === '/revoke') return send(200, {});
			if (req.url !== '/token') return send(404, { error: 'not_found' });
			if (form.get('grant_type') !== 'client_credentials') return send(400, { error: 'unsupported_grant_type' });
			const at = 'at_' + randomBytes(24).toString('base64url');
			issued.add(at);
			send(200, { access_token: at, token_type: 'Bearer', expires_in: 3600, scope: form.get('scope') ?? '' });
		});
	});
	server.listen(0, '127.0.0.1', () => writeFileSync(process.argv[3], String(server.address().port)));
	process.on('SIGTERM', () => process.exit(0));
	await new Promise(() => {});
}

const env = { ...process.env };
const JANEE = env.JANEE;
const JANEE_REAL = env.JANEE_REAL || JANEE;
const COLD = Number(env.BENCH_COLD || 200);
const CALLS = Number(env.BENCH_CALLS || 1000);
const WARMUP = Number(env.BENCH_WARMUP || 50);
// fake_oauth.py stalls about 40 ms on every reused connection (see
// docs/PERFORMANCE.md): fewer calls there.
const FAKE_CALLS = Number(env.BENCH_FAKE_CALLS || 200);

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const sorted = (a) => [...a].sort((x, y) => x - y);
const q = (a, p) => {
	const s = sorted(a);
	return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
};
const median = (a) => q(a, 0.5);
const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
const f = (x, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '-');

// /proc/PID/status fields in kB.
function procStatus(pid) {
	const out = {};
	try {
		for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
			const m = /^(VmHWM|VmRSS|RssAnon|RssFile|RssShmem):\s+(\d+) kB/.exec(line);
			if (m) out[m[1]] = Number(m[2]);
		}
	} catch {
		/* gone */
	}
	return out;
}

// A child speaking newline-delimited JSON on its stdin/stdout.
class Lines {
	constructor(cmd, args) {
		this.t0 = now();
		this.p = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'ignore'] });
		this.buf = '';
		this.waiting = null;
		this.lines = [];
		this.p.stdout.setEncoding('utf8');
		this.p.stdout.on('data', (d) => {
			this.buf += d;
			let i;
			while ((i = this.buf.indexOf('\n')) >= 0) {
				const line = this.buf.slice(0, i);
				this.buf = this.buf.slice(i + 1);
				if (this.waiting) {
					const w = this.waiting;
					this.waiting = null;
					w(line);
				} else this.lines.push(line);
			}
		});
		this.exited = new Promise((r) => this.p.once('exit', (code) => r(code)));
	}
	next() {
		if (this.lines.length) return Promise.resolve(this.lines.shift());
		return new Promise((r) => (this.waiting = r));
	}
	send(obj) {
		this.p.stdin.write(typeof obj === 'string' ? obj + '\n' : JSON.stringify(obj) + '\n');
	}
	async call(obj) {
		this.send(obj);
		for (;;) {
			const line = await this.next();
			const m = JSON.parse(line);
			if (m.id === obj.id) return m;
		}
	}
	async close() {
		this.p.stdin.end();
		return this.exited;
	}
}

const INIT = {
	jsonrpc: '2.0',
	id: 0,
	method: 'initialize',
	params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'mcp-bench', version: '1' } },
};

// --- the harness's floor: spawn `cat`, one line there and back ----------

async function floor(n) {
	const ms = [];
	for (let i = 0; i < n; i++) {
		const c = new Lines('cat', []);
		c.send('{"x":1}');
		await c.next();
		ms.push(now() - c.t0);
		await c.close();
	}
	return ms;
}

// --- cold start: spawn to the tools/list answer -------------------------

async function cold(bin, n) {
	const toList = [];
	const toInit = [];
	const hwm = [];
	const anon = [];
	for (let i = 0; i < n; i++) {
		const c = new Lines(bin, ['serve']);
		const init = await c.call(INIT);
		const tInit = now();
		if (!init.result) throw new Error(`initialize failed: ${JSON.stringify(init)}`);
		c.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
		const list = await c.call({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
		const t = now();
		if (list.result?.tools?.length !== 4) throw new Error(`tools/list: ${JSON.stringify(list)}`);
		toInit.push(tInit - c.t0);
		toList.push(t - c.t0);
		const st = procStatus(c.p.pid);
		hwm.push(st.VmHWM / 1024);
		anon.push(st.RssAnon / 1024);
		const code = await c.close();
		if (code !== 0) throw new Error(`janee serve exited ${code}`);
	}
	return { toList, toInit, hwm, anon };
}

// --- request_token latency in one session --------------------------------

let nextId = 10;
async function session() {
	const c = new Lines(JANEE, ['serve']);
	await c.call(INIT);
	c.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
	await c.call({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
	return c;
}

async function requestToken(c, provider, scopes) {
	const t0 = now();
	const r = await c.call({
		jsonrpc: '2.0',
		id: nextId++,
		method: 'tools/call',
		params: { name: 'request_token', arguments: { provider, scopes, ttl_seconds: 3600, reason: 'bench' } },
	});
	const dt = now() - t0;
	if (r.result?.isError !== false) throw new Error(`request_token ${provider}: ${JSON.stringify(r).slice(0, 300)}`);
	return dt;
}

// The token endpoint, as a client would find it (RFC 8414 discovery).
async function tokenEndpoint(issuer, ca) {
	const doc = await post(issuer, ca, '/.well-known/oauth-authorization-server', null);
	return JSON.parse(doc.body).token_endpoint;
}

const agents = {};
function post(base, ca, path, body) {
	const u = new URL(path, base);
	const mod = u.protocol === 'https:' ? https : http;
	agents[u.origin] ??= new mod.Agent({ keepAlive: true, maxSockets: 1, ...(ca ? { ca } : {}) });
	return new Promise((resolve, reject) => {
		const req = mod.request(
			u,
			{
				method: body === null ? 'GET' : 'POST',
				agent: agents[u.origin],
				headers:
					body === null
						? {}
						: {
								'content-type': 'application/x-www-form-urlencoded',
								accept: 'application/json',
								authorization: 'Basic ' + Buffer.from('conf-basic:fake-basic-secret').toString('base64'),
								'content-length': Buffer.byteLength(body),
							},
			},
			(res) => {
				let b = '';
				res.setEncoding('utf8');
				res.on('data', (d) => (b += d));
				res.on('end', () => resolve({ status: res.statusCode, body: b }));
			},
		);
		req.on('error', reject);
		if (body !== null) req.write(body);
		req.end();
	});
}

async function rawToken(endpoint, ca) {
	const t0 = now();
	const r = await post(endpoint, ca, endpoint, 'grant_type=client_credentials&scope=a%3Aread');
	const dt = now() - t0;
	if (r.status !== 200 || !JSON.parse(r.body).access_token) throw new Error(`raw POST: ${r.status} ${r.body.slice(0, 200)}`);
	return dt;
}

// Alternate blocks of janee and raw calls, so that drift in the machine's
// load touches both alike.
async function compare(c, provider, scopes, issuer, ca, calls = CALLS) {
	const endpoint = issuer ? await tokenEndpoint(issuer, ca) : null;
	const viaJanee = [];
	const raw = [];
	for (let i = 0; i < WARMUP; i++) {
		await requestToken(c, provider, scopes);
		if (endpoint) await rawToken(endpoint, ca);
	}
	const block = 50;
	for (let done = 0; done < calls; done += block) {
		for (let i = 0; i < block; i++) viaJanee.push(await requestToken(c, provider, scopes));
		if (endpoint) for (let i = 0; i < block; i++) raw.push(await rawToken(endpoint, ca));
	}
	return { viaJanee, raw };
}

// --- run ------------------------------------------------------------------

const load0 = os.loadavg()[0];
const cpus = os.cpus();
console.log(`machine: ${cpus.length} CPUs online, ${cpus[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 1048576)} MiB RAM`);
console.log(`system:  ${os.type()} ${os.release()} ${os.arch()}; node ${process.version}`);
console.log(`runs:    cold start ${COLD} x 2 binaries; request_token ${CALLS} calls per provider (${FAKE_CALLS} against fake_oauth.py) after ${WARMUP} warm-up calls`);
console.log(`load:    ${load0.toFixed(2)} at the start`);

const fl = await floor(COLD);
const coldReal = await cold(JANEE_REAL, COLD);
if (env.BENCH_COLD_ONLY) {
	// Cold start alone, e.g. to compare builds: JANEE_REAL=... BENCH_COLD_ONLY=1
	console.log(`floor ${f(median(fl))} ms; ${JANEE_REAL}: tools/list median ${f(median(coldReal.toList))} ms, p99 ${f(q(coldReal.toList, 0.99))} ms; VmHWM ${f(median(coldReal.hwm), 1)} MiB, RssAnon ${f(median(coldReal.anon), 1)} MiB`);
	process.exit(0);
}
const coldTest = await cold(JANEE, COLD);

const c = await session();
const afterStart = procStatus(c.p.pid);
const ca = env.FAKE_CA ? readFileSync(env.FAKE_CA) : undefined;
const t = await compare(c, 't', ['read'], null, null);
const afterTest = procStatus(c.p.pid);
const loc = env.LOCAL_ISSUER ? await compare(c, 'local', ['a:read'], env.LOCAL_ISSUER, null) : null;
const h = env.FAKE_HTTP ? await compare(c, 'cchttp', ['a:read'], env.FAKE_HTTP, null, FAKE_CALLS) : null;
const s = env.FAKE_HTTPS ? await compare(c, 'cc', ['a:read'], env.FAKE_HTTPS, ca, FAKE_CALLS) : null;
const afterAll = procStatus(c.p.pid);
const code = await c.close();
if (code !== 0) throw new Error(`the session's janee serve exited ${code}`);
const load1 = os.loadavg()[0];

const rows = [];
const row = (what, a, target) => rows.push([what, a.length, f(median(a)), f(q(a, 0.99)), f(mean(a)), target]);
console.log('');
console.log('cold start (ms, from spawn() in node to the answer)          runs   median      p99     mean   target');
row('harness floor: spawn cat, one line echoed', fl, '');
row('janee serve: initialize answered', coldReal.toInit, '');
row('janee serve: tools/list answered', coldReal.toList, '<= 5 ms median');
row('janee-test serve: tools/list answered', coldTest.toList, '');
for (const r of rows) console.log(`${r[0].padEnd(60)} ${String(r[1]).padStart(5)} ${r[2].padStart(8)} ${r[3].padStart(8)} ${r[4].padStart(8)}   ${r[5]}`);

console.log('');
console.log('peak RSS (MiB, /proc/PID/status of janee serve)                VmHWM   RssAnon   target');
const mem = (what, hwmKb, anonKb, target = '') =>
	console.log(`${what.padEnd(60)} ${f(hwmKb / 1024, 1).padStart(8)} ${f(anonKb / 1024, 1).padStart(9)}   ${target}`);
mem('janee serve after tools/list (median of the cold runs)', median(coldReal.hwm) * 1024, median(coldReal.anon) * 1024, '<= 8 MB');
mem('janee-test serve, session after tools/list', afterStart.VmHWM, afterStart.RssAnon);
mem(`janee-test serve, after ${WARMUP + CALLS} request_token (test provider)`, afterTest.VmHWM, afterTest.RssAnon);
mem('janee-test serve, at the end of the session', afterAll.VmHWM, afterAll.RssAnon, '<= 8 MB');

console.log('');
console.log('request_token, auto approval (ms per call, one session)          calls      p50      p99     mean');
const lat = (what, a) => console.log(`${what.padEnd(60)} ${String(a.length).padStart(5)} ${f(median(a)).padStart(8)} ${f(q(a, 0.99)).padStart(8)} ${f(mean(a)).padStart(8)}`);
lat('test provider (no HTTP; mint = write a file)', t.viaJanee);
for (const [name, r] of [
	['oauth2 cc, local node server (http)', loc],
	['oauth2 cc, fake_oauth.py (http)', h],
	['oauth2 cc, fake_oauth.py (https)', s],
]) {
	if (!r) continue;
	lat(`${name}: via janee`, r.viaJanee);
	lat(`${name}: raw POST /token`, r.raw);
	console.log(`${`${name}: janee adds (p50 / p99 / mean)`.padEnd(66)} ${f(median(r.viaJanee) - median(r.raw)).padStart(8)} ${f(q(r.viaJanee, 0.99) - q(r.raw, 0.99)).padStart(8)} ${f(mean(r.viaJanee) - mean(r.raw)).padStart(8)}   target <= 1 ms`);
}
console.log('');
console.log(`load:    ${load1.toFixed(2)} at the end`);
