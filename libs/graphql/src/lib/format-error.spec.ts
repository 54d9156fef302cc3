import { GraphQLError, OperationDefinitionNode, buildSchema, getVariableValues, parse, validate } from 'graphql';
import net from 'node:net';
import { Client } from 'pg';
import { QueryFailedError } from 'typeorm';
import { RequestContext } from '@multipult/observability';
import { BadUserInputError, NotFoundError, RateLimitedError } from './errors';
import { formatError } from './format-error';

const inRequest = <T>(locales: string[], fn: () => T): T =>
  RequestContext.run({ requestId: 'request-abcdef12', traceparent: '', locales }, fn);

const formatted = (error: GraphQLError) => formatError({ message: error.message, path: ['field'] }, error);

describe('formatError', () => {
  it('localizes expected errors and keeps code, field details and the request id', () => {
    const error = new GraphQLError('wrapped', {
      originalError: new BadUserInputError([{ field: 'email', key: 'validation.isEmail' }]),
    });
    expect(inRequest(['ru'], () => formatted(error))).toEqual({
      message: 'Некорректные входные данные',
      path: ['field'],
      extensions: {
        code: 'BAD_USER_INPUT',
        requestId: 'request-abcdef12',
        fields: [{ field: 'email', message: 'Должен быть корректный адрес email', constraint: 'isEmail' }],
      },
    });
    expect(inRequest(['en-GB'], () => formatted(new NotFoundError('Tenant'))).message).toBe('Tenant not found');
    expect(inRequest([], () => formatted(new RateLimitedError(7))).extensions).toMatchObject({ retryAfterSeconds: 7 });
  });

  it('answers a backing service that cannot be reached (a real refused PostgreSQL connection, a restart) with SERVICE_UNAVAILABLE', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as net.AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await new Client({ host: '127.0.0.1', port }).connect().then(
      () => new Error('connected'),
      (error: Error) => error,
    );
    const restarting = new QueryFailedError('SELECT 1', [], Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
    for (const cause of [refused, restarting, new Error('Connection terminated unexpectedly')]) {
      const result = inRequest(['en'], () => formatted(new GraphQLError(cause.message, { originalError: cause })));
      expect(result).toEqual({
        message: 'A service this request needs is unavailable; try again later',
        path: ['field'],
        extensions: { code: 'SERVICE_UNAVAILABLE', requestId: 'request-abcdef12' },
      });
    }
    const constraint = new QueryFailedError('INSERT', [], Object.assign(new Error('duplicate key'), { code: '23505' }));
    expect(inRequest(['en'], () => formatted(new GraphQLError('x', { originalError: constraint }))).extensions?.code).toBe('INTERNAL');
  });

  it('hides unexpected errors behind INTERNAL with the request id', () => {
    const leak = new GraphQLError('duplicate key value violates unique constraint "users_email_key"', {
      originalError: new Error('duplicate key value violates unique constraint "users_email_key"'),
    });
    const result = inRequest(['en'], () => formatted(leak));
    expect(result).toEqual({
      message: 'Internal server error',
      path: ['field'],
      extensions: { code: 'INTERNAL', requestId: 'request-abcdef12' },
    });
    expect(JSON.stringify(result)).not.toContain('users_email_key');
  });

  it('passes through errors a subgraph already formatted, and protocol errors', () => {
    const relayed = new GraphQLError('Email or password is incorrect', {
      extensions: { code: 'UNAUTHENTICATED', requestId: 'upstream-request', serviceName: 'auth', internal: 'x' },
    });
    expect(formatError({ message: relayed.message, extensions: relayed.extensions }, relayed)).toEqual({
      message: 'Email or password is incorrect',
      extensions: { code: 'UNAUTHENTICATED', requestId: 'upstream-request' },
    });
    const parse = formatError({ message: 'Syntax Error', extensions: { code: 'GRAPHQL_PARSE_FAILED' } }, new GraphQLError('Syntax Error'));
    expect(parse.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('drops the schema names graphql-js suggests, from validation and from variable coercion alike', () => {
    const schema = buildSchema('enum Role { ADMIN EDITOR } type User { email: String } type Query { me: User users(role: Role): [User] }');
    const [unknownField] = validate(schema, parse('{ me { emial } }'));
    const operation = parse('query($role: Role) { users(role: $role) { email } }').definitions[0] as OperationDefinitionNode;
    const coercion = getVariableValues(schema, operation.variableDefinitions ?? [], { role: 'ADMN' }).errors?.[0];
    expect(unknownField.message).toContain('Did you mean "email"?');
    expect(coercion?.message).toContain('Did you mean the enum value "ADMIN"?');

    const validation = formatError({ message: unknownField.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }, unknownField);
    const input = formatError({ message: coercion?.message ?? '', extensions: { code: 'BAD_USER_INPUT' } }, coercion);
    expect([validation.message, input.message]).toEqual([
      'Cannot query field "emial" on type "User".',
      'Variable "$role" got invalid value "ADMN"; Value "ADMN" does not exist in "Role" enum.',
    ]);
  });
});
