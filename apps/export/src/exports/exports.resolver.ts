import { Args, Context, ID, Int, Mutation, Parent, Query, ResolveReference, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, OptionalUser, RequirePermissions } from '@multipult/auth';
import { Connection, ConnectionArgs, GraphQLContext, requestLoader } from '@multipult/graphql';
import { ExportConnection, CreateExportInput, CreateExportPayload } from './dto';
import { Export } from './export.entity';
import { ExportsService } from './exports.service';

@Resolver(() => Export)
export class ExportsResolver {
  constructor(private readonly service: ExportsService) {}

  @RequirePermissions('export:write')
  @Mutation(() => CreateExportPayload)
  async createExport(
    @CurrentTenant() tenantId: string,
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: CreateExportInput,
  ): Promise<CreateExportPayload> {
    return { export: await this.service.create(tenantId, principal.userId, input) };
  }

  @RequirePermissions('export:read')
  @Query(() => Export, { nullable: true, description: 'One of the current tenant\'s exports' })
  export(
    @CurrentTenant() tenantId: string,
    @Args('id', { type: () => ID }) id: string,
    @Context() context: GraphQLContext,
  ): Promise<Export | null> {
    return this.load(context, tenantId, id);
  }

  @RequirePermissions('export:read')
  @Query(() => ExportConnection, { description: 'The current tenant\'s exports, newest first' })
  exports(@CurrentTenant() tenantId: string, @Args() args: ConnectionArgs): Promise<Connection<Export>> {
    return this.service.list(tenantId, args);
  }

  /** References from other subgraphs, batched per request; only the caller's tenant is visible. */
  @ResolveReference()
  resolveReference(
    @Parent() reference: { id: string },
    @Context() context: GraphQLContext,
    @OptionalUser() principal: AuthPrincipal | null,
  ): Promise<Export | null> {
    if (!principal?.tenantId) return Promise.resolve(null);
    return this.load(context, principal.tenantId, reference.id);
  }

  private load(context: GraphQLContext, tenantId: string, id: string): Promise<Export | null> {
    return requestLoader(context, 'exports', (ids: readonly string[]) => this.service.findByIds(tenantId, ids)).load(id);
  }
}
