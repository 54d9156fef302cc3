import { randomUUID } from 'node:crypto';
import { KafkaTransport } from './transport/kafka-transport';
import { brokersFromEnvironment, waitFor } from '../testing/support';

jest.setTimeout(60_000);

/**
 * kafkajs 2.2.4 re-armed a 1 ms timer per broker connection for as long as the connection was idle
 * (tulios/kafkajs#1556): about 50 ms of CPU per second for an idle service. patches/ fixes it at
 * install; this fails if the fix is not applied (an upgrade, an install without its postinstall).
 */
describe('the Kafka transport at rest', () => {
  it('arms no timer loop while its producer and consumer are connected and idle', async () => {
    const transport = new KafkaTransport({ brokers: brokersFromEnvironment(), clientId: 'idle-spec' });
    await transport.connect();
    const topic = `idle-${randomUUID()}`;
    const received: string[] = [];
    const subscription = await transport.subscribe({ groupId: `idle-group-${randomUUID()}`, topics: [topic], handler: async (message) => void received.push(message.value) });
    try {
      await transport.publish([{ topic, key: 'k', value: 'wakes every connection', headers: {} }]);
      await waitFor('the message', () => received.length === 1);
      const realSetTimeout = globalThis.setTimeout;
      let armed = 0;
      globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
        armed += 1;
        return realSetTimeout(...args);
      }) as typeof setTimeout;
      try {
        await new Promise((resolve) => realSetTimeout(resolve, 1_000));
      } finally {
        globalThis.setTimeout = realSetTimeout;
      }
      // Heartbeats and fetch waits arm a few; the loop armed about a thousand per connection.
      expect(armed).toBeLessThan(50);
    } finally {
      await subscription.stop();
      await transport.disconnect();
    }
  });
});
