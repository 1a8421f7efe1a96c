import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Binary,
  Field,
  Int32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { IoError } from '../../../src/errors.js';
import { openParquetWriter } from '../../../src/io/openParquetWriter.js';
import { iterateDataset } from '../../../src/io/readDataset.js';
import { duckRows, sqlString } from '../../helpers/duckdb.js';
import { useTempDir } from '../../helpers/tempDir.js';

const tmp = useTempDir('abl-writer-');

const fields = [
  new Field('id', new Utf8(), false),
  new Field('n', new Int32(), false),
  new Field('blob', new Binary(), false),
];
const schema = new Schema(fields, new Map([['abl_audit.image_shape', '2,2,1']]));

/** Rows [start, start + n): id `r<i>`, n = i, blob = 4 bytes derived from i. */
function batch(start: number, n: number): RecordBatch {
  const ids = vectorFromArray(
    Array.from({ length: n }, (_, i) => `r${start + i}`),
    new Utf8(),
  ).data[0];
  const nums = makeData({
    type: new Int32(),
    length: n,
    nullCount: 0,
    data: Int32Array.from({ length: n }, (_, i) => start + i),
  });
  const bytes = Uint8Array.from({ length: n * 4 }, (_, k) => (start * 4 + k) % 251);
  const blob = makeData({
    type: new Binary(),
    length: n,
    nullCount: 0,
    valueOffsets: Int32Array.from({ length: n + 1 }, (_, i) => i * 4),
    data: bytes,
  });
  if (!ids) throw new Error('vectorFromArray gave no data');
  return new RecordBatch(
    schema,
    makeData({ type: new Struct(fields), length: n, nullCount: 0, children: [ids, nums, blob] }),
  );
}

describe('openParquetWriter', () => {
  it('writes many batches into one file that DuckDB reads back row for row, in row groups of the asked size', async () => {
    const target = join(tmp.path, 'many.parquet');
    const writer = openParquetWriter(target, schema, { rowGroupSize: 1000 });
    let start = 0;
    for (const n of [1, 700, 1300, 999, 2]) {
      await writer.write(batch(start, n));
      start += n;
    }
    expect(existsSync(target)).toBe(false);
    expect(await writer.close()).toBe(start);
    const [[count, sum, distinct]] = (await duckRows(
      `SELECT count(*)::INTEGER, sum(n)::BIGINT, count(DISTINCT id)::INTEGER FROM read_parquet(${sqlString(target)})`,
    )) as [[number, bigint, number]];
    expect([count, Number(sum), distinct]).toEqual([start, (start * (start - 1)) / 2, start]);
    const groups = await duckRows(
      `SELECT row_group_num_rows::INTEGER FROM parquet_metadata(${sqlString(target)}) GROUP BY row_group_id, row_group_num_rows ORDER BY row_group_id`,
    );
    expect(groups.map((g) => g[0])).toEqual([1000, 1000, 1000, 2]);
    // Order, values and metadata survive through our own reader.
    let expected = 0;
    for await (const sb of iterateDataset(target)) {
      expect(sb.batch.schema.metadata.get('abl_audit.image_shape')).toBe('2,2,1');
      const want = batch(expected, sb.batch.numRows);
      expect(sb.batch.getChild('id')?.toArray()).toEqual(want.getChild('id')?.toArray());
      expect(Array.from(sb.batch.getChild('n')?.toArray() ?? [])).toEqual(
        Array.from(want.getChild('n')?.toArray() ?? []),
      );
      expect(sb.batch.getChild('blob')?.get(sb.batch.numRows - 1)).toEqual(
        want.getChild('blob')?.get(sb.batch.numRows - 1),
      );
      expected += sb.batch.numRows;
    }
    expect(expected).toBe(start);
  });

  it('writes an empty file with the schema when no batch comes', async () => {
    const target = join(tmp.path, 'empty.parquet');
    expect(await openParquetWriter(target, schema).close()).toBe(0);
    const cols = await duckRows(
      `SELECT name FROM parquet_schema(${sqlString(target)}) WHERE name <> 'arrow_schema' AND num_children IS NULL`,
    );
    expect(cols.map((c) => c[0])).toEqual(['id', 'n', 'blob']);
  });

  it('leaves neither the target nor a temporary file behind on abort', async () => {
    const dir = await tmp.sub('abort');
    const target = join(dir, 'aborted.parquet');
    const writer = openParquetWriter(target, schema);
    await writer.write(batch(0, 10));
    await writer.abort();
    expect(await readdir(dir)).toEqual([]);
  });

  it('keeps an existing file until a new one is complete', async () => {
    const dir = await tmp.sub('replace');
    const target = join(dir, 'data.parquet');
    await writeFile(target, 'old content');
    const writer = openParquetWriter(target, schema);
    await writer.write(batch(0, 5));
    await writer.abort();
    expect(await readdir(dir)).toEqual(['data.parquet']);
  });

  it('fails with an IoError naming the file when the folder cannot be made, leaving nothing', async () => {
    const dir = await tmp.sub('fail');
    await writeFile(join(dir, 'not-a-folder'), 'x');
    const target = join(dir, 'not-a-folder', 'x.parquet');
    const writer = openParquetWriter(target, schema);
    const err = await (async () => {
      await writer.write(batch(0, 5));
      await writer.close();
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect((err as IoError).message).toContain(target);
    expect(await readdir(dir)).toEqual(['not-a-folder']);
  });

  it('refuses writes after close', async () => {
    const dir = await tmp.sub('closed');
    await mkdir(dir, { recursive: true });
    const writer = openParquetWriter(join(dir, 'c.parquet'), schema);
    await writer.write(batch(0, 3));
    await writer.close();
    await expect(writer.write(batch(3, 3))).rejects.toBeInstanceOf(IoError);
  });
});
