import { z } from 'zod';
import type { AccessTokenVerifier } from '@multipult/auth';
import { metricsRegistry } from '@multipult/observability';
import type { FastStore } from '@multipult/redis';
import { realtimeEnv } from './realtime-config';
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
