import { Args, Context, ID, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser } from '@multipult/auth';
import { AsyncQueue, RealtimeContext, connectionOf } from '@multipult/realtime';
import { LiveBus } from '../realtime/live-bus';
import { PresenceArgs, SetTypingInput, SetTypingPayload, TypingIndicator, UserPresence } from './dto';
import { PresenceService } from './presence.service';

@Resolver()
export class PresenceResolver {
  constructor(
    private readonly presenceService: PresenceService,
    private readonly live: LiveBus,
  ) {}

  @Query(() => [UserPresence], { description: 'Online state and last-seen time of users sharing a tenant with the caller' })
  presence(@CurrentUser() principal: AuthPrincipal, @Args() args: PresenceArgs): Promise<UserPresence[]> {
    return this.presenceService.presenceOf(principal, args.userIds);
  }

  @Mutation(() => SetTypingPayload, {
    description: "Tells the tenant's users watching the document's comment thread that the caller is (or stopped) typing; repeat while typing",
  })
  async setTyping(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() tenantId: string,
    @Args('input') input: SetTypingInput,
  ): Promise<SetTypingPayload> {
    return { expiresAt: await this.presenceService.typing(principal, tenantId, input.documentId, input.typing) };
  }

  @Subscription(() => UserPresence, {
    resolve: (presence: UserPresence) => presence,
    description: "Other users of the caller's tenant coming online or going offline",
  })
  presenceChanged(@CurrentUser() principal: AuthPrincipal, @CurrentTenant() tenantId: string, @Context() context: RealtimeContext) {
    connectionOf(context);
    const queue: AsyncQueue<UserPresence> = new AsyncQueue(() => stop());
    const stop = this.live.onEvery((message) => {
      if (message.kind !== 'presence' || message.userId === principal.userId || !message.tenantIds.includes(tenantId)) return;
      queue.push({ user: { id: message.userId }, online: message.online, lastSeenAt: message.online ? null : new Date(message.lastSeenAt) });
    });
    return queue;
  }

  @Subscription(() => TypingIndicator, {
    resolve: (indicator: TypingIndicator) => indicator,
    description: "Others typing in a document's comment thread, within the caller's tenant",
  })
  typingChanged(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() tenantId: string,
    @Context() context: RealtimeContext,
    @Args('documentId', { type: () => ID }) documentId: string,
  ) {
    connectionOf(context);
    const queue: AsyncQueue<TypingIndicator> = new AsyncQueue(() => stop());
    const stop = this.live.onEvery((message) => {
      if (message.kind !== 'typing' || message.tenantId !== tenantId || message.documentId !== documentId) return;
      if (message.userId === principal.userId) return;
      queue.push({ documentId, user: { id: message.userId }, typing: message.typing, expiresAt: new Date(message.expiresAt) });
    });
    return queue;
  }
}
