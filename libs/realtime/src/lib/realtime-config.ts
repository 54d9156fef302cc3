import { z } from 'zod';

/** The /graphql/ws limits every realtime endpoint (a subgraph's server, the gateway's router) reads from env. */
export const realtimeEnv = {
  /** Connections to /graphql/ws this instance accepts, in total and from one client IP. */
  REALTIME_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(20_000),
  REALTIME_MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).default(100),
  /** Messages one connection may send per second (subscribe, acks, typing) before it is closed. */
  REALTIME_MAX_MESSAGES_PER_SECOND: z.coerce.number().int().min(1).default(20),
  REALTIME_MAX_MESSAGE_BYTES: z.coerce.number().int().min(256).default(16_384),
  /** Ping interval; a connection that answers no ping within this time is dropped. */
  REALTIME_HEARTBEAT_MS: z.coerce.number().int().min(100).default(15_000),
  /** Time a socket may take to send connection_init. */
  REALTIME_INIT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  /** How often open sockets are checked against revoked sessions (a revoked session's sockets close within this). */
  REALTIME_REVOCATION_CHECK_MS: z.coerce.number().int().min(50).max(60_000).default(500),
};

export type RealtimeConfig = z.infer<z.ZodObject<typeof realtimeEnv>>;
