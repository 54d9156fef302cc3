import { Args, Context, Mutation, Parent, Query, ResolveField, ResolveReference, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, OptionalUser, RequirePermissions } from '@multipult/auth';
import { Connection, GraphQLContext, requestLoader } from '@multipult/graphql';
import { ModelGateway } from '../models/model-gateway';
import { ToolRegistry } from '../tools/tool-registry';
import { AgentVersion } from './agent-version.entity';
import { Agent, AgentStatus } from './agent.entity';
import { AgentsService, Caller } from './agents.service';
import { AgentConnection, AgentIdArgs, AgentMetrics, AgentModel, AgentPayload, AgentToolInfo, AgentsArgs, CreateAgentInput, UpdateAgentInput } from './dto';

@Resolver(() => Agent)
export class AgentsResolver {
  constructor(
    private readonly service: AgentsService,
    private readonly models: ModelGateway,
    private readonly tools: ToolRegistry,
  ) {}

  @RequirePermissions('agents:use')
  @Mutation(() => AgentPayload, { description: 'Creates a personal agent of the caller at version 1' })
  async createAgent(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args('input') input: CreateAgentInput): Promise<AgentPayload> {
    return { agent: await this.service.create({ tenantId, principal }, input) };
  }

  @RequirePermissions('agents:use')
  @Mutation(() => AgentPayload, { description: "Changes an agent's settings as a new version (the caller's own, or any with agents:manage)" })
  async updateAgent(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args('input') input: UpdateAgentInput): Promise<AgentPayload> {
    return { agent: await this.service.update({ tenantId, principal }, input) };
  }

  @RequirePermissions('agents:use')
  @Mutation(() => AgentPayload, { description: 'Takes an agent out of use; its runs and history stay readable' })
  async archiveAgent(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() { id }: AgentIdArgs): Promise<AgentPayload> {
    return { agent: await this.service.archive({ tenantId, principal }, id) };
  }

  @RequirePermissions('agents:use')
  @Query(() => Agent, { description: "One agent: the caller's own, or any of the tenant's with agents:manage; NOT_FOUND otherwise" })
  agent(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() { id }: AgentIdArgs): Promise<Agent> {
    return this.service.visible({ tenantId, principal }, id);
  }

  @RequirePermissions('agents:use')
  @Query(() => AgentConnection, { description: "The caller's agents (or every member's, with allMembers), newest first" })
  agents(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() args: AgentsArgs): Promise<Connection<Agent>> {
    return this.service.list({ tenantId, principal }, args);
  }

  @RequirePermissions('agents:use')
  @Query(() => [AgentModel], { description: 'Models agents may use on this deployment' })
  agentModels(): AgentModel[] {
    return this.models.models().map((model) => ({
      id: model.id,
      provider: model.provider,
      scripted: model.scripted,
      embeddings: model.spec.embeddings,
      contextTokens: model.spec.contextTokens,
      inputUsdPerMTok: model.spec.inputUsdPerMTok,
      outputUsdPerMTok: model.spec.outputUsdPerMTok,
    }));
  }

  @RequirePermissions('agents:use')
  @Query(() => [AgentToolInfo], { description: 'Tools agents may be given on this deployment' })
  agentTools(): AgentToolInfo[] {
    return this.tools.list().map((tool) => ({ name: tool.name, description: tool.description }));
  }

  @ResolveField(() => AgentStatus)
  status(@Parent() agent: Agent): Promise<AgentStatus> {
    return this.service.statusOf(agent);
  }

  @ResolveField(() => [AgentVersion], { description: 'Newest first' })
  versions(@Parent() agent: Agent): Promise<AgentVersion[]> {
    return this.service.versions(agent.id);
  }

  @ResolveField(() => AgentMetrics)
  metrics(@Parent() agent: Agent): Promise<AgentMetrics> {
    return this.service.metrics(agent.id);
  }

  /** References from other subgraphs, batched per request; only what the caller may see. */
  @ResolveReference()
  resolveReference(@Parent() reference: { id: string }, @Context() context: GraphQLContext, @OptionalUser() principal: AuthPrincipal | null): Promise<Agent | null> {
    if (!principal?.tenantId) return Promise.resolve(null);
    const caller: Caller = { tenantId: principal.tenantId, principal };
    return requestLoader(context, 'agents', (ids: readonly string[]) => this.service.findByIds(caller, ids)).load(reference.id);
  }
}
