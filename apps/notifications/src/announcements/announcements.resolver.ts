import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, RequirePermissions } from '@multipult/auth';
import { AnnouncementsService } from './announcements.service';
import { PublishAnnouncementInput, PublishAnnouncementPayload } from './dto';

@Resolver()
export class AnnouncementsResolver {
  constructor(private readonly announcementsService: AnnouncementsService) {}

  @RequirePermissions('notifications:announce')
  @Mutation(() => PublishAnnouncementPayload, { description: "Notifies every member of the caller's tenant" })
  async publishAnnouncement(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() tenantId: string,
    @Args('input') input: PublishAnnouncementInput,
  ): Promise<PublishAnnouncementPayload> {
    return { announcement: await this.announcementsService.publish(principal.userId, tenantId, input) };
  }
}
