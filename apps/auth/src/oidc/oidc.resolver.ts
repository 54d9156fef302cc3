import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Public } from '@multipult/auth';
import { AuthPayload } from '../sessions/dto';
import { markAsViewer } from '../users/viewer';
import { CompleteOidcLoginInput, OidcProvider, StartOidcLoginInput, StartOidcLoginPayload } from './dto';
import { OidcService } from './oidc.service';

@Resolver()
export class OidcResolver {
  constructor(private readonly oidc: OidcService) {}

  @Public()
  @Query(() => [OidcProvider], { description: 'OpenID providers users may sign in with' })
  oidcProviders(): OidcProvider[] {
    return this.oidc.providers();
  }

  @Public()
  @Mutation(() => StartOidcLoginPayload, { description: 'Starts signing in with an OpenID provider (authorization code flow with PKCE)' })
  startOidcLogin(@Args('input') input: StartOidcLoginInput): Promise<StartOidcLoginPayload> {
    return this.oidc.start(input.provider, input.redirectUri);
  }

  @Public()
  @Mutation(() => AuthPayload, { description: 'Finishes it with the URL the provider sent the user back to; MFA_REQUIRED when 2FA is on' })
  async completeOidcLogin(@Args('input') input: CompleteOidcLoginInput): Promise<AuthPayload> {
    const payload = await this.oidc.complete(input.callbackUrl);
    return { ...payload, user: markAsViewer(payload.user) };
  }
}
