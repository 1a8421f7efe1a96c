import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  Binary,
  Field,
  FixedSizeBinary,
  Int32,
  LargeBinary,
  List,
  makeData,
  type RecordBatch,
  Struct,
  Table,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { from, lastValueFrom, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeExamples } from '../../../src/data/decodeExamples.js';
import { ErrorCode, IoError } from '../../../src/errors.js';
import { readDataset } from '../../../src/io/readDataset.js';
import { readParquetBatches } from '../../../src/io/readParquetBatches.js';
import { writeParquet } from '../../../src/io/writeParquet.js';
import { batchOf, int32s, nestedUint8List, readExamples, rowsOf } from '../../helpers/arrow.js';
import {
  type DuckWriteParquetOptions,
  duckdb,
  duckRows,
  duckWriteParquet,
  sqlString,
} from '../../helpers/duckdb.js';
import { rejection } from '../../helpers/errors.js';
import { firstDifferentRow, md5Image, md5ImageSql } from '../../helpers/images.js';
import { useTempDir } from '../../helpers/tempDir.js';

const tmp = useTempDir('read-parquet-');

const ROWS = 5000;
const IMAGE_BYTES = 784;
// Low-cardinality strings, which DuckDB (like pyarrow and Spark) dictionary-encodes by default.
const SELECT = `SELECT i AS id, (i % 10)::INTEGER AS label, 'class_' || (i % 10)::VARCHAR AS name,
  ${md5ImageSql('i', IMAGE_BYTES)} AS image FROM range(${ROWS}) t(i)`;

interface Written {
  readonly path: string;
  /** Rows per row group, as DuckDB reports them (it rounds ROW_GROUP_SIZE to multiples of 2048). */
  readonly groupRows: number[];
}

async function writeWithDuckDB(name: string, options: DuckWriteParquetOptions): Promise<Written> {
  const path = join(tmp.path, name);
  await duckWriteParquet(SELECT, path, options);
  const groups = await duckRows(
    `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${sqlString(path)}) ORDER BY 1`,
  );
  return { path, groupRows: groups.map((g) => Number(g[1])) };
}

async function columnEncodings(path: string, column: string): Promise<string[]> {
  const rows = await duckRows(
    `SELECT DISTINCT encodings FROM parquet_metadata(${sqlString(path)}) WHERE path_in_schema = ${sqlString(column)}`,
  );
  return rows.map((r) => String(r[0]));
}

async function codecOf(path: string): Promise<string[]> {
  const rows = await duckRows(`SELECT DISTINCT compression FROM parquet_metadata(${sqlString(path)})`);
  return rows.map((r) => String(r[0]));
}

// The expected images, computed once: several files hold the same rows, and hashing 49 digests per
// row for each of them cost more than reading the files.
let expectedImages: Uint8Array[] | undefined;
function expectedImage(row: number): Uint8Array {
  expectedImages ??= Array.from({ length: ROWS }, (_, i) => md5Image(i, IMAGE_BYTES));
  return expectedImages[row] as Uint8Array;
}

/** Every row must come back with the id, label, string and image bytes DuckDB was told to write. */
async function expectAllRowsIdentical(path: string): Promise<void> {
  const batches = await lastValueFrom(readDataset(path).pipe(toArray()));
  const names: string[] = [];
  for (const { batch } of batches) {
    const name = batch.getChild('name');
    for (let r = 0; r < batch.numRows; r++) names.push(String(name?.get(r)));
  }
  // Decoding the batches just read, rather than reading the file again for readExamples.
  const rows = rowsOf(await lastValueFrom(from(batches).pipe(decodeExamples(), toArray())));
  const all = Array.from({ length: ROWS }, (_, i) => i);
  expect(rows.ids).toEqual(all.map(String));
  expect(rows.labels).toEqual(all.map((i) => i % 10));
  expect(names).toEqual(all.map((i) => `class_${i % 10}`));
  expect(rows.images).toHaveLength(ROWS);
  expect(firstDifferentRow(rows.images, expectedImage)).toBe(-1);
}

// Both the row-group tests and the damaged-file tests start from the same file (5,000 rows, zstd,
// several row groups): written once.
let grouped: Promise<Written> | undefined;
function groupedFile(): Promise<Written> {
  grouped ??= writeWithDuckDB('groups.parquet', { compression: 'zstd', rowGroupSize: 1024 });
  return grouped;
}

