import { Field, ID, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Column, Entity, PrimaryColumn } from 'typeorm';

export enum AuditOutcome {
  SUCCESS = 'success',
  FAILURE = 'failure',
}
registerEnumType(AuditOutcome, { name: 'AuditOutcome' });

/** One security or administrative action: who did what to which target, when, from where. Never changed. */
@ObjectType()
@Entity('audit_log')
export class AuditEntry {
  @Field(() => ID)
  @PrimaryColumn({ type: 'bigint', generatedIdentity: 'ALWAYS', generated: 'identity' })
  id: string;

  @Field()
  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  @Field(() => ID, { nullable: true, description: 'The user who acted; null for the system or an anonymous caller' })
  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  @Field({ description: 'What happened, e.g. `user.banned`, `login.failed`' })
  @Column({ type: 'text' })
  action: string;

  @Field(() => AuditOutcome)
  @Column({ type: 'text' })
  outcome: AuditOutcome;

  @Field(() => String, { nullable: true })
  @Column({ name: 'target_type', type: 'text', nullable: true })
  targetType: string | null;

  @Field(() => String, { nullable: true })
  @Column({ name: 'target_id', type: 'text', nullable: true })
  targetId: string | null;

  @Field(() => ID, { nullable: true })
  @Column({ name: 'tenant_id', type: 'uuid', nullable: true })
  tenantId: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  ip: string | null;

  @Field(() => String, { nullable: true })
  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent: string | null;

  @Field(() => String, { nullable: true })
  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId: string | null;

  @Field(() => GraphQLJSONObject, { description: 'Action-specific facts (never secrets)' })
  @Column({ type: 'jsonb' })
  details: Record<string, unknown>;
}
