import type { Socket } from 'node:net';
import { Logger } from '@nestjs/common';
import { Client, ClientConfig } from 'pg';

/** What this needs of node-postgres's Client beyond its public API (pinned in package.json; the spec fails if it moves). */
interface ClientInternals {
  connection: { stream: Socket };
  _getActiveQuery(): unknown;
  _queryQueue: unknown[];
}

const logger = new Logger('Database');

/**
 * A pg Client that closes its connection when the server has sent nothing for `timeoutMs` while a
 * statement is outstanding, as PgJDBC's `socketTimeout` does. PostgreSQL bounds a statement itself
 * (statement_timeout), but only an answer that arrives ends the wait: on a path that silently drops
 * packets (a partition, a host gone without resetting its connections, a stuck proxy) the statement
 * waits until TCP gives up, about 15 minutes on Linux, holding its pooled connection, and a pool of
 * such connections keeps the service failing after the network is back. Closed, the connection fails
 * its statements with "Connection terminated unexpectedly" and its pool replaces it. An idle
 * connection (between statements, or one only listening) is left alone.
 */
export function closingSilentConnections(Base: typeof Client, timeoutMs: number): typeof Client {
  return class SilenceBoundedClient extends Base {
    constructor(config?: string | ClientConfig) {
      super(config);
      // Armed once connected: by then the stream is the one the protocol runs on (TLS, if negotiated),
      // and connectionTimeoutMillis has bounded the wait until then.
      this.once('connect', () => {
        const internals = this as unknown as ClientInternals;
        const stream = internals.connection.stream;
        // Node re-arms this on every read and write, so it measures silence, not a statement's length.
        stream.setTimeout(timeoutMs);
        stream.on('timeout', () => {
          if (!internals._getActiveQuery() && internals._queryQueue.length === 0) return;
          logger.warn(`PostgreSQL sent nothing for ${timeoutMs} ms with a statement outstanding: closing the connection (DATABASE_SOCKET_TIMEOUT_MS)`);
          stream.destroy();
        });
      });
    }
  };
}
