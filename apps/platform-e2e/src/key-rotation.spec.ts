import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Platform, eventually, graphql, graphqlData, workspaceRoot } from '@multipult/testing';
import { registerAccount } from './support/accounts';
import { usePlatform } from './support/platforms';

const run = promisify(execFile);

function kidOf(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')).kid;
}

describe('signing key rotation', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await usePlatform('key-rotation');
  });

  it('signs new tokens with the new key while tokens of the old key stay valid', async () => {
    const before = await registerAccount(platform.gatewayUrl, 'before-rotation');
    const cli = path.join(workspaceRoot(), 'dist/apps/auth/apps/auth/src/cli.js');
    const { stdout } = await run(process.execPath, [cli, 'rotate-signing-key'], {
      env: { PATH: process.env.PATH, DATABASE_URL: platform.databaseUrl },
    });
    const { kid: newKid } = JSON.parse(stdout.trim());
    expect(newKid).not.toBe(kidOf(before.accessToken));

    // Every instance reloads keys on its interval (1 s here); wait until the new key signs.
    const after = await eventually('a token signed with the new key', async () => {
      const account = await registerAccount(platform.gatewayUrl, 'after-rotation');
      return kidOf(account.accessToken) === newKid ? account : undefined;
    });
    expect(kidOf(after.accessToken)).toBe(newKid);

    const jwks = (await (await fetch(`${platform.auth.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([newKid, kidOf(before.accessToken)]));

    // The old token still verifies. The gateway learns the new kid by refetching the JWKS, at most
    // every 30 s (jose's cooldown): on a platform that verified tokens moments ago, it can take that long.
    const me = await graphqlData<{ me: { id: string } }>(platform.gatewayUrl, '{ me { id } }', { token: before.accessToken });
    expect(me.me.id).toBe(before.userId);
    const meAfter = await eventually(
      'the gateway to verify a token of the new key',
      async () => (await graphql<{ me: { id: string } }>(platform.gatewayUrl, '{ me { id } }', { token: after.accessToken })).data?.me,
      40_000,
    );
    expect(meAfter.id).toBe(after.userId);
  });
});
