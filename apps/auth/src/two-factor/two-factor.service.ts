import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';
import { toDataURL } from 'qrcode';
import { DataSource, EntityManager } from 'typeorm';
import { openSecret, sealSecret } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { BadUserInputError, ConflictError, UnauthenticatedError } from '@multipult/graphql';
import { AuditLog } from '../audit/audit-log.service';
import type { AuthConfig } from '../config';
import { hashSecretToken } from '../one-time-tokens/secret-token';
import { AuthPayload } from '../sessions/dto';
import { MfaChallenges } from '../sessions/mfa-challenges';
import { SessionsService } from '../sessions/sessions.service';
import { User } from '../users/user.entity';
import { ConfirmTotpPayload, TotpEnrollment } from './dto';

const BACKUP_CODE_COUNT = 10;
const BACKUP_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** Codes of the neighbouring 30-second steps pass too (clock drift, typing time). */
const EPOCH_TOLERANCE_SECONDS = 30;

interface TotpRow {
  id: string;
  email: string;
  totp_secret_sealed: string | null;
  totp_pending_secret_sealed: string | null;
  totp_enabled_at: Date | null;
  totp_last_time_step: string | null;
}

/** Backup codes are typed by people: dashes and case do not matter. */
const normalizeBackupCode = (code: string) => code.replace(/-/g, '').toUpperCase();

