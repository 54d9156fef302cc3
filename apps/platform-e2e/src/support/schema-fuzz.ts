// Schema-driven fuzzing: every root field of the supergraph's API schema, its arguments generated
// from their types (recursively through input objects, lists, enums and custom scalars) as a mix
// of well-formed and hostile values, and an oracle for what a client may be answered.
import { Supergraph } from '@apollo/federation-internals';
import fc from 'fast-check';
import {
  GraphQLArgument,
  GraphQLEnumType,
  GraphQLField,
  GraphQLInputObjectType,
  GraphQLInputType,
  GraphQLNamedType,
  GraphQLObjectType,
  GraphQLOutputType,
  GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isRequiredArgument,
  isRequiredInputField,
  isUnionType,
} from 'graphql';
import { ErrorCode } from '@multipult/graphql';
import type { GraphQLResult } from '@multipult/testing';

/** The schema clients see: the supergraph without its federation machinery. */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
}

export interface FuzzTarget {
  operation: 'query' | 'mutation' | 'subscription';
  field: GraphQLField<unknown, unknown>;
  /** The operation calling the field with one variable per argument, named as the argument. */
  document: string;
}

/** Every query, mutation and subscription field, each with an operation that calls it. */
export function fuzzTargetsOf(schema: GraphQLSchema): FuzzTarget[] {
  const roots: [FuzzTarget['operation'], GraphQLObjectType | null | undefined][] = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
    ['subscription', schema.getSubscriptionType()],
  ];
  return roots.flatMap(([operation, root]) =>
    Object.values(root?.getFields() ?? {}).map((field) => ({ operation, field, document: operationFor(operation, field) })),
  );
}

function operationFor(operation: FuzzTarget['operation'], field: GraphQLField<unknown, unknown>): string {
  const declarations = field.args.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ');
  const argumentList = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  return `${operation} Fuzz${declarations ? `(${declarations})` : ''} { ${field.name}${argumentList ? `(${argumentList})` : ''}${selectionSetOf(field.type)} }`;
}

const takesNoArguments = (field: GraphQLField<unknown, unknown>) => !field.args.some(isRequiredArgument);

/** The id-ish leaf of an object: `id`, else the first leaf named like an id or cursor, else the first leaf. */
function idLeafOf(type: GraphQLObjectType): string | undefined {
  const leaves = Object.values(type.getFields()).filter((field) => takesNoArguments(field) && isLeafType(getNamedType(field.type)));
  return (leaves.find((field) => field.name === 'id') ?? leaves.find((field) => /(Id|cursor)$/.test(field.name)) ?? leaves[0])?.name;
}

/**
 * The minimal selection of a field's type: nothing for leaves; for the root field's object, its
 * `__typename`, its leaves and `__typename` plus an id-ish leaf of each object it holds (so the
 * resolvers of the root field and of its direct fields run); union members by fragment.
 */
export function selectionSetOf(type: GraphQLOutputType, depth = 0): string {
  const named = getNamedType(type) as GraphQLNamedType;
  if (isLeafType(named)) return '';
  if (isUnionType(named)) return ` { __typename ${named.getTypes().map((member) => `... on ${member.name}${selectionSetOf(member, depth + 1)}`).join(' ')} }`;
  if (!isObjectType(named) && !isInterfaceType(named)) return ' { __typename }';
  if (depth > 0) {
    const idLeaf = isObjectType(named) ? idLeafOf(named) : undefined;
    return ` { __typename${idLeaf ? ` ${idLeaf}` : ''} }`;
  }
  const selections = Object.values(named.getFields())
    .filter(takesNoArguments)
    .map((field) => `${field.name}${selectionSetOf(field.type, depth + 1)}`);
  return ` { __typename ${selections.join(' ')} }`;
}

/** Values seen in answers (ids, cursors), so generated arguments can point at things that exist. */
export class ValuePool {
  readonly ids = new Set<string>();
  readonly cursors = new Set<string>();

