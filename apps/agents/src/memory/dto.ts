import { ArgsType, Field, ID, InputType, Int } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { IsInt, IsObject, IsOptional, IsString, IsUUID, Max, MaxLength, Min, MinLength } from 'class-validator';
import { keyed } from '@multipult/graphql';

@ArgsType()
export class AgentMemoriesArgs {
  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  agentId: string;

  @Field(() => String, { nullable: true, description: 'Most similar first; newest first when omitted' })
  @IsOptional()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(4000, { message: keyed('validation.maxLength') })
  query?: string;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Only memories whose metadata contains these keys and values' })
  @IsOptional()
  @IsObject()
  filter?: Record<string, unknown>;

  @Field(() => Int, { nullable: true, description: '1 to 100; 10 by default' })
  @IsOptional()
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  @Max(100, { message: keyed('validation.max') })
  first?: number;
}

@InputType({ description: 'A fact for an agent to remember about the caller' })
export class RememberInput {
  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  agentId: string;

  @Field()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(8000, { message: keyed('validation.maxLength') })
  content: string;

  @Field(() => GraphQLJSONObject, { nullable: true })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;
}

@InputType({ description: 'Which of the caller\'s memories of an agent to delete: older than a number of days, beyond the newest N, or both' })
export class PruneAgentMemoriesInput {
  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  agentId: string;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0, { message: keyed('validation.min') })
  @Max(36_500, { message: keyed('validation.max') })
  olderThanDays?: number;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0, { message: keyed('validation.min') })
  @Max(1_000_000, { message: keyed('validation.max') })
  keepLatest?: number;
}

/** One memory, by id (malformed ids are BAD_USER_INPUT, never reach SQL) */
@ArgsType()
export class AgentMemoryIdArgs {
  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  id: string;
}

/** The agent whose memories to export (malformed ids are BAD_USER_INPUT, never reach SQL) */
@ArgsType()
export class AgentMemoryExportArgs {
  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  agentId: string;
}
