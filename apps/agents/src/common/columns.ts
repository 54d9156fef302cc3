import type { ValueTransformer } from 'typeorm';

/** PostgreSQL numeric and bigint arrive as strings; the API speaks numbers (costs in USD, token counts). */
export const numericColumn: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};
