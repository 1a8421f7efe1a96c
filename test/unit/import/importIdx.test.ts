import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { type AblError, DataError, ErrorCode, IoError } from '../../../src/errors.js';
import { importIdx } from '../../../src/import/importIdx.js';
import {
  duckdbRows,
  idxBytes,
  listNames,
  makeTempDir,
  patternImages,
  readBack,
  removeTempDirs,
  sqlString,
} from './helpers.js';

afterEach(removeTempDirs);

const pixels = patternImages(5, 16);
const labelValues = Uint8Array.of(3, 0, 1, 3, 2);

/** A folder holding an images and a labels IDX file, and an empty `out` folder beside them. */
async function idxPair(
  images: Uint8Array = idxBytes([5, 4, 4], pixels),
  labels: Uint8Array = idxBytes([5], labelValues),
): Promise<{ images: string; labels: string; out: string; outDir: string }> {
  const dir = await makeTempDir();
  const paths = { images: join(dir, 'imgs-idx3-ubyte.gz'), labels: join(dir, 'lbls-idx1-ubyte') };
  await writeFile(paths.images, gzipSync(images));
  await writeFile(paths.labels, labels);
  const outDir = join(dir, 'out');
  return { ...paths, outDir, out: join(outDir, 'data.parquet') };
}

async function expectNothingWritten(outDir: string): Promise<void> {
  expect(await listNames(outDir)).toEqual([]);
}

describe('importIdx', () => {
  it('writes ids, images, labels, split and source that read back exactly', async () => {
    const p = await idxPair();
    const result = await importIdx({ ...p, split: 'test', classNames: ['a', 'b', 'c', 'd'] });
    expect(result).toEqual({
      path: p.out,
      rows: 5,
      shape: { height: 4, width: 4, channels: 1 },
      classCounts: [1, 1, 1, 2],
    });
    const back = await readBack(p.out);
    expect(back.ids).toEqual(['test-00000', 'test-00001', 'test-00002', 'test-00003', 'test-00004']);
    expect(back.labels).toEqual([3, 0, 1, 3, 2]);
    expect(back.images).toEqual(pixels);
    expect(back.shape).toEqual({ height: 4, width: 4, channels: 1 });
    expect(back.classNames).toEqual(['a', 'b', 'c', 'd']);
    expect(back.splits).toEqual(new Array(5).fill('test'));
    expect(back.sources).toEqual(new Array(5).fill('imgs-idx3-ubyte.gz'));
    expect(await listNames(p.outDir)).toEqual(['data.parquet']);
  });

  it('uses the id prefix and source given, and reads back the same in DuckDB', async () => {
    const p = await idxPair();
    await importIdx({ ...p, split: 'train', idPrefix: 'kmnist', source: 'kmnist-v1' });
    const rows = await duckdbRows(
      `SELECT id, label, split, source, octet_length(image) FROM read_parquet(${sqlString(p.out)}) ORDER BY id`,
    );
    expect(rows).toEqual([
      ['kmnist-00000', 3, 'train', 'kmnist-v1', 16n],
      ['kmnist-00001', 0, 'train', 'kmnist-v1', 16n],
      ['kmnist-00002', 1, 'train', 'kmnist-v1', 16n],
      ['kmnist-00003', 3, 'train', 'kmnist-v1', 16n],
      ['kmnist-00004', 2, 'train', 'kmnist-v1', 16n],
    ]);
  });

  it('counts classes up to the largest label when there are no class names', async () => {
    const p = await idxPair();
    expect((await importIdx({ ...p, split: 'train' })).classCounts).toEqual([1, 1, 1, 2]);
    expect((await readBack(p.out)).classNames).toBeNull();
  });

  it('reads four-dimensional (channels-last) images', async () => {
    const rgb = patternImages(5, 2 * 3 * 3);
    const p = await idxPair(idxBytes([5, 2, 3, 3], rgb));
    const result = await importIdx({ ...p, split: 'train' });
    expect(result.shape).toEqual({ height: 2, width: 3, channels: 3 });
    const back = await readBack(p.out);
    expect(back.images).toEqual(rgb);
  });

  it('names both files when the counts differ, and writes nothing', async () => {
    const p = await idxPair(undefined, idxBytes([4], labelValues.subarray(0, 4)));
    const err = await importIdx({ ...p, split: 'train' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).code).toBe(ErrorCode.SchemaMismatch);
    expect((err as DataError).message).toContain(`images file ${p.images} has 5 items`);
    expect((err as DataError).message).toContain(`labels file ${p.labels} has 4`);
    await expectNothingWritten(p.outDir);
  });

  it('names the labels file and row of a label beyond the class names', async () => {
    const p = await idxPair();
    const err = await importIdx({ ...p, split: 'train', classNames: ['a', 'b', 'c'] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).code).toBe(ErrorCode.BadLabel);
    expect((err as DataError).location).toEqual({ file: p.labels, row: 0 });
    expect((err as DataError).message).toMatch(/label 3 is out of range: there are 3 classes/);
    await expectNothingWritten(p.outDir);
  });

  it.each([
    [
      'images of the wrong rank',
      idxBytes([5, 16], pixels),
      idxBytes([5], labelValues),
      'images',
      /expected items×height×width/,
    ],
    [
      'labels of the wrong rank',
      idxBytes([5, 4, 4], pixels),
      idxBytes([5, 1], labelValues),
      'labels',
      /expected one dimension/,
    ],
    [
      'no items',
      idxBytes([0, 4, 4], new Uint8Array(0)),
      idxBytes([0], new Uint8Array(0)),
      'images',
      /no items/,
    ],
  ] as const)('rejects %s, naming the file', async (_what, images, labels, which, message) => {
    const p = await idxPair(images, labels);
    const err = await importIdx({ ...p, split: 'train' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).location?.file).toBe(p[which]);
    expect((err as DataError).message).toMatch(message);
    await expectNothingWritten(p.outDir);
  });

  it('passes on a corrupt file as an IoError naming it, and writes nothing', async () => {
    const p = await idxPair(idxBytes([5, 4, 4], pixels).subarray(0, 50));
    const err = await importIdx({ ...p, split: 'train' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect((err as AblError).code).toBe(ErrorCode.CorruptFile);
    expect((err as AblError).message).toContain(p.images);
    await expectNothingWritten(p.outDir);
  });

  it('names a missing labels file', async () => {
    const p = await idxPair();
    const missing = `${p.labels}-gone`;
    const err = await importIdx({ ...p, labels: missing, split: 'train' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect((err as AblError).code).toBe(ErrorCode.FileNotFound);
    expect((err as AblError).message).toContain(missing);
    await expectNothingWritten(p.outDir);
  });

  it('reports a failed write naming the output, and leaves no temporary file', async () => {
    const p = await idxPair();
    // The output path is an existing folder, so the final rename fails.
    await mkdir(join(p.out, 'occupied'), { recursive: true });
    const err = await importIdx({ ...p, split: 'train' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect((err as AblError).code).toBe(ErrorCode.WriteFailed);
    expect((err as AblError).message).toContain(p.out);
    expect(await listNames(p.outDir)).toEqual(['data.parquet']);
    expect(await listNames(p.out)).toEqual(['occupied']);
  });
});
