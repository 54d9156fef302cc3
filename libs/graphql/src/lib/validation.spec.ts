import { ArgumentMetadata } from '@nestjs/common';
import { IsEmail, MaxLength, MinLength } from 'class-validator';
import { BadUserInputError } from './errors';
import { createValidationPipe, keyed } from './validation';

class SignUpInput {
  @IsEmail({}, { message: 'validation.isEmail' })
  email: string;

  @MinLength(3, { message: keyed('validation.minLength') })
  @MaxLength(10, { message: keyed('validation.maxLength') })
  name: string;
}

const metadata: ArgumentMetadata = { type: 'body', metatype: SignUpInput };

describe('validation pipe', () => {
  const pipe = createValidationPipe();

  it('answers BAD_USER_INPUT with one localizable problem per failed constraint', async () => {
    const error = await pipe.transform({ email: 'nope', name: 'ab' }, metadata).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadUserInputError);
    expect((error as BadUserInputError).fieldProblems).toEqual([
      { field: 'email', key: 'validation.isEmail', params: {} },
      { field: 'name', key: 'validation.minLength', params: { min: 3 } },
    ]);
  });

  it('refuses fields the input does not declare', async () => {
    const error = await pipe
      .transform({ email: 'a@example.com', name: 'abcd', isAdmin: true }, metadata)
      .catch((caught: unknown) => caught);
    expect((error as BadUserInputError).fieldProblems).toEqual([{ field: 'isAdmin', key: 'validation.invalid' }]);
  });

  it('passes valid input through as an instance of the input class', async () => {
    const value = await pipe.transform({ email: 'a@example.com', name: 'abcd' }, metadata);
    expect(value).toBeInstanceOf(SignUpInput);
  });
});