  harvest(value: unknown, key = ''): void {
    if (typeof value === 'string') {
      if (/^(id|.*Id)$/.test(key) && value.length <= 100) this.ids.add(value);
      if (/^(cursor|endCursor|startCursor)$/.test(key)) this.cursors.add(value);
    } else if (Array.isArray(value)) {
      for (const item of value) this.harvest(item, key);
    } else if (value && typeof value === 'object') {
      for (const [childKey, child] of Object.entries(value)) this.harvest(child, childKey);
    }
  }
}

// JSON.rawJSON (Node 21+) sends numbers JavaScript cannot hold: past 2^53, past Float64.
const rawJson = (text: string): unknown => (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(text);

/** Just under the gateway's default body limit (1 MiB), so it reaches the subgraphs. */
const ONE_MEGABYTE = 1_000_000;
const base64Json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Strings no input should choke on. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  ' \t\n\r ',
  '\u0000',
  'nul\u0000inside',
  '\ud800',
  '\udfff',
  'lone \udc00 surrogate \ud83d',
  "' OR 1=1 --",
  "'; DROP TABLE users; --",
  '"\\\'`;',
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%00%2e%2e%2f',
  '%s%n%x',
  '\u202Etxt.exe\u202C',
  `e${'\u0301'.repeat(300)}`,
  '👩‍👩‍👧‍👦🏳️‍🌈',
  '\uFEFF\u200B\u2060',
  '\u00C0\u00AF\u00E0\u0080\u00AF',
  'İıßẞﬃ',
  '<script>alert(1)</script>',
  '{{7*7}}${7*7}',
  '__proto__',
  'constructor',
  'NaN',
  '-1',
  '9'.repeat(40),
  'a'.repeat(10_000),
  'é'.repeat(70_000),
  'x'.repeat(ONE_MEGABYTE),
  // Past the limit in characters, and in UTF-8 bytes only.
  'x'.repeat(1024 * 1024 + 1),
  '€'.repeat(400_000),
];

const HOSTILE_IDS: readonly string[] = [
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
  '123e4567-e89b-12d3-a456-42661417400g',
  '123e4567-e89b-12d3-a456-426614174000 ',
  '123e4567-e89b-12d3-a456-426614174000\u0000',
  '{123e4567-e89b-12d3-a456-426614174000}',
  '0',
  '-1',
  '1e308',
];

/** Cursors a client could forge: not base64, base64 of garbage, base64 of JSON of the wrong shape or types. */
const FORGED_CURSORS: readonly string[] = [
  '!!!not base64!!!',
  'AAAA',
  '=',
  base64Json(null),
  base64Json('cursor'),
  base64Json([1, 2, 3]),
  base64Json({}),
  base64Json({ v: 1 }),
  base64Json({ v: '1', f: 1, k: 'x' }),
  base64Json({ v: 1, f: 'x', k: [null, {}] }),
  base64Json({ v: 1, f: 'x', k: ['not-a-date', 'not-a-uuid'] }),
  base64Json({ v: 1e308, f: [], k: [1e308, -1e308] }),
  base64Json({ v: 1, f: 'x', k: Array.from({ length: 10_000 }, () => 'a') }),
  base64Json({ id: "' OR 1=1 --", createdAt: '2026-13-45T99:99:99Z' }),
  base64Json({ offset: -1 }),
  base64Json({ offset: 2 ** 53 + 1 }),
  Buffer.from('\u0000\u0000').toString('base64'),
];

const HOSTILE_INTS: readonly unknown[] = [
  -1,
  0,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 53 + 1,
  rawJson('9007199254740993'),
  rawJson('1e400'),
  1e308,
  -1e308,
  1.5,
  -0,
];
const HOSTILE_FLOATS: readonly unknown[] = [1e308, -1e308, 5e-324, -0, rawJson('1e400'), rawJson('-1e400'), 2 ** 53 + 1, -1];
const HOSTILE_DATES: readonly string[] = [
  '2026-02-30T00:00:00Z',
  '2026-13-45T99:99:99Z',
  '0000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
  '9999-12-31T23:59:59.999Z',
  '1970-01-01T00:00:00Z',
  '2026-01-01T00:00:00+99:99',
  '2026-01-01',
  'tomorrow',
];

