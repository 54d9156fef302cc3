import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CurrentTenant, RequirePermissions } from '@multipult/auth';
import { CreateTagInput, CreateTagPayload } from './dto';
import { Tag } from './tag.entity';
import { TagsService } from './tags.service';

@Resolver(() => Tag)
export class TagsResolver {
  constructor(private readonly tagsService: TagsService) {}

  @RequirePermissions('content:write')
  @Mutation(() => CreateTagPayload)
  async createTag(@CurrentTenant() tenantId: string, @Args('input') input: CreateTagInput): Promise<CreateTagPayload> {
    return { tag: await this.tagsService.create(tenantId, input) };
  }

  @RequirePermissions('content:read')
  @Query(() => [Tag], { description: 'Tags of the current tenant, by name' })
  tags(@CurrentTenant() tenantId: string): Promise<Tag[]> {
    return this.tagsService.list(tenantId);
  }
}
