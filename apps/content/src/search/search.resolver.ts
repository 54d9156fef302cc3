import { Args, Info, Query, Resolver } from '@nestjs/graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, RequirePermissions } from '@multipult/auth';
import { selectedFieldPaths } from '@multipult/graphql';
import { DocumentSearchResult, DocumentSuggestion, SearchDocumentsInput, SuggestDocumentsInput } from './dto';
import { SearchService } from './search.service';

@Resolver()
export class SearchResolver {
  constructor(private readonly searchService: SearchService) {}

  @RequirePermissions('content:read')
  @Query(() => DocumentSearchResult, { description: 'Full-text search with filters, facets and highlights' })
  searchDocuments(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() _tenantId: string,
    @Args('input') input: SearchDocumentsInput,
    @Info() info: GraphQLResolveInfo,
  ): Promise<DocumentSearchResult> {
    const selected = selectedFieldPaths(info);
    return this.searchService.search(principal, input, {
      totalCount: selected.has('totalCount') || selected.has('totalCountRelation'),
      facets: selected.has('facets'),
      highlights: selected.has('edges.node.highlight'),
    });
  }

  @RequirePermissions('content:read')
  @Query(() => [DocumentSuggestion], { description: 'Search-as-you-type title suggestions' })
  suggestDocuments(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() _tenantId: string,
    @Args('input') input: SuggestDocumentsInput,
  ): Promise<DocumentSuggestion[]> {
    return this.searchService.suggest(principal, input.prefix, input.first ?? 10);
  }
}
