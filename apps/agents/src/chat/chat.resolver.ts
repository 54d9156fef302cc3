import { Args, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, RequirePermissions } from '@multipult/auth';
import { Connection, ConnectionArgs } from '@multipult/graphql';
import { ChatMessage } from './chat-message.entity';
import { ChatSession } from './chat-session.entity';
import { ChatService } from './chat.service';
import { ChatSessionConnection, ChatSessionIdArgs, ChatSessionPayload, CreateChatSessionInput, SendChatMessageInput, SendChatMessagePayload } from './dto';

@Resolver(() => ChatSession)
export class ChatResolver {
  constructor(private readonly chat: ChatService) {}

  @RequirePermissions('agents:use')
  @Mutation(() => ChatSessionPayload)
  async createChatSession(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args('input') input: CreateChatSessionInput): Promise<ChatSessionPayload> {
    return { session: await this.chat.create({ tenantId, principal }, input) };
  }

  @RequirePermissions('agents:use')
  @Mutation(() => SendChatMessagePayload, { description: 'Adds a message; its run answers after the messages before it (follow it with runEvents)' })
  sendChatMessage(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args('input') input: SendChatMessageInput): Promise<SendChatMessagePayload> {
    return this.chat.send({ tenantId, principal }, input);
  }

  @RequirePermissions('agents:use')
  @Mutation(() => Boolean, { description: 'Deletes a session with its messages and runs; unfinished runs stop' })
  deleteChatSession(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() { id }: ChatSessionIdArgs): Promise<boolean> {
    return this.chat.remove({ tenantId, principal }, id);
  }

  @RequirePermissions('agents:use')
  @Query(() => ChatSession, { description: "One of the caller's sessions; NOT_FOUND otherwise" })
  chatSession(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() { id }: ChatSessionIdArgs): Promise<ChatSession> {
    return this.chat.visible({ tenantId, principal }, id);
  }

  @RequirePermissions('agents:use')
  @Query(() => ChatSessionConnection, { description: "The caller's sessions, most recently active first" })
  chatSessions(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() args: ConnectionArgs): Promise<Connection<ChatSession>> {
    return this.chat.list({ tenantId, principal }, args);
  }

  @ResolveField(() => [ChatMessage], { description: 'Messages after afterSeq, in order' })
  messages(
    @Parent() session: ChatSession,
    @Args('afterSeq', { type: () => Int, nullable: true }) afterSeq?: number,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
  ): Promise<ChatMessage[]> {
    return this.chat.messages(session.id, Math.max(0, afterSeq ?? 0), Math.min(Math.max(first ?? 100, 1), 500));
  }
}
