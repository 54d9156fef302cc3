import { type IncomingMessage, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { z } from 'zod';
import { type AccessTokenVerifier, type AuthPrincipal, revokeSession, revokeUserTokensIssuedBefore } from '@multipult/auth';
import { metricsRegistry } from '@multipult/observability';
import { type FastStore, MemoryFastStore } from '@multipult/redis';
import { eventually } from '@multipult/testing';
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

describe('RealtimeSockets revocation', () => {
  const issuedAt = new Date('2026-12-04T10:00:00Z');
  const principal = (sessionId: string, userId: string, issued: Date): AuthPrincipal => ({
    userId,
    sessionId,
    tokenId: `${sessionId}-token`,
    tenantId: null,
    permissions: [],
    memberships: {},
    platformPermissions: [],
    issuedAt: issued,
    expiresAt: new Date(Date.now() + 3_600_000),
    credential: 'access_token',
  });
  // Tokens name their principal: the verifier itself is libs/auth's and tested there.
  const principals: Record<string, AuthPrincipal> = {
    laptop: principal('session-1', 'user-1', issuedAt),
    laptopSecondTab: principal('session-1', 'user-1', issuedAt),
    phoneSignedInLater: principal('session-2', 'user-1', new Date(issuedAt.getTime() + 60_000)),
    colleague: principal('session-3', 'user-2', issuedAt),
  };

  it("closes the sockets a session or user mark revokes within an interval, reading each mark once per pass", async () => {
    const store = new MemoryFastStore();
    const reads: string[][] = [];
    const getMany = store.getMany.bind(store);
    store.getMany = (keys) => {
      reads.push(keys);
      return getMany(keys);
    };
    const sockets: RealtimeSockets = new RealtimeSockets({
      config: z.object(realtimeEnv).parse({ REALTIME_REVOCATION_CHECK_MS: '50' }),
      verifier: { verify: (token: string) => Promise.resolve(principals[token]) } as unknown as AccessTokenVerifier,
      store,
      trustProxy: [],
      accept: (connection, request, receive) =>
        receive(async (message) => {
          if (await sockets.authenticate(connection, request, { accessToken: message })) await connection.send('authenticated');
        }),
    });
    const server = createServer();
    sockets.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql/ws`;
    const open = async (token: string) => {
      const socket = new WebSocket(url);
      const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const authenticated = new Promise((resolve) => socket.once('message', resolve));
      socket.send(token);
      await authenticated;
      return { socket, closed };
    };
    const lastPass = () => [...(reads.at(-1) ?? [])].sort();
    /** Waits for a pass that reads exactly these marks. */
    const passReading = async (keys: string[]) => {
      const wanted = [...keys].sort();
      await eventually(`a pass reading ${wanted.join(', ')}`, () => JSON.stringify(lastPass()) === JSON.stringify(wanted));
      expect(lastPass()).toEqual(wanted);
    };
    try {
      const clients = Object.fromEntries(await Promise.all(Object.keys(principals).map(async (token) => [token, await open(token)] as const)));
      // Three sessions and two users: five marks, each read once in a pass, not once per socket.
      await passReading([
        'auth:revoked:session:session-1',
        'auth:revoked:session:session-2',
        'auth:revoked:session:session-3',
        'auth:revoked-before:user:user-1',
        'auth:revoked-before:user:user-2',
      ]);

      await revokeSession(store, 'session-1', 60_000);
      expect(await clients.laptop.closed).toEqual({ code: CloseCodes.forbidden, reason: 'Session revoked' });
      expect(await clients.laptopSecondTab.closed).toEqual({ code: CloseCodes.forbidden, reason: 'Session revoked' });

      // A password change at a moment between the two users' tokens: only tokens issued up to it go.
      await revokeUserTokensIssuedBefore(store, 'user-1', new Date(issuedAt.getTime() + 1_000), 60_000);
      await revokeUserTokensIssuedBefore(store, 'user-2', new Date(issuedAt.getTime() + 1_000), 60_000);
      expect(await clients.colleague.closed).toEqual({ code: CloseCodes.forbidden, reason: 'Session revoked' });
      // Two more passes read user-1's mark with the later token's socket still watched: it stays open.
      const passesSoFar = reads.length;
      await eventually('two more revocation passes', () => reads.length >= passesSoFar + 2);
      expect(clients.phoneSignedInLater.socket.readyState).toBe(WebSocket.OPEN);
      // Closed sockets leave the pass: only the remaining socket's marks are read.
      await passReading(['auth:revoked:session:session-2', 'auth:revoked-before:user:user-1']);
      clients.phoneSignedInLater.socket.close();
    } finally {
      await sockets.drain();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
