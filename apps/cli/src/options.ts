import { InvalidArgumentError } from 'commander';

/** A commander option parser for whole numbers from `min` up. */
export function wholeNumber(min: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min) throw new InvalidArgumentError(`must be a whole number of at least ${min}`);
    return Number(value);
  };
}

export const PLATFORM_ROLES = ['platform_admin', 'support', 'auditor'] as const;