function newBackupCode(): string {
  const bytes = randomBytes(10);
  const code = [...bytes].map((byte) => BACKUP_CODE_ALPHABET[byte % BACKUP_CODE_ALPHABET.length]).join('');
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/**
 * TOTP two-factor sign-in (RFC 6238 via otplib): enrol (a pending secret), confirm with a code
 * (turns it on, issues backup codes), sign in with a code or a backup code, turn off with one.
 * Secrets are sealed at rest; each accepted time step is remembered, so a code works once.
 */
@Injectable()
export class TwoFactorService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AuthConfig,
    private readonly challenges: MfaChallenges,
    private readonly sessions: SessionsService,
    private readonly audit: AuditLog,
  ) {}

  async enroll(userId: string): Promise<TotpEnrollment> {
    const user = await this.row(this.dataSource.manager, userId);
    if (user.totp_enabled_at) throw new ConflictError('errors.mfa_already_enabled');
    const secret = generateSecret();
    await this.dataSource.query('UPDATE users SET totp_pending_secret_sealed = $2 WHERE id = $1', [userId, this.seal(userId, secret)]);
    const otpauthUri = generateURI({ issuer: this.config.TOTP_ISSUER, label: user.email, secret });
    return { secret, otpauthUri, qrCodeDataUrl: await toDataURL(otpauthUri, { errorCorrectionLevel: 'M', margin: 2, width: 256 }) };
  }

  async confirm(userId: string, code: string): Promise<ConfirmTotpPayload> {
    return this.dataSource.transaction(async (manager) => {
      const user = await this.row(manager, userId, true);
      if (user.totp_enabled_at) throw new ConflictError('errors.mfa_already_enabled');
      if (!user.totp_pending_secret_sealed) throw new ConflictError('errors.mfa_not_enrolled');
      const secret = this.open(userId, user.totp_pending_secret_sealed);
      const timeStep = await this.verifyTotp(secret, code, null);
      if (timeStep === null) throw BadUserInputError.field('code', 'errors.mfa_code_invalid');
      await manager.query(
        `UPDATE users SET totp_secret_sealed = totp_pending_secret_sealed, totp_pending_secret_sealed = NULL, totp_enabled_at = now(),
                totp_last_time_step = $2 WHERE id = $1`,
        [userId, timeStep],
      );
      const backupCodes = await this.replaceBackupCodes(manager, userId);
      await this.audit.record({ action: 'mfa.enabled', targetType: 'user', targetId: userId }, manager);
      return { backupCodes };
    });
  }

  async disable(userId: string, code: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const user = await this.row(manager, userId, true);
      if (!user.totp_enabled_at) throw new ConflictError('errors.mfa_not_enabled');
      if (!(await this.acceptCode(manager, user, code))) throw BadUserInputError.field('code', 'errors.mfa_code_invalid');
      await manager.query(
        `UPDATE users SET totp_secret_sealed = NULL, totp_pending_secret_sealed = NULL, totp_enabled_at = NULL, totp_last_time_step = NULL WHERE id = $1`,
        [userId],
      );
      await manager.query('DELETE FROM backup_codes WHERE user_id = $1', [userId]);
      await this.audit.record({ action: 'mfa.disabled', targetType: 'user', targetId: userId }, manager);
    });
  }

  /**
   * For sensitive acts of a signed-in user (password change, account deletion): with 2FA on, a
   * code or backup code must come with them (BAD_USER_INPUT on `code` otherwise); it is used up.
   */
  async assertSecondFactor(userId: string, code: string | undefined): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const user = await this.row(manager, userId, true);
      if (!user.totp_enabled_at) return;
      if (!code) throw BadUserInputError.field('code', 'errors.mfa_code_required');
      if (!(await this.acceptCode(manager, user, code))) throw BadUserInputError.field('code', 'errors.mfa_code_invalid');
    });
  }

  /** Ten new backup codes for a code or backup code; the old ones stop working. */
  async regenerateBackupCodes(userId: string, code: string): Promise<ConfirmTotpPayload> {
    return this.dataSource.transaction(async (manager) => {
      const user = await this.row(manager, userId, true);
      if (!user.totp_enabled_at) throw new ConflictError('errors.mfa_not_enabled');
      if (!(await this.acceptCode(manager, user, code))) throw BadUserInputError.field('code', 'errors.mfa_code_invalid');
      const backupCodes = await this.replaceBackupCodes(manager, userId);
      await this.audit.record({ action: 'mfa.backup_codes_regenerated', targetType: 'user', targetId: userId }, manager);
      return { backupCodes };
    });
  }

  /** Exchanges the challenge of a password sign-in and a code for a session. */
  async completeLogin(challengeToken: string, code: string): Promise<AuthPayload> {
    const userId = await this.challenges.userOf(challengeToken);
    if (!userId) throw new UnauthenticatedError('errors.mfa_challenge_invalid');
    const accepted = await this.dataSource.transaction(async (manager) => {
      const user = await this.row(manager, userId, true);
      return user.totp_enabled_at !== null && (await this.acceptCode(manager, user, code));
    });
    if (!accepted) {
      await this.audit.recordFailure({ action: 'login.mfa_failed', actorId: null, targetType: 'user', targetId: userId });
      if (!(await this.challenges.recordFailure(challengeToken))) throw new UnauthenticatedError('errors.mfa_challenge_invalid');
      throw BadUserInputError.field('code', 'errors.mfa_code_invalid');
    }
    await this.challenges.consume(challengeToken);
    const user = await this.dataSource.getRepository(User).findOneByOrFail({ id: userId });
    return this.sessions.signIn(user, 'mfa');
  }

  /** A current TOTP code not used before, or an unused backup code (then used up). */
  private async acceptCode(manager: EntityManager, user: TotpRow, code: string): Promise<boolean> {
    if (/^\d{6}$/.test(code) && user.totp_secret_sealed) {
      const lastStep = user.totp_last_time_step === null ? null : Number(user.totp_last_time_step);
      const timeStep = await this.verifyTotp(this.open(user.id, user.totp_secret_sealed), code, lastStep);
      if (timeStep === null) return false;
      await manager.query('UPDATE users SET totp_last_time_step = $2 WHERE id = $1', [user.id, timeStep]);
      return true;
    }
    const [, used]: [unknown, number] = await manager.query(
      'UPDATE backup_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL',
      [user.id, hashSecretToken(normalizeBackupCode(code))],
    );
    return used === 1;
  }

  private async replaceBackupCodes(manager: EntityManager, userId: string): Promise<string[]> {
    const backupCodes = Array.from({ length: BACKUP_CODE_COUNT }, newBackupCode);
    await manager.query('DELETE FROM backup_codes WHERE user_id = $1', [userId]);
    await manager.query('INSERT INTO backup_codes (user_id, code_hash) SELECT $1, unnest($2::text[])', [
      userId,
      backupCodes.map((backupCode) => hashSecretToken(normalizeBackupCode(backupCode))),
    ]);
    return backupCodes;
  }

  /** The time step the code belongs to, or null when it is wrong or not after `afterTimeStep`. */
  private async verifyTotp(secret: string, code: string, afterTimeStep: number | null): Promise<number | null> {
    const result = await verify({ secret, token: code, epochTolerance: EPOCH_TOLERANCE_SECONDS, ...(afterTimeStep === null ? {} : { afterTimeStep }) });
    return result.valid ? (result as { timeStep: number }).timeStep : null;
  }

  private async row(manager: EntityManager, userId: string, lock = false): Promise<TotpRow> {
    const [row]: TotpRow[] = await manager.query(
      `SELECT id, email, totp_secret_sealed, totp_pending_secret_sealed, totp_enabled_at, totp_last_time_step FROM users WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`,
      [userId],
    );
    if (!row) throw new UnauthenticatedError();
    return row;
  }

  private seal(userId: string, secret: string): string {
    return sealSecret(secret, this.config.SIGNING_KEY_SECRET, `totp:${userId}`);
  }

  private open(userId: string, sealed: string): string {
    return openSecret(sealed, this.config.SIGNING_KEY_SECRET, `totp:${userId}`);
  }
}
