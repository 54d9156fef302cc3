import { Inject, Injectable } from '@nestjs/common';
import { InjectConfig } from '@multipult/config';
import { FAST_STORE, FastStore } from '@multipult/redis';
import type { AuthConfig } from '../config';
import { hashSecretToken, newSecretToken } from '../one-time-tokens/secret-token';

const key = (token: string) => `auth:mfa-challenge:${hashSecretToken(token)}`;

/**
 * The short-lived proof that a password was right, exchanged with a second-factor code for a
 * session. Kept in Redis by hash (so any instance completes it), single use, and dropped after
 * MFA_MAX_ATTEMPTS wrong codes.
 */
@Injectable()
export class MfaChallenges {
  constructor(
    @InjectConfig() private readonly config: AuthConfig,
    @Inject(FAST_STORE) private readonly store: FastStore,
  ) {}

  get ttlSeconds(): number {
    return this.config.MFA_CHALLENGE_TTL_SECONDS;
  }

  async issue(userId: string): Promise<string> {
    const token = newSecretToken();
    await this.store.set(key(token), userId, this.ttlSeconds * 1000);
    return token;
  }

  /** The challenge's user, or null when it is unknown, expired or used up. */
  async userOf(token: string): Promise<string | null> {
    return this.store.get(key(token));
  }

  /** Counts a wrong code; answers whether the challenge is still usable. */
  async recordFailure(token: string): Promise<boolean> {
    const attempts = await this.store.increment(`${key(token)}:failures`, 1, this.ttlSeconds * 1000);
    if (attempts < this.config.MFA_MAX_ATTEMPTS) return true;
    await this.store.del(key(token));
    return false;
  }

  async consume(token: string): Promise<void> {
    await this.store.del(key(token));
  }
}
