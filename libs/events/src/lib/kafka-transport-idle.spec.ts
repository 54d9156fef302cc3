import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaTransport } from './transport/kafka-transport';
import { brokersFromEnvironment, waitFor } from '../testing/support';

jest.setTimeout(60_000);

/** Idle fetches counted while timers are counted: each is a long poll the loop would have spun through. */
const IDLE_FETCHES = 2;
/** A short long-poll, so the idle fetches come within a few seconds. */
const FETCH_WAIT_MS = 500;

/**
 * kafkajs 2.2.4 re-armed a 1 ms timer per broker connection for as long as the connection was idle
 * (tulios/kafkajs#1556): about 20-35 ms of CPU per second for an idle service. patches/ fixes it at
 * install; this fails if the fix is not applied (an upgrade, an install without its postinstall).
 */
describe('kafkajs at rest', () => {
  it('arms no timer loop while a producer and a consumer are connected and idle', async () => {
    const brokers = brokersFromEnvironment();
    const transport = new KafkaTransport({ brokers, clientId: 'idle-spec' });
    const consumer = new Kafka({ brokers, clientId: 'idle-spec-consumer', logLevel: logLevel.NOTHING }).consumer({
      groupId: `idle-group-${randomUUID()}`,
      maxWaitTimeInMs: FETCH_WAIT_MS,
    });
    const topic = `idle-${randomUUID()}`;
    const received: string[] = [];
    let fetches = 0;
    consumer.on(consumer.events.FETCH_START, () => (fetches += 1));
    await transport.connect();
    try {
      await transport.publish([{ topic, key: 'k', value: 'wakes every connection', headers: {} }]);
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void received.push(String(message.value)) });
      await waitFor('the message', () => received.length === 1);

      const realSetTimeout = globalThis.setTimeout;
      let armed = 0;
      globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
        armed += 1;
        return realSetTimeout(...args);
      }) as typeof setTimeout;
      const fetchesBefore = fetches;
      try {
        await waitFor(`${IDLE_FETCHES} idle fetches`, () => fetches - fetchesBefore > IDLE_FETCHES, 30_000);
      } finally {
        globalThis.setTimeout = realSetTimeout;
      }
      // Fetch waits, heartbeats and the wait's own polls arm a few per fetch; the loop armed about a thousand a second per connection.
      expect(armed).toBeLessThan(50 * IDLE_FETCHES);
    } finally {
      await consumer.disconnect();
      await transport.disconnect();
    }
  });
});
