import { registerEnumType } from '@nestjs/graphql';
import type { EmailedTokenFields, EnvelopeOf, EventContract } from '@multipult/events';

export enum NotificationChannel {
  IN_APP = 'IN_APP',
  EMAIL = 'EMAIL',
  /** Forwarded to the tenant's webhooks subscribed to `notification.created` (e.g. a chat integration). */
  WEBHOOK = 'WEBHOOK',
}
registerEnumType(NotificationChannel, { name: 'NotificationChannel' });

/** Who a notification goes to: a user, or only an address (an invitee without an account). */
export interface Addressee {
  userId: string | null;
  /** Overrides the user's address (e.g. a verification of a new address). */
  email?: string;
  tenantId: string | null;
  /** The user who caused it, named in the templates as `actorName`. */
  actorId?: string | null;
}

/**
 * A notification type: which event it comes from, whom it reaches on which channels, and the
 * template parameters it carries. Templates (per locale) live in ./templates.
 */
export interface NotificationKind<C extends EventContract<unknown> = EventContract<unknown>> {
  type: string;
  /** The event that causes it; null for types created by this service (announcements). */
  contract: C | null;
  channels: readonly NotificationChannel[];
  /** Security and account mail: cannot be turned off and never waits for a digest. */
  critical: boolean;
  /** Sent at once even to users who take a daily digest. */
  urgent: boolean;
  /** Channels on for a user who has not chosen. */
  defaultOff?: readonly NotificationChannel[];
  addressees(event: EnvelopeOf<C>): Addressee[];
  /** Template parameters; `link` is the page the notification opens. */
  params(event: EnvelopeOf<C>, links: Links): Record<string, string>;
}

/** Builds links into the client app (APP_URL). */
export interface Links {
  to(path: string, query?: Record<string, string>): string;
  /** A link carrying the one-time token of an auth event (`?token=`), opened from its seal. */
  withEmailedToken(path: string, event: EnvelopeOf<EventContract<EmailedTokenFields>>): string;
}

export function defineKind<C extends EventContract<unknown>>(kind: NotificationKind<C>): NotificationKind {
  return kind as unknown as NotificationKind;
}
