/** A task as a plan names it, before it is stored. */
export interface PlannedTask {
  key: string;
  title: string;
  agentId: string;
  prompt: string;
  dependsOn: string[];
}

export type PlanProblem =
  | { kind: 'empty' }
  | { kind: 'too_many'; limit: number }
  | { kind: 'duplicate_key'; key: string }
  | { kind: 'unknown_dependency'; key: string; dependency: string }
  | { kind: 'cycle'; cycle: string[] };

export const MAX_PLAN_TASKS = 50;

/**
 * Checks that the tasks form a DAG: keys unique, dependencies known, no cycle (a self-dependency
 * is a cycle of one). A cycle is named as the path that closes it, e.g. `a → b → a`.
 */
export function planProblem(tasks: readonly PlannedTask[]): PlanProblem | null {
  if (tasks.length === 0) return { kind: 'empty' };
  if (tasks.length > MAX_PLAN_TASKS) return { kind: 'too_many', limit: MAX_PLAN_TASKS };
  const byKey = new Map<string, PlannedTask>();
  for (const task of tasks) {
    if (byKey.has(task.key)) return { kind: 'duplicate_key', key: task.key };
    byKey.set(task.key, task);
  }
  for (const task of tasks) {
    const unknown = task.dependsOn.find((dependency) => !byKey.has(dependency));
    if (unknown !== undefined) return { kind: 'unknown_dependency', key: task.key, dependency: unknown };
  }
  const cycle = findCycle(tasks);
  return cycle ? { kind: 'cycle', cycle } : null;
}

function findCycle(tasks: readonly PlannedTask[]): string[] | null {
  const dependencies = new Map(tasks.map((task) => [task.key, [...new Set(task.dependsOn)]]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (key: string): string[] | null => {
    state.set(key, 'visiting');
    path.push(key);
    for (const dependency of dependencies.get(key) ?? []) {
      if (state.get(dependency) === 'visiting') return [...path.slice(path.indexOf(dependency)), dependency];
      if (!state.has(dependency)) {
        const found = visit(dependency);
        if (found) return found;
      }
    }
    path.pop();
    state.set(key, 'done');
    return null;
  };
  for (const task of tasks) {
    if (!state.has(task.key)) {
      const found = visit(task.key);
      // Found along dependency edges; read in execution order (a runs before b) it is reversed.
      if (found) return found.reverse();
    }
  }
  return null;
}

/** The order tasks can run in: each wave's tasks depend only on earlier waves, so a wave's tasks run in parallel. */
export function executionWaves(tasks: readonly PlannedTask[]): string[][] {
  const done = new Set<string>();
  const waves: string[][] = [];
  let remaining = [...tasks];
  while (remaining.length) {
    const wave = remaining.filter((task) => task.dependsOn.every((dependency) => done.has(dependency))).map((task) => task.key);
    if (wave.length === 0) throw new Error('executionWaves needs a plan without cycles');
    waves.push(wave);
    for (const key of wave) done.add(key);
    remaining = remaining.filter((task) => !done.has(task.key));
  }
  return waves;
}

/** The longest chain of estimated durations: how long the plan takes with unlimited parallelism. */
export function criticalPathMs(tasks: readonly PlannedTask[], durationOf: (key: string) => number): number {
  const finish = new Map<string, number>();
  for (const wave of executionWaves(tasks)) {
    for (const key of wave) {
      const task = tasks.find((candidate) => candidate.key === key) as PlannedTask;
      const start = Math.max(0, ...task.dependsOn.map((dependency) => finish.get(dependency) ?? 0));
      finish.set(key, start + durationOf(key));
    }
  }
  return Math.max(0, ...finish.values());
}

/** Keys of tasks that depend on `key`, directly or not. */
export function dependentsOf(tasks: readonly Pick<PlannedTask, 'key' | 'dependsOn'>[], key: string): string[] {
  const found = new Set<string>();
  const frontier = [key];
  while (frontier.length) {
    const current = frontier.pop() as string;
    for (const task of tasks) {
      if (task.dependsOn.includes(current) && !found.has(task.key)) {
        found.add(task.key);
        frontier.push(task.key);
      }
    }
  }
  return [...found];
}
