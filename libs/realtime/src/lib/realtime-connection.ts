import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { AuthPrincipal } from '@multipult/auth';
import type { Locale } from '@multipult/graphql';

/** The endpoint of GraphQL over WebSocket, on the gateway and on every subgraph that offers subscriptions. */
export const REALTIME_PATH = '/graphql/ws';

/** Close codes sent to clients (4400–4499 as graphql-ws defines them). */
export const CloseCodes = {
  goingAway: 1001,
  policyViolation: 1008,
  internalError: 1011,
  tryAgainLater: 1013,
  badRequest: 4400,
  unauthorized: 4401,
  forbidden: 4403,
  initTimeout: 4408,
  subscriberExists: 4409,
  tooManyInits: 4429,
} as const;

/** What a client may put in connection_init (graphql-ws `connectionParams`). */
export type ConnectionParams = Record<string, unknown> & {
  authorization?: unknown;
  accessToken?: unknown;
  tenantId?: unknown;
  clientId?: unknown;
  locale?: unknown;
};

/** One open /graphql/ws socket: who it is and what it sent in connection_init. */
export class RealtimeConnection {
  readonly id = randomUUID();
  principal: AuthPrincipal | null = null;
  locale: Locale = 'en';
  /** The connection_init payload, once authenticated (service hooks read their own keys from it, e.g. clientId). */
  params: ConnectionParams = {};
  alive = true;
  private windowStartedAt = 0;
  private messagesInWindow = 0;
  private expiryTimer?: NodeJS.Timeout;

  constructor(
    readonly socket: WebSocket,
    readonly ip: string,
    readonly userAgent: string | undefined,
    /** The upgrade's trace context (the gateway's, when it routed the socket here). */
    readonly traceparent: string | undefined,
  ) {}

  /** Counts an incoming message; false once the per-second budget is spent. */
  allowMessage(perSecond: number, now = Date.now()): boolean {
    if (now - this.windowStartedAt >= 1_000) {
      this.windowStartedAt = now;
      this.messagesInWindow = 0;
    }
    this.messagesInWindow += 1;
    return this.messagesInWindow <= perSecond;
  }

  authenticated(principal: AuthPrincipal, onExpiry: () => void): void {
    this.principal = principal;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(onExpiry, Math.max(0, principal.expiresAt.getTime() - Date.now()));
    this.expiryTimer.unref();
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  send(data: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.open) return resolve();
      this.socket.send(data, (error) => (error ? reject(error) : resolve()));
    });
  }

  close(code: number, reason: string): void {
    clearTimeout(this.expiryTimer);
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      this.socket.close(code, reason);
    }
  }

  disposed(): void {
    clearTimeout(this.expiryTimer);
  }
}
