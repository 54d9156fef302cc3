import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { EventConsumer, KafkaTransport, UserRegistered } from '@multipult/events';
import { Platform, eventually, freePort, startKafkaBroker, startPlatform } from '@multipult/testing';
import { registerAccount } from './support/accounts';
import { openConsumerDatabase } from './support/consumer-database';
import { usePlatform } from './support/platforms';

/** A downstream service of the platform: consumes user.registered and writes one row per event it handles. */
async function startWelcomeConsumer(brokers: string, platform: Platform) {
  const { dataSource, close } = await openConsumerDatabase('welcome_consumer');
  await dataSource.query('CREATE TABLE welcomed (user_id uuid NOT NULL, event_id uuid NOT NULL)');
  const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: 'welcome-consumer-test', topicPrefix: platform.kafkaTopicPrefix });
  await transport.connect();
  const consumer = new EventConsumer(dataSource, transport, { maxRetries: 2 });
  await consumer.consume({
    groupId: `welcome-${Date.now()}`,
    contracts: [UserRegistered],
    fromBeginning: true,
    handler: async (event, manager) => {
      await manager.query('INSERT INTO welcomed (user_id, event_id) VALUES ($1, $2)', [event.payload.userId, event.id]);
    },
  });
  const welcomedCount = async (userId: string): Promise<number> =>
    Number((await dataSource.query('SELECT count(*) AS n FROM welcomed WHERE user_id = $1', [userId]))[0].n);
  return {
    welcomedCount,
    async waitUntilWelcomed(userId: string, timeoutMs = 30_000): Promise<void> {
      await eventually(`user.registered for ${userId}`, async () => (await welcomedCount(userId)) > 0, timeoutMs);
    },
    async stop() {
      await consumer.stop();
      await transport.disconnect();
      await close();
    },
  };
}

async function outboxRow(databaseUrl: string, aggregateId: string) {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT envelope, headers, message_key, topic, published_at, attempts FROM auth.outbox
       WHERE message_key = $1 AND event_type = 'user.registered'`,
      [aggregateId],
    );
    return rows[0] as {
      envelope: Record<string, unknown>;
      headers: Record<string, string>;
      message_key: string;
      topic: string;
      published_at: Date | null;
      attempts: number;
    };
  } finally {
    await client.end();
  }
}

describe('domain events from the auth service', () => {
  describe('with the shared broker', () => {
    let platform: Platform;
    let consumer: Awaited<ReturnType<typeof startWelcomeConsumer>>;

    beforeAll(async () => {
      platform = await usePlatform('default');
      consumer = await startWelcomeConsumer(process.env.KAFKA_BROKERS as string, platform);
    });

    afterAll(async () => {
      await consumer?.stop();
    });

    it('delivers user.registered exactly once, even when Kafka delivers the message twice', async () => {
      const account = await registerAccount(platform.gatewayUrl, 'evented');
      await consumer.waitUntilWelcomed(account.userId);

      // Redeliver the very same message, as Kafka does after a consumer crash before its commit.
      const row = await outboxRow(platform.databaseUrl, account.userId);
      expect(row.published_at).not.toBeNull();
      expect(row.envelope).toMatchObject({ type: 'user.registered', version: 1, aggregateId: account.userId });
      const producer = new Kafka({
        brokers: (process.env.KAFKA_BROKERS as string).split(','),
        logLevel: logLevel.NOTHING,
      }).producer();
      await producer.connect();
      await producer.send({
        topic: `${platform.kafkaTopicPrefix}${row.topic}`,
        messages: [{ key: row.message_key, value: JSON.stringify(row.envelope), headers: row.headers }],
      });
      await producer.disconnect();

      // A later event on the same partition proves the duplicate was consumed before we count.
      const later = await registerAccount(platform.gatewayUrl, 'later');
      await consumer.waitUntilWelcomed(later.userId);
      expect(await consumer.welcomedCount(account.userId)).toBe(1);
    });
  });

  describe('while the broker is down', () => {
    it('keeps accepting registrations and delivers their events once the broker is back', async () => {
      const port = await freePort();
      let broker = await startKafkaBroker({ port });
      // A platform of its own: auth publishes to a broker this test stops and restarts.
      const platform = await startPlatform({ authEnv: { KAFKA_BROKERS: broker.brokers } });
      try {
        await broker.stop();
        const started = Date.now();
        const accounts = [];
        for (let i = 0; i < 5; i += 1) accounts.push(await registerAccount(platform.gatewayUrl, `outage-${i}`));
        expect(Date.now() - started).toBeLessThan(10_000);

        // The relay has tried (and failed) to publish every event: they stay in the outbox, unpublished.
        for (const account of accounts) {
          const row = await eventually('a failed publish attempt', async () => {
            const candidate = await outboxRow(platform.databaseUrl, account.userId);
            return candidate.attempts > 0 ? candidate : undefined;
          }, 30_000);
          expect(row.published_at).toBeNull();
        }

        broker = await startKafkaBroker({ port });
        const consumer = await startWelcomeConsumer(broker.brokers, platform);
        try {
          for (const account of accounts) await consumer.waitUntilWelcomed(account.userId, 60_000);
          for (const account of accounts) expect(await consumer.welcomedCount(account.userId)).toBe(1);
        } finally {
          await consumer.stop();
        }
      } finally {
        await platform.stop();
        await broker.stop();
      }
      // Two broker starts (a JVM each) and a platform of its own: more than the default on a busy machine.
    }, 240_000);
  });
});
