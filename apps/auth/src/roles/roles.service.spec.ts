import { randomBytes } from 'node:crypto';
import { revocationKeys } from '@multipult/auth';
import { ErrorCode } from '@multipult/graphql';
import { REGISTERED_TENANT_PERMISSIONS } from '@multipult/registry';
import { SessionsService } from '../sessions/sessions.service';
import { BUILTIN_ROLES } from '../tenants/role.entity';
import { TenantsService } from '../tenants/tenants.service';
import { accessTokenClaims, AuthTestApp, errorOf, startAuthTestApp } from '../testing/auth-test-app';
import { RolesService } from './roles.service';

// RolesService (and the member changes that lean on it) as auth wires it, against the real
// PostgreSQL and Redis: role rows, audit entries and the revocation marks every service checks.

const PASSWORD = 'correct horse battery staple 7';
const EVERYTHING = ['*'];
const MEMBER = [...BUILTIN_ROLES.member];

describe('RolesService', () => {
  let auth: AuthTestApp;
  let roles: RolesService;
  let tenants: TenantsService;
  let sessions: SessionsService;

  beforeAll(async () => {
    auth = await startAuthTestApp('roles');
    roles = auth.get(RolesService);
    tenants = auth.get(TenantsService);
    sessions = auth.get(SessionsService);
  });

  afterAll(async () => {
    await auth?.close();
  });

  const suffix = () => randomBytes(4).toString('hex');
  const newUser = async () => {
    const email = `user-${suffix()}@example.com`;
    const signedUp = await sessions.register({ email, password: PASSWORD, displayName: 'Test User' });
    return { email, userId: signedUp.user.id, refreshToken: signedUp.refreshToken };
  };
  /** A tenant of its own per test, created by an admin. */
  const newTenant = async () => {
    const admin = await newUser();
    const { tenant } = await tenants.create(admin.userId, { name: 'Roles Test', slug: `roles-${suffix()}` });
    return { tenantId: tenant.id, admin };
  };
  const roleRow = async (roleId: string): Promise<{ tenant_id: string; name: string; permissions: string[] } | undefined> =>
    (await auth.dataSource.query('SELECT tenant_id, name, permissions FROM roles WHERE id = $1', [roleId]))[0];
  const auditActions = async (targetId: string): Promise<string[]> =>
    (await auth.dataSource.query('SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id', [targetId])).map(
      (row: { action: string }) => row.action,
    );
  const tokensRevokedBefore = async (userId: string): Promise<number | null> => {
    const mark = await auth.store.get(revocationKeys.userTokensBefore(userId));
    return mark === null ? null : Number(mark);
  };

  describe('create', () => {
    it('stores the tenant role with its permissions deduplicated and sorted, audited', async () => {
      const { tenantId } = await newTenant();

      const role = await roles.create(tenantId, 'editor', ['content:write', ' content:read', 'content:write'], EVERYTHING);

      expect(await roleRow(role.id)).toEqual({ tenant_id: tenantId, name: 'editor', permissions: ['content:read', 'content:write'] });
      expect(await auditActions(role.id)).toEqual(['role.created']);
      expect((await roles.list(tenantId)).map((listed) => listed.name)).toEqual(['admin', 'member', 'viewer', 'editor']);
    });

    it('accepts every permission of the registry catalogue and resource wildcards of it', async () => {
      const { tenantId } = await newTenant();
      const catalogue = Object.keys(REGISTERED_TENANT_PERMISSIONS);

      const role = await roles.create(tenantId, 'everything', [...catalogue, 'content:*'], EVERYTHING);

      expect((await roleRow(role.id))?.permissions).toEqual([...catalogue, 'content:*'].sort());
    });

    it('refuses permissions outside the catalogue as bad input, naming them, and stores nothing', async () => {
      const { tenantId } = await newTenant();

      const error = await errorOf(roles.create(tenantId, 'typo', ['content:read', 'content:raed', 'nowhere:*'], EVERYTHING));

      expect(error).toMatchObject({
        code: ErrorCode.BAD_USER_INPUT,
        fieldProblems: [{ field: 'permissions', key: 'errors.unknown_permission', params: { permission: 'content:raed, nowhere:*' } }],
      });
      expect((await roles.list(tenantId)).map((listed) => listed.name)).not.toContain('typo');
    });

    it('refuses to hand out what the grantor lacks, wildcards included, naming the permissions', async () => {
      const { tenantId } = await newTenant();

      expect(await errorOf(roles.create(tenantId, 'publisher', ['content:read', 'content:publish'], MEMBER))).toMatchObject({
        code: ErrorCode.FORBIDDEN,
        messageKey: 'errors.role_exceeds_yours',
        params: { permission: 'content:publish' },
      });
      expect(await errorOf(roles.create(tenantId, 'all-content', ['content:*'], MEMBER))).toMatchObject({
        code: ErrorCode.FORBIDDEN,
        params: { permission: 'content:*' },
      });
      expect(await errorOf(roles.create(tenantId, 'root', ['*'], ['content:*', 'tenant:*']))).toMatchObject({ code: ErrorCode.FORBIDDEN });
      // A resource wildcard covers the resource's permissions.
      await expect(roles.create(tenantId, 'publisher', ['content:publish'], ['content:*'])).resolves.toMatchObject({ name: 'publisher' });
    });

    it('refuses a built-in role name and a name the tenant already uses', async () => {
      const { tenantId } = await newTenant();
      await roles.create(tenantId, 'editor', ['content:write'], EVERYTHING);

      expect(await errorOf(roles.create(tenantId, 'member', ['content:read'], EVERYTHING))).toMatchObject({
        code: ErrorCode.CONFLICT,
        messageKey: 'errors.role_name_taken',
      });
      expect(await errorOf(roles.create(tenantId, 'editor', ['content:read'], EVERYTHING))).toMatchObject({
        code: ErrorCode.CONFLICT,
        messageKey: 'errors.role_name_taken',
      });
      // Another tenant has its own names.
      const other = await newTenant();
      await expect(roles.create(other.tenantId, 'editor', ['content:read'], EVERYTHING)).resolves.toMatchObject({ tenantId: other.tenantId });
    });
  });

  describe('update', () => {
    it("changes the permissions and stops its members' tokens at once; a refresh carries the new set", async () => {
      const { tenantId, admin } = await newTenant();
      const role = await roles.create(tenantId, 'editor', ['content:read', 'content:write'], EVERYTHING);
      const editor = await newUser();
      const bystander = await newUser();
      await tenants.addMember(tenantId, { email: editor.email, role: 'editor' }, EVERYTHING);
      await tenants.addMember(tenantId, { email: bystander.email, role: 'member' }, EVERYTHING);
      const before = Date.now();

      const updated = await roles.update(tenantId, role.id, ['content:read', 'content:publish'], EVERYTHING);

      expect(updated.permissions).toEqual(['content:publish', 'content:read']);
      expect(await roleRow(role.id)).toMatchObject({ permissions: ['content:publish', 'content:read'] });
      expect(await tokensRevokedBefore(editor.userId)).toBeGreaterThanOrEqual(before);
      expect(await tokensRevokedBefore(bystander.userId)).toBeNull();
      expect(await tokensRevokedBefore(admin.userId)).toBeNull();
      expect(await auditActions(role.id)).toEqual(['role.created', 'role.updated']);
      const refreshed = await sessions.refresh(editor.refreshToken);
      expect(accessTokenClaims(refreshed.accessToken).ten[tenantId]).toEqual(['content:publish', 'content:read']);
    });

    it('lets only a holder of every permission of the role, old and new, change it', async () => {
      const { tenantId } = await newTenant();
      const role = await roles.create(tenantId, 'publisher', ['content:publish'], EVERYTHING);

      // Taking content:publish away is still touching a role the grantor could not have made.
      expect(await errorOf(roles.update(tenantId, role.id, ['content:read'], MEMBER))).toMatchObject({
        code: ErrorCode.FORBIDDEN,
        params: { permission: 'content:publish' },
      });
      expect(await errorOf(roles.update(tenantId, role.id, ['audit:read'], ['content:*']))).toMatchObject({
        code: ErrorCode.FORBIDDEN,
        params: { permission: 'audit:read' },
      });
      expect(await errorOf(roles.update(tenantId, role.id, ['content:fly'], EVERYTHING))).toMatchObject({ code: ErrorCode.BAD_USER_INPUT });
      expect((await roleRow(role.id))?.permissions).toEqual(['content:publish']);
    });

    it("keeps built-in roles fixed and does not see other tenants' roles", async () => {
      const { tenantId } = await newTenant();
      const other = await newTenant();
      const foreign = await roles.create(other.tenantId, 'editor', ['content:write'], EVERYTHING);
      const builtIn = (await roles.list(tenantId)).find((listed) => listed.name === 'viewer');

      expect(await errorOf(roles.update(tenantId, builtIn?.id ?? '', ['content:read'], EVERYTHING))).toMatchObject({
        code: ErrorCode.FORBIDDEN,
        messageKey: 'errors.builtin_role',
      });
      expect(await errorOf(roles.update(tenantId, foreign.id, ['content:read'], EVERYTHING))).toMatchObject({ code: ErrorCode.NOT_FOUND });
      expect(await errorOf(roles.delete(tenantId, foreign.id, EVERYTHING))).toMatchObject({ code: ErrorCode.NOT_FOUND });
      expect(await roleRow(foreign.id)).toMatchObject({ permissions: ['content:write'] });
    });
  });

  describe('delete', () => {
    it('refuses while a member holds the role, then deletes it once nobody does', async () => {
      const { tenantId } = await newTenant();
      const role = await roles.create(tenantId, 'editor', ['content:write'], EVERYTHING);
      const editor = await newUser();
      await tenants.addMember(tenantId, { email: editor.email, role: 'editor' }, EVERYTHING);

      expect(await errorOf(roles.delete(tenantId, role.id, EVERYTHING))).toMatchObject({ code: ErrorCode.CONFLICT, messageKey: 'errors.role_in_use' });

      await tenants.changeRole(tenantId, editor.userId, 'member', EVERYTHING);
      expect(await errorOf(roles.delete(tenantId, role.id, ['content:read']))).toMatchObject({ code: ErrorCode.FORBIDDEN });
      await roles.delete(tenantId, role.id, EVERYTHING);

      expect(await roleRow(role.id)).toBeUndefined();
      expect(await auditActions(role.id)).toEqual(['role.created', 'role.deleted']);
    });
  });

  describe('assigning', () => {
    it('lets nobody assign a role holding more than they do', async () => {
      const { tenantId } = await newTenant();
      await roles.create(tenantId, 'publisher', ['content:publish', 'content:read'], EVERYTHING);
      const newcomer = await newUser();

      expect(await errorOf(tenants.addMember(tenantId, { email: newcomer.email, role: 'publisher' }, MEMBER))).toMatchObject({
        code: ErrorCode.FORBIDDEN,
        params: { permission: 'content:publish' },
      });
      expect(await errorOf(tenants.addMember(tenantId, { email: newcomer.email, role: 'admin' }, MEMBER))).toMatchObject({ code: ErrorCode.FORBIDDEN });
      expect(await errorOf(tenants.addMember(tenantId, { email: newcomer.email, role: 'owner' }, EVERYTHING))).toMatchObject({
        code: ErrorCode.BAD_USER_INPUT,
        fieldProblems: [{ field: 'role', key: 'errors.unknown_role', params: { role: 'owner' } }],
      });
      await expect(tenants.addMember(tenantId, { email: newcomer.email, role: 'viewer' }, MEMBER)).resolves.toMatchObject({ role: { name: 'viewer' } });
    });

    it('keeps the last admin: no demotion or removal leaves the tenant without one', async () => {
      const { tenantId, admin } = await newTenant();
      const colleague = await newUser();
      await tenants.addMember(tenantId, { email: colleague.email, role: 'member' }, EVERYTHING);

      expect(await errorOf(tenants.changeRole(tenantId, admin.userId, 'member', EVERYTHING))).toMatchObject({
        code: ErrorCode.CONFLICT,
        messageKey: 'errors.last_admin',
      });
      expect(await errorOf(tenants.removeMember(tenantId, admin.userId))).toMatchObject({ code: ErrorCode.CONFLICT, messageKey: 'errors.last_admin' });
      expect(await tokensRevokedBefore(admin.userId)).toBeNull();

      await tenants.changeRole(tenantId, colleague.userId, 'admin', EVERYTHING);
      await expect(tenants.changeRole(tenantId, admin.userId, 'member', EVERYTHING)).resolves.toMatchObject({ role: { name: 'member' } });
      expect(await tokensRevokedBefore(admin.userId)).not.toBeNull();
      expect(await errorOf(tenants.removeMember(tenantId, colleague.userId))).toMatchObject({ code: ErrorCode.CONFLICT });
    });
  });
});
