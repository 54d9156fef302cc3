import { Client, ClientConfig, QueryResult } from 'pg';

/** Seen this many times on a connection, a statement is prepared there: one-off shapes (IN lists, VALUES of many rows) never are. */
const SIGHTINGS_BEFORE_PREPARING = 2;
/** Statements counted per connection before the count starts over (bounds the memory of one-off shapes). */
const SIGHTINGS_KEPT = 1_000;
/**
 * SQLSTATEs after which the server no longer holds a usable statement under that name: a schema
 * change altered its result type (0A000, "cached plan must not change result type") or it is gone
 * (26000). The next call prepares the text again under a new name.
 */
const STALE_STATEMENT_CODES = new Set(['0A000', '26000']);

/**
 * A pg Client that prepares the parameterized statements a connection runs again and again as
 * named statements, so PostgreSQL parses and plans each once per connection and then only binds
 * and executes it (Npgsql's automatic preparation and pgx's statement cache do the same). Bounded:
 * a statement is prepared on its second sighting and at most `size` per connection (each holds a
 * plan in the server session's memory); beyond that, statements run unnamed as before.
 */
export function statementCachingClient(size: number): typeof Client {
  return class StatementCachingClient extends Client {
    private readonly preparedNames = new Map<string, string>();
    private readonly sightings = new Map<string, number>();
    private nextName = 0;

    constructor(config?: string | ClientConfig) {
      super(config);
      const unnamed = this.query.bind(this) as (config: unknown, values?: unknown, callback?: unknown) => unknown;
      // TypeORM sends (text, parameters); anything else (query objects, cursors, callbacks) goes through untouched.
      this.query = ((config: unknown, values?: unknown, callback?: unknown) => {
        if (typeof config !== 'string' || !Array.isArray(values) || !values.length || callback !== undefined) return unnamed(config, values, callback);
        const name = this.nameFor(config);
        if (!name) return unnamed(config, values);
        return (unnamed({ name, text: config }, values) as Promise<QueryResult>).catch((error: { code?: string }) => {
          if (error?.code && STALE_STATEMENT_CODES.has(error.code) && this.preparedNames.get(config) === name) this.preparedNames.delete(config);
          throw error;
        });
      }) as Client['query'];
    }

    private nameFor(text: string): string | undefined {
      const prepared = this.preparedNames.get(text);
      if (prepared) return prepared;
      if (this.preparedNames.size >= size) return undefined;
      const seen = (this.sightings.get(text) ?? 0) + 1;
      if (seen < SIGHTINGS_BEFORE_PREPARING) {
        if (this.sightings.size >= SIGHTINGS_KEPT) this.sightings.clear();
        this.sightings.set(text, seen);
        return undefined;
      }
      this.sightings.delete(text);
      const name = `mp_${(this.nextName += 1)}`;
      this.preparedNames.set(text, name);
      return name;
    }
  };
}
