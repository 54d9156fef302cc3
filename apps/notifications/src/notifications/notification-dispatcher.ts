import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { openEmailedToken } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { EventConsumer, EventEnvelope, HandlerTransaction, UserRegistered } from '@multipult/events';
import { Locale, pickLocale } from '@multipult/graphql';
import { EVENT_KINDS } from '../catalog/kinds';
import { Addressee, Links, NotificationChannel, NotificationKind } from '../catalog/notification-kind';
import { TemplateRenderer } from '../catalog/template-renderer';
import type { NotificationsConfig } from '../config';
import { EmailQueue, EmailToQueue } from '../email/email.service';
import { PreferencesService, channelKey } from '../preferences/preferences.service';
import { RecipientsService } from '../recipients/recipients.service';
import { NOTIFICATION_CREATED } from '../webhooks/webhook-events';
import { WebhookEvent, WebhooksService } from '../webhooks/webhooks.service';
import { NewNotification, NotificationsService } from './notifications.service';

export const DISPATCH_GROUP = 'notifications.dispatch';
const DISPATCH_BATCH_SIZE = 100;

/**
 * Turns events into notifications: for each kind the event causes, each addressee gets it on the
 * channels their preferences allow, in their language, all in the transaction that marks the
 * event processed. Live clients hear of it after the commit.
 */
@Injectable()
export class NotificationDispatcher implements OnApplicationBootstrap {
  private readonly kindsByEvent = new Map<string, NotificationKind[]>();
  private readonly links: Links;

