import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, RequirePermissions } from '@multipult/auth';
import { ApprovalsService } from './approvals.service';
import { ApproveToolCallClassInput, DecideToolCallInput, PendingApprovalsArgs } from './dto';
import { AgentToolCall } from './tool-call.entity';

@Resolver(() => AgentToolCall)
export class ApprovalsResolver {
  constructor(private readonly approvals: ApprovalsService) {}

  @RequirePermissions('agents:approve')
  @Mutation(() => AgentToolCall, { description: 'Approves or rejects a tool call that waits; CONFLICT once decided (or expired)' })
  decideToolCall(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args('input') input: DecideToolCallInput): Promise<AgentToolCall> {
    return this.approvals.decide({ tenantId, principal }, input.toolCallId, input.approve, input.note);
  }

  @RequirePermissions('agents:approve')
  @Mutation(() => [AgentToolCall], { description: 'Approves the waiting calls of a class in a run, and its later calls in that run; answers the calls approved now' })
  approveToolCallClass(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args('input') input: ApproveToolCallClassInput): Promise<AgentToolCall[]> {
    return this.approvals.approveClass({ tenantId, principal }, input.runId, input.approvalClass);
  }

  @RequirePermissions('agents:use')
  @Query(() => [AgentToolCall], { description: 'Tool calls waiting for a decision on runs the caller may see, oldest first' })
  pendingApprovals(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() args: PendingApprovalsArgs): Promise<AgentToolCall[]> {
    return this.approvals.list({ tenantId, principal }, { runId: args.runId, pendingOnly: true });
  }
}
