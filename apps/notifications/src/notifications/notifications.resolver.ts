import { Args, Context, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentUser } from '@multipult/auth';
import { Connection, Locale, pickLocale } from '@multipult/graphql';
import { RequestContext } from '@multipult/observability';
import { TemplateRenderer } from '../catalog/template-renderer';
import {
  AcknowledgeNotificationsInput,
  AcknowledgeNotificationsPayload,
  DeleteNotificationsPayload,
  MarkAllNotificationsReadPayload,
  NotificationConnection,
  NotificationIdsInput,
  NotificationsArgs,
  NotificationsChangedPayload,
} from './dto';
import { Notification } from './notification.entity';
import { NotificationsService } from './notifications.service';

/** Over HTTP the request's Accept-Language; over WebSocket the connection's (see the realtime server). */
export function localeOf(context: { locale?: Locale } | undefined): Locale {
  return context?.locale ?? pickLocale(RequestContext.current()?.locales);
}

@Resolver(() => Notification)
export class NotificationsResolver {
  constructor(
    private readonly notificationsService: NotificationsService,
    private readonly renderer: TemplateRenderer,
  ) {}

  @Query(() => NotificationConnection, { description: "The caller's notifications, newest first" })
  notifications(@CurrentUser() principal: AuthPrincipal, @Args() args: NotificationsArgs): Promise<Connection<Notification>> {
    return this.notificationsService.list(principal.userId, args);
  }

  @Query(() => Int, { description: 'Unread notifications in the inbox (not archived)' })
  unreadNotificationCount(@CurrentUser() principal: AuthPrincipal): Promise<number> {
    return this.notificationsService.unreadCount(principal.userId);
  }

  @Mutation(() => NotificationsChangedPayload)
  markNotificationsRead(@CurrentUser() principal: AuthPrincipal, @Args('input') input: NotificationIdsInput) {
    return this.notificationsService.markRead(principal.userId, input.ids, true);
  }

  @Mutation(() => NotificationsChangedPayload)
  markNotificationsUnread(@CurrentUser() principal: AuthPrincipal, @Args('input') input: NotificationIdsInput) {
    return this.notificationsService.markRead(principal.userId, input.ids, false);
  }

  @Mutation(() => MarkAllNotificationsReadPayload)
  markAllNotificationsRead(@CurrentUser() principal: AuthPrincipal): Promise<MarkAllNotificationsReadPayload> {
    return this.notificationsService.markAllRead(principal.userId);
  }

  @Mutation(() => NotificationsChangedPayload, { description: 'Moves notifications out of the inbox (they stop counting as unread)' })
  archiveNotifications(@CurrentUser() principal: AuthPrincipal, @Args('input') input: NotificationIdsInput) {
    return this.notificationsService.archive(principal.userId, input.ids, true);
  }

  @Mutation(() => NotificationsChangedPayload)
  unarchiveNotifications(@CurrentUser() principal: AuthPrincipal, @Args('input') input: NotificationIdsInput) {
    return this.notificationsService.archive(principal.userId, input.ids, false);
  }

  @Mutation(() => DeleteNotificationsPayload)
  deleteNotifications(@CurrentUser() principal: AuthPrincipal, @Args('input') input: NotificationIdsInput): Promise<DeleteNotificationsPayload> {
    return this.notificationsService.delete(principal.userId, input.ids);
  }

  @Mutation(() => AcknowledgeNotificationsPayload, {
    description: 'Records that this client has everything up to `sequence`; a later subscription with the same clientId resumes after it',
  })
  async acknowledgeNotifications(
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: AcknowledgeNotificationsInput,
  ): Promise<AcknowledgeNotificationsPayload> {
    return { acknowledgedSequence: await this.notificationsService.acknowledge(principal.userId, input.clientId, input.sequence) };
  }

  @ResolveField(() => String)
  title(@Parent() notification: Notification, @Context() context: { locale?: Locale }): string {
    return this.renderer.inApp(notification.type, localeOf(context), notification.data).title;
  }

  @ResolveField(() => String)
  body(@Parent() notification: Notification, @Context() context: { locale?: Locale }): string {
    return this.renderer.inApp(notification.type, localeOf(context), notification.data).body;
  }
}
