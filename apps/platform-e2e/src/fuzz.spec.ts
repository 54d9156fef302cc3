import { randomUUID } from 'node:crypto';
import { globSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { getNamedType, isListType, isNonNullType } from 'graphql';
import { Platform, eventually, graphql, workspaceRoot } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';
import { grantPlatformRole, signIn } from './support/admin';
import { usePlatform } from './support/platforms';
import {
  FuzzTarget,
  ValuePool,
  anonymousConnectionParamsArbitrary,
  apiSchemaOf,
  fuzzTargetsOf,
  operationNameArbitrary,
  printable,
  socketOperationNameArbitrary,
  variablesArbitrary,
  verdictOf,
} from './support/schema-fuzz';
import { FuzzSocket, SocketAnswer, answerProblems, internalRequestIdOf } from './support/socket-fuzz';

// Deterministic by default; FUZZ_SEED, FUZZ_RUNS (calls per field) and FUZZ_FIELDS (comma list) widen or narrow a run.
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_203);
const RUNS_PER_FIELD = Number(process.env.FUZZ_RUNS ?? 6);
const ONLY_FIELDS = process.env.FUZZ_FIELDS?.split(',').map((name) => name.trim()).filter(Boolean);
/** Shrink a failure to a smaller counterexample (slow: every shrink step is a call); off by default. */
const SHRINK = process.env.FUZZ_SHRINK === '1';
/** Report every failing call of a field, not only the first. */
const KEEP_GOING = process.env.FUZZ_KEEP_GOING === '1';
/** At least this share of authenticated calls must get past validation into a resolver. */
const MIN_RESOLVER_SHARE = 0.3;
/** Below the gateway's per-user limit (RATE_LIMIT_PER_USER, 1200 a minute): a fresh principal before it. */
const REQUESTS_PER_PRINCIPAL = 700;

/**
 * Fields whose success ends or cripples the caller's session, account or membership: each gets a
 * throwaway user and tenant of its own, and runs last, so the other fields keep a working principal.
 */
const DESTRUCTIVE_FIELDS = new Set([
  'logout',
  'revokeSession',
  'revokeOtherSessions',
  'deleteMyAccount',
  'deleteUserPermanently',
  'banUser',
  'changePassword',
  'resetPassword',
  'removeTenantMember',
  'changeTenantMemberRole',
  'bulkRemoveRole',
  'deleteTenantRole',
  'confirmTotp',
  'disableTotp',
  'regenerateBackupCodes',
  'enrollTotp',
  'revokeApiKey',
  'updateTenantSettings',
]);

/**
 * Root fields a resolver guards with @RequirePlatformPermissions (read from the resolvers, so a new
 * admin field is fuzzed past authorization without being listed): called by a platform admin too.
 */
