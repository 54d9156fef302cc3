import { Field, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsEmail, IsNotEmpty, IsOptional, IsString, Matches, MaxLength, MinLength, Validate } from 'class-validator';
import { keyed } from '@multipult/graphql';
import { User } from '../users/user.entity';
import { StrongPassword } from './strong-password';

export const USERNAME_PATTERN = /^[a-z0-9_]{3,30}$/;

@InputType()
export class RegisterInput {
  @Field()
  @IsEmail({}, { message: 'validation.isEmail' })
  @MaxLength(254, { message: keyed('validation.maxLength') })
  email: string;

  @Field()
  @IsString()
  @Validate(StrongPassword)
  password: string;

  @Field()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(100, { message: keyed('validation.maxLength') })
  displayName: string;

  @Field({ nullable: true, description: '3 to 30 lowercase letters, digits or _; derived from the email when omitted' })
  @IsOptional()
  @Matches(USERNAME_PATTERN, { message: 'validation.username' })
  username?: string;
}

@InputType()
export class LoginInput {
  @Field()
  @IsEmail({}, { message: 'validation.isEmail' })
  @MaxLength(254, { message: keyed('validation.maxLength') })
  email: string;

  @Field()
  @IsString()
  @IsNotEmpty({ message: 'validation.isNotEmpty' })
  @MaxLength(256, { message: keyed('validation.maxLength') })
  password: string;
}

@InputType()
export class RefreshTokensInput {
  @Field()
  @IsString()
  @IsNotEmpty({ message: 'validation.isNotEmpty' })
  @MaxLength(256, { message: keyed('validation.maxLength') })
  refreshToken: string;
}

@ObjectType({ description: 'Tokens for a session: a short-lived access token and a single-use refresh token' })
export class AuthPayload {
  @Field()
  accessToken: string;

  @Field(() => Int, { description: 'Access token lifetime in seconds' })
  expiresIn: number;

  @Field()
  refreshToken: string;

  @Field(() => User)
  user: User;
}

@ObjectType()
export class LogoutPayload {
  @Field()
  sessionRevoked: boolean;
}
