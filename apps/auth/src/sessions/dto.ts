import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsNotEmpty, IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength, Validate } from 'class-validator';
import { IsEmailAddress, keyed } from '@multipult/graphql';
import { User } from '../users/user.entity';
import { StrongPassword } from './strong-password';

export const USERNAME_PATTERN = /^[a-z0-9_]{3,30}$/;

@InputType()
export class RegisterInput {
  @Field()
  @IsEmailAddress()
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
  @IsEmailAddress()
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

@ObjectType({ description: 'A signed-in device of the caller' })
export class DeviceSession {
  @Field(() => ID)
  id: string;

  @Field(() => String, { nullable: true })
  userAgent: string | null;

  @Field(() => String, { nullable: true, description: 'Client IP the session was opened from' })
  ip: string | null;

  @Field()
  createdAt: Date;

  @Field()
  lastUsedAt: Date;

  @Field({ description: 'When it ends unless used (refresh tokens live this long)' })
  expiresAt: Date;

  @Field({ description: 'The session of this request' })
  current: boolean;
}

@InputType()
export class RevokeSessionInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  sessionId: string;
}

@ObjectType()
export class RevokeSessionPayload {
  @Field(() => ID)
  revokedSessionId: string;
}

@ObjectType()
export class RevokeOtherSessionsPayload {
  @Field(() => Int, { description: 'How many sessions were signed out' })
  revokedCount: number;
}
