import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { sealSecret } from '@multipult/auth';
import { JobQueue } from '@multipult/jobs';
import { eventually } from '@multipult/testing';
import { NotificationsTestApp, startNotificationsTestApp } from '../testing/notifications-test-app';
import { WEBHOOK_DELIVERY_QUEUE, WEBHOOK_SECRET_CONTEXT, webhookSignature } from './webhook-jobs';
import { WebhooksService } from './webhooks.service';

// Deliveries as durable jobs through the whole app module (real PostgreSQL, pg-boss) to local
// HTTP receivers.

interface Received {
  delivery: string;
  signature: string;
  timestamp: string;
  body: string;
  at: number;
}

interface Receiver {
  url: string;
  received: Received[];
  /** Requests being answered right now, and the most at once. */
  inFlight: number;
  maxInFlight: number;
  respond: (request: Received) => Promise<number>;
  stop(): Promise<void>;
}

async function startReceiver(respond: (request: Received) => Promise<number>): Promise<Receiver> {
  const receiver = { received: [] as Received[], inFlight: 0, maxInFlight: 0, respond } as Receiver;
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', async () => {
      const received: Received = {
        delivery: String(request.headers['x-multipult-delivery']),
        signature: String(request.headers['x-multipult-signature']),
        timestamp: String(request.headers['x-multipult-timestamp']),
        body,
        at: Date.now(),
      };
      receiver.received.push(received);
      receiver.inFlight += 1;
      receiver.maxInFlight = Math.max(receiver.maxInFlight, receiver.inFlight);
      const status = await receiver.respond(received);
      receiver.inFlight -= 1;
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  receiver.stop = () => new Promise((resolve) => server.close(() => resolve()));
  return receiver;
}

