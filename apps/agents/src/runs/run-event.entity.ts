import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { numericColumn } from '../common/columns';

/**
 * What happened in a run, in order: run.*, plan.*, task.*, message.delta, tool.call, tool.result,
 * approval.*, budget.exceeded, error. `seq` is the event id a stream resumes after.
 */
@ObjectType({ description: 'One event of a run; seq orders them and is what lastEventId names' })
@Entity('agent_run_events')
export class RunEvent {
  @Field(() => ID)
  @PrimaryColumn({ name: 'run_id', type: 'uuid' })
  runId: string;

  @Field(() => Int)
  @PrimaryColumn({ type: 'bigint', transformer: numericColumn })
  seq: number;

  @Field()
  @Column({ type: 'text' })
  type: string;

  @Field(() => ID, { nullable: true })
  @Column({ name: 'task_id', type: 'uuid', nullable: true })
  taskId: string | null;

  @Field(() => GraphQLJSONObject)
  @Column({ type: 'jsonb' })
  payload: Record<string, unknown>;

  @Field()
  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

/** Event types after which a run's stream ends. */
export const FINAL_EVENT_TYPES = new Set(['run.completed', 'run.failed', 'run.cancelled']);
