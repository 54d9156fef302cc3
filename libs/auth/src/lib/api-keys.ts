import { createHash } from 'node:crypto';
import { UnauthenticatedError } from '@multipult/graphql';
import { FastStore } from '@multipult/redis';
import { AuthPrincipal } from './principal';

export const API_KEY_PREFIX = 'mpk_';
export const API_KEY_HEADER = 'x-api-key';
const API_KEY_PATTERN = /^mpk_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/;

/**
 * What every instance needs to accept an API key, published to Redis by the auth service when
 * the key is created and kept current as its owner's permissions change: the owner, the tenant
 * the key acts in, and its effective permissions (its scopes the owner still holds there).
 */
export interface PublishedApiKey {
  keyId: string;
  userId: string;
  tenantId: string;
  permissions: string[];
  createdAt: string;
  expiresAt: string | null;
}

export const apiKeyKeys = {
  published: (keyHash: string) => `auth:api-key:${keyHash}`,
  lastUsed: (keyId: string) => `auth:api-key-used:${keyId}`,
};

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The API key of a request (`Authorization: ApiKey <key>` or `x-api-key`), or undefined. */
export function apiKeyOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const header = headers[API_KEY_HEADER];
  const direct = Array.isArray(header) ? header[0] : header;
  if (direct) return direct.trim();
  const authorization = Array.isArray(headers.authorization) ? headers.authorization[0] : headers.authorization;
  const [scheme, key] = authorization?.trim().split(/\s+/, 2) ?? [];
  return scheme?.toLowerCase() === 'apikey' ? (key ?? '') : undefined;
}

/** Remembers use at most once a minute per key and instance, so busy keys cost one write a minute. */
const lastUseWritten = new Map<string, number>();
const LAST_USE_WRITE_INTERVAL_MS = 60_000;

/** The caller an API key stands for; UNAUTHENTICATED for a malformed, unknown, revoked or expired key. */
export async function verifyApiKey(store: FastStore, key: string): Promise<AuthPrincipal> {
  if (!API_KEY_PATTERN.test(key)) throw new UnauthenticatedError('errors.invalid_api_key');
  const published = await store.get(apiKeyKeys.published(hashApiKey(key)));
  if (!published) throw new UnauthenticatedError('errors.invalid_api_key');
  const record = JSON.parse(published) as PublishedApiKey;
  const now = Date.now();
  if (record.expiresAt && Date.parse(record.expiresAt) <= now) throw new UnauthenticatedError('errors.invalid_api_key');
  if ((lastUseWritten.get(record.keyId) ?? 0) + LAST_USE_WRITE_INTERVAL_MS <= now) {
    lastUseWritten.set(record.keyId, now);
    await store.set(apiKeyKeys.lastUsed(record.keyId), new Date(now).toISOString(), 400 * 86_400_000).catch(() => undefined);
  }
  return {
    userId: record.userId,
    sessionId: record.keyId,
    tokenId: record.keyId,
    tenantId: record.tenantId,
    permissions: record.permissions,
    memberships: { [record.tenantId]: record.permissions },
    // Keys act within their tenant only, never as an operator.
    platformPermissions: [],
    issuedAt: new Date(record.createdAt),
    expiresAt: record.expiresAt ? new Date(record.expiresAt) : new Date(8_640_000_000_000_000),
    credential: 'api_key',
  };
}
