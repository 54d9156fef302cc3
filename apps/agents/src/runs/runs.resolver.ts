import { Args, Context, Mutation, Parent, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, RequirePermissions } from '@multipult/auth';
import { Connection } from '@multipult/graphql';
import { RealtimeContext, connectionOf } from '@multipult/realtime';
import { AgentToolCall } from '../approvals/tool-call.entity';
import { ApprovalsService } from '../approvals/approvals.service';
import { AgentPlanDryRun, AgentRunConnection, AgentRunIdArgs, AgentRunPayload, AgentRunsArgs, CreateAgentPlanInput, PlanAgentRunInput, RunEventPageArgs, RunEventsArgs, RunIdArgs, StartAgentRunInput, UpdateAgentPlanInput } from './dto';
import { RunEvent } from './run-event.entity';
import { RunEvents } from './run-events';
import { AgentRun } from './run.entity';
import { RunsService } from './runs.service';
import { AgentTask } from './task.entity';

@Resolver(() => AgentRun)
export class RunsResolver {
  constructor(
    private readonly runs: RunsService,
    private readonly events: RunEvents,
    private readonly approvals: ApprovalsService,
  ) {}

  @RequirePermissions('agents:use')
  @Mutation(() => AgentRunPayload, { description: 'Gives one agent a request; it starts at once (RATE_LIMITED when its queue is full)' })
  async startAgentRun(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args('input') input: StartAgentRunInput): Promise<AgentRunPayload> {
    return { run: await this.runs.startDirect({ tenantId, principal }, input) };
  }

  @RequirePermissions('agents:use')
  @Mutation(() => AgentRunPayload, { description: 'A plan written by the caller; it waits for approveAgentPlan unless autoStart' })
  async createAgentPlan(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args('input') input: CreateAgentPlanInput): Promise<AgentRunPayload> {
    return { run: await this.runs.createPlan({ tenantId, principal }, input) };
  }

  @RequirePermissions('agents:use')
  @Mutation(() => AgentRunPayload, { description: 'Asks the planner for a plan (the run is PLANNING, then AWAITING_APPROVAL, or RUNNING with autoStart); follow runEvents' })
  async planAgentRun(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args('input') input: PlanAgentRunInput): Promise<AgentRunPayload> {
    return { run: await this.runs.requestPlan({ tenantId, principal }, input) };
  }

  @RequirePermissions('agents:use')
  @Mutation(() => AgentRunPayload, { description: 'Replaces a plan that waits for approval' })
  async updateAgentPlan(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args('input') input: UpdateAgentPlanInput): Promise<AgentRunPayload> {
    return { run: await this.runs.updatePlan({ tenantId, principal }, input.runId, input.tasks) };
  }

  @RequirePermissions('agents:use')
  @Mutation(() => AgentRunPayload, { description: 'Starts a plan that waits for approval' })
  async approveAgentPlan(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() { runId }: RunIdArgs): Promise<AgentRunPayload> {
    return { run: await this.runs.approvePlan({ tenantId, principal }, runId) };
  }

  @RequirePermissions('agents:use')
  @Mutation(() => AgentRunPayload, { description: 'Stops a run; CONFLICT once it has finished' })
  async cancelAgentRun(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() { runId }: RunIdArgs): Promise<AgentRunPayload> {
    return { run: await this.runs.cancel({ tenantId, principal }, runId) };
  }

  @RequirePermissions('agents:use')
  @Query(() => AgentPlanDryRun, { description: 'What running the plan would do (waves of parallel tasks, estimates), without calling any model' })
  dryRunAgentPlan(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() { runId }: RunIdArgs): Promise<AgentPlanDryRun> {
    return this.runs.dryRun({ tenantId, principal }, runId);
  }

  @RequirePermissions('agents:use')
  @Query(() => AgentRun, { description: "One run: the caller's own, or any of the tenant's with agents:manage; NOT_FOUND otherwise" })
  agentRun(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() { id }: AgentRunIdArgs): Promise<AgentRun> {
    return this.runs.visible({ tenantId, principal }, id);
  }

  @RequirePermissions('agents:use')
  @Query(() => AgentRunConnection, { description: "The caller's runs (or every member's, with allMembers), newest first" })
  agentRuns(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() args: AgentRunsArgs): Promise<Connection<AgentRun>> {
    return this.runs.list({ tenantId, principal }, args);
  }

  @RequirePermissions('agents:use')
  @Query(() => [RunEvent], { description: 'A page of a run\'s stored events after lastEventId, in order' })
  async agentRunEvents(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() args: RunEventPageArgs): Promise<RunEvent[]> {
    await this.runs.visible({ tenantId, principal }, args.runId);
    return this.events.read(args.runId, args.lastEventId ?? 0, args.first ?? 200);
  }

  @RequirePermissions('agents:use')
  @Subscription(() => RunEvent, {
    resolve: (event: RunEvent) => event,
    description: "A run's events after lastEventId (all when omitted), then each as it happens, ending after the run's final event; over /graphql/ws",
  })
  async runEvents(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Context() context: RealtimeContext, @Args() args: RunEventsArgs) {
    connectionOf(context);
    await this.runs.visible({ tenantId, principal }, args.runId);
    return this.events.follow(args.runId, args.lastEventId ?? 0);
  }

  @ResolveField(() => [AgentTask], { description: 'The plan, by key' })
  tasks(@Parent() run: AgentRun): Promise<AgentTask[]> {
    return this.runs.tasksOf(run.id);
  }

  @ResolveField(() => [AgentToolCall], { description: 'Tool calls of the run with their decisions, oldest first' })
  toolCalls(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Parent() run: AgentRun): Promise<AgentToolCall[]> {
    return this.approvals.list({ tenantId, principal }, { runId: run.id, pendingOnly: false });
  }

  @ResolveField(() => Number, { description: 'The seq of its latest event' })
  lastEventId(@Parent() run: AgentRun): number {
    return run.lastSeq;
  }
}