/** Values of the wrong JSON type for any scalar, so variable coercion is exercised too. */
const WRONG_TYPES: readonly unknown[] = [null, true, 42, 'text', [], [[['deep']]], {}, { nested: { object: true } }];

const deepObject = (depth: number): unknown => {
  let value: unknown = { leaf: true };
  for (let level = 0; level < depth; level += 1) value = { a: value };
  return value;
};
const deepList = (depth: number): unknown => {
  let value: unknown = ['leaf'];
  for (let level = 0; level < depth; level += 1) value = [value];
  return value;
};
const HOSTILE_JSON_OBJECTS: readonly unknown[] = [
  {},
  deepObject(2_000),
  JSON.parse('{"__proto__": {"isAdmin": true}, "constructor": {"prototype": {"polluted": true}}}'),
  { '\u0000': '\u0000', '': '', '\ud800': 1 },
  Object.fromEntries(Array.from({ length: 5_000 }, (_, index) => [`key${index}`, index])),
  { number: 1e308, nested: [1, 'two', null, { three: [] }] },
];

export interface ValueContext {
  pool: ValuePool;
  /** Ids the principal owns (its user, its tenant), so some arguments name real things. */
  ownIds: readonly string[];
}

interface ArbitraryOptions {
  /** Only well-formed values: the right types, required fields present, plausible content. */
  wellFormed: boolean;
}

const weighted = <T>(...choices: [number, fc.Arbitrary<T>][]) =>
  fc.oneof(...choices.filter(([weight]) => weight > 0).map(([weight, arbitrary]) => ({ weight, arbitrary })));

/** Ids: of things that exist, random UUIDs and (unless well-formed) malformed ones. */
function idArbitrary(context: ValueContext, options: ArbitraryOptions): fc.Arbitrary<unknown> {
  const known = [...context.ownIds, ...context.pool.ids];
  return weighted<unknown>(
    [6, fc.constantFrom(...known)],
    [2, fc.uuid()],
    [options.wellFormed ? 0 : 3, fc.constantFrom(...HOSTILE_IDS, ...HOSTILE_STRINGS)],
  );
}

function cursorArbitrary(context: ValueContext, options: ArbitraryOptions): fc.Arbitrary<unknown> {
  const harvested = [...context.pool.cursors];
  return weighted<unknown>(
    [harvested.length ? 3 : 0, fc.constantFrom(...(harvested.length ? harvested : ['']))],
    [options.wellFormed ? 1 : 4, fc.constantFrom(...FORGED_CURSORS)],
    [options.wellFormed ? 0 : 2, fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('base64'))],
    [options.wellFormed ? 0 : 1, fc.constantFrom(...HOSTILE_STRINGS)],
  );
}

/** Well-formed strings, by what the argument's name says it holds. */
function plausibleString(name: string, context: ValueContext): fc.Arbitrary<unknown> {
  if (/email/i.test(name)) return fc.oneof(fc.emailAddress(), fc.uuid().map((id) => `fuzz-${id}@example.com`));
  // Local or unresolvable hosts only: webhooks and JIRA connections call what they are given.
  if (/url|uri|endpoint/i.test(name)) return fc.constantFrom('http://127.0.0.1:9/hook', 'https://jira.invalid/', 'https://fuzz.invalid/path?q=1');
  if (/password/i.test(name)) return fc.constantFrom('correct horse 9 battery', 'short');
  if (/slug/i.test(name)) return fc.stringMatching(/^[a-z][a-z0-9-]{2,20}$/);
  if (/locale|language/i.test(name)) return fc.constantFrom('en', 'de', 'fr-CA', 'xx');
  if (/token|code|secret|state/i.test(name)) return fc.oneof(fc.stringMatching(/^[0-9]{6}$/), fc.base64String({ maxLength: 64 }));
  if (/model/i.test(name)) return fc.constantFrom('fake/fuzz', 'unknown/model');
  if (/role/i.test(name)) return fc.constantFrom('admin', 'member', 'viewer', 'owner');
  if (/type/i.test(name)) return fc.constantFrom('document.published', 'document.created', 'comment.added');
  if (/^after$|cursor/i.test(name)) return cursorArbitrary(context, { wellFormed: true });
  return fc.string({ maxLength: 40, unit: 'grapheme' });
}

