import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export enum WebhookDeliveryStatus {
  PENDING = 'pending',
  SENDING = 'sending',
  SUCCEEDED = 'succeeded',
  FAILED = 'failed',
}
registerEnumType(WebhookDeliveryStatus, { name: 'WebhookDeliveryStatus' });

@ObjectType({ description: 'One event sent (or being sent) to one endpoint' })
@Entity('webhook_deliveries')
export class WebhookDelivery {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID)
  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field(() => ID, { nullable: true, description: 'The event delivered (the `id` in the body)' })
  @Column({ name: 'event_id', type: 'uuid', nullable: true })
  eventId: string | null;

  @Field()
  @Column({ name: 'event_type', type: 'text' })
  eventType: string;

  @Field({ description: 'The exact JSON body sent' })
  @Column({ type: 'text' })
  body: string;

  @Field(() => WebhookDeliveryStatus)
  @Column({ type: 'text' })
  status: WebhookDeliveryStatus;

  @Field(() => Int)
  @Column({ type: 'integer' })
  attempts: number;

  @Field({ description: 'When the next attempt is due (pending deliveries)' })
  @Column({ name: 'next_attempt_at', type: 'timestamptz' })
  nextAttemptAt: Date;

  @Field(() => Int, { nullable: true })
  @Column({ name: 'last_status_code', type: 'integer', nullable: true })
  lastStatusCode: number | null;

  @Field(() => String, { nullable: true })
  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Field(() => Int, { nullable: true })
  @Column({ name: 'last_duration_ms', type: 'integer', nullable: true })
  lastDurationMs: number | null;

  @Field(() => ID, { nullable: true, description: 'The delivery this one repeats (a redelivery on demand)' })
  @Column({ name: 'redelivery_of', type: 'uuid', nullable: true })
  redeliveryOf: string | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt: Date | null;
}
