import { StrongPassword } from './strong-password';

describe('StrongPassword', () => {
  const rule = new StrongPassword();

  it.each(['correct horse 9', 'Tr0ub4dor&3x', 'ALLCAPS12345'])('accepts %s', (password) => {
    expect(rule.validate(password)).toBe(true);
  });

  it.each([
    ['too short', 'Ab1!short'],
    ['one character class', 'onlylowercaseletters'],
    ['a common password', 'Password123'],
    ['too long', `A1${'x'.repeat(127)}`],
    ['not a string', 12345678901],
  ])('refuses %s', (_reason, password) => {
    expect(rule.validate(password)).toBe(false);
  });
});
