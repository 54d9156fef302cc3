import { randomUUID } from 'node:crypto';
import { KafkaBroker, startKafkaBroker } from '@multipult/testing';
import { EventConsumer } from './consumer/event-consumer';
import { OutboxRelay } from './outbox/outbox-relay';
import { OutboxWriter } from './outbox/outbox-writer';
import { KafkaTransport } from './transport/kafka-transport';
import {
  EventsTestDatabase,
  SERVICE_SCHEMA,
  handledCount,
  openEventsDatabase,
  recordHandled,
  uniqueGroup,
  uniqueWidgetContract,
  waitFor,
  widgetPayload,
} from '../testing/support';

jest.setTimeout(90_000);

const OUTAGE_EVENTS = 20;

describe('Kafka broker outage', () => {
  let db: EventsTestDatabase;
  let broker: KafkaBroker | undefined;
  let relayTransport: KafkaTransport;
  let consumerTransport: KafkaTransport | undefined;
  let relay: OutboxRelay;
  let consumer: EventConsumer | undefined;
  const writer = new OutboxWriter();

  beforeAll(async () => {
    [db, broker] = await Promise.all([openEventsDatabase('events_outage'), startKafkaBroker()]);
  });

  afterAll(async () => {
    await relay?.stop();
    await consumer?.stop();
    await Promise.all([relayTransport?.disconnect(), consumerTransport?.disconnect()]);
    await broker?.stop();
    await db?.close();
  });

  const pendingRows = (): Promise<{ id: string; attempts: number; last_error: string | null }[]> =>
    db.dataSource.query(`SELECT id, attempts, last_error FROM ${SERVICE_SCHEMA}.outbox WHERE published_at IS NULL`);

  it('keeps events in the outbox while the broker is down and publishes all of them once it is back', async () => {
    const Widget = uniqueWidgetContract();
    const brokers = (broker as KafkaBroker).brokers;
    const port = Number(brokers.split(':').pop());
    relayTransport = new KafkaTransport({ brokers: [brokers], clientId: 'outage-relay' });
    relay = new OutboxRelay(db.dataSource, relayTransport, {
      pollIntervalMs: 200,
      batchSize: 100,
      retryBackoff: { initialMs: 200, maxMs: 2_000 },
    });
    await relay.start();

    // The relay is connected and has published before the outage.
    const before = await db.dataSource.transaction((manager) =>
      writer.enqueue(manager, Widget, { aggregateId: randomUUID(), payload: widgetPayload('before') }),
    );
    await waitFor('the pre-outage event to be published', async () => (await pendingRows()).length === 0 && before);

    await (broker as KafkaBroker).stop();
    broker = undefined;

    const ids: string[] = [];
    for (let i = 0; i < OUTAGE_EVENTS; i++) {
      const startedAt = Date.now();
      const envelope = await db.dataSource.transaction((manager) =>
        writer.enqueue(manager, Widget, { aggregateId: randomUUID(), payload: widgetPayload(`during-${i}`) }),
      );
      // Writers never wait for Kafka: the outbox decouples them from the broker.
      expect(Date.now() - startedAt).toBeLessThan(1_000);
      ids.push(envelope.id);
    }

    const failed = await waitFor(
      'every outage event to have a failed publish attempt on record',
      async () => {
        const rows = await pendingRows();
        return rows.length === OUTAGE_EVENTS && rows.every((row) => row.attempts >= 1 && row.last_error) && rows;
      },
      30_000,
    );
    expect(failed.map((row) => row.id).sort()).toEqual([...ids].sort());

    broker = await startKafkaBroker({ port });
    consumerTransport = new KafkaTransport({ brokers: [broker.brokers], clientId: 'outage-consumer' });
    consumer = new EventConsumer(db.dataSource, consumerTransport, { maxRetries: 1 });
    const groupId = uniqueGroup('outage');
    await consumer.consume({
      groupId,
      contracts: [Widget],
      fromBeginning: true,
      handler: (envelope, manager) => recordHandled(manager, envelope.id, groupId),
    });

    await waitFor('all outage events to be consumed', async () => (await handledCount(db.dataSource, ids, groupId)) === OUTAGE_EVENTS, 45_000);
    await waitFor('every outbox row to be marked published', async () => (await pendingRows()).length === 0, 10_000);
    const [{ published }] = await db.dataSource.query(
      `SELECT count(*)::int AS published FROM ${SERVICE_SCHEMA}.outbox WHERE id = ANY($1::uuid[]) AND published_at IS NOT NULL`,
      [ids],
    );
    expect(published).toBe(OUTAGE_EVENTS);
  });
});
