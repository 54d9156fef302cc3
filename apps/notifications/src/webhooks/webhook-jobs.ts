import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { DataSource, EntityManager } from 'typeorm';
import { openSecret } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { JobQueue } from '@multipult/jobs';
import { assertPublicLiteralHost, PrivateTargetError, publicOnlyLookup } from '@multipult/network';
import { counter } from '@multipult/observability';
import type { NotificationsConfig } from '../config';

export const WEBHOOK_SECRET_CONTEXT = 'multipult-webhook-secrets';
/** One job per webhook_deliveries row (singletonKey = its id), limited per endpoint (concurrencyKey). */
export const WEBHOOK_DELIVERY_QUEUE = 'webhook.delivery';
/** Gives due pending deliveries without a live job one (see requeueOrphans). */
export const WEBHOOK_REQUEUE_QUEUE = 'webhook.requeue';
const REQUEUE_EVERY_SECONDS = 60;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`; receivers reject old `t` (replays). */
export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  const digest = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${digest}`;
}

interface WebhookDeliveryJob {
  deliveryId: string;
}

interface ClaimedDelivery {
  id: string;
  endpoint_id: string;
  event_type: string;
  body: string;
  url: string;
  sealed_secret: string;
  enabled: boolean;
}

type Outcome = { ok: true; statusCode: number; durationMs: number } | { ok: false; statusCode: number | null; error: string; durationMs: number };

const deliveriesTotal = () =>
  counter({ name: 'notifications_webhook_deliveries_total', help: 'Webhook delivery attempts by result', labelNames: ['result'] as const });

/** pg-boss waits retryDelay · 2^(n-1) · (1 to 2, its jitter) before retry n, capped: the earliest retry n = attempt + 1 runs. */
function earliestRetrySeconds(attempt: number, initialSeconds: number, maxSeconds: number): number {
  return Math.min(maxSeconds, initialSeconds * 2 ** attempt);
}

/**
 * Sends webhook deliveries as durable jobs: signed POSTs with a timeout, no redirects, only to
 * public addresses (checked on connect) unless private networks are allowed. Each attempt records
 * its outcome on the row; a failure throws so the job retries with backoff, and the last one
 * marks the row failed (its job goes to the dead-letter queue). An endpoint is disabled after too
 * many failures in a row. At most WEBHOOK_CONCURRENCY_PER_ENDPOINT deliveries of one endpoint run
 * at once across replicas, so a slow endpoint holds up only its own.
 */
