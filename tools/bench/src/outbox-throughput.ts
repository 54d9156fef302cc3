import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import {
  KafkaTransport,
  OutboxRelay,
  OutboxWriter,
  buildEnvelope,
  defineEvent,
  envelopeHeaders,
  eventEntities,
  eventMigrations,
} from '@multipult/events';
import { createTestDatabase } from '@multipult/testing';
import { percentile } from './infrastructure';

export interface ThroughputRun {
  path: string;
  events: number;
  /** Committed (or, for the baseline, sent) events per second while writers ran. */
  writeRate: number;
  /** Events per second from the first write to the last event consumed. */
  endToEndRate: number;
  p50Ms: number;
  p99Ms: number;
}

function probeContract() {
  const aggregate = `probe_${randomBytes(4).toString('hex')}`;
  return defineEvent({
    type: `${aggregate}.measured`,
    version: 1,
    topic: `bench.${aggregate}.v1`,
    schema: z.object({ sequence: z.number().int() }),
  });
}

/** Consumes a topic from the start and records, per event id, when it arrived. */
async function startArrivalRecorder(brokers: string[], topic: string, expected: number) {
  const kafka = new Kafka({ brokers, clientId: 'bench-recorder', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: `bench-${topic}`, maxWaitTimeInMs: 20 });
  const arrivals = new Map<string, number>();
  let resolveAll: () => void = () => undefined;
  const allArrived = new Promise<void>((resolve) => (resolveAll = resolve));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = performance.now();
      for (const message of batch.messages) {
        const id = (JSON.parse(message.value?.toString() ?? '{}') as { id?: string }).id;
        if (id && !arrivals.has(id)) arrivals.set(id, now);
      }
      if (arrivals.size >= expected) resolveAll();
    },
  });
  return { arrivals, allArrived, stop: () => consumer.disconnect() };
}

async function runWriters(total: number, concurrency: number, write: (sequence: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await write(next++);
    }),
  );
}

function summarize(path: string, sent: Map<string, number>, arrivals: Map<string, number>, startedAt: number, writesDoneAt: number): ThroughputRun {
  const latencies = [...sent].map(([id, at]) => (arrivals.get(id) ?? Number.NaN) - at).sort((a, b) => a - b);
  const lastArrival = Math.max(...arrivals.values());
  return {
    path,
    events: sent.size,
    writeRate: sent.size / ((writesDoneAt - startedAt) / 1000),
    endToEndRate: sent.size / ((lastArrival - startedAt) / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/**
 * Transactional outbox (commit -> NOTIFY -> relay -> Kafka -> consumer) against a baseline that
 * sends the same envelopes straight to Kafka with the same idempotent producer, same run.
 */
export async function outboxThroughput(options: { events: number; writers: number }): Promise<ThroughputRun[]> {
  const brokers = (process.env.KAFKA_BROKERS as string).split(',');
  const database = await createTestDatabase('bench_outbox');
  const dataSource = await new DataSource({
    type: 'postgres',
    url: database.url,
    entities: eventEntities,
    migrations: eventMigrations,
    migrationsRun: true,
    extra: { max: options.writers + 4 },
  }).initialize();
  const transport = new KafkaTransport({ brokers, clientId: 'bench-outbox' });
  await transport.connect();
  const results: ThroughputRun[] = [];
  try {
    // Baseline: the producer alone.
    const direct = probeContract();
    const directRecorder = await startArrivalRecorder(brokers, direct.topic, options.events);
    const directSent = new Map<string, number>();
    const directStart = performance.now();
    await runWriters(options.events, options.writers, async (sequence) => {
      const envelope = buildEnvelope(direct, { aggregateId: `a${sequence % 64}`, payload: { sequence } });
      await transport.publish([
        { topic: direct.topic, key: envelope.aggregateId, value: JSON.stringify(envelope), headers: envelopeHeaders(envelope) },
      ]);
      directSent.set(envelope.id, performance.now());
    });
    const directWritesDone = performance.now();
    await directRecorder.allArrived;
    await directRecorder.stop();
    results.push(summarize('direct produce (baseline)', directSent, directRecorder.arrivals, directStart, directWritesDone));

    // The outbox: one transaction per event, as a service writes them.
    const outboxed = probeContract();
    const recorder = await startArrivalRecorder(brokers, outboxed.topic, options.events);
    const relay = new OutboxRelay(dataSource, transport, { pollIntervalMs: 500, batchSize: 500 });
    await relay.start();
    const writer = new OutboxWriter();
    const committed = new Map<string, number>();
    const start = performance.now();
    await runWriters(options.events, options.writers, async (sequence) => {
      const envelope = await dataSource.transaction((manager) =>
        writer.enqueue(manager, outboxed, { aggregateId: `a${sequence % 64}`, payload: { sequence } }),
      );
      committed.set(envelope.id, performance.now());
    });
    const writesDone = performance.now();
    await recorder.allArrived;
    await relay.stop();
    await recorder.stop();
    results.push(summarize('transactional outbox', committed, recorder.arrivals, start, writesDone));
    return results;
  } finally {
    await transport.disconnect();
    await dataSource.destroy();
    await database.drop();
  }
}
