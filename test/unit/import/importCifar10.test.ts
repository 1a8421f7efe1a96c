import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataError, ErrorCode, IoError } from '../../../src/errors.js';
import { CIFAR10_CLASS_NAMES, importCifar10 } from '../../../src/import/importCifar10.js';
import {
  blobBytes,
  duckdbRows,
  listNames,
  makeTempDir,
  readBack,
  removeTempDirs,
  sqlString,
} from './helpers.js';

afterEach(removeTempDirs);

const RECORD = 3073;

/** The value of pixel (y, x) in channel c of record `r` of batch `b`: distinct per plane and position. */
function pixel(b: number, r: number, c: number, y: number, x: number): number {
  return (b * 53 + r * 29 + c * 97 + y * 7 + x * 3) & 0xff;
}

/** A CIFAR-10 binary batch: per record, the label then the R, G and B planes, each row-major 32×32. */
function batchBytes(b: number, labels: readonly number[]): Uint8Array {
  const out = new Uint8Array(labels.length * RECORD);
  labels.forEach((label, r) => {
    out[r * RECORD] = label;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) out[r * RECORD + 1 + c * 1024 + y * 32 + x] = pixel(b, r, c, y, x);
  });
  return out;
}

/** The same records as HWC images, written out independently of the importer. */
function hwc(b: number, count: number): Uint8Array {
  const out = new Uint8Array(count * 3072);
  for (let r = 0; r < count; r++)
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++)
        for (let c = 0; c < 3; c++) out[r * 3072 + (y * 32 + x) * 3 + c] = pixel(b, r, c, y, x);
  return out;
}

const TRAIN_LABELS = [
  [6, 9],
  [9, 4],
  [1, 1],
  [2, 7],
  [8, 3],
];
const TEST_LABELS = [3, 8, 0];

/** A tiny binary CIFAR-10: 5 train batches of 2 records and a test batch of 3, in `cifar-10-batches-bin`. */
async function fakeCifar(meta?: string): Promise<{ root: string; dir: string; out: string }> {
  const root = await makeTempDir();
  const dir = join(root, 'cifar-10-batches-bin');
  await mkdir(dir);
  for (const [i, labels] of TRAIN_LABELS.entries()) {
    await writeFile(join(dir, `data_batch_${i + 1}.bin`), batchBytes(i, labels));
  }
  await writeFile(join(dir, 'test_batch.bin'), batchBytes(9, TEST_LABELS));
  if (meta !== undefined) await writeFile(join(dir, 'batches.meta.txt'), meta);
  return { root, dir, out: join(root, 'out') };
}

describe('importCifar10', () => {
  it('converts CHW records to HWC images with their labels and ids', async () => {
    const { dir, out } = await fakeCifar();
    const { train, test } = await importCifar10({ from: dir, out });
    expect(train).toEqual({
      path: join(out, 'train.parquet'),
      rows: 10,
      shape: { height: 32, width: 32, channels: 3 },
      classCounts: [0, 2, 1, 1, 1, 0, 1, 1, 1, 2],
    });
    expect(test.rows).toBe(3);
    expect(await listNames(out)).toEqual(['test.parquet', 'train.parquet']);

    const back = await readBack(train.path);
    expect(back.ids).toEqual(Array.from({ length: 10 }, (_, i) => `train-0000${i}`));
    expect(back.labels).toEqual(TRAIN_LABELS.flat());
    expect(back.shape).toEqual({ height: 32, width: 32, channels: 3 });
    const expected = new Uint8Array(10 * 3072);
    for (let b = 0; b < TRAIN_LABELS.length; b++) expected.set(hwc(b, 2), b * 2 * 3072);
    expect(back.images).toEqual(expected);
    // One pixel spelled out: record 1 of batch 3, (y, x) = (5, 7), green.
    expect(back.images[(4 + 1) * 3072 + (5 * 32 + 7) * 3 + 1]).toBe(pixel(2, 1, 1, 5, 7));
    expect(back.classNames).toEqual(CIFAR10_CLASS_NAMES);
    expect(new Set(back.sources)).toEqual(new Set(['cifar-10']));

    const rows = await duckdbRows(
      `SELECT id, label, split, image FROM read_parquet(${sqlString(test.path)}) ORDER BY id`,
    );
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ['test-00000', 3, 'test'],
      ['test-00001', 8, 'test'],
      ['test-00002', 0, 'test'],
    ]);
    const testImages = hwc(9, 3);
    rows.forEach((r, i) => {
      expect(new Uint8Array(blobBytes(r[3]))).toEqual(testImages.subarray(i * 3072, (i + 1) * 3072));
    });
  });

  it('accepts the folder holding cifar-10-batches-bin, and reads class names from batches.meta.txt', async () => {
    const names = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9'];
    const { root, out } = await fakeCifar(`${names.join('\n')}\n\n`);
    const { test } = await importCifar10({ from: root, out });
    expect((await readBack(test.path)).classNames).toEqual(names);
  });

  it('names a file whose size is not a whole number of records, and writes nothing', async () => {
    const { dir, out } = await fakeCifar();
    const file = join(dir, 'data_batch_4.bin');
    await writeFile(file, batchBytes(3, [1, 2]).subarray(0, RECORD + 100));
    const err = await importCifar10({ from: dir, out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect((err as IoError).code).toBe(ErrorCode.CorruptFile);
    expect((err as IoError).location).toEqual({ file });
    expect((err as IoError).message).toContain('expected a non-zero multiple of 3073 bytes');
    expect((err as IoError).message).toContain('got 3173 bytes (1 records and 100 bytes over)');
    expect(existsSync(out)).toBe(false);
  });

  it('names the file and record of a label above 9', async () => {
    const { dir, out } = await fakeCifar();
    const file = join(dir, 'test_batch.bin');
    await writeFile(file, batchBytes(9, [0, 10, 2]));
    const err = await importCifar10({ from: dir, out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).code).toBe(ErrorCode.BadLabel);
    expect((err as DataError).location).toEqual({ file, row: 1 });
    expect((err as DataError).message).toMatch(/label 10; CIFAR-10 labels are 0-9/);
    expect(existsSync(out)).toBe(false);
  });

  it('names a missing batch file', async () => {
    const { dir, out } = await fakeCifar();
    await rm(join(dir, 'data_batch_3.bin'));
    const err = await importCifar10({ from: dir, out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect((err as IoError).code).toBe(ErrorCode.FileNotFound);
    expect((err as IoError).message).toContain(join(dir, 'data_batch_3.bin'));
    expect(existsSync(out)).toBe(false);
  });

  it('names a missing folder', async () => {
    const from = join(await makeTempDir(), 'nowhere');
    const err = await importCifar10({ from, out: join(from, 'out') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect((err as IoError).code).toBe(ErrorCode.FileNotFound);
    expect((err as IoError).message).toContain(from);
  });

  it('rejects a batches.meta.txt without ten names', async () => {
    const { dir, out } = await fakeCifar('cat\ndog\n');
    const err = await importCifar10({ from: dir, out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect((err as IoError).code).toBe(ErrorCode.CorruptFile);
    expect((err as IoError).message).toContain(join(dir, 'batches.meta.txt'));
    expect((err as IoError).message).toContain('expected 10 class names');
  });
});
