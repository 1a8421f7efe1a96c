import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Binary,
  Field,
  Int32,
  List,
  makeData,
  makeVector,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ErrorCode, IoError } from '../../../src/errors.js';
import { readDataset } from '../../../src/io/readDataset.js';
import { encodeParquet, type ParquetCodec, writeParquet } from '../../../src/io/writeParquet.js';
import { batchOf, binaries, int32s, strings } from '../../helpers/arrow.js';
import { duckRows, sqlString } from '../../helpers/duckdb.js';
import { rejection } from '../../helpers/errors.js';
import { md5Image } from '../../helpers/images.js';
import { useTempDir } from '../../helpers/tempDir.js';

const tmp = useTempDir('write-parquet-');

const N = 50;
const ids = Array.from({ length: N }, (_, i) => `row-${i}`);
const labels = Array.from({ length: N }, (_, i) => i % 7);
const images = Array.from({ length: N }, (_, i) => md5Image(i, 64));

/** Every column kind a quarantine partition may carry: binary, int, string, HF struct, list. */
function sampleTable(): Table {
  const hfType = new Struct([new Field('bytes', new Binary(), true), new Field('path', new Utf8(), true)]);
  const hf = vectorFromArray(
    images.map((bytes, i) => ({ bytes, path: i % 3 === 0 ? null : `img/${i}.png` })),
    hfType,
  );
  const tags = vectorFromArray(
    Array.from({ length: N }, (_, i) => Array.from({ length: i % 4 }, (_, k) => i * 10 + k)),
    new List(new Field('item', new Int32(), true)),
  );
  return new Table([batchOf({ id: strings(ids), label: int32s(labels), image: binaries(images), hf, tags })]);
}

/** Rows in file order: DuckDB's file_row_number keeps the order we wrote. */
async function duckReadBack(path: string): Promise<unknown[][]> {
  return duckRows(
    `SELECT id, label, image, hf, tags FROM read_parquet(${sqlString(path)}, file_row_number = true) ORDER BY file_row_number`,
  );
}

