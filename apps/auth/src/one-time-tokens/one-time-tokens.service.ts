import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { hashSecretToken, newSecretToken } from './secret-token';

export type OneTimeTokenPurpose = 'email_verification' | 'password_reset';

/**
 * Tokens for links in emails (see secret-token.ts): single use, expiring, bound to the address they were sent to. Issuing one retires the user's earlier ones of the same
 * purpose, so only the newest email works.
 */
@Injectable()
export class OneTimeTokensService {
  async issue(
    manager: EntityManager,
    purpose: OneTimeTokenPurpose,
    user: { id: string; email: string },
    ttlMs: number,
  ): Promise<{ token: string; expiresAt: Date }> {
    const token = newSecretToken();
    const expiresAt = new Date(Date.now() + ttlMs);
    await manager.query('UPDATE one_time_tokens SET used_at = now() WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL', [user.id, purpose]);
    await manager.query('INSERT INTO one_time_tokens (user_id, purpose, token_hash, email, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      user.id,
      purpose,
      hashSecretToken(token),
      user.email,
      expiresAt,
    ]);
    return { token, expiresAt };
  }

  /** Marks the token used and answers whose it was; null for unknown, used, expired or other-purpose tokens. */
  async consume(manager: EntityManager, purpose: OneTimeTokenPurpose, token: string): Promise<{ userId: string; email: string } | null> {
    const [rows]: [{ user_id: string; email: string }[], number] = await manager.query(
      `UPDATE one_time_tokens SET used_at = now()
       WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
       RETURNING user_id, email`,
      [hashSecretToken(token), purpose],
    );
    return rows[0] ? { userId: rows[0].user_id, email: rows[0].email } : null;
  }
}
