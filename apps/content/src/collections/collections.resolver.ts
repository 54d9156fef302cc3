import { Args, Context, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, RequirePermissions } from '@multipult/auth';
import { Connection, ConnectionArgs, GraphQLContext, requestLoader } from '@multipult/graphql';
import { Document } from '../documents/document.entity';
import { DocumentConnection } from '../documents/dto';
import { UserReference } from '../users/user.reference';
import { Collection } from './collection.entity';
import { CollectionsService } from './collections.service';
import {
  AddDocumentToCollectionInput,
  CollectionArgs,
  CollectionConnection,
  CollectionDocumentInput,
  CollectionIdInput,
  CollectionPayload,
  CreateCollectionInput,
  DeleteCollectionPayload,
  MoveDocumentInCollectionInput,
  ReorderCollectionInput,
  UpdateCollectionInput,
} from './dto';

@Resolver(() => Collection)
export class CollectionsResolver {
  constructor(private readonly collectionsService: CollectionsService) {}

  @RequirePermissions('content:write')
  @Mutation(() => CollectionPayload)
  async createCollection(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() tenantId: string,
    @Args('input') input: CreateCollectionInput,
  ): Promise<CollectionPayload> {
    return { collection: await this.collectionsService.create(principal, tenantId, input) };
  }

  @RequirePermissions('content:write')
  @Mutation(() => CollectionPayload)
  async updateCollection(@CurrentUser() principal: AuthPrincipal, @Args('input') input: UpdateCollectionInput): Promise<CollectionPayload> {
    return { collection: await this.collectionsService.update(principal, input) };
  }

  @RequirePermissions('content:write')
  @Mutation(() => DeleteCollectionPayload)
  async deleteCollection(@CurrentUser() principal: AuthPrincipal, @Args('input') input: CollectionIdInput): Promise<DeleteCollectionPayload> {
    return { deletedCollectionId: await this.collectionsService.delete(principal, input.id) };
  }

  @RequirePermissions('content:write')
  @Mutation(() => CollectionPayload, { description: 'Adds a readable document at a position (appended by default)' })
  async addDocumentToCollection(
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: AddDocumentToCollectionInput,
  ): Promise<CollectionPayload> {
    return { collection: await this.collectionsService.addDocument(principal, input) };
  }

  @RequirePermissions('content:write')
  @Mutation(() => CollectionPayload)
  async removeDocumentFromCollection(
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: CollectionDocumentInput,
  ): Promise<CollectionPayload> {
    return { collection: await this.collectionsService.removeDocument(principal, input) };
  }

  @RequirePermissions('content:write')
  @Mutation(() => CollectionPayload)
  async moveDocumentInCollection(
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: MoveDocumentInCollectionInput,
  ): Promise<CollectionPayload> {
    return { collection: await this.collectionsService.moveDocument(principal, input) };
  }

  @RequirePermissions('content:write')
  @Mutation(() => CollectionPayload, { description: 'Replaces the whole order; documentIds must be exactly the current documents' })
  async reorderCollection(@CurrentUser() principal: AuthPrincipal, @Args('input') input: ReorderCollectionInput): Promise<CollectionPayload> {
    return { collection: await this.collectionsService.reorder(principal, input) };
  }

  @RequirePermissions('content:read')
  @Query(() => Collection)
  collection(@CurrentUser() principal: AuthPrincipal, @Args() args: CollectionArgs): Promise<Collection> {
    return this.collectionsService.get(principal, args.id);
  }

  @RequirePermissions('content:read')
  @Query(() => CollectionConnection, { description: 'Collections of the current tenant, newest first' })
  collections(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() _tenantId: string,
    @Args() args: ConnectionArgs,
  ): Promise<Connection<Collection>> {
    return this.collectionsService.list(principal, args);
  }

  @ResolveField(() => DocumentConnection, { description: 'Documents in collection order; only those the caller may read' })
  documents(@Parent() collection: Collection, @CurrentUser() principal: AuthPrincipal, @Args() args: ConnectionArgs): Promise<Connection<Document>> {
    return this.collectionsService.documentsOf(principal, collection.id, args);
  }

  @ResolveField(() => Int, { description: 'How many of its documents the caller may read' })
  documentCount(
    @Parent() collection: Collection,
    @CurrentUser() principal: AuthPrincipal,
    @Context() context: GraphQLContext,
  ): Promise<number> {
    return requestLoader(context, 'collectionDocumentCounts', (ids: readonly string[]) => this.collectionsService.documentCounts(principal, ids))
      .load(collection.id)
      .then((count) => count ?? 0);
  }

  @ResolveField(() => UserReference)
  owner(@Parent() collection: Collection): UserReference {
    return { id: collection.ownerId };
  }
}