describe('writeParquet read back by DuckDB', () => {
  it('writes identical rows: binary images, int labels, strings, a {bytes, path} struct, a list', async () => {
    const path = join(tmp.path, 'all-types.parquet');
    await writeParquet(path, sampleTable());
    const rows = await duckReadBack(path);
    expect(rows).toHaveLength(N);
    rows.forEach((row, i) => {
      const [id, label, image, hf, tags] = row;
      expect(id).toBe(ids[i]);
      expect(label).toBe(labels[i]);
      expect(Buffer.from(image as Uint8Array)).toEqual(Buffer.from(images[i] as Uint8Array));
      const { bytes, path: imgPath } = hf as { bytes: Uint8Array; path: string | null };
      expect(Buffer.from(bytes)).toEqual(Buffer.from(images[i] as Uint8Array));
      expect(imgPath).toBe(i % 3 === 0 ? null : `img/${i}.png`);
      expect(tags).toEqual(Array.from({ length: i % 4 }, (_, k) => i * 10 + k));
    });
  });

  it.each([
    ['zstd', 'ZSTD'],
    ['snappy', 'SNAPPY'],
    ['gzip', 'GZIP'],
    ['none', 'UNCOMPRESSED'],
  ] as [ParquetCodec, string][])('writes %s pages that DuckDB reads', async (codec, duckName) => {
    const path = join(tmp.path, `codec-${codec}.parquet`);
    await writeParquet(path, sampleTable(), { codec });
    const codecs = await duckRows(`SELECT DISTINCT compression FROM parquet_metadata(${sqlString(path)})`);
    expect(codecs.map((r) => r[0])).toEqual([duckName]);
    const rows = await duckReadBack(path);
    expect(rows.map((r) => r[0])).toEqual(ids);
  });

  it('cuts row groups of the requested size', async () => {
    const path = join(tmp.path, 'groups.parquet');
    await writeParquet(path, sampleTable(), { rowGroupSize: 16 });
    const groups = await duckRows(
      `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${sqlString(path)}) ORDER BY 1`,
    );
    expect(groups.map((g) => Number(g[1]))).toEqual([16, 16, 16, 2]);
    // And our reader streams them one by one.
    const batches = await lastValueFrom(readDataset(path).pipe(toArray()));
    expect(batches.map((b) => b.batch.numRows)).toEqual([16, 16, 16, 2]);
  });

  it('round-trips metadata keys through our reader, and exposes them to DuckDB', async () => {
    const path = join(tmp.path, 'meta.parquet');
    const classNames = JSON.stringify(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    // Schema metadata on the table and extra metadata from the options must both survive.
    const table = sampleTable();
    const withSchemaMeta = new Table(
      table.batches.map(
        (b) => new RecordBatch(new Schema(b.schema.fields, new Map([['origin', 'unit-test']])), b.data),
      ),
    );
    await writeParquet(path, withSchemaMeta, {
      metadata: { 'abl_audit.image_shape': '8,8,1', 'abl_audit.class_names': classNames },
    });
    const [first] = await lastValueFrom(readDataset(path).pipe(toArray()));
    const meta = first?.batch.schema.metadata;
    expect(meta?.get('abl_audit.image_shape')).toBe('8,8,1');
    expect(meta?.get('abl_audit.class_names')).toBe(classNames);
    expect(meta?.get('origin')).toBe('unit-test');
    const kv = await duckRows(
      `SELECT decode(key), decode(value) FROM parquet_kv_metadata(${sqlString(path)}) ORDER BY 1`,
    );
    expect(kv).toContainEqual(['abl_audit.image_shape', '8,8,1']);
  });

  it('writes a table with a schema and no rows', async () => {
    const path = join(tmp.path, 'empty.parquet');
    const schema = new Schema([new Field('label', new Int32(), true)]);
    await writeParquet(path, new Table(schema));
    const rows = await duckRows(`SELECT count(*) FROM ${sqlString(path)}`);
    expect(rows).toEqual([[0n]]);
  });

  it('encodes to bytes without touching the disk', async () => {
    const bytes = encodeParquet(sampleTable());
    const path = join(tmp.path, 'encoded.parquet');
    await writeFile(path, bytes);
    expect((await duckReadBack(path)).map((r) => r[1])).toEqual(labels);
  });
});

/** A binary column whose last offset points past its values: arrow-rs refuses to encode it. */
function unencodableTable(): Table {
  const data = makeData({
    type: new Binary(),
    length: 2,
    valueOffsets: new Int32Array([0, 5, 1_000_000]),
    data: new Uint8Array(5),
  });
  return new Table({ image: makeVector(data) });
}

async function tmpLeftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.includes('.tmp-'));
}

describe('writeParquet failures', () => {
  it('leaves no file and no temporary file when encoding fails', async () => {
    const dir = await tmp.sub('encode-fails');
    const target = join(dir, 'out.parquet');
    const err = await rejection(writeParquet(target, unencodableTable()));
    expect(err).toBeInstanceOf(IoError);
    expect(err.code).toBe(ErrorCode.WriteFailed);
    expect(err.message).toContain(target);
    expect(await readdir(dir)).toEqual([]);
  });

  it('does not clobber an existing file when encoding fails', async () => {
    const dir = await tmp.sub('keep-old');
    const target = join(dir, 'out.parquet');
    await writeParquet(target, sampleTable());
    const before = await readFile(target);
    await rejection(writeParquet(target, unencodableTable()));
    expect(await readFile(target)).toEqual(before);
    expect(await tmpLeftovers(dir)).toEqual([]);
  });

  it('fails with IoError naming the target when its parent is a file', async () => {
    const dir = await tmp.sub('parent-file');
    await writeFile(join(dir, 'not-a-folder'), 'x');
    const target = join(dir, 'not-a-folder', 'out.parquet');
    const err = await rejection(writeParquet(target, sampleTable()));
    expect(err).toBeInstanceOf(IoError);
    expect(err.code).toBe(ErrorCode.WriteFailed);
    expect(err.message).toContain(target);
    expect(await readdir(dir)).toEqual(['not-a-folder']);
  });

  it('creates missing parent folders', async () => {
    const dir = await tmp.sub('nested');
    const target = join(dir, 'a', 'b', 'out.parquet');
    await writeParquet(target, sampleTable());
    expect((await duckReadBack(target)).length).toBe(N);
  });
});
