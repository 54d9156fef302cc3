import { createHash } from 'node:crypto';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { BadUserInputError } from './errors';
import { Connection, ConnectionArgs, pageSizeOf } from './pagination';

/**
 * What a sort column holds; cursor values are checked against it before they reach SQL.
 * `timestamp` columns must keep milliseconds (`timestamptz(3)`): cursors carry JavaScript dates, so a
 * finer column would let a cursor fall inside its own row's instant and skip or repeat neighbours.
 */
export type KeysetValueType = 'timestamp' | 'uuid' | 'integer' | 'float' | 'text';

export interface KeysetColumn {
  /** SQL expression the rows are ordered by, e.g. `document.created_at`. */
  expression: string;
  type: KeysetValueType;
  direction: 'ASC' | 'DESC';
}

export interface KeysetOrderOptions {
  /** Names the list, e.g. `content.documents`: a cursor of one list is refused by every other. */
  connection: string;
  /** Sort columns, the last one unique (the id) so every row has one place. Columns must not be NULL. */
  columns: readonly KeysetColumn[];
}

type CursorValue = string | number;

const CURSOR_VERSION = 1;
const MAX_TEXT_VALUE_LENGTH = 256;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_MILLISECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const INTEGER = /^-?\d{1,19}$/;
const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;
const SQL_CAST: Record<KeysetValueType, string> = {
  timestamp: 'timestamptz',
  uuid: 'uuid',
  integer: 'bigint',
  float: 'float8',
  text: 'text',
};

/**
 * A keyset (seek) order for cursor connections. The cursor is base64url of `{v, f, k}`: version,
 * fingerprint of the list and its order (plus the scope of one instance of it, such as the parent's
 * id), and the sort values of the row it points at. Anything else, garbled or from another list,
 * is BAD_USER_INPUT.
 */
export class KeysetOrder {
  readonly columns: readonly KeysetColumn[];
  private readonly listName: string;
  private lastFingerprint?: { scope: string; fingerprint: string };

  constructor(options: KeysetOrderOptions) {
    if (!options.columns.length) throw new Error(`keyset order of ${options.connection} has no columns`);
    this.listName = options.connection;
    this.columns = options.columns;
  }

  /** The values of the row `after` points at, checked by type; undefined without a cursor. */
  decode(after: string | undefined | null, scope = '', field = 'after'): CursorValue[] | undefined {
    if (after === undefined || after === null) return undefined;
    const values = this.parse(after, scope);
    if (!values) throw BadUserInputError.field(field, 'validation.cursor');
    return values;
  }

  /** Whether `after` is a sound cursor of this order and scope (to tell which of several orders a cursor belongs to). */
  accepts(after: string, scope = ''): boolean {
    return this.parse(after, scope) !== undefined;
  }

