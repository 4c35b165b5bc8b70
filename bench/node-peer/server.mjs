// node-oidc-provider as the benchmark's token variants are: client "bench"/"secret" (client_secret_basic),
// client_credentials, scope api1, a JWT access token for audience api1 signed RS256 with the shared key.
// For the code and refresh variants: client "bench-web"/"secret" (authorization_code with PKCE, refresh_token,
// rotated on every use) and one account "alice"; POST /bench/seed?kind=refresh|code&count=N creates N grants
// with a refresh token or an authorization code each, through the provider's own models, and answers their
// values, one a line.
// Usage: node server.mjs <port> <key.pem>
import { readFileSync } from 'node:fs';
import { createHash, createPrivateKey } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';
// The provider's own memory adapter, over its own LRU with room for the pools: the default store holds 1,000
// entries and would evict seeded grants before they are used.
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';

const [port, keyPath] = process.argv.slice(2);
const jwk = createPrivateKey(readFileSync(keyPath)).export({ format: 'jwk' });
const resource = 'urn:castellan:bench:api1';
const redirectUri = 'http://127.0.0.1/cb';
const codeVerifier = 'bench-verifier-0123456789-abcdefghijklmnopqrstuvwxyz';
const codeChallenge = createHash('sha256').update(codeVerifier).digest('base64url');
const store = new LRU({ maxSize: 10_000_000 });

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'bench',
    client_secret: 'secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'api1',
  }, {
    client_id: 'bench-web',
    client_secret: 'secret',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid offline_access api1',
  }],
  adapter: (model) => new MemoryAdapter(model, store),
  findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  // As Castellan's OneTimeOnly: every refresh consumes the token and issues a new one.
  rotateRefreshToken: true,
  jwks: { keys: [{ ...jwk, kid: 'bench-rsa', alg: 'RS256', use: 'sig' }] },
  scopes: ['openid', 'offline_access', 'api1'],
  ttl: {
    ClientCredentials: 3600,
    AccessToken: 3600,
    AuthorizationCode: 600,
    IdToken: 300,
    RefreshToken: 30 * 24 * 3600,
    Grant: 30 * 24 * 3600,
  },
  routes: { token: '/connect/token' },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // JWT access tokens need a resource server; every request is for the one API, as in the other variants.
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api1',
        audience: 'api1',
        accessTokenFormat: 'jwt',
        accessTokenTTL: 3600,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});

async function seed(kind, count) {
  const client = await provider.Client.find('bench-web');
  const now = Math.floor(Date.now() / 1000);
  const values = [];
  for (let i = 0; i < count; i += 1) {
    const grant = new provider.Grant({ accountId: 'alice', clientId: 'bench-web' });
    grant.addOIDCScope(kind === 'code' ? 'openid offline_access' : 'offline_access');
    grant.addResourceScope(resource, 'api1');
    const grantId = await grant.save();
    const common = {
      accountId: 'alice', client, grantId, resource, authTime: now, amr: ['pwd'], expiresWithSession: false,
    };
    const token = kind === 'code'
      ? new provider.AuthorizationCode({
        ...common, scope: 'openid offline_access api1', redirectUri, codeChallenge, codeChallengeMethod: 'S256', nonce: 'bench-nonce',
      })
      : new provider.RefreshToken({ ...common, scope: 'offline_access api1', gty: 'authorization_code', rotations: 0 });
    values.push(await token.save());
  }
  // The seeding's garbage is not the measured run's to collect (node is started with --expose-gc).
  globalThis.gc?.();
  return values.join('\n') + '\n';
}

const handle = provider.callback();
createServer((req, res) => {
  if (req.url === '/ready') {
    res.end('ok');
    return;
  }
  if (req.method === 'POST' && req.url.startsWith('/bench/seed?')) {
    const query = new URL(req.url, 'http://x').searchParams;
    seed(query.get('kind'), Number(query.get('count'))).then(
      (body) => { res.setHeader('content-type', 'text/plain'); res.end(body); },
      (error) => { res.statusCode = 500; res.end(String(error)); },
    );
    return;
  }
  handle(req, res);
}).listen(Number(port), '127.0.0.1');