function scalarArbitrary(name: string, typeName: string, context: ValueContext, options: ArbitraryOptions): fc.Arbitrary<unknown> {
  const hostileWeight = options.wellFormed ? 0 : 3;
  const wrongTypeWeight = options.wellFormed ? 0 : 1;
  const wrongType = fc.constantFrom(...WRONG_TYPES);
  switch (typeName) {
    case 'ID':
      return weighted([6, idArbitrary(context, options)], [wrongTypeWeight, wrongType]);
    case 'Int':
      return weighted<unknown>(
        [6, fc.integer({ min: 0, max: 50 })],
        [hostileWeight, fc.constantFrom(...HOSTILE_INTS)],
        [wrongTypeWeight, wrongType],
      );
    case 'Float':
      return weighted<unknown>(
        [6, fc.double({ min: -1000, max: 1000, noNaN: true })],
        [hostileWeight, fc.constantFrom(...HOSTILE_FLOATS)],
        [wrongTypeWeight, wrongType],
      );
    case 'Boolean':
      return weighted<unknown>([6, fc.boolean()], [wrongTypeWeight, fc.constantFrom('true', 0, 1, 'yes')]);
    case 'DateTime':
      return weighted<unknown>(
        [6, fc.date({ min: new Date('1990-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((date) => date.toISOString())],
        [hostileWeight, fc.constantFrom(...HOSTILE_DATES, ...HOSTILE_STRINGS)],
        [wrongTypeWeight, fc.constantFrom(0, -8.64e15, 8.64e15 + 1, ...WRONG_TYPES)],
      );
    case 'JSONObject':
    case 'JSON':
      return weighted<unknown>(
        [6, fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })],
        [hostileWeight, fc.constantFrom(...HOSTILE_JSON_OBJECTS)],
        [wrongTypeWeight, wrongType],
      );
    case 'String':
    default:
      return weighted<unknown>(
        [6, plausibleString(name, context)],
        [/^after$|cursor/i.test(name) ? hostileWeight * 2 : 0, cursorArbitrary(context, options)],
        [/id$|ids$/i.test(name) ? 6 : 0, idArbitrary(context, options)],
        [hostileWeight, fc.constantFrom(...HOSTILE_STRINGS)],
        [wrongTypeWeight, wrongType],
      );
  }
}

function enumArbitrary(type: GraphQLEnumType, options: ArbitraryOptions): fc.Arbitrary<unknown> {
  const values = type.getValues().map((value) => value.name);
  return weighted<unknown>(
    [6, fc.constantFrom(...values)],
    [options.wellFormed ? 0 : 2, fc.constantFrom('NOT_A_VALUE', values[0].toLowerCase(), '', ` ${values[0]}`, 0, `${values[0]}\u0000`)],
  );
}

function inputObjectArbitrary(type: GraphQLInputObjectType, context: ValueContext, options: ArbitraryOptions, depth: number): fc.Arbitrary<unknown> {
  const fields = Object.values(type.getFields());
  const record = fc.record(
    Object.fromEntries(fields.map((field) => [field.name, valueArbitrary(field.name, field.type, context, options, depth + 1)])),
    { requiredKeys: fields.filter(isRequiredInputField).map((field) => field.name) },
  );
  if (options.wellFormed) return record;
  const required = fields.filter(isRequiredInputField).map((field) => field.name);
  return weighted<unknown>(
    [8, record],
    // A required field missing, an unknown one added.
    [required.length ? 1 : 0, fc.tuple(record, fc.constantFrom(...(required.length ? required : ['']))).map(([value, missing]) => {
      const { [missing]: _omitted, ...rest } = value as Record<string, unknown>;
      return rest;
    })],
    [1, record.map((value) => ({ ...(value as object), unknownField: 'x' }))],
    [1, fc.constantFrom(...WRONG_TYPES)],
  );
}

/** A value for a variable of `type`, named `name` (the name guides plausible content). */
export function valueArbitrary(
  name: string,
  type: GraphQLInputType,
  context: ValueContext,
  options: ArbitraryOptions,
  depth = 0,
): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) {
    const inner = valueArbitrary(name, type.ofType, context, options, depth);
    return options.wellFormed ? inner : weighted<unknown>([20, inner], [1, fc.constant(null)]);
  }
  const nullable = (arbitrary: fc.Arbitrary<unknown>) =>
    // Nested optional values are often left out by the enclosing record already.
    weighted<unknown>([depth === 0 ? 4 : 8, arbitrary], [1, fc.constant(null)]);
  if (isListType(type)) {
    const item = valueArbitrary(name, type.ofType, context, options, depth + 1);
    const list = fc.array(item, { maxLength: 4 });
    if (options.wellFormed) return nullable(list);
    return nullable(
      weighted<unknown>(
        [8, list],
        [1, item.map((value) => Array.from({ length: 5_000 }, () => value))],
        [1, fc.constant(deepList(500))],
        [1, item],
      ),
    );
  }
  if (isEnumType(type)) return nullable(enumArbitrary(type, options));
  if (isInputObjectType(type)) {
    if (depth > 4) return fc.constant(null);
    return nullable(inputObjectArbitrary(type, context, options, depth));
  }
  return nullable(scalarArbitrary(name, type.name, context, options));
}

