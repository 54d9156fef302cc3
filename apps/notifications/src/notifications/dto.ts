import { ArgsType, Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  Min,
} from 'class-validator';
import { ConnectionArgs, ConnectionType, keyed } from '@multipult/graphql';
import { Notification } from './notification.entity';

/** Most notifications one mutation changes by id. */
export const MAX_IDS_PER_CHANGE = 100;

export const NotificationConnection = ConnectionType(Notification);

@ArgsType()
export class NotificationsArgs extends ConnectionArgs {
  @Field({ nullable: true, description: 'Only unread notifications' })
  @IsOptional()
  @IsBoolean()
  unreadOnly?: boolean;

  @Field({ nullable: true, description: 'Archived notifications instead of the inbox' })
  @IsOptional()
  @IsBoolean()
  archived?: boolean;

  @Field(() => [String], { nullable: true, description: 'Only these types' })
  @IsOptional()
  @ArrayMaxSize(20, { message: keyed('validation.arrayMaxSize') })
  @IsString({ each: true })
  @MaxLength(64, { each: true, message: keyed('validation.maxLength') })
  types?: string[];
}

@InputType()
export class NotificationIdsInput {
  @Field(() => [ID])
  @ArrayMinSize(1, { message: keyed('validation.arrayMinSize') })
  @ArrayMaxSize(MAX_IDS_PER_CHANGE, { message: keyed('validation.arrayMaxSize') })
  @IsUUID('all', { each: true, message: 'validation.isUUID' })
  ids: string[];
}

@ObjectType()
export class NotificationsChangedPayload {
  @Field(() => [Notification], { description: 'The notifications changed (ids of other users are ignored)' })
  notifications: Notification[];

  @Field(() => Int)
  unreadCount: number;
}

@ObjectType()
export class MarkAllNotificationsReadPayload {
  @Field(() => Int)
  markedCount: number;

  @Field(() => Int)
  unreadCount: number;
}

@ObjectType()
export class DeleteNotificationsPayload {
  @Field(() => [ID])
  deletedIds: string[];

  @Field(() => Int)
  unreadCount: number;
}

/** A client app install or browser tab that keeps its own acknowledged position. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

@InputType()
export class AcknowledgeNotificationsInput {
  @Field({ description: 'Stable id of the client (app install, browser); 1–64 of A-Z a-z 0-9 . _ : -' })
  @Matches(CLIENT_ID_PATTERN, { message: keyed('validation.clientId') })
  clientId: string;

  @Field(() => Int, { description: 'The highest sequence the client has processed; everything up to it counts as received' })
  @IsInt()
  @Min(0, { message: keyed('validation.min') })
  sequence: number;
}

@ObjectType()
export class AcknowledgeNotificationsPayload {
  @Field(() => Int, { description: 'The stored position: acknowledgements never move it backwards' })
  acknowledgedSequence: number;
}
