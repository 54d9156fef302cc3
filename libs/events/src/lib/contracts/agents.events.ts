import { z } from 'zod';
import { defineEvent } from '../event-contract';

/** Events published by the agents service. */

export const AgentCreated = defineEvent({
  type: 'agent.created',
  version: 1,
  topic: 'agents.agent.v1',
  schema: z.object({
    agentId: z.uuid(),
    ownerId: z.uuid(),
    name: z.string(),
    version: z.number().int().positive(),
    model: z.string(),
  }),
});

/** Its settings changed: a new version. */
export const AgentUpdated = defineEvent({
  type: 'agent.updated',
  version: 1,
  topic: 'agents.agent.v1',
  schema: z.object({ agentId: z.uuid(), version: z.number().int().positive(), model: z.string() }),
});

export const AgentArchived = defineEvent({
  type: 'agent.archived',
  version: 1,
  topic: 'agents.agent.v1',
  schema: z.object({ agentId: z.uuid() }),
});

export const AGENT_RUN_OUTCOMES = ['completed', 'failed', 'cancelled'] as const;

/** A run ended: every task completed, one or more failed (the others skipped), or it was cancelled. */
export const AgentRunFinished = defineEvent({
  type: 'agent_run.finished',
  version: 1,
  topic: 'agents.run.v1',
  schema: z.object({
    runId: z.uuid(),
    userId: z.uuid(),
    outcome: z.enum(AGENT_RUN_OUTCOMES),
    taskCount: z.number().int().nonnegative(),
    failedTasks: z.number().int().nonnegative(),
    promptTokens: z.number().int().nonnegative(),
    completionTokens: z.number().int().nonnegative(),
    costUsd: z.number().nonnegative(),
  }),
});

const approvalFacts = z.object({
  toolCallId: z.uuid(),
  runId: z.uuid(),
  /** The member whose run it is, who is asked to decide. */
  userId: z.uuid(),
  agentName: z.string(),
  tool: z.string(),
  risk: z.enum(['medium', 'high']),
  /** A short, readable form of the call (tool and arguments, truncated). */
  summary: z.string(),
  expiresAt: z.iso.datetime(),
});

/** A medium or high risk tool call waits for a decision. */
export const ApprovalRequested = defineEvent({
  type: 'approval.requested',
  version: 1,
  topic: 'agents.approval.v1',
  schema: approvalFacts,
});

/** No decision yet, and the call is rejected at expiresAt. */
export const ApprovalExpiring = defineEvent({
  type: 'approval.expiring',
  version: 1,
  topic: 'agents.approval.v1',
  schema: approvalFacts,
});
