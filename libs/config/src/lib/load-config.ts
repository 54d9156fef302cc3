import { z } from 'zod';

/** A configuration problem; `message` is one line naming every offending variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment against a zod object schema whose keys are the variable names.
 * Empty strings count as unset, so `FOO=` in a compose file falls back to the default.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.join('.') || '(environment)';
    const received = issue.code === 'invalid_type' && present[variable] === undefined ? 'is required' : issue.message;
    return `${variable} ${received}`;
  });
  throw new ConfigError(problems);
}
