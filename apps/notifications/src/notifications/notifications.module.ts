import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { EmailModule } from '../email/email.module';
import { PreferencesModule } from '../preferences/preferences.module';
import { LiveModule } from '../realtime/live.module';
import { RecipientsModule } from '../recipients/recipients.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { NotificationDispatcher } from './notification-dispatcher';
import { NotificationsResolver } from './notifications.resolver';
import { NotificationsService } from './notifications.service';

@Module({
  imports: [CatalogModule, EmailModule, PreferencesModule, RecipientsModule, LiveModule, WebhooksModule],
  providers: [NotificationsService, NotificationsResolver, NotificationDispatcher],
  exports: [NotificationsService],
})
export class NotificationsModule {}
