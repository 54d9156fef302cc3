import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DelegatedToken, DelegationError, hasPermission, verifyDelegationAssertion } from '@multipult/auth';
import { SERVICE_REGISTRY, serviceEntry } from '@multipult/registry';
import { InjectConfig } from '@multipult/config';
import { FAST_STORE, FastStore } from '@multipult/redis';
import type { AuthConfig } from '../config';
import { SigningKeyService } from '../signing-keys/signing-key.service';
import { Membership } from '../tenants/membership.entity';
import { User } from '../users/user.entity';

/** Delegated tokens live no longer than this, whatever the access token lifetime. */
const DELEGATED_TOKEN_TTL_SECONDS = 300;

/**
 * Grants delegated tokens (libs/auth delegation.ts): the user must still be an active member of the
 * tenant, and the token holds only the permissions they have there that the registry lets the
 * asking service delegate. Each assertion is good for one token.
 */
@Injectable()
export class DelegationService {
  private readonly logger = new Logger(DelegationService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(FAST_STORE) private readonly store: FastStore,
    @InjectConfig() private readonly config: AuthConfig,
    private readonly signingKeys: SigningKeyService,
  ) {}

  async grant(assertion: string): Promise<DelegatedToken> {
    const request = await verifyDelegationAssertion(this.config.INTERNAL_API_SECRET, assertion);
    const service = SERVICE_REGISTRY.services.find((entry) => entry.name === request.service);
    if (!service || service.delegates.length === 0) throw new DelegationError(403, `service ${request.service} may not act for users`);
    if ((await this.store.increment(`auth:delegation:${request.assertionId}`, 1, 120_000)) > 1) {
      throw new DelegationError(401, 'delegation assertion already used');
    }
    const user = await this.dataSource.getRepository(User).findOneBy({ id: request.userId });
    if (!user || user.bannedAt || user.erasureRequestedAt) throw new DelegationError(404, 'no such active user');
    const membership = await this.dataSource
      .getRepository(Membership)
      .findOne({ where: { userId: user.id, tenantId: request.tenantId }, relations: { role: true } });
    if (!membership) throw new DelegationError(404, 'the user is not a member of the tenant');
    const permissions = serviceEntry(request.service).delegates.filter(
      (permission) => request.scope.includes(permission) && hasPermission(membership.role.permissions, permission),
    );
    const expiresIn = Math.min(DELEGATED_TOKEN_TTL_SECONDS, this.config.ACCESS_TOKEN_TTL_SECONDS);
    const accessToken = await this.signingKeys.signAccessToken(
      {
        sub: user.id,
        // A session of its own, so revoking the user's sessions one by one leaves it alone but
        // account-wide revocations (ban, password change) still reach it.
        sid: `delegated-${randomUUID()}`,
        tid: request.tenantId,
        ten: { [request.tenantId]: permissions },
        act: { sub: `service:${request.service}` },
      },
      expiresIn,
    );
    this.logger.log({ service: request.service, userId: user.id, tenantId: request.tenantId, permissions }, 'delegated token granted');
    return { accessToken, expiresIn, permissions, user: { id: user.id, email: user.email, displayName: user.displayName } };
  }
}
