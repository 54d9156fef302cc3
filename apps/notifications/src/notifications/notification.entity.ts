import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { UserReference } from '../recipients/user.reference';

/** A bigint column read as a number: per-user sequences stay far below 2^53. */
const bigintAsNumber = { to: (value: number) => value, from: (value: string | null) => (value === null ? null : Number(value)) };

@ObjectType({ description: "A notification in a user's inbox" })
@Entity('notifications')
export class Notification {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'recipient_id', type: 'uuid' })
  recipientId: string;

  @Field(() => Int, {
    description: "Position in the recipient's stream: 1, 2, 3… in commit order. Acknowledge it; resubscribe after it to miss nothing",
  })
  @Column({ type: 'bigint', transformer: bigintAsNumber })
  sequence: number;

  @Field(() => ID, { nullable: true, description: 'The tenant it concerns, if any' })
  @Column({ name: 'tenant_id', type: 'uuid', nullable: true })
  tenantId: string | null;

  @Field({ description: 'welcome, mention, comment_reply, security_alert, announcement, …' })
  @Column({ type: 'text' })
  type: string;

  /** Template parameters (names, ids, link) captured when it was created; title and body render from them. */
  @Column({ type: 'jsonb' })
  data: Record<string, string>;

  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  @Column({ name: 'source_event_id', type: 'uuid', nullable: true })
  sourceEventId: string | null;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'read_at', type: 'timestamptz', nullable: true })
  readAt: Date | null;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'archived_at', type: 'timestamptz', nullable: true })
  archivedAt: Date | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  // Plain getters rather than resolvers: live delivery executes these once per socket per notification.
  @Field(() => String, { nullable: true, description: 'The page in the client app it is about' })
  get link(): string | null {
    return this.data.link ?? null;
  }

  @Field(() => Boolean)
  get read(): boolean {
    return this.readAt !== null;
  }

  @Field(() => UserReference, { nullable: true, description: 'Who caused it' })
  get actor(): UserReference | null {
    return this.actorId ? { id: this.actorId } : null;
  }
}
