import { Field, InputType, ObjectType } from '@nestjs/graphql';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { ConnectionType, keyed } from '@multipult/graphql';
import { Author } from './author.entity';

@InputType()
export class CreateAuthorInput {
  @Field()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(200, { message: keyed('validation.maxLength') })
  name: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(5000, { message: keyed('validation.maxLength') })
  bio?: string;
}

@ObjectType()
export class CreateAuthorPayload {
  @Field(() => Author)
  author: Author;
}

export const AuthorConnection = ConnectionType(Author);
