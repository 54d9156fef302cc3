import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@ObjectType({ description: "A URL of the tenant's that receives signed event deliveries" })
@Entity('webhook_endpoints')
export class WebhookEndpoint {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field()
  @Column({ type: 'text' })
  url: string;

  @Field()
  @Column({ type: 'text' })
  description: string;

  @Field(() => [String], { description: 'Event types delivered; `*` for all' })
  @Column({ name: 'event_types', type: 'text', array: true })
  eventTypes: string[];

  /** The signing secret, sealed with WEBHOOK_SECRET_KEY; shown in clear only when created or rotated. */
  @Column({ name: 'sealed_secret', type: 'text' })
  sealedSecret: string;

  @Field()
  @Column({ type: 'boolean' })
  enabled: boolean;

  @Field(() => String, { nullable: true, description: 'Why it was turned off automatically' })
  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason: string | null;

  @Field(() => Int, { description: 'Failed attempts in a row; reaching the limit disables the endpoint' })
  @Column({ name: 'consecutive_failures', type: 'integer' })
  consecutiveFailures: number;

  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy: string | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Field()
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
