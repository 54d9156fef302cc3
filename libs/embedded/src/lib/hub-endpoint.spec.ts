import { MessageChannel } from 'node:worker_threads';
import { HubEndpoint } from './hub-endpoint';

describe('HubEndpoint', () => {
  it('calls handlers across a port in both directions and keeps channels apart', async () => {
    const { port1, port2 } = new MessageChannel();
    const hubStore = new HubEndpoint(port1, 'store').handle({ double: (value: number) => value * 2 });
    const workerStore = new HubEndpoint(port2, 'store').handle({ greet: (name: string) => `hello ${name}` });
    new HubEndpoint(port1, 'events').handle({ double: () => 'wrong channel' });

    await expect(workerStore.call('double', 21)).resolves.toBe(42);
    await expect(hubStore.call('greet', 'hub')).resolves.toBe('hello hub');
    port1.close();
  });

  it('rejects with the remote error message, and for unknown methods', async () => {
    const { port1, port2 } = new MessageChannel();
    new HubEndpoint(port1, 'store').handle({
      fail: () => {
        throw new Error('remote failure');
      },
    });
    const client = new HubEndpoint(port2, 'store');
    await expect(client.call('fail')).rejects.toThrow('remote failure');
    await expect(client.call('missing')).rejects.toThrow('no handler for store.missing');
    port1.close();
  });
});
