// Benchmark of call_api and janee proxy (issue 15): the latency each adds
// over a direct call to the same local API.  Run by bench/call-api-bench.sh, which sets
//   JANEE       the janee binary (janee serve)
//   JANEE_HOME, HOME  a home whose provider "local" (oauth2, client
//               credentials, auto approval) has "api" rules for GET /ping
//               on the local server of bench/mcp-bench.mjs --token-server
//   LOCAL_API   that server's API base (http://127.0.0.1:PORT/api)
//   BENCH_CALLS, BENCH_WARMUP
// Direct: a keep-alive HTTP client in this process, with a token from
// request_token.  call_api: one JSON line to janee serve and its answer
// (raw pipes, no SDK), janee making the same request.  janee proxy: the
// same keep-alive client sending GET /ping to `janee proxy local` with
// the key.  All measured from this process, with process.hrtime.bigint().
import { spawn } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import { createInterface } from 'node:readline';

const CALLS = Number(process.env.BENCH_CALLS || 1000);
const WARMUP = Number(process.env.BENCH_WARMUP || 50);
const API = process.env.LOCAL_API;
const now = () => Number(process.hrtime.bigint()) / 1e6;
const q = (a, p) => {
	const s = [...a].sort((x, y) => x - y);
	return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
};

const srv = spawn(process.env.JANEE, ['serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
const waiting = new Map();
createInterface({ input: srv.stdout }).on('line', (line) => {
	const m = JSON.parse(line);
	if (m.id !== undefined && waiting.has(m.id)) {
		waiting.get(m.id)(m);
		waiting.delete(m.id);
	}
});
let next = 1;
const rpc = (method, params) =>
	new Promise((resolve) => {
		const id = next++;
		waiting.set(id, resolve);
		srv.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
	});
const tool = (name, args) => rpc('tools/call', { name, arguments: args });

await rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'call-api-bench', version: '1' } });
srv.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');

const tok = (await tool('request_token', { provider: 'local', scopes: ['a:read'], reason: 'bench' })).result.structuredContent.token;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const direct = () =>
	new Promise((resolve, reject) => {
		const r = http.get(`${API}/ping`, { agent, headers: { authorization: `Bearer ${tok}` } }, (res) => {
			res.resume();
			res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`direct: ${res.statusCode}`))));
		});
		r.on('error', reject);
	});
// janee proxy: its URL and key from the lines it prints once.
const px = spawn(process.env.JANEE, ['proxy', 'local', '--scope', 'a:read', '--reason', 'bench'], { stdio: ['ignore', 'pipe', 'inherit'] });
const pxv = {};
await new Promise((resolve) => {
	createInterface({ input: px.stdout }).on('line', (line) => {
		const m = /^(JANEE_PROXY_URL|JANEE_PROXY_KEY)=(.*)$/.exec(line);
		if (m) pxv[m[1]] = m[2];
		if (pxv.JANEE_PROXY_URL && pxv.JANEE_PROXY_KEY) resolve();
	});
});
const pagent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const viaProxy = () =>
	new Promise((resolve, reject) => {
		const r = http.get(`${pxv.JANEE_PROXY_URL}/ping`, { agent: pagent, headers: { 'janee-proxy-key': pxv.JANEE_PROXY_KEY } }, (res) => {
			res.resume();
			res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`proxy: ${res.statusCode}`))));
		});
		r.on('error', reject);
	});
const viaJanee = async () => {
	const m = await tool('call_api', { provider: 'local', method: 'GET', path: '/ping', scopes: ['a:read'], reason: 'bench' });
	if (m.result?.structuredContent?.status !== 200) throw new Error(`call_api: ${JSON.stringify(m).slice(0, 400)}`);
};

async function measure(fn) {
	for (let i = 0; i < WARMUP; i++) await fn();
	const t = [];
	for (let i = 0; i < CALLS; i++) {
		const t0 = now();
		await fn();
		t.push(now() - t0);
	}
	return t;
}
// Interleaved halves, so that a slow spell of the machine hits both.
const d1 = await measure(direct), c1 = await measure(viaJanee), p1 = await measure(viaProxy);
const d2 = await measure(direct), c2 = await measure(viaJanee), p2 = await measure(viaProxy);
const d = [...d1, ...d2], c = [...c1, ...c2], p = [...p1, ...p2];
const f = (x) => x.toFixed(3);
console.log(`machine: ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}, ${os.platform()} ${os.release()}, node ${process.version}`);
console.log(`calls: ${d.length} each, ${WARMUP} warm-up per half`);
console.log('                 p50 ms   p90 ms   p99 ms');
console.log(`direct         ${f(q(d, 0.5)).padStart(8)} ${f(q(d, 0.9)).padStart(8)} ${f(q(d, 0.99)).padStart(8)}`);
console.log(`call_api       ${f(q(c, 0.5)).padStart(8)} ${f(q(c, 0.9)).padStart(8)} ${f(q(c, 0.99)).padStart(8)}`);
console.log(`janee proxy    ${f(q(p, 0.5)).padStart(8)} ${f(q(p, 0.9)).padStart(8)} ${f(q(p, 0.99)).padStart(8)}`);
console.log(`added at p50   ${f(q(c, 0.5) - q(d, 0.5)).padStart(8)}   call_api (target: at most 1 ms)`);
console.log(`added at p50   ${f(q(p, 0.5) - q(d, 0.5)).padStart(8)}   janee proxy (target: at most 1 ms)`);
px.kill('SIGTERM');
await new Promise((r) => px.once('exit', r));
srv.stdin.end();
agent.destroy();
pagent.destroy();
await new Promise((r) => srv.once('exit', r));
