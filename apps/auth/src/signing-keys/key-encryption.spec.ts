import { decryptSecret, encryptSecret } from './key-encryption';

const SECRET = 'a-test-secret-that-is-long-enough-123';

describe('signing key encryption at rest', () => {
  it('round-trips and never repeats a ciphertext', () => {
    const first = encryptSecret('{"d":"private"}', SECRET);
    const second = encryptSecret('{"d":"private"}', SECRET);
    expect(first).not.toBe(second);
    expect(first).not.toContain('private');
    expect(decryptSecret(first, SECRET)).toBe('{"d":"private"}');
  });

  it('refuses a wrong secret and a tampered ciphertext', () => {
    const sealed = encryptSecret('{"d":"private"}', SECRET);
    expect(() => decryptSecret(sealed, `${SECRET}-other`)).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('{"d":"attacker"}').toString('base64url');
    expect(() => decryptSecret(parts.join('.'), SECRET)).toThrow();
  });
});
