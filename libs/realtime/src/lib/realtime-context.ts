import type { AuthPrincipal } from '@multipult/auth';
import { Locale, UnauthenticatedError } from '@multipult/graphql';
import type { RealtimeConnection } from './realtime-connection';

/** The GraphQL context of an operation over /graphql/ws; `req` lets the HTTP auth guard and decorators work unchanged. */
export interface RealtimeContext {
  req: { headers: Record<string, string>; principal: Promise<AuthPrincipal | null> };
  connection?: RealtimeConnection;
  locale?: Locale;
}

/** The socket an operation runs on; subscriptions exist only on /graphql/ws, never over HTTP. */
export function connectionOf(context: RealtimeContext): RealtimeConnection {
  if (!context.connection) throw new UnauthenticatedError();
  return context.connection;
}
