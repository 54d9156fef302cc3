import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { DeadLetterHeaders, EventConsumer } from './consumer/event-consumer';
import { buildEnvelope, envelopeHeaders } from './envelope';
import { EventContract } from './event-contract';
import { OutboxRelay } from './outbox/outbox-relay';
import { OutboxWriter, outboxEvent } from './outbox/outbox-writer';
import { OutgoingMessage, ReceivedMessage, Subscription, deadLetterTopic } from './transport/event-transport';
import { InProcessTransport } from './transport/in-process-transport';
import {
  EventsTestDatabase,
  handledCount,
  openEventsDatabase,
  recordHandled,
  uniqueGroup,
  uniqueWidgetContract,
  waitFor,
  widgetPayload,
} from '../testing/support';

const MAX_RETRIES = 2;

describe('events in process', () => {
  let db: EventsTestDatabase;
  let transport: InProcessTransport;
  let relay: OutboxRelay;
  let consumer: EventConsumer;
  const writer = new OutboxWriter();
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    db = await openEventsDatabase('events_in_process');
    transport = new InProcessTransport();
    await transport.connect();
    // Polling once a minute: within a test only NOTIFY can wake the relay.
    relay = new OutboxRelay(db.dataSource, transport, { pollIntervalMs: 60_000, batchSize: 100 });
    consumer = new EventConsumer(db.dataSource, transport, { maxRetries: MAX_RETRIES, retryBackoff: { initialMs: 20, maxMs: 100 } });
    await relay.start();
  });

  afterAll(async () => {
    await relay?.stop();
    await consumer?.stop();
    await transport?.disconnect();
    await db?.close();
  });

  async function collect(topic: string, options: { groupId?: string; fromBeginning?: boolean } = {}) {
    const received: ReceivedMessage[] = [];
    const subscription = await transport.subscribe({
      groupId: options.groupId ?? uniqueGroup('raw'),
      topics: [topic],
      fromBeginning: options.fromBeginning ?? true,
      handler: async (message) => void received.push(message),
    });
    subscriptions.push(subscription);
    return { received, subscription };
  }

  const eventIdOf = (message: ReceivedMessage): string => JSON.parse(message.value).id;
  const asMessage = (contract: EventContract, envelope: ReturnType<typeof buildEnvelope>): OutgoingMessage => ({
    topic: contract.topic,
    key: envelope.aggregateId,
    value: JSON.stringify(envelope),
    headers: envelopeHeaders(envelope),
  });

  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((subscription) => subscription.stop()));
  });

  it('relays committed outbox rows to consumers with key and headers, and nothing from a rollback', async () => {
    const Widget = uniqueWidgetContract();
    const { received } = await collect(Widget.topic);
    const aggregateId = randomUUID();
    await expect(
      db.dataSource.transaction(async (manager) => {
        await writer.enqueue(manager, Widget, { aggregateId, payload: widgetPayload('rolled back') });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    const committed = await db.dataSource.transaction((manager) =>
      writer.enqueue(manager, Widget, { aggregateId, payload: widgetPayload(), tenantId: 'tenant-1' }),
    );

    await waitFor('the committed event', () => received.length >= 1);
    expect(received).toEqual([
      {
        topic: Widget.topic,
        partition: 0,
        offset: '0',
        key: aggregateId,
        value: expect.any(String),
        headers: { 'event-type': 'widget.created', 'event-version': '1', 'tenant-id': 'tenant-1' },
      },
    ]);
    expect(JSON.parse(received[0].value)).toEqual(committed);
  });

  it('delivers each message once per consumer group, to one member of a group', async () => {
    const Widget = uniqueWidgetContract();
    const sharedGroup = uniqueGroup('shared');
    const first = await collect(Widget.topic, { groupId: sharedGroup });
    const second = await collect(Widget.topic, { groupId: sharedGroup });
    const other = await collect(Widget.topic);
    const envelopes = [1, 2].map(() => buildEnvelope(Widget, { aggregateId: randomUUID(), payload: widgetPayload() }));

    await transport.publish([asMessage(Widget, envelopes[0])]);
    await waitFor('delivery to both groups', () => first.received.length + second.received.length === 1 && other.received.length === 1);
    expect(first.received.map(eventIdOf)).toEqual([envelopes[0].id]);
    expect(second.received).toEqual([]);

    // The remaining member takes over when the one receiving leaves.
    await first.subscription.stop();
    await transport.publish([asMessage(Widget, envelopes[1])]);
    await waitFor('delivery to the remaining member', () => second.received.length === 1 && other.received.length === 2);
    expect(second.received.map(eventIdOf)).toEqual([envelopes[1].id]);
  });

  it('leaves the events of a group to its other instances when consumers are off on one (EVENT_CONSUMERS_ENABLED=false)', async () => {
    const Widget = uniqueWidgetContract();
    const groupId = uniqueGroup('split');
    const socketsOnly = new EventConsumer(db.dataSource, transport, { maxRetries: MAX_RETRIES, enabled: false });
    const handle = (instance: string) => ({
      groupId,
      contracts: [Widget],
      handler: async (event: { id: string }, manager: EntityManager) => void (await recordHandled(manager, event.id, instance)),
    });
    // Subscribed first: were it a member, it would be the one member of the group that gets every message.
    subscriptions.push(await socketsOnly.consume(handle('sockets-only')));
    subscriptions.push(await consumer.consume(handle('worker')));
    const envelopes = await db.dataSource.transaction((manager) =>
      writer.enqueueAll(manager, [1, 2, 3].map(() => outboxEvent(Widget, { aggregateId: randomUUID(), payload: widgetPayload() }))),
    );
    const ids = envelopes.map((envelope) => envelope.id);

    await waitFor('every event handled by the instance with consumers on', async () => (await handledCount(db.dataSource, ids, 'worker')) === 3);
    expect(await handledCount(db.dataSource, ids, 'sockets-only')).toBe(0);
  });

  it('starts a new group at the end of a topic unless it asks for the beginning', async () => {
    const Widget = uniqueWidgetContract();
    const earlier = buildEnvelope(Widget, { aggregateId: randomUUID(), payload: widgetPayload() });
    await transport.publish([asMessage(Widget, earlier)]);
    const fromBeginning = await collect(Widget.topic, { fromBeginning: true });
    const fromEnd = await collect(Widget.topic, { fromBeginning: false });
    const later = buildEnvelope(Widget, { aggregateId: randomUUID(), payload: widgetPayload() });
    await transport.publish([asMessage(Widget, later)]);

    await waitFor('both messages for the group reading from the beginning', () => fromBeginning.received.length === 2);
    await waitFor('the later message for the group reading from the end', () => fromEnd.received.length === 1);
    expect(fromEnd.received.map(eventIdOf)).toEqual([later.id]);
  });

  it('has one effect when the same event is delivered twice', async () => {
    const Widget = uniqueWidgetContract();
    const groupId = uniqueGroup('dedupe');
    subscriptions.push(
      await consumer.consume({
        groupId,
        contracts: [Widget],
        handler: (envelope, manager) => recordHandled(manager, envelope.id, groupId),
      }),
    );
    const twice = buildEnvelope(Widget, { aggregateId: randomUUID(), payload: widgetPayload() });
    const marker = buildEnvelope(Widget, { aggregateId: randomUUID(), payload: widgetPayload('marker') });

    await transport.publish([asMessage(Widget, twice)]);
    await transport.publish([asMessage(Widget, twice), asMessage(Widget, marker)]);

    await waitFor('the marker to be handled', async () => (await handledCount(db.dataSource, [marker.id], groupId)) === 1);
    expect(await handledCount(db.dataSource, [twice.id], groupId)).toBe(1);
  });

  it('runs after-commit effects only for the attempt that committed, once per event', async () => {
    const Widget = uniqueWidgetContract();
    const groupId = uniqueGroup('after-commit');
    const effects: string[] = [];
    let attempts = 0;
    subscriptions.push(
      await consumer.consume({
        groupId,
        contracts: [Widget],
        handler: async (envelope, manager, transaction) => {
          attempts += 1;
          await recordHandled(manager, envelope.id, groupId);
          transaction.afterCommit(() => void effects.push(`${envelope.id}#${attempts}`));
          if (attempts === 1) throw new Error('rolled back');
        },
      }),
    );
    const event = buildEnvelope(Widget, { aggregateId: randomUUID(), payload: widgetPayload() });
    await transport.publish([asMessage(Widget, event), asMessage(Widget, event)]);

    await waitFor('the effect', () => effects.length === 1);
    // A later event of the same aggregate is the marker: the duplicate, delivered before it, has been handled by then.
    const marker = buildEnvelope(Widget, { aggregateId: event.aggregateId, payload: widgetPayload() });
    await transport.publish([asMessage(Widget, marker)]);
    await waitFor('the marker', () => effects.some((effect) => effect.startsWith(marker.id)));
    expect(effects.filter((effect) => effect.startsWith(event.id))).toEqual([`${event.id}#2`]);
    expect(await handledCount(db.dataSource, [event.id], groupId)).toBe(1);
  });

  it('dead-letters after the retries a message whose handler keeps failing, and a malformed one at once', async () => {
    const Widget = uniqueWidgetContract();
    const { received: deadLetters } = await collect(deadLetterTopic(Widget.topic));
    const attempts = new Map<string, number>();
    subscriptions.push(
      await consumer.consume({
        groupId: uniqueGroup('failing'),
        contracts: [Widget],
        handler: async (envelope) => {
          attempts.set(envelope.id, (attempts.get(envelope.id) ?? 0) + 1);
          throw new Error('always fails');
        },
      }),
    );
    const failing = buildEnvelope(Widget, { aggregateId: randomUUID(), payload: widgetPayload() });
    const malformed = { ...failing, id: randomUUID(), payload: { name: 42 } };

    await transport.publish([
      asMessage(Widget, failing),
      { ...asMessage(Widget, failing), value: JSON.stringify(malformed) },
    ]);

    await waitFor('both messages on the dead-letter topic', () => deadLetters.length === 2);
    expect(deadLetters[0]).toMatchObject({
      key: failing.aggregateId,
      value: JSON.stringify(failing),
      headers: {
        [DeadLetterHeaders.error]: 'always fails',
        [DeadLetterHeaders.originalTopic]: Widget.topic,
        [DeadLetterHeaders.originalPartition]: '0',
        [DeadLetterHeaders.originalOffset]: '0',
        [DeadLetterHeaders.attempts]: String(MAX_RETRIES + 1),
      },
    });
    expect(attempts.get(failing.id)).toBe(MAX_RETRIES + 1);
    expect(eventIdOf(deadLetters[1])).toBe(malformed.id);
    expect(deadLetters[1].headers).toMatchObject({
      [DeadLetterHeaders.attempts]: '1',
      [DeadLetterHeaders.originalOffset]: '1',
      [DeadLetterHeaders.error]: expect.stringContaining('invalid payload for widget.created v1'),
    });
    expect(attempts.has(malformed.id)).toBe(false);
  });

  it('redelivers a message whose delivery failed without being dead-lettered', async () => {
    const Widget = uniqueWidgetContract();
    let calls = 0;
    subscriptions.push(
      await transport.subscribe({
        groupId: uniqueGroup('flaky'),
        topics: [Widget.topic],
        handler: async () => {
          calls += 1;
          if (calls === 1) throw new Error('transient');
        },
      }),
    );
    await transport.publish([asMessage(Widget, buildEnvelope(Widget, { aggregateId: randomUUID(), payload: widgetPayload() }))]);
    await waitFor('the redelivery', () => calls === 2, 5_000);
  });
});
