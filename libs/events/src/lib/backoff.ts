export interface BackoffOptions {
  /** Ceiling of the first retry's delay. */
  initialMs: number;
  /** Ceiling no delay exceeds however many attempts failed. */
  maxMs: number;
}

/** Exponential ceiling for the n-th retry (1-based): initialMs, 2×, 4×, … capped at maxMs. */
export function backoffCeiling(retry: number, { initialMs, maxMs }: BackoffOptions): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, retry - 1));
}

/** "Full jitter": uniform in [0, ceiling], so many consumers failing together do not retry in step. */
export function fullJitterDelay(retry: number, options: BackoffOptions, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(retry, options));
}

/** "Equal jitter": at least half the ceiling, so a retry loop against a down broker never spins. */
export function equalJitterDelay(retry: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(retry, options);
  return Math.floor(ceiling / 2 + (random() * ceiling) / 2);
}
