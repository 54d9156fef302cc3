import { Field, InputType, ObjectType } from '@nestjs/graphql';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { keyed } from '@multipult/graphql';
import { User } from '../users/user.entity';

/** A token from an email link (verification or password reset). */
@InputType()
export class EmailTokenInput {
  @Field()
  @IsString()
  @MinLength(16, { message: keyed('validation.minLength') })
  @MaxLength(256, { message: keyed('validation.maxLength') })
  token: string;
}

@ObjectType()
export class RequestEmailVerificationPayload {
  @Field({ description: 'Until when the emailed link works' })
  expiresAt: Date;
}

@ObjectType()
export class VerifyEmailPayload {
  @Field(() => User)
  user: User;
}
