import WebSocket from 'ws';
import { graphqlData } from '@multipult/testing';

const NEWEST = 'query { notifications(first: 1) { edges { node { sequence } } } }';
const SUBSCRIBE = 'subscription($after: Int) { notificationAdded(afterSequence: $after) { sequence type link } }';

export interface LiveNotification {
  sequence: number;
  type: string;
  link: string | null;
  receivedAt: number;
}

/** One socket of a LiveClient: when it opened and acknowledged, the position it resumed after, and how it closed. */
export interface LiveConnection {
  openedAt: number;
  after: number;
  acknowledgedAt?: number;
  closedAt?: number;
  closeCode?: number;
  closeReason?: string;
}

/**
 * A user's graphql-transport-ws socket on the gateway, as an app keeps one: it shows the inbox,
 * subscribes to notificationAdded after the newest notification shown, and when the socket drops,
 * reconnects (with backoff) and resumes after the last sequence it has, so what happened meanwhile
 * is replayed, not lost. Subscribing without a position would mean "from now" to the server, and
 * whatever arrived while a socket was down before the first notification would be skipped.
 */
export class LiveClient {
  readonly received: LiveNotification[] = [];
  readonly connections: LiveConnection[] = [];
  reconnects = 0;
  private lastSequence = 0;
  private socket?: WebSocket;
  private closing = false;

  constructor(
    private readonly gatewayUrl: string,
    private readonly url: string,
    /** The user's current access token: a reconnect after the old one expired signs in with the renewed one. */
    private readonly token: () => Promise<string>,
    private readonly onProblem: (what: string) => void,
  ) {}

  /** Resolves once the first subscription is sent (the server acknowledged the connection). */
  async open(): Promise<void> {
    const inbox = await graphqlData<{ notifications: { edges: { node: { sequence: number } }[] } }>(this.gatewayUrl, NEWEST, { token: await this.token() });
    this.lastSequence = inbox.notifications.edges[0]?.node.sequence ?? 0;
    await this.connect();
  }

  private async connect(): Promise<void> {
    const token = await this.token();
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url, 'graphql-transport-ws', { perMessageDeflate: false });
      const connection: LiveConnection = { openedAt: Date.now(), after: this.lastSequence };
      this.connections.push(connection);
      this.socket = socket;
      let acknowledged = false;
      const timer = setTimeout(() => socket.terminate(), 15_000);
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
      socket.on('message', (raw) => {
        const message = JSON.parse(String(raw)) as {
          type: string;
          payload?: { data?: { notificationAdded?: { sequence: number; type: string; link: string | null } } } | unknown[];
        };
        if (message.type === 'connection_ack') {
          acknowledged = true;
          connection.acknowledgedAt = Date.now();
          clearTimeout(timer);
          socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIBE, variables: { after: this.lastSequence } } }));
          resolve();
        } else if (message.type === 'ping') {
          socket.send(JSON.stringify({ type: 'pong' }));
        } else if (message.type === 'next') {
          const notification = (message.payload as { data?: { notificationAdded?: LiveNotification } }).data?.notificationAdded;
          if (!notification) return;
          this.received.push({ ...notification, receivedAt: Date.now() });
          this.lastSequence = Math.max(this.lastSequence, notification.sequence);
        } else if (message.type === 'error' || message.type === 'complete') {
          // The server ended the subscription (e.g. its upstream went away): start over on a new socket.
          this.onProblem(`subscription ${message.type}`);
          socket.terminate();
        }
      });
      socket.on('error', () => undefined);
      socket.on('close', (code, reason) => {
        Object.assign(connection, { closedAt: Date.now(), closeCode: code, closeReason: reason.toString() });
        clearTimeout(timer);
        if (!acknowledged) reject(new Error('socket closed before connection_ack'));
        else if (!this.closing) void this.reconnect();
      });
    });
  }

  private async reconnect(): Promise<void> {
    this.reconnects += 1;
    for (let attempt = 0; !this.closing; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 2_000)));
      if (this.closing) return;
      try {
        await this.connect();
        return;
      } catch {
        // The next attempt follows after the backoff; close() ends the loop.
      }
    }
  }

  close(): void {
    this.closing = true;
    this.socket?.terminate();
  }
}