function platformGuardedFields(): Set<string> {
  const names = new Set<string>();
  for (const file of globSync('apps/*/src/**/*.resolver.ts', { cwd: workspaceRoot() })) {
    const source = readFileSync(path.join(workspaceRoot(), file), 'utf8');
    for (const guard of source.matchAll(/@RequirePlatformPermissions\(/g)) {
      // The decorated method: the next line that starts with a lower-case name and its parameter list.
      const method = /\n\s*(?:async\s+)?([a-z]\w*)\(/.exec(source.slice(guard.index));
      if (method) names.add(method[1]);
    }
  }
  return names;
}
const PLATFORM_FIELDS = platformGuardedFields();

/** Queries first, then mutations that create (their ids feed later calls), the others, the destructive ones last. */
function runOrder(target: FuzzTarget): number {
  if (DESTRUCTIVE_FIELDS.has(target.field.name)) return 3;
  if (target.operation === 'query') return 0;
  return /^(create|add|register|start|request)/.test(target.field.name) ? 1 : 2;
}

const schema = apiSchemaOf(readFileSync(path.join(workspaceRoot(), 'deploy/supergraph.graphql'), 'utf8'));
const allTargets = fuzzTargetsOf(schema).filter((target) => !ONLY_FIELDS || ONLY_FIELDS.includes(target.field.name));
const targets = allTargets.filter((target) => target.operation !== 'subscription').sort((a, b) => runOrder(a) - runOrder(b));
const subscriptionTargets = allTargets.filter((target) => target.operation === 'subscription');

/**
 * A well-formed subscription to the hostile one's subgraph that answers at once: a subgraph takes a
 * socket's operations in order, so once it answered, the hostile one has been taken too. The
 * notifications subgraph's unread count answers with data; the others' fields, for a random id, NOT_FOUND.
 */
const PROBES: Record<string, { query: string; variables?: () => Record<string, unknown>; answers: 'data' | 'NOT_FOUND' }> = {
  runEvents: { query: 'subscription($id: ID!) { runEvents(runId: $id) { __typename } }', variables: () => ({ id: randomUUID() }), answers: 'NOT_FOUND' },
  commentAdded: { query: 'subscription($id: ID!) { commentAdded(documentId: $id) { id } }', variables: () => ({ id: randomUUID() }), answers: 'NOT_FOUND' },
  exportProgress: { query: 'subscription($id: ID!) { exportProgress(id: $id) { id } }', variables: () => ({ id: randomUUID() }), answers: 'NOT_FOUND' },
};
const UNREAD_COUNT = { query: 'subscription { unreadCountChanged }', answers: 'data' as const };
const probeFor = (fieldName: string) => PROBES[fieldName] ?? UNREAD_COUNT;

const MALFORMED_IDS = ['not-a-uuid', "' OR 1=1 --", '../../etc/passwd', '123e4567-e89b-12d3-a456-42661417400g'];

/** Fields whose only arguments are required ids (`agent(id: ID!)`, `cancelAgentRun(runId: ID!)` …). */
function takesIdArgument(target: FuzzTarget): boolean {
  return target.field.args.length > 0 && target.field.args.every((arg) => isNonNullType(arg.type) && getNamedType(arg.type).name === 'ID' && !isListType(arg.type.ofType));
}

/** A per-field seed, so a field's calls are the same whichever fields run before it. */
/** Fails the field's test with its first failure (or every one, FUZZ_KEEP_GOING) and the command that reproduces it. */
function throwOnFailures<Values>(fieldName: string, details: fc.RunDetails<Values>, failures: string[], options: { withCounterexample: boolean }): void {
  const reproduce = `reproduce: FUZZ_SEED=${SEED} FUZZ_FIELDS=${fieldName} FUZZ_RUNS=${RUNS_PER_FIELD} npx jest src/fuzz.spec.ts (fast-check seed ${details.seed}, path ${details.counterexamplePath ?? '-'})`;
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    const counterexample = options.withCounterexample ? `\n  counterexample: ${printable(details.counterexample, 500)}` : '';
    throw new Error(`${cause}${counterexample}\n  ${reproduce}`);
  }
  if (failures.length) throw new Error(`${failures.length} failing calls:\n${failures.join('\n')}\n  ${reproduce}`);
}

function seedOf(fieldName: string): number {
  let hash = SEED | 0;
  for (const char of fieldName) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  return hash;
}

interface Principal {
  token: string;
  userId: string;
  /** Absent for the platform admin, who acts in no tenant. */
  tenantId?: string;
  requests: number;
}

type Caller = 'authenticated' | 'anonymous' | 'admin';

/** Who calls: the platform admin most often on the fields only it may use, else the tenant user. */
function callerArbitrary(fieldName: string): fc.Arbitrary<Caller> {
  const admin = PLATFORM_FIELDS.has(fieldName);
  return fc.oneof(
    { weight: admin ? 1 : 4, arbitrary: fc.constant<Caller>('authenticated') },
    { weight: 1, arbitrary: fc.constant<Caller>('anonymous') },
    ...(admin ? [{ weight: 4, arbitrary: fc.constant<Caller>('admin') }] : []),
  );
}

/** The ids a field's arguments may name: the principal's (or, for the admin, its target's), never the admin's own. */
const ownIdsOf = (principal: Principal) => [principal.userId, ...(principal.tenantId ? [principal.tenantId] : [])];

interface FieldStats {
  calls: number;
  authenticatedCalls: number;
  resolverReached: number;
  codes: Record<string, number>;
}

describe('schema-driven fuzzing through the gateway', () => {
  let platform: Platform;
  let shared: Principal;
  let sharedAdmin: Principal | undefined;
  const pool = new ValuePool();
  const stats = new Map<string, FieldStats>();

  /** What the services logged for a request (the cause of an INTERNAL error), if anything arrives within a second. */
  async function loggedCause(requestId: unknown): Promise<string> {
    if (typeof requestId !== 'string') return '';
    const processes = [...Object.values(platform.services), platform.gateway];
    const lines = await eventually(
      `log lines of ${requestId}`,
      () => {
        const found = processes.flatMap((service) => service.output().split('\n').filter((line) => line.includes(requestId) && /"level":"(warn|error|fatal)"/.test(line)));
        return found.length ? found : undefined;
      },
      1_000,
    ).catch(() => []);
    return lines.map((line) => `  log: ${line.slice(0, 1_000)}`).join('\n');
  }

  async function newPrincipal(): Promise<Principal> {
    const account = await registerAccount(platform.gatewayUrl, 'fuzz');
    const tenant = await createTenantFor(platform.gatewayUrl, account);
    return { token: tenant.accessToken, userId: account.userId, tenantId: tenant.tenantId, requests: 3 };
  }

  /** A fresh platform admin: granted the role as an operator does, then signed in so its token carries it. */
  async function newAdmin(): Promise<Principal> {
    const account = await registerAccount(platform.gatewayUrl, 'fuzz-admin');
    await grantPlatformRole(platform, account.email, 'platform_admin');
    return { token: await signIn(platform, account.email), userId: account.userId, requests: 4 };
  }

  /** The shared principal, replaced when a field ended its session or it nears the per-user rate limit. */
  async function sharedPrincipal(): Promise<Principal> {
    const alive = await graphql<{ me: { id: string } | null }>(platform.gatewayUrl, '{ me { id } }', { token: shared.token });
    shared.requests += 1;
    if (!alive.data?.me || shared.requests > REQUESTS_PER_PRINCIPAL) shared = await newPrincipal();
    return shared;
  }

  /** The shared platform admin, replaced when it was banned, erased or lost its role (by a field run before). */
  async function sharedPlatformAdmin(): Promise<Principal> {
    if (sharedAdmin) {
      const alive = await graphql<{ systemStats: { usersTotal: number } | null }>(platform.gatewayUrl, '{ systemStats { usersTotal } }', { token: sharedAdmin.token });
      sharedAdmin.requests += 1;
      if (alive.data?.systemStats && sharedAdmin.requests <= REQUESTS_PER_PRINCIPAL) return sharedAdmin;
    }
    sharedAdmin = await newAdmin();
    return sharedAdmin;
  }

  beforeAll(async () => {
    platform = await usePlatform('default');
    shared = await newPrincipal();
  });

  /** Adds one call's answer to a field's figures; on fields of the platform admin only its calls count as authenticated. */
  function count(fieldStats: FieldStats, fieldName: string, caller: Caller, verdict: { codes: string[]; resolverReached: boolean }): void {
    fieldStats.calls += 1;
    for (const code of verdict.codes.length ? new Set(verdict.codes) : ['data']) fieldStats.codes[code] = (fieldStats.codes[code] ?? 0) + 1;
    if (caller === (PLATFORM_FIELDS.has(fieldName) ? 'admin' : 'authenticated')) {
      fieldStats.authenticatedCalls += 1;
      if (verdict.resolverReached) fieldStats.resolverReached += 1;
    }
  }

  // The tables below are guarded: it.each refuses an empty one, which FUZZ_FIELDS can leave.
  it('finds the platform-guarded fields in the resolvers and the schema', () => {
    expect([...PLATFORM_FIELDS].filter((name) => !schema.getQueryType()?.getFields()[name] && !schema.getMutationType()?.getFields()[name])).toEqual([]);
    expect([...PLATFORM_FIELDS]).toEqual(expect.arrayContaining(['adminUsers', 'banUser', 'unbanUser', 'bulkAssignRole', 'bulkRemoveRole', 'systemStats', 'auditLog', 'exportAuditLog']));
  });

  if (targets.length) it.each(targets.map((target) => [`${target.operation} ${target.field.name}`, target] as const))('%s', async (label, target) => {
    const destructive = DESTRUCTIVE_FIELDS.has(target.field.name);
    const principal = destructive ? await newPrincipal() : await sharedPrincipal();
    // The destructive admin fields (bans, erasure, role removal) get an admin of their own, run last,
    // and aim at the throwaway principal, so the shared ones keep working for the fields before them.
    const admin = PLATFORM_FIELDS.has(target.field.name) ? (destructive ? await newAdmin() : await sharedPlatformAdmin()) : undefined;
    const fieldStats: FieldStats = { calls: 0, authenticatedCalls: 0, resolverReached: 0, codes: {} };
    stats.set(label, fieldStats);
    const failures: string[] = [];
    const calls = fc.tuple(
      callerArbitrary(target.field.name),
      variablesArbitrary(target.field.args, { pool, ownIds: ownIdsOf(principal) }),
      operationNameArbitrary,
    );
    const details = await fc.check(
      fc.asyncProperty(calls, async ([caller, variables, operationName]) => {
        const actor = caller === 'admin' ? admin : caller === 'authenticated' ? principal : undefined;
        const result = await graphql(platform.gatewayUrl, target.document, { variables, ...operationName, token: actor?.token });
        if (actor) actor.requests += 1;
        const verdict = verdictOf(result);
        count(fieldStats, target.field.name, caller, verdict);
        if (actor) pool.harvest(result.data);
        if (!verdict.problems.length) return;
        const failure = [
          `${label} as ${caller}: ${verdict.problems.join('; ')}`,
          `  variables: ${printable(variables)}${'operationName' in operationName ? `, operationName: ${printable(operationName.operationName)}` : ''}`,
          `  answer (HTTP ${result.status}): ${result.text.slice(0, 1_500)}`,
          await loggedCause(result.errors?.find((error) => error.extensions?.code === 'INTERNAL')?.extensions?.requestId),
        ]
          .filter(Boolean)
          .join('\n');
        if (!KEEP_GOING) throw new Error(failure);
        failures.push(failure);
      }),
      { seed: seedOf(target.field.name), numRuns: RUNS_PER_FIELD, endOnFailure: !SHRINK },
    );
    throwOnFailures(target.field.name, details, failures, { withCounterexample: true });
  });

  const idTargets = targets.filter(takesIdArgument);
  // Regression: agents' and export's bare id arguments reached SQL unchecked (INTERNAL for "not-a-uuid").
  if (idTargets.length) it.each(idTargets.map((target) => [target.field.name, target] as const))(
    '%s answers malformed ids with BAD_USER_INPUT or NOT_FOUND, never INTERNAL',
    async (_name, target) => {
      const principal = DESTRUCTIVE_FIELDS.has(target.field.name) ? await newPrincipal() : await sharedPrincipal();
      for (const malformedId of MALFORMED_IDS) {
        const variables = Object.fromEntries(target.field.args.map((arg) => [arg.name, malformedId]));
        const result = await graphql(platform.gatewayUrl, target.document, { variables, token: principal.token });
        const codes = (result.errors ?? []).map((error) => error.extensions?.code);
        expect({ malformedId, status: result.status, codes }).toEqual({ malformedId, status: 200, codes: [expect.stringMatching(/^(BAD_USER_INPUT|NOT_FOUND)$/)] });
      }
    },
  );

  if (subscriptionTargets.length) it.each(subscriptionTargets.map((target) => [`subscription ${target.field.name}`, target] as const))('%s over /graphql/ws', async (label, target) => {
    const principal = await sharedPrincipal();
    const fieldStats: FieldStats = { calls: 0, authenticatedCalls: 0, resolverReached: 0, codes: {} };
    stats.set(label, fieldStats);
    const probe = probeFor(target.field.name);
    const sockets: FuzzSocket[] = [];
    const open = (params: Record<string, unknown>) => {
      const socket = new FuzzSocket(platform.realtimeUrl, params);
      sockets.push(socket);
      return socket;
    };
    const authenticatedParams = { authorization: `Bearer ${principal.token}` };
    let socket = open(authenticatedParams);
    const records: { caller: Caller; variables: unknown; operationName: { operationName?: unknown }; connectionParams: unknown; answers: SocketAnswer[] }[] = [];
    const failures: string[] = [];
    const report = async (record: (typeof records)[number], problems: string[], closed?: { code: number; reason: string }) =>
      [
        `${label} as ${record.caller}: ${problems.join('; ')}`,
        `  variables: ${printable(record.variables)}${'operationName' in record.operationName ? `, operationName: ${printable(record.operationName.operationName)}` : ''}`,
        record.caller === 'anonymous' ? `  connection_init payload: ${printable(record.connectionParams)}` : '',
        `  answers: ${printable(record.answers, 1_500)}${closed ? `, socket closed ${closed.code} ${closed.reason}` : ''}`,
        await loggedCause(internalRequestIdOf(record.answers)),
      ]
        .filter(Boolean)
        .join('\n');

    const calls = fc.tuple(
      fc.oneof({ weight: 4, arbitrary: fc.constant<Caller>('authenticated') }, { weight: 1, arbitrary: fc.constant<Caller>('anonymous') }),
      variablesArbitrary(target.field.args, { pool, ownIds: ownIdsOf(principal) }),
      socketOperationNameArbitrary,
      anonymousConnectionParamsArbitrary,
    );
    try {
      const details = await fc.check(
        fc.asyncProperty(calls, async ([caller, variables, operationName, anonymousParams]) => {
          const record = { caller, variables, operationName, connectionParams: anonymousParams, answers: [] as SocketAnswer[] };
          records.push(record);
          const problems: string[] = [];
          let closed: { code: number; reason: string } | undefined;
          if (caller === 'anonymous') {
            // connection_init without a valid token: refused with 4401 (4403 for a tenant), before any operation runs.
            const anonymous = open(anonymousParams);
            record.answers = (await anonymous.subscribe(target.document, variables, operationName)).answers;
            closed = await anonymous.closedWithin();
            if (![4401, 4403].includes(closed.code)) problems.push(`anonymous socket closed with ${closed.code}, not 4401/4403`);
          } else {
            const subscription = await socket.subscribe(target.document, variables, operationName);
            record.answers = subscription.answers;
            if (subscription.tooBig) {
              // Past REALTIME_MAX_MESSAGE_BYTES the server closes with 1009 (message too big): a limit, not a failure; a new socket goes on.
              closed = await socket.closedWithin();
              if (closed.code !== 1009) problems.push(`socket closed with ${closed.code} for a ${subscription.bytes}-byte subscribe, not 1009`);
              socket = open(authenticatedParams);
            } else {
              const answered = await socket.probe(probe.query, probe.variables?.(), probe.answers);
              if (answered.problem) problems.push(answered.problem);
              closed = answered.closed;
              if (closed) socket = open(authenticatedParams);
            }
          }
          const verdicts = answerProblems(record.answers);
          // Silent once the probe was answered: the resolver took it and the subscription is live.
          const live = caller === 'authenticated' && !closed && !record.answers.length;
          count(fieldStats, target.field.name, caller, { ...verdicts, resolverReached: verdicts.resolverReached || live });
          problems.push(...verdicts.problems);
          if (caller === 'authenticated') for (const answer of record.answers) if (answer.kind === 'next') pool.harvest(answer.result.data);
          if (!problems.length) return;
          const failure = await report(record, problems, closed);
          if (!KEEP_GOING) throw new Error(failure);
          failures.push(failure);
        }),
        { seed: seedOf(target.field.name), numRuns: RUNS_PER_FIELD, endOnFailure: !SHRINK },
      );
      // The socket that took the hostile subscriptions still takes a well-formed one, and answers arriving late meet the oracle too.
      const usable = await socket.probe(UNREAD_COUNT.query, undefined, 'data');
      if (usable.problem) failures.push(`${label}: after the fuzz the socket ${usable.problem}`);
      for (const record of records) {
        const late = answerProblems(record.answers).problems.filter((problem) => !failures.some((failure) => failure.includes(problem)));
        if (late.length) failures.push(await report(record, late));
      }
      throwOnFailures(target.field.name, details, failures, { withCounterexample: false });
    } finally {
      await Promise.all(sockets.map((each) => each.dispose()));
    }
  });

  // A share over the whole schema: a FUZZ_FIELDS selection of a few fields says nothing about it.
  (ONLY_FIELDS ? it.skip : it)('reaches resolvers, not only validation, for a good share of authenticated calls', () => {
    const all = [...stats.values()];
    const authenticated = all.reduce((sum, field) => sum + field.authenticatedCalls, 0);
    const reached = all.reduce((sum, field) => sum + field.resolverReached, 0);
    const neverReached = [...stats].filter(([, field]) => field.authenticatedCalls && !field.resolverReached).map(([label]) => label);
    const codes: Record<string, number> = {};
    for (const field of all) for (const [code, count] of Object.entries(field.codes)) codes[code] = (codes[code] ?? 0) + count;
    process.stdout.write(
      [
        `fuzz: ${all.length} fields, ${all.reduce((sum, field) => sum + field.calls, 0)} calls (${authenticated} authenticated, ${reached} of them reached a resolver)`,
        `calls answered with each code: ${JSON.stringify(codes)}`,
        `never reached a resolver: ${neverReached.join(', ') || 'none'}\n`,
      ].join('\n'),
    );
    expect(authenticated).toBeGreaterThan(0);
    expect(reached / authenticated).toBeGreaterThanOrEqual(MIN_RESOLVER_SHARE);
  });
});
