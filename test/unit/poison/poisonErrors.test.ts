import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataError, ErrorCode, UsageError } from '../../../src/errors.js';
import { writeParquet } from '../../../src/io/writeParquet.js';
import { type PoisonOptions, poisonDataset, poisonTestSet } from '../../../src/poison/poisonDataset.js';
import { batchOf, binaries, int32s } from '../../helpers/arrow.js';
import { rejection } from '../../helpers/errors.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { namesIn, smallDataset, writeDataset } from './helpers.js';

const tmp = useTempDir('abl-poison-err-');

const badnets: PoisonOptions = { attack: { attack: 'badnets' }, rate: 0.1, seed: 1 };

let clean: string;
let tiny: string;
let alreadyPoisoned: string;

beforeAll(async () => {
  const inputs = await tmp.sub('inputs');
  clean = await writeDataset(
    join(inputs, 'clean.parquet'),
    smallDataset({ height: 6, width: 6, channels: 1 }),
  );
  // 2×2 images, too small for the 3×3 grid. The first row group (8 rows) is all class 0, which no
  // all-to-one attack on target 0 may poison: the writer has started a temporary file before the first
  // poisoned row fails, so the test sees that the failure also removes it.
  const labels = [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 1, 2, 3, 1, 2];
  tiny = join(inputs, 'tiny.parquet');
  await writeParquet(
    tiny,
    [
      batchOf(
        {
          image: binaries(labels.map((_, i) => Uint8Array.of(i, i + 1, i + 2, i + 3))),
          label: int32s(labels),
        },
        { 'abl_audit.image_shape': '2,2,1' },
      ),
    ],
    { rowGroupSize: 8 },
  );
  const data = smallDataset({ height: 4, width: 4, channels: 3 });
  alreadyPoisoned = join(inputs, 'poisoned.parquet');
  await writeParquet(alreadyPoisoned, [
    batchOf(
      {
        image: binaries(data.images),
        label: int32s(data.labels),
        poisoned: int32s(data.labels.map(() => 0)),
      },
      { 'abl_audit.image_shape': '4,4,3' },
    ),
  ]);
});

/**
 * Runs a poisoning that must fail into an empty folder, and checks that it failed with an AblError and
 * left nothing there: no output, no `.tmp-` file.
 */
async function failsCleanly(run: (output: string) => Promise<unknown>) {
  const dir = await tmp.sub('out');
  const err = await rejection(run(join(dir, 'out.parquet')));
  expect(await namesIn(dir)).toEqual([]);
  return err;
}

describe('poisonDataset: bad parameters and data, each failing before any output exists', () => {
  it.each([0, 1, 1.5])('rate %d', async (rate) => {
    const err = await failsCleanly((out) => poisonDataset(clean, out, { ...badnets, rate }));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(`--rate must be in (0, 1), got ${rate}`);
  });

  it('target 10 with 4 classes', async () => {
    const err = await failsCleanly((out) => poisonDataset(clean, out, { ...badnets, target: 10 }));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe('--target 10 is not a class of this data (classes 0-3)');
  });

  it('a rate that rounds to zero rows', async () => {
    const err = await failsCleanly((out) => poisonDataset(clean, out, { ...badnets, rate: 0.01 }));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain('rounds to 0 poisoned rows');
  });

  it('a rate of all rows asking for more rows than are eligible (0.8 × 40 = 32 of 30), naming the numbers', async () => {
    const err = await failsCleanly((out) =>
      poisonDataset(clean, out, { ...badnets, rate: 0.8, rateOf: 'all' }),
    );
    expect(err).toBeInstanceOf(UsageError);
    expect(err.code).toBe(ErrorCode.Usage);
    expect(err.message).toContain(
      '--rate 0.8 of all 40 rows is 32 poisoned rows, but only 30 rows (0.75 of all rows) are eligible',
    );
    expect(err.message).toContain('--rate-of eligible');
  });

  it('SIG at 0.5 of all rows: more than its target class holds (20 of 10)', async () => {
    const err = await failsCleanly((out) =>
      poisonDataset(clean, out, { attack: { attack: 'sig' }, rate: 0.5, target: 1, seed: 1 }),
    );
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain('is 20 poisoned rows, but only 10 rows (0.25 of all rows) are eligible');
  });

  it('SIG in all-to-all mode', async () => {
    const err = await failsCleanly((out) =>
      poisonDataset(clean, out, { attack: { attack: 'sig' }, rate: 0.5, mode: 'all-to-all', seed: 1 }),
    );
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toMatch(/clean-label attack keeps labels, so it has no all-to-all mode/);
  });

  it('a patch larger than the image (the 3x3 grid on 2x2 images), after the writer has started', async () => {
    const err = await failsCleanly((out) => poisonDataset(tiny, out, { ...badnets, rate: 0.5 }));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe('badnets patch (3x3) is larger than the 2x2x1 image');
  });

  it('an input that already has a ground-truth column', async () => {
    const err = await failsCleanly((out) => poisonDataset(alreadyPoisoned, out, badnets));
    expect(err).toBeInstanceOf(DataError);
    expect(err.code).toBe(ErrorCode.SchemaMismatch);
    expect(err.message).toContain("input already has the ground-truth column 'poisoned'");
    expect(err.message).toContain(alreadyPoisoned);
  });

  it('cross rows with an attack other than WaNet', async () => {
    const err = await failsCleanly((out) => poisonDataset(clean, out, { ...badnets, crossRatio: 2 }));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe('--cross-ratio (noise mode) applies to the wanet attack only');
  });

  it('a bad attack option (blend alpha 0)', async () => {
    const err = await failsCleanly((out) =>
      poisonDataset(clean, out, { attack: { attack: 'blend', alpha: 0 }, rate: 0.1, seed: 1 }),
    );
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain('blend alpha must be a number in (0, 1]');
  });

  it('a missing input', async () => {
    const err = await failsCleanly((out) => poisonDataset(join(tmp.path, 'nothing.parquet'), out, badnets));
    expect(err.code).toBe(ErrorCode.FileNotFound);
  });
});

describe('poisonTestSet: bad parameters and data', () => {
  it('target 10 with 4 classes', async () => {
    const err = await failsCleanly((out) => poisonTestSet(clean, out, { ...badnets, target: 10 }));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe('--target 10 is not a class of this data (classes 0-3)');
  });

  it('SIG in all-to-all mode', async () => {
    const err = await failsCleanly((out) =>
      poisonTestSet(clean, out, { attack: { attack: 'sig' }, rate: 0.5, mode: 'all-to-all', seed: 1 }),
    );
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toMatch(/no all-to-all mode/);
  });

  it('a patch larger than the image', async () => {
    const err = await failsCleanly((out) => poisonTestSet(tiny, out, badnets));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe('badnets patch (3x3) is larger than the 2x2x1 image');
  });

  it('an input that already has a ground-truth column', async () => {
    const err = await failsCleanly((out) => poisonTestSet(alreadyPoisoned, out, badnets));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain("ground-truth column 'poisoned'");
  });
});
