import { Field, ID, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { RiskLevel } from '../tools/agent-tool';

export enum ToolCallStatus {
  PENDING_APPROVAL = 'pending_approval',
  APPROVED = 'approved',
  RUNNING = 'running',
  COMPLETED = 'completed',
  FAILED = 'failed',
  /** The tool refused the arguments (a path outside the workspace, a command not allowed…) or does not exist. */
  REFUSED = 'refused',
  REJECTED = 'rejected',
  /** No decision before its deadline: rejected. */
  EXPIRED = 'expired',
  CANCELLED = 'cancelled',
}

export enum ToolRisk {
  LOW = 'low',
  MEDIUM = 'medium',
  HIGH = 'high',
}

registerEnumType(ToolCallStatus, { name: 'ToolCallStatus' });
registerEnumType(ToolRisk, { name: 'ToolRisk' });

/** A tool call a task's model asked for, with its risk, the decision on it and its output: the approval history. */
@ObjectType({ description: 'A tool call of a run: risk, decision (who, when) and output' })
@Entity('agent_tool_calls')
export class AgentToolCall {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID)
  @Column({ name: 'run_id', type: 'uuid' })
  runId: string;

  @Field(() => ID)
  @Column({ name: 'task_id', type: 'uuid' })
  taskId: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ name: 'call_id', type: 'text' })
  callId: string;

  @Field()
  @Column({ type: 'text' })
  tool: string;

  @Field(() => GraphQLJSONObject)
  @Column({ type: 'jsonb' })
  arguments: Record<string, unknown>;

  @Field(() => ToolRisk)
  @Column({ type: 'text' })
  risk: RiskLevel;

  @Field({ description: 'Calls of one class can be approved together within a run (approveToolCallClass)' })
  @Column({ name: 'approval_class', type: 'text' })
  approvalClass: string;

  @Field(() => ToolCallStatus)
  @Column({ type: 'text' })
  status: ToolCallStatus;

  @Field(() => String, { nullable: true, description: 'What the tool answered (truncated), or why it refused' })
  @Column({ type: 'text', nullable: true })
  output: string | null;

  @Field(() => ID, { nullable: true, description: 'Who approved or rejected it; null when it ran automatically or expired' })
  @Column({ name: 'decided_by', type: 'uuid', nullable: true })
  decidedBy: string | null;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true })
  decidedAt: Date | null;

  @Field(() => String, { nullable: true, description: 'auto (low risk), class (batch approval), expired, or the decider\'s note' })
  @Column({ name: 'decision_note', type: 'text', nullable: true })
  decisionNote: string | null;

  @Field(() => Date, { nullable: true, description: 'When an undecided call is rejected' })
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'warned_at', type: 'timestamptz', nullable: true })
  warnedAt: Date | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}
