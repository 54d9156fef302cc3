import { ArgsType, Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { keyed } from '@multipult/graphql';
import { Comment } from './comment.entity';

@InputType()
export class AddCommentInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  documentId: string;

  @Field(() => ID, { nullable: true, description: 'The comment replied to' })
  @IsOptional()
  @IsUUID('all', { message: 'validation.isUUID' })
  parentId?: string;

  @Field({ description: 'Markdown, at most 10 000 characters; raw HTML is shown as text' })
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(10_000, { message: keyed('validation.maxLength') })
  body: string;
}

@InputType()
export class EditCommentInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  id: string;

  @Field()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(10_000, { message: keyed('validation.maxLength') })
  body: string;
}

@InputType()
export class CommentIdInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  id: string;
}

@ObjectType()
export class CommentPayload {
  @Field(() => Comment)
  comment: Comment;
}

/** The document whose new comments to follow (malformed ids are BAD_USER_INPUT, never reach SQL) */
@ArgsType()
export class CommentAddedArgs {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  documentId: string;
}
