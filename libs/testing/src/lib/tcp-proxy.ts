import net from 'node:net';

/**
 * How a cut proxy answers new connections:
 * - `refuse`: reset at once, as a port with nothing listening answers (a client sees a failed connection);
 * - `accept-then-drop`: let the connection open, then reset it, as a load balancer with no healthy
 *   backend or a server at its client limit does (a client sees a connection that opened and died).
 */
export type CutMode = 'refuse' | 'accept-then-drop';

/** A TCP forwarder a test can cut: the network between a client and a real server failing, the server left running. */
export interface TcpProxy {
  port: number;
  /** Connection attempts refused (reset) while cut. */
  readonly refused: number;
  /** Drops every open connection and answers new ones as `mode` says, as a server restarting or a partition does. */
  cut(mode?: CutMode): void;
  restore(): void;
  close(): Promise<void>;
}

/** Long enough for the client to have seen its connection open before the reset reaches it. */
const ACCEPTED_LIFETIME_MS = 50;

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let cutMode: CutMode | null = null;
  let refused = 0;
  const server = net.createServer((client) => {
    if (cutMode) {
      refused += 1;
      client.on('error', () => undefined);
      if (cutMode === 'refuse') {
        client.resetAndDestroy();
        return;
      }
      open.add(client);
      const drop = setTimeout(() => client.resetAndDestroy(), ACCEPTED_LIFETIME_MS);
      client.once('close', () => {
        open.delete(client);
        clearTimeout(drop);
      });
      return;
    }
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      socket.on('error', () => undefined);
    }
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get refused() {
      return refused;
    },
    cut(mode = 'refuse') {
      cutMode = mode;
      for (const socket of open) socket.resetAndDestroy();
    },
    restore() {
      cutMode = null;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
