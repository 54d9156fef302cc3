import { DataSource } from 'typeorm';
import { TestDatabase, createTestDatabase } from '@multipult/testing';
import { affectedRows } from './affected-rows';

// Real PostgreSQL through TypeORM, whose answer to an UPDATE or DELETE is not its rows.

describe('affectedRows', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase('affected_rows');
    dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    await dataSource.query('CREATE TABLE marks (id int PRIMARY KEY)');
    await dataSource.query('INSERT INTO marks VALUES (1), (2), (3)');
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('counts the rows a DELETE or UPDATE changed, none included', async () => {
    expect(await affectedRows(dataSource, 'DELETE FROM marks WHERE id = $1', [9])).toBe(0);
    expect(await affectedRows(dataSource, 'DELETE FROM marks WHERE id = $1 RETURNING id', [1])).toBe(1);
    expect(await affectedRows(dataSource, 'UPDATE marks SET id = id + 10 WHERE id > $1', [1])).toBe(2);
    await dataSource.transaction(async (manager) => expect(await affectedRows(manager, 'DELETE FROM marks')).toBe(2));
  });

  it('is needed: the raw answer to a DELETE that removed nothing has two elements', async () => {
    expect(await dataSource.query('DELETE FROM marks WHERE id = $1 RETURNING id', [42])).toEqual([[], 0]);
  });
});
