// node-oidc-provider as the benchmark's token variants are: client "bench"/"secret" (client_secret_basic),
// client_credentials, scope api1, a JWT access token for audience api1 signed RS256 with the shared key.
// Usage: node server.mjs <port> <key.pem>
import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const [port, keyPath] = process.argv.slice(2);
const jwk = createPrivateKey(readFileSync(keyPath)).export({ format: 'jwk' });
const resource = 'urn:castellan:bench:api1';

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'bench',
    client_secret: 'secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'api1',
  }],
  jwks: { keys: [{ ...jwk, kid: 'bench-rsa', alg: 'RS256', use: 'sig' }] },
  scopes: ['api1'],
  ttl: { ClientCredentials: 3600 },
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

const handle = provider.callback();
createServer((req, res) => {
  if (req.url === '/ready') {
    res.end('ok');
    return;
  }
  handle(req, res);
}).listen(Number(port), '127.0.0.1');
