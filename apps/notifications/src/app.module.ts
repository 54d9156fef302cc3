import { DynamicModule, Module } from '@nestjs/common';
import { SubgraphModule } from '@multipult/subgraph';
import { RealtimeServerModule } from '@multipult/realtime';
import { AnnouncementsModule } from './announcements/announcements.module';
import type { NotificationsConfig } from './config';
import { EmailModule } from './email/email.module';
import { registerNotificationsMessages } from './messages';
import { notificationsMigrations } from './migrations';
import { Notification } from './notifications/notification.entity';
import { NotificationsModule } from './notifications/notifications.module';
import { PreferencesModule } from './preferences/preferences.module';
import { PresenceModule } from './presence/presence.module';
import { PresenceHooks } from './realtime/presence-hooks';
import { RealtimeModule } from './realtime/realtime.module';
import { Recipient } from './recipients/recipient.entity';
import { RecipientsModule } from './recipients/recipients.module';
import { WebhookDelivery } from './webhooks/webhook-delivery.entity';
import { WebhookEndpoint } from './webhooks/webhook-endpoint.entity';
import { PrivacyModule } from './privacy/privacy.module';
import { RetentionModule } from './retention/retention.module';
import { WebhooksModule } from './webhooks/webhooks.module';

export const NOTIFICATIONS_SERVICE = 'notifications';

@Module({})
export class AppModule {
  static forRoot(config: NotificationsConfig): DynamicModule {
    registerNotificationsMessages();
    return {
      module: AppModule,
      imports: [
        SubgraphModule.forRoot({
          service: NOTIFICATIONS_SERVICE,
          config,
          entities: [Notification, Recipient, WebhookEndpoint, WebhookDelivery],
          migrations: notificationsMigrations,
          redis: { pubSub: true },
        }),
        RecipientsModule,
        PreferencesModule,
        EmailModule,
        NotificationsModule,
        AnnouncementsModule,
        PresenceModule,
        RealtimeModule,
        RealtimeServerModule.forRoot({ hooks: PresenceHooks, imports: [PresenceModule] }),
        WebhooksModule,
        PrivacyModule,
        RetentionModule,
      ],
    };
  }
}
