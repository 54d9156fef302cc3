import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { OutboxWriter, UserRegistered } from '@multipult/events';
import { pickLocale } from '@multipult/graphql';
import { RequestContext } from '@multipult/observability';
import { AuditLog } from '../audit/audit-log.service';
import { User } from '../users/user.entity';

/** How an account came to be: a sign-up, an OpenID provider, or an operator (the CLI). */
export type RegistrationChannel = 'password' | 'oidc' | 'cli';

export interface NewAccount {
  email: string;
  displayName: string;
  passwordHash: string;
  /** Chosen at sign-up; otherwise derived from the email. */
  username?: string;
  /** Set when someone vouched for the address (an OpenID provider, an operator). */
  emailVerifiedAt?: Date;
}

/**
 * The one way an account is created, whatever the channel: the user row, its `user.registered`
 * event through the outbox and its audit entry, in the caller's transaction.
 */
@Injectable()
export class Registrations {
  constructor(
    private readonly outbox: OutboxWriter,
    private readonly audit: AuditLog,
  ) {}

  async create(manager: EntityManager, account: NewAccount, via: RegistrationChannel): Promise<User> {
    const username = account.username ?? (await this.freeUsername(manager, account.email));
    const user = await manager.save(manager.create(User, { ...account, username }));
    // An operator's account is nobody's own act; a sign-up is the user's.
    const actorId = via === 'cli' ? null : user.id;
    await this.outbox.enqueue(manager, UserRegistered, {
      aggregateId: user.id,
      actorId,
      payload: {
        userId: user.id,
        email: user.email,
        displayName: user.displayName,
        username: user.username,
        tenantId: null,
        // The language the user signed up in, so their first emails are in it.
        locale: pickLocale(RequestContext.current()?.locales),
      },
    });
    await this.audit.record({ action: 'user.registered', actorId, targetType: 'user', targetId: user.id, details: { via } }, manager);
    return user;
  }

  /** A handle from the email's local part, with a numeric suffix when it is taken. */
  private async freeUsername(manager: EntityManager, email: string): Promise<string> {
    const base = email.split('@')[0].toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 24).padEnd(3, '_');
    for (let suffix = 0; suffix < 1000; suffix += 1) {
      const candidate = suffix === 0 ? base : `${base}${suffix}`;
      if (!(await manager.exists(User, { where: { username: candidate } }))) return candidate;
    }
    return `${base}${randomBytes(3).toString('hex')}`;
  }
}