/** The variables of one call: mostly well-formed ones (so resolvers run), often with hostile values inside. */
export function variablesArbitrary(
  args: readonly GraphQLArgument[],
  context: ValueContext,
): fc.Arbitrary<Record<string, unknown>> {
  const variables = (options: ArbitraryOptions) =>
    fc.record(
      Object.fromEntries(args.map((arg) => [arg.name, valueArbitrary(arg.name, arg.type, context, options)])),
      { requiredKeys: options.wellFormed ? args.filter(isRequiredArgument).map((arg) => arg.name) : [] },
    ) as fc.Arbitrary<Record<string, unknown>>;
  return weighted([1, variables({ wellFormed: true })], [2, variables({ wellFormed: false })]);
}

const ODD_OPERATION_NAMES = [null, '', 'Other', 'Fuzz\u0000', 'x'.repeat(10_000)];

/** The operation's name as a client might send it: none, the right one, another, or not a name at all. */
export const operationNameArbitrary: fc.Arbitrary<{ operationName?: unknown }> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({}) },
  { weight: 2, arbitrary: fc.constant({ operationName: 'Fuzz' }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<unknown>(...ODD_OPERATION_NAMES, 42, ['Fuzz'], { name: 'Fuzz' })
      .map((operationName) => ({ operationName })),
  },
);

/**
 * The same over graphql-ws, where an operationName that is not a string breaks the protocol (the
 * client refuses to send it; a server would close the socket with 4400).
 */
export const socketOperationNameArbitrary: fc.Arbitrary<{ operationName?: string | null }> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({}) },
  { weight: 2, arbitrary: fc.constant({ operationName: 'Fuzz' }) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD_OPERATION_NAMES).map((operationName) => ({ operationName })) },
);

/**
 * connection_init payloads of a client without a valid token: none, empty or forged bearer tokens,
 * wrong types, hostile tenants and locales (each under the socket's message size limit).
 */
