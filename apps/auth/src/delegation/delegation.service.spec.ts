import { randomBytes } from 'node:crypto';
import { DelegationError, signDelegationAssertion } from '@multipult/auth';
import { SessionsService } from '../sessions/sessions.service';
import { TenantsService } from '../tenants/tenants.service';
import { AuthTestApp, accessTokenClaims, startAuthTestApp } from '../testing/auth-test-app';
import { DelegationService } from './delegation.service';

// Delegated tokens against the real PostgreSQL and Redis: who may be acted for, with what.

describe('DelegationService', () => {
  let auth: AuthTestApp;
  let delegation: DelegationService;
  let secret: string;

  beforeAll(async () => {
    auth = await startAuthTestApp('delegation');
    delegation = auth.get(DelegationService);
    secret = auth.config.INTERNAL_API_SECRET;
  });

  afterAll(async () => {
    await auth?.close();
  });

  async function memberWithTenant(role?: 'member' | 'viewer'): Promise<{ userId: string; tenantId: string; adminId: string }> {
    const register = (name: string) =>
      auth.get(SessionsService).register({ email: `${name}-${randomBytes(4).toString('hex')}@example.com`, password: 'correct horse battery staple 7', displayName: name });
    const admin = await register('admin');
    const { tenant } = await auth.get(TenantsService).create(admin.user.id, { name: 'Delegation', slug: `del-${randomBytes(4).toString('hex')}` });
    if (!role) return { userId: admin.user.id, tenantId: tenant.id, adminId: admin.user.id };
    const member = await register(role);
    await auth.get(TenantsService).addMember(tenant.id, { email: member.user.email, role }, ['*']);
    return { userId: member.user.id, tenantId: tenant.id, adminId: admin.user.id };
  }

  const assertion = (userId: string, tenantId: string, service = 'export', scope = ['content:read', 'content:publish', 'content:moderate', 'tenant:manage_members']) =>
    signDelegationAssertion(secret, { service, userId, tenantId, scope });

  it("grants the user's current permissions that the service may delegate, naming the service as actor", async () => {
    const member = await memberWithTenant('member');
    const granted = await delegation.grant(await assertion(member.userId, member.tenantId));
    // A member reads but does not publish; tenant:manage_members is not the export service's to delegate.
    expect(granted.permissions).toEqual(['content:read']);
    const claims = accessTokenClaims(granted.accessToken) as unknown as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: member.userId, tid: member.tenantId, ten: { [member.tenantId]: ['content:read'] }, act: { sub: 'service:export' } });
    expect(granted.expiresIn).toBeLessThanOrEqual(300);

    const admin = await memberWithTenant();
    expect((await delegation.grant(await assertion(admin.userId, admin.tenantId))).permissions).toEqual(['content:read', 'content:publish', 'content:moderate']);
  });

  it('refuses a replayed, forged or foreign-service assertion, and users who are not members', async () => {
    const member = await memberWithTenant('viewer');
    const once = await assertion(member.userId, member.tenantId);
    await delegation.grant(once);
    await expect(delegation.grant(once)).rejects.toMatchObject({ status: 401 });
    await expect(delegation.grant(await signDelegationAssertion('x'.repeat(40), { service: 'export', userId: member.userId, tenantId: member.tenantId, scope: ['content:read'] }))).rejects.toMatchObject({ status: 401 });
    await expect(delegation.grant(await assertion(member.userId, member.tenantId, 'content'))).rejects.toMatchObject({ status: 403 });
    const stranger = await memberWithTenant();
    await expect(delegation.grant(await assertion(stranger.userId, member.tenantId))).rejects.toBeInstanceOf(DelegationError);
    await expect(delegation.grant(await assertion(stranger.userId, member.tenantId))).rejects.toMatchObject({ status: 404 });
  });

  it('refuses banned users', async () => {
    const member = await memberWithTenant('member');
    await auth.dataSource.query('UPDATE users SET banned_at = now() WHERE id = $1', [member.userId]);
    await expect(delegation.grant(await assertion(member.userId, member.tenantId))).rejects.toMatchObject({ status: 404 });
  });
});
