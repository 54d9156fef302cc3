import Redis from 'ioredis';

/**
 * Closes, from the server side, every Redis connection with this client name (as a Redis restart
 * or a network break does to it); the clients reconnect on their own. Answers how many there were.
 */
export async function dropRedisClients(redisUrl: string, name: string): Promise<number> {
  const redis = new Redis(redisUrl);
  try {
    const named = String(await redis.client('LIST'))
      .split('\n')
      .filter((line) => line.includes(` name=${name} `));
    for (const line of named) await redis.client('KILL', 'ID', /\bid=(\d+)/.exec(line)?.[1] as string);
    return named.length;
  } finally {
    await redis.quit();
  }
}
