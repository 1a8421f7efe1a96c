import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  idxBytes,
  listNames,
  makeTempDir,
  patternImages,
  readBack,
  removeTempDirs,
} from '../unit/import/helpers.js';
import { runCli } from './runCli.js';

afterAll(removeTempDirs);

async function idxPair(dir: string, n: number, labels: number[]) {
  const images = join(dir, 'images.idx');
  const labelsPath = join(dir, 'labels.idx');
  await writeFile(images, idxBytes([n, 3, 3], patternImages(n, 9)));
  await writeFile(labelsPath, idxBytes([n], Uint8Array.from(labels)));
  return { images, labels: labelsPath };
}

describe('abl-audit import idx', () => {
  it('writes the Parquet file, prints a summary line and exits 0', async () => {
    const dir = await makeTempDir();
    const { images, labels } = await idxPair(dir, 4, [0, 1, 1, 2]);
    const out = join(dir, 'out', 'data.parquet');
    const run = await runCli(
      'import',
      'idx',
      '--images',
      images,
      '--labels',
      labels,
      '--out',
      out,
      '--split',
      'test',
      '--class-names',
      'a,b,c',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`wrote ${out}: 4 rows, 3x3x1, 3 classes (1-2 rows each)`);
    const back = await readBack(out);
    expect(back.ids).toEqual(['test-00000', 'test-00001', 'test-00002', 'test-00003']);
    expect(Array.from(back.labels)).toEqual([0, 1, 1, 2]);
    expect(back.classNames).toEqual(['a', 'b', 'c']);
  });

  it('exits 1 naming both files when the counts differ, and writes nothing', async () => {
    const dir = await makeTempDir();
    const images = join(dir, 'images.idx');
    const labels = join(dir, 'labels.idx');
    await writeFile(images, idxBytes([3, 3, 3], patternImages(3, 9)));
    await writeFile(labels, idxBytes([2], Uint8Array.from([0, 1])));
    const outDir = join(dir, 'out');
    const run = await runCli(
      'import',
      'idx',
      '--images',
      images,
      '--labels',
      labels,
      '--out',
      join(outDir, 'x.parquet'),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(images);
    expect(run.stderr).toContain(labels);
    expect(await listNames(outDir).catch(() => [])).toEqual([]);
  });

  it('exits 2 when --out is missing', async () => {
    const run = await runCli('import', 'idx', '--images', 'a', '--labels', 'b');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--out/);
  });
});

describe('abl-audit import fashion-mnist / cifar10 / images', () => {
  it('exits 1 with an install hint when the Fashion-MNIST folder is missing', async () => {
    const dir = await makeTempDir();
    const run = await runCli(
      'import',
      'fashion-mnist',
      '--from',
      join(dir, 'nothing-here'),
      '--out',
      join(dir, 'out'),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('nothing-here');
    expect(run.stderr).toContain('dataset-fashion-mnist');
  });

  it('exits 1 naming the folder when CIFAR-10 batches are missing', async () => {
    const dir = await makeTempDir();
    const run = await runCli('import', 'cifar10', dir, '--out', join(dir, 'out'));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(dir);
  });

  it('exits 1 naming the folder when an image folder has no class folders', async () => {
    const dir = await makeTempDir();
    const run = await runCli('import', 'images', dir, '--out', join(dir, 'x.parquet'));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(dir);
  });
});
