import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type DuckDBConnection, DuckDBInstance, type JS } from '@duckdb/node-api';

/**
 * DuckDB stands in for the independent Parquet writers and readers our users have (pyarrow, Spark):
 * files it writes test our reader, and it reads back what our writer produced.
 */

let connection: Promise<DuckDBConnection> | undefined;

/**
 * One in-memory DuckDB connection per test process, opened on first use.
 *
 * @example
 * ```ts
 * const con = await duckdb();
 * ```
 * @returns the shared connection.
 * @see duckRows
 */
export function duckdb(): Promise<DuckDBConnection> {
  connection ??= DuckDBInstance.create(':memory:').then((db) => db.connect());
  return connection;
}

/**
 * A SQL string literal: single quotes doubled, so temporary paths with odd characters stay literal.
 *
 * @example
 * ```ts
 * `SELECT * FROM ${sqlString(path)}`
 * ```
 * @param text - any string.
 * @returns the quoted literal.
 */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Options of {@link duckWriteParquet}. */
export interface DuckWriteParquetOptions {
  /** Page codec, as DuckDB names it (default zstd). */
  readonly compression?: 'zstd' | 'snappy' | 'gzip' | 'uncompressed';
  /** Rows per row group (DuckDB's default is 122,880). */
  readonly rowGroupSize?: number;
}

/**
 * Writes the result of a SELECT to a Parquet file with DuckDB.
 *
 * @example
 * ```ts
 * await duckWriteParquet('SELECT i AS id FROM range(10) t(i)', path, { rowGroupSize: 4 });
 * ```
 * @param select - the query whose rows are written.
 * @param path - the file to create.
 * @param options - codec and row group size.
 * @returns when the file is complete.
 * @see duckRows
 */
export async function duckWriteParquet(
  select: string,
  path: string,
  options: DuckWriteParquetOptions = {},
): Promise<void> {
  const con = await duckdb();
  await con.run(copySql(select, path, options));
}

function copySql(select: string, path: string, options: DuckWriteParquetOptions): string {
  const parts = ['FORMAT parquet', `COMPRESSION ${options.compression ?? 'zstd'}`];
  if (options.rowGroupSize !== undefined) parts.push(`ROW_GROUP_SIZE ${options.rowGroupSize}`);
  return `COPY (${select}) TO ${sqlString(path)} (${parts.join(', ')})`;
}

/**
 * Runs a query and returns its rows as plain JS values (BLOB → Uint8Array, BIGINT → bigint, STRUCT →
 * object, LIST → array).
 *
 * @example
 * ```ts
 * const rows = await duckRows(`SELECT id, label FROM ${sqlString(path)} ORDER BY id`);
 * ```
 * @param sql - the query.
 * @returns one array per row.
 * @see duckWriteParquet
 */
export async function duckRows(sql: string): Promise<JS[][]> {
  const con = await duckdb();
  return (await con.runAndReadAll(sql)).getRowsJS();
}

const execFileAsync = promisify(execFile);

/**
 * {@link duckWriteParquet} in a separate Node process. Memory tests use it so that DuckDB's own
 * allocations, freed into this process's allocator, cannot be reused by the code under test and hide
 * its growth.
 *
 * @example
 * ```ts
 * await duckWriteParquetInChild('SELECT ...', path, { rowGroupSize: 4096 });
 * ```
 * @param select - the query whose rows are written.
 * @param path - the file to create.
 * @param options - codec and row group size.
 * @returns when the child has exited.
 * @see duckWriteParquet
 */
export async function duckWriteParquetInChild(
  select: string,
  path: string,
  options: DuckWriteParquetOptions = {},
): Promise<void> {
  const script = [
    "import { DuckDBInstance } from '@duckdb/node-api';",
    "const con = await (await DuckDBInstance.create(':memory:')).connect();",
    'await con.run(process.argv[1]);',
  ].join('\n');
  // `-e` resolves bare imports from the working folder: the repository root, where vitest runs.
  await execFileAsync(
    process.execPath,
    ['--input-type=module', '-e', script, copySql(select, path, options)],
    {
      cwd: process.cwd(),
    },
  );
}
