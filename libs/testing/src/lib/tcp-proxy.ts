import net from 'node:net';

/**
 * How a cut proxy fails:
 * - `refuse`: open connections are reset, new ones reset at once, as a port with nothing listening
 *   answers (a client sees a failed connection);
 * - `accept-then-drop`: open connections are reset, new ones opened and then reset, as a load balancer
 *   with no healthy backend or a server at its client limit does (a client sees a connection that
 *   opened and died);
 * - `silence`: nothing is reset and nothing gets through, as a partition that drops packets or a host
 *   gone without resetting its connections: open connections carry nothing (what was sent waits, as
 *   unacknowledged TCP data does, and arrives after restore()), new ones open and carry nothing.
 */
export type CutMode = 'refuse' | 'accept-then-drop' | 'silence';

/** A TCP forwarder a test can cut: the network between a client and a real server failing, the server left running. */
export interface TcpProxy {
  port: number;
  /** Connection attempts not forwarded while cut: reset, or held open by `silence`. */
  readonly refused: number;
  /** Fails the network as `mode` says (default `refuse`), the server left running. */
  cut(mode?: CutMode): void;
  restore(): void;
  close(): Promise<void>;
}

/** Long enough for the client to have seen its connection open before the reset reaches it. */
const ACCEPTED_LIFETIME_MS = 50;

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  /** Each forwarded connection's two sockets, to stop and resume the traffic between them. */
  const forwarded = new Set<[net.Socket, net.Socket]>();
  let cutMode: CutMode | null = null;
  let refused = 0;
  const server = net.createServer((client) => {
    if (cutMode) {
      refused += 1;
      client.on('error', () => undefined);
      if (cutMode === 'silence') {
        // Held open and never read, until the client gives up or the proxy closes.
        open.add(client);
        client.pause();
        client.once('close', () => open.delete(client));
        return;
      }
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
    const pair: [net.Socket, net.Socket] = [client, upstream];
    forwarded.add(pair);
    client.once('close', () => {
      forwarded.delete(pair);
      upstream.destroy();
    });
    upstream.once('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  const silence = () => {
    for (const [client, upstream] of forwarded) {
      client.unpipe(upstream).pause();
      upstream.unpipe(client).pause();
    }
  };
  const resume = () => {
    for (const [client, upstream] of forwarded) {
      client.pipe(upstream);
      upstream.pipe(client);
    }
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get refused() {
      return refused;
    },
    cut(mode = 'refuse') {
      cutMode = mode;
      if (mode === 'silence') silence();
      else for (const socket of open) socket.resetAndDestroy();
    },
    restore() {
      if (cutMode === 'silence') resume();
      cutMode = null;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
