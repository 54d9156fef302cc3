import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';
import { counter } from '@multipult/observability';

const statements = () =>
  counter({
    name: 'db_statements_total',
    help: 'SQL statements sent to PostgreSQL, by pool and outcome',
    labelNames: ['pool', 'outcome'] as const,
  });

/**
 * Counts every statement (`db_statements_total`) and logs failed and slow ones; statement text is
 * logged without parameters, which may hold personal data.
 */
export class QueryMetricsLogger implements TypeOrmLogger {
  private readonly logger = new NestLogger('Database');

  constructor(private readonly pool: string) {}

  /** At debug level each statement is logged with the request id, so a request's statements can be counted. */
  logQuery(query: string): void {
    statements().inc({ pool: this.pool, outcome: 'ok' });
    this.logger.debug({ statement: query.slice(0, 200) }, 'sql');
  }

  logQueryError(error: string | Error, query: string): void {
    statements().inc({ pool: this.pool, outcome: 'error' });
    this.logger.warn({ query: query.slice(0, 500), error: error instanceof Error ? error.message : error }, 'statement failed');
  }

  logQuerySlow(timeMs: number, query: string): void {
    this.logger.warn({ query: query.slice(0, 500), timeMs }, 'slow statement');
  }

  logSchemaBuild(): void {
    return;
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(message);
  }
}
