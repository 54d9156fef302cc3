import { DynamicModule, Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloFederationDriverConfig } from '@nestjs/apollo';
import { AuthModule } from '@multipult/auth';
import { ConfigModule } from '@multipult/config';
import { DatabaseModule } from '@multipult/database';
import { EventsModule, eventEntities, eventMigrations } from '@multipult/events';
import { subgraphGraphQLOptions } from '@multipult/graphql';
import { DatabaseProbe, FastStoreProbe, HealthModule, KafkaProbe } from '@multipult/health';
import { ObservabilityModule } from '@multipult/observability';
import { RealtimeServerModule } from '@multipult/realtime';
import { RedisModule } from '@multipult/redis';
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
import { WebhooksModule } from './webhooks/webhooks.module';

export const NOTIFICATIONS_SERVICE = 'notifications';

@Module({})
export class AppModule {
  static forRoot(config: NotificationsConfig): DynamicModule {
    registerNotificationsMessages();
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({ service: NOTIFICATIONS_SERVICE, logLevel: config.LOG_LEVEL }),
        DatabaseModule.forRoot({
          service: NOTIFICATIONS_SERVICE,
          schema: 'notifications',
          entities: [Notification, Recipient, WebhookEndpoint, WebhookDelivery, ...eventEntities],
          migrations: [...eventMigrations, ...notificationsMigrations],
        }),
        RedisModule.forRoot({ pubSub: true }),
        EventsModule.forRoot({ service: NOTIFICATIONS_SERVICE }),
        AuthModule.forRoot(),
        GraphQLModule.forRoot<ApolloFederationDriverConfig>(
          subgraphGraphQLOptions({ production: config.NODE_ENV === 'production' }),
        ),
        HealthModule.forRoot({
          probes: [DatabaseProbe, FastStoreProbe, KafkaProbe],
          gracefulShutdownTimeoutMs: config.NODE_ENV === 'production' ? config.SHUTDOWN_GRACE_SECONDS * 1000 : 0,
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
      ],
    };
  }
}
