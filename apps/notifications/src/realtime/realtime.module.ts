import { Module } from '@nestjs/common';
import { NotificationsModule } from '../notifications/notifications.module';
import { PresenceModule } from '../presence/presence.module';
import { LiveModule } from './live.module';
import { LiveStreams } from './live-streams';
import { SubscriptionsResolver } from './subscriptions.resolver';

@Module({
  imports: [LiveModule, NotificationsModule, PresenceModule],
  providers: [LiveStreams, SubscriptionsResolver],
})
export class RealtimeModule {}
