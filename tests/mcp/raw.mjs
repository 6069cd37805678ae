// A raw stdio session with `janee serve`: write any bytes, read the
// newline-delimited JSON-RPC messages it answers, one at a time.  For the
// protocol tests, where the SDK would refuse to send what we send.
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

import { JANEE, janeeEnv } from './common.mjs';

export class Raw {
	constructor({ args = ['serve'], env = {} } = {}) {
		this.proc = spawn(JANEE, args, {
			env: janeeEnv(env),
			stdio: ['pipe', 'pipe', 'pipe'],
		});
		this.queue = [];
		this.waiters = [];
		this.stdoutLines = []; // everything janee wrote to stdout
		this.notJson = []; // stdout lines that are not JSON-RPC messages
		this.stderr = '';
		this.pid = this.proc.pid;
		this.stdoutBytes = []; // as written, to check the encoding
		const dec = new StringDecoder('utf8');
		let rest = '';
		this.proc.stdout.on('data', (b) => {
			this.stdoutBytes.push(b);
			rest += dec.write(b);
			let i;
			while ((i = rest.indexOf('\n')) >= 0) {
				const line = rest.slice(0, i);
				rest = rest.slice(i + 1);
				this.stdoutLines.push(line);
				let msg;
				try {
					msg = JSON.parse(line);
				} catch {
					this.notJson.push(line);
					continue;
				}
				if (msg?.jsonrpc !== '2.0') this.notJson.push(line);
				this.deliver(msg);
			}
		});
		this.proc.stderr.setEncoding('utf8');
		this.proc.stderr.on('data', (d) => (this.stderr += d));
		this.proc.stdin.on('error', () => {}); // EPIPE once it is gone
		this.exited = new Promise((resolve) =>
			this.proc.once('exit', (code, signal) => resolve((this.exit = { code, signal }))),
		);
	}

	deliver(msg) {
		const w = this.waiters.findIndex((x) => x.pred(msg));
		if (w >= 0) {
			const [x] = this.waiters.splice(w, 1);
			clearTimeout(x.timer);
			x.resolve(msg);
		} else this.queue.push(msg);
	}

	// Write a message: an object (one line), a string (a newline is added)
	// or a Buffer (written as is).
	send(m) {
		if (Buffer.isBuffer(m)) this.proc.stdin.write(m);
		else this.proc.stdin.write((typeof m === 'string' ? m : JSON.stringify(m)) + '\n');
	}

	// The next message matching pred (any message by default), or
	// undefined after timeoutMs.
	next(pred = () => true, timeoutMs = 5000) {
		const i = this.queue.findIndex(pred);
		if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]);
		return new Promise((resolve) => {
			const x = { pred, resolve };
			x.timer = setTimeout(() => {
				this.waiters.splice(this.waiters.indexOf(x), 1);
				resolve(undefined);
			}, timeoutMs);
			this.waiters.push(x);
		});
	}

	// Send a request and wait for the answer with its id.
	async request(msg, timeoutMs = 5000) {
		this.send(msg);
		return this.next((m) => m.id === msg.id && ('result' in m || 'error' in m), timeoutMs);
	}

	async initialize(caps = {}, version = '2025-11-25', id = 'init') {
		const r = await this.request({
			jsonrpc: '2.0',
			id,
			method: 'initialize',
			params: {
				protocolVersion: version,
				capabilities: caps,
				clientInfo: { name: 'raw-client', version: '0.1' },
			},
		});
		this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
		return r;
	}

	// Whether everything janee wrote to stdout is valid UTF-8.
	stdoutIsUtf8() {
		try {
			new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(this.stdoutBytes));
			return true;
		} catch {
			return false;
		}
	}

	// Messages that are queued and not yet taken.
	pending() {
		return this.queue.splice(0);
	}

	close() {
		this.proc.stdin.end();
		return this.exited;
	}

	kill(sig = 'SIGTERM') {
		this.proc.kill(sig);
		return this.exited;
	}
}

export const rpc = (id, method, params) =>
	params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
