import { Args, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, RequirePermissions } from '@multipult/auth';
import { BadUserInputError } from '@multipult/graphql';
import { AgentsService } from '../agents/agents.service';
import { AgentMemoriesArgs, AgentMemoryExportArgs, AgentMemoryIdArgs, PruneAgentMemoriesInput, RememberInput } from './dto';
import { MemoryStore } from './memory-store';
import { AgentMemory, AgentMemoryMatch } from './memory.entity';

/** A member's memories of their agents: each member sees and manages only what agents remember of them. */
@Resolver(() => AgentMemory)
export class MemoryResolver {
  constructor(
    private readonly memory: MemoryStore,
    private readonly agents: AgentsService,
  ) {}

  @RequirePermissions('agents:use')
  @Query(() => [AgentMemoryMatch], { description: 'What the agent remembers of the caller: by similarity to query, filtered by metadata' })
  async agentMemories(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() args: AgentMemoriesArgs): Promise<AgentMemoryMatch[]> {
    await this.agents.visible({ tenantId, principal }, args.agentId);
    return this.memory.search({ tenantId, agentId: args.agentId, userId: principal.userId, query: args.query, filter: args.filter, limit: args.first ?? 10 });
  }

  @RequirePermissions('agents:use')
  @Query(() => [AgentMemory], { description: 'Everything the agent remembers of the caller, oldest first (an export)' })
  async exportAgentMemories(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() { agentId }: AgentMemoryExportArgs): Promise<AgentMemory[]> {
    await this.agents.visible({ tenantId, principal }, agentId);
    return this.memory.export(tenantId, agentId, principal.userId);
  }

  @RequirePermissions('agents:use')
  @Mutation(() => AgentMemory, { description: 'Gives the agent a fact to remember about the caller' })
  async rememberForAgent(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args('input') input: RememberInput): Promise<AgentMemory> {
    await this.agents.visible({ tenantId, principal }, input.agentId);
    return this.memory.remember({ tenantId, agentId: input.agentId, userId: principal.userId, content: input.content, metadata: input.metadata ?? {} });
  }

  @RequirePermissions('agents:use')
  @Mutation(() => Boolean, { description: 'Deletes one of the caller\'s memories; false when there was none' })
  forgetAgentMemory(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() { id }: AgentMemoryIdArgs): Promise<boolean> {
    return this.memory.forget(tenantId, principal.userId, id);
  }

  @RequirePermissions('agents:use')
  @Mutation(() => Int, { description: 'Deletes the caller\'s memories of an agent by age and/or beyond the newest N; answers how many' })
  async pruneAgentMemories(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args('input') input: PruneAgentMemoriesInput): Promise<number> {
    if (input.olderThanDays === undefined && input.keepLatest === undefined) throw BadUserInputError.field('olderThanDays', 'errors.prune_rule_needed');
    await this.agents.visible({ tenantId, principal }, input.agentId);
    return this.memory.prune(tenantId, input.agentId, principal.userId, input);
  }
}
