import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Field, Int32, Schema, Table, tableToIPC } from 'apache-arrow';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { decodeExamples } from '../../../src/data/decodeExamples.js';
import type { DatasetColumns } from '../../../src/data/inferColumns.js';
import { DataError, ErrorCode } from '../../../src/errors.js';
import { readDataset } from '../../../src/io/readDataset.js';
import { writeParquet } from '../../../src/io/writeParquet.js';
import { batchOf, binaries, decodeAll, int32s, readExamples, rowsOf, strings } from '../../helpers/arrow.js';
import { duckdb, duckWriteParquet, sqlString } from '../../helpers/duckdb.js';
import { rejection } from '../../helpers/errors.js';
import { md5Image, md5ImageSql } from '../../helpers/images.js';
import { useTempDir } from '../../helpers/tempDir.js';

const tmp = useTempDir('decode-');

const IMAGE = 16; // 4x4x1

/** Writes `rows` rows with DuckDB; `label` and extra columns are SQL over the row number i. */
async function duckFile(
  path: string,
  rows: number,
  label: string,
  extra = '',
  kvMetadata?: Record<string, string>,
): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  const kv = kvMetadata
    ? `, KV_METADATA {${Object.entries(kvMetadata)
        .map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`)
        .join(', ')}}`
    : '';
  const select = `SELECT ${label} AS label, ${md5ImageSql('i', IMAGE)} AS image${extra} FROM range(${rows}) t(i)`;
  await (await duckdb()).run(`COPY (${select}) TO ${sqlString(path)} (FORMAT parquet${kv})`);
  return path;
}

describe('labels', () => {
  it.each([
    ['negative', 'CASE WHEN i = 3 THEN -1 ELSE i % 2 END', /label -1 is negative/],
    ['not an integer', 'CASE WHEN i = 3 THEN 1.5 ELSE i % 2 END::DOUBLE', /label 1.5 is not an integer/],
    ['null', 'CASE WHEN i = 3 THEN NULL ELSE i % 2 END::INTEGER', /label is null/],
    ['NaN', "CASE WHEN i = 3 THEN 'NaN'::DOUBLE ELSE i % 2 END", /label is NaN/],
  ])('rejects a %s label, naming file, column and row', async (name, label, message) => {
    const path = await duckFile(join(tmp.path, `label-${name.replaceAll(' ', '-')}.parquet`), 6, label);
    const err = await rejection(readExamples(path));
    expect(err).toBeInstanceOf(DataError);
    expect(err.code).toBe(ErrorCode.BadLabel);
    expect(err.message).toMatch(message);
    expect(err.message).toContain(`file ${path}, column 'label', row 3`);
    expect(err.location).toEqual({ file: path, column: 'label', row: 3 });
  });

  it('accepts integral float labels and bigint labels', async () => {
    const floats = await duckFile(join(tmp.path, 'float-labels.parquet'), 4, '(i % 3)::DOUBLE');
    expect(rowsOf(await readExamples(floats)).labels).toEqual([0, 1, 2, 0]);
    const bigints = await duckFile(join(tmp.path, 'bigint-labels.parquet'), 4, '(i % 3)::BIGINT');
    expect(rowsOf(await readExamples(bigints)).labels).toEqual([0, 1, 2, 0]);
  });

  it('rejects a label out of range of the class names in abl_audit.class_names', async () => {
    const path = await duckFile(join(tmp.path, 'k3.parquet'), 6, 'i::INTEGER', '', {
      'abl_audit.class_names': '["a","b","c"]',
    });
    const err = await rejection(readExamples(path));
    expect(err.code).toBe(ErrorCode.BadLabel);
    expect(err.message).toContain('out of range: the data has 3 classes (0-2)');
    expect(err.location).toEqual({ file: path, column: 'label', row: 3 });
  });

  it('rejects a label out of range of Hugging Face ClassLabel names', async () => {
    const hf = JSON.stringify({ info: { features: { label: { names: ['x', 'y'], _type: 'ClassLabel' } } } });
    const path = await duckFile(join(tmp.path, 'hf-k2.parquet'), 4, 'i::INTEGER', '', { huggingface: hf });
    const err = await rejection(readExamples(path));
    expect(err.code).toBe(ErrorCode.BadLabel);
    expect(err.location).toEqual({ file: path, column: 'label', row: 2 });
  });

  it('lets numClasses set the range', async () => {
    const path = await duckFile(join(tmp.path, 'n.parquet'), 6, 'i::INTEGER');
    expect(rowsOf(await readExamples(path)).labels).toEqual([0, 1, 2, 3, 4, 5]);
    const err = await rejection(readExamples(path, { numClasses: 5 }));
    expect(err.location?.row).toBe(5);
  });
});

describe('ids', () => {
  it('uses the id column, string or integer', async () => {
    const strs = await duckFile(join(tmp.path, 'str-ids.parquet'), 3, '0', ", 'img-' || i::VARCHAR AS id");
    expect(rowsOf(await readExamples(strs)).ids).toEqual(['img-0', 'img-1', 'img-2']);
    const ints = await duckFile(
      join(tmp.path, 'int-ids.parquet'),
      3,
      '0',
      ', (i * 1000000000000)::BIGINT AS id',
    );
    expect(rowsOf(await readExamples(ints)).ids).toEqual(['0', '1000000000000', '2000000000000']);
  });

  it('derives <relPath>#<row> ids, the same on every run and wherever the folder is', async () => {
    const root = await tmp.sub('derived');
    await duckFile(join(root, 'data', 'split=a', 'part-0.parquet'), 3, '0');
    await duckFile(join(root, 'data', 'split=b', 'part-0.parquet'), 2, '0');
    const first = rowsOf(await readExamples(join(root, 'data'))).ids;
    expect(first).toEqual([
      'split=a/part-0.parquet#0',
      'split=a/part-0.parquet#1',
      'split=a/part-0.parquet#2',
      'split=b/part-0.parquet#0',
      'split=b/part-0.parquet#1',
    ]);
    expect(rowsOf(await readExamples(join(root, 'data'))).ids).toEqual(first);
    await cp(join(root, 'data'), join(root, 'elsewhere', 'copy'), { recursive: true });
    expect(rowsOf(await readExamples(join(root, 'elsewhere', 'copy'))).ids).toEqual(first);
  });

  it('numbers derived ids across the row groups of a file', async () => {
    const path = join(tmp.path, 'groups-ids.parquet');
    const rows = 7;
    const table = new Table([
      batchOf({
        label: int32s(Array.from({ length: rows }, () => 0)),
        image: binaries(Array.from({ length: rows }, (_, i) => md5Image(i, IMAGE))),
      }),
    ]);
    await writeParquet(path, table, { rowGroupSize: 3 });
    const batches = await readExamples(path);
    expect(batches.map((b) => b.ids.length)).toEqual([3, 3, 1]);
    expect(rowsOf(batches).ids).toEqual(Array.from({ length: rows }, (_, i) => `groups-ids.parquet#${i}`));
  });

  it('rejects a repeated id, naming both rows', async () => {
    const root = await tmp.sub('dup');
    await duckFile(join(root, 'a.parquet'), 3, '0', ", 'k' || i::VARCHAR AS id");
    await duckFile(join(root, 'b.parquet'), 3, '0', ", 'k' || (i + 2)::VARCHAR AS id");
    const err = await rejection(readExamples(root));
    expect(err.code).toBe(ErrorCode.DuplicateId);
    // b.parquet row 0 has id k2, first seen at a.parquet row 2.
    expect(err.message).toContain("id 'k2' repeats the id of a.parquet#2");
    expect(err.location).toEqual({ file: join(root, 'b.parquet'), column: 'id', row: 0 });
  });

  it('rejects a repeated id within one batch', async () => {
    const batch = batchOf({
      label: int32s([0, 0, 0]),
      image: binaries([1, 2, 3].map((i) => md5Image(i, IMAGE))),
      id: strings(['x', 'y', 'x']),
    });
    const err = await rejection(decodeAll([batch]));
    expect(err.code).toBe(ErrorCode.DuplicateId);
    expect(err.location?.row).toBe(2);
    expect(err.message).toContain('mem.parquet#0');
  });

  it('rejects a null id, naming the row', async () => {
    const batch = batchOf({
      label: int32s([0, 0]),
      image: binaries([1, 2].map((i) => md5Image(i, IMAGE))),
      id: strings(['x', null]),
    });
    const err = await rejection(decodeAll([batch]));
    expect(err.code).toBe(ErrorCode.BadId);
    expect(err.location).toEqual({ file: '/data/mem.parquet', column: 'id', row: 1 });
  });
});

