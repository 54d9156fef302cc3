import { Injectable } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { InjectConfig } from '@multipult/config';
import type { AuthConfig } from '../config';

/** argon2id with the configured cost; hashes carry their own parameters, so raising the cost is safe. */
@Injectable()
export class PasswordHasher {
  private readonly options;
  /** Verified against when the email is unknown, so both paths cost the same time. */
  private readonly decoyHash: Promise<string>;

  constructor(@InjectConfig() config: AuthConfig) {
    this.options = {
      algorithm: Algorithm.Argon2id,
      memoryCost: config.ARGON2_MEMORY_KIB,
      timeCost: config.ARGON2_TIME_COST,
      parallelism: 1,
    };
    this.decoyHash = hash('decoy-password-for-unknown-users', this.options);
  }

  hash(password: string): Promise<string> {
    return hash(password, this.options);
  }

  async verify(passwordHash: string | undefined, password: string): Promise<boolean> {
    if (!passwordHash) {
      await verify(await this.decoyHash, password).catch(() => false);
      return false;
    }
    return verify(passwordHash, password).catch(() => false);
  }
}
