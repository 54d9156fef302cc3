import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentUser, Public } from '@multipult/auth';
import {
  AuthPayload,
  DeviceSession,
  LoginInput,
  LogoutPayload,
  RefreshTokensInput,
  RegisterInput,
  RevokeOtherSessionsPayload,
  RevokeSessionInput,
  RevokeSessionPayload,
} from './dto';
import { SessionsService } from './sessions.service';
import { markAsViewer } from '../users/viewer';

const withViewer = (payload: AuthPayload): AuthPayload => ({ ...payload, user: markAsViewer(payload.user) });

@Resolver()
export class SessionsResolver {
  constructor(private readonly sessions: SessionsService) {}

  @Public()
  @Mutation(() => AuthPayload, { description: 'Creates an account and signs it in' })
  register(@Args('input') input: RegisterInput): Promise<AuthPayload> {
    return this.sessions.register(input).then(withViewer);
  }

  @Public()
  @Mutation(() => AuthPayload, { description: 'Signs in with email and password, opening a new session' })
  login(@Args('input') input: LoginInput): Promise<AuthPayload> {
    return this.sessions.login(input).then(withViewer);
  }

  @Public()
  @Mutation(() => AuthPayload, {
    description: 'Exchanges a refresh token (single use) for a new token pair; reusing one ends its session',
  })
  refreshTokens(@Args('input') input: RefreshTokensInput): Promise<AuthPayload> {
    return this.sessions.refresh(input.refreshToken).then(withViewer);
  }

  @Mutation(() => LogoutPayload, { description: 'Ends the current session; its tokens stop working at once' })
  async logout(@CurrentUser() principal: AuthPrincipal): Promise<LogoutPayload> {
    return { sessionRevoked: await this.sessions.logout(principal.userId, principal.sessionId) };
  }

  @Query(() => [DeviceSession], { description: "The caller's signed-in devices, most recently used first" })
  async mySessions(@CurrentUser() principal: AuthPrincipal): Promise<DeviceSession[]> {
    const sessions = await this.sessions.listSessions(principal.userId);
    return sessions.map((session) => ({ ...session, current: session.id === principal.sessionId }));
  }

  @Mutation(() => RevokeSessionPayload, { description: "Signs out one of the caller's devices; its tokens stop working at once" })
  async revokeSession(@CurrentUser() principal: AuthPrincipal, @Args('input') input: RevokeSessionInput): Promise<RevokeSessionPayload> {
    await this.sessions.revokeOwnSession(principal.userId, input.sessionId);
    return { revokedSessionId: input.sessionId };
  }

  @Mutation(() => RevokeOtherSessionsPayload, { description: 'Signs out every device of the caller but this one' })
  async revokeOtherSessions(@CurrentUser() principal: AuthPrincipal): Promise<RevokeOtherSessionsPayload> {
    return { revokedCount: await this.sessions.revokeOtherSessions(principal.userId, principal.sessionId) };
  }
}
