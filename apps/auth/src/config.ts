import { z } from 'zod';
import { emailTokenSealEnv, envHelpers, requireEmailTokenSealKeyInProduction, retiredEnv } from '@multipult/config';
import { delegationEnv, requireInternalSecretInProduction } from '@multipult/auth';
import { filesEnv, requireFileLinkSecretInProduction } from '@multipult/files';
import { PRIVACY_PARTICIPANT_NAMES } from '@multipult/registry';
import { defineSubgraphConfig } from '@multipult/subgraph';

/** An OpenID provider users may sign in with (authorization code flow with PKCE). */
const oidcProviderSchema = z.object({
  /** Short name clients pass to startOidcLogin. */
  id: z.string().regex(/^[a-z0-9-]{1,40}$/),
  /** Shown to users, e.g. "Corporate SSO". */
  name: z.string().min(1),
  issuer: z.url(),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** Where the provider may send users back: the client apps' callback pages (exact match). */
  redirectUris: z.array(z.url()).min(1),
  scopes: z.string().default('openid email profile'),
});

export type OidcProviderConfig = z.infer<typeof oidcProviderSchema>;

const jsonArrayOf = <T extends z.ZodType>(item: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON array' });
        return z.NEVER;
      }
    })
    .pipe(z.array(item));

const DEVELOPMENT_SIGNING_KEY_SECRET = 'development-only-signing-key-secret-change-me';

