import { Column, DataSource, Entity, PrimaryColumn } from 'typeorm';
import { TestDatabase, createTestDatabase } from '@multipult/testing';
import { AppError, ErrorCode } from './errors';
import { KeysetOrder, paginate } from './keyset';

// Real PostgreSQL (DATABASE_URL from the jest global setup), one throwaway database for this file.

@Entity('items')
class Item {
  @PrimaryColumn('uuid')
  id: string;

  @Column({ name: 'list_name', type: 'text' })
  listName: string;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @Column({ type: 'integer' })
  rank: number;

  @Column({ type: 'bigint' })
  sequence: string;
}

const NEWEST = new KeysetOrder({
  connection: 'test.items',
  columns: [
    { expression: 'item.created_at', type: 'timestamp', direction: 'DESC' },
    { expression: 'item.id', type: 'uuid', direction: 'DESC' },
  ],
});
const OLDEST = new KeysetOrder({
  connection: 'test.items',
  columns: [
    { expression: 'item.created_at', type: 'timestamp', direction: 'ASC' },
    { expression: 'item.id', type: 'uuid', direction: 'ASC' },
  ],
});
/** Mixed directions: rank high to low, then oldest first, then id. */
const BY_RANK = new KeysetOrder({
  connection: 'test.items',
  columns: [
    { expression: 'item.rank', type: 'integer', direction: 'DESC' },
    { expression: 'item.created_at', type: 'timestamp', direction: 'ASC' },
    { expression: 'item.id', type: 'uuid', direction: 'ASC' },
  ],
});
const BY_SEQUENCE = new KeysetOrder({
  connection: 'test.items.sequence',
  columns: [{ expression: 'item.sequence', type: 'integer', direction: 'DESC' }],
});

const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const cursor = (body: unknown) => Buffer.from(JSON.stringify(body)).toString('base64url');

