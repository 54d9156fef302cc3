import { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/** The escaped, schema-qualified table of an entity, for the raw SQL TypeORM's builders cannot express. */
export function qualifiedTableName(dataSource: DataSource, entity: EntityTarget<ObjectLiteral>): string {
  const { schema, tableName } = dataSource.getMetadata(entity);
  const { driver } = dataSource;
  return schema ? `${driver.escape(schema)}.${driver.escape(tableName)}` : driver.escape(tableName);
}
