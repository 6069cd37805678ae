// Loopback OAuth 2.0 / OpenID Connect authorization server for janee's
// integration tests, built on oidc-provider (see tests/peers/README.md).
//
//   node oidc-server.mjs --cert FILE --key FILE --port-file FILE
//        [--device-ttl SECONDS] [--access-ttl SECONDS] [--parent-pid PID]
//
// Listens with HTTPS on 127.0.0.1, on a port chosen by the kernel, and
// writes that port to --port-file once it accepts connections.  The
// issuer is https://127.0.0.1:PORT.  Everything is kept in memory: a
// restart forgets every grant and token.  Logs go to stderr; SIGTERM and
// SIGINT stop it cleanly; so does the end of --parent-pid (a safety net
// for test scripts killed before their EXIT trap could run).

// Secrets seen here go to the suite-wide leak sweep (see the module).
import '../fixtures/leak-record.mjs';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';

import Provider, { errors } from 'oidc-provider';

const USAGE = 'usage: oidc-server.mjs --cert FILE --key FILE --port-file FILE '
  + '[--device-ttl SECONDS] [--access-ttl SECONDS] [--parent-pid PID]';

function log(...args) {
  process.stderr.write(`oidc-server: ${args.join(' ')}\n`);
}

function die(msg) {
  log(msg);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { deviceTtl: 600, accessTtl: 3600 };
  const names = {
    '--cert': 'cert',
    '--key': 'key',
    '--port-file': 'portFile',
    '--device-ttl': 'deviceTtl',
    '--access-ttl': 'accessTtl',
    '--parent-pid': 'parentPid',
  };
  for (let i = 0; i < argv.length; i += 1) {
    const name = names[argv[i]];
    if (!name) die(`unknown argument ${argv[i]}\n${USAGE}`);
    if (i + 1 >= argv.length) die(`${argv[i]} needs a value\n${USAGE}`);
    opts[name] = argv[i + 1];
    i += 1;
  }
  for (const need of ['cert', 'key', 'portFile']) {
    if (!opts[need]) die(USAGE);
  }
  for (const n of ['deviceTtl', 'accessTtl', 'parentPid']) {
    if (opts[n] === undefined) continue;
    const v = Number(opts[n]);
    if (!Number.isInteger(v) || v < 1) die(`${n} must be a positive integer`);
    opts[n] = v;
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// The API scopes the tests use.  They belong to a single resource server
// (the default resource below), which is what makes oidc-provider put them
// into access tokens; openid and offline_access stay OIDC scopes.
const API_SCOPES = ['issues:read', 'issues:write', 'contents:read'];
const OIDC_SCOPES = ['openid', 'offline_access'];
const API_GRANTS = ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'];

const clients = [
  {
    client_id: 'janee-public',
    token_endpoint_auth_method: 'none',
    grant_types: API_GRANTS,
  },
  {
    client_id: 'janee-basic',
    client_secret: 'basic-secret-0123456789abcdef',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [...API_GRANTS, 'client_credentials'],
  },
  {
    client_id: 'janee-post',
    client_secret: 'post-secret-0123456789abcdef',
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: [...API_GRANTS, 'client_credentials'],
  },
].map((c) => ({
  response_types: [],
  redirect_uris: [],
  ...c,
}));

const AUTH_METHODS = new Map(clients.map((c) => [c.client_id, c.token_endpoint_auth_method]));
const CLIENT_AUTH_PATHS = new Set(['/token', '/token/introspection', '/token/revocation', '/device/auth']);
const BODY_LIMIT = 64 * 1024;

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new errors.InvalidRequest('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function formDecode(v) {
  try {
    return decodeURIComponent(v.replace(/\+/g, ' '));
  } catch {
    return v;
  }
}

// Which client authentication method a request used, and for which client.
function usedAuthMethod(authorization, form) {
  const m = /^basic\s+(\S+)$/i.exec(authorization || '');
  if (m) {
    const pair = Buffer.from(m[1], 'base64').toString('utf8');
    const i = pair.indexOf(':');
    if (i < 0) return undefined;
    return { clientId: formDecode(pair.slice(0, i)), method: 'client_secret_basic' };
  }
  if (form.has('client_secret')) {
    return { clientId: form.get('client_id'), method: 'client_secret_post' };
  }
  return undefined;
}

// Minimal, machine-friendly device pages.  Each carries a stable marker
// (data-janee-page / data-janee-error) so a test can tell the outcome
// without a browser; oidc-provider answers 200 for these re-rendered errors.
function page(kind, title, body, err) {
  const marker = err ? ` data-janee-error="${err}"` : '';
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${title}</title></head>
<body data-janee-page="${kind}"${marker}>
<h1>${title}</h1>
${body}
</body></html>
`;
}

async function userCodeInputSource(ctx, form, out, err) {
  let msg = '<p>Enter the code displayed on your device</p>';
  let code;
  if (err) {
    code = err.name || 'error';
    const text = err.error_description || err.message || 'error';
    msg = `<p class="error">${code}: ${String(text).replace(/[<>&"]/g, '')}</p>`;
  }
  ctx.body = page('device-input', 'Device sign-in', `${msg}
${form}
<button type="submit" form="op.deviceInputForm">Continue</button>`, code);
}

async function userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
  ctx.body = page('device-confirm', 'Confirm device', `<p>Client <strong>${client.clientId}</strong> asks for access with code <code>${userCode}</code>.</p>
${form}
<button type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">Abort</button>`);
}

async function successSource(ctx) {
  ctx.body = page('device-success', 'Sign-in success', '<p>You can close this page.</p>');
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  const e = String(out.error || 'error').replace(/[<>&"]/g, '');
  const d = String(out.error_description || '').replace(/[<>&"]/g, '');
  ctx.body = page('error', 'Error', `<p>${e}: ${d}</p>`, e);
}

// A fresh signing key per run: nothing here outlives the process.
const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-es256', use: 'sig', alg: 'ES256' };

const server = https.createServer({
  cert: fs.readFileSync(opts.cert),
  key: fs.readFileSync(opts.key),
});

server.on('error', (e) => die(`server error: ${e.message}`));

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `https://127.0.0.1:${port}`;
  // The resource server that owns the API scopes.  Its identifier only has
  // to be an absolute URI; it shows up as "aud" in introspection.
  const RESOURCE = `${issuer}/api`;

  const configuration = {
    clients,
    // The only signing key is ES256 (cheap to make at start-up).
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    jwks: { keys: [jwk] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    scopes: OIDC_SCOPES,
    claims: { openid: ['sub'] },
    async findAccount(ctx, id) {
      // Any login name is an account.
      return { accountId: id, async claims() { return { sub: id }; } };
    },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: {
        enabled: true,
        userCodeInputSource,
        userCodeConfirmSource,
        successSource,
      },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Any authenticated confidential client may introspect any token
        // (the tests use janee-basic to look at janee-public's tokens);
        // public clients only their own.
        async allowedPolicy(ctx, client, token) {
          if (client.clientAuthMethod === 'none') return token.clientId === client.clientId;
          return true;
        },
      },
      revocation: {
        enabled: true,
        // RFC 7009: a client may revoke only its own tokens.  For another
        // client's token answer 200 without revoking (the library default
        // is a 400 invalid_request for confidential callers).
        async allowedPolicy(ctx, client, token) {
          return token.clientId === client.clientId;
        },
      },
      resourceIndicators: {
        enabled: true,
        // Every request without an explicit "resource" targets the API.
        async defaultResource() { return RESOURCE; },
        // ...including token requests that redeem an existing grant
        // (device code, refresh token), even when openid is in scope.
        async useGrantedResource() { return true; },
        async getResourceServerInfo(ctx, resourceIndicator) {
          if (resourceIndicator !== RESOURCE) {
            throw new errors.InvalidTarget();
          }
          return {
            scope: API_SCOPES.join(' '),
            audience: RESOURCE,
            accessTokenFormat: 'opaque',
            accessTokenTTL: opts.accessTtl,
          };
        },
      },
    },
    // Every device-code grant of a client allowed to refresh gets a
    // refresh token, with or without offline_access.
    async issueRefreshToken(ctx, client) {
      return client.grantTypeAllowed('refresh_token');
    },
    // Tokens do not die with the (cookie) session of whoever approved.
    async expiresWithSession() { return false; },
    rotateRefreshToken: true,
    ttl: {
      AccessToken: opts.accessTtl,
      ClientCredentials: opts.accessTtl,
      DeviceCode: opts.deviceTtl,
      Grant: 14 * 24 * 3600,
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
    },
    renderError,
  };

  let provider;
  try {
    provider = new Provider(issuer, configuration);
  } catch (e) {
    die(`configuration error: ${e.message}`);
  }

  for (const ev of ['server_error', 'grant.error', 'introspection.error',
    'revocation.error', 'device_authorization.error', 'code_verification.error']) {
    provider.on(ev, (ctx, err) => log(`${ev}: ${err?.name} ${err?.message}`));
  }
  provider.on('grant.success', (ctx) => log(`grant.success ${ctx.oidc.params.grant_type} client=${ctx.oidc.client?.clientId}`));

  // oidc-provider lets a client_secret_basic client send its secret in
  // the body and a client_secret_post client use HTTP Basic.  Be strict
  // instead, so that the tests prove a client uses its registered method:
  // read the form here (oidc-provider then takes it from req.body) and
  // refuse a mismatch with 401 invalid_client.
  provider.use(async (ctx, next) => {
    if (ctx.method === 'POST' && CLIENT_AUTH_PATHS.has(ctx.path)
      && ctx.is('application/x-www-form-urlencoded')) {
      const raw = await readBody(ctx.req);
      ctx.req.body = raw;
      const used = usedAuthMethod(ctx.get('authorization'), new URLSearchParams(raw));
      const registered = used && AUTH_METHODS.get(used.clientId);
      if (registered && registered !== 'none' && registered !== used.method) {
        log(`refused ${used.method} for ${used.clientId} (registered: ${registered})`);
        ctx.status = 401;
        if (used.method === 'client_secret_basic') ctx.set('WWW-Authenticate', 'Basic realm="janee-test"');
        ctx.set('Cache-Control', 'no-store');
        ctx.body = {
          error: 'invalid_client',
          error_description: `client ${used.clientId} must authenticate with ${registered}, not ${used.method}`,
        };
        return;
      }
    }
    await next();
  });

  // Discovery lists only the OIDC scopes by itself; add the API scopes so
  // that scopes_supported names everything a client may ask for.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'discovery' && Array.isArray(ctx.body?.scopes_supported)) {
      ctx.body.scopes_supported = [...new Set([...ctx.body.scopes_supported, ...API_SCOPES])];
    }
  });

  server.on('request', provider.callback());

  // Write the port atomically, and only now that requests are served.
  const tmp = path.join(path.dirname(opts.portFile), `.${path.basename(opts.portFile)}.${process.pid}`);
  fs.writeFileSync(tmp, `${port}\n`);
  fs.renameSync(tmp, opts.portFile);
  log(`listening, issuer ${issuer}, device ttl ${opts.deviceTtl}s, access ttl ${opts.accessTtl}s`);
});

let stopping = false;
function shutdown(sig) {
  if (stopping) return;
  stopping = true;
  log(`${sig}: shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

if (opts.parentPid) {
  setInterval(() => {
    try {
      process.kill(opts.parentPid, 0);
    } catch (e) {
      if (e.code === 'ESRCH') shutdown(`parent ${opts.parentPid} gone`);
    }
  }, 1000).unref();
}
