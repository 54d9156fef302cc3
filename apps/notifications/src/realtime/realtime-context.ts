import type { AuthPrincipal } from '@multipult/auth';
import type { Locale } from '@multipult/graphql';
import type { RealtimeConnection } from './realtime-connection';

/** The GraphQL context of an operation over /graphql/ws; `req` lets the HTTP auth guard and decorators work unchanged. */
export interface RealtimeContext {
  req: { headers: Record<string, string>; principal: Promise<AuthPrincipal | null> };
  connection?: RealtimeConnection;
  locale?: Locale;
}
