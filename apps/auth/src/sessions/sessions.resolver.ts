import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentUser, Public } from '@multipult/auth';
import { AuthPayload, LoginInput, LogoutPayload, RefreshTokensInput, RegisterInput } from './dto';
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
    return { sessionRevoked: await this.sessions.logout(principal.sessionId) };
  }
}
