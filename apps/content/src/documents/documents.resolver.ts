import { Args, Context, Mutation, Parent, Query, ResolveField, ResolveReference, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, OptionalUser, RequirePermissions } from '@multipult/auth';
import { Connection, ConnectionArgs, GraphQLContext, requestLoader } from '@multipult/graphql';
import { Author } from '../authors/author.entity';
import { Tag } from '../tags/tag.entity';
import { UserReference } from '../users/user.reference';
import { canEdit } from './document-access';
import { DocumentVersion } from './document-version.entity';
import { Document } from './document.entity';
import {
  CreateDocumentInput,
  DeleteDocumentPayload,
  DocumentArgs,
  DocumentConnection,
  DocumentIdInput,
  DocumentPayload,
  UpdateDocumentInput,
} from './dto';
import { DocumentsService } from './documents.service';

@Resolver(() => Document)
export class DocumentsResolver {
  constructor(private readonly documentsService: DocumentsService) {}

  @RequirePermissions('content:write')
  @Mutation(() => DocumentPayload, { description: 'Creates a draft in the current tenant' })
  async createDocument(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() tenantId: string,
    @Args('input') input: CreateDocumentInput,
  ): Promise<DocumentPayload> {
    return { document: await this.documentsService.create(principal, tenantId, input) };
  }

  @RequirePermissions('content:write')
  @Mutation(() => DocumentPayload, { description: 'Changes a document and records a new version' })
  async updateDocument(@CurrentUser() principal: AuthPrincipal, @Args('input') input: UpdateDocumentInput): Promise<DocumentPayload> {
    return { document: await this.documentsService.update(principal, input) };
  }

  @RequirePermissions('content:publish')
  @Mutation(() => DocumentPayload)
  async publishDocument(@CurrentUser() principal: AuthPrincipal, @Args('input') input: DocumentIdInput): Promise<DocumentPayload> {
    return { document: await this.documentsService.publish(principal, input.id) };
  }

  @RequirePermissions('content:write')
  @Mutation(() => DocumentPayload)
  async archiveDocument(@CurrentUser() principal: AuthPrincipal, @Args('input') input: DocumentIdInput): Promise<DocumentPayload> {
    return { document: await this.documentsService.archive(principal, input.id) };
  }

  @RequirePermissions('content:write')
  @Mutation(() => DeleteDocumentPayload)
  async deleteDocument(@CurrentUser() principal: AuthPrincipal, @Args('input') input: DocumentIdInput): Promise<DeleteDocumentPayload> {
    return { deletedDocumentId: await this.documentsService.delete(principal, input.id) };
  }

  @RequirePermissions('content:read')
  @Query(() => Document)
  document(@CurrentUser() principal: AuthPrincipal, @Args() args: DocumentArgs): Promise<Document> {
    return this.documentsService.getReadable(principal, args.id);
  }

  @RequirePermissions('content:read')
  @Query(() => DocumentConnection, { description: 'Documents of the current tenant the caller may read, newest first' })
  documents(
    @CurrentUser() principal: AuthPrincipal,
    // Only to refuse callers without a tenant (FORBIDDEN); the principal carries the same tenant.
    @CurrentTenant() _tenantId: string,
    @Args() args: ConnectionArgs,
  ): Promise<Connection<Document>> {
    return this.documentsService.list(principal, args);
  }

  @ResolveField(() => [Author])
  authors(@Parent() document: Document, @Context() context: GraphQLContext): Promise<Author[]> {
    return requestLoader(context, 'documentAuthors', (ids: readonly string[]) => this.documentsService.authorsOf(ids))
      .load(document.id)
      .then((authors) => authors ?? []);
  }

  @ResolveField(() => [Tag])
  tags(@Parent() document: Document, @Context() context: GraphQLContext): Promise<Tag[]> {
    return requestLoader(context, 'documentTags', (ids: readonly string[]) => this.documentsService.tagsOf(ids))
      .load(document.id)
      .then((tags) => tags ?? []);
  }

  @ResolveField(() => UserReference, { description: 'The user who created the document' })
  owner(@Parent() document: Document): UserReference {
    return { id: document.ownerId };
  }

  @ResolveField(() => [DocumentVersion], { description: 'Every version, newest first; for those who may edit it' })
  async versions(@Parent() document: Document, @CurrentUser() principal: AuthPrincipal): Promise<DocumentVersion[]> {
    return canEdit(principal, document) ? this.documentsService.versions(document.id) : [];
  }

  @ResolveReference()
  resolveReference(
    @Parent() reference: { id: string },
    @Context() context: GraphQLContext,
    @OptionalUser() principal: AuthPrincipal | null,
  ): Promise<Document | null> {
    return requestLoader(context, 'documents', (ids: readonly string[]) => this.documentsService.findReadableByIds(principal, ids)).load(
      reference.id,
    );
  }
}

@Resolver(() => UserReference)
export class UserDocumentsResolver {
  constructor(private readonly documentsService: DocumentsService) {}

  @ResolveField(() => DocumentConnection, { description: "The user's documents in the current tenant that the caller may read" })
  documents(
    @Parent() user: UserReference,
    @CurrentUser() principal: AuthPrincipal,
    @Args() args: ConnectionArgs,
  ): Promise<Connection<Document>> {
    return this.documentsService.list(principal, args, user.id);
  }

  @ResolveReference()
  resolveReference(@Parent() reference: { id: string }): UserReference {
    return { id: reference.id };
  }
}