  /** The cursor of a row, from its sort values in column order. */
  encode(values: readonly unknown[], scope = ''): string {
    if (values.length !== this.columns.length) throw new Error(`${this.listName}: expected ${this.columns.length} cursor values`);
    const k = this.columns.map((column, index) => toCursorValue(column.type, values[index], this.listName));
    return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, f: this.fingerprint(scope), k })).toString('base64url');
  }

  /** `ORDER BY` body: `a DESC, b DESC`. */
  orderBy(): string {
    return this.columns.map((column) => `${column.expression} ${column.direction}`).join(', ');
  }

  /**
   * The condition for rows after the cursor's row; `bind` turns a value into a placeholder of the
   * statement (`$3`, `:name`). A row comparison when every column sorts the same way (it uses a
   * matching index), otherwise the expanded form.
   */
  seek(values: readonly CursorValue[], bind: (value: CursorValue) => string): string {
    const placeholders = this.columns.map((column, index) => `${bind(values[index])}::${SQL_CAST[column.type]}`);
    const direction = this.columns[0].direction;
    if (this.columns.every((column) => column.direction === direction)) {
      const operator = direction === 'DESC' ? '<' : '>';
      return `(${this.columns.map((column) => column.expression).join(', ')}) ${operator} (${placeholders.join(', ')})`;
    }
    const alternatives = this.columns.map((column, index) => {
      const equalBefore = this.columns.slice(0, index).map((earlier, i) => `${earlier.expression} = ${placeholders[i]}`);
      return [...equalBefore, `${column.expression} ${column.direction === 'DESC' ? '<' : '>'} ${placeholders[index]}`].join(' AND ');
    });
    return `(${alternatives.map((alternative) => `(${alternative})`).join(' OR ')})`;
  }

  /** A connection from up to `pageSize + 1` rows fetched in this order (the extra row says whether more exist). */
  connection<R, N>(
    rows: readonly R[],
    pageSize: number,
    totalCount: number,
    valuesOf: (row: R) => readonly unknown[],
    nodeOf: (row: R) => N,
    scope = '',
  ): Connection<N> {
    const edges = rows.slice(0, pageSize).map((row) => ({ node: nodeOf(row), cursor: this.encode(valuesOf(row), scope) }));
    return { edges, totalCount, pageInfo: { hasNextPage: rows.length > pageSize, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  private fingerprint(scope: string): string {
    // A page's cursors share their scope: hashed once per page, not once per row.
    if (this.lastFingerprint?.scope !== scope) {
      const order = this.columns.map((column) => [column.expression, column.type, column.direction]);
      const fingerprint = createHash('sha256')
        .update(JSON.stringify([this.listName, order, scope]))
        .digest('base64url')
        .slice(0, 16);
      this.lastFingerprint = { scope, fingerprint };
    }
    return this.lastFingerprint.fingerprint;
  }

  private parse(after: string, scope: string): CursorValue[] | undefined {
    const bytes = Buffer.from(after, 'base64url');
    // Only the exact encoding this class writes: no padding, stray or trailing characters.
    if (!after || bytes.toString('base64url') !== after) return undefined;
    let cursor: unknown;
    try {
      cursor = JSON.parse(bytes.toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof cursor !== 'object' || cursor === null) return undefined;
    const { v, f, k } = cursor as Record<string, unknown>;
    if (v !== CURSOR_VERSION || f !== this.fingerprint(scope) || !Array.isArray(k) || k.length !== this.columns.length) return undefined;
    return this.columns.every((column, index) => isValid(column.type, k[index])) ? (k as CursorValue[]) : undefined;
  }
}

function isValid(type: KeysetValueType, value: unknown): boolean {
  switch (type) {
    case 'timestamp':
      return typeof value === 'string' && ISO_MILLISECONDS.test(value) && !Number.isNaN(Date.parse(value)) && new Date(value).toISOString() === value;
    case 'uuid':
      return typeof value === 'string' && UUID.test(value);
    case 'integer':
      return typeof value === 'string' && INTEGER.test(value) && BigInt(value) >= INT8_MIN && BigInt(value) <= INT8_MAX;
    case 'float':
      return typeof value === 'number' && Number.isFinite(value);
    case 'text':
      return typeof value === 'string' && value.length <= MAX_TEXT_VALUE_LENGTH;
  }
}

/** A row's sort value as the cursor keeps it: ISO timestamps with milliseconds, integers as decimal strings (bigint-safe). */
function toCursorValue(type: KeysetValueType, value: unknown, connection: string): CursorValue {
  const converted =
    type === 'timestamp' && (value instanceof Date || typeof value === 'string')
      ? new Date(value).toISOString()
      : type === 'integer' && (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string')
        ? String(value)
        : type === 'float' && (typeof value === 'number' || typeof value === 'string')
          ? Number(value)
          : value;
  if (!isValid(type, converted)) throw new Error(`${connection}: sort value ${String(value)} is not a ${type}`);
  return converted as CursorValue;
}

/**
 * One page of a TypeORM query in a keyset order: `first` (20 by default, at most 100) rows after
 * the `after` cursor. The query is left as it is (ordering, seeking and the limit go on a copy); it
 * must not join to-many relations, since the sort values are read from its raw rows. `totalCount`
 * counts the query unless the caller counts otherwise.
 */
export async function paginate<E extends ObjectLiteral>(
  query: SelectQueryBuilder<E>,
  order: KeysetOrder,
  args: ConnectionArgs,
  options: { scope?: string; totalCount?: () => Promise<number> } = {},
): Promise<Connection<E>> {
  const pageSize = pageSizeOf(args);
  const after = order.decode(args.after, options.scope);
  const page = query.clone();
  order.columns.forEach((column, index) => page.addSelect(`(${column.expression})`, `keyset_${index}`));
  if (after) {
    const parameters: Record<string, CursorValue> = {};
    const seek = order.seek(after, (value) => {
      const name = `keysetAfter${Object.keys(parameters).length}`;
      parameters[name] = value;
      return `:${name}`;
    });
    page.andWhere(seek, parameters);
  }
  order.columns.forEach((column, index) =>
    index === 0 ? page.orderBy(column.expression, column.direction) : page.addOrderBy(column.expression, column.direction),
  );
  // limit, not take: one row per node, and take's distinct-id subquery cannot order by a joined table's column.
  page.limit(pageSize + 1);
  const [{ entities, raw }, totalCount] = await Promise.all([page.getRawAndEntities(), options.totalCount?.() ?? query.getCount()]);
  if (entities.length !== raw.length) throw new Error('paginate: the query returns more than one row per node');
  const rows = entities.map((entity, index) => ({ entity, raw: raw[index] as Record<string, unknown> }));
  return order.connection(
    rows,
    pageSize,
    totalCount,
    (row) => order.columns.map((_, index) => row.raw[`keyset_${index}`]),
    (row) => row.entity,
    options.scope,
  );
}
