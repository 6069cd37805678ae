// JWTs for team mode's tests (tests/unit/test-team-auth.c), made with
// jose, not with janee's libjwt:
//   node team-jwt.mjs sign KEY.pem ALG CLAIMS_JSON [KID]  a JWS signed with
//                                                       a PKCS #8 key
//   node team-jwt.mjs none CLAIMS_JSON                   alg "none", unsigned
//   node team-jwt.mjs hmac FILE CLAIMS_JSON              HS256 keyed with
//                                                       FILE's bytes
//   node team-jwt.mjs hmac-dup FILE CLAIMS_JSON          the same, its
//                                                       header naming
//                                                       alg twice
// The token goes to stdout.
import { readFileSync } from 'node:fs';
import { SignJWT, UnsecuredJWT, importPKCS8 } from 'jose';

const [cmd, ...args] = process.argv.slice(2);

async function main() {
	if (cmd === 'sign') {
		const [file, alg, claims, kid] = args;
		const key = await importPKCS8(readFileSync(file, 'utf8'), alg);
		const header = kid ? { alg, kid, typ: 'JWT' } : { alg, typ: 'JWT' };
		return new SignJWT(JSON.parse(claims)).setProtectedHeader(header).sign(key);
	}
	if (cmd === 'none')
		return new UnsecuredJWT(JSON.parse(args[0])).encode();
	if (cmd === 'hmac') {
		const secret = new Uint8Array(readFileSync(args[0]));
		return new SignJWT(JSON.parse(args[1]))
			.setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
			.sign(secret);
	}
	if (cmd === 'hmac-dup') {
		// The header names alg twice: ES256 first (what a first-member
		// reader sees), HS256 last (what libjwt's jansson keeps).
		const { createHmac } = await import('node:crypto');
		const b64 = (s) => Buffer.from(s).toString('base64url');
		const head = b64('{"alg":"ES256","typ":"JWT","alg":"HS256"}');
		const input = `${head}.${b64(args[1])}`;
		const mac = createHmac('sha256', readFileSync(args[0])).update(input).digest('base64url');
		return `${input}.${mac}`;
	}
	throw new Error(`unknown command ${cmd}`);
}

main().then((t) => process.stdout.write(t), (e) => {
	process.stderr.write(`team-jwt.mjs: ${e.message}\n`);
	process.exit(1);
});
