import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CurrentTenant, RequirePermissions } from '@multipult/auth';
import { Connection, ConnectionArgs } from '@multipult/graphql';
import { Author } from './author.entity';
import { AuthorsService } from './authors.service';
import { AuthorConnection, CreateAuthorInput, CreateAuthorPayload } from './dto';

@Resolver(() => Author)
export class AuthorsResolver {
  constructor(private readonly authorsService: AuthorsService) {}

  @RequirePermissions('content:write')
  @Mutation(() => CreateAuthorPayload)
  async createAuthor(@CurrentTenant() tenantId: string, @Args('input') input: CreateAuthorInput): Promise<CreateAuthorPayload> {
    return { author: await this.authorsService.create(tenantId, input) };
  }

  @RequirePermissions('content:read')
  @Query(() => AuthorConnection, { description: 'Authors of the current tenant' })
  authors(@CurrentTenant() tenantId: string, @Args() args: ConnectionArgs): Promise<Connection<Author>> {
    return this.authorsService.list(tenantId, args);
  }
}