describe('bad datasets', () => {
  it('names the file when no column holds images', async () => {
    const path = join(tmp.path, 'no-image.parquet');
    await duckWriteParquet("SELECT i::INTEGER AS label, 'x' AS caption FROM range(3) t(i)", path);
    const err = await rejection(readExamples(path));
    expect(err.code).toBe(ErrorCode.NoImageColumn);
    expect(err.message).toContain(path);
    expect(err.message).toContain('label: Int32, caption: Utf8');
  });

  it('names the row whose image has a different size', async () => {
    const path = join(tmp.path, 'mixed-sizes.parquet');
    await duckWriteParquet(
      `SELECT 0 AS label, CASE WHEN i = 4 THEN ${md5ImageSql('i', 25)} ELSE ${md5ImageSql('i', IMAGE)} END AS image FROM range(6) t(i)`,
      path,
    );
    const err = await rejection(readExamples(path));
    expect(err.code).toBe(ErrorCode.MixedImageShapes);
    expect(err.message).toContain('image is 25 values but earlier images are 4x4x1');
    expect(err.location).toEqual({ file: path, column: 'image', row: 4 });
  });

  it('names the file and row of a null image', async () => {
    const path = join(tmp.path, 'null-image.parquet');
    await duckWriteParquet(
      `SELECT 0 AS label, CASE WHEN i = 2 THEN NULL ELSE ${md5ImageSql('i', IMAGE)} END AS image FROM range(4) t(i)`,
      path,
    );
    const err = await rejection(readExamples(path));
    expect(err.code).toBe(ErrorCode.BadImage);
    expect(err.location).toEqual({ file: path, column: 'image', row: 2 });
  });

  it('fails with EmptyDataset naming the source for a Parquet file with a schema and no rows', async () => {
    const path = join(tmp.path, 'zero-rows.parquet');
    await duckWriteParquet(
      `SELECT 0 AS label, ${md5ImageSql('i', IMAGE)} AS image FROM range(10) t(i) LIMIT 0`,
      path,
    );
    const err = await rejection(lastValueFrom(readDataset(path).pipe(decodeExamples({ source: path }))));
    expect(err).toBeInstanceOf(DataError);
    expect(err.code).toBe(ErrorCode.EmptyDataset);
    expect(err.message).toContain(path);
  });

  it('names the second file when it lacks the label column', async () => {
    const root = await tmp.sub('mismatch');
    await duckFile(join(root, 'part-0.parquet'), 3, '0');
    const second = join(root, 'part-1.parquet');
    await duckWriteParquet(`SELECT ${md5ImageSql('i', IMAGE)} AS image FROM range(3) t(i)`, second);
    const err = await rejection(readExamples(root));
    expect(err).toBeInstanceOf(DataError);
    expect(err.code).toBe(ErrorCode.SchemaMismatch);
    expect(err.location).toEqual({ file: second, column: 'label' });
    expect(err.message).toContain(second);
  });

  it('names the second file when its image column has a type that holds no images', async () => {
    const root = await tmp.sub('mismatch-type');
    await duckFile(join(root, 'part-0.parquet'), 3, '0');
    const second = join(root, 'part-1.parquet');
    await duckWriteParquet("SELECT 0 AS label, 'not bytes' AS image FROM range(3) t(i)", second);
    const err = await rejection(readExamples(root));
    expect(err.code).toBe(ErrorCode.SchemaMismatch);
    expect(err.location).toEqual({ file: second, column: 'image' });
    expect(err.message).toContain('Utf8');
  });

  it('names the second file when its label column holds strings', async () => {
    const root = await tmp.sub('mismatch-label');
    await duckFile(join(root, 'part-0.parquet'), 3, '0');
    const second = join(root, 'part-1.parquet');
    await duckFile(second, 3, "'cat'");
    const err = await rejection(readExamples(root));
    expect(err.code).toBe(ErrorCode.SchemaMismatch);
    expect(err.location).toEqual({ file: second, column: 'label' });
  });
});

