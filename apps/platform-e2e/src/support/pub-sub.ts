import Redis from 'ioredis';

/**
 * Drops the pub/sub subscriber connections of every service of a platform (they share its key
 * prefix), as a Redis restart does; the services reconnect on their own.
 */
export async function dropPubSubSubscribers(redisKeyPrefix: string): Promise<number> {
  const redis = new Redis(process.env.REDIS_URL as string);
  try {
    const clients = String(await redis.client('LIST')).split('\n');
    const subscribers = clients.filter((line) => line.includes(` name=${redisKeyPrefix}pubsub-subscriber `));
    for (const line of subscribers) await redis.client('KILL', 'ID', /\bid=(\d+)/.exec(line)?.[1] as string);
    return subscribers.length;
  } finally {
    await redis.quit();
  }
}
