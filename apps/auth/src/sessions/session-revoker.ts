import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { revokeSession } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { OutboxWriter, SessionRevoked } from '@multipult/events';
import { FAST_STORE, FastStore } from '@multipult/redis';
import type { AuthConfig } from '../config';
import { SessionRevokeReason } from './session.entity';

export interface SessionSelection {
  userId: string;
  /** Only this session. */
  sessionId?: string;
  /** Every session of the user but this one. */
  exceptSessionId?: string;
  /** Only these sessions. */
  sessionIds?: string[];
}

/**
 * Ends sessions in two steps: the rows (and their session.revoked events) in the caller's
 * transaction, then, after it commits, the Redis marks every instance checks, so the sessions'
 * access tokens stop at once rather than at expiry.
 */
@Injectable()
export class SessionRevoker {
  constructor(
    @InjectConfig() private readonly config: AuthConfig,
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly outbox: OutboxWriter,
  ) {}

  /** Revokes the selected live sessions; answers their ids, for markRevoked once committed. */
  async revokeInTransaction(
    manager: EntityManager,
    selection: SessionSelection,
    reason: SessionRevokeReason,
    options: { announce: boolean } = { announce: true },
  ): Promise<string[]> {
    const [rows]: [{ id: string; tenant_id: string | null }[], number] = await manager.query(
      `UPDATE sessions SET revoked_at = now(), revoke_reason = $2
       WHERE user_id = $1 AND revoked_at IS NULL
         AND ($3::uuid IS NULL OR id = $3) AND ($4::uuid IS NULL OR id <> $4) AND ($5::uuid[] IS NULL OR id = ANY($5))
       RETURNING id, tenant_id`,
      [selection.userId, reason, selection.sessionId ?? null, selection.exceptSessionId ?? null, selection.sessionIds ?? null],
    );
    if (options.announce) {
      for (const row of rows) {
        await this.outbox.enqueue(manager, SessionRevoked, {
          aggregateId: row.id,
          actorId: selection.userId,
          tenantId: row.tenant_id,
          payload: { userId: selection.userId, sessionId: row.id, reason },
        });
      }
    }
    return rows.map((row) => row.id);
  }

  async markRevoked(sessionIds: readonly string[]): Promise<void> {
    const ttlMs = this.config.ACCESS_TOKEN_TTL_SECONDS * 1000;
    await Promise.all(sessionIds.map((sessionId) => revokeSession(this.store, sessionId, ttlMs)));
  }
}
