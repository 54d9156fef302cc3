import { CliError } from './errors';

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** The platform's public GraphQL API, as any client app uses it: every validation, permission and event applies. */
export class GatewayClient {
  constructor(private readonly url: string) {}

  async request<T>(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
    } catch (error) {
      throw new CliError(`cannot reach the gateway at ${this.url}: ${(error as Error).message}`);
    }
    const body = (await response.json().catch(() => undefined)) as GraphQLResponse<T> | undefined;
    const [error] = body?.errors ?? [];
    if (error) throw new CliError(`the gateway refused ${operationName(query)}: ${error.message}${error.extensions?.code ? ` (${error.extensions.code})` : ''}`);
    if (!response.ok || !body?.data) throw new CliError(`the gateway answered ${operationName(query)} with HTTP ${response.status}`);
    return body.data;
  }
}

function operationName(query: string): string {
  return /\{\s*(\w+)/.exec(query)?.[1] ?? 'the request';
}
