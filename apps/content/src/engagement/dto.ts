import { ArgsType, Field, Float, Int, ObjectType } from '@nestjs/graphql';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { ConnectionArgs, keyed } from '@multipult/graphql';
import { Document } from '../documents/document.entity';

@ArgsType()
export class TrendingDocumentsArgs {
  @Field(() => Int, { nullable: true, description: 'Window in days, 7 by default (1 to 90)' })
  @IsOptional()
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  @Max(90, { message: keyed('validation.max') })
  windowDays?: number;

  @Field(() => Int, { nullable: true, description: '20 by default, at most 100' })
  @IsOptional()
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  @Max(100, { message: keyed('validation.max') })
  first?: number;
}

@ObjectType()
export class TrendingDocument {
  @Field(() => Document)
  document: Document;

  @Field(() => Float, { description: 'Views plus five times likes within the window' })
  score: number;
}

@ObjectType()
export class EngagementPayload {
  @Field(() => Document)
  document: Document;

  @Field({ description: 'Whether the state changed (false when it already was so)' })
  changed: boolean;
}

@ArgsType()
export class BookmarksArgs extends ConnectionArgs {}
