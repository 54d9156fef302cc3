import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { InjectConfig } from '@multipult/config';
import { JobQueue } from '@multipult/jobs';
import { deleteInBatches } from '@multipult/database';
import { retentionRan, retentionScheduled } from '@multipult/observability';
import type { NotificationsConfig } from '../config';

/** The queue of the delivery logs' retention job. */
export const DELIVERY_RETENTION_QUEUE = 'deliveries.retention';

/**
 * Retention of the delivery logs, once across replicas every RETENTION_INTERVAL_SECONDS: finished
 * emails (sent, failed, digested) past EMAIL_RETENTION_DAYS and finished webhook deliveries past
 * WEBHOOK_DELIVERY_RETENTION_DAYS. Deliveries still pending or sending are never touched.
 */
@Injectable()
export class DeliveryRetention implements OnModuleInit {
  private readonly logger = new Logger(DeliveryRetention.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: NotificationsConfig,
    private readonly jobs: JobQueue,
  ) {}

  async onModuleInit(): Promise<void> {
    retentionScheduled(DELIVERY_RETENTION_QUEUE, this.config.RETENTION_INTERVAL_SECONDS);
    await this.jobs.defineRecurring({ name: DELIVERY_RETENTION_QUEUE, everySeconds: this.config.RETENTION_INTERVAL_SECONDS, handler: () => this.purge() });
  }

  async purge(): Promise<{ emails: number; webhookDeliveries: number }> {
    const emails = await deleteInBatches(
      this.dataSource,
      'email_deliveries',
      `status IN ('sent', 'failed', 'digested') AND coalesce(sent_at, created_at) < now() - make_interval(days => $1)`,
      [this.config.EMAIL_RETENTION_DAYS],
    );
    const webhookDeliveries = await deleteInBatches(
      this.dataSource,
      'webhook_deliveries',
      `status IN ('succeeded', 'failed') AND coalesce(completed_at, created_at) < now() - make_interval(days => $1)`,
      [this.config.WEBHOOK_DELIVERY_RETENTION_DAYS],
    );
    retentionRan(DELIVERY_RETENTION_QUEUE, { rows: { email_deliveries: emails, webhook_deliveries: webhookDeliveries } });
    if (emails || webhookDeliveries) this.logger.log({ emails, webhookDeliveries }, 'old deliveries deleted');
    return { emails, webhookDeliveries };
  }
}
