import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { EventConsumer, EnvelopeOf, TenantMemberAdded, TenantMemberRemoved, UserRegistered } from '@multipult/events';
import { pickLocale } from '@multipult/graphql';
import { Recipient } from './recipient.entity';

const RECIPIENTS_BATCH_SIZE = 100;

export type RecipientContact = Pick<Recipient, 'userId' | 'email' | 'displayName' | 'locale' | 'emailDigest'>;

/**
 * Who is who, from auth's user events, read from the beginning of the topic so a new deployment
 * knows every existing user. The dispatcher records a user too, in its own transaction, so a
 * welcome never waits for this group.
 */
@Injectable()
export class RecipientsService implements OnApplicationBootstrap {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: EventConsumer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.events.consume({
      groupId: 'notifications.recipients',
      contracts: [UserRegistered, TenantMemberAdded, TenantMemberRemoved],
      fromBeginning: true,
      // A burst of sign-ups (a tenant importing its people) commits once per batch, not once per user.
      batchSize: RECIPIENTS_BATCH_SIZE,
      handler: async (event, manager) => {
        if (event.type === UserRegistered.type) await this.record(manager, event);
        else if (event.type === TenantMemberAdded.type) await this.recordMembership(manager, event.payload.tenantId, event.payload.userId);
        else await manager.query('DELETE FROM tenant_members WHERE tenant_id = $1 AND user_id = $2', [event.payload.tenantId, event.payload.userId]);
      },
    });
  }

  async record(manager: EntityManager, event: EnvelopeOf<typeof UserRegistered>): Promise<void> {
    const { userId, email, displayName, username, tenantId, locale } = event.payload;
    await manager.query(
      `INSERT INTO recipients (user_id, email, display_name, username, locale) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id) DO UPDATE SET
         email = excluded.email, display_name = excluded.display_name, username = excluded.username, updated_at = now()`,
      [userId, email, displayName, username ?? null, pickLocale(locale ? [locale] : [])],
    );
    if (tenantId) await this.recordMembership(manager, tenantId, userId);
  }

  async recordMembership(manager: EntityManager, tenantId: string, userId: string): Promise<void> {
    await manager.query('INSERT INTO tenant_members (tenant_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [tenantId, userId]);
  }

  /** On the dispatch path of every event, so one plain query without entity hydration. */
  async byIds(userIds: string[], manager: EntityManager = this.dataSource.manager): Promise<Map<string, RecipientContact>> {
    if (!userIds.length) return new Map();
    const rows: { user_id: string; email: string; display_name: string; locale: string; email_digest: boolean }[] = await manager.query(
      'SELECT user_id, email, display_name, locale, email_digest FROM recipients WHERE user_id = ANY($1::uuid[])',
      [[...new Set(userIds)]],
    );
    return new Map(
      rows.map((row) => [
        row.user_id,
        { userId: row.user_id, email: row.email, displayName: row.display_name, locale: row.locale, emailDigest: row.email_digest },
      ]),
    );
  }
}
