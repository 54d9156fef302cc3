import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import {
  CryptoKey,
  JSONWebKeySet,
  JWK,
  JWTVerifyGetKey,
  SignJWT,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
} from 'jose';
import { DataSource, IsNull } from 'typeorm';
import { InjectConfig } from '@multipult/config';
import { ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_TYPE, openSecret, sealSecret } from '@multipult/auth';
import { gauge } from '@multipult/observability';
import type { AuthConfig } from '../config';
import { SigningKey } from './signing-key.entity';

/** Key-derivation context of sealed signing keys (fixed: changing it would orphan every stored key). */
export const SIGNING_KEY_CONTEXT = 'multipult-signing-keys';

/** Keys never expire: they are rotated on demand (cli rotate-signing-key), so the active key's age is what alerts watch. */
const activeKeyCreatedAt = () =>
  gauge({
    name: 'auth_signing_key_active_created_timestamp_seconds',
    help: 'When the access-token signing key this replica signs with was created (Unix time)',
    labelNames: [] as const,
  });

interface ActiveKey {
  kid: string;
  privateKey: CryptoKey;
}

/**
 * Owns the access-token signing keys: the newest key signs; retired keys stay in the JWKS until
 * every token they signed has expired, so a rotation never logs anybody out.
 */
@Injectable()
export class SigningKeyService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SigningKeyService.name);
  private active?: ActiveKey;
  private jwks: JSONWebKeySet = { keys: [] };
  private localKeySet: JWTVerifyGetKey = createLocalJWKSet(this.jwks);
  private reloadTimer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AuthConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.ensureActiveKey();
    await this.reload();
    // Per replica by nature, not a shared job: each replica holds the keys in its own memory and
    // must load a rotation itself. The shared work (creating the first key, rotating) happens once,
    // under the table lock of ensureActiveKey and rotate.
    this.reloadTimer = setInterval(
      () => this.reload().catch((error) => this.logger.error({ err: error }, 'signing key reload failed')),
      this.config.SIGNING_KEY_RELOAD_SECONDS * 1000,
    ).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.reloadTimer);
  }

  /** The published key set (`/.well-known/jwks.json`). */
  publicKeySet(): JSONWebKeySet {
    return this.jwks;
  }

  /** Verification keys for this service's own resolvers, without an HTTP round trip. */
  readonly verificationKeys: JWTVerifyGetKey = (header, token) => this.localKeySet(header, token);

  async signAccessToken(claims: Record<string, unknown> & { sub: string }, ttlSeconds: number): Promise<string> {
    if (!this.active) throw new Error('no active signing key');
    const { sub, ...rest } = claims;
    return new SignJWT(rest)
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, kid: this.active.kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(this.config.JWT_ISSUER)
      .setAudience(this.config.JWT_AUDIENCE)
      .setSubject(sub)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(this.active.privateKey);
  }

  /** Creates a new signing key and retires the current one; every instance picks it up on reload. */
  async rotate(): Promise<string> {
    const kid = await this.dataSource.transaction(async (manager) => {
      await manager.query('LOCK TABLE signing_keys IN EXCLUSIVE MODE');
      await manager.update(SigningKey, { retiredAt: IsNull() }, { retiredAt: new Date() });
      return this.insertKey(manager.getRepository(SigningKey));
    });
    await this.reload();
    this.logger.log({ kid }, 'signing key rotated');
    return kid;
  }

  private async ensureActiveKey(): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      // Several replicas may start at once on an empty database; only one must create the key.
      await manager.query('LOCK TABLE signing_keys IN EXCLUSIVE MODE');
      const active = await manager.count(SigningKey, { where: { retiredAt: IsNull() } });
      if (active === 0) await this.insertKey(manager.getRepository(SigningKey));
    });
  }

  private async insertKey(repository: ReturnType<DataSource['getRepository']>): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(ACCESS_TOKEN_ALGORITHM, { crv: 'Ed25519', extractable: true });
    const kid = randomUUID();
    const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: ACCESS_TOKEN_ALGORITHM, use: 'sig' };
    const privateJwk = JSON.stringify(await exportJWK(privateKey));
    await repository.insert({
      kid,
      publicJwk,
      privateJwkEncrypted: sealSecret(privateJwk, this.config.SIGNING_KEY_SECRET, SIGNING_KEY_CONTEXT),
      retiredAt: null,
    });
    return kid;
  }

  private async reload(): Promise<void> {
    const oldestValidRetirement = new Date(Date.now() - (this.config.ACCESS_TOKEN_TTL_SECONDS + 60) * 1000);
    const keys = await this.dataSource
      .getRepository(SigningKey)
      .createQueryBuilder('key')
      .where('key.retired_at IS NULL OR key.retired_at > :oldest', { oldest: oldestValidRetirement })
      .orderBy('key.created_at', 'DESC')
      .getMany();
    const newest = keys.find((key) => key.retiredAt === null);
    if (!newest) throw new Error('no active signing key in the database');
    if (this.active?.kid !== newest.kid) {
      const privateJwk = JSON.parse(openSecret(newest.privateJwkEncrypted, this.config.SIGNING_KEY_SECRET, SIGNING_KEY_CONTEXT)) as JWK;
      this.active = {
        kid: newest.kid,
        privateKey: (await importJWK(privateJwk, ACCESS_TOKEN_ALGORITHM)) as CryptoKey,
      };
    }
    activeKeyCreatedAt().set(newest.createdAt.getTime() / 1000);
    this.jwks = { keys: keys.map((key) => key.publicJwk) };
    this.localKeySet = createLocalJWKSet(this.jwks);
  }
}
