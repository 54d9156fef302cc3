import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectConfig } from '@multipult/config';
import { AppError, ErrorCode } from '@multipult/graphql';
import { FAST_STORE, FastStore } from '@multipult/redis';
import type { AuthConfig } from '../config';

const ACCOUNT_CEILING_WINDOW_MS = 3_600_000;
/** How long an unfinished password check (a crashed instance) holds its pair's turn at most. */
const CHECK_TURN_MS = 30_000;

/** What a delay applies to: one account from one client IP, one account from IPs new to it, or one client IP. */
type DelayScope = 'pair' | 'account' | 'ip';

const keys = {
  pairFailures: (email: string, ip: string) => `auth:login-failures:pair:${email}:${ip}`,
  accountFailures: (email: string) => `auth:login-failures:account:${email}`,
  accountExcess: (email: string) => `auth:login-excess:account:${email}`,
  ipFailures: (ip: string) => `auth:login-failures:ip:${ip}`,
  delay: (scope: DelayScope, subject: string) => `auth:login-delay:${scope}:${subject}`,
  checkTurn: (email: string, ip: string) => `auth:login-check:${email}:${ip}`,
  knownIp: (email: string, ip: string) => `auth:login-known-ip:${email}:${ip}`,
};

export class LoginThrottledError extends AppError {
  constructor(retryAfterSeconds: number) {
    super(ErrorCode.RATE_LIMITED, 'errors.login_throttled', { retryAfterSeconds: Math.max(1, retryAfterSeconds) });
  }
}

/** A failure's consequence: the delay it started (seconds) per scope, and the error for the caller. */
export interface ThrottledFailure {
  error: LoginThrottledError;
  delays: Partial<Record<DelayScope, number>>;
}

/**
 * Brute-force protection without account lockout (OWASP Authentication and Credential Stuffing
 * cheat sheets), shared by every auth instance through Redis. Everything is keyed by the address
 * typed, known account or not, so the answers reveal nothing about which accounts exist.
 *
 * - Per account and client IP: after LOGIN_FAILURES_BEFORE_DELAY failures, each further failure
 *   makes that pair wait LOGIN_DELAY_BASE_SECONDS · 2^k (capped at LOGIN_DELAY_MAX_SECONDS). The
 *   owner elsewhere is not affected; a correct password clears the pair.
 * - Per account across IPs: past LOGIN_ACCOUNT_FAILURES_PER_HOUR, sign-ins from IPs the account
 *   has not signed in from within LOGIN_KNOWN_IP_DAYS wait a delay growing the same way, so a
 *   distributed guesser gets one guess per delay while the owner's usual IPs go straight through.
 * - Per client IP across accounts (credential stuffing): LOGIN_MAX_FAILURES_PER_IP within
 *   LOGIN_FAILURE_WINDOW_SECONDS block the IP for LOGIN_IP_BLOCK_SECONDS.
 *
 * Parallel password checks of one account and IP run only while all of them failing would stay
 * within the pair's free failures, so a burst cannot slip more guesses in before they are counted.
 * A password reset clears the account's counters.
 */
@Injectable()
export class LoginThrottle {
  private readonly logger = new Logger(LoginThrottle.name);

  constructor(
    @InjectConfig() private readonly config: AuthConfig,
    @Inject(FAST_STORE) private readonly store: FastStore,
  ) {}

  /**
   * Takes a turn of this pair to check a password, refusing with LoginThrottledError while a delay
   * applies or when the checks already running could use up the pair's free failures; answers the
   * release to call once checked.
   */
  async beginCheck(email: string, clientIp: string | undefined): Promise<() => Promise<void>> {
    const ip = clientIp ?? 'unknown';
    const [pairUntil, accountUntil, ipUntil, known, pairFailures] = await this.store.getMany([
      keys.delay('pair', `${email}:${ip}`),
      keys.delay('account', email),
      keys.delay('ip', ip),
      keys.knownIp(email, ip),
      keys.pairFailures(email, ip),
    ]);
    const waitUntil = Math.max(Number(pairUntil ?? 0), known ? 0 : Number(accountUntil ?? 0), clientIp ? Number(ipUntil ?? 0) : 0);
    const now = Date.now();
    if (waitUntil > now) throw new LoginThrottledError(Math.ceil((waitUntil - now) / 1000));
    // Checks of one pair may run side by side (two devices signing in together) only while all of
    // them failing would stay within the pair's free failures: a burst gets no more guesses in
    // before they are counted than one guess after another would.
    const turnKey = keys.checkTurn(email, ip);
    const inFlight = await this.store.increment(turnKey, 1, CHECK_TURN_MS);
    const release = async () => void (await this.store.increment(turnKey, -1, CHECK_TURN_MS));
    if (inFlight > 1 && Number(pairFailures ?? 0) + inFlight > this.config.LOGIN_FAILURES_BEFORE_DELAY) {
      await release();
      throw new LoginThrottledError(1);
    }
    return release;
  }

