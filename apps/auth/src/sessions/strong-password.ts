import { ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';

// The most common passwords of breach corpora that pass the length rule; a full list belongs in a
// breached-password check (k-anonymity API), which is out of the platform's offline scope.
const COMMON_PASSWORDS = new Set([
  'password123',
  'password1234',
  'qwertyuiop',
  '1234567890',
  '0123456789',
  'qwerty1234',
  'qwerty12345',
  '1q2w3e4r5t',
  'iloveyou12',
  'admin12345',
  'letmein123',
  'welcome123',
  'passw0rd12',
  'abcdefghij',
]);

/** At least 10 characters (at most 128) from two classes or more, and not a well-known password. */
@ValidatorConstraint({ name: 'strongPassword' })
export class StrongPassword implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string' || value.length < 10 || value.length > 128) return false;
    const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((pattern) => pattern.test(value)).length;
    return classes >= 2 && !COMMON_PASSWORDS.has(value.toLowerCase());
  }

  defaultMessage(): string {
    return 'validation.weakPassword';
  }
}