  constructor(
    @InjectConfig() config: NotificationsConfig,
    private readonly events: EventConsumer,
    private readonly recipients: RecipientsService,
    private readonly preferences: PreferencesService,
    private readonly notifications: NotificationsService,
    private readonly emails: EmailQueue,
    private readonly renderer: TemplateRenderer,
    private readonly webhooks: WebhooksService,
  ) {
    for (const kind of EVENT_KINDS) {
      if (!kind.contract) continue;
      this.kindsByEvent.set(kind.contract.type, [...(this.kindsByEvent.get(kind.contract.type) ?? []), kind]);
    }
    const appUrl = config.APP_URL.replace(/\/$/, '');
    const to = (path: string, query?: Record<string, string>) => `${appUrl}${path}${query ? `?${new URLSearchParams(query).toString()}` : ''}`;
    this.links = {
      to,
      withEmailedToken: (path, event) => {
        const { sealedToken, token } = event.payload;
        return to(path, { token: sealedToken !== undefined ? openEmailedToken(sealedToken, config.EMAIL_TOKEN_SEAL_KEY, event.type) : (token ?? '') });
      },
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.events.consume({
      groupId: DISPATCH_GROUP,
      contracts: [...new Set(EVENT_KINDS.flatMap((kind) => (kind.contract ? [kind.contract] : [])))],
      // Bursts (a busy thread's mentions) are handled together: one read of everyone concerned, one
      // append of every notification, one insert of every email and webhook delivery; live clients
      // hear of each batch right after it commits.
      batchSize: DISPATCH_BATCH_SIZE,
      handler: (event, manager, transaction) => this.dispatch([event as EventEnvelope], manager, transaction),
      batchHandler: (events, manager, transaction) => this.dispatch(events as EventEnvelope[], manager, transaction),
    });
  }

  private async dispatch(events: EventEnvelope[], manager: EntityManager, transaction: HandlerTransaction): Promise<void> {
    // The welcome needs the new user's address before the directory group may have recorded it.
    for (const event of events) if (event.type === UserRegistered.type) await this.recipients.record(manager, event as never);
    const caused: Caused[] = events.flatMap((event) =>
      (this.kindsByEvent.get(event.type) ?? []).map((kind) => ({
        kind,
        addressees: kind.addressees(event),
        params: kind.params(event, this.links),
        sourceEventId: event.id,
        occurredAt: event.occurredAt,
      })),
    );
    if (!caused.length) return;
    const userIdsOf = (what: Caused) => what.addressees.flatMap((addressee) => (addressee.userId ? [addressee.userId] : []));
    const actorIds = caused.flatMap((what) => what.addressees.flatMap((addressee) => (addressee.actorId ? [addressee.actorId] : [])));
    const [people, channels] = await Promise.all([
      this.recipients.byIds([...caused.flatMap(userIdsOf), ...actorIds], manager),
      this.preferences.channelsFor(manager, caused.map((what) => ({ kind: what.kind, userIds: userIdsOf(what) }))),
    ]);
    const inApp: NewNotification[] = [];
    const emails: EmailToQueue[] = [];
    const forwarded: Forwarded[] = [];
    for (const what of caused) {
      const { kind } = what;
      for (const addressee of what.addressees) {
        const recipient = addressee.userId ? people.get(addressee.userId) : undefined;
        const actor = addressee.actorId ? people.get(addressee.actorId) : undefined;
        const data: Record<string, string> = { ...what.params, actorName: actor?.displayName ?? '', recipientName: recipient?.displayName ?? '' };
        const on = addressee.userId ? (channels.get(channelKey(kind.type, addressee.userId)) ?? new Set()) : new Set(kind.channels);
        let inAppIndex: number | undefined;
        if (on.has(NotificationChannel.IN_APP) && addressee.userId) {
          inAppIndex = inApp.length;
          inApp.push({
            recipientId: addressee.userId,
            tenantId: addressee.tenantId,
            type: kind.type,
            data,
            actorId: addressee.actorId ?? null,
            sourceEventId: what.sourceEventId,
          });
        }
        if (on.has(NotificationChannel.WEBHOOK) && addressee.userId && addressee.tenantId) {
          forwarded.push({
            kind,
            occurredAt: what.occurredAt,
            recipientId: addressee.userId,
            tenantId: addressee.tenantId,
            actorId: addressee.actorId ?? null,
            data,
            locale: pickLocale(recipient ? [recipient.locale] : []),
            inAppIndex,
          });
        }
        const address = addressee.email ?? recipient?.email;
        if (on.has(NotificationChannel.EMAIL) && address) {
          const locale = pickLocale(recipient ? [recipient.locale] : []);
          emails.push({
            userId: addressee.userId,
            to: address,
            type: kind.type,
            locale,
            email: this.renderer.email(kind.type, locale, data),
            link: data.link ?? null,
            digest: !kind.urgent && !!recipient?.emailDigest,
            sourceEventId: what.sourceEventId,
          });
        }
      }
    }
    const created = await this.notifications.append(manager, inApp);
    await this.emails.enqueue(manager, emails);
    await this.webhooks.enqueue(
      manager,
      forwarded.map((item): WebhookEvent => ({
        // The inbox notification's id, so a receiver can relate the two; a fresh one without it.
        id: item.inAppIndex === undefined ? randomUUID() : created[item.inAppIndex].id,
        type: NOTIFICATION_CREATED,
        occurredAt: item.occurredAt,
        tenantId: item.tenantId,
        payload: {
          notificationType: item.kind.type,
          recipientId: item.recipientId,
          actorId: item.actorId,
          ...this.renderer.inApp(item.kind.type, item.locale, item.data),
          link: item.data.link ?? null,
        },
      })),
    );
    transaction.afterCommit(() => this.notifications.announce(created));
  }
}

/** A notification kind an event causes, with what it says and to whom. */
interface Caused {
  kind: NotificationKind;
  addressees: Addressee[];
  params: Record<string, string>;
  sourceEventId: string;
  occurredAt: string;
}

/** A notification also sent to the tenant's webhooks, with its in-app row's place in the append when it has one. */
interface Forwarded {
  kind: NotificationKind;
  occurredAt: string;
  recipientId: string;
  tenantId: string;
  actorId: string | null;
  data: Record<string, string>;
  locale: Locale;
  inAppIndex: number | undefined;
}
