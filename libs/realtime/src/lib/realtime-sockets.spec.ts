import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { AccessTokenVerifier } from '@multipult/auth';
import { metricsRegistry } from '@multipult/observability';
import type { FastStore } from '@multipult/redis';
import { realtimeEnv } from './realtime-config';
import { CloseCodes, RealtimeConnection } from './realtime-connection';
import { RealtimeSockets } from './realtime-sockets';

const sockets = (maxConnections: number) =>
  new RealtimeSockets({
    config: z.object(realtimeEnv).parse({ REALTIME_MAX_CONNECTIONS: String(maxConnections) }),
    // Neither is reached: no socket connects in this spec.
    verifier: {} as AccessTokenVerifier,
    store: {} as FastStore,
    trustProxy: [],
    accept: () => undefined,
  });

const gaugeValue = async (name: string): Promise<number | undefined> => (await metricsRegistry.getSingleMetric(name)?.get())?.values[0]?.value;

describe('RealtimeSockets metrics', () => {
  it('exports open connections and the limit of every endpoint of the process, until drained', async () => {
    const first = sockets(7);
    const second = sockets(5);

    expect(await gaugeValue('realtime_ws_connections')).toBe(0);
    expect(await gaugeValue('realtime_ws_connections_limit')).toBe(12);

    await first.drain();
    expect(await gaugeValue('realtime_ws_connections_limit')).toBe(5);
    await second.drain();
    expect(await gaugeValue('realtime_ws_connections_limit')).toBe(0);
  });
});

describe('RealtimeSockets.authenticate', () => {
  // Regression: an authorization that was not a bearer token threw outside the refusal, closing the socket with 1011.
  it.each(['Basic dXNlcjpwYXNz', 'Bearer ', '', 'Bearer not.a.token'])('refuses authorization %j with 4401', async (authorization) => {
    const refusing = new RealtimeSockets({
      config: z.object(realtimeEnv).parse({}),
      verifier: { verify: () => Promise.reject(new Error('invalid token')) } as unknown as AccessTokenVerifier,
      store: {} as FastStore,
      trustProxy: [],
      accept: () => undefined,
    });
    const connection = { id: 'socket', ip: '127.0.0.1', close: jest.fn() } as unknown as RealtimeConnection;
    const request = { headers: {} } as IncomingMessage;
    await expect(refusing.authenticate(connection, request, { authorization })).resolves.toBe(false);
    expect(connection.close).toHaveBeenCalledWith(CloseCodes.unauthorized, 'Unauthorized');
    await refusing.drain();
  });
});
