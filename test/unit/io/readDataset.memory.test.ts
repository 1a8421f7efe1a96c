import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { lastValueFrom, reduce, tap } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeExamples } from '../../../src/data/decodeExamples.js';
import { readDataset } from '../../../src/io/readDataset.js';
import { duckWriteParquetInChild } from '../../helpers/duckdb.js';
import { useTempDir } from '../../helpers/tempDir.js';

/**
 * Streaming a Parquet file must cost memory in proportion to a row group, not to the file: a file many
 * times larger than a row group is read while RSS and ArrayBuffer memory are sampled at every batch.
 *
 * Measured under vitest on the 2-vCPU development machine (Node 20, 276 MB Parquet file of 3.2 MB row
 * groups): without forced collection, peak growth of RSS 64-116 MB and of ArrayBuffers 55-88 MB, most
 * of it dead buffers that V8 collects only once ~64 MB of them have piled up (a constant, whatever the
 * file size); with a collection before each sample, RSS 0-25 MB and ArrayBuffers 10-23 MB. Reading
 * the whole file at once costs 4x the file size (a whole-file reader put in its place fails here).
 * The file used here is larger (315 MB) to keep the GC-driven part well inside the bound.
 */

const tmp = useTempDir('memory-');

const ROWS = 400_000;
const IMAGE_BYTES = 784;
// 4096 rows × 784 bytes ≈ 3.2 MB per row group: 98 row groups.
const ROW_GROUP_ROWS = 4096;

// The image of row i: the 16-byte MD5 of "i" repeated 49 times. Unique per row (so DuckDB cannot
// dictionary-encode the column away) yet cheap to generate; stored uncompressed, the file is as large
// as the pixels.
const IMAGE_SQL = `repeat(unhex(md5(i::VARCHAR)), ${IMAGE_BYTES / 16})`;

function md5(text: string): Buffer {
  return createHash('md5').update(text).digest();
}

interface Peak {
  rss: number;
  arrayBuffers: number;
  rows: number;
  batches: number;
  /** Rows whose label or image was not the one written. */
  wrong: number;
}

/** A garbage collector for tests only: exposing it here does not change how the code under test runs. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Whether row `row` of the file came back with the label and image that were written. */
type RowCheck = (row: number, label: number, image: Uint8Array) => boolean;

const parquetRowOk: RowCheck = (row, label, image) =>
  label === row % 10 && Buffer.from(image.subarray(0, 16)).equals(md5(String(row)));

async function streamAndMeasure(
  path: string,
  collectEachBatch: (() => void) | null,
  rowOk: RowCheck = parquetRowOk,
): Promise<Peak> {
  const base = process.memoryUsage();
  const peak: Peak = { rss: 0, arrayBuffers: 0, rows: 0, batches: 0, wrong: 0 };
  await lastValueFrom(
    readDataset(path).pipe(
      decodeExamples(),
      tap((ex) => {
        // Check a sample of rows against the formula: the test must read the data, not just count.
        for (let r = 0; r < ex.ids.length; r += 997) {
          const row = ex.rowOffset + r;
          const image = ex.images.subarray(r * IMAGE_BYTES, (r + 1) * IMAGE_BYTES);
          if (!rowOk(row, ex.labels[r] as number, image)) peak.wrong++;
        }
        collectEachBatch?.();
        const m = process.memoryUsage();
        peak.rss = Math.max(peak.rss, m.rss - base.rss);
        peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers - base.arrayBuffers);
        peak.batches++;
      }),
      reduce((rows, ex) => rows + ex.ids.length, 0),
      tap((rows) => {
        peak.rows = rows;
      }),
    ),
  );
  return peak;
}