describe('WebhookJobs', () => {
  let app: NotificationsTestApp;
  const receivers: Receiver[] = [];
  const SECRET = 'whsec_spec-secret';

  beforeAll(async () => {
    app = await startNotificationsTestApp('webhook_jobs', {
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_RETRY_INITIAL_SECONDS: '1',
      WEBHOOK_RETRY_MAX_SECONDS: '2',
      WEBHOOK_DISABLE_AFTER_FAILURES: '3',
      WEBHOOK_CONCURRENCY: '6',
      WEBHOOK_CONCURRENCY_PER_ENDPOINT: '2',
    });
  }, 60_000);

  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((receiver) => receiver.stop()));
  });

  afterAll(async () => {
    await app?.close();
  });

  async function receiver(respond: (request: Received) => Promise<number>): Promise<Receiver> {
    const started = await startReceiver(respond);
    receivers.push(started);
    return started;
  }

  async function endpoint(tenantId: string, url: string): Promise<string> {
    const [{ id }] = await app.dataSource.query(
      `INSERT INTO webhook_endpoints (tenant_id, url, event_types, sealed_secret) VALUES ($1, $2, ARRAY['*'], $3) RETURNING id`,
      [tenantId, url, sealSecret(SECRET, app.config.WEBHOOK_SECRET_KEY, WEBHOOK_SECRET_CONTEXT)],
    );
    return id;
  }

  /** An event for the tenant, its deliveries written (or rolled back) as the consumer does. */
  async function publish(tenantId: string, options: { rollback?: boolean } = {}): Promise<string> {
    const eventId = randomUUID();
    const event = { id: eventId, type: 'document.created', occurredAt: new Date().toISOString(), tenantId, payload: { title: 'Spec' } };
    await app.dataSource
      .transaction(async (manager) => {
        await app.get(WebhooksService).enqueue(manager, [event]);
        if (options.rollback) throw new Error('the consumer failed');
      })
      .catch((error: Error) => {
        if (!options.rollback) throw error;
      });
    return eventId;
  }

  const deliveries = (endpointId: string) =>
    app.dataSource.query<{ id: string; event_id: string; status: string; attempts: number; last_status_code: number | null; last_error: string | null }[]>(
      `SELECT id, event_id, status, attempts, last_status_code, last_error FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY created_at`,
      [endpointId],
    );

  const jobsOf = (deliveryId: string) =>
    app.dataSource.query<{ name: string; state: string }[]>(`SELECT name, state FROM notifications_jobs.job WHERE singleton_key = $1 ORDER BY name`, [
      deliveryId,
    ]);

  it('sends a signed POST from a job written with the delivery row, and nothing for a rolled-back one', async () => {
    const tenantId = randomUUID();
    const target = await receiver(async () => 204);
    const endpointId = await endpoint(tenantId, target.url);

    await publish(tenantId, { rollback: true });
    const eventId = await publish(tenantId);

    const [delivered] = await eventually('the delivery recorded', async () => {
      const rows = await deliveries(endpointId);
      return rows[0]?.status === 'succeeded' && rows;
    });
    expect(await deliveries(endpointId)).toHaveLength(1);
    expect(delivered).toMatchObject({ event_id: eventId, attempts: 1, last_status_code: 204, last_error: null });
    expect(target.received).toHaveLength(1);
    const [request] = target.received;
    expect(request.delivery).toBe(delivered.id);
    expect(request.signature).toBe(webhookSignature(SECRET, Number(request.timestamp), request.body));
    await eventually('the job completed', async () => (await jobsOf(delivered.id))[0]?.state === 'completed');
    expect(await jobsOf(delivered.id)).toEqual([{ name: WEBHOOK_DELIVERY_QUEUE, state: 'completed' }]);
  });

  it("fans several events out in one call: each to every endpoint of its own tenant subscribed to its type, each sent once", async () => {
    const [tenantId, otherTenantId] = [randomUUID(), randomUUID()];
    const [everything, commentsOnly, other] = await Promise.all([receiver(async () => 204), receiver(async () => 204), receiver(async () => 204)]);
    const everythingId = await endpoint(tenantId, everything.url);
    const [{ id: commentsOnlyId }] = await app.dataSource.query(
      `INSERT INTO webhook_endpoints (tenant_id, url, event_types, sealed_secret) VALUES ($1, $2, ARRAY['comment.created'], $3) RETURNING id`,
      [tenantId, commentsOnly.url, sealSecret(SECRET, app.config.WEBHOOK_SECRET_KEY, WEBHOOK_SECRET_CONTEXT)],
    );
    const otherId = await endpoint(otherTenantId, other.url);
    const event = (type: string, eventTenantId: string) => ({ id: randomUUID(), type, occurredAt: new Date().toISOString(), tenantId: eventTenantId, payload: { type } });
    const events = [event('document.created', tenantId), event('comment.created', tenantId), event('comment.created', otherTenantId), event('document.updated', tenantId)];
    await app.dataSource.transaction((manager) => app.get(WebhooksService).enqueue(manager, events));

    const sent = (endpointId: string, expected: number) =>
      eventually(`${expected} deliveries of ${endpointId} sent`, async () => {
        const rows = await deliveries(endpointId);
        return rows.length === expected && rows.every((row) => row.status === 'succeeded') && rows;
      });
    const eventIds = async (endpointId: string, expected: number) => (await sent(endpointId, expected)).map((row) => row.event_id).sort();
    expect(await eventIds(everythingId, 3)).toEqual([events[0].id, events[1].id, events[3].id].sort());
    expect(await eventIds(commentsOnlyId, 1)).toEqual([events[1].id]);
    expect(await eventIds(otherId, 1)).toEqual([events[2].id]);
    expect(everything.received.map((request) => (JSON.parse(request.body) as { type: string }).type).sort()).toEqual(['comment.created', 'document.created', 'document.updated']);
    expect(commentsOnly.received).toHaveLength(1);
    expect(other.received).toHaveLength(1);
  });

  it('retries with backoff, marks the row failed with the dead-lettered job, disables the endpoint, and redelivers on demand', async () => {
    const tenantId = randomUUID();
    let status = 500;
    const target = await receiver(async () => status);
    const endpointId = await endpoint(tenantId, target.url);

    await publish(tenantId);

    const [failed] = await eventually(
      'the delivery failed',
      async () => {
        const rows = await deliveries(endpointId);
        return rows[0]?.status === 'failed' && rows;
      },
      30_000,
    );
    expect(failed).toMatchObject({ attempts: 3, last_status_code: 500, last_error: 'HTTP 500' });
    expect(target.received.map((request) => request.delivery)).toEqual([failed.id, failed.id, failed.id]);
    const gaps = target.received.slice(1).map((request, index) => request.at - target.received[index].at);
    // Retry 1 waits 1-2 s, retry 2 2 s (the cap).
    expect(gaps[0]).toBeGreaterThanOrEqual(900);
    expect(gaps[1]).toBeGreaterThanOrEqual(1_900);
    const dead = await eventually('the dead-lettered job', async () => {
      const letters = await app.get(JobQueue).deadLetters<{ deliveryId: string }>(WEBHOOK_DELIVERY_QUEUE);
      return letters.find((letter) => letter.data.deliveryId === failed.id);
    });
    expect(dead.queue).toBe(`${WEBHOOK_DELIVERY_QUEUE}.dead`);
    const [disabled] = await app.dataSource.query(`SELECT enabled, consecutive_failures, disabled_reason FROM webhook_endpoints WHERE id = $1`, [
      endpointId,
    ]);
    expect(disabled).toEqual({ enabled: false, consecutive_failures: 3, disabled_reason: 'Disabled after 3 failed attempts in a row; last: HTTP 500' });

    status = 200;
    await app.dataSource.query(`UPDATE webhook_endpoints SET enabled = true, consecutive_failures = 0, disabled_reason = NULL WHERE id = $1`, [endpointId]);
    const redelivery = await app.get(WebhooksService).redeliver(tenantId, failed.id);

    await eventually('the redelivery', async () => (await deliveries(endpointId)).find((row) => row.id === redelivery.id)?.status === 'succeeded');
    expect(target.received.at(-1)?.delivery).toBe(redelivery.id);
    expect((await deliveries(endpointId)).find((row) => row.id === redelivery.id)).toMatchObject({ attempts: 1, last_status_code: 200 });
  }, 60_000);

  it('holds a slow endpoint to its per-endpoint limit while another endpoint is served', async () => {
    const tenantId = randomUUID();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const slow = await receiver(async () => {
      await released;
      return 200;
    });
    const fast = await receiver(async () => 200);
    const slowEndpoint = await endpoint(tenantId, slow.url);
    // Five events, each a delivery to both endpoints.
    for (let n = 0; n < 5; n += 1) await publish(tenantId);
    const fastEndpoint = await endpoint(tenantId, fast.url);
    for (let n = 0; n < 2; n += 1) await publish(tenantId);

    await eventually('two requests hanging at the slow endpoint', () => slow.inFlight === 2);
    await eventually('the fast endpoint served while the slow one hangs', async () => {
      const rows = await deliveries(fastEndpoint);
      return rows.length === 2 && rows.every((row) => row.status === 'succeeded');
    });
    expect(slow.received).toHaveLength(2);
    release();
    await eventually('all slow deliveries', async () => (await deliveries(slowEndpoint)).filter((row) => row.status === 'succeeded').length === 7, 30_000);
    expect(slow.maxInFlight).toBe(2);
  }, 60_000);
});