describe('empty batches', () => {
  it('infers the columns from the first non-empty batch', async () => {
    // An Arrow stream may start with an empty batch; its (absent) first image must not decide that
    // PNG bytes are raw pixels, nor fix the image shape at 0x0x0.
    const { encode } = await import('fast-png');
    const png = (seed: number) =>
      encode({ width: 3, height: 2, channels: 1, data: Uint8Array.from({ length: 6 }, (_, k) => seed + k) });
    const full = batchOf({ label: int32s([0, 1]), image: binaries([png(0), png(10)]) });
    const path = join(tmp.path, 'empty-first.arrows');
    await writeFile(path, tableToIPC(new Table([full.slice(0, 0), full]), 'stream'));
    const batches = await readExamples(path);
    const rows = rowsOf(batches);
    expect(rows.labels).toEqual([0, 1]);
    expect(rows.images).toEqual([Uint8Array.of(0, 1, 2, 3, 4, 5), Uint8Array.of(10, 11, 12, 13, 14, 15)]);
    expect(batches.at(-1)?.shape).toEqual({ height: 2, width: 3, channels: 1 });
  });

  it('counts only rows: a dataset of empty batches is empty', async () => {
    const empty = batchOf({ label: int32s([]), image: binaries([]) });
    const err = await rejection(decodeAll([empty, empty], { source: 'in-memory' }));
    expect(err.code).toBe(ErrorCode.EmptyDataset);
    expect(err.message).toContain('in-memory');
  });
});

