/** Where GraphQL subscriptions are served over WebSocket (graphql-ws): at the gateway and at the subgraphs behind it. */
export const REALTIME_PATH = '/graphql/ws';
