/**
 * Shared helpers of the importer tests: temporary folders, IDX encoding, and reading a written dataset
 * back through the library's own read and decode stages or through DuckDB.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { lastValueFrom, toArray } from 'rxjs';
import { decodeExamples } from '../../../src/data/decodeExamples.js';
import type { ImageShape } from '../../../src/data/imageShape.js';
import type { DatasetColumns } from '../../../src/data/inferColumns.js';
import { readDataset } from '../../../src/io/readDataset.js';

const made: string[] = [];

/** A fresh empty folder under the OS temp folder; {@link removeTempDirs} deletes it. */
export async function makeTempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'abl-import-'));
  made.push(dir);
  return dir;
}

/** Deletes every folder made by {@link makeTempDir} (call in `afterEach`). */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Every name in a folder, hidden ones included (to catch leftover temporary files). */
export async function listNames(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

/** IDX bytes: 00 00 type ndims, big-endian dims, then `data`. */
export function idxBytes(dims: readonly number[], data: Uint8Array, type = 0x08): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(head.buffer);
  head[2] = type;
  head[3] = dims.length;
  for (const [i, d] of dims.entries()) view.setUint32(4 + 4 * i, d, false);
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}

/** `n` images of `size` bytes with distinct, deterministic pixel values. */
export function patternImages(n: number, size: number, salt = 0): Uint8Array {
  return Uint8Array.from({ length: n * size }, (_, i) => (i * 37 + salt * 11 + (i >> 3)) & 0xff);
}

/** A dataset as read back by readDataset + decodeExamples, plus the split and source columns. */
export interface ReadBack {
  readonly ids: string[];
  readonly labels: number[];
  readonly images: Uint8Array;
  readonly shape: ImageShape;
  readonly classNames: readonly string[] | null;
  readonly splits: string[];
  readonly sources: string[];
}

/** Reads a written Parquet file back with the library's read and decode stages. */
export async function readBack(path: string): Promise<ReadBack> {
  let columns: DatasetColumns | null = null;
  const batches = await lastValueFrom(
    readDataset(path).pipe(
      decodeExamples({
        onColumns: (c) => {
          columns = c;
        },
      }),
      toArray(),
    ),
  );
  const first = batches[0];
  if (!first) throw new Error(`no batches in ${path}`);
  const total = batches.reduce((s, b) => s + b.images.length, 0);
  const images = new Uint8Array(total);
  let at = 0;
  for (const b of batches) {
    images.set(b.images, at);
    at += b.images.length;
  }
  const strings = (name: string) =>
    batches.flatMap((b) => Array.from(b.batch.getChild(name)?.toArray() ?? [], (v) => String(v)));
  return {
    ids: batches.flatMap((b) => [...b.ids]),
    labels: batches.flatMap((b) => [...b.labels]),
    images,
    shape: first.shape,
    classNames: (columns as DatasetColumns | null)?.classNames ?? null,
    splits: strings('split'),
    sources: strings('source'),
  };
}

/** Runs one SQL query in a fresh in-memory DuckDB and returns the rows as JS values. */
export async function duckdbRows(sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowsJS();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Bytes of a DuckDB BLOB value as returned by `getRowsJS`. */
export function blobBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new Error(`expected a BLOB, got ${typeof value}`);
}

/** SQL string literal for a path. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
