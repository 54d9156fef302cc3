import { Injectable } from '@nestjs/common';
import type { RealtimeConnection, RealtimeHooks } from '@multipult/realtime';
import { PRESENCE_TTL_MS, PresenceService } from '../presence/presence.service';

/** Notifications' part of the realtime server: every authenticated socket makes its user present. */
@Injectable()
export class PresenceHooks implements RealtimeHooks {
  readonly periodic = {
    intervalMs: PRESENCE_TTL_MS / 3,
    run: (connections: RealtimeConnection[]) =>
      this.presence.refresh(connections.flatMap((connection) => (connection.principal ? [{ userId: connection.principal.userId, connectionId: connection.id }] : []))),
  };

  constructor(private readonly presence: PresenceService) {}

  async connected(connection: RealtimeConnection): Promise<void> {
    if (connection.principal) await this.presence.connected(connection.principal.userId, connection.id);
  }

  async disconnected(connection: RealtimeConnection): Promise<void> {
    if (connection.principal) await this.presence.disconnected(connection.principal.userId, connection.id);
  }
}
