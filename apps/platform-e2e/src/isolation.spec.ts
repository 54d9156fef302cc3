import http from 'node:http';
import { AddressInfo } from 'node:net';
import { Platform, eventually, findTenantIsolationViolations, graphql, graphqlData } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';
import { usePlatform } from './support/platforms';

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
    platform = await usePlatform('default');
  });

  afterAll(async () => {
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
    const asVictimResult = (query: string, variables?: Record<string, unknown>) => graphql(platform.gatewayUrl, query, { token: victim.accessToken, variables });

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
    // B's membership reaches notifications through Kafka; an announcement before that has no audience.
    await eventually('an announcement to reach B', async () => {
      const published = await asVictim<{ publishAnnouncement: { announcement: { recipientCount: number } } }>(
        `mutation { publishAnnouncement(input: { title: "B news", body: "For B" }) { announcement { recipientCount } } }`,
      );
      return published.publishAnnouncement.announcement.recipientCount > 0;
    }, 60_000);
    const notificationIds = await eventually("B's announcement in the victim's inbox", async () => {
      const { notifications } = await asVictim<{ notifications: { edges: { node: { id: string; title: string } }[] } }>(
        '{ notifications { edges { node { id title } } } }',
      );
      return notifications.edges.some((edge) => edge.node.title === 'B news') && notifications.edges.map((edge) => edge.node.id);
    });
    const invitation = await asVictim<{ inviteTenantMember: { invitation: { id: string } } }>(
      `mutation { inviteTenantMember(input: { email: "guest-of-b@example.com", role: "viewer" }) { invitation { id } } }`,
    );
    const invitationId = invitation.inviteTenantMember.invitation.id;
    const ids = `mutation($input: NotificationIdsInput!)`;

    const violations = await findTenantIsolationViolations([
      { name: 'webhookEndpoints', kind: 'list', foreignIds: [endpointId], call: () => asIntruder('{ webhookEndpoints { id } }'), ownerCall: () => asVictimResult('{ webhookEndpoints { id } }') },
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
      { name: 'notifications', kind: 'list', foreignIds: notificationIds, call: () => asIntruder('{ notifications { edges { node { id title } } } }'), ownerCall: () => asVictimResult('{ notifications { edges { node { id title } } } }') },
      ...(['markNotificationsRead', 'markNotificationsUnread', 'archiveNotifications', 'unarchiveNotifications'] as const).map((operation) => ({
        name: operation,
        kind: 'batch' as const,
        foreignIds: notificationIds,
        call: () => asIntruder(`${ids} { ${operation}(input: $input) { notifications { id } unreadCount } }`, { input: { ids: notificationIds } }),
      })),
      {
        name: 'deleteNotifications',
        kind: 'batch',
        foreignIds: notificationIds,
        call: () => asIntruder(`${ids} { deleteNotifications(input: $input) { deletedIds } }`, { input: { ids: notificationIds } }),
      },
      {
        name: 'presence',
        kind: 'batch',
        foreignIds: [victimAccount.userId],
        call: () => asIntruder(`query($ids: [ID!]!) { presence(userIds: $ids) { user { id } online } }`, { ids: [victimAccount.userId] }),
      },
      { name: 'tenantInvitations', kind: 'list', foreignIds: [invitationId], call: () => asIntruder('{ tenantInvitations { id email } }'), ownerCall: () => asVictimResult('{ tenantInvitations { id email } }') },
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
    const after = await asVictim<{ webhookEndpoints: { id: string; enabled: boolean }[]; notifications: { edges: { node: { id: string; read: boolean } }[] } }>(
      '{ webhookEndpoints { id enabled } notifications(first: 100) { edges { node { id read } } } }',
    );
    expect(after.webhookEndpoints).toEqual([{ id: endpointId, enabled: true }]);
    // Every notification B had is still there and unread (later ones, e.g. a welcome arriving late, may join them).
    const unreadIds = after.notifications.edges.filter((edge) => !edge.node.read).map((edge) => edge.node.id);
    expect(unreadIds).toEqual(expect.arrayContaining(notificationIds));
  });

  it('finds no way from tenant A into B through engagement, comments, translations, versions, collections, roles, API keys, audit or exports', async () => {
    const intruderAccount = await registerAccount(platform.gatewayUrl, 'intruder-2');
    const intruder = await createTenantFor(platform.gatewayUrl, intruderAccount);
    const victimAccount = await registerAccount(platform.gatewayUrl, 'victim-2');
    const victim = await createTenantFor(platform.gatewayUrl, victimAccount);
    const asVictim = <T>(query: string, variables?: Record<string, unknown>) =>
      graphqlData<T>(platform.gatewayUrl, query, { token: victim.accessToken, variables });
    const asIntruder = (query: string, variables?: Record<string, unknown>) => graphql(platform.gatewayUrl, query, { token: intruder.accessToken, variables });
    const asVictimResult = (query: string, variables?: Record<string, unknown>) => graphql(platform.gatewayUrl, query, { token: victim.accessToken, variables });

    const documentId = (
      await asVictim<{ createDocument: { document: { id: string } } }>(
        `mutation { createDocument(input: { title: "B secret", body: "Only for B", type: ARTICLE, language: "en" }) { document { id } } }`,
      )
    ).createDocument.document.id;
    await asVictim(`mutation($input: DocumentIdInput!) { publishDocument(input: $input) { document { id } } }`, { input: { id: documentId } });
    const commentId = (
      await asVictim<{ addComment: { comment: { id: string } } }>(`mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } } }`, {
        input: { documentId, body: 'B remark' },
      })
    ).addComment.comment.id;
    await asVictim(`mutation($input: SaveTranslationInput!) { saveTranslation(input: $input) { translation { id } } }`, {
      input: { documentId, language: 'ru', title: 'Секрет B', body: 'Только для B' },
    });
    const collectionId = (
      await asVictim<{ createCollection: { collection: { id: string } } }>(`mutation { createCollection(input: { title: "B list" }) { collection { id } } }`)
    ).createCollection.collection.id;
    await asVictim(`mutation($input: AddDocumentToCollectionInput!) { addDocumentToCollection(input: $input) { collection { id } } }`, {
      input: { collectionId, documentId },
    });
    const roleId = (
      await asVictim<{ createTenantRole: { role: { id: string } } }>(`mutation { createTenantRole(input: { name: "b-readers", permissions: ["content:read"] }) { role { id } } }`)
    ).createTenantRole.role.id;
    const apiKeyId = (
      await asVictim<{ createApiKey: { apiKey: { id: string } } }>(`mutation { createApiKey(input: { name: "b", scopes: ["content:read"] }) { apiKey { id } } }`)
    ).createApiKey.apiKey.id;
    const exportId = (await asVictim<{ exportMyData: { id: string } }>(`mutation { exportMyData { id } }`)).exportMyData.id;
    const ownCollectionId = (
      await graphqlData<{ createCollection: { collection: { id: string } } }>(platform.gatewayUrl, `mutation { createCollection(input: { title: "A list" }) { collection { id } } }`, {
        token: intruder.accessToken,
      })
    ).createCollection.collection.id;
    const documentInput = `mutation($input: DocumentIdInput!)`;

    const violations = await findTenantIsolationViolations([
      ...(['publishDocument', 'archiveDocument'] as const).map((operation) => ({
        name: operation,
        kind: 'byId' as const,
        foreignIds: [documentId],
        call: (id: string) => asIntruder(`${documentInput} { ${operation}(input: $input) { document { id title } } }`, { input: { id } }),
      })),
      ...(['likeDocument', 'unlikeDocument', 'bookmarkDocument', 'recordDocumentView'] as const).map((operation) => ({
        name: operation,
        kind: 'byId' as const,
        foreignIds: [documentId],
        call: (id: string) => asIntruder(`${documentInput} { ${operation}(input: $input) { changed document { id } } }`, { input: { id } }),
      })),
      {
        name: 'saveTranslation',
        kind: 'byId',
        foreignIds: [documentId],
        call: (id) =>
          asIntruder(`mutation($input: SaveTranslationInput!) { saveTranslation(input: $input) { translation { id } } }`, {
            input: { documentId: id, language: 'de', title: 'Fremd', body: 'Fremd' },
          }),
      },
      {
        name: 'deleteTranslation',
        kind: 'byId',
        foreignIds: [documentId],
        call: (id) => asIntruder(`mutation($input: DeleteTranslationInput!) { deleteTranslation(input: $input) { __typename } }`, { input: { documentId: id, language: 'ru' } }),
      },
      {
        name: 'restoreDocumentVersion',
        kind: 'byId',
        foreignIds: [documentId],
        call: (id) => asIntruder(`mutation($input: RestoreDocumentVersionInput!) { restoreDocumentVersion(input: $input) { document { id } } }`, { input: { documentId: id, version: 1 } }),
      },
      {
        name: 'documentBlame',
        kind: 'byId',
        foreignIds: [documentId],
        call: (id) => asIntruder(`query($id: ID!) { documentBlame(documentId: $id) { text } }`, { id }),
      },
      {
        name: 'editComment',
        kind: 'byId',
        foreignIds: [commentId],
        call: (id) => asIntruder(`mutation($input: EditCommentInput!) { editComment(input: $input) { comment { id } } }`, { input: { id, body: 'hijacked' } }),
      },
      {
        name: 'deleteComment',
        kind: 'byId',
        foreignIds: [commentId],
        call: (id) => asIntruder(`mutation($input: CommentIdInput!) { deleteComment(input: $input) { comment { id } } }`, { input: { id } }),
      },
      {
        name: 'addDocumentToCollection (own collection, foreign document)',
        kind: 'byId',
        foreignIds: [documentId],
        call: (id) =>
          asIntruder(`mutation($input: AddDocumentToCollectionInput!) { addDocumentToCollection(input: $input) { collection { id } } }`, {
            input: { collectionId: ownCollectionId, documentId: id },
          }),
      },
      {
        name: 'removeDocumentFromCollection',
        kind: 'byId',
        foreignIds: [collectionId],
        call: (id) =>
          asIntruder(`mutation($input: CollectionDocumentInput!) { removeDocumentFromCollection(input: $input) { collection { id } } }`, {
            input: { collectionId: id, documentId },
          }),
      },
      {
        name: 'updateTenantRole',
        kind: 'byId',
        foreignIds: [roleId],
        call: (id) => asIntruder(`mutation($input: UpdateTenantRoleInput!) { updateTenantRole(input: $input) { role { id } } }`, { input: { roleId: id, permissions: ['*'] } }),
      },
      {
        name: 'deleteTenantRole',
        kind: 'byId',
        foreignIds: [roleId],
        call: (id) => asIntruder(`mutation($input: TenantRoleInput!) { deleteTenantRole(input: $input) { deletedRoleId } }`, { input: { roleId: id } }),
      },
      { name: 'tenantRoles', kind: 'list', foreignIds: [roleId], call: () => asIntruder('{ tenantRoles { id name } }'), ownerCall: () => asVictimResult('{ tenantRoles { id name } }') },
      {
        name: 'revokeApiKey',
        kind: 'byId',
        foreignIds: [apiKeyId],
        call: (id) => asIntruder(`mutation($input: ApiKeyInput!) { revokeApiKey(input: $input) { apiKey { id } } }`, { input: { keyId: id } }),
      },
      { name: 'apiKeys', kind: 'list', foreignIds: [apiKeyId], call: () => asIntruder('{ apiKeys { id } }'), ownerCall: () => asVictimResult('{ apiKeys { id } }') },
      {
        name: 'tenantAuditLog',
        kind: 'list',
        foreignIds: [victim.tenantId, roleId, apiKeyId, victimAccount.userId],
        call: () => asIntruder('{ tenantAuditLog(first: 100) { edges { node { tenantId targetId actorId } } } }'), ownerCall: () => asVictimResult('{ tenantAuditLog(first: 100) { edges { node { tenantId targetId actorId } } } }'),
      },
      {
        name: 'myDataExport',
        kind: 'byId',
        foreignIds: [exportId],
        call: (id) => asIntruder(`query($input: DataExportInput!) { myDataExport(input: $input) { id url } }`, { input: { exportId: id } }),
      },
      { name: 'myDataExports', kind: 'list', foreignIds: [exportId], call: () => asIntruder('{ myDataExports { id } }'), ownerCall: () => asVictimResult('{ myDataExports { id } }') },
    ]);
    expect(violations).toEqual([]);

    // And nothing of B changed.
    const after = await asVictim<{
      document: { status: string; likeCount: number; translations: { language: string }[] };
      collection: { documentCount: number };
      tenantRoles: { id: string; permissions: string[] }[];
      apiKeys: { id: string; revokedAt: string | null }[];
    }>(
      `query($document: ID!, $collection: ID!) {
        document(id: $document) { status likeCount translations { language } }
        collection(id: $collection) { documentCount }
        tenantRoles { id permissions }
        apiKeys { id revokedAt }
      }`,
      { document: documentId, collection: collectionId },
    );
    expect(after.document).toEqual({ status: 'PUBLISHED', likeCount: 0, translations: [{ language: 'ru' }] });
    expect(after.collection.documentCount).toBe(1);
    expect(after.tenantRoles.find((role) => role.id === roleId)?.permissions).toEqual(['content:read']);
    expect(after.apiKeys).toEqual([{ id: apiKeyId, revokedAt: null }]);
  });
});
