import { ValidateBy, ValidationOptions } from 'class-validator';
import { z } from 'zod';

// The rule of the event contracts (libs/events: `z.email()`), so an address an input accepts is one
// every event about it can carry; class-validator's RFC-wide `isEmail` lets through addresses the
// contracts refuse, which then failed inside the writing transaction.
const EMAIL_ADDRESS = z.email();

export function isEmailAddress(value: unknown): boolean {
  return typeof value === 'string' && EMAIL_ADDRESS.safeParse(value).success;
}

/** An email address input, checked with the event contracts' rule; its constraint is still named `isEmail`. */
export function IsEmailAddress(options: ValidationOptions = { message: 'validation.isEmail' }): PropertyDecorator {
  return ValidateBy({ name: 'isEmail', validator: { validate: isEmailAddress } }, options);
}
