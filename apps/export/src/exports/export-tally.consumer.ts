import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ExportCreated, EventConsumer } from '@multipult/events';

/**
 * Keeps the per-tenant tally of created exports from export.created events: an
 * example of a projection fed through Kafka. The inbox makes a redelivered event count once.
 */
@Injectable()
export class ExportTallyConsumer implements OnApplicationBootstrap {
  constructor(private readonly events: EventConsumer) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.events.consume({
      groupId: 'export.export-tally',
      contracts: [ExportCreated],
      handler: async (event, manager) => {
        await manager.query(
          `INSERT INTO exports_tallies (tenant_id, created) VALUES ($1, 1)
           ON CONFLICT (tenant_id) DO UPDATE SET created = exports_tallies.created + 1, updated_at = now()`,
          [event.tenantId],
        );
      },
    });
  }
}
