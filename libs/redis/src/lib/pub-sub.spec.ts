import { MemoryPubSub, PubSub, RedisPubSub } from './pub-sub';

const redisUrl = process.env.REDIS_URL as string;

function nextMessage(pubSub: PubSub, channel: string): Promise<{ message: string; unsubscribe: () => Promise<void> }> {
  return new Promise((resolve) => {
    const subscribed = pubSub.subscribe(channel, (message) => {
      void subscribed.then((unsubscribe) => resolve({ message, unsubscribe }));
    });
  });
}

describe('redis pub/sub', () => {
  const prefix = `test:${process.pid}:${Date.now()}:`;
  const instanceA = RedisPubSub.connect(redisUrl, prefix);
  const instanceB = RedisPubSub.connect(redisUrl, prefix);
  const otherDeployment = RedisPubSub.connect(redisUrl, `${prefix}other:`);
  afterAll(() => Promise.all([instanceA.close(), instanceB.close(), otherDeployment.close()]));

  it('delivers a message published on one instance to subscribers on every instance, not to other prefixes', async () => {
    const heardByOther: string[] = [];
    await otherDeployment.subscribe('live', (message) => heardByOther.push(message));
    const onA = nextMessage(instanceA, 'live');
    const onB = nextMessage(instanceB, 'live');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await instanceA.publish('live', 'hello');
    const [a, b] = await Promise.all([onA, onB]);
    expect([a.message, b.message]).toEqual(['hello', 'hello']);
    await Promise.all([a.unsubscribe(), b.unsubscribe()]);
    expect(heardByOther).toEqual([]);
  });

  it('stops delivering after the last listener of a channel unsubscribes', async () => {
    const heard: string[] = [];
    const unsubscribe = await instanceB.subscribe('gone', (message) => heard.push(message));
    await unsubscribe();
    await instanceA.publish('gone', 'unheard');
    const probe = nextMessage(instanceB, 'probe');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await instanceA.publish('probe', 'after');
    await (await probe).unsubscribe();
    expect(heard).toEqual([]);
  });
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
