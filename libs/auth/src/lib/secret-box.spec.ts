import { openSecret, sealSecret } from './secret-box';

const SECRET = 'a-test-secret-that-is-long-enough-123';

describe('sealed secrets', () => {
  it('round-trips and never repeats a ciphertext', () => {
    const first = sealSecret('{"d":"private"}', SECRET, 'purpose-a');
    const second = sealSecret('{"d":"private"}', SECRET, 'purpose-a');
    expect(first).not.toBe(second);
    expect(first).not.toContain('private');
    expect(openSecret(first, SECRET, 'purpose-a')).toBe('{"d":"private"}');
  });

  it('refuses a wrong secret, another purpose and a tampered ciphertext', () => {
    const sealed = sealSecret('{"d":"private"}', SECRET, 'purpose-a');
    expect(() => openSecret(sealed, `${SECRET}-other`, 'purpose-a')).toThrow();
    expect(() => openSecret(sealed, SECRET, 'purpose-b')).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('{"d":"attacker"}').toString('base64url');
    expect(() => openSecret(parts.join('.'), SECRET, 'purpose-a')).toThrow();
  });
});
