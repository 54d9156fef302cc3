import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { keyed } from '@multipult/graphql';

@InputType()
export class PublishAnnouncementInput {
  @Field()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(200, { message: keyed('validation.maxLength') })
  title: string;

  @Field()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(5000, { message: keyed('validation.maxLength') })
  body: string;
}

@ObjectType()
export class Announcement {
  @Field(() => ID)
  id: string;

  @Field(() => ID, { nullable: true, description: 'The tenant it went to; null for everyone' })
  tenantId: string | null;

  @Field()
  title: string;

  @Field()
  body: string;

  @Field(() => Int, { description: 'Users it reached in-app' })
  recipientCount: number;

  @Field()
  createdAt: Date;
}

@ObjectType()
export class PublishAnnouncementPayload {
  @Field(() => Announcement)
  announcement: Announcement;
}
