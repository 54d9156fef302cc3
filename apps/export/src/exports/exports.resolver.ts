import { Args, Context, Mutation, Parent, Query, ResolveField, ResolveReference, Resolver, Subscription } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, OptionalUser, RequirePermissions } from '@multipult/auth';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { Connection, ConnectionArgs, GraphQLContext, byKeys, requestLoader } from '@multipult/graphql';
import { RealtimeContext, connectionOf } from '@multipult/realtime';
import { JiraIssueLink } from '../jira/jira-issue-link.entity';
import { ExportFileLink } from '../templates/dto';
import { ExportConnection, ExportIdArgs, ExportItemConnection, ExportPayload, ExportsArgs, RequestExportInput } from './dto';
import { ExportFeed } from './export-feed';
import { ExportFiles } from './export-files';
import { ExportItem } from './export-item.entity';
import { Export } from './export.entity';
import { ExportsService } from './exports.service';

@Resolver(() => Export)
export class ExportsResolver {
  constructor(
    private readonly service: ExportsService,
    private readonly files: ExportFiles,
    private readonly feed: ExportFeed,
  ) {}

  @RequirePermissions('export:create')
  @Mutation(() => ExportPayload, { description: 'Queues an export of documents the caller can read; follow it with exportProgress' })
  async requestExport(
    @CurrentTenant() tenantId: string,
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: RequestExportInput,
  ): Promise<ExportPayload> {
    return { export: await this.service.request({ tenantId, userId: principal.userId }, input) };
  }

  @RequirePermissions('export:create')
  @Mutation(() => ExportPayload, { description: 'Stops a queued or running export (CONFLICT once it has finished)' })
  async cancelExport(
    @CurrentTenant() tenantId: string,
    @CurrentUser() principal: AuthPrincipal,
    @Args() { id }: ExportIdArgs,
  ): Promise<ExportPayload> {
    return { export: await this.service.cancel(principal, tenantId, id) };
  }

  @RequirePermissions('export:create')
  @Mutation(() => ExportFileLink, { description: 'A short-lived signed link to download the produced file (through the gateway)' })
  async exportDownloadLink(
    @CurrentTenant() tenantId: string,
    @CurrentUser() principal: AuthPrincipal,
    @Args() { id }: ExportIdArgs,
  ): Promise<ExportFileLink> {
    return this.files.link(await this.service.visible(principal, tenantId, id), principal.userId);
  }

  @RequirePermissions('export:create')
  @Query(() => Export, { description: "One export: the caller's own, or any of the tenant's for export administrators; NOT_FOUND otherwise" })
  export(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() { id }: ExportIdArgs): Promise<Export> {
    return this.service.visible(principal, tenantId, id);
  }

  @RequirePermissions('export:create')
  @Query(() => ExportConnection, { description: "The caller's exports (or every member's, with allMembers), newest first" })
  exports(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() args: ExportsArgs): Promise<Connection<Export>> {
    return this.service.list(principal, tenantId, args);
  }

  @RequirePermissions('export:create')
  @Subscription(() => Export, {
    resolve: (record: Export) => record,
    description: 'The export now and at each change until it finishes; over /graphql/ws only',
  })
  async exportProgress(
    @CurrentTenant() tenantId: string,
    @CurrentUser() principal: AuthPrincipal,
    @Context() context: RealtimeContext,
    @Args() { id }: ExportIdArgs,
  ) {
    connectionOf(context);
    return this.feed.follow(await this.service.visible(principal, tenantId, id));
  }

  @ResolveField(() => ExportItemConnection, { description: 'Its documents in export order, with how each went' })
  items(@Parent() record: Export, @Args() args: ConnectionArgs): Promise<Connection<ExportItem>> {
    return this.service.items(record.id, args);
  }

  /** References from other subgraphs, batched per request; only what the caller may see. */
  @ResolveReference()
  resolveReference(
    @Parent() reference: { id: string },
    @Context() context: GraphQLContext,
    @OptionalUser() principal: AuthPrincipal | null,
  ): Promise<Export | null> {
    if (!principal?.tenantId) return Promise.resolve(null);
    return this.load(context, principal, principal.tenantId, reference.id);
  }

  private load(context: GraphQLContext, principal: AuthPrincipal, tenantId: string, id: string): Promise<Export | null> {
    return requestLoader(context, 'exports', (ids: readonly string[]) => this.service.findVisibleByIds(principal, tenantId, ids)).load(id);
  }
}

@Resolver(() => ExportItem)
export class ExportItemsResolver {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @ResolveField(() => String, { nullable: true, description: "Its JIRA issue's status, as JIRA's webhooks last reported it" })
  jiraStatus(@Parent() item: ExportItem, @Context() context: GraphQLContext): Promise<string | null> {
    if (!item.jiraIssueKey) return Promise.resolve(null);
    return requestLoader(context, 'exportItemJiraStatus', async (ids: readonly string[]) => {
      const links = await this.dataSource.getRepository(JiraIssueLink).findBy({ exportItemId: In([...ids]) });
      return byKeys(ids, links, (link) => link.exportItemId).map((link) => link?.status ?? null);
    }).load(item.id);
  }
}
