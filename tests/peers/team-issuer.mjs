// A token issuer's public half for team mode's tests: RFC 8414 metadata
// and a JWKS (RFC 7517) on 127.0.0.1, the keys made by the openssl
// command, turned into JWKs by jose.
//   node team-issuer.mjs PORTFILE KEYLIST [ISSUER_OVERRIDE]
// KEYLIST holds "PRIVATE_KEY.pem KID ALG" lines and is read again on each
// JWKS request, so a test can add a key (a rollover).  PORTFILE gets
// "PORT PID" once listening.  ISSUER_OVERRIDE: the metadata names that
// issuer instead of its own (a mix-up the client must refuse).
// GET /fetches says how often the JWKS and the metadata were asked for.
import { createServer } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { exportJWK } from 'jose';

const [portFile, keyList, override] = process.argv.slice(2);
let fetches = 0;
let metadata = 0;

async function jwks() {
	const keys = [];
	for (const line of readFileSync(keyList, 'utf8').split('\n')) {
		const [file, kid, alg] = line.trim().split(/\s+/);
		if (!file) continue;
		const jwk = await exportJWK(createPublicKey(readFileSync(file, 'utf8')));
		keys.push({ ...jwk, kid, alg, use: 'sig' });
	}
	return { keys };
}

const server = createServer(async (req, res) => {
	const base = `http://127.0.0.1:${server.address().port}`;
	let body;
	if (req.url === '/.well-known/oauth-authorization-server') {
		metadata++;
		body = { issuer: override || base, jwks_uri: `${base}/jwks` };
	}
	else if (req.url === '/jwks') {
		fetches++;
		body = await jwks();
	} else if (req.url === '/fetches')
		body = { fetches, metadata };
	if (!body) {
		res.writeHead(404).end();
		return;
	}
	res.writeHead(200, { 'content-type': 'application/json' });
	res.end(JSON.stringify(body));
});
server.listen(0, '127.0.0.1', () => {
	writeFileSync(portFile, `${server.address().port} ${process.pid}\n`);
});
