import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { getNamedType, isListType, isNonNullType } from 'graphql';
import { Platform, eventually, graphql, workspaceRoot } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';
import { usePlatform } from './support/platforms';
import { FuzzTarget, ValuePool, apiSchemaOf, fuzzTargetsOf, operationNameArbitrary, printable, variablesArbitrary, verdictOf } from './support/schema-fuzz';

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

/** Queries first, then mutations that create (their ids feed later calls), the others, the destructive ones last. */
function runOrder(target: FuzzTarget): number {
  if (DESTRUCTIVE_FIELDS.has(target.field.name)) return 3;
  if (target.operation === 'query') return 0;
  return /^(create|add|register|start|request)/.test(target.field.name) ? 1 : 2;
}

const schema = apiSchemaOf(readFileSync(path.join(workspaceRoot(), 'deploy/supergraph.graphql'), 'utf8'));
const targets = fuzzTargetsOf(schema)
  .filter((target) => !ONLY_FIELDS || ONLY_FIELDS.includes(target.field.name))
  .sort((a, b) => runOrder(a) - runOrder(b));

const MALFORMED_IDS = ['not-a-uuid', "' OR 1=1 --", '../../etc/passwd', '123e4567-e89b-12d3-a456-42661417400g'];

/** Fields whose only arguments are required ids (`agent(id: ID!)`, `cancelAgentRun(runId: ID!)` …). */
function takesIdArgument(target: FuzzTarget): boolean {
  return target.field.args.length > 0 && target.field.args.every((arg) => isNonNullType(arg.type) && getNamedType(arg.type).name === 'ID' && !isListType(arg.type.ofType));
}

/** A per-field seed, so a field's calls are the same whichever fields run before it. */
function seedOf(fieldName: string): number {
  let hash = SEED | 0;
  for (const char of fieldName) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  return hash;
}

interface Principal {
  token: string;
  userId: string;
  tenantId: string;
  requests: number;
}

interface FieldStats {
  calls: number;
  authenticatedCalls: number;
  resolverReached: number;
  codes: Record<string, number>;
}

describe('schema-driven fuzzing through the gateway', () => {
  let platform: Platform;
  let shared: Principal;
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

  /** The shared principal, replaced when a field ended its session or it nears the per-user rate limit. */
  async function sharedPrincipal(): Promise<Principal> {
    const alive = await graphql<{ me: { id: string } | null }>(platform.gatewayUrl, '{ me { id } }', { token: shared.token });
    shared.requests += 1;
    if (!alive.data?.me || shared.requests > REQUESTS_PER_PRINCIPAL) shared = await newPrincipal();
    return shared;
  }

  beforeAll(async () => {
    platform = await usePlatform('default');
    shared = await newPrincipal();
  });

  it.each(targets.map((target) => [`${target.operation} ${target.field.name}`, target] as const))('%s', async (label, target) => {
    const principal = DESTRUCTIVE_FIELDS.has(target.field.name) ? await newPrincipal() : await sharedPrincipal();
    const fieldStats: FieldStats = { calls: 0, authenticatedCalls: 0, resolverReached: 0, codes: {} };
    stats.set(label, fieldStats);
    const failures: string[] = [];
    const calls = fc.tuple(
      fc.oneof({ weight: 4, arbitrary: fc.constant('authenticated' as const) }, { weight: 1, arbitrary: fc.constant('anonymous' as const) }),
      variablesArbitrary(target.field.args, { pool, ownIds: [principal.userId, principal.tenantId] }),
      operationNameArbitrary,
    );
    const details = await fc.check(
      fc.asyncProperty(calls, async ([caller, variables, operationName]) => {
        const authenticated = caller === 'authenticated';
        const result = await graphql(platform.gatewayUrl, target.document, { variables, ...operationName, token: authenticated ? principal.token : undefined });
        if (authenticated) principal.requests += 1;
        const verdict = verdictOf(result);
        fieldStats.calls += 1;
        for (const code of verdict.codes.length ? new Set(verdict.codes) : ['data']) fieldStats.codes[code] = (fieldStats.codes[code] ?? 0) + 1;
        if (authenticated) {
          fieldStats.authenticatedCalls += 1;
          if (verdict.resolverReached) fieldStats.resolverReached += 1;
          pool.harvest(result.data);
        }
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
    const reproduce = `reproduce: FUZZ_SEED=${SEED} FUZZ_FIELDS=${target.field.name} FUZZ_RUNS=${RUNS_PER_FIELD} npx jest src/fuzz.spec.ts (fast-check seed ${details.seed}, path ${details.counterexamplePath ?? '-'})`;
    if (details.failed) {
      const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      throw new Error(`${cause}\n  counterexample: ${printable(details.counterexample, 500)}\n  ${reproduce}`);
    }
    if (failures.length) throw new Error(`${failures.length} failing calls:\n${failures.join('\n')}\n  ${reproduce}`);
  });

  // Regression: agents' and export's bare id arguments reached SQL unchecked (INTERNAL for "not-a-uuid").
  it.each(targets.filter(takesIdArgument).map((target) => [target.field.name, target] as const))(
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

  it('reaches resolvers, not only validation, for a good share of authenticated calls', () => {
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
