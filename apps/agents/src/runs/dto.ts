import { ArgsType, Field, Float, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import { ConnectionArgs, ConnectionType, keyed } from '@multipult/graphql';
import { AgentRun } from './run.entity';
import { AgentTask } from './task.entity';

@InputType({ description: 'Give one agent a request: a run with a single task' })
export class StartAgentRunInput {
  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  agentId: string;

  @Field({ description: 'What the agent is asked to do; up to 20 000 characters' })
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(20_000, { message: keyed('validation.maxLength') })
  prompt: string;
}

@InputType({ description: 'A task of a plan' })
export class PlanTaskInput {
  @Field({ description: 'Its name in the plan (letters, digits, - and _), which dependsOn refers to' })
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,40}$/, { message: keyed('validation.invalid') })
  key: string;

  @Field(() => String, { nullable: true, description: 'A short title; the key when omitted' })
  @IsOptional()
  @IsString()
  @MaxLength(200, { message: keyed('validation.maxLength') })
  title?: string;

  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  agentId: string;

  @Field()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(20_000, { message: keyed('validation.maxLength') })
  prompt: string;

  @Field(() => [String], { nullable: true, description: 'Keys of the tasks whose results this one needs' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50, { message: keyed('validation.arrayMaxSize') })
  @IsString({ each: true })
  @MaxLength(40, { each: true, message: keyed('validation.maxLength') })
  dependsOn?: string[];
}

@InputType({ description: 'A plan written by the caller: refused (BAD_USER_INPUT) when it has a cycle or names an agent the caller cannot use' })
export class CreateAgentPlanInput {
  @Field({ description: 'What the plan is for' })
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(20_000, { message: keyed('validation.maxLength') })
  request: string;

  @Field(() => [PlanTaskInput])
  @IsArray()
  @ArrayMinSize(1, { message: keyed('validation.arrayMinSize') })
  @ArrayMaxSize(50, { message: keyed('validation.arrayMaxSize') })
  @ValidateNested({ each: true })
  @Type(() => PlanTaskInput)
  tasks: PlanTaskInput[];

  @Field({ nullable: true, description: 'Start at once instead of waiting for approveAgentPlan' })
  @IsOptional()
  @IsBoolean()
  autoStart?: boolean;
}

@InputType({ description: "Ask the planner to turn a request into a plan over the caller's agents" })
export class PlanAgentRunInput {
  @Field()
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(20_000, { message: keyed('validation.maxLength') })
  request: string;

  @Field(() => [ID], { nullable: true, description: "Agents the planner may use; all the caller's agents when omitted" })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, { message: keyed('validation.arrayMinSize') })
  @ArrayMaxSize(20, { message: keyed('validation.arrayMaxSize') })
  @IsUUID('all', { each: true, message: keyed('validation.invalid') })
  agentIds?: string[];

  @Field(() => String, { nullable: true, description: "The model that writes the plan; the first agent's model when omitted" })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9_-]{0,39}\/\S{1,200}$/, { message: keyed('validation.invalid') })
  plannerModel?: string;

  @Field({ nullable: true, description: 'Start as soon as the plan is written, without waiting for approval' })
  @IsOptional()
  @IsBoolean()
  autoStart?: boolean;
}

@InputType()
export class UpdateAgentPlanInput {
  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  runId: string;

  @Field(() => [PlanTaskInput], { description: 'The whole plan as it should be' })
  @IsArray()
  @ArrayMinSize(1, { message: keyed('validation.arrayMinSize') })
  @ArrayMaxSize(50, { message: keyed('validation.arrayMaxSize') })
  @ValidateNested({ each: true })
  @Type(() => PlanTaskInput)
  tasks: PlanTaskInput[];
}

@ObjectType()
export class AgentRunPayload {
  @Field(() => AgentRun)
  run: AgentRun;
}

@ObjectType({ description: 'What running the plan would do, without calling any model' })
export class AgentPlanDryRun {
  @Field(() => [[String]], { description: 'Task keys in the order they would start; the tasks of one wave run in parallel' })
  waves: string[][];

  @Field(() => Int)
  estimatedTokens: number;

  @Field(() => Float)
  estimatedCostUsd: number;

  @Field(() => Int, { description: 'Along the longest chain of dependencies' })
  estimatedDurationMs: number;

  @Field(() => [AgentTask])
  tasks: AgentTask[];
}

@ArgsType()
export class AgentRunsArgs extends ConnectionArgs {
  @Field({ nullable: true, description: "Every member's runs (needs agents:manage); the caller's own otherwise" })
  @IsOptional()
  @IsBoolean()
  allMembers?: boolean;
}

@ArgsType()
export class RunEventsArgs {
  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  runId: string;

  @Field(() => Int, { nullable: true, description: 'The seq of the last event already seen: only later events come' })
  @IsOptional()
  @IsInt()
  @Min(0, { message: keyed('validation.min') })
  lastEventId?: number;
}

@ArgsType()
export class RunEventPageArgs extends RunEventsArgs {
  @Field(() => Int, { nullable: true, description: '1 to 1000; 200 by default' })
  @IsOptional()
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  @Max(1000, { message: keyed('validation.max') })
  first?: number;
}

export const AgentRunConnection = ConnectionType(AgentRun);

/** One run, by id (malformed ids are BAD_USER_INPUT, never reach SQL) */
@ArgsType()
export class AgentRunIdArgs {
  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  id: string;
}

/** The run a mutation acts on (malformed ids are BAD_USER_INPUT, never reach SQL) */
@ArgsType()
export class RunIdArgs {
  @Field(() => ID)
  @IsUUID('all', { message: keyed('validation.invalid') })
  runId: string;
}
