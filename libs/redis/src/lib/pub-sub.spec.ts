import { CutMode, dropRedisClients, eventually, startTcpProxy } from '@multipult/testing';
import { REDIS_COMMAND_TIMEOUT_MS } from './client-options';
import { MemoryPubSub, PubSub, RedisPubSub } from './pub-sub';

const redisUrl = process.env.REDIS_URL as string;

/** Subscribes (resolving once the server has confirmed it) and collects what the channel carries. */
async function listen(pubSub: PubSub, channel: string): Promise<{ heard: string[]; unsubscribe: () => Promise<void> }> {
  const heard: string[] = [];
  const unsubscribe = await pubSub.subscribe(channel, (message) => heard.push(message));
  return { heard, unsubscribe };
}

describe('redis pub/sub', () => {
  const prefix = `test:${process.pid}:${Date.now()}:`;
  const instanceA = RedisPubSub.connect(redisUrl, prefix);
  const instanceB = RedisPubSub.connect(redisUrl, prefix);
  const otherDeployment = RedisPubSub.connect(redisUrl, `${prefix}other:`);
  afterAll(() => Promise.all([instanceA.close(), instanceB.close(), otherDeployment.close()]));

  it('delivers a message published on one instance to subscribers on every instance, not to other prefixes', async () => {
    const other = await listen(otherDeployment, 'live');
    const [a, b] = await Promise.all([listen(instanceA, 'live'), listen(instanceB, 'live')]);
    await instanceA.publish('live', 'hello');
    await eventually('the message on both instances', () => a.heard.length >= 1 && b.heard.length >= 1);
    expect([a.heard, b.heard]).toEqual([['hello'], ['hello']]);
    // A later message of the other deployment proves anything of ours would have reached it first.
    await otherDeployment.publish('live', 'marker');
    await eventually('the marker in the other deployment', () => other.heard.length >= 1);
    expect(other.heard).toEqual(['marker']);
    await Promise.all([a.unsubscribe(), b.unsubscribe(), other.unsubscribe()]);
  });

  it('stops delivering after the last listener of a channel unsubscribes', async () => {
    const heard: string[] = [];
    const unsubscribe = await instanceB.subscribe('gone', (message) => heard.push(message));
    await unsubscribe();
    await instanceA.publish('gone', 'unheard');
    // A later message on the same connection is the marker that the first would have arrived by now.
    const probe = await listen(instanceB, 'probe');
    await instanceA.publish('probe', 'after');
    await eventually('the probe', () => probe.heard.length >= 1);
    await probe.unsubscribe();
    expect(heard).toEqual([]);
  });
});

describe('redis pub/sub gaps', () => {
  const prefix = `test:gaps:${process.pid}:${Date.now()}:`;
  it("tells a channel's listeners of a gap once the channel is subscribed again after the connection dropped", async () => {
    const instance = RedisPubSub.connect(redisUrl, prefix);
    const publisher = RedisPubSub.connect(redisUrl, prefix);
    try {
      const heard: string[] = [];
      let gaps = 0;
      // Each gap is checked the moment it is told: a message published then must already arrive.
      const unsubscribe = await instance.subscribe('feed', (message) => heard.push(message), {
        onGap: () => {
          gaps += 1;
          void publisher.publish('feed', `after gap ${gaps}`);
        },
      });
      expect(await dropRedisClients(redisUrl, `${prefix}pubsub-subscriber`)).toBeGreaterThan(0);
      await eventually('the message published as the gap was told', () => heard.includes('after gap 1'));
      expect(gaps).toBe(1);
      await unsubscribe();
    } finally {
      await Promise.all([instance.close(), publisher.close()]);
    }
  });

  // Refused: a publish waits in the offline queue. Opened and dropped: one written just before the
  // drop waits on the connection, which only the command bound ends.
  it.each<[CutMode]>([['refuse'], ['accept-then-drop']])(
    'fails a publish within its bound while the network answers %s, and tells subscribers on every instance once the publisher is back',
    async (mode) => {
      const target = new URL(redisUrl);
      const relay = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
      const publisher = RedisPubSub.connect(`redis://127.0.0.1:${relay.port}`, prefix);
      const subscriber = RedisPubSub.connect(redisUrl, prefix);
      const channel = `orders-${mode}`;
      try {
        let gaps = 0;
        const heard: string[] = [];
        await subscriber.subscribe(channel, (message) => heard.push(message), { onGap: () => (gaps += 1) });
        await publisher.publish(channel, 'delivered');
        await eventually('the first message', () => heard.length === 1);
        relay.cut(mode);
        const startedAt = Date.now();
        await expect(publisher.publish(channel, 'lost')).rejects.toThrow();
        expect(Date.now() - startedAt).toBeLessThan(REDIS_COMMAND_TIMEOUT_MS + 5_000);
        expect(relay.refused).toBeGreaterThan(0);
        expect(gaps).toBe(0);
        relay.restore();
        await eventually('the gap, told by the publisher once it is back', () => gaps === 1);
        await publisher.publish(channel, 'after');
        await eventually('the message after the gap', () => heard.length === 2);
        expect(heard).toEqual(['delivered', 'after']);
      } finally {
        relay.restore();
        await Promise.all([publisher.close(), subscriber.close()]);
        await relay.close();
      }
    },
  );
});

describe('memory pub/sub', () => {
  it('delivers asynchronously, never inside the publisher', async () => {
    const pubSub = new MemoryPubSub();
    const heard: string[] = [];
    await pubSub.subscribe('c', (message) => heard.push(message));
    await pubSub.publish('c', 'x');
    expect(heard).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard).toEqual(['x']);
    await pubSub.close();
  });
});
