import { dropRedisClients } from '@multipult/testing';

/**
 * Drops the pub/sub subscriber connections of every service of a platform (they share its key
 * prefix), as a Redis restart does; the services reconnect on their own.
 */
export function dropPubSubSubscribers(redisKeyPrefix: string): Promise<number> {
  return dropRedisClients(process.env.REDIS_URL as string, `${redisKeyPrefix}pubsub-subscriber`);
}
