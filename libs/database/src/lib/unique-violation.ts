/** PostgreSQL's unique_violation. */
const UNIQUE_VIOLATION = '23505';

/**
 * The unique constraint (by the column list in its detail, e.g. `username`) a failed write broke,
 * or undefined when the error is something else.
 */
export function uniqueViolationColumns(error: unknown): string | undefined {
  const { code, detail } = (error ?? {}) as { code?: string; detail?: string };
  if (code !== UNIQUE_VIOLATION) return undefined;
  return /^Key \(([^)]*)\)/.exec(detail ?? '')?.[1] ?? '';
}
