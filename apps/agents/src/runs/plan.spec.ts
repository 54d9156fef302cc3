import { PlannedTask, criticalPathMs, dependentsOf, executionWaves, planProblem } from './plan';

const task = (key: string, dependsOn: string[] = []): PlannedTask => ({ key, title: key, agentId: 'agent', prompt: key, dependsOn });

describe('plan', () => {
  it('accepts a DAG and orders it in waves of independent tasks', () => {
    const tasks = [task('collect'), task('review'), task('combine', ['collect', 'review']), task('publish', ['combine'])];
    expect(planProblem(tasks)).toBeNull();
    expect(executionWaves(tasks)).toEqual([['collect', 'review'], ['combine'], ['publish']]);
  });

  it('names a cycle in execution order', () => {
    expect(planProblem([task('a', ['c']), task('b', ['a']), task('c', ['b'])])).toEqual({ kind: 'cycle', cycle: ['a', 'b', 'c', 'a'] });
    expect(planProblem([task('solo', ['solo'])])).toEqual({ kind: 'cycle', cycle: ['solo', 'solo'] });
    expect(planProblem([task('start'), task('x', ['start', 'y']), task('y', ['x'])])).toEqual({ kind: 'cycle', cycle: ['x', 'y', 'x'] });
  });

  it('refuses duplicate keys, unknown dependencies, empty and oversized plans', () => {
    expect(planProblem([task('a'), task('a')])).toEqual({ kind: 'duplicate_key', key: 'a' });
    expect(planProblem([task('a', ['ghost'])])).toEqual({ kind: 'unknown_dependency', key: 'a', dependency: 'ghost' });
    expect(planProblem([])).toEqual({ kind: 'empty' });
    expect(planProblem(Array.from({ length: 51 }, (_, index) => task(`t${index}`)))).toEqual({ kind: 'too_many', limit: 50 });
  });

  it('estimates the critical path and finds every dependent', () => {
    const tasks = [task('a'), task('b'), task('c', ['a']), task('d', ['b', 'c'])];
    const durations: Record<string, number> = { a: 100, b: 500, c: 300, d: 50 };
    expect(criticalPathMs(tasks, (key) => durations[key])).toBe(550);
    expect(dependentsOf(tasks, 'a').sort()).toEqual(['c', 'd']);
    expect(dependentsOf(tasks, 'd')).toEqual([]);
  });
});
