import { randomBytes } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { loadConfig } from '@multipult/config';
import { metricsRegistry } from '@multipult/observability';
import { TestDatabase, createTestDatabase, eventually } from '@multipult/testing';
import { AppModule } from '../app.module';
import { notificationsConfigSchema } from '../config';
import { DeliveryRetention } from './delivery-retention';

// The whole notifications app module (not listening) on a database of its own, against the real
// PostgreSQL and Redis of the jest global setup; events travel in process.

describe('DeliveryRetention', () => {
  let database: TestDatabase;
  let app: INestApplication | undefined;
  let dataSource: DataSource;
  let retention: DeliveryRetention;

  const sample = async (name: string, labels: Record<string, string>): Promise<number> => {
    const { values } = (await metricsRegistry.getSingleMetric(name)?.get()) ?? { values: [] };
    return values.find((value) => Object.entries(labels).every(([key, label]) => value.labels[key] === label))?.value ?? 0;
  };

  beforeAll(async () => {
    database = await createTestDatabase('notifications_retention');
    const config = loadConfig(notificationsConfigSchema, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: database.url,
      REDIS_URL: process.env.REDIS_URL,
      REDIS_KEY_PREFIX: `test:notifications-retention:${randomBytes(4).toString('hex')}:`,
      AUTH_JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json',
      EMAIL_RETENTION_DAYS: '30',
      WEBHOOK_DELIVERY_RETENTION_DAYS: '20',
    });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    dataSource = app.get<DataSource>(getDataSourceToken());
    retention = app.get(DeliveryRetention);
    // The recurring job runs once at start; rows inserted while it runs could be its to delete, so
    // the spec waits for that run and then purges on its own (the next run is an hour away).
    await eventually('the start run of the retention job', async () => (await sample('retention_last_run_timestamp_seconds', { job: 'deliveries.retention' })) > 0);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('exports its schedule and that of the event tables', async () => {
    expect(await sample('retention_interval_seconds', { job: 'deliveries.retention' })).toBe(3_600);
    expect(await sample('retention_interval_seconds', { job: 'events.retention' })).toBe(3_600);
  });

  const email = async (status: string, daysAgo: number): Promise<string> =>
    (
      await dataSource.query(
        `INSERT INTO email_deliveries (to_address, type, locale, subject, text_body, html_body, status, created_at, sent_at, next_attempt_at)
         VALUES ('someone@example.com', 'spec', 'en', 'Subject', 'text', '<p>html</p>', $1,
                 now() - make_interval(days => $2::int), CASE WHEN $1 = 'sent' THEN now() - make_interval(days => $2::int) END,
                 now() + interval '1 year')
         RETURNING id`,
        [status, daysAgo],
      )
    )[0].id;

  it('deletes finished emails past EMAIL_RETENTION_DAYS and finished webhook deliveries past WEBHOOK_DELIVERY_RETENTION_DAYS, and keeps the rest', async () => {
    const oldSent = await email('sent', 31);
    const oldFailed = await email('failed', 31);
    const oldDigested = await email('digested', 31);
    const youngSent = await email('sent', 29);
    // Not finished: kept however old (next_attempt_at is far ahead, so the worker leaves it alone).
    const oldPending = await email('pending', 90);

    const [{ id: endpointId }] = await dataSource.query(
      `INSERT INTO webhook_endpoints (tenant_id, url, event_types, sealed_secret, enabled)
       VALUES (gen_random_uuid(), 'https://hooks.example.com/in', ARRAY['spec'], 'sealed', false) RETURNING id`,
    );
    const delivery = async (status: string, daysAgo: number): Promise<string> =>
      (
        await dataSource.query(
          `INSERT INTO webhook_deliveries (endpoint_id, tenant_id, event_id, event_type, body, status, created_at, completed_at, next_attempt_at)
           VALUES ($1, gen_random_uuid(), gen_random_uuid(), 'spec', '{}', $2, now() - make_interval(days => $3::int),
                   CASE WHEN $2 IN ('succeeded', 'failed') THEN now() - make_interval(days => $3::int) END, now() + interval '1 year')
           RETURNING id`,
          [endpointId, status, daysAgo],
        )
      )[0].id;
    const oldSucceeded = await delivery('succeeded', 21);
    const oldFailedDelivery = await delivery('failed', 21);
    const youngFailedDelivery = await delivery('failed', 19);
    const oldPendingDelivery = await delivery('pending', 90);

    const deletedEmailsBefore = await sample('retention_deleted_rows_total', { job: 'deliveries.retention', table: 'email_deliveries' });
    const deletedDeliveriesBefore = await sample('retention_deleted_rows_total', { job: 'deliveries.retention', table: 'webhook_deliveries' });
    const purgedAt = Date.now() / 1000;

    await retention.purge();

    const emailIds = (await dataSource.query(`SELECT id FROM email_deliveries`)).map((row: { id: string }) => row.id);
    expect(emailIds.sort()).toEqual([youngSent, oldPending].sort());
    expect(emailIds).not.toEqual(expect.arrayContaining([oldSent, oldFailed, oldDigested]));
    const deliveryIds = (await dataSource.query(`SELECT id FROM webhook_deliveries`)).map((row: { id: string }) => row.id);
    expect(deliveryIds.sort()).toEqual([youngFailedDelivery, oldPendingDelivery].sort());
    expect(deliveryIds).not.toContain(oldSucceeded);
    expect(deliveryIds).not.toContain(oldFailedDelivery);
    expect(await sample('retention_deleted_rows_total', { job: 'deliveries.retention', table: 'email_deliveries' })).toBe(deletedEmailsBefore + 3);
    expect(await sample('retention_deleted_rows_total', { job: 'deliveries.retention', table: 'webhook_deliveries' })).toBe(deletedDeliveriesBefore + 2);
    expect(await sample('retention_last_run_timestamp_seconds', { job: 'deliveries.retention' })).toBeGreaterThanOrEqual(purgedAt);
  });
});
