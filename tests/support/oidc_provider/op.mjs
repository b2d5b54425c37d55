// Test harness: a real OpenID Provider (panva/oidc-provider 9.x) on loopback for identity-bridge tests.
//
// Config: JSON in env OP_CONFIG, or a JSON string / path to a JSON file as argv[2]:
//   {
//     "port": 4010,                                  // required
//     "issuer": "http://127.0.0.1:4010",             // optional, defaults to this
//     "clients": [{ "client_id", "client_secret", "redirect_uris", "post_logout_redirect_uris",
//                   "token_endpoint_auth_method": "client_secret_basic" | "client_secret_post" }],
//     "accounts": { "<accountId>": { "name", "id_type", "id_number", "phone_number", "auth_level" } },
//     "jwks": { "keys": [<private JWK>] },           // optional; RS256 key generated when absent
//     "ttl": { "AuthorizationCode": 60, ... }        // optional overrides (seconds)
//   }
// Prints "READY <issuer>" on stdout once listening. In-memory adapter: all state dies with the process.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import process from 'node:process';

import Provider from 'oidc-provider';

function loadConfig() {
  let raw = process.env.OP_CONFIG;
  const arg = process.argv[2];
  if (!raw && arg) {
    raw = arg.trimStart().startsWith('{') ? arg : readFileSync(arg, 'utf8');
  }
  if (!raw) {
    throw new Error('op.mjs: no config (set OP_CONFIG or pass JSON / a JSON file path as argv[2])');
  }
  return JSON.parse(raw);
}

function generateJwks() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: `op-${randomUUID()}`, alg: 'RS256', use: 'sig' }] };
}

const config = loadConfig();
const port = Number(config.port);
if (!Number.isInteger(port) || port <= 0) throw new Error('op.mjs: config.port must be a positive integer');
const issuer = config.issuer || `http://127.0.0.1:${port}`;
const accounts = config.accounts || {};

const clients = (config.clients || []).map((c) => ({
  client_id: c.client_id,
  client_secret: c.client_secret,
  redirect_uris: c.redirect_uris,
  post_logout_redirect_uris: c.post_logout_redirect_uris || [],
  token_endpoint_auth_method: c.token_endpoint_auth_method || 'client_secret_basic',
  grant_types: ['authorization_code'],
  response_types: ['code'],
  id_token_signed_response_alg: 'RS256',
}));

const IDCARD_CLAIMS = ['id_type', 'id_number', 'auth_level'];

function dummyClaims(accountId) {
  return {
    name: `测试用户 ${accountId}`,
    phone_number: '13800138000',
    id_type: '居民身份证',
    id_number: '11010519491231002X',
    auth_level: 1,
  };
}

const ttl = {
  AccessToken: 600,
  AuthorizationCode: 60,
  IdToken: 600,
  Interaction: 600,
  Session: 3600,
  Grant: 3600,
  ...(config.ttl || {}),
};

const provider = new Provider(issuer, {
  clients,
  jwks: config.jwks || generateJwks(),
  cookies: { keys: ['zc-test-op-cookie-key-not-a-secret'] },
  pkce: { required: () => true },
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    profile: ['name'],
    phone: ['phone_number', 'phone_number_verified'],
    idcard: IDCARD_CLAIMS,
  },
  scopes: ['openid', 'profile', 'phone', 'idcard'],
  responseTypes: ['code'],
  enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    introspection: { enabled: false },
    revocation: { enabled: false },
  },
  ttl,
  async findAccount(ctx, id) {
    const claims = accounts[id] || dummyClaims(id);
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          ...claims,
          ...(claims.phone_number ? { phone_number_verified: true } : {}),
        };
      },
    };
  },
});

provider.on('server_error', (ctx, err) => {
  console.error('OP server_error:', err);
});
// Expected protocol errors, logged to help debug tests (OpenIdProvider.output in Python).
for (const event of ['authorization.error', 'grant.error', 'end_session.error', 'userinfo.error', 'jwks.error',
  'discovery.error', 'interaction.error' ]) {
  provider.on(event, (ctx, err) => {
    const cause = err.cause ? ` (cause: ${err.cause.message || err.cause})` : '';
    console.error(`OP ${event}: ${err.message}${err.error_description ? `: ${err.error_description}` : ''}${cause}`);
  });
}

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`READY ${issuer}`);
});
server.on('error', (err) => {
  console.error(`op.mjs: cannot listen on 127.0.0.1:${port}: ${err.message}`);
  process.exit(1);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  });
}
