import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FixedSizeBinary, makeData, Table, tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseParquetFooter, rowGroupAsFile } from '../../../src/io/parquetFooter.js';
import { writeParquet } from '../../../src/io/writeParquet.js';
import { batchOf, int32s, nestedUint8List } from '../../helpers/arrow.js';
import { duckRows, duckWriteParquet, sqlString } from '../../helpers/duckdb.js';
import { md5ImageSql } from '../../helpers/images.js';
import { useTempDir } from '../../helpers/tempDir.js';

const tmp = useTempDir('footer-');

async function footerBytes(file: Buffer): Promise<Uint8Array> {
  const length = file.readUInt32LE(file.length - 8);
  return new Uint8Array(file.subarray(file.length - 8 - length, file.length - 8));
}

describe('parseParquetFooter and rowGroupAsFile on a DuckDB file', () => {
  let path: string;
  let file: Buffer;

  beforeAll(async () => {
    path = join(tmp.path, 'duck.parquet');
    // Dictionary pages (name, label), zstd, several row groups, and a bloom filter DuckDB writes for
    // dictionary columns: everything that must be moved or dropped when a row group stands alone.
    await duckWriteParquet(
      `SELECT i AS id, (i % 10)::INTEGER AS label, 'c' || (i % 7)::VARCHAR AS name, ${md5ImageSql('i', 64)} AS image FROM range(7000) t(i)`,
      path,
      { compression: 'zstd', rowGroupSize: 2048 },
    );
    file = await readFile(path);
  });

  it('finds each row group with its row count, in ascending, non-overlapping byte ranges', async () => {
    const footer = parseParquetFooter(await footerBytes(file));
    const duck = await duckRows(
      `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${sqlString(path)}) ORDER BY 1`,
    );
    expect(footer.rowGroups.map((g) => g.numRows)).toEqual(duck.map((r) => Number(r[1])));
    let previousEnd = 4;
    for (const g of footer.rowGroups) {
      expect(g.start).toBeGreaterThanOrEqual(previousEnd);
      expect(g.end).toBeGreaterThan(g.start);
      previousEnd = g.end;
    }
    expect(previousEnd).toBeLessThanOrEqual(file.length - 8);
  });

  it('repackages each row group as a file DuckDB reads back with exactly that row group', async () => {
    const footer = parseParquetFooter(await footerBytes(file));
    let first = 0;
    for (let g = 0; g < footer.rowGroups.length; g++) {
      const extent = footer.rowGroups[g] as (typeof footer.rowGroups)[number];
      const { file: single, body } = rowGroupAsFile(footer, g);
      body.set(file.subarray(extent.start, extent.end));
      const out = join(tmp.path, `group-${g}.parquet`);
      await writeFile(out, single);
      // An independent reader, and a check of every column against the original file's rows.
      const diff = await duckRows(
        `SELECT count(*) FROM (
           (SELECT * FROM ${sqlString(out)} EXCEPT ALL
            SELECT * FROM ${sqlString(path)} WHERE id >= ${first} AND id < ${first + extent.numRows})
           UNION ALL
           (SELECT * FROM ${sqlString(path)} WHERE id >= ${first} AND id < ${first + extent.numRows} EXCEPT ALL
            SELECT * FROM ${sqlString(out)}))`,
      );
      expect(diff).toEqual([[0n]]);
      const count = await duckRows(`SELECT count(*), min(id) FROM ${sqlString(out)}`);
      expect(count).toEqual([[BigInt(extent.numRows), BigInt(first)]]);
      first += extent.numRows;
    }
    expect(first).toBe(7000);
  });

  it('refuses a footer that is not Thrift', () => {
    expect(() => parseParquetFooter(new TextEncoder().encode('not a footer'))).toThrow();
  });
});

describe('rowGroupAsFile on a file with an embedded Arrow schema', () => {
  it('keeps the Arrow types arrow-rs restores from it', async () => {
    const path = join(tmp.path, 'ours.parquet');
    const rows = 5;
    const pixels = Uint8Array.from({ length: rows * 12 }, (_, i) => i);
    const table = new Table([
      batchOf({
        label: int32s([0, 1, 2, 3, 4]),
        image: nestedUint8List([2, 2, 3], pixels, rows),
        raw: makeData({ type: new FixedSizeBinary(12), length: rows, data: pixels }),
      }),
    ]);
    await writeParquet(path, table, { rowGroupSize: 2 });
    const file = await readFile(path);
    const footer = parseParquetFooter(await footerBytes(file));
    expect(footer.rowGroups.map((g) => g.numRows)).toEqual([2, 2, 1]);
    const extent = footer.rowGroups[1] as (typeof footer.rowGroups)[number];
    const { file: single, body } = rowGroupAsFile(footer, 1);
    body.set(file.subarray(extent.start, extent.end));
    const back = tableFromIPC(readParquet(single).intoIPCStream());
    expect(back.schema.fields.map((f) => String(f.type))).toEqual([
      'Int32',
      'FixedSizeList[2]<FixedSizeList[2]<FixedSizeList[3]<Uint8>>>',
      'FixedSizeBinary[12]',
    ]);
    expect(back.getChild('label')?.toArray()).toEqual(Int32Array.of(2, 3));
    expect(back.getChild('raw')?.get(0)).toEqual(pixels.subarray(24, 36));
  });
});
