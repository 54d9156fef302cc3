import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An event a consumer group has processed; its presence makes a redelivery a no-op. */
@Entity({ name: 'inbox' })
export class InboxRecord {
  @PrimaryColumn({ name: 'consumer_group', type: 'text' })
  consumerGroup: string;

  @PrimaryColumn({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @Column({ name: 'processed_at', type: 'timestamptz', default: () => 'now()' })
  processedAt: Date;
}
