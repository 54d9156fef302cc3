import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { register } from 'prom-client';
import { DataSource, EntityManager } from 'typeorm';
import { ConsumeOptions, DeadLetterHeaders, EventConsumer, HandlingDeadlineExceededError, RetryHeaders } from './consumer/event-consumer';
import { HandlingAttemptEndedError } from './consumer/handling-attempt';
import { InboxRecord } from './consumer/inbox-record.entity';
import { EventEnvelope } from './event-contract';
import { buildEnvelope, envelopeHeaders } from './envelope';
import { OutboxMessage } from './outbox/outbox-message.entity';
import { OutboxRelay } from './outbox/outbox-relay';
import { OutboxWriter } from './outbox/outbox-writer';
import { OutgoingMessage, ReceivedMessage, Subscription, deadLetterTopic, retryTopic } from './transport/event-transport';
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

jest.setTimeout(90_000);

const MAX_RETRIES = 1;

type Widget = ReturnType<typeof uniqueWidgetContract>;

const asMessage = (contract: Widget, envelope: EventEnvelope): OutgoingMessage => ({
  topic: contract.topic,
  key: envelope.aggregateId,
  value: JSON.stringify(envelope),
  headers: envelopeHeaders(envelope),
});

const eventIdOf = (message: ReceivedMessage): string => JSON.parse(message.value).id;

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const values = (await register.getSingleMetric(name)?.get())?.values ?? [];
  return values
    .filter((value) => Object.entries(labels).every(([label, expected]) => value.labels[label] === expected))
    .reduce((sum, value) => sum + value.value, 0);
}

/** A handler hanging past its deadline: until the consumer aborts its signal, a minute at most. */
const untilAborted = (signal: AbortSignal) => sleep(60_000, undefined, { signal }).catch(() => undefined);

/**
 * Runs `write` as soon as the consumer sends `statement` (COMMIT or ROLLBACK) on the handler's
 * connection: the worst moment for a late write, which pg would queue behind it, outside the transaction.
 */
function onStatement(manager: EntityManager, statement: string, write: () => void): void {
  const runner = manager.queryRunner as NonNullable<EntityManager['queryRunner']>;
  const send: (...args: unknown[]) => Promise<unknown> = Object.getPrototypeOf(runner).query;
  runner.query = function (this: unknown, sql: string, ...rest: unknown[]) {
    const sent = send.call(this, sql, ...rest);
    if (sql === statement) write();
    return sent;
  } as typeof runner.query;
}

/** What a late write came to: 'written', or the error that refused it. */
const outcomeOf = (write: Promise<unknown>): Promise<unknown> => write.then(() => 'written', (error: unknown) => error);