export const anonymousConnectionParamsArbitrary: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.constant({}),
  fc.constantFrom<unknown>('', 'Bearer ', 'Bearer not.a.token', 'Basic dXNlcjpwYXNz', 42, null, ['Bearer x'], { token: 'x' }).map((authorization) => ({ authorization })),
  fc
    .tuple(fc.constantFrom(...HOSTILE_STRINGS.filter((text) => text.length < 1_000)), fc.constantFrom(...HOSTILE_IDS), fc.constantFrom(...HOSTILE_STRINGS.slice(0, 20)))
    .map(([token, tenantId, locale]) => ({ authorization: `Bearer ${token}`, accessToken: token, tenantId, locale, clientId: locale })),
  fc.base64String({ minLength: 20, maxLength: 400 }).map((token) => ({ authorization: `Bearer ${token}.${token}.${token}` })),
);

/**
 * Codes a client may be answered with: the platform's own (libs/graphql errors.ts) except
 * INTERNAL, and those Apollo and the gateway answer for requests they refuse before execution.
 */
export const CLIENT_ERROR_CODES: ReadonlySet<string> = new Set([
  ...Object.values(ErrorCode).filter((code) => code !== ErrorCode.INTERNAL),
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'TOO_MANY_REQUESTS',
  'METHOD_NOT_ALLOWED',
]);

/** Codes of guards and limits, which answer before the resolver runs. */
const REFUSED_BEFORE_RESOLVER = new Set<string>([ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN, ErrorCode.RATE_LIMITED]);

const DRIVER_TEXT = /syntax error at or near|violates|relation ".*"|duplicate key|QueryFailedError|invalid input syntax|TypeORM|invalid byte sequence|out of range for type|value too long for type|EntityNotFound|ECONNREFUSED/i;
const SOURCE_TEXT = /node_modules|(?:\/[\w.@-]+)+\.(?:[cm]?js|ts)\b|\bat .+\(.+:\d+:\d+\)|\bat (?:async )?[\w.<>]+ \(/;

export interface Verdict {
  /** What no client may see in this answer; empty when the answer is acceptable. */
  problems: string[];
  /**
   * The call got past validation, authentication and authorization into the field's resolver: data
   * came back, or an error other than UNAUTHENTICATED, FORBIDDEN or RATE_LIMITED was raised while
   * executing (it has a path).
   */
  resolverReached: boolean;
  codes: string[];
}

/** Whether an answer is one a client may get: 2xx/4xx, data or typed client errors, nothing internal. */
export function verdictOf(result: Pick<GraphQLResult<unknown>, 'status' | 'data' | 'errors'>): Verdict {
  const problems: string[] = [];
  const errors = result.errors ?? [];
  const codes = errors.map((error) => String(error.extensions?.code ?? 'none'));
  if (result.status >= 500 || result.status < 200 || (result.status >= 300 && result.status < 400)) problems.push(`HTTP ${result.status}`);
  if (result.data === undefined && !errors.length) problems.push('neither data nor errors');
  for (const error of errors) {
    const code = error.extensions?.code;
    if (typeof code !== 'string' || !CLIENT_ERROR_CODES.has(code)) problems.push(`error code ${String(code)}: ${error.message.slice(0, 200)}`);
    if (error.extensions && ('stacktrace' in error.extensions || 'exception' in error.extensions)) problems.push('stack trace in extensions');
    if (DRIVER_TEXT.test(error.message)) problems.push(`database text in message: ${error.message.slice(0, 200)}`);
    if (SOURCE_TEXT.test(error.message)) problems.push(`source path in message: ${error.message.slice(0, 200)}`);
  }
  const data = result.data as Record<string, unknown> | null | undefined;
  const resolverReached =
    (!!data && Object.values(data).some((value) => value !== null)) ||
    errors.some((error) => !!error.path && !REFUSED_BEFORE_RESOLVER.has(String(error.extensions?.code)));
  return { problems, resolverReached, codes };
}

/** A value as printed in a report: JSON, long strings cut. */
export function printable(value: unknown, maxLength = 2_000): string {
  const text = JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' && item.length > 80 ? `${item.slice(0, 60)}…(${item.length} chars)` : item));
  return text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
}
