import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AgentCreated, EventConsumer } from '@multipult/events';

/**
 * Keeps the per-tenant tally of created agents from agent.created events: an
 * example of a projection fed through Kafka. The inbox makes a redelivered event count once.
 */
@Injectable()
export class AgentTallyConsumer implements OnApplicationBootstrap {
  constructor(private readonly events: EventConsumer) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.events.consume({
      groupId: 'agents.agent-tally',
      contracts: [AgentCreated],
      handler: async (event, manager) => {
        await manager.query(
          `INSERT INTO agents_tallies (tenant_id, created) VALUES ($1, 1)
           ON CONFLICT (tenant_id) DO UPDATE SET created = agents_tallies.created + 1, updated_at = now()`,
          [event.tenantId],
        );
      },
    });
  }
}