describe('events over Kafka in batches', () => {
  let db: EventsTestDatabase;
  let transport: KafkaTransport;
  let consumer: EventConsumer;
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    db = await openEventsDatabase('events_batches');
    transport = new KafkaTransport({ brokers: brokersFromEnvironment(), clientId: 'events-batches-spec' });
    await transport.connect();
    consumer = new EventConsumer(db.dataSource, transport, {
      maxRetries: MAX_RETRIES,
      retryBackoff: { initialMs: 50, maxMs: 200 },
    });
  });

  afterAll(async () => {
    await Promise.all(subscriptions.map((subscription) => subscription.stop()));
    await consumer?.stop();
    await transport?.disconnect();
    await db?.close();
  });

  const collect = (topic: string) => collectRawMessages(transport, topic, subscriptions);

  /** The spec's consumer in a new group reading the widget's topic from its start (stopped after all tests). */
  async function consumeFromStart(Widget: Widget, options: Omit<ConsumeOptions<Widget>, 'contracts' | 'fromBeginning'>): Promise<void> {
    subscriptions.push(await consumer.consume({ contracts: [Widget], fromBeginning: true, ...options }));
  }

  /** Records the event as handled, with the id of the transaction it was handled in. */
  async function recordInTransaction(manager: EntityManager, eventId: string, groupId: string): Promise<void> {
    const [{ transactionId }] = await manager.query('SELECT txid_current()::text AS "transactionId"');
    await recordHandled(manager, eventId, groupId, { transactionId });
  }

  /** What the handlers recorded, in handling order, with the transaction each ran in. */
  async function handledRows(group: string): Promise<{ eventId: string; transactionId: string }[]> {
    const rows: { event_id: string; details: { transactionId: string } }[] = await db.dataSource.query(
      `SELECT event_id, details FROM ${SERVICE_SCHEMA}.handled_events WHERE consumer = $1 ORDER BY ctid`,
      [group],
    );
    return rows.map((row) => ({ eventId: row.event_id, transactionId: row.details.transactionId }));
  }

  /** Events of one aggregate (one partition), all on the topic before the group starts, so they come in one fetch. */
  async function publishedBeforeConsuming(Widget: Widget, count: number): Promise<EventEnvelope[]> {
    const aggregateId = randomUUID();
    const envelopes = Array.from({ length: count }, (_, index) =>
      buildEnvelope(Widget, { aggregateId, payload: widgetPayload(`w${index}`) }),
    ) as EventEnvelope[];
    await transport.publish(envelopes.map((envelope) => asMessage(Widget, envelope)));
    return envelopes;
  }

  /**
   * Six events of one partition, the second already processed by the group (a redelivery: its inbox
   * row exists) and the fourth published twice (a copy within the batch); answers the ids the group
   * must apply, in partition order.
   */
  async function batchWithRedeliveries(Widget: Widget, groupId: string): Promise<string[]> {
    const envelopes = await publishedBeforeConsuming(Widget, 6);
    const [alreadyProcessed, copied] = [envelopes[1], envelopes[3]];
    await db.dataSource.getRepository(InboxRecord).insert({ consumerGroup: groupId, eventId: alreadyProcessed.id });
    await transport.publish([asMessage(Widget, copied)]);
    return envelopes.filter((envelope) => envelope !== alreadyProcessed).map((envelope) => envelope.id);
  }

  it('handles a batch in one transaction, skipping a redelivered event and a copy inside the batch', async () => {
    const Widget = uniqueWidgetContract();
    const groupId = uniqueGroup('batch');
    const expected = await batchWithRedeliveries(Widget, groupId);

    await consumeFromStart(Widget, {
      groupId,
      batchSize: 50,
      handler: async (envelope, manager) => {
        await recordInTransaction(manager, envelope.id, groupId);
      },
    });

    await waitFor('the batch to be handled', async () => (await handledCount(db.dataSource, expected, groupId)) === expected.length);
    // Every message of the batch accounted for, the two copies included, before looking at what was applied.
    await waitFor('both copies counted as duplicates', async () => (await metricValue('events_consumer_processed_total', { group: groupId, result: 'duplicate' })) >= 2, 60_000);
    const rows = await handledRows(groupId);
    expect(rows.map((row) => row.eventId)).toEqual(expected);
    expect(new Set(rows.map((row) => row.transactionId)).size).toBe(1);
    expect(await metricValue('events_consumer_processed_total', { group: groupId, result: 'duplicate' })).toBe(2);
    expect(await metricValue('events_consumer_processed_total', { group: groupId, result: 'handled' })).toBe(expected.length);
  });

  it('falls back to one transaction per event when one event of a batch fails: the others are applied once, the failing one dead-lettered', async () => {
    const Widget = uniqueWidgetContract();
    const groupId = uniqueGroup('batch-failing');
    const deadLetters = await collect(deadLetterTopic(Widget.topic));
    const envelopes = await publishedBeforeConsuming(Widget, 5);
    const poisoned = envelopes[2];
    const attempts = new Map<string, number>();

    await consumeFromStart(Widget, {
      groupId,
      batchSize: 50,
      handler: async (envelope, manager) => {
        attempts.set(envelope.id, (attempts.get(envelope.id) ?? 0) + 1);
        await recordInTransaction(manager, envelope.id, groupId);
        if (envelope.id === poisoned.id) throw new Error('downstream refuses this one');
      },
    });

    await waitFor('the poisoned event on the dead-letter topic', () => deadLetters.length >= 1);
    const others = envelopes.filter((envelope) => envelope !== poisoned).map((envelope) => envelope.id);
    await waitFor('the others to be handled', async () => (await handledCount(db.dataSource, others, groupId)) === others.length);
    await waitFor(
      'the consumer to have settled every event of the batch',
      async () =>
        (await metricValue('events_consumer_processed_total', { group: groupId, result: 'handled' })) >= others.length &&
        (await metricValue('events_consumer_dead_lettered_total', { group: groupId })) >= 1,
      60_000,
    );
    const rows = await handledRows(groupId);
    // Once each, in partition order; the batch attempt's writes were rolled back with it.
    expect(rows.map((row) => row.eventId)).toEqual(others);
    expect(new Set(rows.map((row) => row.transactionId)).size).toBe(others.length);
    expect(await handledCount(db.dataSource, [poisoned.id], groupId)).toBe(0);
    expect(deadLetters.map(eventIdOf)).toEqual([poisoned.id]);
    expect(deadLetters[0].headers).toMatchObject({
      [DeadLetterHeaders.error]: 'downstream refuses this one',
      [DeadLetterHeaders.attempts]: String(MAX_RETRIES + 1),
    });
    // The batch attempt, then the attempts of the one-by-one fallback.
    expect(attempts.get(poisoned.id)).toBe(1 + MAX_RETRIES + 1);
    expect(attempts.get(envelopes[0].id)).toBe(2);
    expect(attempts.get(envelopes[4].id)).toBe(1);
    expect(await metricValue('events_consumer_batch_fallbacks_total', { group: groupId })).toBe(1);
  });

  it('hands the claimed events of a batch to batchHandler in one call, in partition order, without the redelivered event and the copy', async () => {
    const Widget = uniqueWidgetContract();
    const groupId = uniqueGroup('batch-handler');
    const expected = await batchWithRedeliveries(Widget, groupId);
    const calls: string[][] = [];
    const committed: string[][] = [];

    await consumeFromStart(Widget, {
      groupId,
      batchSize: 50,
      handler: async () => {
        throw new Error('a batch of one event never reaches handler here');
      },
      batchHandler: async (batch, manager, transaction) => {
        const ids = batch.map((envelope) => envelope.id);
        calls.push(ids);
        for (const id of ids) await recordInTransaction(manager, id, groupId);
        transaction.afterCommit(() => void committed.push(ids));
      },
    });

    await waitFor('the batch to be handled', async () => (await handledCount(db.dataSource, expected, groupId)) === expected.length);
    await waitFor('both copies counted as duplicates', async () => (await metricValue('events_consumer_processed_total', { group: groupId, result: 'duplicate' })) >= 2, 60_000);
    expect(calls).toEqual([expected]);
    expect(committed).toEqual([expected]);
    expect(new Set((await handledRows(groupId)).map((row) => row.transactionId)).size).toBe(1);
    expect(await metricValue('events_consumer_processed_total', { group: groupId, result: 'handled' })).toBe(expected.length);
  });

  it('falls back to handler, one transaction per event, when batchHandler fails: each event applied once', async () => {
    const Widget = uniqueWidgetContract();
    const groupId = uniqueGroup('batch-handler-failing');
    const envelopes = await publishedBeforeConsuming(Widget, 4);
    const ids = envelopes.map((envelope) => envelope.id);
    let batchCalls = 0;

    await consumeFromStart(Widget, {
      groupId,
      batchSize: 50,
      handler: async (envelope, manager) => {
        await recordInTransaction(manager, envelope.id, groupId);
      },
      batchHandler: async (batch, manager) => {
        batchCalls++;
        // Writes, then fails: the writes roll back with the inbox claims.
        for (const envelope of batch) await recordHandled(manager, envelope.id, groupId);
        throw new Error('the set-based statement failed');
      },
    });

    await waitFor('every event handled one by one', async () => (await handledCount(db.dataSource, ids, groupId)) === ids.length);
    await waitFor('the consumer to have settled the batch', async () => (await metricValue('events_consumer_processed_total', { group: groupId, result: 'handled' })) >= ids.length, 60_000);
    const rows = await handledRows(groupId);
    expect(rows.map((row) => row.eventId)).toEqual(ids);
    expect(new Set(rows.map((row) => row.transactionId)).size).toBe(ids.length);
    expect(batchCalls).toBe(1);
    expect(await metricValue('events_consumer_batch_fallbacks_total', { group: groupId })).toBe(1);
  });

  it('parks an event that overruns the handling deadline on the retry topic and moves on; it is handled once from there', async () => {
    const Widget = uniqueWidgetContract();
    const groupId = uniqueGroup('deadline');
    const parked = await collect(retryTopic(Widget.topic));
    const envelopes = await publishedBeforeConsuming(Widget, 4);
    const slow = envelopes[1];
    const handledAt = new Map<string, number>();
    let slowAttempts = 0;
    let abortedSignal = false;

    await consumeFromStart(Widget, {
      groupId,
      batchSize: 50,
      handlingDeadlineMs: 1_000,
      handler: async (envelope, manager, transaction) => {
        if (envelope.id === slow.id && ++slowAttempts <= 2) {
          // Writes, then hangs past the deadline (both in the batch and in the one-by-one attempt),
          // until its signal aborts (or a minute, when it never does and the last check fails).
          await recordHandled(manager, envelope.id, groupId);
          await untilAborted(transaction.signal);
          abortedSignal = transaction.signal.aborted;
          return;
        }
        await recordHandled(manager, envelope.id, groupId);
        transaction.afterCommit(() => void handledAt.set(envelope.id, Date.now()));
      },
    });

    const others = envelopes.filter((envelope) => envelope !== slow).map((envelope) => envelope.id);
    const startedAt = Date.now();
    await waitFor('the events behind the slow one', async () => (await handledCount(db.dataSource, others, groupId)) === others.length);
    expect(Date.now() - startedAt).toBeLessThan(4_000);
    await waitFor('the slow event to be retried from the retry topic', async () => (await handledCount(db.dataSource, [slow.id], groupId)) === 1);
    await waitFor(
      'every event, the parked one included, counted as handled',
      async () =>
        (await metricValue('events_consumer_processed_total', { group: groupId, result: 'handled' })) +
          (await metricValue('events_consumer_processed_total', { group: `${groupId}.retry`, result: 'handled' })) >=
        others.length + 1,
      60_000,
    );
    expect(await handledCount(db.dataSource, [slow.id], groupId)).toBe(1);
    expect(await handledCount(db.dataSource, others, groupId)).toBe(others.length);
    expect(Math.min(...others.map((id) => handledAt.get(id) as number))).toBeLessThan(handledAt.get(slow.id) as number);
    expect(parked.map(eventIdOf)).toEqual([slow.id]);
    expect(parked[0].headers).toMatchObject({
      [DeadLetterHeaders.originalTopic]: Widget.topic,
      [RetryHeaders.deadlinesExceeded]: '1',
      [RetryHeaders.notBefore]: expect.stringMatching(/^\d+$/),
      [RetryHeaders.group]: groupId,
    });
    expect(await metricValue('events_consumer_parked_total', { group: groupId })).toBe(1);
    await waitFor('the abandoned attempt to see its signal aborted', () => slowAttempts >= 2 && abortedSignal);
  });

  it('refuses what an abandoned handler writes while its transaction rolls back: nothing lands outside the transaction', async () => {
    const Widget = uniqueWidgetContract();
    const groupId = uniqueGroup('late-write');
    const [event] = await publishedBeforeConsuming(Widget, 1);
    let attempts = 0;
    let lateWrite: Promise<unknown> | undefined;

    await consumeFromStart(Widget, {
      groupId,
      handlingDeadlineMs: 500,
      handler: async (envelope, manager, transaction) => {
        if (++attempts === 1) {
          onStatement(manager, 'ROLLBACK', () => (lateWrite = outcomeOf(recordHandled(manager, envelope.id, groupId))));
          await untilAborted(transaction.signal);
          return;
        }
        await recordInTransaction(manager, envelope.id, groupId);
      },
    });

    await waitFor('the event handled from the retry topic', () => attempts === 2 && lateWrite !== undefined, 30_000);
    await waitFor('the retry committed', async () => (await handledCount(db.dataSource, [event.id], groupId)) >= 1);
    expect(await lateWrite).toBeInstanceOf(HandlingDeadlineExceededError);
    expect(await handledCount(db.dataSource, [event.id], groupId)).toBe(1);
  });

  it('refuses a statement a handler left running after it returned, and commits what it awaited', async () => {
    const Widget = uniqueWidgetContract();
    const groupId = uniqueGroup('dangling-write');
    const [event] = await publishedBeforeConsuming(Widget, 1);
    let danglingWrite: Promise<unknown> | undefined;

    await consumeFromStart(Widget, {
      groupId,
      handler: async (envelope, manager) => {
        await recordHandled(manager, envelope.id, groupId);
        // Not awaited, and still to be sent when the consumer commits.
        onStatement(manager, 'COMMIT', () => (danglingWrite = outcomeOf(recordHandled(manager, envelope.id, groupId))));
      },
    });

    await waitFor('the handled event', async () => (await handledCount(db.dataSource, [event.id], groupId)) >= 1);
    expect(await danglingWrite).toBeInstanceOf(HandlingAttemptEndedError);
    expect(await handledCount(db.dataSource, [event.id], groupId)).toBe(1);
  });

  it('retries a parked event in the group that parked it only, though every group of the topic reads its retry topic', async () => {
    const Widget = uniqueWidgetContract();
    const slowGroup = uniqueGroup('parks');
    const otherGroup = uniqueGroup('does-not-park');
    const [event] = await publishedBeforeConsuming(Widget, 1);
    let slowAttempts = 0;
    for (const groupId of [slowGroup, otherGroup]) {
      subscriptions.push(
        await consumer.consume({
          groupId,
          contracts: [Widget],
          fromBeginning: true,
          handlingDeadlineMs: 800,
          handler: async (envelope, manager) => {
            // A handler that ignores its signal: the deadline must not wait for it.
            if (groupId === slowGroup && ++slowAttempts === 1) await sleep(3_000);
            await recordHandled(manager, envelope.id, groupId);
          },
        }),
      );
    }

    await waitFor('the other group to handle the event', async () => (await handledCount(db.dataSource, [event.id], otherGroup)) === 1);
    await waitFor('the parking group to handle it from the retry topic', async () => (await handledCount(db.dataSource, [event.id], slowGroup)) === 1, 30_000);
    // The other group's retry consumer has read the parked copy: its committed offset is the retry topic's end.
    const admin = new Kafka({ clientId: 'events-batches-spec-admin', brokers: brokersFromEnvironment(), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await waitFor(
        'the other group\'s retry consumer past the parked copy',
        async () => {
          const [end] = await admin.fetchTopicOffsets(retryTopic(Widget.topic));
          const [committed] = (await admin.fetchOffsets({ groupId: `${otherGroup}.retry`, topics: [retryTopic(Widget.topic)] }))[0].partitions;
          return Number(end.high) > 0 && committed.offset === end.high;
        },
        60_000,
      );
    } finally {
      await admin.disconnect();
    }
    const outcomes = async (groupId: string) => ({
      handled: await metricValue('events_consumer_processed_total', { group: groupId, result: 'handled' }),
      duplicate: await metricValue('events_consumer_processed_total', { group: groupId, result: 'duplicate' }),
    });
    expect(await outcomes(otherGroup)).toEqual({ handled: 1, duplicate: 0 });
    expect(await outcomes(slowGroup)).toEqual({ handled: 1, duplicate: 0 });
  });

  it('cuts a slow SQL statement off at the deadline (statement_timeout) and parks its event', async () => {
    const Widget = uniqueWidgetContract();
    const groupId = uniqueGroup('slow-sql');
    const envelopes = await publishedBeforeConsuming(Widget, 2);
    const [slow, next] = envelopes;
    let slowAttempts = 0;

    await consumeFromStart(Widget, {
      groupId,
      handlingDeadlineMs: 800,
      handler: async (envelope, manager) => {
        if (envelope.id === slow.id && ++slowAttempts === 1) await manager.query('SELECT pg_sleep(30)');
        await recordHandled(manager, envelope.id, groupId);
      },
    });

    const startedAt = Date.now();
    await waitFor('the next event', async () => (await handledCount(db.dataSource, [next.id], groupId)) === 1);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    await waitFor('the slow event from the retry topic', async () => (await handledCount(db.dataSource, [slow.id], groupId)) === 1);
    const [{ sleeping }] = await db.dataSource.query(
      `SELECT count(*)::int AS sleeping FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'`,
    );
    expect(sleeping).toBe(0);
  });
});

