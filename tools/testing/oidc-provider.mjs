// A real OpenID Connect provider (the `oidc-provider` package) for tests: authorization code flow
// with PKCE, signed ID tokens, discovery and JWKS. Its login and consent pages are replaced by one
// that signs in whichever account the test chose (POST /test/next-login), so tests drive the real
// protocol without a browser. Prints `{"issuer": ...}` once listening.
//   node tools/testing/oidc-provider.mjs --client-id ID --client-secret SECRET --redirect-uri URI [--port N]
import http from 'node:http';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
  },
});

const accounts = new Map();
let nextLogin = null;

const server = http.createServer();
server.listen(Number(values.port), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: values['client-id'],
        client_secret: values['client-secret'],
        redirect_uris: values['redirect-uri'],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    cookies: { keys: ['test-only-cookie-key'] },
    findAccount: (_ctx, sub) => {
      const account = accounts.get(sub);
      return account ? { accountId: sub, claims: () => ({ sub, ...account }) } : undefined;
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  });
  const callback = provider.callback();

  server.on('request', async (req, res) => {
    try {
      if (req.method === 'POST' && req.url?.startsWith('/test/')) {
        const body = JSON.parse(await new Promise((resolve) => {
          let text = '';
          req.on('data', (chunk) => (text += chunk));
          req.on('end', () => resolve(text || '{}'));
        }));
        if (req.url === '/test/accounts') accounts.set(body.sub, { email: body.email, email_verified: body.email_verified, name: body.name });
        if (req.url === '/test/next-login') nextLogin = body.sub;
        res.writeHead(204).end();
        return;
      }
      if (req.url?.startsWith('/interaction/')) {
        const details = await provider.interactionDetails(req, res);
        if (details.prompt.name === 'login') {
          if (!nextLogin) throw new Error('no account chosen for the next login');
          await provider.interactionFinished(req, res, { login: { accountId: nextLogin } }, { mergeWithLastSubmission: false });
          return;
        }
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
        const missing = details.prompt.details;
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
        return;
      }
      callback(req, res);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error?.stack ?? error));
    }
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