  /** Counts a failed password; answers the delay it started, if any, with the error to throw. */
  async recordFailure(email: string, clientIp: string | undefined): Promise<ThrottledFailure | null> {
    const ip = clientIp ?? 'unknown';
    const delays: ThrottledFailure['delays'] = {};

    const pairFailures = await this.store.increment(keys.pairFailures(email, ip), 1, this.config.LOGIN_FAILURE_MEMORY_SECONDS * 1000);
    if (pairFailures >= this.config.LOGIN_FAILURES_BEFORE_DELAY) {
      delays.pair = await this.startDelay('pair', `${email}:${ip}`, this.progressiveDelaySeconds(pairFailures - this.config.LOGIN_FAILURES_BEFORE_DELAY), clientIp);
    }

    const accountWindow = await this.store.hitSlidingWindow(keys.accountFailures(email), this.config.LOGIN_ACCOUNT_FAILURES_PER_HOUR, ACCOUNT_CEILING_WINDOW_MS);
    if (!accountWindow.allowed) {
      const excess = await this.store.increment(keys.accountExcess(email), 1, ACCOUNT_CEILING_WINDOW_MS);
      const seconds = await this.startDelay('account', email, this.progressiveDelaySeconds(excess - 1), clientIp);
      // The account-wide delay holds back IPs new to the account only.
      if (!(await this.store.exists(keys.knownIp(email, ip)))) delays.account = seconds;
    }

    if (clientIp) {
      const ipWindow = await this.store.hitSlidingWindow(keys.ipFailures(ip), this.config.LOGIN_MAX_FAILURES_PER_IP, this.config.LOGIN_FAILURE_WINDOW_SECONDS * 1000);
      if (!ipWindow.allowed || ipWindow.remaining === 0) {
        delays.ip = await this.startDelay('ip', ip, this.config.LOGIN_IP_BLOCK_SECONDS, clientIp);
        await this.store.del(keys.ipFailures(ip));
      }
    }

    const longest = Math.max(0, ...Object.values(delays));
    return longest > 0 ? { error: new LoginThrottledError(longest), delays } : null;
  }

  /** A correct password clears the pair's failures (not the IP's or the account's: one success vouches for neither). */
  async recordSuccess(email: string, clientIp: string | undefined): Promise<void> {
    await this.store.del(keys.pairFailures(email, clientIp ?? 'unknown'));
  }

  /** A completed sign-in makes the IP known to the account, exempt from the account-wide delay for LOGIN_KNOWN_IP_DAYS. */
  async rememberSignIn(email: string, clientIp: string | undefined): Promise<void> {
    if (clientIp) await this.store.set(keys.knownIp(email, clientIp), '1', this.config.LOGIN_KNOWN_IP_DAYS * 86_400_000);
  }

  /**
   * After a password reset: the account-wide count and delay start over, and the IP the reset
   * came from (it proved the mailbox) is cleared and known. Other IPs' pairs keep their delays:
   * they are guessers' more often than not, and the new password owes them no fresh attempts.
   */
  async clearAfterReset(email: string, clientIp: string | undefined): Promise<void> {
    const ip = clientIp ?? 'unknown';
    await this.store.writeMany([
      { key: keys.accountFailures(email), value: null },
      { key: keys.accountExcess(email), value: null },
      { key: keys.delay('account', email), value: null },
      { key: keys.pairFailures(email, ip), value: null },
      { key: keys.delay('pair', `${email}:${ip}`), value: null },
    ]);
    await this.rememberSignIn(email, clientIp);
  }

  /** LOGIN_DELAY_BASE_SECONDS doubled `step` times, capped at LOGIN_DELAY_MAX_SECONDS. */
  private progressiveDelaySeconds(step: number): number {
    return Math.min(this.config.LOGIN_DELAY_MAX_SECONDS, this.config.LOGIN_DELAY_BASE_SECONDS * 2 ** Math.min(step, 40));
  }

  private async startDelay(scope: DelayScope, subject: string, seconds: number, clientIp: string | undefined): Promise<number> {
    await this.store.set(keys.delay(scope, subject), String(Date.now() + seconds * 1000), seconds * 1000);
    // Addresses typed are not logged (they may be anyone's); the audit entry names the account when there is one.
    this.logger.warn({ scope, ip: clientIp, delaySeconds: seconds }, 'sign-in delayed after repeated failures');
    return seconds;
  }
}
