import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { DataSource } from 'typeorm';
import { openSecret } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { fullJitterDelay } from '@multipult/events';
import { counter } from '@multipult/observability';
import type { NotificationsConfig } from '../config';
import { QueueWorker } from '../queue/queue-worker';
import { publicOnlyLookup } from '@multipult/network';

export const WEBHOOK_SECRET_CONTEXT = 'multipult-webhook-secrets';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`; receivers reject old `t` (replays). */
export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  const digest = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${digest}`;
}

interface ClaimedDelivery {
  id: string;
  endpoint_id: string;
  event_type: string;
  body: string;
  attempts: number;
  url: string;
  sealed_secret: string;
  enabled: boolean;
}

type Outcome = { ok: true; statusCode: number; durationMs: number } | { ok: false; statusCode: number | null; error: string; durationMs: number };

const deliveriesTotal = () =>
  counter({ name: 'notifications_webhook_deliveries_total', help: 'Webhook delivery attempts by result', labelNames: ['result'] as const });

/**
 * Sends due webhook deliveries: signed POSTs with a timeout, no redirects, only to public
 * addresses (checked on connect) unless private networks are allowed; retries with exponential
 * backoff and full jitter, records every outcome, and disables an endpoint after too many
 * failures in a row.
 */
@Injectable()
export class WebhookWorker extends QueueWorker {
  protected readonly pollIntervalMs: number;
  private readonly metrics = deliveriesTotal();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: NotificationsConfig,
  ) {
    super();
    this.pollIntervalMs = config.WEBHOOK_POLL_INTERVAL_MS;
  }

  protected async pass(): Promise<boolean> {
    const [claimed]: [ClaimedDelivery[], number] = await this.dataSource.query(
      `UPDATE webhook_deliveries d SET status = 'sending', attempts = d.attempts + 1,
         next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
       FROM webhook_endpoints e
       WHERE e.id = d.endpoint_id AND d.id IN (
         SELECT id FROM webhook_deliveries WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
         ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING d.id, d.endpoint_id, d.event_type, d.body, d.attempts, e.url, e.sealed_secret, e.enabled`,
      [this.config.WEBHOOK_BATCH_SIZE, this.config.WEBHOOK_TIMEOUT_MS * 2],
    );
    await Promise.all(claimed.map((delivery) => this.deliver(delivery)));
    return claimed.length === this.config.WEBHOOK_BATCH_SIZE;
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
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
    const giveUp = delivery.attempts >= this.config.WEBHOOK_MAX_ATTEMPTS;
    this.metrics.inc({ result: giveUp ? 'failed' : 'retry' });
    const delayMs = fullJitterDelay(delivery.attempts, { initialMs: this.config.WEBHOOK_RETRY_INITIAL_MS, maxMs: this.config.WEBHOOK_RETRY_MAX_MS });
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `UPDATE webhook_deliveries SET status = $2, last_status_code = $3, last_error = $4, last_duration_ms = $5,
           next_attempt_at = now() + make_interval(secs => $6::double precision / 1000),
           completed_at = CASE WHEN $2 = 'failed' THEN now() END
         WHERE id = $1`,
        [delivery.id, giveUp ? 'failed' : 'pending', outcome.statusCode, outcome.error, outcome.durationMs, delayMs],
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
  }

  private post(delivery: ClaimedDelivery, secret: string): Promise<Outcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const timestamp = Math.floor(Date.now() / 1000);
    const url = new URL(delivery.url);
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
      request.on('error', (error) => resolve({ ok: false, statusCode: null, error: error.message.slice(0, 500), durationMs: elapsed() }));
      request.end(delivery.body);
    });
  }
}
