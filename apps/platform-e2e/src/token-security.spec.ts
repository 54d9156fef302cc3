import { randomUUID } from 'node:crypto';
import { SignJWT, generateKeyPair } from 'jose';
import { Platform, graphql } from '@multipult/testing';
import { decodeJwtPayload, registerAccount } from './support/accounts';
import { activeSigningKey } from './support/signing-key';
import { usePlatform } from './support/platforms';

const ME = `{ me { id } }`;

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('access token verification at the gateway and at the subgraph', () => {
  let platform: Platform;
  let validToken: string;
  const forged: Record<string, string> = {};

  beforeAll(async () => {
    platform = await usePlatform('default');
    const account = await registerAccount(platform.gatewayUrl, 'victim');
    validToken = account.accessToken;
    const claims = decodeJwtPayload(validToken);
    const [header, , signature] = validToken.split('.');
    const { kid, privateKey } = await activeSigningKey(platform.databaseUrl);
    const now = Math.floor(Date.now() / 1000);

    forged.expired = await new SignJWT({ ...claims, iat: now - 3600, exp: now - 60 })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .sign(privateKey);
    forged.tampered = `${header}.${base64url({ ...claims, sub: randomUUID() })}.${signature}`;
    const stranger = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    forged.wrongKid = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: randomUUID(), typ: 'at+jwt' })
      .sign(stranger.privateKey);
    forged.foreignKeyWithKnownKid = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .sign(stranger.privateKey);
    forged.algNone = `${base64url({ alg: 'none', typ: 'at+jwt', kid })}.${base64url(claims)}.`;
    forged.wrongAudience = await new SignJWT({ ...claims, aud: 'someone-else' })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .sign(privateKey);
    forged.notAJwt = 'definitely-not-a-token';
  });

  it('accepts the genuine token on both paths', async () => {
    expect((await graphql(platform.gatewayUrl, ME, { token: validToken })).errors).toBeUndefined();
    expect((await graphql(platform.authUrl, ME, { token: validToken })).errors).toBeUndefined();
  });

  it.each(['expired', 'tampered', 'wrongKid', 'foreignKeyWithKnownKid', 'algNone', 'wrongAudience', 'notAJwt'])(
    'rejects a %s token at the gateway edge with 401 and at the subgraph reached directly',
    async (kind) => {
      const viaGateway = await graphql(platform.gatewayUrl, ME, { token: forged[kind] });
      expect(viaGateway.status).toBe(401);
      expect(viaGateway.headers.get('www-authenticate')).toContain('invalid_token');
      expect(viaGateway.errors).toEqual([
        { message: 'The access token is invalid or expired', extensions: { code: 'UNAUTHENTICATED', requestId: expect.any(String) } },
      ]);

      const direct = await graphql(platform.authUrl, ME, { token: forged[kind] });
      expect(direct.data).toBeNull();
      expect(direct.errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    },
  );

  it('rejects an invalid token even on public operations instead of treating the caller as anonymous', async () => {
    const result = await graphql(
      platform.authUrl,
      `mutation { login(input: { email: "x@example.com", password: "whatever-123" }) { accessToken } }`,
      { token: forged.tampered },
    );
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });
});
