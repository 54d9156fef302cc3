import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser } from '@multipult/auth';
import { ForbiddenError } from '@multipult/graphql';
import { ApiKeysService } from './api-keys.service';
import { ApiKey, ApiKeyInput, CreateApiKeyInput, CreateApiKeyPayload, RevokeApiKeyPayload } from './dto';

/** Signed-in people manage their own keys in the current tenant; a key cannot manage keys. */
function assertSession(principal: AuthPrincipal): void {
  if (principal.credential === 'api_key') throw new ForbiddenError('errors.api_key_not_allowed');
}

@Resolver(() => ApiKey)
export class ApiKeysResolver {
  constructor(private readonly keys: ApiKeysService) {}

  @Mutation(() => CreateApiKeyPayload, { description: 'Creates a key acting as the caller in the current tenant, limited to the given scopes' })
  createApiKey(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() tenantId: string,
    @Args('input') input: CreateApiKeyInput,
  ): Promise<CreateApiKeyPayload> {
    assertSession(principal);
    return this.keys.create(principal.userId, tenantId, principal.permissions, input);
  }

  @Query(() => [ApiKey], { description: "The caller's keys in the current tenant, newest first (the keys themselves are never shown again)" })
  apiKeys(@CurrentUser() principal: AuthPrincipal, @CurrentTenant() tenantId: string): Promise<ApiKey[]> {
    assertSession(principal);
    return this.keys.list(principal.userId, tenantId);
  }

  @Mutation(() => RevokeApiKeyPayload, { description: 'Revokes one of the caller’s keys; it stops working at once' })
  async revokeApiKey(@CurrentUser() principal: AuthPrincipal, @CurrentTenant() tenantId: string, @Args('input') input: ApiKeyInput): Promise<RevokeApiKeyPayload> {
    assertSession(principal);
    return { apiKey: await this.keys.revoke(principal.userId, tenantId, input.keyId) };
  }
}
