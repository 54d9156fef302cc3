import { randomUUID } from 'node:crypto';
import { CryptoKey, JWTVerifyGetKey, SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { ForbiddenError, UnauthenticatedError } from '@multipult/graphql';
import { MemoryFastStore, RedisFastStore } from '@multipult/redis';
import { AccessTokenVerifier, bearerToken } from './access-token-verifier';
import { actInTenant } from './auth.guard';
import { hasPermission, isPermission, missingPermissions } from './permissions';
import { revokeSession, revokeUserTokensIssuedBefore } from './revocation';

const ISSUER = 'multipult-auth';
const AUDIENCE = 'multipult';

describe('AccessTokenVerifier', () => {
  const store = RedisFastStore.connect(process.env.REDIS_URL as string, `test:verifier:${randomUUID()}:`);
  let signingKey: CryptoKey;
  let verifier: AccessTokenVerifier;
  const kid = randomUUID();
  const userId = randomUUID();
  const tenantId = randomUUID();

  const sign = (overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: userId,
      jti: randomUUID(),
      iat: now,
      exp: now + 300,
      sid: randomUUID(),
      tid: tenantId,
      ten: { [tenantId]: ['content:*'] },
      ...overrides,
    })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt', ...header })
      .sign(signingKey);
  };

  beforeAll(async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    signingKey = pair.privateKey;
    const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(pair.publicKey)), kid, alg: 'EdDSA' }] });
    verifier = new AccessTokenVerifier({ keys, store, issuer: ISSUER, audience: AUDIENCE });
  });

  afterAll(() => store.close());

  it('turns a valid token into the principal of its active tenant', async () => {
    const principal = await verifier.verify(await sign());
    expect(principal).toMatchObject({ userId, tenantId, permissions: ['content:*'] });
  });

  it.each([
    ['wrong type', () => sign({}, { typ: 'JWT' })],
    ['wrong issuer', () => sign({ iss: 'someone' })],
    ['expired', () => sign({ exp: Math.floor(Date.now() / 1000) - 60 })],
    ['unknown kid', () => sign({}, { kid: randomUUID() })],
  ])('refuses a token with %s', async (_case, token) => {
    await expect(verifier.verify(await token())).rejects.toThrow(UnauthenticatedError);
  });

  it('refuses tokens of a revoked session and tokens issued before a user-wide revocation', async () => {
    const sessionId = randomUUID();
    const token = await sign({ sid: sessionId });
    await verifier.verify(token);
    await revokeSession(store, sessionId, 60_000);
    await expect(verifier.verify(token)).rejects.toThrow('errors.session_revoked');

    const other = await sign();
    await revokeUserTokensIssuedBefore(store, userId, new Date(Date.now() + 1000), 60_000);
    await expect(verifier.verify(other)).rejects.toThrow('errors.session_revoked');
  });

  it('remembers a verified token until it expires, and still checks revocation on every call', async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const cachedKid = randomUUID();
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: cachedKid, alg: 'EdDSA' }] });
    let keyLookups = 0;
    const counted: JWTVerifyGetKey = (...args) => {
      keyLookups += 1;
      return jwks(...args);
    };
    const caching = new AccessTokenVerifier({ keys: counted, store, issuer: ISSUER, audience: AUDIENCE });
    const now = Math.floor(Date.now() / 1000);
    const sessionId = randomUUID();
    const signWith = (exp: number) =>
      new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: randomUUID(), jti: randomUUID(), iat: now, exp, sid: sessionId, tid: tenantId, ten: {} })
        .setProtectedHeader({ alg: 'EdDSA', kid: cachedKid, typ: 'at+jwt' })
        .sign(pair.privateKey);
    const token = await signWith(now + 300);
    const first = await caching.verify(token);
    expect(await caching.verify(token)).toBe(first);
    expect(keyLookups).toBe(1);

    // Expiring within the second: remembered only until then, then verified (and refused) again.
    const shortLived = await signWith(now + 1);
    await caching.verifySignature(shortLived);
    await new Promise((resolve) => setTimeout(resolve, (now + 1) * 1000 - Date.now() + 50));
    await caching.verifySignature(shortLived).catch(() => undefined);
    expect(keyLookups).toBe(3);

    await revokeSession(store, sessionId, 60_000);
    await expect(caching.verify(token)).rejects.toThrow('errors.session_revoked');
  });

  it('reads only bearer tokens from the Authorization header', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken(undefined)).toBeUndefined();
    expect(() => bearerToken('Basic dXNlcjpwYXNz')).toThrow(UnauthenticatedError);
  });
});

describe('tenant switching by header', () => {
  const principal = {
    userId: 'u',
    sessionId: 's',
    tokenId: 'j',
    tenantId: 'a',
    permissions: ['*'],
    memberships: { a: ['*'], b: ['content:read'] },
    platformPermissions: [],
    credential: 'access_token' as const,
    issuedAt: new Date(),
    expiresAt: new Date(),
  };

  it('acts in another tenant of the caller with the permissions held there', () => {
    expect(actInTenant(principal, 'b')).toMatchObject({ tenantId: 'b', permissions: ['content:read'] });
    expect(actInTenant(principal, undefined)).toBe(principal);
  });

  it('refuses a tenant the caller does not belong to', () => {
    expect(() => actInTenant(principal, 'c')).toThrow(ForbiddenError);
  });
});

describe('permissions', () => {
  it('matches exact grants and resource or global wildcards', () => {
    expect(hasPermission(['content:read'], 'content:read')).toBe(true);
    expect(hasPermission(['content:*'], 'content:publish')).toBe(true);
    expect(hasPermission(['*'], 'tenant:manage_members')).toBe(true);
    expect(hasPermission(['content:read'], 'content:write')).toBe(false);
    expect(hasPermission(['contents:*'], 'content:read')).toBe(false);
    expect(missingPermissions(['content:read'], ['content:read', 'tenant:read'])).toEqual(['tenant:read']);
  });

  it('recognises well-formed permission names', () => {
    expect(['content:read', 'content:*', '*', 'tenant:manage_members'].every(isPermission)).toBe(true);
    expect(['content', 'Content:Read', 'content:read:extra', ''].some(isPermission)).toBe(false);
  });

  it('works with the in-process store as well', async () => {
    const memory = new MemoryFastStore();
    await revokeSession(memory, 'session', 1000);
    expect(await memory.exists('auth:revoked:session:session')).toBe(true);
    await memory.close();
  });
});
