import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentUser, RequirePermissions } from '@multipult/auth';
import { DocumentPayload } from '../documents/dto';
import { BlameLine, DocumentBlameArgs, DocumentDiff, DocumentDiffInput, RestoreDocumentVersionInput } from './dto';
import { VersionsService } from './versions.service';

@Resolver()
export class VersionsResolver {
  constructor(private readonly versions: VersionsService) {}

  @RequirePermissions('content:read')
  @Query(() => DocumentDiff, { description: 'What changed between two versions (for those who may edit the document)' })
  documentDiff(@CurrentUser() principal: AuthPrincipal, @Args('input') input: DocumentDiffInput): Promise<DocumentDiff> {
    return this.versions.diff(principal, input);
  }

  @RequirePermissions('content:read')
  @Query(() => [BlameLine], { description: 'Who last changed each line of the current body, and when' })
  documentBlame(@CurrentUser() principal: AuthPrincipal, @Args() args: DocumentBlameArgs): Promise<BlameLine[]> {
    return this.versions.blame(principal, args.documentId);
  }

  @RequirePermissions('content:write')
  @Mutation(() => DocumentPayload, { description: "Makes a version's text current again, recorded as a new version" })
  async restoreDocumentVersion(
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: RestoreDocumentVersionInput,
  ): Promise<DocumentPayload> {
    return { document: await this.versions.restore(principal, input) };
  }
}