@Injectable()
export class WebhookJobs implements OnModuleInit {
  private readonly logger = new Logger(WebhookJobs.name);
  private readonly metrics = deliveriesTotal();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: NotificationsConfig,
    private readonly jobs: JobQueue,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.jobs.define<WebhookDeliveryJob>({
      name: WEBHOOK_DELIVERY_QUEUE,
      // One queued or running job per delivery row.
      policy: 'exclusive',
      retryLimit: this.config.WEBHOOK_MAX_ATTEMPTS - 1,
      retryDelaySeconds: this.config.WEBHOOK_RETRY_INITIAL_SECONDS,
      retryBackoff: true,
      retryDelayMaxSeconds: this.config.WEBHOOK_RETRY_MAX_SECONDS,
      expireInSeconds: Math.ceil((this.config.WEBHOOK_TIMEOUT_MS * 4) / 1000),
      concurrency: this.config.WEBHOOK_CONCURRENCY,
      concurrencyPerKey: this.config.WEBHOOK_CONCURRENCY_PER_ENDPOINT,
      handler: (job) => this.deliver(job.data.deliveryId, job.attempt),
    });
    await this.jobs.defineRecurring({ name: WEBHOOK_REQUEUE_QUEUE, everySeconds: REQUEUE_EVERY_SECONDS, handler: () => this.requeueOrphans() });
  }

  /** Queues the deliveries' jobs in the transaction that wrote their rows. */
  async enqueue(manager: EntityManager, deliveries: { id: string; endpointId: string }[]): Promise<void> {
    await this.jobs.enqueueMany<WebhookDeliveryJob>(
      WEBHOOK_DELIVERY_QUEUE,
      deliveries.map((delivery) => ({ data: { deliveryId: delivery.id }, singletonKey: delivery.id, concurrencyKey: delivery.endpointId })),
      { tx: manager },
    );
  }

  /**
   * Rows written by a version before the job queue, or whose handler died before recording its
   * last failure. A row's job is committed with it, so a row with a live job is skipped by the
   * queue's exclusive policy.
   */
  private async requeueOrphans(): Promise<void> {
    const rows: { id: string; endpoint_id: string }[] = await this.dataSource.query(
      `SELECT id, endpoint_id FROM webhook_deliveries WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
       ORDER BY next_attempt_at LIMIT 1000`,
    );
    for (const row of rows) {
      await this.jobs.enqueue<WebhookDeliveryJob>(
        WEBHOOK_DELIVERY_QUEUE,
        { deliveryId: row.id },
        { singletonKey: row.id, concurrencyKey: row.endpoint_id },
      );
    }
  }

  private async deliver(deliveryId: string, attempt: number): Promise<void> {
    const [[delivery]]: [ClaimedDelivery[], number] = await this.dataSource.query(
      `UPDATE webhook_deliveries d SET status = 'sending', attempts = d.attempts + 1
       FROM webhook_endpoints e
       WHERE e.id = d.endpoint_id AND d.id = $1 AND d.status IN ('pending', 'sending')
       RETURNING d.id, d.endpoint_id, d.event_type, d.body, e.url, e.sealed_secret, e.enabled`,
      [deliveryId],
    );
    // Already finished, or deleted with its endpoint: nothing to send.
    if (!delivery) return;
    if (!delivery.enabled) {
      await this.dataSource.query(
        `UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint disabled', completed_at = now() WHERE id = $1`,
        [delivery.id],
      );
      return;
    }
    const secret = openSecret(delivery.sealed_secret, this.config.WEBHOOK_SECRET_KEY, WEBHOOK_SECRET_CONTEXT);
    const outcome = await this.post(delivery, secret);
    if (outcome.ok) {
      this.metrics.inc({ result: 'succeeded' });
      await this.dataSource.transaction(async (manager) => {
        await manager.query(
          `UPDATE webhook_deliveries SET status = 'succeeded', last_status_code = $2, last_error = NULL, last_duration_ms = $3, completed_at = now()
           WHERE id = $1`,
          [delivery.id, outcome.statusCode, outcome.durationMs],
        );
        await manager.query('UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = $1', [delivery.endpoint_id]);
      });
      return;
    }
    const giveUp = attempt + 1 >= this.config.WEBHOOK_MAX_ATTEMPTS;
    this.metrics.inc({ result: giveUp ? 'failed' : 'retry' });
    const retryInSeconds = giveUp ? 0 : earliestRetrySeconds(attempt, this.config.WEBHOOK_RETRY_INITIAL_SECONDS, this.config.WEBHOOK_RETRY_MAX_SECONDS);
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `UPDATE webhook_deliveries SET status = $2, last_status_code = $3, last_error = $4, last_duration_ms = $5,
           next_attempt_at = now() + make_interval(secs => $6::double precision),
           completed_at = CASE WHEN $2 = 'failed' THEN now() END
         WHERE id = $1`,
        [delivery.id, giveUp ? 'failed' : 'pending', outcome.statusCode, outcome.error, outcome.durationMs, retryInSeconds],
      );
      await manager.query(
        `UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1,
           enabled = enabled AND consecutive_failures + 1 < $2,
           disabled_reason = CASE WHEN enabled AND consecutive_failures + 1 >= $2
             THEN format('Disabled after %s failed attempts in a row; last: %s', consecutive_failures + 1, $3::text) ELSE disabled_reason END
         WHERE id = $1`,
        [delivery.endpoint_id, this.config.WEBHOOK_DISABLE_AFTER_FAILURES, outcome.error],
      );
    });
    // The job retries (or, after the last attempt, goes to the dead-letter queue).
    throw new Error(outcome.error);
  }

  private post(delivery: ClaimedDelivery, secret: string): Promise<Outcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const timestamp = Math.floor(Date.now() / 1000);
    const url = new URL(delivery.url);
    const refused = (error: PrivateTargetError): Outcome => {
      this.logger.warn({ deliveryId: delivery.id, endpointId: delivery.endpoint_id, address: error.address }, 'webhook delivery refused: non-public address');
      return { ok: false, statusCode: null, error: error.message, durationMs: elapsed() };
    };
    if (!this.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS) {
      // Literals are connected to without a lookup: checked here (endpoints saved before a check was tightened, too).
      try {
        assertPublicLiteralHost(url);
      } catch (error) {
        if (error instanceof PrivateTargetError) return Promise.resolve(refused(error));
        throw error;
      }
    }
    return new Promise<Outcome>((resolve) => {
      const request = (url.protocol === 'https:' ? https : http).request(url, {
        method: 'POST',
        timeout: this.config.WEBHOOK_TIMEOUT_MS,
        lookup: this.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS ? undefined : (publicOnlyLookup as never),
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(delivery.body),
          'user-agent': 'Multipult-Webhooks/1',
          'x-multipult-delivery': delivery.id,
          'x-multipult-event': delivery.event_type,
          'x-multipult-timestamp': String(timestamp),
          'x-multipult-signature': webhookSignature(secret, timestamp, delivery.body),
        },
      });
      request.on('response', (response) => {
        response.resume();
        const statusCode = response.statusCode ?? 0;
        if (statusCode >= 200 && statusCode < 300) resolve({ ok: true, statusCode, durationMs: elapsed() });
        else resolve({ ok: false, statusCode, error: `HTTP ${statusCode}`, durationMs: elapsed() });
      });
      request.on('timeout', () => request.destroy(new Error(`no response within ${this.config.WEBHOOK_TIMEOUT_MS} ms`)));
      request.on('error', (error) =>
        resolve(error instanceof PrivateTargetError ? refused(error) : { ok: false, statusCode: null, error: error.message.slice(0, 500), durationMs: elapsed() }),
      );
      request.end(delivery.body);
    });
  }
}
