import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type RowVerdicts, writeQuarantine } from '../../../src/abl/writeQuarantine.js';
import { ErrorCode } from '../../../src/errors.js';
import { duckRows, duckWriteParquet, sqlString } from '../../helpers/duckdb.js';
import { rejection } from '../../helpers/errors.js';
import { md5ImageSql } from '../../helpers/images.js';
import { useTempDir } from '../../helpers/tempDir.js';

const tmp = useTempDir('quarantine-');
let input: string;

// Two hive partitions of 60 rows each (ids 0..119), 16-byte images, a `poisoned` column, row groups of 25
// so that one file spans several batches.
beforeAll(async () => {
  input = join(tmp.path, 'data');
  for (const [part, from] of [
    ['a', 0],
    ['b', 60],
  ] as const) {
    await mkdir(join(input, `part=${part}`), { recursive: true });
    await duckWriteParquet(
      `SELECT 'r' || lpad(i::VARCHAR, 3, '0') AS id, ${md5ImageSql('i', 16)} AS image, (i % 4)::INTEGER AS label, (i % 10 = 3) AS poisoned FROM range(${from}, ${from + 60}) t(i)`,
      join(input, `part=${part}`, 'data.parquet'),
      { rowGroupSize: 25 },
    );
  }
});

/** Verdicts for ids r000..r119: rank = the id's number reversed, so quarantined rows are scattered. */
function verdicts(isolated: number, ids = 120, review = 0): RowVerdicts {
  const index = new Map<string, number>();
  const rank = new Int32Array(ids);
  for (let i = 0; i < ids; i++) {
    index.set(`r${String(i).padStart(3, '0')}`, i);
    rank[i] = (i * 37) % ids; // a permutation of 0..119 (37 is coprime with 120)
  }
  return {
    index,
    loss: Float32Array.from({ length: ids }, (_, i) => i / 100),
    score: Float64Array.from({ length: ids }, (_, i) => -i),
    rank,
    // The `isolated` lowest ranks are quarantined, the next `review` reviewed.
    calls: Uint8Array.from(rank, (r) => (r < isolated ? 2 : r < isolated + review ? 1 : 0)),
    suspicion: Float32Array.from(rank, (r) => (r < isolated ? 0.95 : 0)),
  };
}

const glob = (out: string, part: string) => sqlString(join(out, part, '*.parquet'));

describe('writeQuarantine', () => {
  it('writes every row once, to quarantine, review or clean, one part per source file, with the abl columns', async () => {
    const out = join(tmp.path, 'out');
    const v = verdicts(12, 120, 5);
    const summary = await writeQuarantine(input, out, v, {
      imageShape: { height: 4, width: 4, channels: 1 },
    });
    expect(summary).toMatchObject({ rows: 120, quarantined: 12, review: 5, clean: 103 });
    expect(summary.files.quarantine).toEqual([
      'quarantine/part-00000.parquet',
      'quarantine/part-00001.parquet',
    ]);
    expect(summary.files.clean).toEqual(['clean/part-00000.parquet', 'clean/part-00001.parquet']);
    expect(summary.files.review.length).toBeGreaterThan(0);
    const reviewed = (await duckRows(`SELECT id FROM read_parquet(${glob(out, 'review')}) ORDER BY id`)).map(
      (r) => r[0],
    );
    const expectedReview = [...v.index]
      .filter(([, i]) => (v.rank[i] as number) >= 12 && (v.rank[i] as number) < 17)
      .map(([id]) => id)
      .sort();
    expect(reviewed).toEqual(expectedReview);
    const inFirst = Array.from(v.rank.subarray(0, 60)).filter((r) => r < 12).length;
    expect(summary.perSource.map((s) => [s.rows, s.quarantined])).toEqual([
      [60, inFirst],
      [60, 12 - inFirst],
    ]);
    expect(summary.perSource[0]?.file).toMatch(/part=a/);
    const expected = [...v.index]
      .filter(([, i]) => (v.rank[i] as number) < 12)
      .map(([id]) => id)
      .sort();
    const quarantined = (
      await duckRows(`SELECT id FROM read_parquet(${glob(out, 'quarantine')}) ORDER BY id`)
    ).map((r) => r[0]);
    expect(quarantined).toEqual(expected);
    const [[total, distinct]] = (await duckRows(
      `SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM read_parquet(${glob(out, 'quarantine')}) UNION ALL SELECT id FROM read_parquet(${glob(out, 'review')}) UNION ALL SELECT id FROM read_parquet(${glob(out, 'clean')}))`,
    )) as [[bigint, bigint]];
    expect([Number(total), Number(distinct)]).toEqual([120, 120]);
    // Original values unchanged (the partition column included), the abl columns from the verdicts.
    const [[same]] = (await duckRows(
      `SELECT count(*) FROM (SELECT * FROM read_parquet(${glob(out, 'quarantine')}) UNION ALL SELECT * FROM read_parquet(${glob(out, 'review')}) UNION ALL SELECT * FROM read_parquet(${glob(out, 'clean')})) o
         JOIN read_parquet(${sqlString(join(input, '*', '*.parquet'))}, hive_partitioning = true) s USING (id)
       WHERE o.image = s.image AND o.label = s.label AND o.poisoned = s.poisoned AND o.part = s.part
         AND o.abl_rank = (CAST(substr(id, 2) AS INTEGER) * 37) % 120 AND o.abl_score = -CAST(substr(id, 2) AS INTEGER)
         AND o.abl_suspicion = (CASE WHEN o.abl_rank < 12 THEN 0.95::FLOAT ELSE 0 END)`,
    )) as [[bigint]];
    expect(Number(same)).toBe(120);
    expect(summary.groundTruth?.reduce((a, b) => a + b, 0)).toBe(12);
    expect((await readdir(out)).sort()).toEqual(['clean', 'quarantine', 'review']);
  });

  it('replaces earlier partitions', async () => {
    const out = join(tmp.path, 'twice');
    await writeQuarantine(input, out, verdicts(30), { imageShape: { height: 4, width: 4, channels: 1 } });
    await writeQuarantine(input, out, verdicts(5), { imageShape: { height: 4, width: 4, channels: 1 } });
    const [[rows]] = (await duckRows(`SELECT count(*) FROM read_parquet(${glob(out, 'quarantine')})`)) as [
      [bigint],
    ];
    expect(Number(rows)).toBe(5);
  });

  it('fails, writing nothing, when the data has a row the first pass did not score', async () => {
    const out = join(tmp.path, 'changed');
    const v = verdicts(10, 119); // r119 unknown
    const error = await rejection(
      writeQuarantine(input, out, v, { imageShape: { height: 4, width: 4, channels: 1 } }),
    );
    expect(error.code).toBe(ErrorCode.SchemaMismatch);
    expect(error.message).toMatch(/row id 'r119' was not in the scored data/);
    expect(existsSync(join(out, 'quarantine'))).toBe(false);
    expect(existsSync(out) ? await readdir(out) : []).toEqual([]);
  });

  it('fails when a scored row is missing from the data', async () => {
    const out = join(tmp.path, 'missing');
    const v = verdicts(10);
    const index = new Map(v.index);
    index.set('ghost', 120);
    const error = await rejection(
      writeQuarantine(
        input,
        out,
        {
          ...v,
          index,
          rank: Int32Array.from([...v.rank, 120]),
          loss: new Float32Array(121),
          score: new Float64Array(121),
        },
        { imageShape: { height: 4, width: 4, channels: 1 } },
      ),
    );
    expect(error.code).toBe(ErrorCode.SchemaMismatch);
    expect(error.message).toMatch(/121 rows were scored, 120 read now/);
  });
});
