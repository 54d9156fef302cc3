import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface LiveSubscription<T> {
  /** Every `data` received so far, in order. */
  values: T[];
  errors: unknown[];
  /** Resolves once `count` values have arrived (rejects after the timeout with what did arrive). */
  waitForCount(count: number, timeoutMs?: number): Promise<T[]>;
  stop(): void;
}

export interface RealtimeClient {
  client: Client;
  /** How the socket last closed (code, reason), once it has. */
  closed: Promise<{ code: number; reason: string }>;
  subscribe<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): LiveSubscription<T>;
  /** A query or mutation over the socket. */
  execute<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: unknown[] }>;
  dispose(): Promise<void>;
}

/**
 * A graphql-ws client as an app uses it, for tests: one socket (lazy: false, no retries, so a
 * refusal shows as `closed`), connection_init with the given params.
 */
export function connectRealtime(
  url: string,
  connectionParams: Record<string, unknown>,
  options: { headers?: Record<string, string> } = {},
): RealtimeClient {
  let settleClosed!: (value: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (settleClosed = resolve));
  const client = createClient({
    url,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    webSocketImpl: class extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { headers: options.headers });
      }
    },
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        settleClosed({ code, reason: String(reason) });
      },
    },
    onNonLazyError: () => undefined,
  });
  return {
    client,
    closed,
    subscribe<T>(query: string, variables?: Record<string, unknown>): LiveSubscription<T> {
      const values: T[] = [];
      const errors: unknown[] = [];
      const stop = client.subscribe<T>(
        { query, variables },
        {
          next: (result) => {
            if (result.errors) errors.push(...result.errors);
            if (result.data) values.push(result.data as T);
          },
          error: (error) => errors.push(error),
          complete: () => undefined,
        },
      );
      return {
        values,
        errors,
        stop,
        waitForCount: async (count, timeoutMs = 15_000) => {
          const deadline = Date.now() + timeoutMs;
          while (values.length < count) {
            if (Date.now() > deadline) {
              throw new Error(`expected ${count} values within ${timeoutMs} ms, got ${JSON.stringify(values)}; errors ${JSON.stringify(errors)}`);
            }
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          return values;
        },
      };
    },
    execute: <T>(query: string, variables?: Record<string, unknown>) =>
      new Promise<{ data?: T; errors?: unknown[] }>((resolve, reject) => {
        let result: { data?: T; errors?: unknown[] } = {};
        client.subscribe<T>(
          { query, variables },
          {
            next: (value) => (result = { data: (value.data ?? undefined) as T | undefined, errors: value.errors as unknown[] | undefined }),
            error: reject,
            complete: () => resolve(result),
          },
        );
      }),
    dispose: () => client.dispose() as Promise<void>,
  };
}
