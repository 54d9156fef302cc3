import { validate } from 'class-validator';
import { IsEmailAddress, isEmailAddress } from './email-address';

class Invitation {
  @IsEmailAddress()
  email!: string;
}

describe('IsEmailAddress', () => {
  it.each(['ada@example.com', 'first.last+tag@sub.example.org', "o'brien@example.ie"])('accepts %s', (address) => {
    expect(isEmailAddress(address)).toBe(true);
  });

  // Found by the fuzz suite: class-validator's isEmail took the first, and user.invited refused it.
  it.each(["l'.2%!vxp.%'@1afzb.na", 'no-at-sign.example.com', 'a@b', 'two@@example.com', 'x\ud800@example.com', 42])('refuses %p', (address) => {
    expect(isEmailAddress(address)).toBe(false);
  });

  it('reports the isEmail constraint with its message key, as before', async () => {
    const invitation = Object.assign(new Invitation(), { email: "l'.2%!vxp.%'@1afzb.na" });
    const [problem] = await validate(invitation);
    expect(problem.constraints).toEqual({ isEmail: 'validation.isEmail' });
  });
});
