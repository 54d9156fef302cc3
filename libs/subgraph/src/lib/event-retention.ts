import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { InjectConfig } from '@multipult/config';
import { deleteInBatches } from '@multipult/database';
import { JobQueue } from '@multipult/jobs';
import { retentionRan, retentionScheduled } from '@multipult/observability';

/** Variables of the retention of the event tables every subgraph has. */
export const eventRetentionEnv = {
  /** Sent outbox rows older than this are deleted (unsent ones never are). */
  OUTBOX_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
  /** Inbox rows (which events a consumer group has processed) older than this are deleted. */
  INBOX_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** How often the retention job runs (once across replicas). */
  RETENTION_INTERVAL_SECONDS: z.coerce.number().min(1).max(86_400).default(3_600),
};

export interface EventRetentionConfig {
  OUTBOX_RETENTION_DAYS: number;
  INBOX_RETENTION_DAYS: number;
  RETENTION_INTERVAL_SECONDS: number;
}

/** The queue of the event tables' retention job. */
export const EVENT_RETENTION_QUEUE = 'events.retention';

/**
 * Retention of the outbox (sent rows past OUTBOX_RETENTION_DAYS) and the inbox (rows past
 * INBOX_RETENTION_DAYS), run as one recurring job across the service's replicas.
 */
@Injectable()
export class EventRetention implements OnModuleInit {
  private readonly logger = new Logger(EventRetention.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: EventRetentionConfig,
    private readonly jobs: JobQueue,
  ) {}

  async onModuleInit(): Promise<void> {
    retentionScheduled(EVENT_RETENTION_QUEUE, this.config.RETENTION_INTERVAL_SECONDS);
    await this.jobs.defineRecurring({
      name: EVENT_RETENTION_QUEUE,
      everySeconds: this.config.RETENTION_INTERVAL_SECONDS,
      handler: () => this.purge(),
    });
  }

  async purge(): Promise<{ outbox: number; inbox: number }> {
    const outbox = await deleteInBatches(this.dataSource, 'outbox', `published_at < now() - make_interval(days => $1)`, [
      this.config.OUTBOX_RETENTION_DAYS,
    ]);
    const inbox = await deleteInBatches(this.dataSource, 'inbox', `processed_at < now() - make_interval(days => $1)`, [
      this.config.INBOX_RETENTION_DAYS,
    ]);
    retentionRan(EVENT_RETENTION_QUEUE, { rows: { outbox, inbox } });
    if (outbox || inbox) this.logger.log({ outbox, inbox }, 'old event rows deleted');
    return { outbox, inbox };
  }
}
