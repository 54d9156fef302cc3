import { GraphQLResult } from './graphql-client';

/**
 * One operation to probe for cross-tenant leaks. `byId` operations are called with an id that
 * belongs to tenant B and must answer NOT_FOUND (or FORBIDDEN where the id is a tenant the caller
 * is not in). `list` operations must return no id owned by tenant B; the same list asked by B's
 * own caller (`ownerCall`) must show at least one of them, or an empty list would pass whatever
 * the service does. `batch` operations name tenant B's ids themselves (bulk mutations, lookups
 * by ids) and must answer none of them.
 */
export type IsolationProbe =
  | { name: string; kind: 'byId'; call: (foreignId: string) => Promise<GraphQLResult<unknown>>; foreignIds: string[] }
  | {
      name: string;
      kind: 'list';
      call: () => Promise<GraphQLResult<unknown>>;
      ownerCall: () => Promise<GraphQLResult<unknown>>;
      foreignIds: string[];
    }
  | { name: string; kind: 'batch'; call: () => Promise<GraphQLResult<unknown>>; foreignIds: string[] };

export interface IsolationViolation {
  probe: string;
  reason: string;
}

function collectStrings(value: unknown, out: Set<string>): Set<string> {
  if (typeof value === 'string') out.add(value);
  else if (Array.isArray(value)) value.forEach((item) => collectStrings(item, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((item) => collectStrings(item, out));
  return out;
}

/**
 * Runs every probe as a caller of tenant A and reports each way tenant B's data showed up.
 * Services add their operations to the list; an empty result means isolated.
 */
export async function findTenantIsolationViolations(probes: IsolationProbe[]): Promise<IsolationViolation[]> {
  const violations: IsolationViolation[] = [];
  for (const probe of probes) {
    if (probe.kind === 'byId') {
      for (const id of probe.foreignIds) {
        const result = await probe.call(id);
        const code = result.errors?.[0]?.extensions?.code;
        if (code !== 'NOT_FOUND' && code !== 'FORBIDDEN') {
          violations.push({ probe: probe.name, reason: `foreign id ${id} answered ${code ?? 'data'}: ${result.text.slice(0, 300)}` });
        }
        const leaked = [...collectStrings(result.data, new Set())].filter((value) => probe.foreignIds.includes(value));
        if (leaked.length) violations.push({ probe: probe.name, reason: `response contains foreign ids ${leaked.join(', ')}` });
      }
    } else {
      if (probe.kind === 'list') {
        const owned = await probe.ownerCall();
        const seen = [...collectStrings(owned.data, new Set())].filter((value) => probe.foreignIds.includes(value));
        if (owned.errors?.length || !seen.length) {
          violations.push({
            probe: probe.name,
            reason: `positive control failed: tenant B's own caller sees none of ${probe.foreignIds.join(', ')}: ${owned.text.slice(0, 300)}`,
          });
          continue;
        }
      }
      const result = await probe.call();
      if (result.errors?.length) {
        violations.push({ probe: probe.name, reason: `list failed: ${result.text.slice(0, 300)}` });
        continue;
      }
      const leaked = [...collectStrings(result.data, new Set())].filter((value) => probe.foreignIds.includes(value));
      if (leaked.length) violations.push({ probe: probe.name, reason: `list includes foreign ids ${leaked.join(', ')}` });
    }
  }
  return violations;
}
