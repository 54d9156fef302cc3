import { graphqlData } from '@multipult/testing';

export interface InboxNotification {
  id: string;
  sequence: number;
  type: string;
  title: string;
  body: string;
  link: string | null;
  read: boolean;
  archivedAt: string | null;
  actor: { id: string } | null;
}

export const NOTIFICATION_FIELDS = 'id sequence type title body link read archivedAt actor { id }';

export async function inbox(
  gatewayUrl: string,
  token: string,
  args: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{ totalCount: number; nodes: InboxNotification[]; endCursor: string | null; hasNextPage: boolean }> {
  const data = await graphqlData<{
    notifications: { totalCount: number; pageInfo: { endCursor: string | null; hasNextPage: boolean }; edges: { node: InboxNotification }[] };
  }>(
    gatewayUrl,
    `query($first: Int, $after: String, $unreadOnly: Boolean, $archived: Boolean, $types: [String!]) {
      notifications(first: $first, after: $after, unreadOnly: $unreadOnly, archived: $archived, types: $types) {
        totalCount pageInfo { endCursor hasNextPage } edges { node { ${NOTIFICATION_FIELDS} } }
      }
    }`,
    { token, variables: args, headers },
  );
  return {
    totalCount: data.notifications.totalCount,
    nodes: data.notifications.edges.map((edge) => edge.node),
    endCursor: data.notifications.pageInfo.endCursor,
    hasNextPage: data.notifications.pageInfo.hasNextPage,
  };
}
