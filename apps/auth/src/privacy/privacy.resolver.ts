import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentUser, RequirePlatformPermissions } from '@multipult/auth';
import { BadUserInputError, ForbiddenError } from '@multipult/graphql';
import { UserIdInput } from '../admin/dto';
import { TwoFactorService } from '../two-factor/two-factor.service';
import { PasswordHasher } from '../users/password-hasher';
import { UsersService } from '../users/users.service';
import { DataExportFiles } from './data-export-files';
import { AccountErasure, AccountErasureInput, DataExport, DataExportInput, DeleteMyAccountInput } from './dto';
import { PrivacyService } from './privacy.service';

@Resolver()
export class PrivacyResolver {
  constructor(
    private readonly privacy: PrivacyService,
    private readonly files: DataExportFiles,
    private readonly users: UsersService,
    private readonly passwords: PasswordHasher,
    private readonly twoFactor: TwoFactorService,
  ) {}

  @Mutation(() => DataExport, { description: 'Starts a copy of everything the platform holds about the caller; poll myDataExport until READY' })
  async exportMyData(@CurrentUser() principal: AuthPrincipal): Promise<DataExport> {
    return this.files.withLink(principal.userId, await this.privacy.requestExport(principal.userId));
  }

  @Query(() => DataExport, { description: "One of the caller's data exports, with a download link once assembled" })
  async myDataExport(@CurrentUser() principal: AuthPrincipal, @Args('input') input: DataExportInput): Promise<DataExport> {
    return this.files.withLink(principal.userId, await this.privacy.exportOf(principal.userId, input.exportId));
  }

  @Query(() => [DataExport], { description: "The caller's data exports of the last DATA_EXPORT_RETENTION_DAYS, newest first" })
  async myDataExports(@CurrentUser() principal: AuthPrincipal): Promise<DataExport[]> {
    const exports = await this.privacy.exportsOf(principal.userId);
    return Promise.all(exports.map((dataExport) => this.files.withLink(principal.userId, dataExport)));
  }

  @Mutation(() => AccountErasure, {
    description: 'Deletes the caller’s account and their data in every service; signs out everywhere at once. Needs the password',
  })
  async deleteMyAccount(@CurrentUser() principal: AuthPrincipal, @Args('input') input: DeleteMyAccountInput): Promise<AccountErasure> {
    const user = await this.users.getById(principal.userId);
    if (!(await this.passwords.verify(user.passwordHash, input.password))) throw BadUserInputError.field('password', 'errors.wrong_password');
    await this.twoFactor.assertSecondFactor(principal.userId, input.code);
    return this.privacy.requestErasure(principal.userId, principal.userId, 'self');
  }

  @RequirePlatformPermissions('users:delete')
  @Mutation(() => AccountErasure, { description: 'Erases an account and its data in every service; never the caller' })
  async deleteUserPermanently(@CurrentUser() principal: AuthPrincipal, @Args('input') input: UserIdInput): Promise<AccountErasure> {
    if (input.userId === principal.userId) throw new ForbiddenError('errors.cannot_target_self');
    return this.privacy.requestErasure(input.userId, principal.userId, 'admin');
  }

  @RequirePlatformPermissions('users:read')
  @Query(() => AccountErasure, { description: 'Where an erasure stands: which services confirmed, which have not' })
  accountErasure(@Args('input') input: AccountErasureInput): Promise<AccountErasure> {
    return this.privacy.erasure(input.erasureId);
  }
}
