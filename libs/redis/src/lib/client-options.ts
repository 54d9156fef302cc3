import type { RedisOptions } from 'ioredis';

/** The longest any Redis command may go unanswered before its caller is given an error. */
export const REDIS_COMMAND_TIMEOUT_MS = 5_000;

/**
 * What every connection of ours to Redis shares. `maxRetriesPerRequest` fails commands queued while
 * disconnected, but a command already written when the connection dropped waits in ioredis for the
 * next ready connection, with no bound of its own, and for ever if connections keep opening and
 * dying (a load balancer with no healthy backend, a server at its client limit): `commandTimeout`
 * bounds that wait too.
 */
export const REDIS_CLIENT_OPTIONS = {
  maxRetriesPerRequest: 2,
  connectTimeout: 5_000,
  commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
} as const satisfies RedisOptions;
