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
import { PreferencesService } from '../preferences/preferences.service';
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
      // Bursts (a busy thread's mentions) commit together; live clients hear of each batch right after.
      batchSize: DISPATCH_BATCH_SIZE,
      handler: async (event, manager, transaction) => {
        // The welcome needs the new user's address before the directory group may have recorded it.
        if (event.type === UserRegistered.type) await this.recipients.record(manager, event as never);
        for (const kind of this.kindsByEvent.get(event.type) ?? []) {
          await this.dispatch(manager, transaction, kind, {
            addressees: kind.addressees(event),
            params: kind.params(event, this.links),
            sourceEventId: (event as EventEnvelope).id,
            occurredAt: (event as EventEnvelope).occurredAt,
          });
        }
      },
    });
  }

  private async dispatch(
    manager: EntityManager,
    transaction: HandlerTransaction,
    kind: NotificationKind,
    what: { addressees: Addressee[]; params: Record<string, string>; sourceEventId: string | null; occurredAt: string },
  ): Promise<void> {
    const userIds = what.addressees.flatMap((addressee) => (addressee.userId ? [addressee.userId] : []));
    const actorIds = what.addressees.flatMap((addressee) => (addressee.actorId ? [addressee.actorId] : []));
    const [people, channels] = await Promise.all([
      this.recipients.byIds([...userIds, ...actorIds], manager),
      this.preferences.channelsFor(manager, kind, userIds),
    ]);
    const inApp: NewNotification[] = [];
    const emails: EmailToQueue[] = [];
    const forwarded: { addressee: Addressee & { userId: string; tenantId: string }; data: Record<string, string>; locale: Locale }[] = [];
    for (const addressee of what.addressees) {
      const recipient = addressee.userId ? people.get(addressee.userId) : undefined;
      const actor = addressee.actorId ? people.get(addressee.actorId) : undefined;
      const data: Record<string, string> = { ...what.params, actorName: actor?.displayName ?? '', recipientName: recipient?.displayName ?? '' };
      const on = addressee.userId ? (channels.get(addressee.userId) ?? new Set()) : new Set(kind.channels);
      if (on.has(NotificationChannel.IN_APP) && addressee.userId) {
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
        forwarded.push({ addressee: { ...addressee, userId: addressee.userId, tenantId: addressee.tenantId }, data, locale: pickLocale(recipient ? [recipient.locale] : []) });
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
    const created = await this.notifications.append(manager, inApp);
    await this.emails.enqueue(manager, emails);
    for (const { addressee, data, locale } of forwarded) {
      const inbox = created.find((notification) => notification.recipientId === addressee.userId);
      const event: WebhookEvent = {
        id: inbox?.id ?? randomUUID(),
        type: NOTIFICATION_CREATED,
        occurredAt: what.occurredAt,
        tenantId: addressee.tenantId,
        payload: {
          notificationType: kind.type,
          recipientId: addressee.userId,
          actorId: addressee.actorId ?? null,
          ...this.renderer.inApp(kind.type, locale, data),
          link: data.link ?? null,
        },
      };
      await this.webhooks.enqueue(manager, event);
    }
    transaction.afterCommit(() => this.notifications.announce(created));
  }
}
