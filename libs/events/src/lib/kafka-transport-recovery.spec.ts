import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Kafka, KafkaJSNonRetriableError, KafkaJSProtocolError, Producer, logLevel } from 'kafkajs';
import { workspaceRoot } from '@multipult/testing';
import { ReceivedMessage, Subscription } from './transport/event-transport';
import { KafkaTransport } from './transport/kafka-transport';
import { brokersFromEnvironment, waitFor } from '../testing/support';

jest.setTimeout(60_000);

// Long enough that waiting for the join shows, short enough that the killed member expires within the test.
const DEAD_MEMBER_SESSION_MS = 15_000;

/**
 * A consumer in another process that joins `groupId` on `topic` and commits what it consumed (as a
 * running service's group has), then is killed (kill -9) without leaving the group.
 */
async function killedMember(brokers: string[], groupId: string, topic: string): Promise<void> {
  const script = `
    const { Kafka, logLevel } = require('kafkajs');
    const consumer = new Kafka({ clientId: 'doomed', brokers: ${JSON.stringify(brokers)}, logLevel: logLevel.NOTHING })
      .consumer({ groupId: ${JSON.stringify(groupId)}, sessionTimeout: ${DEAD_MEMBER_SESSION_MS} });
    consumer.on(consumer.events.COMMIT_OFFSETS, () => console.log('committed'));
    consumer.connect()
      .then(() => consumer.subscribe({ topics: [${JSON.stringify(topic)}], fromBeginning: true }))
      .then(() => consumer.run({ eachMessage: async () => undefined }));
  `;
  const child = spawn(process.execPath, ['-e', script], { cwd: workspaceRoot(), stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('committed') && resolve());
    child.once('exit', (code) => reject(new Error(`the member exited with ${code} before committing`)));
  });
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('the Kafka transport recovering', () => {
  let transport: KafkaTransport;
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    transport = new KafkaTransport({ brokers: brokersFromEnvironment(), clientId: 'consumer-recovery-spec' });
    await transport.connect();
  });

  afterAll(async () => {
    await Promise.all(subscriptions.map((subscription) => subscription.stop()));
    await transport?.disconnect();
  });

  it('replacing a killed instance: subscribes without waiting out the dead member, and gets what is published once the group has rebalanced', async () => {
    const topic = `takeover-${randomUUID()}`;
    const groupId = `takeover-group-${randomUUID()}`;
    await transport.publish([{ topic, key: 'k', value: 'consumed by the killed member', headers: {} }]);
    await killedMember(brokersFromEnvironment(), groupId, topic);

    const received: ReceivedMessage[] = [];
    const subscribingStarted = Date.now();
    subscriptions.push(await transport.subscribe({ groupId, topics: [topic], handler: async (message) => void received.push(message) }));
    const subscribeMs = Date.now() - subscribingStarted;
    // The join itself waits for the dead member's session to expire: subscribe() must not.
    expect(subscribeMs).toBeLessThan(5_000);

    await transport.publish([{ topic, key: 'k', value: 'after the replacement subscribed', headers: {} }]);
    await waitFor('the message published after subscribing', () => received.some((message) => message.value === 'after the replacement subscribed'), 45_000);
    expect(received.map((message) => message.value)).toEqual(['after the replacement subscribed']);
  });

  it('starts a new group where its topics ended when it subscribed, however late it joins', async () => {
    const topic = `recovery-new-${randomUUID()}`;
    const received: string[] = [];
    await transport.publish([{ topic, key: 'k', value: 'before subscribing', headers: {} }]);
    subscriptions.push(await transport.subscribe({ groupId: `new-group-${randomUUID()}`, topics: [topic], handler: async (message) => void received.push(message.value) }));
    await transport.publish([{ topic, key: 'k', value: 'right after subscribing', headers: {} }]);
    await waitFor('the message published right after subscribing', () => received.includes('right after subscribing'));
    expect(received).toEqual(['right after subscribing']);
  });

  it('keeps what was published while the group was away on a topic it had not committed on yet', async () => {
    const [busy, quiet] = [`recovery-busy-${randomUUID()}`, `recovery-quiet-${randomUUID()}`];
    const groupId = `away-group-${randomUUID()}`;
    const received: string[] = [];
    const subscribe = () => transport.subscribe({ groupId, topics: [busy, quiet], handler: async (message) => void received.push(message.value) });
    const first = await subscribe();
    await transport.publish([{ topic: busy, key: 'k', value: 'committed on the busy topic', headers: {} }]);
    await waitFor('the busy topic consumed', () => received.includes('committed on the busy topic'));
    await first.stop();

    // The quiet topic's first message comes while no member is running (a restart, a deployment).
    await transport.publish([{ topic: quiet, key: 'k', value: 'first on the quiet topic, while away', headers: {} }]);
    subscriptions.push(await subscribe());
    await waitFor('the message published while the group was away', () => received.includes('first on the quiet topic, while away'), 30_000);
    expect(received).toEqual(['committed on the busy topic', 'first on the quiet topic, while away']);
  });

  it('starts again after an error kafkajs treats as unrecoverable (a TypeError), and gets the message again', async () => {
    const topic = `recovery-crash-${randomUUID()}`;
    const deliveries: string[] = [];
    subscriptions.push(
      await transport.subscribe({
        groupId: `crash-group-${randomUUID()}`,
        topics: [topic],
        handler: async (message) => {
          deliveries.push(message.value);
          // kafkajs neither retries nor restarts after a TypeError, RangeError, ReferenceError or SyntaxError.
          if (message.value === 'meets a bug' && deliveries.filter((value) => value === 'meets a bug').length === 1) throw new TypeError('a bug met by one message');
        },
      }),
    );
    // The group has committed an offset, as a running service's has: the restart resumes from it.
    await transport.publish([{ topic, key: 'k', value: 'handled', headers: {} }]);
    await waitFor('the first message handled', () => deliveries.includes('handled'));
    await transport.publish([{ topic, key: 'k', value: 'meets a bug', headers: {} }]);
    await waitFor('the message delivered again after the restart', () => deliveries.length >= 3, 30_000);
    expect(deliveries).toEqual(['handled', 'meets a bug', 'meets a bug']);
  });

  it('publishes many concurrent batches to one partition without a sequence error, each once', async () => {
    const topic = `producer-concurrent-${randomUUID()}`;
    const received: ReceivedMessage[] = [];
    subscriptions.push(await transport.subscribe({ groupId: `producer-group-${randomUUID()}`, topics: [topic], handler: async (message) => void received.push(message) }));
    const values = Array.from({ length: 200 }, (_, index) => `message ${index}`);
    const outcomes = await Promise.allSettled(values.map((value) => transport.publish([{ topic, key: 'one key', value, headers: {} }])));
    expect(outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => String((outcome as PromiseRejectedResult).reason))).toEqual([]);
    await waitFor('every message consumed', () => received.length >= values.length, 30_000);
    expect(new Set(received.map((message) => message.value)).size).toBe(values.length);
    expect(received).toHaveLength(values.length);
  });

  it('a member stopped while it is still joining leaves the group, so the members that stay go on consuming at once', async () => {
    const topic = `recovery-brief-${randomUUID()}`;
    const groupId = `brief-group-${randomUUID()}`;
    const received: string[] = [];
    subscriptions.push(await transport.subscribe({ groupId, topics: [topic], handler: async (message) => void received.push(message.value) }));
    await transport.publish([{ topic, key: 'k', value: 'before the brief member', headers: {} }]);
    await waitFor('the first message', () => received.includes('before the brief member'));

    // Another instance that starts and is stopped before its join completes (a deployment rolled back at once).
    const brief = new KafkaTransport({ brokers: brokersFromEnvironment(), clientId: 'brief-member' });
    await brief.connect();
    const briefSubscription = await brief.subscribe({ groupId, topics: [topic], handler: async () => undefined });
    const admin = new Kafka({ brokers: brokersFromEnvironment(), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await waitFor('the brief member joining (a rebalance under way)', async () => (await admin.describeGroups([groupId])).groups[0]?.state === 'PreparingRebalance');
    } finally {
      await admin.disconnect();
    }
    await briefSubscription.stop();
    await brief.disconnect();

    // Had it vanished mid-join, the broker would hold the group's rebalance for its rebalance timeout (a minute).
    await transport.publish([{ topic, key: 'k', value: 'after the brief member', headers: {} }]);
    await waitFor('the message published after the brief member stopped', () => received.includes('after the brief member'), 20_000);
  });

  it('starts a new producer when the broker refuses its sequence numbers, and the batch goes out once', async () => {
    const topic = `producer-sequence-${randomUUID()}`;
    const received: ReceivedMessage[] = [];
    subscriptions.push(await transport.subscribe({ groupId: `producer-group-${randomUUID()}`, topics: [topic], handler: async (message) => void received.push(message) }));
    await transport.publish([{ topic, key: 'k', value: 'before', headers: {} }]);
    // The broker's answer to a batch it appended but whose response was lost, as kafkajs hands it on.
    const refusal = new KafkaJSProtocolError(
      Object.assign(new Error('The broker received an out of order sequence number'), { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER', code: 45, retriable: false }),
    );
    const NonRetriable = KafkaJSNonRetriableError as unknown as new (error: Error, options: { cause: Error }) => Error;
    const desynced = (transport as unknown as { producer: Producer }).producer;
    const sendBatch = jest.spyOn(desynced, 'sendBatch').mockRejectedValue(new NonRetriable(refusal, { cause: refusal }));

    await transport.publish([{ topic, key: 'k', value: 'after the refusal', headers: {} }]);

    expect(sendBatch).toHaveBeenCalledTimes(1);
    expect((transport as unknown as { producer: Producer }).producer).not.toBe(desynced);
    await waitFor('the batch sent by the new producer', () => received.some((message) => message.value === 'after the refusal'));
    await transport.publish([{ topic, key: 'k', value: 'later', headers: {} }]);
    await waitFor('a later batch', () => received.some((message) => message.value === 'later'));
    expect(received.map((message) => message.value)).toEqual(['before', 'after the refusal', 'later']);
  });
});
