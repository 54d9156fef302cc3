import { Column, Entity, Generated, Index, PrimaryColumn } from 'typeorm';
import type { EventEnvelope } from '../event-contract';

/**
 * An event waiting for (or done with) publication, written in the transaction that caused it.
 * No schema here: each service's DataSource sets its own.
 */
@Entity({ name: 'outbox' })
@Index('outbox_pending_created_at_idx', ['createdAt'], { where: 'published_at IS NULL' })
@Index('outbox_pending_key_idx', ['messageKey', 'sequenceNumber'], { where: 'published_at IS NULL' })
export class OutboxMessage {
  /** The event id. */
  @PrimaryColumn('uuid')
  id: string;

  /**
   * Insertion order. Events of one transaction share created_at (now() is the transaction start),
   * so this is what keeps two events about the same aggregate in order.
   */
  @Column({ name: 'sequence_number', type: 'bigint' })
  @Generated('increment')
  sequenceNumber: string;

  @Column('text')
  topic: string;

  /** The aggregate id: Kafka's partitioning key, so events of one aggregate stay in order. */
  @Column({ name: 'message_key', type: 'text' })
  messageKey: string;

  @Column({ name: 'event_type', type: 'text' })
  eventType: string;

  @Column('jsonb')
  envelope: EventEnvelope<object>;

  @Column('jsonb')
  headers: Record<string, string>;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt: Date | null;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;
}
