import { Args, Context, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, RequirePermissions } from '@multipult/auth';
import { Connection, ForbiddenError, GraphQLContext, requestLoader } from '@multipult/graphql';
import { Document } from '../documents/document.entity';
import { DocumentConnection, DocumentIdInput } from '../documents/dto';
import { UserReference } from '../users/user.reference';
import { BookmarksArgs, EngagementPayload, TrendingDocument, TrendingDocumentsArgs } from './dto';
import { EngagementService } from './engagement.service';

@Resolver(() => Document)
export class EngagementResolver {
  constructor(private readonly engagement: EngagementService) {}

  @RequirePermissions('content:read')
  @Mutation(() => EngagementPayload)
  likeDocument(@CurrentUser() principal: AuthPrincipal, @Args('input') input: DocumentIdInput): Promise<EngagementPayload> {
    return this.engagement.setLiked(principal, input.id, true);
  }

  @RequirePermissions('content:read')
  @Mutation(() => EngagementPayload)
  unlikeDocument(@CurrentUser() principal: AuthPrincipal, @Args('input') input: DocumentIdInput): Promise<EngagementPayload> {
    return this.engagement.setLiked(principal, input.id, false);
  }

  @RequirePermissions('content:read')
  @Mutation(() => EngagementPayload)
  bookmarkDocument(@CurrentUser() principal: AuthPrincipal, @Args('input') input: DocumentIdInput): Promise<EngagementPayload> {
    return this.engagement.setBookmarked(principal, input.id, true);
  }

  @RequirePermissions('content:read')
  @Mutation(() => EngagementPayload)
  unbookmarkDocument(@CurrentUser() principal: AuthPrincipal, @Args('input') input: DocumentIdInput): Promise<EngagementPayload> {
    return this.engagement.setBookmarked(principal, input.id, false);
  }

  @RequirePermissions('content:read')
  @Mutation(() => EngagementPayload, { description: 'Counts a view (once per viewer and document every 30 minutes)' })
  recordDocumentView(@CurrentUser() principal: AuthPrincipal, @Args('input') input: DocumentIdInput): Promise<EngagementPayload> {
    return this.engagement.recordView(principal, input.id);
  }

  @RequirePermissions('content:read')
  @Query(() => [TrendingDocument], { description: 'Most viewed and liked documents of the current tenant in a recent window' })
  trendingDocuments(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() _tenantId: string,
    @Args() args: TrendingDocumentsArgs,
  ): Promise<TrendingDocument[]> {
    return this.engagement.trending(principal, args.windowDays ?? 7, args.first ?? 20);
  }

  @ResolveField(() => Boolean, { description: 'Whether the caller likes it' })
  likedByMe(@Parent() document: Document, @CurrentUser() principal: AuthPrincipal, @Context() context: GraphQLContext): Promise<boolean> {
    return requestLoader(context, 'likedByMe', (ids: readonly string[]) => this.engagement.flags('document_likes', principal.userId, ids))
      .load(document.id)
      .then(Boolean);
  }

  @ResolveField(() => Boolean, { description: 'Whether the caller bookmarked it' })
  bookmarkedByMe(
    @Parent() document: Document,
    @CurrentUser() principal: AuthPrincipal,
    @Context() context: GraphQLContext,
  ): Promise<boolean> {
    return requestLoader(context, 'bookmarkedByMe', (ids: readonly string[]) =>
      this.engagement.flags('document_bookmarks', principal.userId, ids),
    )
      .load(document.id)
      .then(Boolean);
  }
}

@Resolver(() => UserReference)
export class UserBookmarksResolver {
  constructor(private readonly engagement: EngagementService) {}

  @ResolveField(() => DocumentConnection, { description: "The user's bookmarks, newest first; only the user themself sees them" })
  bookmarks(
    @Parent() user: UserReference,
    @CurrentUser() principal: AuthPrincipal,
    @Args() args: BookmarksArgs,
  ): Promise<Connection<Document>> {
    if (user.id !== principal.userId) throw new ForbiddenError();
    return this.engagement.bookmarks(principal, args);
  }
}
