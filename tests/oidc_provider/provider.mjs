// node-oidc-provider on loopback for keybound's interop tests (tests/oidc_provider.rs).
//
//   node provider.mjs '<json configuration>'
//
// Listens on 127.0.0.1 (a free port unless `port` is given), prints `READY <issuer>` on stdout,
// and runs until killed or until its stdin closes. See README.md for the configuration and the
// admin routes.
import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider from 'oidc-provider';
// Not part of the documented API (the version is pinned): one in-memory store shared by every
// Provider instance this process builds, so state survives a key rotation.
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';

const config = {
  port: 0,
  alg: 'RS256',
  accessTokenTTL: 3600,
  requireNonce: false,
  jwksMaxAge: null,
  pkjwtJwks: null,
  encryptTo: null,
  encryptEnc: 'A256GCM',
  ...JSON.parse(process.argv[2] ?? '{}'),
};

const API = 'https://api.example.test/';
const OPAQUE_API = 'https://opaque.example.test/';
const SCOPES = 'api:read api:write';

// Several keys, as providers publish them: the configured `alg` picks the signer (the first key
// that fits it), the rest are published too; the encryption key must be skipped by verifiers.
const KEY_TYPES = {
  RSA: ['rsa', { modulusLength: 2048 }],
  EC: ['ec', { namedCurve: 'P-256' }],
  OKP: ['ed25519', {}],
};
const signerKty = { RS256: 'RSA', PS256: 'RSA', ES256: 'EC', EdDSA: 'OKP', Ed25519: 'OKP' }[config.alg];
if (!signerKty) throw new Error(`unsupported alg ${config.alg}`);

function newKey(kty, extra = {}) {
  const { privateKey } = crypto.generateKeyPairSync(...KEY_TYPES[kty]);
  return { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), ...extra };
}

const isSigner = (key) => key.kty === signerKty && key.use !== 'enc';
const sig = { use: 'sig' };
let keys = [newKey('RSA', sig), newKey('EC', sig), newKey('OKP', sig), newKey('RSA', { use: 'enc' })];
keys.sort((a, b) => isSigner(b) - isSigner(a)); // the signer first

const clients = [
  {
    // client_secret_basic: the id and secret need form-encoding (RFC 6749 §2.3.1).
    client_id: 'cs basic:1',
    client_secret: 's3cr3t:with%chars+',
    token_endpoint_auth_method: 'client_secret_basic',
  },
  { client_id: 'cs-post', client_secret: 'post-secret', token_endpoint_auth_method: 'client_secret_post' },
  ...(config.pkjwtJwks
    ? [{ client_id: 'pkjwt', token_endpoint_auth_method: 'private_key_jwt', jwks: config.pkjwtJwks }]
    : []),
  {
    // A public client: authorization_code with PKCE; its refresh tokens are DPoP-bound.
    client_id: 'public',
    token_endpoint_auth_method: 'none',
    application_type: 'native',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/cb'],
  },
].map((client) => ({
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  dpop_bound_access_tokens: true,
  ...client,
}));

const adapter = createMemoryAdapter();
const nonceSecret = crypto.randomBytes(32);
const cookieKeys = [crypto.randomBytes(32).toString('base64url')];

function makeProvider(issuer) {
  const provider = new Provider(issuer, {
    adapter,
    clients,
    jwks: { keys },
    cookies: { keys: cookieKeys },
    enabledJWA: {
      dPoPSigningAlgValues: ['ES256', 'ES384', 'ES512', 'PS256', 'RS256', 'Ed25519', 'EdDSA'],
    },
    features: {
      devInteractions: { enabled: false },
      dPoP: { enabled: true, nonceSecret, requireNonce: () => config.requireNonce },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
      // Needed for the `use: enc` key to be accepted in `jwks`.
      encryption: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API,
        useGrantedResource: () => true,
        getResourceServerInfo(ctx, resource) {
          const common = { scope: SCOPES, accessTokenTTL: config.accessTokenTTL };
          if (resource === API) {
            const jwt = { sign: { alg: config.alg } };
            if (config.encryptTo) {
              // The resource server's public encryption JWK: nested JWTs (signed, then encrypted).
              jwt.encrypt = {
                alg: config.encryptTo.alg,
                enc: config.encryptEnc,
                kid: config.encryptTo.kid,
                key: crypto.createPublicKey({ key: config.encryptTo, format: 'jwk' }),
              };
            }
            return { ...common, accessTokenFormat: 'jwt', jwt };
          }
          if (resource === OPAQUE_API) return { ...common, accessTokenFormat: 'opaque' };
          throw new Provider.errors.InvalidTarget();
        },
      },
    },
    issueRefreshToken: (ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  });

  // Auto-approving interactions: alice logs in and consents to whatever was asked.
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'GET' || !ctx.path.startsWith('/interaction/')) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const { prompt, params } = details;
    let result;
    if (prompt.name === 'login') {
      result = { login: { accountId: 'alice' } };
    } else {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
      if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
      for (const [resource, scope] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
        grant.addResourceScope(resource, scope.join(' '));
      }
      result = { consent: { grantId: await grant.save() } };
    }
    ctx.respond = false;
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  });

  // Every refusal goes to stderr with its internal detail (the harness shows it on failures).
  for (const event of ['grant.error', 'authorization.error', 'introspection.error', 'revocation.error', 'server_error']) {
    provider.on(event, (ctx, error) => console.error(`${event}: ${error.message} (${error.error_detail ?? ''})`));
  }

  // The JWKS response's caching, as the test configures it.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/jwks' && config.jwksMaxAge !== null) {
      ctx.set('Cache-Control', `max-age=${config.jwksMaxAge}`);
    }
  });
  return provider;
}

// Admin routes (the server only listens on loopback). Each rebuilds the provider with the new key
// list, the way a deployment reloads with a new JWKS; state (grants, refresh tokens, replay
// records) lives in the shared in-memory adapter and survives.
const admin = {
  // A new signing key goes first (and is used from now on); the old ones stay published.
  rotate() {
    keys = [newKey(signerKty, sig), ...keys];
  },
  // Only the current signing key of its type stays; the keys it replaced are withdrawn.
  retire() {
    keys = keys.filter((key, i) => i === 0 || !isSigner(key));
  },
  // `?seconds=N` sets `Cache-Control: max-age=N` on /jwks (absent: no header).
  'jwks-max-age'(url) {
    const seconds = url.searchParams.get('seconds');
    config.jwksMaxAge = seconds === null ? null : Number(seconds);
  },
};

let current;
const server = http.createServer((req, res) => {
  const url = new URL(req.url, issuer);
  const action = url.pathname.startsWith('/__admin/') && admin[url.pathname.slice(9)];
  if (!action) return current(req, res);
  if (req.method !== 'POST') {
    res.writeHead(405).end();
    return undefined;
  }
  action(url);
  current = makeProvider(issuer).callback();
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ signingKid: keys[0].kid, kids: keys.map((key) => key.kid) }));
  return undefined;
});

let issuer;
server.listen(config.port, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  current = makeProvider(issuer).callback();
  console.log(`READY ${issuer}`);
});

// The harness holds our stdin open: when it goes away (even without killing us), so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
