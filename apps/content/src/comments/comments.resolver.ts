import { Args, Context, Mutation, Parent, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { AuthPrincipal, CurrentUser, RequirePermissions } from '@multipult/auth';
import { GraphQLContext, requestLoader } from '@multipult/graphql';
import { RealtimeContext, connectionOf } from '@multipult/realtime';
import { Document } from '../documents/document.entity';
import { UserReference } from '../users/user.reference';
import { CommentFeed } from './comment-feed';
import { Comment } from './comment.entity';
import { CommentsService } from './comments.service';
import { AddCommentInput, CommentAddedArgs, CommentIdInput, CommentPayload, EditCommentInput } from './dto';

@Resolver(() => Comment)
export class CommentsResolver {
  constructor(
    private readonly comments: CommentsService,
    private readonly feed: CommentFeed,
  ) {}

  @RequirePermissions('content:read')
  @Mutation(() => CommentPayload, { description: 'Comments on a document, or replies to a comment (three levels deep at most)' })
  async addComment(@CurrentUser() principal: AuthPrincipal, @Args('input') input: AddCommentInput): Promise<CommentPayload> {
    return { comment: await this.comments.add(principal, input) };
  }

  @RequirePermissions('content:read')
  @Mutation(() => CommentPayload, { description: "Changes the caller's own comment" })
  async editComment(@CurrentUser() principal: AuthPrincipal, @Args('input') input: EditCommentInput): Promise<CommentPayload> {
    return { comment: await this.comments.edit(principal, input) };
  }

  @RequirePermissions('content:read')
  @Mutation(() => CommentPayload, { description: "Deletes the caller's own comment (moderators: any), keeping its place in the thread" })
  async deleteComment(@CurrentUser() principal: AuthPrincipal, @Args('input') input: CommentIdInput): Promise<CommentPayload> {
    return { comment: await this.comments.delete(principal, input.id) };
  }

  @RequirePermissions('content:read')
  @Subscription(() => Comment, {
    resolve: (comment: Comment) => comment,
    description: 'Comments (and replies) added to a document the caller can read, from now on; over /graphql/ws only',
  })
  commentAdded(
    @CurrentUser() principal: AuthPrincipal,
    @Context() context: RealtimeContext,
    @Args() { documentId }: CommentAddedArgs,
  ) {
    connectionOf(context);
    return this.feed.commentsOf(principal, documentId);
  }

  @ResolveField(() => String, { description: 'Sanitized HTML rendered from the Markdown; empty once deleted' })
  html(@Parent() comment: Comment): string {
    return comment.bodyHtml;
  }

  @ResolveField(() => String, { description: 'The Markdown source; empty once deleted' })
  markdown(@Parent() comment: Comment): string {
    return comment.bodyMarkdown;
  }

  @ResolveField(() => UserReference)
  author(@Parent() comment: Comment): UserReference {
    return { id: comment.authorId };
  }

  @ResolveField(() => [Comment], { description: 'Direct replies, oldest first' })
  replies(@Parent() comment: Comment, @Context() context: GraphQLContext): Promise<Comment[]> {
    return requestLoader(context, 'commentReplies', (ids: readonly string[]) => this.comments.repliesOf(ids))
      .load(comment.id)
      .then((replies) => replies ?? []);
  }
}

@Resolver(() => Document)
export class DocumentCommentsResolver {
  constructor(private readonly commentsService: CommentsService) {}

  @ResolveField(() => [Comment], { description: 'Top-level comments, oldest first; replies nest under them' })
  comments(@Parent() document: Document, @Context() context: GraphQLContext): Promise<Comment[]> {
    return requestLoader(context, 'documentComments', (ids: readonly string[]) => this.commentsService.topLevelOf(ids))
      .load(document.id)
      .then((comments) => comments ?? []);
  }
}
