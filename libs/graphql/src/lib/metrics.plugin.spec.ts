import { ApolloServer } from '@apollo/server';
import { metricsRegistry } from '@multipult/observability';
import { graphqlMetricsPlugin } from './metrics.plugin';

/** The operation names the latency histogram has series for. */
async function labelledNames(): Promise<Set<string>> {
  const metric = metricsRegistry.getSingleMetric('graphql_operation_duration_seconds');
  const { values } = await (metric as NonNullable<typeof metric>).get();
  return new Set(values.map((value) => String(value.labels.operation_name)));
}

describe('GraphQL operation metrics', () => {
  const server = new ApolloServer({
    typeDefs: 'type Query { hello: String }',
    resolvers: { Query: { hello: () => 'world' } },
    plugins: [graphqlMetricsPlugin({ operationNames: ['Greeting'] })],
  });

  beforeAll(() => server.start());
  afterAll(() => server.stop());

  it('registers the operation and error metrics with the server, before any operation', async () => {
    const exposition = await metricsRegistry.metrics();
    expect(exposition).toContain('# TYPE graphql_operation_duration_seconds histogram');
    expect(exposition).toContain('# TYPE graphql_errors_total counter');
  });

  it('labels only allowed operation names; any other name counts as other', async () => {
    for (const name of ['Greeting', 'ClientChosen1', 'ClientChosen2']) {
      const response = await server.executeOperation({ query: `query ${name} { hello }` });
      expect(response.body).toMatchObject({ kind: 'single', singleResult: { data: { hello: 'world' } } });
    }
    await server.executeOperation({ query: '{ hello }' });
    expect(await labelledNames()).toEqual(new Set(['Greeting', 'other', 'anonymous']));
  });
});
