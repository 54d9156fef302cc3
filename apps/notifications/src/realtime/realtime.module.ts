import { Module } from '@nestjs/common';
import { RealtimeServerModule } from '@multipult/realtime';
import { NotificationsModule } from '../notifications/notifications.module';
import { PresenceModule } from '../presence/presence.module';
import { LiveModule } from './live.module';
import { LiveStreams } from './live-streams';
import { PresenceHooks } from './presence-hooks';
import { SubscriptionsResolver } from './subscriptions.resolver';

@Module({
  imports: [LiveModule, NotificationsModule, PresenceModule, RealtimeServerModule.forRoot({ hooks: PresenceHooks, imports: [PresenceModule] })],
  providers: [LiveStreams, SubscriptionsResolver],
})
export class RealtimeModule {}
