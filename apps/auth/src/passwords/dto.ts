import { Field, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsNotEmpty, IsOptional, IsString, Matches, MaxLength, Validate } from 'class-validator';
import { IsEmailAddress, keyed } from '@multipult/graphql';
import { EmailTokenInput } from '../email-verification/dto';
import { StrongPassword } from '../sessions/strong-password';
import { CODE_PATTERN } from '../two-factor/dto';

@InputType()
export class RequestPasswordResetInput {
  @Field()
  @IsEmailAddress()
  @MaxLength(254, { message: keyed('validation.maxLength') })
  email: string;
}

@ObjectType()
export class RequestPasswordResetPayload {
  @Field({ description: 'Always true: whether the address has an account is not revealed' })
  accepted: boolean;
}

@InputType()
export class ResetPasswordInput extends EmailTokenInput {
  @Field()
  @IsString()
  @Validate(StrongPassword)
  newPassword: string;
}

@ObjectType()
export class ResetPasswordPayload {
  @Field({ description: 'Every session of the account was signed out; sign in with the new password' })
  passwordChanged: boolean;
}

@InputType()
export class ChangePasswordInput {
  @Field()
  @IsString()
  @IsNotEmpty({ message: 'validation.isNotEmpty' })
  @MaxLength(256, { message: keyed('validation.maxLength') })
  currentPassword: string;

  @Field()
  @IsString()
  @Validate(StrongPassword)
  newPassword: string;

  @Field({ nullable: true, description: 'With two-factor sign-in on: a code from the app or a backup code' })
  @IsOptional()
  @Matches(CODE_PATTERN, { message: 'validation.invalid' })
  code?: string;
}

@ObjectType()
export class ChangePasswordPayload {
  @Field(() => Int, { description: 'How many other sessions were signed out' })
  otherSessionsRevoked: number;
}