describe('readDataset + decodeExamples memory', () => {
  let big: string;
  let small: string;
  let fileSize: number;
  const gc = exposeGc();

  beforeAll(async () => {
    big = join(tmp.path, 'big.parquet');
    small = join(tmp.path, 'small.parquet');
    const select = (rows: number) =>
      `SELECT (i % 10)::INTEGER AS label, ${IMAGE_SQL} AS image FROM range(${rows}) t(i)`;
    // DuckDB runs in a child process: memory it freed here could otherwise be reused by the reader and
    // hide the reader's growth.
    const options = { compression: 'uncompressed', rowGroupSize: ROW_GROUP_ROWS } as const;
    await duckWriteParquetInChild(select(ROWS), big, options);
    await duckWriteParquetInChild(select(2 * ROW_GROUP_ROWS), small, options);
    fileSize = (await stat(big)).size;
    // Warm up on a small file with the same row group size: compiling parquet-wasm's code, growing its
    // memory to one row group's needs and JIT-compiling the decode path are one-time costs that do not
    // grow with the file, so they are kept out of the baseline.
    await streamAndMeasure(small, null);
    gc();
  });

  it('reads every row and peaks well under the file size without forced collection', async () => {
    expect(fileSize).toBeGreaterThan(60 * ROW_GROUP_ROWS * IMAGE_BYTES);
    const peak = await streamAndMeasure(big, null);
    expect(peak.rows).toBe(ROWS);
    expect(peak.wrong).toBe(0);
    expect(peak.batches).toBe(Math.ceil(ROWS / ROW_GROUP_ROWS));
    // Dead buffers ride on top of the live set until V8 collects them (~64 MB), hence 50% rather than
    // the live bound below.
    expect(peak.rss / fileSize).toBeLessThan(0.5);
    expect(peak.arrayBuffers / fileSize).toBeLessThan(0.4);
  });

  it('keeps a live set of a few row groups', async () => {
    gc();
    const peak = await streamAndMeasure(big, gc);
    expect(peak.rows).toBe(ROWS);
    expect(peak.wrong).toBe(0);
    expect(peak.rss / fileSize).toBeLessThan(0.25);
    // One decoded batch plus its source bytes: a handful of row groups (measured: 3-7), whatever the
    // file size.
    expect(peak.arrayBuffers).toBeLessThan(12 * ROW_GROUP_ROWS * IMAGE_BYTES);
  });
});

// The Arrow file is written by a child process (its memory must not be reused by the reader under
// test), with arrow-js: rows of label i % 10 and image bytes (i * 7 + j) & 255.
const ARROW_WRITER = `
import { writeFileSync } from 'node:fs';
import { Binary, Field, Int32, makeData, RecordBatch, Schema, Struct, Table, tableToIPC } from 'apache-arrow';
const [path, rows, perBatch, size] = process.argv.slice(1).map((v, i) => (i === 0 ? v : Number(v)));
const fields = [new Field('label', new Int32(), false), new Field('image', new Binary(), false)];
const batches = [];
// Row i's image is this ramp from byte (i * 7) & 255 on: one copy per row instead of a loop per byte.
const ramp = Uint8Array.from({ length: 256 + size }, (_, k) => k & 255);
for (let start = 0; start < rows; start += perBatch) {
  const n = Math.min(perBatch, rows - start);
  const labels = Int32Array.from({ length: n }, (_, r) => (start + r) % 10);
  const pixels = new Uint8Array(n * size);
  for (let r = 0; r < n; r++) {
    const from = ((start + r) * 7) & 255;
    pixels.set(ramp.subarray(from, from + size), r * size);
  }
  const offsets = Int32Array.from({ length: n + 1 }, (_, r) => r * size);
  const children = [
    makeData({ type: new Int32(), length: n, data: labels }),
    makeData({ type: new Binary(), length: n, valueOffsets: offsets, data: pixels }),
  ];
  batches.push(new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, children })));
}
writeFileSync(path, tableToIPC(new Table(batches), 'file'));
`;

const arrowRowOk: RowCheck = (row, label, image) => {
  if (label !== row % 10) return false;
  for (let j = 0; j < image.length; j += 97) if (image[j] !== ((row * 7 + j) & 255)) return false;
  return true;
};

// Measured: peak RSS growth 24-45 MB on this 196 MB file; reading it through a Node read stream, as
// readArrowBatches once did, peaked at 2.1x the file size (arrow-js buffers a whole file-format file
// it cannot seek in).
describe('readDataset + decodeExamples memory on an Arrow IPC file', () => {
  const ARROW_ROWS = 250_000;
  let big: string;
  let fileSize: number;
  const gc = exposeGc();

  beforeAll(async () => {
    big = join(tmp.path, 'big.arrow');
    const small = join(tmp.path, 'small.arrow');
    const write = (path: string, rows: number) =>
      promisify(execFile)(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          ARROW_WRITER,
          path,
          String(rows),
          String(ROW_GROUP_ROWS),
          String(IMAGE_BYTES),
        ],
        { cwd: process.cwd(), maxBuffer: 1 << 20 },
      );
    await write(big, ARROW_ROWS);
    await write(small, 2 * ROW_GROUP_ROWS);
    fileSize = (await stat(big)).size;
    await streamAndMeasure(small, null, arrowRowOk);
    gc();
  });

  it('reads every row of a file-format (.arrow) file without loading it whole', async () => {
    expect(fileSize).toBeGreaterThan(ARROW_ROWS * IMAGE_BYTES);
    const peak = await streamAndMeasure(big, null, arrowRowOk);
    expect(peak.rows).toBe(ARROW_ROWS);
    expect(peak.wrong).toBe(0);
    expect(peak.batches).toBe(Math.ceil(ARROW_ROWS / ROW_GROUP_ROWS));
    expect(peak.rss / fileSize).toBeLessThan(0.5);
    expect(peak.arrayBuffers / fileSize).toBeLessThan(0.4);
  });
});
