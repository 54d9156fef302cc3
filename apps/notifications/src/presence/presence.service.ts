import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuthPrincipal } from '@multipult/auth';
import { FAST_STORE, FastStore } from '@multipult/redis';
import { LiveBus } from '../realtime/live-bus';
import { UserPresence } from './dto';

/** A connection counts while its instance refreshes it; one that stops (a crashed instance) lapses after this. */
export const PRESENCE_TTL_MS = 90_000;
const LAST_SEEN_TTL_MS = 30 * 24 * 3_600_000;
const REFRESH_SLICE = 500;
/** A refresh pass spreads its slices over this, well inside the refresh interval (PRESENCE_TTL_MS / 3). */
const REFRESH_SPREAD_MS = PRESENCE_TTL_MS / 9;
/** How long a typing indicator lasts unless the client repeats it. */
export const TYPING_TTL_MS = 6_000;

const keys = {
  connections: (userId: string) => `presence:connections:${userId}`,
  online: (userId: string) => `presence:online:${userId}`,
  lastSeen: (userId: string) => `presence:last-seen:${userId}`,
};

/**
 * Presence across instances: each open connection is a member of the user's expiring set in
 * Redis; the first one makes the user online, the last one to close makes them offline with a
 * last-seen time. Changes go to the members of the user's tenants through the live bus.
 */
@Injectable()
export class PresenceService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly live: LiveBus,
  ) {}

  async connected(userId: string, connectionId: string): Promise<void> {
    const open = await this.store.touchMember(keys.connections(userId), connectionId, PRESENCE_TTL_MS);
    await this.store.set(keys.online(userId), '1', PRESENCE_TTL_MS);
    if (open === 1) await this.announce(userId, true, new Date());
  }

  /**
   * Keeps this instance's connections counted, in slices spread over REFRESH_SPREAD_MS: 10 000 sockets
   * at once were a second of commands that held every live message behind them.
   */
  async refresh(connections: { userId: string; connectionId: string }[]): Promise<void> {
    const users = [...new Set(connections.map((connection) => connection.userId))];
    const commands = [
      ...connections.map(({ userId, connectionId }) => () => this.store.touchMember(keys.connections(userId), connectionId, PRESENCE_TTL_MS)),
      ...users.map((userId) => () => this.store.set(keys.online(userId), '1', PRESENCE_TTL_MS)),
    ];
    const slices = Math.ceil(commands.length / REFRESH_SLICE);
    for (let start = 0; start < commands.length; start += REFRESH_SLICE) {
      if (start) await new Promise((resolve) => setTimeout(resolve, REFRESH_SPREAD_MS / slices));
      await Promise.all(commands.slice(start, start + REFRESH_SLICE).map((command) => command()));
    }
  }

  async disconnected(userId: string, connectionId: string): Promise<void> {
    if ((await this.store.removeMember(keys.connections(userId), connectionId)) > 0) return;
    const now = new Date();
    await Promise.all([this.store.del(keys.online(userId)), this.store.set(keys.lastSeen(userId), now.toISOString(), LAST_SEEN_TTL_MS)]);
    await this.announce(userId, false, now);
  }

  /** The presence of those among `userIds` who share a tenant with the viewer. */
  async presenceOf(viewer: AuthPrincipal, userIds: string[]): Promise<UserPresence[]> {
    const visible: { user_id: string }[] = await this.dataSource.query(
      'SELECT DISTINCT user_id FROM tenant_members WHERE tenant_id = ANY($1::uuid[]) AND user_id = ANY($2::uuid[])',
      [Object.keys(viewer.memberships), [...new Set(userIds)]],
    );
    const ids = visible.map((row) => row.user_id);
    const marks = await this.store.getMany(ids.flatMap((id) => [keys.online(id), keys.lastSeen(id)]));
    return ids.map((id, index) => {
      const online = marks[index * 2] !== null;
      const lastSeen = marks[index * 2 + 1];
      return { user: { id }, online, lastSeenAt: online || !lastSeen ? null : new Date(lastSeen) };
    });
  }

  async typing(principal: AuthPrincipal, tenantId: string, documentId: string, typing: boolean): Promise<Date> {
    const expiresAt = new Date(Date.now() + (typing ? TYPING_TTL_MS : 0));
    await this.live.publish([{ kind: 'typing', userId: principal.userId, tenantId, documentId, typing, expiresAt: expiresAt.toISOString() }]);
    return expiresAt;
  }

  private async announce(userId: string, online: boolean, at: Date): Promise<void> {
    const rows: { tenant_id: string }[] = await this.dataSource.query('SELECT tenant_id FROM tenant_members WHERE user_id = $1', [userId]);
    if (!rows.length) return;
    await this.live.publish([{ kind: 'presence', userId, tenantIds: rows.map((row) => row.tenant_id), online, lastSeenAt: at.toISOString() }]);
  }
}
