import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { Platform, graphql, workspaceRoot } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';
import { usePlatform } from './support/platforms';
import { FuzzTarget, ValuePool, apiSchemaOf, fuzzTargetsOf, printable, variablesArbitrary, verdictOf } from './support/schema-fuzz';

// Deterministic by default; FUZZ_SEED, FUZZ_RUNS (calls per field) and FUZZ_FIELDS (comma list) widen or narrow a run.
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_203);
const RUNS_PER_FIELD = Number(process.env.FUZZ_RUNS ?? 3);
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
    );
    const details = await fc.check(
      fc.asyncProperty(calls, async ([caller, variables]) => {
        const authenticated = caller === 'authenticated';
        const result = await graphql(platform.gatewayUrl, target.document, { variables, token: authenticated ? principal.token : undefined });
        if (authenticated) principal.requests += 1;
        const verdict = verdictOf(result);
        fieldStats.calls += 1;
        for (const code of verdict.codes.length ? verdict.codes : ['data']) fieldStats.codes[code] = (fieldStats.codes[code] ?? 0) + 1;
        if (authenticated) {
          fieldStats.authenticatedCalls += 1;
          if (verdict.resolverReached) fieldStats.resolverReached += 1;
          pool.harvest(result.data);
        }
        if (!verdict.problems.length) return;
        const failure = [
          `${label} as ${caller}: ${verdict.problems.join('; ')}`,
          `  variables: ${printable(variables)}`,
          `  answer (HTTP ${result.status}): ${result.text.slice(0, 1_500)}`,
        ].join('\n');
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

  it('reaches resolvers, not only validation, for a good share of authenticated calls', () => {
    const all = [...stats.values()];
    const authenticated = all.reduce((sum, field) => sum + field.authenticatedCalls, 0);
    const reached = all.reduce((sum, field) => sum + field.resolverReached, 0);
    const neverReached = [...stats].filter(([, field]) => field.authenticatedCalls && !field.resolverReached).map(([label]) => label);
    process.stdout.write(
      `fuzz: ${all.length} fields, ${authenticated} authenticated calls, ${reached} reached a resolver; never reached: ${neverReached.join(', ') || 'none'}\n`,
    );
    expect(authenticated).toBeGreaterThan(0);
    expect(reached / authenticated).toBeGreaterThanOrEqual(MIN_RESOLVER_SHARE);
  });
});
