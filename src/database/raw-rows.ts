import { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/**
 * SQL text and values for one entity's table, for raw parameterised statements on hot paths (replies,
 * ingest), where TypeORM's query builder costs more than the statement itself. Values go through the
 * driver's own conversions per column (dates, booleans, transformers), so rows written or read here
 * are the same as through a repository, on SQLite and on MySQL.
 */
export class RawRows<T extends ObjectLiteral> {
  readonly table: string;
  private readonly columns: ColumnMetadata[];
  private readonly byProperty: Map<string, ColumnMetadata>;

  constructor(private readonly dataSource: DataSource, entity: EntityTarget<T>) {
    const metadata = dataSource.getMetadata(entity);
    this.table = dataSource.driver.escape(metadata.tableName);
    this.columns = metadata.columns;
    this.byProperty = new Map(metadata.columns.map((column) => [column.propertyName, column]));
  }

  /** `a, b, c`: every column of the entity, for a SELECT that `read` turns back into an entity. */
  get selectList(): string {
    return this.columns.map((column) => this.dataSource.driver.escape(column.databaseName)).join(', ');
  }

  /** `t.a AS p_a, t.b AS p_b`: every column of the entity from table alias `alias`, named with `prefix`, for `read(row, prefix)` (a join). */
  prefixedSelectList(alias: string, prefix: string): string {
    const escape = (name: string) => this.dataSource.driver.escape(name);
    return this.columns.map((column) => `${alias}.${escape(column.databaseName)} AS ${escape(prefix + column.databaseName)}`).join(', ');
  }

  /** The escaped column name of a property. */
  column(property: keyof T & string): string {
    return this.dataSource.driver.escape(this.columnOf(property).databaseName);
  }

  /** `INSERT INTO t (a, b) VALUES (?, ?)` for these properties, in this order. */
  insertSql(properties: Array<keyof T & string>): string {
    return this.insertManySql(properties, 1);
  }

  /**
   * One INSERT of `count` rows for these properties; with `ignoreDuplicates`, rows whose unique key
   * exists already are skipped (`INSERT OR IGNORE` on SQLite, `INSERT IGNORE` on MySQL).
   */
  insertManySql(properties: Array<keyof T & string>, count: number, ignoreDuplicates = false): string {
    const verb = !ignoreDuplicates ? 'INSERT' : this.dataSource.options.type === 'mysql' ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
    const row = `(${properties.map(() => '?').join(', ')})`;
    return `${verb} INTO ${this.table} (${properties.map((p) => this.column(p)).join(', ')}) VALUES ${Array.from({ length: count }, () => row).join(', ')}`;
  }

  /** Every property of the entity, in column order (for inserting whole rows). */
  get properties(): Array<keyof T & string> {
    return this.columns.map((column) => column.propertyName as keyof T & string);
  }

  /** A property's value as the driver stores it. */
  value(property: keyof T & string, value: unknown): unknown {
    return this.dataSource.driver.preparePersistentValue(value, this.columnOf(property));
  }

  values(entity: Partial<T>, properties: Array<keyof T & string>): unknown[] {
    return properties.map((property) => this.value(property, entity[property]));
  }

  /** A row of `SELECT ${selectList}` (or of `prefixedSelectList` with this prefix) as the entity a repository would return. */
  read(row: Record<string, unknown>, prefix = ''): T {
    const entity: Record<string, unknown> = {};
    for (const column of this.columns) entity[column.propertyName] = this.dataSource.driver.prepareHydratedValue(row[prefix + column.databaseName], column);
    return entity as T;
  }

  private columnOf(property: string): ColumnMetadata {
    const column = this.byProperty.get(property);
    if (!column) throw new Error(`${this.table} has no column for property ${property}`);
    return column;
  }
}
