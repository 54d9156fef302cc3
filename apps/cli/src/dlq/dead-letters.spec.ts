import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { EventConsumer, KafkaTransport, buildEnvelope, defineEvent, envelopeHeaders, eventEntities, eventMigrations } from '@multipult/events';
import { TestDatabase, createTestDatabase, eventually } from '@multipult/testing';
import { createProgram } from '../program';

const WidgetMade = defineEvent({ type: 'widget.made', version: 1, topic: 'cli.widget.v1', schema: z.object({ serial: z.number() }) });

/** Runs a command in-process as `multipult …` and answers the JSON objects it printed. */
async function multipult(...args: string[]): Promise<Record<string, unknown>[]> {
  const printed: Record<string, unknown>[] = [];
  await createProgram((result) => printed.push(result as Record<string, unknown>)).parseAsync(['node', 'multipult', ...args]);
  return printed;
}

describe('dlq inspect and dlq replay on a real broker', () => {
  const prefix = `cli-dlq-${randomUUID().slice(0, 8)}.`;
  const savedPrefix = process.env.KAFKA_TOPIC_PREFIX;
  let database: TestDatabase;
  let dataSource: DataSource;
  let transport: KafkaTransport;
  let consumer: EventConsumer;
  /** The widget store of the failing group: down until the operator has fixed it. */
  let storeDown = true;
  const handled = { flaky: [] as string[], healthy: [] as string[] };

  beforeAll(async () => {
    process.env.KAFKA_TOPIC_PREFIX = prefix;
    database = await createTestDatabase('cli_dlq');
    dataSource = await new DataSource({ type: 'postgres', url: database.url, entities: eventEntities, migrations: eventMigrations, migrationsRun: true }).initialize();
    transport = new KafkaTransport({ brokers: (process.env.KAFKA_BROKERS as string).split(','), clientId: 'cli-dlq-spec', topicPrefix: prefix });
    await transport.connect();
    consumer = new EventConsumer(dataSource, transport, { maxRetries: 0 });
    await consumer.consume({
      groupId: 'widgets.flaky',
      contracts: [WidgetMade],
      fromBeginning: true,
      handler: async (event) => {
        if (storeDown) throw new Error('widget store is down');
        handled.flaky.push(event.id);
      },
    });
    await consumer.consume({
      groupId: 'widgets.healthy',
      contracts: [WidgetMade],
      fromBeginning: true,
      handler: async (event) => {
        handled.healthy.push(event.id);
      },
    });
  });

  afterAll(async () => {
    process.env.KAFKA_TOPIC_PREFIX = savedPrefix;
    await consumer?.stop();
    await transport?.disconnect();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('lists dead letters without consuming them, replays them to the group that failed once each, and remembers what it replayed', async () => {
    const envelopes = [1, 2, 3].map((serial) => buildEnvelope(WidgetMade, { aggregateId: `widget-${serial}`, payload: { serial }, tenantId: null, actorId: null }));
    await transport.publish(envelopes.map((envelope) => ({ topic: WidgetMade.topic, key: envelope.aggregateId, value: JSON.stringify(envelope), headers: envelopeHeaders(envelope) })));
    const ids = envelopes.map((envelope) => envelope.id);
    await eventually('the healthy group to handle every widget', () => handled.healthy.length === 3);

    const listed = await eventually('the flaky group to dead-letter every widget', async () => {
      const letters = await multipult('dlq', 'inspect', WidgetMade.topic).catch(() => []);
      return letters.length === 3 ? letters : undefined;
    });
    expect(listed.map((letter) => letter.eventId).sort()).toEqual([...ids].sort());
    for (const letter of listed) {
      expect(letter).toMatchObject({ eventType: 'widget.made', error: 'widget store is down', attempts: 1, originalTopic: WidgetMade.topic, replayed: false });
      expect(letter.key).toMatch(/^widget-\d$/);
    }
    // Inspecting again shows the same: nothing was consumed.
    expect(await multipult('dlq', 'inspect', `${WidgetMade.topic}.dlq`)).toHaveLength(3);

    storeDown = false;
    const firstReplay = await multipult('dlq', 'replay', WidgetMade.topic, '--limit', '2');
    expect(firstReplay.at(-1)).toEqual({ dlqTopic: `${prefix}${WidgetMade.topic}.dlq`, replayed: 2, remaining: 1 });
    const firstIds = firstReplay.slice(0, -1).map((letter) => letter.eventId as string);
    expect(firstIds).toHaveLength(2);
    await eventually('the flaky group to handle the replayed widgets', () => firstIds.every((id) => handled.flaky.includes(id)));
    expect((await multipult('dlq', 'inspect', WidgetMade.topic)).map((letter) => letter.replayed)).toEqual([true, true, false]);

    const secondReplay = await multipult('dlq', 'replay', WidgetMade.topic);
    expect(secondReplay.at(-1)).toMatchObject({ replayed: 1, remaining: 0 });
    await eventually('the flaky group to handle every widget', () => handled.flaky.length === 3);
    expect(handled.flaky.sort()).toEqual([...ids].sort());
    expect(await multipult('dlq', 'replay', WidgetMade.topic)).toEqual([{ dlqTopic: `${prefix}${WidgetMade.topic}.dlq`, replayed: 0, remaining: 0 }]);

    // The healthy group saw every replayed message too, and its inbox kept it from handling any twice.
    const [{ count }] = await dataSource.query(`SELECT count(*)::int AS count FROM inbox WHERE consumer_group = 'widgets.healthy'`);
    expect(count).toBe(3);
    expect(handled.healthy).toHaveLength(3);
  }, 120_000);

  it('names a topic without a dead-letter topic', async () => {
    await expect(multipult('dlq', 'inspect', 'cli.nothing.v1')).rejects.toThrow(`there is no dead-letter topic ${prefix}cli.nothing.v1.dlq`);
  });
});