describe('decodeExamples output', () => {
  it('keeps the source batch, file and row offset, and reports the columns once', async () => {
    const path = await duckFile(join(tmp.path, 'out.parquet'), 3, 'i::INTEGER', ", 'r' || i::VARCHAR AS id");
    const seen: DatasetColumns[] = [];
    const batches = await lastValueFrom(
      readDataset(path).pipe(decodeExamples({ onColumns: (c) => seen.push(c) }), toArray()),
    );
    expect(seen).toEqual([
      {
        image: { name: 'image', encoding: 'raw-bytes', shape: null },
        label: 'label',
        source: null,
        id: 'id',
        classNames: null,
      },
    ]);
    const [first] = batches;
    expect(first?.batch.schema.fields.map((f) => f.name)).toEqual(['label', 'image', 'id']);
    expect(first?.file.path).toBe(path);
    expect(first?.rowOffset).toBe(0);
    expect(first?.images).toEqual(new Uint8Array([0, 1, 2].flatMap((i) => [...md5Image(i, IMAGE)])));
  });

  it('uses column overrides', async () => {
    const batch = batchOf({
      a: binaries([md5Image(0, IMAGE)]),
      b: binaries([md5Image(1, IMAGE)]),
      klass: int32s([4]),
      name: strings(['n0']),
    });
    const [out] = await decodeAll([batch], { imageCol: 'b', labelCol: 'klass', idCol: 'name' });
    expect(out?.images).toEqual(md5Image(1, IMAGE));
    expect([...(out?.labels ?? [])]).toEqual([4]);
    expect(out?.ids).toEqual(['n0']);
  });

  it('ignores the schema a zero-row file declares when earlier files had rows', async () => {
    // Nothing to decode, so nothing to check: an empty part file (Spark writes them) is harmless.
    const root = await tmp.sub('empty-part');
    await duckFile(join(root, 'part-0.parquet'), 2, '0');
    await writeParquet(
      join(root, 'part-1.parquet'),
      new Table(new Schema([new Field('label', new Int32(), true)])),
    );
    expect(rowsOf(await readExamples(root)).ids).toEqual(['part-0.parquet#0', 'part-0.parquet#1']);
  });
});
