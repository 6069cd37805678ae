// Durable leases per second through `janee serve --http` (issue 18,
// item 4): AGENTS concurrent MCP sessions over Streamable HTTP (protocol
// 2025-11-25), each calling request_token in a loop with auto approval
// against the test provider, until LEASES leases are issued in all.
// Run by bench/team-bench.sh, which starts janee and sets:
//
//   JANEE_URL      the MCP endpoint (http://127.0.0.1:PORT/mcp)
//   BENCH_AGENTS   concurrent sessions (default 16)
//   BENCH_LEASES   leases in all (default 2000)
//
// The harness speaks HTTP/1.1 with a keep-alive agent per session and
// no SDK, so its own cost stays small.  Each call's latency is from the
// POST to the last byte of its JSON answer.  Prints one table.
import http from 'node:http';

const URL_ = new URL(process.env.JANEE_URL);
const AGENTS = Number(process.env.BENCH_AGENTS || 16);
const LEASES = Number(process.env.BENCH_LEASES || 2000);
const VERSION = '2025-11-25';

function post(agent, headers, msg) {
	return new Promise((resolve, reject) => {
		const body = JSON.stringify(msg);
		const rq = http.request(
			{
				host: URL_.hostname,
				port: URL_.port,
				path: URL_.pathname,
				method: 'POST',
				agent,
				headers: {
					'Content-Type': 'application/json',
					Accept: 'application/json, text/event-stream',
					'Content-Length': Buffer.byteLength(body),
					...headers,
				},
			},
			(rs) => {
				let text = '';
				rs.setEncoding('utf8');
				rs.on('data', (d) => (text += d));
				rs.on('end', () => resolve({ status: rs.statusCode, headers: rs.headers, text }));
			},
		);
		rq.on('error', reject);
		rq.end(body);
	});
}

// The answer's JSON-RPC message: the body, or the SSE event that holds it.
function message(r) {
	if ((r.headers['content-type'] || '').startsWith('text/event-stream')) {
		const data = r.text
			.split('\n')
			.filter((l) => l.startsWith('data:'))
			.map((l) => l.slice(5).trim());
		return JSON.parse(data[data.length - 1]);
	}
	return JSON.parse(r.text);
}

async function open(n) {
	const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
	const r = await post(agent, {}, {
		jsonrpc: '2.0',
		id: 1,
		method: 'initialize',
		params: { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: `team-bench-${n}`, version: '1' } },
	});
	const sid = r.headers['mcp-session-id'];
	if (r.status !== 200 || !sid) throw new Error(`initialize: ${r.status} ${r.text.slice(0, 200)}`);
	const h = { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': VERSION };
	const n2 = await post(agent, h, { jsonrpc: '2.0', method: 'notifications/initialized' });
	if (n2.status !== 202) throw new Error(`notifications/initialized: ${n2.status}`);
	return { agent, h, id: 2 };
}

let left = LEASES;
const lat = [];
async function run(s) {
	while (left > 0) {
		left--;
		const t0 = process.hrtime.bigint();
		const r = await post(s.agent, s.h, {
			jsonrpc: '2.0',
			id: s.id++,
			method: 'tools/call',
			params: {
				name: 'request_token',
				arguments: { provider: 't', scopes: ['read'], ttl_seconds: 3600, reason: 'team-bench' },
			},
		});
		const dt = Number(process.hrtime.bigint() - t0) / 1e6;
		const m = message(r);
		if (r.status !== 200 || m.result?.isError !== false)
			throw new Error(`request_token: ${r.status} ${r.text.slice(0, 300)}`);
		lat.push(dt);
	}
}

const sessions = [];
for (let i = 0; i < AGENTS; i++) sessions.push(await open(i));
const t0 = process.hrtime.bigint();
await Promise.all(sessions.map(run));
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2);
console.log(`sessions ${AGENTS}, leases ${lat.length}, wall ${wall.toFixed(2)} s`);
console.log(`leases per second ${(lat.length / wall).toFixed(0)}`);
console.log(`request_token latency ms: p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} max ${lat[lat.length - 1].toFixed(2)}`);
for (const s of sessions) s.agent.destroy();
