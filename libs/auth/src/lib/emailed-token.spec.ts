import { openEmailedToken, sealEmailedToken } from './emailed-token';

const KEY = 'a-test-email-token-seal-key-long-enough';
const TOKEN = 'Zm9vYmFyYmF6cXV4LXJhbmRvbS10b2tlbi0xMjM0NTY';

describe('emailed tokens', () => {
  it('seals a token so that only the same key and event type open it', () => {
    const sealed = sealEmailedToken(TOKEN, KEY, 'user.password_reset_requested');
    expect(sealed).not.toContain(TOKEN);
    expect(openEmailedToken(sealed, KEY, 'user.password_reset_requested')).toBe(TOKEN);
    expect(() => openEmailedToken(sealed, `${KEY}-other`, 'user.password_reset_requested')).toThrow();
    expect(() => openEmailedToken(sealed, KEY, 'user.verification_requested')).toThrow();
  });
});
