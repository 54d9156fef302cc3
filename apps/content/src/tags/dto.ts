import { Field, InputType, ObjectType } from '@nestjs/graphql';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { keyed } from '@multipult/graphql';
import { Tag } from './tag.entity';

@InputType()
export class CreateTagInput {
  @Field()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(60, { message: keyed('validation.maxLength') })
  name: string;

  @Field({ description: 'Hex color: #rgb or #rrggbb' })
  @Matches(/^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, { message: 'validation.matches' })
  color: string;
}

@ObjectType()
export class CreateTagPayload {
  @Field(() => Tag)
  tag: Tag;
}
