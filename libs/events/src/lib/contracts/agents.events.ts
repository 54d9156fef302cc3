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
  }),
});
