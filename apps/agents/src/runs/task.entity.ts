import { Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { numericColumn } from '../common/columns';

export enum TaskStatus {
  /** Waits for the tasks it depends on. */
  PENDING = 'pending',
  QUEUED = 'queued',
  RUNNING = 'running',
  WAITING_APPROVAL = 'waiting_approval',
  COMPLETED = 'completed',
  FAILED = 'failed',
  CANCELLED = 'cancelled',
  /** Not run, because a task it depends on failed or was cancelled. */
  SKIPPED = 'skipped',
}

export const FINISHED_TASK_STATUSES: readonly TaskStatus[] = [TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.SKIPPED];

registerEnumType(TaskStatus, { name: 'AgentTaskStatus' });

/** One node of a run's plan: an agent, a prompt, and the tasks whose results it needs. */
@ObjectType({ description: "A task of a run's plan" })
@Entity('agent_tasks')
export class AgentTask {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID)
  @Column({ name: 'run_id', type: 'uuid' })
  runId: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field({ description: 'Its name in the plan, which dependsOn refers to' })
  @Column({ type: 'text' })
  key: string;

  @Field()
  @Column({ type: 'text' })
  title: string;

  @Field()
  @Column({ type: 'text' })
  prompt: string;

  @Field(() => ID)
  @Column({ name: 'agent_id', type: 'uuid' })
  agentId: string;

  @Field(() => Int, { description: 'The version of the agent the task runs with' })
  @Column({ name: 'agent_version', type: 'int' })
  agentVersion: number;

  @Field(() => [String])
  @Column({ name: 'depends_on', type: 'text', array: true })
  dependsOn: string[];

  @Field(() => TaskStatus)
  @Column({ type: 'text' })
  status: TaskStatus;

  @Field(() => Int, { description: 'Retries so far after transient failures' })
  @Column({ type: 'int' })
  attempt: number;

  @Column({ type: 'jsonb' })
  transcript: ChatCompletionMessageParam[];

  @Field(() => Int, { description: 'Model calls made' })
  @Column({ type: 'int' })
  turns: number;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  result: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Field(() => Int)
  @Column({ name: 'estimated_tokens', type: 'int' })
  estimatedTokens: number;

  @Field(() => Float)
  @Column({ name: 'estimated_cost_usd', type: 'numeric', transformer: numericColumn })
  estimatedCostUsd: number;

  @Field(() => Int)
  @Column({ name: 'estimated_ms', type: 'int' })
  estimatedMs: number;

  @Field(() => Float)
  @Column({ name: 'prompt_tokens', type: 'bigint', transformer: numericColumn })
  promptTokens: number;

  @Field(() => Float)
  @Column({ name: 'completion_tokens', type: 'bigint', transformer: numericColumn })
  completionTokens: number;

  @Field(() => Float)
  @Column({ name: 'cost_usd', type: 'numeric', transformer: numericColumn })
  costUsd: number;

  @Column({ name: 'lease_owner', type: 'uuid', nullable: true })
  leaseOwner: string | null;

  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil: Date | null;

  @Column({ name: 'not_before', type: 'timestamptz', nullable: true })
  notBefore: Date | null;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'queued_at', type: 'timestamptz', nullable: true })
  queuedAt: Date | null;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}
