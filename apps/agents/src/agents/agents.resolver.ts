import { Args, Context, ID, Int, Mutation, Parent, Query, ResolveReference, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, OptionalUser, RequirePermissions } from '@multipult/auth';
import { Connection, ConnectionArgs, GraphQLContext, requestLoader } from '@multipult/graphql';
import { AgentConnection, CreateAgentInput, CreateAgentPayload } from './dto';
import { Agent } from './agent.entity';
import { AgentsService } from './agents.service';

@Resolver(() => Agent)
export class AgentsResolver {
  constructor(private readonly service: AgentsService) {}

  @RequirePermissions('agents:write')
  @Mutation(() => CreateAgentPayload)
  async createAgent(
    @CurrentTenant() tenantId: string,
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: CreateAgentInput,
  ): Promise<CreateAgentPayload> {
    return { agent: await this.service.create(tenantId, principal.userId, input) };
  }

  @RequirePermissions('agents:read')
  @Query(() => Agent, { nullable: true, description: 'One of the current tenant\'s agents' })
  agent(
    @CurrentTenant() tenantId: string,
    @Args('id', { type: () => ID }) id: string,
    @Context() context: GraphQLContext,
  ): Promise<Agent | null> {
    return this.load(context, tenantId, id);
  }

  @RequirePermissions('agents:read')
  @Query(() => AgentConnection, { description: 'The current tenant\'s agents, newest first' })
  agents(@CurrentTenant() tenantId: string, @Args() args: ConnectionArgs): Promise<Connection<Agent>> {
    return this.service.list(tenantId, args);
  }

  @RequirePermissions('agents:read')
  @Query(() => Int, { description: 'agents created in the current tenant, counted from agent.created events' })
  agentCreatedCount(@CurrentTenant() tenantId: string): Promise<number> {
    return this.service.createdCount(tenantId);
  }

  /** References from other subgraphs, batched per request; only the caller's tenant is visible. */
  @ResolveReference()
  resolveReference(
    @Parent() reference: { id: string },
    @Context() context: GraphQLContext,
    @OptionalUser() principal: AuthPrincipal | null,
  ): Promise<Agent | null> {
    if (!principal?.tenantId) return Promise.resolve(null);
    return this.load(context, principal.tenantId, reference.id);
  }

  private load(context: GraphQLContext, tenantId: string, id: string): Promise<Agent | null> {
    return requestLoader(context, 'agents', (ids: readonly string[]) => this.service.findByIds(tenantId, ids)).load(id);
  }
}
