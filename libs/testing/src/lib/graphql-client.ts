export interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string; requestId?: string; fields?: { field: string; message: string; constraint: string }[] } & Record<
    string,
    unknown
  >;
  path?: (string | number)[];
}

export interface GraphQLResult<T> {
  status: number;
  headers: Headers;
  /** null when execution failed, absent when the request was refused before execution. */
  data?: T | null;
  errors?: GraphQLErrorBody[];
  /** The raw body text, for assertions that nothing internal leaks. */
  text: string;
}

/** A plain HTTP GraphQL call, as a client app makes it. */
export async function graphql<T = Record<string, unknown>>(
  url: string,
  query: string,
  options: {
    variables?: Record<string, unknown>;
    token?: string;
    headers?: Record<string, string>;
    /** Sent as given when present, even if not a string (for tests of malformed requests). */
    operationName?: unknown;
  } = {},
): Promise<GraphQLResult<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables: options.variables, ...('operationName' in options ? { operationName: options.operationName } : {}) }),
  });
  const text = await response.text();
  let body: { data?: T | null; errors?: GraphQLErrorBody[] } = {};
  try {
    body = JSON.parse(text);
  } catch {
    body = {};
  }
  return { status: response.status, headers: response.headers, data: body.data, errors: body.errors, text };
}

/** The data of a call that must succeed; throws with the errors otherwise. */
export async function graphqlData<T = Record<string, unknown>>(
  url: string,
  query: string,
  options: Parameters<typeof graphql>[2] = {},
): Promise<T> {
  const result = await graphql<T>(url, query, options);
  if (result.errors?.length || !result.data) {
    throw new Error(`GraphQL call failed (${result.status}): ${result.text.slice(0, 2000)}`);
  }
  return result.data;
}