describe('readParquetBatches on files written by DuckDB', () => {
  let dictionary: Written;
  let snappy: Written;
  let gzip: Written;
  let zstd: Written;
  let small: Written;

  beforeAll(async () => {
    dictionary = await writeWithDuckDB('dictionary.parquet', { compression: 'uncompressed' });
    snappy = await writeWithDuckDB('snappy.parquet', { compression: 'snappy' });
    gzip = await writeWithDuckDB('gzip.parquet', { compression: 'gzip' });
    zstd = await writeWithDuckDB('zstd.parquet', { compression: 'zstd' });
    small = await groupedFile();
  });

  it('reads a dictionary-encoded string column', async () => {
    // Check the premise: the file really holds dictionary pages for `name`.
    expect((await columnEncodings(dictionary.path, 'name')).join()).toMatch(/DICTIONARY/);
    await expectAllRowsIdentical(dictionary.path);
  });

  it.each([
    ['snappy', () => snappy, 'SNAPPY'],
    ['gzip', () => gzip, 'GZIP'],
    ['zstd', () => zstd, 'ZSTD'],
  ])('reads %s pages', async (_name, file, codec) => {
    expect(await codecOf(file().path)).toEqual([codec]);
    await expectAllRowsIdentical(file().path);
  });

  it('reads several row groups, in order', async () => {
    expect(small.groupRows.length).toBeGreaterThanOrEqual(3);
    await expectAllRowsIdentical(small.path);
  });

  it('emits one batch per row group, with the row group sizes', async () => {
    const batches = await lastValueFrom(readDataset(small.path).pipe(toArray()));
    expect(batches.map((b) => b.batch.numRows)).toEqual(small.groupRows);
    // Row offsets are running totals, so error rows and derived ids point at the right row.
    let expected = 0;
    for (const b of batches) {
      expect(b.rowOffset).toBe(expected);
      expected += b.batch.numRows;
    }
  });

  it('yields record batches straight from the generator too', async () => {
    const counts: number[] = [];
    for await (const batch of readParquetBatches(small.path)) counts.push(batch.numRows);
    expect(counts).toEqual(small.groupRows);
  });

  it('keeps file key-value metadata on every batch', async () => {
    const path = join(tmp.path, 'kv.parquet');
    const con = `COPY (SELECT 1 AS x) TO ${sqlString(path)} (FORMAT parquet, KV_METADATA {'abl_audit.image_shape': '28,28,1'})`;
    await (await duckdb()).run(con);
    const batches = await lastValueFrom(readDataset(path).pipe(toArray()));
    expect(batches[0]?.batch.schema.metadata.get('abl_audit.image_shape')).toBe('28,28,1');
  });
});

