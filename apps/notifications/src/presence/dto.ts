import { ArgsType, Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { ArrayMaxSize, ArrayMinSize, IsBoolean, IsUUID } from 'class-validator';
import { keyed } from '@multipult/graphql';
import { UserReference } from '../recipients/user.reference';

@ObjectType({ description: 'Whether a user has an open realtime connection, and when they last had one' })
export class UserPresence {
  @Field(() => UserReference)
  user: UserReference;

  @Field()
  online: boolean;

  @Field(() => Date, { nullable: true, description: 'When their last connection closed; null while online or never seen' })
  lastSeenAt: Date | null;
}

@ArgsType()
export class PresenceArgs {
  @Field(() => [ID], { description: 'Users sharing a tenant with the caller; others are left out' })
  @ArrayMinSize(1, { message: keyed('validation.arrayMinSize') })
  @ArrayMaxSize(100, { message: keyed('validation.arrayMaxSize') })
  @IsUUID('all', { each: true, message: 'validation.isUUID' })
  userIds: string[];
}

@ObjectType()
export class TypingIndicator {
  @Field(() => ID)
  documentId: string;

  @Field(() => UserReference)
  user: UserReference;

  @Field()
  typing: boolean;

  @Field({ description: 'Treat it as stopped after this unless it is repeated' })
  expiresAt: Date;
}

@InputType()
export class SetTypingInput {
  @Field(() => ID, { description: "The document whose comment thread the caller is typing in" })
  @IsUUID('all', { message: 'validation.isUUID' })
  documentId: string;

  @Field()
  @IsBoolean()
  typing: boolean;
}

@ObjectType()
export class SetTypingPayload {
  @Field()
  expiresAt: Date;
}