describe('outbox relay batches', () => {
  let db: EventsTestDatabase;
  let transport: KafkaTransport;
  const writer = new OutboxWriter();
  const relays: OutboxRelay[] = [];
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    db = await openEventsDatabase('events_relay_batches');
    transport = new KafkaTransport({ brokers: brokersFromEnvironment(), clientId: 'events-relay-batches-spec' });
    await transport.connect();
  });

  afterAll(async () => {
    await Promise.all(relays.map((relay) => relay.stop()));
    await Promise.all(subscriptions.map((subscription) => subscription.stop()));
    await transport?.disconnect();
    await db?.close();
  });

  const collect = (topic: string) => collectRawMessages(transport, topic, subscriptions);

  function startRelay(dataSource: DataSource, options: { pollIntervalMs: number; batchSize: number }, publishedBatches?: number[]) {
    const publishing = publishedBatches
      ? Object.assign(Object.create(transport) as KafkaTransport, {
          publish: (messages: OutgoingMessage[]) => {
            publishedBatches.push(messages.length);
            return transport.publish(messages);
          },
        })
      : transport;
    const relay = new OutboxRelay(dataSource, publishing, options);
    relays.push(relay);
    return relay.start().then(() => relay);
  }

  it('publishes claimed rows with one send per batch and marks them with one update, in order per key', async () => {
    const Widget = uniqueWidgetContract();
    const received = await collect(Widget.topic);
    const keys = [randomUUID(), randomUUID(), randomUUID()];
    const ids: string[] = [];
    for (let index = 0; index < 45; index += 1) {
      const envelope = await db.dataSource.transaction((manager) =>
        writer.enqueue(manager, Widget, { aggregateId: keys[index % keys.length], payload: widgetPayload(`w${index}`) }),
      );
      ids.push(envelope.id);
    }
    const batches: number[] = [];
    const relay = await startRelay(db.dataSource, { pollIntervalMs: 60_000, batchSize: 20 }, batches);

    await waitFor('every event on the topic', () => received.length >= ids.length);
    await relay.stop();
    expect(batches).toEqual([20, 20, 5]);
    for (const key of keys) {
      const inWriteOrder = ids.filter((_, index) => keys[index % keys.length] === key);
      expect(received.filter((message) => message.key === key).map(eventIdOf)).toEqual(inWriteOrder);
    }
    const rows: { published_at: Date | null; attempts: number }[] = await db.dataSource.query(
      `SELECT published_at, attempts FROM ${SERVICE_SCHEMA}.outbox WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    expect(rows).toHaveLength(ids.length);
    expect(rows.every((row) => row.published_at !== null && row.attempts === 1)).toBe(true);
    // One UPDATE per batch: the three batches' rows carry three distinct publication times.
    const [{ batchesMarked }] = await db.dataSource.query(
      `SELECT count(DISTINCT published_at)::int AS "batchesMarked" FROM ${SERVICE_SCHEMA}.outbox WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    expect(batchesMarked).toBe(3);
  });

  it('is woken by a commit in its own process without NOTIFY, and never publishes before the commit', async () => {
    const Widget = uniqueWidgetContract();
    const received = await collect(Widget.topic);
    await startRelay(db.dataSource, { pollIntervalMs: 60_000, batchSize: 100 });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let enqueued: EventEnvelope | undefined;
    const committing = db.dataSource.transaction(async (manager) => {
      enqueued = await writer.enqueue(manager, Widget, { aggregateId: randomUUID(), payload: widgetPayload() });
      await held;
    });
    await waitFor('the event to be enqueued', () => enqueued !== undefined);
    const marker = await db.dataSource.transaction((manager) =>
      writer.enqueue(manager, Widget, { aggregateId: randomUUID(), payload: widgetPayload('marker') }),
    );
    await waitFor('the marker, committed after the held event was written', () => received.length >= 1, 5_000);
    // Only the marker: the held event, written first, is not published before its commit (then it comes second, below).
    expect(received.map(eventIdOf)).toEqual([marker.id]);

    release();
    await committing;
    // Well within the 60 s poll interval: the commit itself woke the relay.
    await waitFor('the held event, once committed', () => received.length >= 2, 5_000);
    expect(received.map(eventIdOf)).toEqual([marker.id, enqueued?.id]);
  });

  it('still wakes a relay of another process (here: another DataSource) through NOTIFY', async () => {
    const Widget = uniqueWidgetContract();
    const received = await collect(Widget.topic);
    const writingProcess = await new DataSource({
      type: 'postgres',
      url: db.url,
      schema: SERVICE_SCHEMA,
      entities: [OutboxMessage, InboxRecord],
    }).initialize();
    try {
      await startRelay(db.dataSource, { pollIntervalMs: 60_000, batchSize: 100 });
      const envelope = await writingProcess.transaction((manager) =>
        writer.enqueue(manager, Widget, { aggregateId: randomUUID(), payload: widgetPayload() }),
      );
      await waitFor('the event from the other process', () => received.length >= 1, 5_000);
      expect(received.map(eventIdOf)).toEqual([envelope.id]);
    } finally {
      await writingProcess.destroy();
    }
  });
});
