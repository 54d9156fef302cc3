import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import * as client from 'openid-client';
import { DataSource } from 'typeorm';
import { InjectConfig } from '@multipult/config';
import { AppError, BadUserInputError, ErrorCode, ForbiddenError, MfaRequiredError, UnauthenticatedError, isEmailAddress } from '@multipult/graphql';
import { FAST_STORE, FastStore } from '@multipult/redis';
import { AuditLog } from '../audit/audit-log.service';
import type { AuthConfig, OidcProviderConfig } from '../config';
import { AuthPayload } from '../sessions/dto';
import { MfaChallenges } from '../sessions/mfa-challenges';
import { SessionsService } from '../sessions/sessions.service';
import { User } from '../users/user.entity';
import { OidcProvider } from './dto';

/** What a started sign-in must find again when the user comes back (kept in Redis under its state). */
interface PendingOidcLogin {
  provider: string;
  redirectUri: string;
  codeVerifier: string;
  nonce: string;
}

const pendingKey = (state: string) => `auth:oidc-login:${state}`;

/**
 * Sign-in with OpenID providers (authorization code flow, PKCE S256, state and nonce checked by
 * openid-client). A provider's subject is linked to a user once; a first sign-in links to the
 * account with the same address when the provider vouches for it (email_verified), or creates one.
 */
