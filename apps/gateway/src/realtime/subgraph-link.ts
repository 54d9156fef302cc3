import { WebSocket } from 'ws';

/** What an upstream sends that concerns one operation. */
export interface OperationMessage {
  id: string;
  type: 'next' | 'error' | 'complete';
}

/**
 * The gateway's graphql-ws connection to one subgraph for one client socket, opened on the
 * client's first operation there: connection_init carries the client's credentials and
 * options, and operations sent before connection_ack wait for it.
 */
export class SubgraphLink {
  private readonly socket: WebSocket;
  private readonly waiting: string[] = [];
  private acknowledged = false;
  private closedByUs = false;

  constructor(
    readonly subgraph: string,
    url: string,
    initPayload: Record<string, unknown>,
    headers: Record<string, string>,
    handlers: {
      message(message: OperationMessage, raw: string): void;
      /** The subgraph closed the connection, or it could not be opened (code 1006). */
      closed(code: number, reason: string): void;
    },
  ) {
    this.socket = new WebSocket(url, 'graphql-transport-ws', { headers, perMessageDeflate: false, handshakeTimeout: 10_000 });
    this.socket.on('open', () => this.socket.send(JSON.stringify({ type: 'connection_init', payload: initPayload })));
    this.socket.on('message', (data) => {
      const raw = String(data);
      let message: { type?: unknown; id?: unknown; payload?: unknown };
      try {
        message = JSON.parse(raw);
      } catch {
        return this.close();
      }
      if (message.type === 'connection_ack') {
        this.acknowledged = true;
        for (const waiting of this.waiting.splice(0)) this.socket.send(waiting);
      } else if (message.type === 'ping') {
        this.socket.send(JSON.stringify({ type: 'pong' }));
      } else if ((message.type === 'next' || message.type === 'error' || message.type === 'complete') && typeof message.id === 'string') {
        handlers.message({ id: message.id, type: message.type }, raw);
      }
    });
    // An upgrade the subgraph refused (limits, draining) or could not be reached ends in 'close' with 1006.
    this.socket.on('error', () => undefined);
    this.socket.once('close', (code, reason) => {
      if (!this.closedByUs) handlers.closed(code, reason.toString());
    });
  }

  /** A client message (subscribe, complete) for this subgraph, as the client sent it. */
  send(raw: string): void {
    if (this.acknowledged && this.socket.readyState === WebSocket.OPEN) this.socket.send(raw);
    else this.waiting.push(raw);
  }

  close(): void {
    this.closedByUs = true;
    if (this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
    else this.socket.close(1000, 'Client gone');
  }
}