export const authConfigSchema = defineSubgraphConfig(
  'auth',
  {
    ...emailTokenSealEnv,
    ...filesEnv,
    ...delegationEnv,
    JWT_ISSUER: z.string().default('multipult-auth'),
    JWT_AUDIENCE: z.string().default('multipult'),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(900),
    REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
    INVITATION_TTL_DAYS: z.coerce.number().int().min(1).max(90).default(7),
    EMAIL_VERIFICATION_TTL_HOURS: z.coerce.number().int().min(1).max(720).default(48),
    PASSWORD_RESET_TTL_MINUTES: z.coerce.number().int().min(5).max(1440).default(60),
    /** Verification or reset emails one user, address or client IP may ask for per hour. */
    EMAIL_TOKEN_REQUESTS_PER_HOUR: z.coerce.number().int().min(1).max(1000).default(5),
    /** Signed-in devices per user; signing in on one more ends the least recently used. */
    MAX_SESSIONS_PER_USER: z.coerce.number().int().min(1).max(1000).default(10),
    /** Failed sign-ins for one account from one client IP before that pair waits between attempts (no account lockout). */
    LOGIN_FAILURES_BEFORE_DELAY: z.coerce.number().int().min(1).max(1000).default(5),
    /** The first wait; each further failure doubles it, up to the maximum. */
    LOGIN_DELAY_BASE_SECONDS: z.coerce.number().int().min(1).max(3_600).default(1),
    LOGIN_DELAY_MAX_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
    /** How long a pair's failures are remembered, from its first (a correct password clears them sooner). */
    LOGIN_FAILURE_MEMORY_SECONDS: z.coerce.number().int().min(60).max(30 * 86_400).default(86_400),
    /** Failures for one account across all IPs per hour past which IPs new to the account wait progressively. */
    LOGIN_ACCOUNT_FAILURES_PER_HOUR: z.coerce.number().int().min(1).max(100_000).default(50),
    /** How long an IP the account signed in from stays exempt from that account-wide wait. */
    LOGIN_KNOWN_IP_DAYS: z.coerce.number().int().min(1).max(365).default(30),
    /** Failed sign-ins from one client IP across accounts within the window that block the IP (credential stuffing). */
    LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).max(100_000).default(50),
    LOGIN_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
    LOGIN_IP_BLOCK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
    ...retiredEnv({
      LOGIN_MAX_FAILURES_PER_ACCOUNT: 'LOGIN_FAILURES_BEFORE_DELAY (per account and IP) and LOGIN_ACCOUNT_FAILURES_PER_HOUR',
      LOGIN_LOCKOUT_SECONDS: 'LOGIN_DELAY_BASE_SECONDS and LOGIN_DELAY_MAX_SECONDS (accounts are no longer locked) and LOGIN_IP_BLOCK_SECONDS',
    }),
    /** Rows one audit CSV export holds at most (the rest is reported as truncated). */
    AUDIT_EXPORT_MAX_ROWS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
    /** Users signed in (or refreshed a token) within this many days count as active. */
    ACTIVE_USER_DAYS: z.coerce.number().int().min(1).max(365).default(30),
    /**
     * Services holding user data, each of which must confirm an erasure and send its part of an
     * export; `none` when auth runs alone (an empty variable counts as unset: the default applies).
     */
    PRIVACY_PARTICIPANTS: envHelpers.commaList.default([...PRIVACY_PARTICIPANT_NAMES]),
    /** After this long without every confirmation an erasure is reported overdue (it still completes when they arrive). */
    ERASURE_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(30 * 86_400).default(86_400),
    /** After this long an export is assembled from the parts that arrived, naming the missing services. */
    DATA_EXPORT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(3_600),
    DATA_EXPORT_RETENTION_DAYS: z.coerce.number().int().min(1).max(90).default(7),
    DATA_EXPORTS_PER_DAY: z.coerce.number().int().min(1).max(100).default(3),
    /** How often the privacy sweep (overdue erasures, timed-out and expired exports) runs, once across replicas (a recurring job). */
    PRIVACY_SWEEP_SECONDS: z.coerce.number().min(0.1).max(3_600).default(60),
    /** How long a sign-in waits for its second factor, and how many wrong codes it tolerates. */
    MFA_CHALLENGE_TTL_SECONDS: z.coerce.number().int().min(30).max(1800).default(300),
    MFA_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
    /** Issuer shown by authenticator apps next to the account. */
    TOTP_ISSUER: z.string().min(1).default('Multipult'),
    /** Live API keys one user may hold, and how often every key's standing is republished to Redis (once across replicas). */
    API_KEYS_PER_USER: z.coerce.number().int().min(1).max(1000).default(25),
    API_KEY_SYNC_SECONDS: z.coerce.number().int().min(5).max(86_400).default(300),
    /** OpenID providers as a JSON array of { id, name, issuer, clientId, clientSecret, redirectUris, scopes? }. */
    OIDC_PROVIDERS: jsonArrayOf(oidcProviderSchema).default([]),
    /** Plain-HTTP issuers (local test providers); refused in production. */
    OIDC_ALLOW_INSECURE_ISSUERS: envHelpers.booleanFlag.default(false),
    /** How long a started OpenID sign-in waits for the user to come back. */
    OIDC_LOGIN_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(600),
    /** Encrypts the private signing keys at rest (AES-256-GCM); at least 32 characters. */
    SIGNING_KEY_SECRET: z.string().min(32, 'must be at least 32 characters').default(DEVELOPMENT_SIGNING_KEY_SECRET),
    /** How often each instance reloads signing keys, so a rotation reaches every replica. */
    SIGNING_KEY_RELOAD_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
    /** Argon2id cost (OWASP: 19 MiB, 2 passes, 1 lane). */
    ARGON2_MEMORY_KIB: z.coerce.number().int().min(8192).max(1_048_576).default(19_456),
    ARGON2_TIME_COST: z.coerce.number().int().min(1).max(10).default(2),
  },
  (config, ctx) => {
    requireEmailTokenSealKeyInProduction(config, ctx);
    if (config.NODE_ENV === 'production' && config.OIDC_ALLOW_INSECURE_ISSUERS) {
      ctx.addIssue({ code: 'custom', path: ['OIDC_ALLOW_INSECURE_ISSUERS'], message: 'must be false in production' });
    }
    if (new Set(config.OIDC_PROVIDERS.map((provider) => provider.id)).size !== config.OIDC_PROVIDERS.length) {
      ctx.addIssue({ code: 'custom', path: ['OIDC_PROVIDERS'], message: 'provider ids must be unique' });
    }
    if (config.NODE_ENV === 'production' && config.SIGNING_KEY_SECRET === DEVELOPMENT_SIGNING_KEY_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['SIGNING_KEY_SECRET'], message: 'must be set in production' });
    }
    if (config.LOGIN_DELAY_BASE_SECONDS > config.LOGIN_DELAY_MAX_SECONDS) {
      ctx.addIssue({ code: 'custom', path: ['LOGIN_DELAY_BASE_SECONDS'], message: 'must not exceed LOGIN_DELAY_MAX_SECONDS' });
    }
    requireFileLinkSecretInProduction(config, ctx);
    requireInternalSecretInProduction(config, ctx);
  },
);

export type AuthConfig = z.infer<typeof authConfigSchema>;
