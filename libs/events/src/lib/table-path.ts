import { DataSource, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm';

/** The escaped, schema-qualified table of an entity, for the raw SQL TypeORM's builders cannot express. */
export function qualifiedTableName(dataSource: DataSource, entity: EntityTarget<ObjectLiteral>): string {
  const { schema, tableName } = dataSource.getMetadata(entity);
  const { driver } = dataSource;
  return schema ? `${driver.escape(schema)}.${driver.escape(tableName)}` : driver.escape(tableName);
}

/** The escaped table in the schema of the DataSource running a migration. */
export function tableIn(queryRunner: QueryRunner, table: string): string {
  const { driver } = queryRunner.connection;
  const schema = (queryRunner.connection.options as { schema?: string }).schema;
  return schema ? `${driver.escape(schema)}.${driver.escape(table)}` : driver.escape(table);
}
