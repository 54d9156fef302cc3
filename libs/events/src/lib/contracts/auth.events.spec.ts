import { randomUUID } from 'node:crypto';
import { UserPasswordResetRequested } from './auth.events';

describe('emailed-token events', () => {
  const base = { userId: randomUUID(), email: 'someone@example.com', expiresAt: new Date().toISOString() };
  const parse = (extra: Record<string, string>) => UserPasswordResetRequested.schema.safeParse({ ...base, ...extra }).success;

  it('take the sealed token, or the raw one of events written before sealing, but exactly one of them', () => {
    expect(parse({ sealedToken: 'v1.sealed-token-text.tag.ciphertext' })).toBe(true);
    expect(parse({ token: 'raw-token-0123456789abcdef' })).toBe(true);
    expect(parse({})).toBe(false);
    expect(parse({ sealedToken: 'v1.sealed-token-text.tag.ciphertext', token: 'raw-token-0123456789abcdef' })).toBe(false);
  });
});
