// Helpers shared by the MCP client scenarios (tests/mcp/*.mjs): TAP-like
// "ok - NAME" / "not ok - NAME" lines, running the janee CLI as a second
// process (a person at a terminal), and the test provider's side (one
// file per live token in its state_dir, named by the token's SHA-256).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const JANEE = need('JANEE'); // tests/janee-test
export const TMP = need('TMP'); // the test script's scratch directory

function need(name) {
	const v = process.env[name];
	if (!v) {
		console.log(`not ok - ${name} is set in the environment`);
		process.exit(1);
	}
	return v;
}

let failures = 0;

export function ok(name) {
	console.log(`ok - ${name}`);
}

export function notOk(name, detail) {
	failures++;
	console.log(`not ok - ${name}`);
	if (detail !== undefined)
		for (const line of String(detail).split('\n'))
			console.error(`  ${line}`);
}

// check(NAME, COND, DETAIL): DETAIL (a value or a function giving one) is
// printed on stderr when COND is false.
export function check(name, cond, detail) {
	if (cond) ok(name);
	else notOk(name, typeof detail === 'function' ? detail() : detail);
	return !!cond;
}

export function failed() {
	return failures;
}

// The environment for janee: everything this process has (the SDK's
// StdioClientTransport passes only a handful of variables unless told).
export function janeeEnv(extra = {}) {
	const env = {};
	for (const [k, v] of Object.entries(process.env))
		if (typeof v === 'string') env[k] = v;
	return { ...env, ...extra };
}

// Run the janee CLI; resolves to {code, stdout, stderr}, never rejects.
export function janee(args, { env, timeoutMs = 30000 } = {}) {
	return new Promise((resolve) => {
		execFile(
			JANEE,
			args,
			{ env: env ?? janeeEnv(), timeout: timeoutMs, maxBuffer: 1 << 24 },
			(err, stdout, stderr) => {
				const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
				resolve({ code, stdout, stderr });
			},
		);
	});
}

export async function janeeJson(args) {
	const r = await janee(args);
	if (r.code !== 0)
		throw new Error(`janee ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
	return JSON.parse(r.stdout);
}

// The test provider's file for a live token.
export function tokenFile(stateDir, token) {
	return join(stateDir, createHash('sha256').update(token).digest('hex'));
}

export function tokenLive(stateDir, token) {
	return existsSync(tokenFile(stateDir, token));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Poll fn() every intervalMs until it returns a truthy value or timeoutMs
// passes; resolves to that value (or undefined).
export async function waitFor(fn, timeoutMs, intervalMs = 20) {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const v = await fn();
		if (v) return v;
		if (Date.now() >= end) return undefined;
		await sleep(intervalMs);
	}
}

// The text of a tool result's first content item.
export function text(result) {
	return result?.content?.find((c) => c.type === 'text')?.text ?? '';
}
