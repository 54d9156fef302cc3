import { randomUUID } from 'node:crypto';
import { KafkaJSNonRetriableError, KafkaJSProtocolError, Producer } from 'kafkajs';
import { ReceivedMessage, Subscription } from './transport/event-transport';
import { KafkaTransport } from './transport/kafka-transport';
import { brokersFromEnvironment, waitFor } from '../testing/support';

jest.setTimeout(60_000);

describe('the Kafka producer', () => {
  let transport: KafkaTransport;
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    transport = new KafkaTransport({ brokers: brokersFromEnvironment(), clientId: 'producer-spec' });
    await transport.connect();
  });

  afterAll(async () => {
    await Promise.all(subscriptions.map((subscription) => subscription.stop()));
    await transport?.disconnect();
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
