import { Inject, Injectable } from '@nestjs/common';
import { revokeUserTokensIssuedBefore } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { FAST_STORE, FastStore } from '@multipult/redis';
import { ApiKeysService } from '../api-keys/api-keys.service';
import type { AuthConfig } from '../config';

/**
 * What follows any change of users' rights (role, membership, ban, erasure): every access token
 * they hold stops (a refresh issues ones that match) and their API keys are republished with what
 * they hold now. One place, so no change of rights forgets either.
 */
@Injectable()
export class CredentialCutOff {
  constructor(
    @InjectConfig() private readonly config: AuthConfig,
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async apply(userIds: readonly string[]): Promise<void> {
    if (!userIds.length) return;
    const now = new Date();
    const ttlMs = this.config.ACCESS_TOKEN_TTL_SECONDS * 1000;
    await Promise.all(userIds.map((userId) => revokeUserTokensIssuedBefore(this.store, userId, now, ttlMs)));
    await this.apiKeys.publish(userIds);
  }
}