/** Arrow values as plain JSON-like values, so typed arrays, vectors and struct rows compare by content. */
function plain(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return [...(v as Uint8Array)];
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    if ('toJSON' in v && typeof v.toJSON === 'function') return plain(v.toJSON());
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

describe('readParquetBatches on files written by writeParquet', () => {
  it('gives back every Arrow type, row group by row group', async () => {
    const rows = 5;
    const pixels = Uint8Array.from({ length: rows * 12 }, (_, i) => (i * 7) % 256);
    const cell = (r: number) => pixels.slice(r * 12, (r + 1) * 12);
    const hfType = new Struct([new Field('bytes', new Binary(), true), new Field('path', new Utf8(), true)]);
    const original = batchOf({
      label: int32s([0, 1, null, 3, 4]),
      nested: nestedUint8List([2, 2, 3], pixels, rows),
      fixed: makeData({ type: new FixedSizeBinary(12), length: rows, data: pixels }),
      large: vectorFromArray(
        Array.from({ length: rows }, (_, r) => cell(r)),
        new LargeBinary(),
      ),
      hf: vectorFromArray(
        Array.from({ length: rows }, (_, r) => ({ bytes: cell(r), path: r % 2 ? `p${r}` : null })),
        hfType,
      ),
      list: vectorFromArray(
        Array.from({ length: rows }, (_, r) => Array.from({ length: r }, (_, k) => k)),
        new List(new Field('item', new Int32(), true)),
      ),
    });
    const path = join(tmp.path, 'types.parquet');
    await writeParquet(path, new Table([original]), { rowGroupSize: 2 });
    const batches: RecordBatch[] = [];
    for await (const batch of readParquetBatches(path)) batches.push(batch);
    expect(batches.map((b) => b.numRows)).toEqual([2, 2, 1]);
    const back = new Table(batches);
    expect(back.schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual(
      original.schema.fields.map((f) => `${f.name}: ${f.type}`),
    );
    for (const f of original.schema.fields) {
      const want = [...(original.getChild(f.name) ?? [])].map(plain);
      const got = [...(back.getChild(f.name) ?? [])].map(plain);
      expect({ column: f.name, values: got }).toEqual({ column: f.name, values: want });
    }
  });
});

describe('readParquetBatches on damaged files', () => {
  let source: Written;
  let bytes: Buffer;

  beforeAll(async () => {
    source = await groupedFile();
    bytes = await readFile(source.path);
  });

  async function drain(path: string): Promise<number> {
    let rows = 0;
    for await (const batch of readParquetBatches(path)) rows += batch.numRows;
    return rows;
  }

  it.each([1, 8, 1000])('names the file when the last %i bytes are cut off', async (n) => {
    const path = join(tmp.path, `cut-end-${n}.parquet`);
    await writeFile(path, bytes.subarray(0, bytes.length - n));
    const err = await rejection(readExamples(path));
    expect(err).toBeInstanceOf(IoError);
    expect(err.code).toBe(ErrorCode.CorruptFile);
    expect(err.message).toContain(path);
  });

  it('names the file when the footer cannot be parsed', async () => {
    // Keep the magic at both ends but damage the footer's Thrift bytes: past the sniffer, into the decoder.
    const footerLength = bytes.readUInt32LE(bytes.length - 8);
    const broken = Buffer.from(bytes);
    broken.fill(0xff, broken.length - 8 - footerLength, broken.length - 8);
    const path = join(tmp.path, 'bad-footer.parquet');
    await writeFile(path, broken);
    const err = await rejection(drain(path));
    expect(err).toBeInstanceOf(IoError);
    expect(err.code).toBe(ErrorCode.CorruptFile);
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/footer/);
  });

  it('names the file and row group when a row group is cut short but the footer is intact', async () => {
    // Drop the second half of the data pages and glue the original footer back on: the footer
    // parses, but its offsets point past the end of the file.
    const footerLength = bytes.readUInt32LE(bytes.length - 8);
    const footer = bytes.subarray(bytes.length - 8 - footerLength);
    const cut = Math.floor((bytes.length - footer.length) / 2);
    const path = join(tmp.path, 'cut-middle.parquet');
    await writeFile(path, Buffer.concat([bytes.subarray(0, cut), footer]));
    const read: number[] = [];
    const err = await rejection(
      (async () => {
        for await (const batch of readParquetBatches(path)) read.push(batch.numRows);
      })(),
    );
    expect(err).toBeInstanceOf(IoError);
    expect(err.code).toBe(ErrorCode.CorruptFile);
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/row group \d+/);
    // The row groups wholly before the cut were still delivered.
    expect(read.length).toBeLessThan(source.groupRows.length);
  });

  it('names the file when data pages are overwritten with garbage', async () => {
    const broken = Buffer.from(bytes);
    // Bytes 4..(1/3 of the file) hold the first row group's pages.
    broken.fill(0x5a, 4, Math.floor(bytes.length / 3));
    const path = join(tmp.path, 'garbage-pages.parquet');
    await writeFile(path, broken);
    const err = await rejection(drain(path));
    expect(err.code).toBe(ErrorCode.CorruptFile);
    expect(err.message).toContain(path);
    expect(err.message).toContain('row group 0');
  });

  it('says what a stripped decoder message means: random bytes in the middle of the data pages', async () => {
    // The fixture's zstd pages: garbage there makes parquet-wasm fail without a message.
    const fixture = await readFile(resolve('fixtures/fashion-mnist/test.parquet'));
    const broken = Buffer.from(fixture);
    let x = 2654435761;
    const middle = Math.floor(fixture.length / 2);
    for (let i = 0; i < 2048; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      broken[middle + i] = x >>> 24;
    }
    const path = join(tmp.path, 'random-pages.parquet');
    await writeFile(path, broken);
    const err = await rejection(drain(path));
    expect(err.code).toBe(ErrorCode.CorruptFile);
    // parquet-wasm's release build says only "Error strings stripped": the meaning is said instead.
    expect(err.message).not.toContain('strings stripped');
    expect(err.message).toMatch(
      /row group \d+: its data pages are damaged \(the Parquet decoder gives no detail\)/,
    );
  });
});
