import http from 'node:http';
import { AddressInfo } from 'node:net';
import { Platform, eventually, findTenantIsolationViolations, graphql, graphqlData, startPlatform } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';

/**
 * The tenant isolation probe over the notifications service and the tenant administration of
 * auth: a caller of tenant A, with every permission there, reaches nothing of tenant B.
 */
describe('tenant isolation across notifications and tenant administration', () => {
  let platform: Platform;
  let receiver: http.Server;

  beforeAll(async () => {
    receiver = http.createServer((_request, response) => response.writeHead(204).end());
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    platform = await startPlatform({ notificationsEnv: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_POLL_INTERVAL_MS: '100' } });
  });

  afterAll(async () => {
    await platform?.stop();
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  });

  it('finds no way from tenant A to tenant B', async () => {
    const intruderAccount = await registerAccount(platform.gatewayUrl, 'intruder');
    const intruder = await createTenantFor(platform.gatewayUrl, intruderAccount);
    const victimAccount = await registerAccount(platform.gatewayUrl, 'victim');
    const victim = await createTenantFor(platform.gatewayUrl, victimAccount);
    const asVictim = <T>(query: string, variables?: Record<string, unknown>) =>
      graphqlData<T>(platform.gatewayUrl, query, { token: victim.accessToken, variables });
    const asIntruder = (query: string, variables?: Record<string, unknown>) => graphql(platform.gatewayUrl, query, { token: intruder.accessToken, variables });

    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const endpoint = await asVictim<{ createWebhookEndpoint: { endpoint: { id: string } } }>(
      `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`,
      { input: { url, eventTypes: ['*'] } },
    );
    const endpointId = endpoint.createWebhookEndpoint.endpoint.id;
    await asVictim(`mutation { createDocument(input: { title: "Private", body: "B only", type: ARTICLE, language: "en" }) { document { id } } }`);
    const deliveryId = await eventually('the victim tenant delivery', async () => {
      const log = await asVictim<{ webhookDeliveries: { edges: { node: { id: string } }[] } }>(
        `query($id: ID!) { webhookDeliveries(endpointId: $id) { edges { node { id } } } }`,
        { id: endpointId },
      );
      return log.webhookDeliveries.edges[0]?.node.id;
    });
    await asVictim(`mutation { publishAnnouncement(input: { title: "B news", body: "For B" }) { announcement { id } } }`);
    const { notifications } = await asVictim<{ notifications: { edges: { node: { id: string } }[] } }>('{ notifications { edges { node { id } } } }');
    const notificationIds = notifications.edges.map((edge) => edge.node.id);
    const invitation = await asVictim<{ inviteTenantMember: { invitation: { id: string } } }>(
      `mutation { inviteTenantMember(input: { email: "guest-of-b@example.com", role: "viewer" }) { invitation { id } } }`,
    );
    const invitationId = invitation.inviteTenantMember.invitation.id;
    const ids = `mutation($input: NotificationIdsInput!)`;

    const violations = await findTenantIsolationViolations([
      { name: 'webhookEndpoints', kind: 'list', foreignIds: [endpointId], call: () => asIntruder('{ webhookEndpoints { id } }') },
      {
        name: 'webhookDeliveries',
        kind: 'byId',
        foreignIds: [endpointId],
        call: (id) => asIntruder(`query($id: ID!) { webhookDeliveries(endpointId: $id) { edges { node { id body } } } }`, { id }),
      },
      {
        name: 'updateWebhookEndpoint',
        kind: 'byId',
        foreignIds: [endpointId],
        call: (id) => asIntruder(`mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { endpoint { id } } }`, { input: { id, enabled: false } }),
      },
      {
        name: 'rotateWebhookSecret',
        kind: 'byId',
        foreignIds: [endpointId],
        call: (id) => asIntruder(`mutation($input: WebhookEndpointIdInput!) { rotateWebhookSecret(input: $input) { secret } }`, { input: { id } }),
      },
      {
        name: 'deleteWebhookEndpoint',
        kind: 'byId',
        foreignIds: [endpointId],
        call: (id) => asIntruder(`mutation($input: WebhookEndpointIdInput!) { deleteWebhookEndpoint(input: $input) { deletedEndpointId } }`, { input: { id } }),
      },
      {
        name: 'redeliverWebhook',
        kind: 'byId',
        foreignIds: [deliveryId],
        call: (id) => asIntruder(`mutation($input: RedeliverWebhookInput!) { redeliverWebhook(input: $input) { delivery { id } } }`, { input: { deliveryId: id } }),
      },
      { name: 'notifications', kind: 'list', foreignIds: notificationIds, call: () => asIntruder('{ notifications { edges { node { id title } } } }') },
      ...(['markNotificationsRead', 'markNotificationsUnread', 'archiveNotifications', 'unarchiveNotifications'] as const).map((operation) => ({
        name: operation,
        kind: 'list' as const,
        foreignIds: notificationIds,
        call: () => asIntruder(`${ids} { ${operation}(input: $input) { notifications { id } unreadCount } }`, { input: { ids: notificationIds } }),
      })),
      {
        name: 'deleteNotifications',
        kind: 'list',
        foreignIds: notificationIds,
        call: () => asIntruder(`${ids} { deleteNotifications(input: $input) { deletedIds } }`, { input: { ids: notificationIds } }),
      },
      {
        name: 'presence',
        kind: 'list',
        foreignIds: [victimAccount.userId],
        call: () => asIntruder(`query($ids: [ID!]!) { presence(userIds: $ids) { user { id } online } }`, { ids: [victimAccount.userId] }),
      },
      { name: 'tenantInvitations', kind: 'list', foreignIds: [invitationId], call: () => asIntruder('{ tenantInvitations { id email } }') },
      {
        name: 'revokeTenantInvitation',
        kind: 'byId',
        foreignIds: [invitationId],
        call: (id) => asIntruder(`mutation($input: TenantInvitationIdInput!) { revokeTenantInvitation(input: $input) { revokedInvitationId } }`, { input: { id } }),
      },
      {
        name: 'removeTenantMember',
        kind: 'byId',
        foreignIds: [victimAccount.userId],
        call: (id) => asIntruder(`mutation($input: TenantMemberInput!) { removeTenantMember(input: $input) { removedUserId } }`, { input: { userId: id } }),
      },
      {
        name: 'changeTenantMemberRole',
        kind: 'byId',
        foreignIds: [victimAccount.userId],
        call: (id) =>
          asIntruder(`mutation($input: ChangeTenantMemberRoleInput!) { changeTenantMemberRole(input: $input) { membership { role { name } } } }`, {
            input: { userId: id, role: 'viewer' },
          }),
      },
    ]);
    expect(violations).toEqual([]);

    // And nothing of B changed.
    const after = await asVictim<{ webhookEndpoints: { id: string; enabled: boolean }[]; notifications: { totalCount: number } }>(
      '{ webhookEndpoints { id enabled } notifications { totalCount } }',
    );
    expect(after.webhookEndpoints).toEqual([{ id: endpointId, enabled: true }]);
    expect(after.notifications.totalCount).toBe(notificationIds.length);
  });
});
