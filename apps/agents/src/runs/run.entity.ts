import { Directive, Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { numericColumn } from '../common/columns';

export enum RunMode {
  DIRECT = 'direct',
  ORCHESTRATED = 'orchestrated',
}

export enum RunStatus {
  /** A chat message's run, waiting for the answer to the session's previous message. */
  WAITING_TURN = 'waiting_turn',
  PLANNING = 'planning',
  AWAITING_APPROVAL = 'awaiting_approval',
  RUNNING = 'running',
  COMPLETED = 'completed',
  FAILED = 'failed',
  CANCELLED = 'cancelled',
}

export const FINISHED_RUN_STATUSES: readonly RunStatus[] = [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED];

registerEnumType(RunMode, { name: 'AgentRunMode', description: 'DIRECT: one agent answers; ORCHESTRATED: a plan of tasks over several agents' });
registerEnumType(RunStatus, {
  name: 'AgentRunStatus',
  description: 'WAITING_TURN: a chat message waits for the answer to the previous one; PLANNING: the planner is writing the plan; AWAITING_APPROVAL: the plan waits to be approved (it can be edited and dry-run); FAILED: at least one task failed (see its tasks)',
});

/** One piece of work given to agents: a direct request, or a plan of tasks. */
@ObjectType({ description: 'Work given to agents, as one task or a plan of tasks (a DAG), with its outcome and spend' })
@Directive('@key(fields: "id")')
@Entity('agent_runs')
export class AgentRun {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field(() => ID, { description: 'The member who asked' })
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Field(() => ID, { nullable: true, description: 'The chat session whose message it answers' })
  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId: string | null;

  @Column({ name: 'session_seq', type: 'int', nullable: true })
  sessionSeq: number | null;

  @Field(() => RunMode)
  @Column({ type: 'text' })
  mode: RunMode;

  @Field()
  @Column({ type: 'text' })
  request: string;

  @Field(() => RunStatus)
  @Column({ type: 'text' })
  status: RunStatus;

  @Field(() => String, { nullable: true, description: 'The model that wrote the plan' })
  @Column({ name: 'planner_model', type: 'text', nullable: true })
  plannerModel: string | null;

  @Column({ name: 'candidate_agent_ids', type: 'uuid', array: true })
  candidateAgentIds: string[];

  @Column({ name: 'auto_start', type: 'boolean' })
  autoStart: boolean;

  @Field(() => Int, { description: 'Raised by each edit of the plan' })
  @Column({ name: 'plan_version', type: 'int' })
  planVersion: number;

  @Column({ name: 'last_seq', type: 'bigint', transformer: numericColumn })
  lastSeq: number;

  @Field(() => String, { nullable: true, description: 'The answer: the result of the task nothing depends on (several joined when there are more)' })
  @Column({ type: 'text', nullable: true })
  result: string | null;

  @Field(() => String, { nullable: true, description: 'Why it failed or was refused' })
  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Field(() => Float)
  @Column({ name: 'prompt_tokens', type: 'bigint', transformer: numericColumn })
  promptTokens: number;

  @Field(() => Float)
  @Column({ name: 'completion_tokens', type: 'bigint', transformer: numericColumn })
  completionTokens: number;

  @Field(() => Float)
  @Column({ name: 'cost_usd', type: 'numeric', transformer: numericColumn })
  costUsd: number;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}
