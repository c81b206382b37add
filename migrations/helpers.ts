import { QueryRunner, TableColumnOptions, TableIndexOptions } from 'typeorm';

/**
 * Small column builders so one migration serves SQLite and MySQL: the schema builder writes each
 * dialect's DDL; the few types that differ (large text, blobs) are chosen here, not in SQL.
 */
export const col = {
  id: (name = 'id'): TableColumnOptions => ({ name, type: 'varchar', length: '36', isPrimary: true }),
  ref: (name: string, nullable = false): TableColumnOptions => ({ name, type: 'varchar', length: '36', isNullable: nullable }),
  string: (name: string, length: number, nullable = false): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable: nullable }),
  text: (name: string, nullable = true): TableColumnOptions => ({ name, type: 'text', isNullable: nullable }),
  int: (name: string, defaultValue = 0): TableColumnOptions => ({ name, type: 'int', default: defaultValue }),
  bigint: (name: string): TableColumnOptions => ({ name, type: 'bigint' }),
  bool: (name: string, defaultValue: boolean): TableColumnOptions => ({ name, type: 'boolean', default: defaultValue ? 1 : 0 }),
  time: (name: string, nullable = false): TableColumnOptions => ({ name, type: 'datetime', precision: 3, isNullable: nullable }),
};

export function isMysql(queryRunner: QueryRunner): boolean {
  return queryRunner.connection.driver.options.type === 'mysql';
}

/** Text that may exceed 64 KB (message bodies, JSON payloads). */
export function largeText(queryRunner: QueryRunner, name: string, nullable = true): TableColumnOptions {
  return { name, type: isMysql(queryRunner) ? 'mediumtext' : 'text', isNullable: nullable };
}

export function bytes(queryRunner: QueryRunner, name: string): TableColumnOptions {
  return { name, type: isMysql(queryRunner) ? 'longblob' : 'blob' };
}

export function index(table: string, columns: string[], unique = false): TableIndexOptions {
  return { name: `${unique ? 'uq' : 'ix'}_${table}_${columns.join('_')}`.slice(0, 64), columnNames: columns, isUnique: unique };
}

/**
 * An index of only the rows whose columns hold the given values (one, or any of a list), in the order of
 * `columns`. SQLite gets a partial index, which holds just those rows; MySQL has no partial indexes, so there
 * the filtered columns lead an index of every row. Either way a query that names those values reads no row
 * outside them. SQLite uses a partial index only for a query whose WHERE repeats each of its terms as written
 * (`direction = 'in'`, `status IN ('a', 'b')`, with literals, not parameters).
 */
export function filteredIndex(queryRunner: QueryRunner, name: string, filter: Record<string, string | string[]>, columns: string[]): TableIndexOptions {
  const filtered = Object.keys(filter);
  if (isMysql(queryRunner)) return { name, columnNames: [...filtered, ...columns] };
  const term = (column: string, value: string | string[]) =>
    typeof value === 'string' ? `"${column}" = '${value}'` : `"${column}" IN (${value.map((v) => `'${v}'`).join(', ')})`;
  return { name, columnNames: columns, where: filtered.map((column) => term(column, filter[column])).join(' AND ') };
}
