import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentUser } from '@multipult/auth';
import { NotificationSettings, NotificationSettingsPayload, SetNotificationPreferenceInput, UpdateNotificationSettingsInput } from './dto';
import { PreferencesService } from './preferences.service';

@Resolver(() => NotificationSettings)
export class PreferencesResolver {
  constructor(private readonly preferencesService: PreferencesService) {}

  @Query(() => NotificationSettings, { description: "The caller's language, digest and per-type channel choices" })
  notificationSettings(@CurrentUser() principal: AuthPrincipal): Promise<NotificationSettings> {
    return this.preferencesService.settings(principal.userId);
  }

  @Mutation(() => NotificationSettingsPayload)
  async updateNotificationSettings(
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: UpdateNotificationSettingsInput,
  ): Promise<NotificationSettingsPayload> {
    return { settings: await this.preferencesService.updateSettings(principal.userId, input) };
  }

  @Mutation(() => NotificationSettingsPayload, { description: 'Turns one type on one channel on or off (critical types stay on)' })
  async setNotificationPreference(
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: SetNotificationPreferenceInput,
  ): Promise<NotificationSettingsPayload> {
    return { settings: await this.preferencesService.setPreference(principal.userId, input) };
  }
}
