import { ArgsType, Field, Float, ID, InputType, Int, ObjectType, PartialType } from '@nestjs/graphql';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsEnum,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { ConnectionArgs, ConnectionType, keyed } from '@multipult/graphql';
import { Agent, AutoApprove } from './agent.entity';

@InputType()
export class CreateAgentInput {
  @Field({ description: "Unique among the owner's agents (case-insensitive); 1 to 120 characters" })
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(120, { message: keyed('validation.maxLength') })
  name: string;

  @Field(() => String, { nullable: true, description: 'What it is for; the planner reads it when choosing agents for tasks' })
  @IsOptional()
  @IsString()
  @MaxLength(2000, { message: keyed('validation.maxLength') })
  description?: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(20_000, { message: keyed('validation.maxLength') })
  systemPrompt?: string;

  @Field(() => String, { nullable: true, description: '`<provider>/<model>` from agentModels; the deployment default when omitted' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9_-]{0,39}\/\S{1,200}$/, { message: keyed('validation.invalid') })
  model?: string;

  @Field(() => [String], { nullable: true, description: 'Tool names from agentTools; none when omitted' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50, { message: keyed('validation.arrayMaxSize') })
  @IsString({ each: true })
  @MaxLength(64, { each: true, message: keyed('validation.maxLength') })
  tools?: string[];

  @Field(() => Int, { nullable: true, description: '1 to 64; 2 when omitted' })
  @IsOptional()
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  @Max(64, { message: keyed('validation.max') })
  concurrencyLimit?: number;

  @Field(() => AutoApprove, { nullable: true, description: 'LOW when omitted' })
  @IsOptional()
  @IsEnum(AutoApprove)
  autoApprove?: AutoApprove;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(100, { message: keyed('validation.min') })
  @Max(100_000_000, { message: keyed('validation.max') })
  tokenBudgetPerRun?: number | null;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0, { message: keyed('validation.min') })
  @Max(1_000_000, { message: keyed('validation.max') })
  costBudgetUsd?: number | null;

  @Field(() => Int, { nullable: true, description: '16 to 100 000; 1024 when omitted' })
  @IsOptional()
  @IsInt()
  @Min(16, { message: keyed('validation.min') })
  @Max(100_000, { message: keyed('validation.max') })
  maxOutputTokens?: number;
}

@InputType({ description: 'The agent and the settings to change; omitted ones stay' })
export class UpdateAgentInput extends PartialType(CreateAgentInput) {
  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  id: string;
}

@ObjectType()
export class AgentPayload {
  @Field(() => Agent)
  agent: Agent;
}

@ArgsType()
export class AgentsArgs extends ConnectionArgs {
  @Field({ nullable: true, description: "Every member's agents (needs agents:manage); the caller's own otherwise" })
  @IsOptional()
  @IsBoolean()
  allMembers?: boolean;
}

@ObjectType({ description: "An agent's work so far: tasks it ran, and the tokens and money its model calls took" })
export class AgentMetrics {
  @Field(() => Int, { description: 'Runs it took part in' })
  runs: number;

  @Field(() => Int, { description: 'Tasks that finished (completed or failed)' })
  finishedTasks: number;

  @Field(() => Float, { nullable: true, description: 'Completed share of finished tasks, 0 to 1; null before any finished' })
  successRate: number | null;

  @Field(() => Float, { nullable: true, description: 'Mean time from start to finish of its completed tasks' })
  meanDurationMs: number | null;

  @Field(() => Int)
  modelCalls: number;

  @Field(() => Float)
  promptTokens: number;

  @Field(() => Float)
  completionTokens: number;

  @Field(() => Float)
  costUsd: number;
}

@ObjectType({ description: 'A model agents may use' })
export class AgentModel {
  @Field({ description: '`<provider>/<model>`; `<provider>/*` means any model name that endpoint serves' })
  id: string;

  @Field()
  provider: string;

  @Field({ description: 'The built-in scripted model: deterministic, not a real model, refused in production' })
  scripted: boolean;

  @Field()
  embeddings: boolean;

  @Field(() => Int)
  contextTokens: number;

  @Field(() => Float)
  inputUsdPerMTok: number;

  @Field(() => Float)
  outputUsdPerMTok: number;
}

@ObjectType({ description: 'A tool agents may be given' })
export class AgentToolInfo {
  @Field()
  name: string;

  @Field()
  description: string;
}

export const AgentConnection = ConnectionType(Agent);

/** One agent, by id (malformed ids are BAD_USER_INPUT, never reach SQL) */
@ArgsType()
export class AgentIdArgs {
  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  id: string;
}
