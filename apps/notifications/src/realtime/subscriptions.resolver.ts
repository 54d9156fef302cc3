import { Args, Context, Int, Resolver, Subscription } from '@nestjs/graphql';
import { AuthPrincipal, CurrentUser } from '@multipult/auth';
import { BadUserInputError } from '@multipult/graphql';
import { RealtimeContext, connectionOf } from '@multipult/realtime';
import { Notification } from '../notifications/notification.entity';
import { LiveStreams } from './live-streams';

@Resolver()
export class SubscriptionsResolver {
  constructor(private readonly streams: LiveStreams) {}

  @Subscription(() => Notification, {
    resolve: (notification: Notification) => notification,
    description:
      "The caller's new notifications in stream order, each once per connection. With afterSequence (or a clientId in " +
      'connection_init that has acknowledged before) the stored ones after it come first, so a reconnecting client misses nothing.',
  })
  notificationAdded(
    @CurrentUser() principal: AuthPrincipal,
    @Context() context: RealtimeContext,
    @Args('afterSequence', { type: () => Int, nullable: true }) afterSequence?: number,
  ) {
    if (afterSequence !== undefined && afterSequence !== null && afterSequence < 0) {
      throw BadUserInputError.field('afterSequence', 'validation.min', { min: 0 });
    }
    return this.streams.notificationsOf(connectionOf(context), principal.userId, afterSequence ?? null);
  }

  @Subscription(() => Int, {
    resolve: (count: number) => count,
    description: "The caller's unread count now, then whenever it changes",
  })
  unreadCountChanged(@CurrentUser() principal: AuthPrincipal, @Context() context: RealtimeContext) {
    connectionOf(context);
    return this.streams.unreadCountOf(principal.userId);
  }
}
