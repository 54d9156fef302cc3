import { GraphQLError, buildSchema, execute, parse, subscribe, validate } from 'graphql';
import { formatOperationErrors } from './operation-errors';

const schema = buildSchema(`
  type Query { ok: Boolean }
  type Subscription { ticks(id: ID!, after: Int): Int! }
`);
const document = parse('subscription Ticks($id: ID!, $after: Int) { ticks(id: $id, after: $after) }');

const codes = (errors: readonly GraphQLError[] | undefined, stage: 'result' | 'refusal') =>
  formatOperationErrors(errors ?? [], stage).map((error) => error.extensions?.code);

describe('formatOperationErrors', () => {
  // Regression: over /graphql/ws these were INTERNAL (HTTP answers them BAD_USER_INPUT).
  it.each([
    ['a required variable missing', {}],
    ['null for a non-null variable', { id: null }],
    ['a value of the wrong type', { id: 'x', after: 'text' }],
    ['an Int out of range', { id: 'x', after: 1e308 }],
  ])('answers %s with BAD_USER_INPUT', async (_case, variableValues) => {
    const result = (await subscribe({ schema, document, variableValues })) as { errors?: readonly GraphQLError[] };
    expect(codes(result.errors, 'result')).toEqual(['BAD_USER_INPUT']);
  });

  // Regression: graphql-ws sent its refusals (validation, an operation it cannot identify) with no code at all.
  it('answers refusals before execution with GRAPHQL_VALIDATION_FAILED', () => {
    const invalid = validate(schema, parse('subscription { ticks(id: "x") nope }'));
    const refusals = [...invalid, new GraphQLError('Unable to identify operation')];
    expect(codes(refusals, 'refusal')).toEqual(refusals.map(() => 'GRAPHQL_VALIDATION_FAILED'));
  });

  it('keeps a failure of a resolver or stream INTERNAL, with a generic message', async () => {
    const failing = buildSchema('type Query { boom: Int }');
    const result = await execute({ schema: failing, document: parse('{ boom }'), rootValue: { boom: () => { throw new Error('relation "secrets" does not exist'); } } });
    const streamFailure = new GraphQLError('relation "secrets" does not exist', { originalError: new Error('relation "secrets" does not exist') });
    const formatted = [...formatOperationErrors(result.errors ?? [], 'result'), ...formatOperationErrors([streamFailure], 'refusal')];
    expect(formatted.map((error) => error.extensions?.code)).toEqual(['INTERNAL', 'INTERNAL']);
    expect(formatted.map((error) => error.message).join()).not.toContain('secrets');
  });
});
