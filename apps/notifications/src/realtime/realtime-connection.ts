import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { AuthPrincipal } from '@multipult/auth';
import type { Locale } from '@multipult/graphql';

/** Close codes sent to clients (4401/4403 as graphql-ws defines them). */
export const CloseCodes = {
  goingAway: 1001,
  policyViolation: 1008,
  tryAgainLater: 1013,
  unauthorized: 4401,
  forbidden: 4403,
} as const;

/** One open /graphql/ws socket: who it is, and what it has been sent. */
export class RealtimeConnection {
  readonly id = randomUUID();
  principal: AuthPrincipal | null = null;
  locale: Locale = 'en';
  clientId: string | null = null;
  /** Highest stream sequence sent on this socket: nothing at or below it is sent again. */
  deliveredUpTo = 0;
  alive = true;
  private windowStartedAt = 0;
  private messagesInWindow = 0;
  private expiryTimer?: NodeJS.Timeout;

  constructor(
    readonly socket: WebSocket,
    readonly ip: string,
    readonly userAgent: string | undefined,
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
