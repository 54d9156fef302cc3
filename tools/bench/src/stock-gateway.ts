import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

/**
 * The baseline of `npm run bench -- gateway`: a stock @apollo/gateway on @apollo/server's standalone
 * HTTP server, serving the same supergraph as ours and forwarding only the client's `authorization`
 * header. Apollo's defaults otherwise. Settings from the environment:
 *   PORT             where to listen
 *   SUPERGRAPH_PATH  the composed supergraph SDL
 *   SUBGRAPHS        name=url,name=url: the subgraph URLs, overriding the supergraph's routing URLs
 * The bench starts it with APOLLO_TELEMETRY_DISABLED=true, so the measured process makes no outbound calls.
 */
interface StockGatewayContext {
  authorization?: string;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function subgraphUrls(list: string): Map<string, string> {
  return new Map(
    list
      .split(',')
      .filter(Boolean)
      .map((entry) => {
        const separator = entry.indexOf('=');
        if (separator <= 0) throw new Error(`SUBGRAPHS entry "${entry}" is not name=url`);
        return [entry.slice(0, separator), entry.slice(separator + 1)] as const;
      }),
  );
}

async function main(): Promise<void> {
  const port = Number(requiredEnv('PORT'));
  const urls = subgraphUrls(requiredEnv('SUBGRAPHS'));
  const gateway = new ApolloGateway({
    supergraphSdl: readFileSync(requiredEnv('SUPERGRAPH_PATH'), 'utf8'),
    buildService: ({ name, url }) => {
      const override = urls.get(name);
      if (!override) throw new Error(`SUBGRAPHS names no URL for subgraph ${name} (routing URL ${url})`);
      return new RemoteGraphQLDataSource<StockGatewayContext>({
        url: override,
        willSendRequest({ request, context }) {
          if (context.authorization) request.http?.headers.set('authorization', context.authorization);
        },
      });
    },
  });
  const server = new ApolloServer<StockGatewayContext>({ gateway });
  const { url } = await startStandaloneServer(server, {
    listen: { port, host: '127.0.0.1' },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  console.log(`stock gateway listening on ${url}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