describe('keyset paging', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  const items: Item[] = [];

  const query = (listName = 'a') => dataSource.getRepository(Item).createQueryBuilder('item').where('item.list_name = :listName', { listName });

  /** Every page of the list in `order`, `first` at a time: the ids in the order served. */
  async function walk(order: KeysetOrder, first: number, scope?: string): Promise<string[]> {
    const ids: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 100; pages += 1) {
      const page = await paginate(query(), order, { first, after }, { scope });
      expect(page.totalCount).toBe(items.length);
      ids.push(...page.edges.map((edge) => edge.node.id));
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
      if (!page.pageInfo.hasNextPage) return ids;
      after = page.pageInfo.endCursor ?? undefined;
    }
    throw new Error('paging did not end');
  }

  async function refusal(promise: Promise<unknown>): Promise<AppError> {
    const error = await promise.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(ErrorCode.BAD_USER_INPUT);
    expect((error as AppError).fieldProblems).toEqual([{ field: 'after', key: 'validation.cursor', params: undefined }]);
    return error as AppError;
  }

  beforeAll(async () => {
    database = await createTestDatabase('lib_graphql_keyset');
    dataSource = new DataSource({ type: 'postgres', url: database.url, entities: [Item] });
    await dataSource.initialize();
    await dataSource.query(`
      CREATE TABLE items (
        id uuid PRIMARY KEY, list_name text NOT NULL, created_at timestamptz(3) NOT NULL, rank integer NOT NULL, sequence bigint NOT NULL
      )`);
    // Clusters of rows in one millisecond, written with microseconds the column rounds away;
    // ids not in insertion order, ranks repeating across clusters; sequences past 2^53.
    const base = Date.parse('2026-03-01T10:00:00.000Z');
    for (let n = 1; n <= 23; n += 1) {
      const millisecond = base + Math.floor(n / 4);
      const micros = String((n * 37) % 1000).padStart(3, '0');
      const createdAt = `${new Date(millisecond).toISOString().slice(0, 23)}${micros}Z`;
      const id = uuid((n * 7919) % 1000);
      await dataSource.query('INSERT INTO items (id, list_name, created_at, rank, sequence) VALUES ($1, $2, $3, $4, $5)', [
        id,
        'a',
        createdAt,
        n % 3,
        (9_007_199_254_740_993n + BigInt(n)).toString(),
      ]);
    }
    await dataSource.query(`INSERT INTO items (id, list_name, created_at, rank, sequence) VALUES ($1, 'b', now(), 0, 1)`, [uuid(5000)]);
    items.push(...(await query().getMany()));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const ids = (sorted: Item[]) => sorted.map((item) => item.id);
  const byTime = (a: Item, b: Item) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id);

  it('serves every row once, newest first, with rows of one millisecond split across pages', async () => {
    const expected = ids([...items].sort(byTime).reverse());
    for (const first of [1, 2, 3, 5]) expect(await walk(NEWEST, first)).toEqual(expected);
  });

  it('serves every row once, oldest first', async () => {
    const expected = ids([...items].sort(byTime));
    for (const first of [1, 2, 4]) expect(await walk(OLDEST, first)).toEqual(expected);
  });

  it('pages an order of mixed directions over several columns', async () => {
    const expected = ids([...items].sort((a, b) => b.rank - a.rank || byTime(a, b)));
    for (const first of [1, 3, 7]) expect(await walk(BY_RANK, first)).toEqual(expected);
  });

  it('keeps bigint sort values exact', async () => {
    const expected = ids([...items].sort((a, b) => Number(BigInt(b.sequence) - BigInt(a.sequence))));
    expect(await walk(BY_SEQUENCE, 2)).toEqual(expected);
  });

  it('defaults to 20 rows a page and leaves the caller query as it was', async () => {
    const base = query();
    const page = await paginate(base, NEWEST, {});
    expect(page.edges).toHaveLength(20);
    expect(page.pageInfo.hasNextPage).toBe(true);
    expect(await base.getCount()).toBe(items.length);
  });

  it('counts as the caller says', async () => {
    const page = await paginate(query(), NEWEST, { first: 1 }, { totalCount: async () => 42 });
    expect(page.totalCount).toBe(42);
  });

  it('refuses a cursor of another order, list or scope', async () => {
    const { pageInfo } = await paginate(query(), NEWEST, { first: 1 });
    const newest = pageInfo.endCursor as string;
    await refusal(paginate(query(), OLDEST, { first: 1, after: newest }));
    await refusal(paginate(query(), BY_RANK, { first: 1, after: newest }));
    const otherList = new KeysetOrder({ connection: 'test.other', columns: NEWEST.columns });
    await refusal(paginate(query(), otherList, { first: 1, after: newest }));
    const scoped = await paginate(query(), NEWEST, { first: 1 }, { scope: 'parent-1' });
    await refusal(paginate(query(), NEWEST, { first: 1, after: scoped.pageInfo.endCursor as string }, { scope: 'parent-2' }));
    await refusal(paginate(query(), NEWEST, { first: 1, after: newest }, { scope: 'parent-1' }));
  });

  it('refuses garbled, truncated and crafted cursors as BAD_USER_INPUT', async () => {
    const { pageInfo } = await paginate(query(), NEWEST, { first: 1 });
    const genuine = pageInfo.endCursor as string;
    const { f } = JSON.parse(Buffer.from(genuine, 'base64url').toString()) as { f: string };
    const crafted = [
      'not a cursor',
      '',
      genuine.slice(0, -6),
      `${genuine}x`,
      genuine.replace(/^./, (c) => (c === 'e' ? 'f' : 'e')),
      Buffer.from('["2026-03-01T10:00:00.000Z","00000000-0000-4000-8000-000000000001"]').toString('base64url'),
      cursor({ v: 2, f, k: ['2026-03-01T10:00:00.000Z', uuid(1)] }),
      cursor({ v: 1, f: 'AAAAAAAAAAAAAAAA', k: ['2026-03-01T10:00:00.000Z', uuid(1)] }),
      cursor({ v: 1, f, k: ['2026-03-01T10:00:00.000Z'] }),
      cursor({ v: 1, f, k: ['2026-03-01T10:00:00.000Z', uuid(1), 'extra'] }),
      cursor({ v: 1, f, k: ["2026-03-01'; DROP TABLE items; --", uuid(1)] }),
      cursor({ v: 1, f, k: ['2026-02-30T10:00:00.000Z', uuid(1)] }),
      cursor({ v: 1, f, k: ['2026-03-01T10:00:00Z', uuid(1)] }),
      cursor({ v: 1, f, k: [1772359200000, uuid(1)] }),
      cursor({ v: 1, f, k: ['2026-03-01T10:00:00.000Z', 'not-a-uuid'] }),
      cursor({ v: 1, f, k: ['2026-03-01T10:00:00.000Z', null] }),
      cursor({ v: 1, f, k: { 0: '2026-03-01T10:00:00.000Z', 1: uuid(1), length: 2 } }),
      cursor(null),
      cursor('text'),
    ];
    for (const after of crafted) await refusal(paginate(query(), NEWEST, { first: 1, after }));
    const sequence = (await paginate(query(), BY_SEQUENCE, { first: 1 })).pageInfo.endCursor as string;
    const { f: sequenceFingerprint } = JSON.parse(Buffer.from(sequence, 'base64url').toString()) as { f: string };
    for (const k of [['1.5'], [12], ['9223372036854775808'], ['1e3']]) {
      await refusal(paginate(query(), BY_SEQUENCE, { first: 1, after: cursor({ v: 1, f: sequenceFingerprint, k }) }));
    }
  });

  it('accepts a well-formed cursor it did not issue (it only positions the page)', async () => {
    const genuine = (await paginate(query(), NEWEST, { first: 1 })).pageInfo.endCursor as string;
    const { f } = JSON.parse(Buffer.from(genuine, 'base64url').toString()) as { f: string };
    const page = await paginate(query(), NEWEST, { first: 100, after: cursor({ v: 1, f, k: ['2026-03-01T10:00:00.003Z', uuid(0)] }) });
    const before = Date.parse('2026-03-01T10:00:00.003Z');
    expect(page.edges.map((edge) => edge.node.id)).toEqual(ids([...items].sort(byTime).reverse().filter((item) => item.createdAt.getTime() < before)));
  });
});
