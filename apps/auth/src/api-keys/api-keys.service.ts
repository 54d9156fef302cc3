import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { API_KEY_PREFIX, PublishedApiKey, apiKeyKeys, coversPermission, hashApiKey, isCataloguedPermission } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError } from '@multipult/graphql';
import { JobQueue } from '@multipult/jobs';
import { FAST_STORE, FastStore, FastStoreWrite } from '@multipult/redis';
import { AuditLog } from '../audit/audit-log.service';
import type { AuthConfig } from '../config';
import { ApiKey } from './dto';

/** The queue of the recurring republication of every key. */
export const API_KEY_REPUBLISH_QUEUE = 'api-keys.republish';
/** Keys one page of the republication reads and writes (one query, one Redis pipeline). */
export const API_KEY_REPUBLISH_PAGE_SIZE = 500;

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

interface ApiKeyRow {
  id: string;
  user_id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  scopes: string[];
  expires_at: Date | null;
  created_at: Date;
  revoked_at: Date | null;
}

interface PublicationRow extends ApiKeyRow {
  role_permissions: string[] | null;
  live: boolean;
}

/** `mpk_<8 visible characters>_<256 random bits>`: the prefix names the key in lists and logs. */
function newApiKey(): { key: string; prefix: string } {
  const visible = [...randomBytes(8)].map((byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join('');
  const prefix = `${API_KEY_PREFIX}${visible}`;
  return { key: `${prefix}_${randomBytes(32).toString('base64url')}`, prefix };
}

/**
 * API keys. Postgres holds them (hashed); Redis holds what every instance needs to accept one
 * (libs/auth verifyApiKey), republished whenever the owner's standing changes (role, removal,
 * ban, erasure), and all of them at start-up and every API_KEY_SYNC_SECONDS by one replica (a
 * recurring job, page by page), so a key never outlives or exceeds its owner's permissions.
 */
@Injectable()
export class ApiKeysService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AuthConfig,
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly audit: AuditLog,
    private readonly jobs: JobQueue,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.jobs.defineRecurring({ name: API_KEY_REPUBLISH_QUEUE, everySeconds: this.config.API_KEY_SYNC_SECONDS, handler: () => this.publish(null) });
  }

  async create(
    userId: string,
    tenantId: string,
    holderPermissions: readonly string[],
    input: { name: string; scopes: string[]; expiresAt?: Date },
  ): Promise<{ apiKey: ApiKey; key: string }> {
    const scopes = [...new Set(input.scopes.map((scope) => scope.trim()))].sort();
    const unknown = scopes.filter((scope) => !isCataloguedPermission(scope));
    if (unknown.length) throw BadUserInputError.field('scopes', 'errors.unknown_permission', { permission: unknown.join(', ') });
    const exceeding = scopes.filter((scope) => !coversPermission(holderPermissions, scope));
    if (exceeding.length) throw new ForbiddenError('errors.role_exceeds_yours', { permission: exceeding.join(', ') });
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw BadUserInputError.field('expiresAt', 'errors.must_be_future');
    const { key, prefix } = newApiKey();
    const row = await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId]);
      const [{ count }]: { count: number }[] = await manager.query(
        'SELECT count(*)::int AS count FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())',
        [userId],
      );
      if (count >= this.config.API_KEYS_PER_USER) throw new ConflictError('errors.api_key_limit', { limit: this.config.API_KEYS_PER_USER });
      const [created]: ApiKeyRow[] = await manager.query(
        `INSERT INTO api_keys (user_id, tenant_id, name, prefix, key_hash, scopes, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        [userId, tenantId, input.name.trim(), prefix, hashApiKey(key), scopes, input.expiresAt ?? null],
      );
      await this.audit.record({ action: 'api_key.created', targetType: 'api_key', targetId: created.id, tenantId, details: { prefix, scopes } }, manager);
      return created;
    });
    await this.publish([userId]);
    return { apiKey: await this.toApiKey(row), key };
  }

  async list(userId: string, tenantId: string): Promise<ApiKey[]> {
    const rows: ApiKeyRow[] = await this.dataSource.query(
      'SELECT * FROM api_keys WHERE user_id = $1 AND tenant_id = $2 ORDER BY created_at DESC',
      [userId, tenantId],
    );
    return Promise.all(rows.map((row) => this.toApiKey(row)));
  }

  /** Revokes one of the caller's keys in the tenant; it stops working at once. */
  async revoke(userId: string, tenantId: string, keyId: string): Promise<ApiKey> {
    const row = await this.dataSource.transaction(async (manager) => {
      const [rows]: [ApiKeyRow[], number] = await manager.query(
        `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND user_id = $2 AND tenant_id = $3 RETURNING *`,
        [keyId, userId, tenantId],
      );
      if (!rows.length) throw new NotFoundError('ApiKey');
      await this.audit.record({ action: 'api_key.revoked', targetType: 'api_key', targetId: keyId, tenantId, details: { prefix: rows[0].prefix } }, manager);
      return rows[0];
    });
    await this.store.del(apiKeyKeys.published(row.key_hash));
    return this.toApiKey(row);
  }

  /**
   * Publishes the current standing of these users' keys (or everyone's, for `null`, a page at a
   * time): a live key carries its scopes that the owner's role in the key's tenant still covers; a
   * key that is revoked, expired, or whose owner left the tenant, is banned or is being erased is
   * withdrawn. Answers how many keys were written.
   */
  async publish(userIds: readonly string[] | null): Promise<number> {
    if (userIds) return this.publishRows(await this.publicationRows(userIds, null, null));
    let written = 0;
    let after: string | null = null;
    for (;;) {
      const rows = await this.publicationRows(null, after, API_KEY_REPUBLISH_PAGE_SIZE);
      written += await this.publishRows(rows);
      if (rows.length < API_KEY_REPUBLISH_PAGE_SIZE) return written;
      after = rows[rows.length - 1].id;
    }
  }

  /** Keys of these users (or everyone's), recently revoked ones included so their withdrawal repeats; by id after `after`. */
  private publicationRows(userIds: readonly string[] | null, after: string | null, limit: number | null): Promise<PublicationRow[]> {
    return this.dataSource.query(
      `SELECT k.*, r.permissions AS role_permissions,
              (k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()) AND u.banned_at IS NULL
               AND u.erasure_requested_at IS NULL AND m.user_id IS NOT NULL) AS live
       FROM api_keys k JOIN users u ON u.id = k.user_id
       LEFT JOIN memberships m ON m.tenant_id = k.tenant_id AND m.user_id = k.user_id
       LEFT JOIN roles r ON r.id = m.role_id
       WHERE ($1::uuid[] IS NULL OR k.user_id = ANY($1)) AND (k.revoked_at IS NULL OR k.revoked_at > now() - interval '1 day')
         AND ($2::uuid IS NULL OR k.id > $2)
       ORDER BY k.id
       LIMIT $3`,
      [userIds, after, limit],
    );
  }

  private async publishRows(rows: PublicationRow[]): Promise<number> {
    const writes = rows.map((row): FastStoreWrite => {
      const key = apiKeyKeys.published(row.key_hash);
      if (!row.live) return { key, value: null };
      const published: PublishedApiKey = {
        keyId: row.id,
        userId: row.user_id,
        tenantId: row.tenant_id,
        permissions: row.scopes.filter((scope) => coversPermission(row.role_permissions ?? [], scope)),
        createdAt: row.created_at.toISOString(),
        expiresAt: row.expires_at?.toISOString() ?? null,
      };
      return { key, value: JSON.stringify(published), ttlMs: row.expires_at ? row.expires_at.getTime() - Date.now() : undefined };
    });
    await this.store.writeMany(writes);
    return writes.length;
  }

  private async toApiKey(row: ApiKeyRow): Promise<ApiKey> {
    const lastUsed = await this.store.get(apiKeyKeys.lastUsed(row.id));
    return {
      id: row.id,
      name: row.name,
      prefix: row.prefix,
      scopes: row.scopes,
      tenantId: row.tenant_id,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      lastUsedAt: lastUsed ? new Date(lastUsed) : null,
      revokedAt: row.revoked_at,
    };
  }
}
