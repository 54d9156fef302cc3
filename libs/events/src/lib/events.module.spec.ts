import { randomUUID } from 'node:crypto';
import { Test, TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConfigModule } from '@multipult/config';
import { DataSource } from 'typeorm';
import { InboxRecord } from './consumer/inbox-record.entity';
import { EventConsumer } from './consumer/event-consumer';
import { EventsConfig, EventsModule, createEventTransport } from './events.module';
import { OutboxMessage } from './outbox/outbox-message.entity';
import { OutboxWriter, outboxEvent } from './outbox/outbox-writer';
import { EVENT_TRANSPORT, EventTransport, ReceivedMessage } from './transport/event-transport';
import { InProcessTransport } from './transport/in-process-transport';
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

const baseConfig: EventsConfig = {
  NODE_ENV: 'test',
  KAFKA_SSL: false,
  KAFKA_TOPIC_PREFIX: '',
  KAFKA_CONSUMER_MAX_RETRIES: 1,
  KAFKA_CONSUMER_CONCURRENCY: 1,
  EVENT_CONSUMERS_ENABLED: true,
  KAFKA_CONSUMER_HANDLING_DEADLINE_MS: 20_000,
  OUTBOX_POLL_INTERVAL_MS: 100,
  OUTBOX_RELAY_ENABLED: true,
  OUTBOX_BATCH_SIZE: 50,
};

describe('EventsModule', () => {
  let db: EventsTestDatabase;

  beforeAll(async () => {
    db = await openEventsDatabase('events_module');
  });

  afterAll(async () => {
    await db?.close();
  });

  function bootService(config: EventsConfig): Promise<TestingModule> {
    return Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(config),
        TypeOrmModule.forRoot({ type: 'postgres', url: db.url, schema: SERVICE_SCHEMA, entities: [OutboxMessage, InboxRecord] }),
        EventsModule.forRoot({ service: 'events-module-spec' }),
      ],
    }).compile();
  }

  it.each([
    ['in process without KAFKA_BROKERS', {}, InProcessTransport],
    ['over Kafka with KAFKA_BROKERS', { KAFKA_BROKERS: process.env.KAFKA_BROKERS?.split(',') }, KafkaTransport],
  ])('wires writer, relay and consumer %s, relaying from bootstrap to shutdown', async (_mode, overrides, transportClass) => {
    const service = await bootService({ ...baseConfig, ...overrides });
    await service.init();
    try {
      expect(service.get(EVENT_TRANSPORT)).toBeInstanceOf(transportClass);
      const dataSource = service.get(DataSource);
      const Widget = uniqueWidgetContract();
      const groupId = uniqueGroup('module');
      await service.get(EventConsumer).consume({
        groupId,
        contracts: [Widget],
        fromBeginning: true,
        handler: (envelope, manager) => recordHandled(manager, envelope.id, groupId),
      });

      const envelope = await dataSource.transaction((manager) =>
        service.get(OutboxWriter).enqueue(manager, Widget, { aggregateId: randomUUID(), payload: widgetPayload() }),
      );

      await waitFor('the event to be relayed and handled', async () => (await handledCount(dataSource, [envelope.id], groupId)) === 1);
    } finally {
      await service.close();
    }
  });

  it('joins no consumer group with EVENT_CONSUMERS_ENABLED=false, and still relays', async () => {
    const service = await bootService({ ...baseConfig, EVENT_CONSUMERS_ENABLED: false });
    await service.init();
    try {
      const Widget = uniqueWidgetContract();
      const groupId = uniqueGroup('off');
      const handled: string[] = [];
      await service.get(EventConsumer).consume({ groupId, contracts: [Widget], fromBeginning: true, handler: async (envelope) => void handled.push(envelope.id) });
      // In process, the longest-subscribed member of a group gets its messages: this one only if the consumer did not join.
      const received: ReceivedMessage[] = [];
      await service.get<EventTransport>(EVENT_TRANSPORT).subscribe({ groupId, topics: [Widget.topic], fromBeginning: true, handler: async (message) => void received.push(message) });

      const envelope = await service.get(DataSource).transaction((manager) =>
        service.get(OutboxWriter).enqueue(manager, Widget, { aggregateId: randomUUID(), payload: widgetPayload() }),
      );

      await waitFor('the event relayed to the group', () => received.length === 1);
      expect(JSON.parse(received[0].value).id).toBe(envelope.id);
      expect(handled).toEqual([]);
    } finally {
      await service.close();
    }
  });

  it('relays nothing with OUTBOX_RELAY_ENABLED=false: its commits wake the relay of another instance at once', async () => {
    // The relaying instance polls once a minute, so only the writer's wake-up can bring it each event within seconds.
    const relaying = await bootService({ ...baseConfig, OUTBOX_POLL_INTERVAL_MS: 60_000 });
    await relaying.init();
    const writing = await bootService({ ...baseConfig, OUTBOX_RELAY_ENABLED: false });
    await writing.init();
    try {
      const Widget = uniqueWidgetContract();
      const groupId = uniqueGroup('relay-off');
      const relayedBy = async (service: TestingModule) => {
        const received: string[] = [];
        await service
          .get<EventTransport>(EVENT_TRANSPORT)
          .subscribe({ groupId, topics: [Widget.topic], fromBeginning: true, handler: async (message) => void received.push(JSON.parse(message.value).id) });
        return received;
      };
      const fromRelaying = await relayedBy(relaying);
      const fromWriting = await relayedBy(writing);
      const write = () =>
        writing.get(DataSource).transaction((manager) => writing.get(OutboxWriter).enqueue(manager, Widget, { aggregateId: randomUUID(), payload: widgetPayload() }));
      const writeWithEvents = () =>
        writing.get(OutboxWriter).writeWithEvents(writing.get(DataSource), { sql: 'SELECT 1 AS written', parameters: [] }, [
          outboxEvent(Widget, { aggregateId: randomUUID(), payload: widgetPayload() }),
        ]);

      const first = await write();
      await waitFor('the first event relayed by the other instance', () => fromRelaying.length === 1, 10_000);
      const second = await write();
      const {
        envelopes: [third],
      } = await writeWithEvents();
      await waitFor('both later events relayed without waiting for a poll', () => fromRelaying.length === 3, 10_000);

      expect(fromRelaying).toEqual([first.id, second.id, third.id]);
      expect(fromWriting).toEqual([]);
    } finally {
      await writing.close();
      await relaying.close();
    }
  });

  it('refuses the in-process transport in production', () => {
    expect(() => createEventTransport({ ...baseConfig, NODE_ENV: 'production' }, 'auth')).toThrow(/KAFKA_BROKERS is required in production/);
  });

  it('names SASL settings that are missing', () => {
    expect(() =>
      createEventTransport({ ...baseConfig, KAFKA_BROKERS: ['kafka:9092'], KAFKA_SASL_MECHANISM: 'scram-sha-512' }, 'auth'),
    ).toThrow('KAFKA_SASL_MECHANISM=scram-sha-512 needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
  });
});
