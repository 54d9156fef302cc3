import { randomUUID } from 'node:crypto';
import { RequestContext, RequestContextData, traceIdOf } from '@multipult/observability';
import { startTcpProxy } from '@multipult/testing';
import { MetricValueWithName, register } from 'prom-client';
import { DataSource } from 'typeorm';
import { DeadLetterHeaders, EventConsumer } from './consumer/event-consumer';
import { InboxRecord } from './consumer/inbox-record.entity';
import { buildEnvelope, envelopeHeaders } from './envelope';
import { OutboxMessage } from './outbox/outbox-message.entity';
import { OutboxRelay } from './outbox/outbox-relay';
import { OutboxWriter, outboxEvent } from './outbox/outbox-writer';
import { OutgoingMessage, ReceivedMessage, Subscription, deadLetterTopic } from './transport/event-transport';
import { KafkaTransport } from './transport/kafka-transport';
import {
  EventsTestDatabase,
  brokersFromEnvironment,
  collectRawMessages,
  SERVICE_SCHEMA,
  handledCount,
  openEventsDatabase,
  recordHandled,
  uniqueGroup,
  uniqueWidgetContract,
  waitFor,
  widgetPayload,
} from '../testing/support';

const MAX_RETRIES = 2;

describe('events over Kafka', () => {
  let db: EventsTestDatabase;
  let transport: KafkaTransport;
  let relay: OutboxRelay;
  let consumer: EventConsumer;
  const writer = new OutboxWriter();
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    db = await openEventsDatabase('events_kafka');
    transport = new KafkaTransport({ brokers: brokersFromEnvironment(), clientId: 'events-kafka-spec' });
    await transport.connect();
    relay = new OutboxRelay(db.dataSource, transport, { pollIntervalMs: 200, batchSize: 100 });
    consumer = new EventConsumer(db.dataSource, transport, {
      maxRetries: MAX_RETRIES,
      retryBackoff: { initialMs: 50, maxMs: 200 },
    });
    await relay.start();
  });

  afterAll(async () => {
    await relay?.stop();
    await Promise.all(subscriptions.map((subscription) => subscription.stop()));
    await consumer?.stop();
    await transport?.disconnect();
    await db?.close();
  });

  const collect = (topic: string) => collectRawMessages(transport, topic, subscriptions);

  const eventIdOf = (message: ReceivedMessage): string => JSON.parse(message.value).id;

  it('publishes a committed event with its key and headers, in order per aggregate, to every consumer group', async () => {
    const Widget = uniqueWidgetContract();
    const received = await collect(Widget.topic);
    const contexts: RequestContextData[] = [];
    subscriptions.push(
      await consumer.consume({
        groupId: uniqueGroup('widgets'),
        contracts: [Widget],
        fromBeginning: true,
        handler: async (envelope, manager) => {
          contexts.push({ ...(RequestContext.current() as RequestContextData) });
          await recordHandled(manager, envelope.id, 'widgets', envelope.payload);
        },
      }),
    );
    const request: RequestContextData = {
      requestId: 'req-kafka-0001',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tenantId: randomUUID(),
      userId: randomUUID(),
      locales: [],
    };
    const aggregateId = randomUUID();

    const [first, second] = await RequestContext.run(request, () =>
      db.dataSource.transaction(async (manager) => [
        await writer.enqueue(manager, Widget, { aggregateId, payload: widgetPayload('first') }),
        await writer.enqueue(manager, Widget, { aggregateId, payload: widgetPayload('second') }),
      ]),
    );

    await waitFor('both events on the topic', () => received.length >= 2);
    expect(received.map(eventIdOf)).toEqual([first.id, second.id]);
    expect(received[0]).toMatchObject({
      key: aggregateId,
      headers: {
        'x-request-id': request.requestId,
        traceparent: request.traceparent,
        'event-type': 'widget.created',
        'event-version': '1',
        'tenant-id': request.tenantId,
      },
    });
    expect(JSON.parse(received[0].value)).toEqual(first);

    await waitFor('the handler to run', async () => (await handledCount(db.dataSource, [first.id, second.id])) === 2);
    expect(contexts[0]).toMatchObject({ requestId: request.requestId, tenantId: request.tenantId, userId: request.userId });
    expect(traceIdOf(contexts[0].traceparent)).toBe(traceIdOf(request.traceparent));

    const rows = await db.dataSource.query(
      `SELECT published_at, attempts, last_error FROM ${SERVICE_SCHEMA}.outbox WHERE id = ANY($1::uuid[])`,
      [[first.id, second.id]],
    );
    expect(rows).toEqual([
      { published_at: expect.any(Date), attempts: 1, last_error: null },
      { published_at: expect.any(Date), attempts: 1, last_error: null },
    ]);
  });

  it('measures event freshness: from the writing transaction to the broker, and from occurrence to the handling commit', async () => {
    const Widget = uniqueWidgetContract();
    const groupId = uniqueGroup('freshness');
    subscriptions.push(
      await consumer.consume({
        groupId,
        contracts: [Widget],
        fromBeginning: true,
        handler: (envelope, manager) => recordHandled(manager, envelope.id, 'freshness', envelope.payload),
      }),
    );
    const observed = async (name: string, labels: Record<string, string>) => {
      // A histogram's values name their series (_bucket, _sum, _count).
      const values = ((await register.getSingleMetric(name)?.get())?.values ?? []) as MetricValueWithName<string>[];
      const matching = (metric: string) =>
        values.find((value) => value.metricName === metric && Object.entries(labels).every(([key, label]) => value.labels[key] === label))?.value ?? 0;
      return { count: matching(`${name}_count`), sum: matching(`${name}_sum`) };
    };
    const heldMs = 400;
    const started = Date.now();
    // The event occurs, then its transaction stays open: freshness counts from the occurrence, not the commit.
    const event = await db.dataSource.transaction(async (manager) => {
      const enqueued = await writer.enqueue(manager, Widget, { aggregateId: randomUUID(), payload: widgetPayload('fresh') });
      await new Promise((resolve) => setTimeout(resolve, heldMs));
      return enqueued;
    });
    await waitFor('the handler to run', async () => (await handledCount(db.dataSource, [event.id])) === 1);
    await waitFor('the consumer delay recorded', async () => (await observed('events_consumer_delay_seconds', { group: groupId, topic: Widget.topic })).count === 1);
    const elapsedSeconds = (Date.now() - started) / 1000;

    const consumed = await observed('events_consumer_delay_seconds', { group: groupId, topic: Widget.topic });
    expect(consumed.sum).toBeGreaterThanOrEqual(heldMs / 1000);
    expect(consumed.sum).toBeLessThanOrEqual(elapsedSeconds);
    const published = await observed('outbox_publish_delay_seconds', { topic: Widget.topic });
    expect(published.count).toBe(1);
    expect(published.sum).toBeGreaterThanOrEqual(heldMs / 1000);
    // Not compared with the consumer's figure: the relay counts from the transaction's start on the
    // database clock, which comes a moment before the envelope's occurredAt.
    expect(published.sum).toBeLessThanOrEqual(elapsedSeconds);
  });

  it('writes a change and its events in one statement: both or neither, the events published in order', async () => {
    const Widget = uniqueWidgetContract();
    const received = await collect(Widget.topic);
    const aggregateId = randomUUID();
    const widget = (name: string) => outboxEvent(Widget, { aggregateId, payload: widgetPayload(name) });
    const write = (eventId: string, wanted: boolean, events: ReturnType<typeof widget>[]) =>
      writer.writeWithEvents<{ event_id: string }>(
        db.dataSource,
        {
          sql: `INSERT INTO ${SERVICE_SCHEMA}.handled_events (event_id, consumer) SELECT $1::uuid, 'one-statement' WHERE $2::boolean RETURNING event_id`,
          parameters: [eventId, wanted],
        },
        events,
      );

    const changed = randomUUID();
    const { rows, envelopes } = await write(changed, true, [widget('first'), widget('second')]);
    expect(rows).toEqual([{ event_id: changed }]);
    expect(envelopes.map((envelope) => envelope.payload)).toEqual([
      expect.objectContaining({ name: 'first' }),
      expect.objectContaining({ name: 'second' }),
    ]);
    await waitFor('both events on the topic', () => received.length >= 2);
    expect(received.map(eventIdOf)).toEqual(envelopes.map((envelope) => envelope.id));

    // A conditional write that wrote nothing records no event, and a failing one neither.
    await expect(write(randomUUID(), false, [widget('not written')])).resolves.toEqual({ rows: [], envelopes: [] });
    await expect(write('not-a-uuid', true, [widget('failed')])).rejects.toThrow(/uuid/);
    const [{ count }] = await db.dataSource.query(`SELECT count(*)::int AS count FROM ${SERVICE_SCHEMA}.outbox WHERE topic = $1`, [Widget.topic]);
    expect(count).toBe(2);
    expect(await handledCount(db.dataSource, [changed], 'one-statement')).toBe(1);

    // Without events the statement's rows come back as they are, an UPDATE's or a DELETE's too.
    const handled = (sql: string, id: string) => writer.writeWithEvents<{ event_id: string }>(db.dataSource, { sql, parameters: [id] }, []);
    await expect(
      handled(`UPDATE ${SERVICE_SCHEMA}.handled_events SET consumer = consumer WHERE event_id = $1 AND consumer = 'one-statement' RETURNING event_id`, changed),
    ).resolves.toEqual({ rows: [{ event_id: changed }], envelopes: [] });
    await expect(handled(`DELETE FROM ${SERVICE_SCHEMA}.handled_events WHERE event_id = $1 RETURNING event_id`, randomUUID())).resolves.toEqual({
      rows: [],
      envelopes: [],
    });
  });

  it('publishes nothing for a transaction that rolls back', async () => {
    const Widget = uniqueWidgetContract();
    const received = await collect(Widget.topic);
    let rolledBackId: string | undefined;

    await expect(
      db.dataSource.transaction(async (manager) => {
        rolledBackId = (await writer.enqueue(manager, Widget, { aggregateId: randomUUID(), payload: widgetPayload() })).id;
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    // Published after the rolled-back one would have been: once it arrives, the other had its chance.
    const marker = await db.dataSource.transaction((manager) =>
      writer.enqueue(manager, Widget, { aggregateId: randomUUID(), payload: widgetPayload('marker') }),
    );

    await waitFor('the marker event', () => received.some((message) => eventIdOf(message) === marker.id));
    expect(received.map(eventIdOf)).toEqual([marker.id]);
    const [{ count }] = await db.dataSource.query(`SELECT count(*)::int AS count FROM ${SERVICE_SCHEMA}.outbox WHERE id = $1`, [
      rolledBackId,
    ]);
    expect(count).toBe(0);
  });

  it('refuses to enqueue outside a transaction', async () => {
    const Widget = uniqueWidgetContract();
    await expect(
      writer.enqueue(db.dataSource.manager, Widget, { aggregateId: randomUUID(), payload: widgetPayload() }),
    ).rejects.toThrow(/needs the EntityManager of an open transaction/);
  });

  it('has one effect when the same event is delivered twice', async () => {
    const Widget = uniqueWidgetContract();
    const groupId = uniqueGroup('dedupe');
    subscriptions.push(
      await consumer.consume({
        groupId,
        contracts: [Widget],
        fromBeginning: true,
        handler: (envelope, manager) => recordHandled(manager, envelope.id, groupId),
      }),
    );
    const asMessage = (envelope: ReturnType<typeof buildEnvelope>): OutgoingMessage => ({
      topic: Widget.topic,
      key: envelope.aggregateId,
      value: JSON.stringify(envelope),
      headers: envelopeHeaders(envelope),
    });
    const twice = buildEnvelope(Widget, { aggregateId: randomUUID(), payload: widgetPayload() });
    const marker = buildEnvelope(Widget, { aggregateId: twice.aggregateId, payload: widgetPayload('marker') });

    await transport.publish([asMessage(twice)]);
    await transport.publish([asMessage(twice)]);
    await transport.publish([asMessage(marker)]);

    await waitFor('the marker to be handled', async () => (await handledCount(db.dataSource, [marker.id], groupId)) === 1);
    expect(await handledCount(db.dataSource, [twice.id], groupId)).toBe(1);
    const duplicates = (await register.getSingleMetric('events_consumer_processed_total')?.get())?.values.find(
      (value) => value.labels.group === groupId && value.labels.result === 'duplicate',
    );
    expect(duplicates?.value).toBe(1);
  });

  it('moves a message whose handler keeps failing to the dead-letter topic after the retries, and moves on', async () => {
    const Widget = uniqueWidgetContract();
    const deadLetters = await collect(deadLetterTopic(Widget.topic));
    const attemptsById = new Map<string, number>();
    subscriptions.push(
      await consumer.consume({
        groupId: uniqueGroup('failing'),
        contracts: [Widget],
        fromBeginning: true,
        handler: async (envelope, manager) => {
          attemptsById.set(envelope.id, (attemptsById.get(envelope.id) ?? 0) + 1);
          await recordHandled(manager, envelope.id, 'failing');
          throw new Error('downstream unavailable');
        },
      }),
    );

    const [poisoned, next] = await db.dataSource.transaction(async (manager) => [
      await writer.enqueue(manager, Widget, { aggregateId: randomUUID(), payload: widgetPayload() }),
      await writer.enqueue(manager, Widget, { aggregateId: randomUUID(), payload: widgetPayload() }),
    ]);

    await waitFor('both messages on the dead-letter topic', () => deadLetters.length >= 2);
    expect(deadLetters.map(eventIdOf)).toEqual([poisoned.id, next.id]);
    expect(deadLetters[0]).toMatchObject({
      key: poisoned.aggregateId,
      headers: {
        [DeadLetterHeaders.error]: 'downstream unavailable',
        [DeadLetterHeaders.originalTopic]: Widget.topic,
        [DeadLetterHeaders.originalPartition]: expect.stringMatching(/^\d+$/),
        [DeadLetterHeaders.originalOffset]: expect.stringMatching(/^\d+$/),
        [DeadLetterHeaders.attempts]: String(MAX_RETRIES + 1),
        'event-type': 'widget.created',
      },
    });
    expect(JSON.parse(deadLetters[0].value)).toEqual(poisoned);
    expect(attemptsById.get(poisoned.id)).toBe(MAX_RETRIES + 1);
    // Every attempt rolled back, the inbox claim included.
    expect(await handledCount(db.dataSource, [poisoned.id, next.id])).toBe(0);
  });

  it("waits out its own database's outage instead of dead-lettering the events that failed meanwhile", async () => {
    const Widget = uniqueWidgetContract();
    const deadLetters = await collect(deadLetterTopic(Widget.topic));
    const database = new URL(db.url);
    const proxy = await startTcpProxy({ host: database.hostname, port: Number(database.port || 5432) });
    database.host = `127.0.0.1:${proxy.port}`;
    const consumerDataSource = new DataSource({ type: 'postgres', url: database.toString(), schema: SERVICE_SCHEMA, entities: [OutboxMessage, InboxRecord] });
    await consumerDataSource.initialize();
    // One retry 20-50 ms later: without waiting for the database, the event would be dead-lettered at once.
    const outageConsumer = new EventConsumer(consumerDataSource, transport, { maxRetries: 1, retryBackoff: { initialMs: 20, maxMs: 50 } });
    const groupId = uniqueGroup('database-outage');
    const waits = async () =>
      ((await register.getSingleMetric('events_consumer_database_waits_total')?.get())?.values ?? []).find((value) => value.labels.group === groupId)?.value ?? 0;
    let subscription: Subscription | undefined;
    try {
      proxy.cut();
      subscription = await outageConsumer.consume({
          groupId,
          contracts: [Widget],
          fromBeginning: true,
          handler: async (envelope, manager) => {
            await recordHandled(manager, envelope.id, 'database-outage');
          },
        });
      const event = await db.dataSource.transaction((manager) => writer.enqueue(manager, Widget, { aggregateId: randomUUID(), payload: widgetPayload() }));

      await waitFor('the consumer waiting for its database', async () => (await waits()) >= 1);
      const refusedWhenWaiting = proxy.refused;
      await waitFor('the database probed again and again while it is down', () => proxy.refused >= refusedWhenWaiting + 3);
      proxy.restore();

      await waitFor('the event handled once the database is back', async () => (await handledCount(db.dataSource, [event.id], 'database-outage')) === 1 || undefined);
      expect(await waits()).toBeGreaterThanOrEqual(1);
      expect(deadLetters).toEqual([]);
    } finally {
      await subscription?.stop();
      await outageConsumer.stop();
      await consumerDataSource.destroy();
      await proxy.close();
    }
  });

  it('dead-letters an envelope whose payload breaks the contract without retrying', async () => {
    const Widget = uniqueWidgetContract();
    const deadLetters = await collect(deadLetterTopic(Widget.topic));
    const handled: string[] = [];
    subscriptions.push(
      await consumer.consume({
        groupId: uniqueGroup('strict'),
        contracts: [Widget],
        fromBeginning: true,
        handler: async (envelope) => void handled.push(envelope.id),
      }),
    );
    const valid = buildEnvelope(Widget, { aggregateId: randomUUID(), payload: widgetPayload() });
    const invalid = { ...valid, id: randomUUID(), payload: { widgetId: 'not-a-uuid', name: '' } };

    await transport.publish([
      { topic: Widget.topic, key: invalid.aggregateId, value: JSON.stringify(invalid), headers: envelopeHeaders(valid) },
      { topic: Widget.topic, key: valid.aggregateId, value: JSON.stringify(valid), headers: envelopeHeaders(valid) },
    ]);

    await waitFor('the valid event to be handled', () => handled.includes(valid.id));
    await waitFor('the invalid event on the dead-letter topic', () => deadLetters.length >= 1);
    expect(handled).toEqual([valid.id]);
    expect(deadLetters).toHaveLength(1);
    expect(eventIdOf(deadLetters[0])).toBe(invalid.id);
    expect(deadLetters[0].headers).toMatchObject({
      [DeadLetterHeaders.attempts]: '1',
      [DeadLetterHeaders.error]: expect.stringMatching(/^invalid payload for widget\.created v1: widgetId .*; name /),
    });
  });

  it('keeps namespaces apart: a topic prefix applies to topics, dead-letter topics and groups, and is stripped on receipt', async () => {
    const Widget = uniqueWidgetContract();
    const namespaces = [`ns${randomUUID().slice(0, 8)}.`, `ns${randomUUID().slice(0, 8)}.`];
    const transports = namespaces.map(
      (topicPrefix) => new KafkaTransport({ brokers: brokersFromEnvironment(), clientId: 'events-kafka-spec', topicPrefix }),
    );
    const namespacedConsumers = transports.map(
      (namespaced) => new EventConsumer(db.dataSource, namespaced, { maxRetries: 0, retryBackoff: { initialMs: 10, maxMs: 10 } }),
    );
    try {
      const groupId = uniqueGroup('namespaced');
      const received = transports.map(() => [] as ReceivedMessage[]);
      for (const [index, namespaced] of transports.entries()) {
        await namespaced.connect();
        // The same logical group in both namespaces: each must still get every message of its own.
        subscriptions.push(
          await namespaced.subscribe({
            groupId,
            topics: [Widget.topic],
            fromBeginning: true,
            handler: async (message) => void received[index].push(message),
          }),
        );
      }
      // What the broker holds under the first namespace, seen without one.
      const onBroker = await collect(`${namespaces[0]}${Widget.topic}`);
      const deadLettersOnBroker = await collect(`${namespaces[0]}${deadLetterTopic(Widget.topic)}`);
      subscriptions.push(
        await namespacedConsumers[0].consume({
          groupId: uniqueGroup('namespaced-failing'),
          contracts: [Widget],
          fromBeginning: true,
          handler: async () => {
            throw new Error('refused in the first namespace');
          },
        }),
      );

      const publish = (namespaced: KafkaTransport) => {
        const envelope = buildEnvelope(Widget, { aggregateId: randomUUID(), payload: widgetPayload() });
        return namespaced
          .publish([{ topic: Widget.topic, key: envelope.aggregateId, value: JSON.stringify(envelope), headers: envelopeHeaders(envelope) }])
          .then(() => envelope.id);
      };
      const first = await publish(transports[0]);
      const second = await publish(transports[1]);

      // The second namespace's own message is the marker that its consumer has read past anything the first published.
      await waitFor('each namespace to receive its message', () => received[0].length >= 1 && received[1].length >= 1);
      expect(received[0].map(eventIdOf)).toEqual([first]);
      expect(received[1].map(eventIdOf)).toEqual([second]);
      expect(received[0][0].topic).toBe(Widget.topic);
      await waitFor('the first namespace on the broker', () => onBroker.length >= 1);
      expect(onBroker.map(eventIdOf)).toEqual([first]);
      await waitFor("the first namespace's dead letter on the broker", () => deadLettersOnBroker.length >= 1);
      expect(deadLettersOnBroker.map(eventIdOf)).toEqual([first]);
      expect(deadLettersOnBroker[0].headers[DeadLetterHeaders.originalTopic]).toBe(Widget.topic);
    } finally {
      await Promise.all(namespacedConsumers.map((namespacedConsumer) => namespacedConsumer.stop()));
      await Promise.all(transports.map((namespaced) => namespaced.disconnect()));
    }
  });
});
