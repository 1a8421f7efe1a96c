import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, IoError } from '../../../src/errors.js';
import {
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_DEFAULT_DIR,
  findFashionMnistFiles,
  importFashionMnist,
} from '../../../src/import/importFashionMnist.js';
import { type IdxArray, readIdx } from '../../../src/import/readIdx.js';
import {
  blobBytes,
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

const trainPixels = patternImages(5, 16, 1);
const testPixels = patternImages(3, 16, 2);

/** A tiny stand-in for the Fashion-MNIST folder: 5 train and 3 test 4×4 images. */
async function fakeFolder(gzip: boolean): Promise<string> {
  const dir = join(await makeTempDir(), 'fmnist');
  await mkdir(dir);
  const put = (name: string, bytes: Uint8Array) =>
    writeFile(join(dir, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
  await put('train-images-idx3-ubyte', idxBytes([5, 4, 4], trainPixels));
  await put('train-labels-idx1-ubyte', idxBytes([5], Uint8Array.of(9, 0, 0, 3, 7)));
  await put('t10k-images-idx3-ubyte', idxBytes([3, 4, 4], testPixels));
  await put('t10k-labels-idx1-ubyte', idxBytes([3], Uint8Array.of(1, 9, 8)));
  return dir;
}

/** The real dataset's images and labels of one split, as its IDX files hold them. */
interface RealSplit {
  readonly images: IdxArray;
  readonly labels: IdxArray;
}
// Gunzipping the real train images takes about a second, and two tests compare against them: read once.
const realSplits = new Map<'train' | 'test', Promise<RealSplit>>();
function realIdx(split: 'train' | 'test'): Promise<RealSplit> {
  let read = realSplits.get(split);
  if (read === undefined) {
    read = (async () => {
      const files = await findFashionMnistFiles(FASHION_MNIST_DEFAULT_DIR);
      const [images, labels] = await Promise.all([
        readIdx(split === 'train' ? files.trainImages : files.testImages),
        readIdx(split === 'train' ? files.trainLabels : files.testLabels),
      ]);
      return { images, labels };
    })();
    realSplits.set(split, read);
  }
  return read;
}

describe('importFashionMnist', () => {
  it.each([
    ['gzip', true],
    ['plain', false],
  ])('imports %s files into train.parquet and test.parquet', async (_what, gzip) => {
    const from = await fakeFolder(gzip);
    const out = join(await makeTempDir(), 'out');
    const { train, test } = await importFashionMnist({ from, out });
    expect(train).toMatchObject({ path: join(out, 'train.parquet'), rows: 5 });
    expect(test).toMatchObject({ path: join(out, 'test.parquet'), rows: 3 });
    expect(train.classCounts).toEqual([2, 0, 0, 1, 0, 0, 0, 1, 0, 1]);
    expect(await listNames(out)).toEqual(['test.parquet', 'train.parquet']);

    const back = await readBack(train.path);
    expect(back.ids).toEqual(['train-00000', 'train-00001', 'train-00002', 'train-00003', 'train-00004']);
    expect(back.labels).toEqual([9, 0, 0, 3, 7]);
    expect(back.images).toEqual(trainPixels);
    expect(back.classNames).toEqual(FASHION_MNIST_CLASS_NAMES);
    expect(new Set(back.sources)).toEqual(new Set(['fashion-mnist']));
    expect(new Set(back.splits)).toEqual(new Set(['train']));

    const backTest = await readBack(test.path);
    expect(backTest.ids).toEqual(['test-00000', 'test-00001', 'test-00002']);
    expect(backTest.labels).toEqual([1, 9, 8]);
    expect(backTest.images).toEqual(testPixels);
    expect(new Set(backTest.splits)).toEqual(new Set(['test']));
  });

  it('names a missing folder and says how to get the data', async () => {
    const root = await makeTempDir();
    const from = join(root, 'missing');
    const out = join(root, 'out');
    const err = await importFashionMnist({ from, out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect((err as IoError).code).toBe(ErrorCode.FileNotFound);
    expect((err as IoError).message).toContain(from);
    expect((err as IoError).message).toContain('apt-get install dataset-fashion-mnist');
    expect((err as IoError).message).toContain('--from');
    expect(existsSync(out)).toBe(false);
  });

  it('names a missing file and writes nothing', async () => {
    const from = await fakeFolder(true);
    await rm(join(from, 't10k-labels-idx1-ubyte.gz'));
    const out = join(await makeTempDir(), 'out');
    const err = await importFashionMnist({ from, out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect((err as IoError).code).toBe(ErrorCode.FileNotFound);
    expect((err as IoError).message).toContain('t10k-labels-idx1-ubyte.gz (or t10k-labels-idx1-ubyte)');
    expect((err as IoError).message).toContain('apt-get install dataset-fashion-mnist');
    expect(await listNames(out)).toEqual([]);
  });

  it('writes neither split when the test files are corrupt', async () => {
    const from = await fakeFolder(false);
    await writeFile(join(from, 't10k-images-idx3-ubyte'), idxBytes([3, 4, 4], testPixels).subarray(0, 30));
    const out = join(await makeTempDir(), 'out');
    const err = await importFashionMnist({ from, out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect((err as IoError).code).toBe(ErrorCode.CorruptFile);
    expect((err as IoError).message).toContain(join(from, 't10k-images-idx3-ubyte'));
    expect(await listNames(out)).toEqual([]);
  });

  it('prefers the gzip file when both names are present', async () => {
    const from = await fakeFolder(true);
    await writeFile(join(from, 'train-images-idx3-ubyte'), 'not used');
    const files = await findFashionMnistFiles(from);
    expect(files.trainImages).toBe(join(from, 'train-images-idx3-ubyte.gz'));
  });

  // The real dataset from the Debian package `dataset-fashion-mnist`, which scripts/setup.sh installs:
  // without it this fails (rather than skips), so a green suite always means the real import was checked.
  // 60,000 rows imported and read back: seconds on a quiet machine; the 10-minute limit only catches a
  // hang on a busy one.
  it('imports the real Fashion-MNIST, which DuckDB reads back identically', async () => {
    expect(
      existsSync(FASHION_MNIST_DEFAULT_DIR),
      'run scripts/setup.sh to install dataset-fashion-mnist',
    ).toBe(true);
    const out = await makeTempDir();
    const { train, test } = await importFashionMnist({ out });
    expect(train.rows).toBe(60_000);
    expect(test.rows).toBe(10_000);
    expect(train.shape).toEqual({ height: 28, width: 28, channels: 1 });
    expect(train.classCounts).toEqual(new Array(10).fill(6000));
    expect(test.classCounts).toEqual(new Array(10).fill(1000));

    for (const [split, result, count] of [
      ['train', train, 60_000],
      ['t10k', test, 10_000],
    ] as const) {
      const { images, labels } = await realIdx(split === 'train' ? 'train' : 'test');
      const file = sqlString(result.path);

      const histogram = new Array<number>(10).fill(0);
      for (const l of labels.data) histogram[l] = (histogram[l] as number) + 1;
      const counted = await duckdbRows(
        `SELECT label, count(*)::INTEGER FROM read_parquet(${file}) GROUP BY label ORDER BY label`,
      );
      expect(counted).toEqual(histogram.map((c, label) => [label, c]));

      // Every label in its place: the labels in id order equal the IDX labels, as one string.
      const [[joined]] = (await duckdbRows(
        `SELECT string_agg(label::VARCHAR, '' ORDER BY id) FROM read_parquet(${file})`,
      )) as [[string]];
      expect(joined).toBe(Array.from(labels.data).join(''));

      const picks = [0, 1, 4321, count - 1];
      const prefix = split === 'train' ? 'train' : 'test';
      const ids = picks.map((i) => `'${prefix}-${String(i).padStart(5, '0')}'`).join(', ');
      const rows = await duckdbRows(
        `SELECT id, image FROM read_parquet(${file}) WHERE id IN (${ids}) ORDER BY id`,
      );
      expect(rows).toHaveLength(picks.length);
      rows.forEach((row, k) => {
        const i = picks[k] as number;
        expect(new Uint8Array(blobBytes(row[1]))).toEqual(images.data.subarray(i * 784, (i + 1) * 784));
      });
    }
  }, 600_000);

  it('has a committed fixture that is a balanced sample of the real rows', async () => {
    const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/fashion-mnist');
    for (const [name, perClass] of [
      ['train', 300],
      ['test', 50],
    ] as const) {
      const back = await readBack(join(fixtures, `${name}.parquet`));
      expect(back.ids).toHaveLength(perClass * 10);
      const counts = new Array<number>(10).fill(0);
      for (const l of back.labels) counts[l] = (counts[l] as number) + 1;
      expect(counts).toEqual(new Array(10).fill(perClass));
      expect(back.classNames).toEqual(FASHION_MNIST_CLASS_NAMES);
      expect(back.shape).toEqual({ height: 28, width: 28, channels: 1 });
      // Ids are the original indices, in increasing order.
      const indices = back.ids.map((id) => Number(id.slice(name.length + 1)));
      expect(back.ids.every((id, k) => id === `${name}-${String(indices[k]).padStart(5, '0')}`)).toBe(true);
      expect(indices.every((v, k) => k === 0 || v > (indices[k - 1] as number))).toBe(true);
      const { images, labels } = await realIdx(name);
      indices.forEach((i, k) => {
        expect(back.labels[k]).toBe(labels.data[i]);
      });
      for (const k of [0, 1, indices.length - 1]) {
        const i = indices[k] as number;
        expect(back.images.subarray(k * 784, (k + 1) * 784)).toEqual(
          images.data.subarray(i * 784, (i + 1) * 784),
        );
      }
    }
  });
});
