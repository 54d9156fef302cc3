import { randomBytes, randomUUID } from 'node:crypto';
import { createTestDatabase } from '@multipult/testing';
import { DataSource, EntityManager } from 'typeorm';
import { z } from 'zod';
import { InboxRecord } from '../lib/consumer/inbox-record.entity';
import { defineEvent } from '../lib/event-contract';
import { CreateEventTables1732400000000 } from '../lib/outbox/create-event-tables.migration';
import { OutboxMessage } from '../lib/outbox/outbox-message.entity';
import { EventTransport, ReceivedMessage, Subscription } from '../lib/transport/event-transport';

// Test helpers shared by the spec files of this library (not exported by the package).

export const SERVICE_SCHEMA = 'svc';

export interface EventsTestDatabase {
  dataSource: DataSource;
  url: string;
  close(): Promise<void>;
}

/**
 * A fresh database laid out like a service's: its own schema, the event tables created by the
 * migration, and `handled_events` where test handlers record their effects.
 */
export async function openEventsDatabase(prefix: string): Promise<EventsTestDatabase> {
  const database = await createTestDatabase(prefix);
  const dataSource = new DataSource({
    type: 'postgres',
    url: database.url,
    schema: SERVICE_SCHEMA,
    entities: [OutboxMessage, InboxRecord],
    migrations: [CreateEventTables1732400000000],
  });
  await dataSource.initialize();
  await dataSource.query(`CREATE SCHEMA ${SERVICE_SCHEMA}`);
  await dataSource.runMigrations();
  await dataSource.query(
    `CREATE TABLE ${SERVICE_SCHEMA}.handled_events (event_id uuid NOT NULL, consumer text NOT NULL, details jsonb)`,
  );
  return {
    dataSource,
    url: database.url,
    close: async () => {
      await dataSource.destroy();
      await database.drop();
    },
  };
}

/** What a test handler does: one row per call, written in the handler's transaction. */
export function recordHandled(manager: EntityManager, eventId: string, consumer: string, details: unknown = null) {
  return manager.query(`INSERT INTO ${SERVICE_SCHEMA}.handled_events (event_id, consumer, details) VALUES ($1, $2, $3)`, [
    eventId,
    consumer,
    JSON.stringify(details),
  ]);
}

export async function handledCount(dataSource: DataSource, eventIds: string[], consumer?: string): Promise<number> {
  const [{ count }] = await dataSource.query(
    `SELECT count(*)::int AS count FROM ${SERVICE_SCHEMA}.handled_events
     WHERE event_id = ANY($1::uuid[]) AND ($2::text IS NULL OR consumer = $2)`,
    [eventIds, consumer ?? null],
  );
  return count;
}

/** A contract on a topic no other test uses. */
export function uniqueWidgetContract() {
  return defineEvent({
    type: 'widget.created',
    version: 1,
    topic: `t${randomBytes(5).toString('hex')}.widget.v1`,
    schema: z.object({ widgetId: z.uuid(), name: z.string().min(1) }),
  });
}

export const widgetPayload = (name = 'gear') => ({ widgetId: randomUUID(), name });

export const uniqueGroup = (name: string) => `${name}-${randomBytes(4).toString('hex')}`;

/** Polls until `check` returns a value other than undefined/false, or fails naming what never happened. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/** The brokers the events project's global setup started. */
export function brokersFromEnvironment(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run through `nx test events` (its global setup starts Kafka)');
  return brokers.split(',');
}

/** Everything a new group receives on a topic, undecoded, as a Kafka tool would see it; its subscription joins `subscriptions`. */
export async function collectRawMessages(transport: EventTransport, topic: string, subscriptions: Subscription[]): Promise<ReceivedMessage[]> {
  const received: ReceivedMessage[] = [];
  subscriptions.push(
    await transport.subscribe({
      groupId: uniqueGroup('raw'),
      topics: [topic],
      fromBeginning: true,
      handler: async (message) => void received.push(message),
    }),
  );
  return received;
}
