import { createHash, randomBytes } from 'node:crypto';

/**
 * Bearer secrets the auth service hands out (refresh tokens, links in emails): 256 random bits,
 * stored only as their SHA-256, so a database leak yields nothing usable.
 */
export function newSecretToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecretToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
