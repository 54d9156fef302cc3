import { Directive, Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { numericColumn } from '../common/columns';

export enum AgentStatus {
  READY = 'ready',
  BUSY = 'busy',
  ERROR = 'error',
}

/** Which tool calls run without asking: none, or those the tool rates low risk. Medium and high always wait for a decision. */
export enum AutoApprove {
  NONE = 'none',
  LOW = 'low',
}

registerEnumType(AgentStatus, { name: 'AgentStatus', description: 'READY: idle; BUSY: running tasks; ERROR: its last task failed for a reason that will repeat (see lastError)' });
registerEnumType(AutoApprove, { name: 'AutoApprove' });

/** The settings a run uses, kept per version so a run records exactly what it ran with. */
export interface AgentSettings {
  name: string;
  description: string;
  systemPrompt: string;
  model: string;
  tools: string[];
  concurrencyLimit: number;
  autoApprove: AutoApprove;
  tokenBudgetPerRun: number | null;
  costBudgetUsd: number | null;
  maxOutputTokens: number;
}

/** A user's personal agent in a tenant. */
@ObjectType({ description: "A member's personal AI agent: a model, a system prompt and the tools it may call" })
@Directive('@key(fields: "id")')
@Entity('agents')
export class Agent implements AgentSettings {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field(() => ID, { description: 'The member whose agent it is' })
  @Column({ name: 'owner_id', type: 'uuid' })
  ownerId: string;

  @Field()
  @Column({ type: 'text' })
  name: string;

  @Field()
  @Column({ type: 'text' })
  description: string;

  @Field(() => Int, { description: 'Raised by every change of its settings; each run records the version it used' })
  @Column({ type: 'int' })
  version: number;

  @Field()
  @Column({ name: 'system_prompt', type: 'text' })
  systemPrompt: string;

  @Field({ description: '`<provider>/<model>`, one of agentModels' })
  @Column({ type: 'text' })
  model: string;

  @Field(() => [String], { description: 'Names of the tools it may call, from agentTools' })
  @Column({ type: 'text', array: true })
  tools: string[];

  @Field(() => Int, { description: 'Tasks of this agent running at once, across all runs and replicas' })
  @Column({ name: 'concurrency_limit', type: 'int' })
  concurrencyLimit: number;

  @Field(() => AutoApprove)
  @Column({ name: 'auto_approve', type: 'text' })
  autoApprove: AutoApprove;

  @Field(() => Int, { nullable: true, description: 'Tokens (prompt and completion) one run may spend on this agent; the run stops before a call would exceed it' })
  @Column({ name: 'token_budget_per_run', type: 'int', nullable: true })
  tokenBudgetPerRun: number | null;

  @Field(() => Float, { nullable: true, description: 'USD this agent may spend in all; calls stop before they would exceed it' })
  @Column({ name: 'cost_budget_usd', type: 'numeric', nullable: true, transformer: numericColumn })
  costBudgetUsd: number | null;

  @Field(() => Int, { description: 'Completion tokens asked for per model call' })
  @Column({ name: 'max_output_tokens', type: 'int' })
  maxOutputTokens: number;

  @Column({ type: 'text' })
  status: AgentStatus;

  @Field(() => String, { nullable: true, description: 'Why the agent is in ERROR' })
  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'archived_at', type: 'timestamptz', nullable: true })
  archivedAt: Date | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Field()
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

export function settingsOf(agent: AgentSettings): AgentSettings {
  const { name, description, systemPrompt, model, tools, concurrencyLimit, autoApprove, tokenBudgetPerRun, costBudgetUsd, maxOutputTokens } = agent;
  return { name, description, systemPrompt, model, tools, concurrencyLimit, autoApprove, tokenBudgetPerRun, costBudgetUsd, maxOutputTokens };
}