@Injectable()
export class OidcService {
  private readonly logger = new Logger(OidcService.name);
  private readonly discovered = new Map<string, Promise<client.Configuration>>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AuthConfig,
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly sessions: SessionsService,
    private readonly mfaChallenges: MfaChallenges,
    private readonly audit: AuditLog,
  ) {}

  providers(): OidcProvider[] {
    return this.config.OIDC_PROVIDERS.map(({ id, name }) => ({ id, name }));
  }

  async start(providerId: string, redirectUri: string): Promise<{ authorizationUrl: string; expiresAt: Date }> {
    const provider = this.config.OIDC_PROVIDERS.find((candidate) => candidate.id === providerId);
    if (!provider) throw BadUserInputError.field('provider', 'errors.oidc_unknown_provider');
    if (!provider.redirectUris.includes(redirectUri)) throw BadUserInputError.field('redirectUri', 'errors.oidc_redirect_not_allowed');
    const configuration = await this.configuration(provider);
    const pending: PendingOidcLogin = { provider: provider.id, redirectUri, codeVerifier: client.randomPKCECodeVerifier(), nonce: client.randomNonce() };
    const state = client.randomState();
    await this.store.set(pendingKey(state), JSON.stringify(pending), this.config.OIDC_LOGIN_TTL_SECONDS * 1000);
    const authorizationUrl = client.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri,
      scope: provider.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce: pending.nonce,
    });
    return { authorizationUrl: authorizationUrl.href, expiresAt: new Date(Date.now() + this.config.OIDC_LOGIN_TTL_SECONDS * 1000) };
  }

  /** Finishes a sign-in from the URL the provider sent the user back to; each state works once. */
  async complete(callbackUrl: string): Promise<AuthPayload> {
    const url = new URL(callbackUrl);
    const state = url.searchParams.get('state');
    const stored = state ? await this.store.get(pendingKey(state)) : null;
    if (!state || !stored) {
      await this.audit.recordFailure({ action: 'oidc.state_refused', actorId: null });
      throw BadUserInputError.field('callbackUrl', 'errors.oidc_state_invalid');
    }
    await this.store.del(pendingKey(state));
    const pending = JSON.parse(stored) as PendingOidcLogin;
    const provider = this.config.OIDC_PROVIDERS.find((candidate) => candidate.id === pending.provider);
    if (!provider || `${url.origin}${url.pathname}` !== pending.redirectUri) throw BadUserInputError.field('callbackUrl', 'errors.oidc_state_invalid');

    let claims: { sub: string; email?: unknown; email_verified?: unknown; name?: unknown };
    try {
      const configuration = await this.configuration(provider);
      const tokens = await client.authorizationCodeGrant(configuration, url, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const idToken = tokens.claims() as client.IDToken;
      // Many providers put profile claims in userinfo only (the ID token then carries just `sub`).
      claims = idToken.email === undefined ? { ...(await client.fetchUserInfo(configuration, tokens.access_token, idToken.sub)), sub: idToken.sub } : idToken;
    } catch (error) {
      this.logger.warn({ provider: provider.id, err: error }, 'OpenID sign-in refused');
      await this.audit.recordFailure({ action: 'oidc.login_failed', actorId: null, details: { provider: provider.id } });
      throw new UnauthenticatedError('errors.oidc_failed');
    }
    const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : null;
    if (!email || claims.email_verified !== true) {
      await this.audit.recordFailure({ action: 'oidc.login_failed', actorId: null, details: { provider: provider.id, reason: 'email_unverified' } });
      throw new UnauthenticatedError('errors.oidc_email_unverified');
    }
    // A provider may vouch for an address our accounts (and the events about them) cannot hold, e.g. one without a domain.
    if (!isEmailAddress(email)) {
      await this.audit.recordFailure({ action: 'oidc.login_failed', actorId: null, details: { provider: provider.id, reason: 'email_invalid' } });
      throw new UnauthenticatedError('errors.oidc_email_invalid');
    }
    const name = typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 100) : email.split('@')[0];
    const user = await this.linkedUser(provider.id, claims.sub, email, name);
    if (user.erasureRequestedAt) throw new UnauthenticatedError('errors.invalid_credentials');
    if (user.bannedAt) throw new ForbiddenError('errors.account_banned');
    if (user.totpEnabledAt) throw new MfaRequiredError(await this.mfaChallenges.issue(user.id), this.mfaChallenges.ttlSeconds);
    return this.sessions.signIn(user, 'oidc');
  }

  /** The user of this provider account: already linked, linked now by verified address, or new. */
  private async linkedUser(provider: string, subject: string, email: string, displayName: string): Promise<User> {
    return this.dataSource.transaction(async (manager) => {
      const [linked]: { user_id: string }[] = await manager.query(
        'UPDATE user_identities SET last_login_at = now(), email = $3 WHERE provider = $1 AND subject = $2 RETURNING user_id',
        [provider, subject, email],
      ).then(([rows]: [{ user_id: string }[], number]) => rows);
      if (linked) return manager.findOneByOrFail(User, { id: linked.user_id });
      const existing = await manager.findOneBy(User, { email });
      const user = existing ?? (await this.sessions.registerFederated(manager, { email, displayName }));
      // The provider vouched for the address, as a confirmation link would.
      await manager.query('UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1', [user.id]);
      await manager.query(
        'INSERT INTO user_identities (provider, subject, user_id, email, last_login_at) VALUES ($1, $2, $3, $4, now())',
        [provider, subject, user.id, email],
      );
      await this.audit.record(
        { action: 'oidc.linked', actorId: user.id, targetType: 'user', targetId: user.id, details: { provider, created: !existing } },
        manager,
      );
      return manager.findOneByOrFail(User, { id: user.id });
    });
  }

  private configuration(provider: OidcProviderConfig): Promise<client.Configuration> {
    let configuration = this.discovered.get(provider.id);
    if (!configuration) {
      configuration = client
        .discovery(new URL(provider.issuer), provider.clientId, undefined, client.ClientSecretBasic(provider.clientSecret), {
          execute: this.config.OIDC_ALLOW_INSECURE_ISSUERS ? [client.allowInsecureRequests] : [],
        })
        .catch((error: unknown) => {
          // Not cached: the next sign-in tries the provider again.
          this.discovered.delete(provider.id);
          this.logger.error({ provider: provider.id, err: error }, 'OpenID provider discovery failed');
          throw new AppError(ErrorCode.UNAUTHENTICATED, 'errors.oidc_provider_unavailable');
        });
      this.discovered.set(provider.id, configuration);
    }
    return configuration;
  }
}
