import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { workspaceRoot } from './service-process';

export interface OidcAccount {
  sub: string;
  email: string;
  email_verified: boolean;
  name: string;
}

export interface LocalOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  addAccount(account: OidcAccount): Promise<void>;
  /**
   * Plays the browser: opens the authorization URL, signs in as `sub` and consents, following
   * the provider's redirects with its cookies; answers the URL it finally redirects to (the
   * client's redirect URI with `code` and `state`).
   */
  authorize(authorizationUrl: string, sub: string): Promise<URL>;
  stop(): Promise<void>;
}

/** Starts tools/testing/oidc-provider.mjs (a real `oidc-provider`) with one confidential client. */
export async function startOidcProvider(options: { redirectUris: string[]; clientId?: string; clientSecret?: string }): Promise<LocalOidcProvider> {
  const clientId = options.clientId ?? 'multipult-test';
  const clientSecret = options.clientSecret ?? 'test-client-secret-0123456789';
  const child: ChildProcess = spawn(
    process.execPath,
    [
      path.join(workspaceRoot(), 'tools/testing/oidc-provider.mjs'),
      '--client-id',
      clientId,
      '--client-secret',
      clientSecret,
      ...options.redirectUris.flatMap((uri) => ['--redirect-uri', uri]),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const issuer = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`OpenID provider exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { issuer: string }).issuer));
  });
  const post = async (route: string, body: unknown) => {
    const response = await fetch(`${issuer}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`${route}: ${response.status}`);
  };

  return {
    issuer,
    clientId,
    clientSecret,
    addAccount: (account) => post('/test/accounts', account),
    async authorize(authorizationUrl, sub) {
      await post('/test/next-login', { sub });
      const cookies = new Map<string, string>();
      let url = new URL(authorizationUrl);
      for (let hop = 0; hop < 10; hop += 1) {
        if (url.origin !== issuer) return url;
        const response = await fetch(url, {
          redirect: 'manual',
          headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
        });
        for (const header of response.headers.getSetCookie()) {
          const [pair] = header.split(';');
          const separator = pair.indexOf('=');
          cookies.set(pair.slice(0, separator).trim(), pair.slice(separator + 1));
        }
        const location = response.headers.get('location');
        if (!location) throw new Error(`the provider answered ${response.status} without a redirect: ${(await response.text()).slice(0, 500)}`);
        url = new URL(location, url);
      }
      throw new Error('too many redirects');
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
