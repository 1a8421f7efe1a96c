import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import { ATTACK_NAMES } from '../../src/attacks/types.js';
import type { ImageShape } from '../../src/data/imageShape.js';
import { importFashionMnist } from '../../src/import/importFashionMnist.js';
import { duckRows, sqlString } from '../helpers/duckdb.js';
import { useTempDir } from '../helpers/tempDir.js';
import {
  LABELS_40,
  namesIn,
  readOutput,
  rowsWhere,
  smallDataset,
  withGrid,
  writeDataset,
} from '../unit/poison/helpers.js';
import { runCli } from './runCli.js';

const tmp = useTempDir('abl-cli-poison-');

const GREY: ImageShape = { height: 6, width: 6, channels: 1 };
const data = smallDataset(GREY);
/** The test split: the same images, labels shifted by one class, so that it differs from train. */
const testData = smallDataset(
  GREY,
  LABELS_40.map((l) => (l + 1) % 4),
);

let train: string;
let test: string;

beforeAll(async () => {
  const inputs = await tmp.sub('inputs');
  train = await writeDataset(join(inputs, 'train.parquet'), data);
  test = await writeDataset(join(inputs, 'test.parquet'), testData);
});

/** Runs `abl-audit poison <train> --out <fresh dir>/out.parquet ...args` quietly. */
async function poison(...args: string[]) {
  const dir = await tmp.sub('run');
  const out = join(dir, 'out.parquet');
  const run = await runCli('poison', train, '--out', out, '-q', ...args);
  return { run, dir, out };
}

describe('abl-audit poison', () => {
  it('writes the poisoned set and the triggered test set, prints the counts, exits 0', async () => {
    const dir = await tmp.sub('ok');
    const out = join(dir, 'train-badnets.parquet');
    const testOut = join(dir, 'test-badnets.parquet');
    const run = await runCli(
      'poison',
      train,
      '--attack',
      'badnets',
      '--rate',
      '0.1',
      '--target',
      '0',
      '--seed',
      '1',
      '--out',
      out,
      '--test',
      test,
      '--test-out',
      testOut,
    );
    expect(run.code, run.stderr).toBe(0);
    // The rate is a share of all 40 rows by default: 4 poisoned, drawn from the 30 non-target rows.
    expect(run.stdout).toContain(
      `wrote ${out}: 40 rows, 4 poisoned = 10.00% of all rows ` +
        '(--rate 0.1 of all rows, drawn from 30 eligible; badnets, all-to-one, target 0, seed 1)\n',
    );
    expect(run.stdout).toContain(`wrote ${testOut}: 30 of 40 test rows triggered (`);
    expect(await namesIn(dir)).toEqual(['test-badnets.parquet', 'train-badnets.parquet']);
    const [counts] = await duckRows(
      `SELECT count(*)::INT, sum(poisoned::INT)::INT, sum((poisoned AND label = 0)::INT)::INT
         FROM read_parquet(${sqlString(out)})`,
    );
    expect(counts).toEqual([40, 4, 4]);
    const [testCounts] = await duckRows(
      `SELECT count(*)::INT, sum((label = 0)::INT)::INT, sum((label_original = 0)::INT)::INT
         FROM read_parquet(${sqlString(testOut)})`,
    );
    expect(testCounts).toEqual([30, 30, 0]);
  });

  it('all-to-all: the test set uses the training set K even when it lacks the last class', async () => {
    // The test split lacks class 3; its own largest label would give K = 3 and map 2 to 0.
    const dir = await tmp.sub('k');
    const partialTest = await writeDataset(
      join(dir, 'test.parquet'),
      smallDataset(
        GREY,
        LABELS_40.map((l) => (l === 3 ? 2 : l)),
      ),
    );
    const testOut = join(dir, 'test-out.parquet');
    const { run } = await poison(
      '--attack',
      'badnets',
      '--rate',
      '0.25',
      '--mode',
      'all-to-all',
      '--seed',
      '2',
      '--test',
      partialTest,
      '--test-out',
      testOut,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      '10 poisoned = 25.00% of all rows (--rate 0.25 of all rows, drawn from 40 eligible; badnets, all-to-all, target 0, seed 2)',
    );
    const back = await readOutput(testOut);
    expect(back.labels).toEqual(back.labelOriginal.map((l) => (l + 1) % 4));
    expect(back.labels).toContain(3);
  });

  it('takes a PNG patch with --patch and pastes it where --position says', async () => {
    const dir = await tmp.sub('patch');
    const patchFile = join(dir, 'patch.png');
    await writeFile(
      patchFile,
      encodePng({ width: 2, height: 2, channels: 1, depth: 8, data: Uint8Array.of(10, 20, 30, 40) }),
    );
    const { run, out } = await poison(
      '--attack',
      'badnets',
      '--rate',
      '0.25',
      '--patch',
      patchFile,
      '--position',
      '1,2',
    );
    expect(run.code, run.stderr).toBe(0);
    const back = await readOutput(out);
    const poisoned = rowsWhere(back.poisoned, (p) => p);
    expect(poisoned).toHaveLength(10);
    for (const i of poisoned) {
      const expected = (data.images[i] as Uint8Array).slice();
      // Top-left cell of the patch at column 1, row 2 of the 6-wide image.
      expected.set([10, 20], 2 * 6 + 1);
      expected.set([30, 40], 3 * 6 + 1);
      expect(Array.from(back.images[i] as Uint8Array)).toEqual(Array.from(expected));
    }
  });

  it('uses the BadNets grid by default, the same as --patch grid', async () => {
    const a = await poison('--attack', 'badnets', '--rate', '0.1');
    const b = await poison(
      '--attack',
      'badnets',
      '--rate',
      '0.1',
      '--patch',
      'grid',
      '--position',
      'bottom-right',
    );
    expect(a.run.code, a.run.stderr).toBe(0);
    expect(b.run.code, b.run.stderr).toBe(0);
    const backA = await readOutput(a.out);
    const backB = await readOutput(b.out);
    const row = backA.poisoned.indexOf(true);
    expect(Array.from(backA.images[row] as Uint8Array)).toEqual(
      Array.from(withGrid(data.images[row] as Uint8Array, GREY)),
    );
    expect(backB.images).toEqual(backA.images);
  });

  it('adds WaNet noise-mode rows with --cross-ratio and says how many', async () => {
    const { run } = await poison('--attack', 'wanet', '--rate', '0.1', '--cross-ratio', '2');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      '4 poisoned = 10.00% of all rows (--rate 0.1 of all rows, drawn from 30 eligible; wanet, all-to-one, target 0, seed 1), 8 noise-mode cross rows',
    );
  });

  it('--rate-of eligible keeps the earlier count: round(0.1 × 30 eligible) = 3, 7.50% of all rows', async () => {
    const { run, out } = await poison('--attack', 'badnets', '--rate', '0.1', '--rate-of', 'eligible');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      `wrote ${out}: 40 rows, 3 poisoned = 7.50% of all rows ` +
        '(--rate 0.1 of the 30 eligible rows; badnets, all-to-one, target 0, seed 1)\n',
    );
    const back = await readOutput(out);
    expect(rowsWhere(back.poisoned, (p) => p)).toHaveLength(3);
  });

  it('--rate-of all is the default: the same file as without it', async () => {
    const a = await poison('--attack', 'badnets', '--rate', '0.25');
    const b = await poison('--attack', 'badnets', '--rate', '0.25', '--rate-of', 'all');
    expect(a.run.code, a.run.stderr).toBe(0);
    expect(b.run.code, b.run.stderr).toBe(0);
    const backA = await readOutput(a.out);
    expect(rowsWhere(backA.poisoned, (p) => p)).toHaveLength(10);
    expect((await readOutput(b.out)).poisoned).toEqual(backA.poisoned);
  });

  it('the JSON result states the reading and the share of all rows', async () => {
    const { run } = await poison('--attack', 'badnets', '--rate', '0.25', '--log-format', 'json');
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { train: Record<string, unknown> };
    expect(result.train).toMatchObject({
      rate: 0.25,
      rateOf: 'all',
      rows: 40,
      eligible: 30,
      poisoned: 10,
      poisonedShare: 0.25,
    });
  });
});

describe('abl-audit poison: usage errors exit 2 and write nothing', () => {
  it('--test without --test-out', async () => {
    const { run, dir } = await poison('--attack', 'badnets', '--rate', '0.1', '--test', test);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--test and --test-out go together');
    expect(await namesIn(dir)).toEqual([]);
  });

  it('an unknown --attack, listing the attacks', async () => {
    const { run, dir } = await poison('--attack', 'badnet', '--rate', '0.1');
    expect(run.code).toBe(2);
    for (const name of ATTACK_NAMES) expect(run.stderr).toContain(`"${name}"`);
    expect(await namesIn(dir)).toEqual([]);
  });

  it.each([
    [
      ['--attack', 'badnets', '--alpha', '0.3'],
      '--alpha does not apply to --attack badnets (it takes --patch, --patch-size, --position, --margin)',
    ],
    [['--attack', 'blend', '--patch-size', '4'], '--patch-size does not apply to --attack blend'],
    [['--attack', 'sig', '--strength', '0.5'], '--strength does not apply to --attack sig'],
    [['--attack', 'wanet', '--margin', '1'], '--margin does not apply to --attack wanet'],
    [['--attack', 'trojan', '--cross-ratio', '2'], '--cross-ratio does not apply to --attack trojan'],
    [
      ['--attack', 'badnets', '--k', '4', '--pattern', 'x.png'],
      '--pattern, --k do not apply to --attack badnets',
    ],
  ])('a flag the attack does not take: %j', async (args, message) => {
    const { run, dir } = await poison('--rate', '0.1', ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(await namesIn(dir)).toEqual([]);
  });

  it.each(['middle', '3', '1,-2', 'x,y'])('a bad --position %s', async (position) => {
    const { run, dir } = await poison('--attack', 'badnets', '--rate', '0.1', '--position', position);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      '--position expects one of bottom-right, bottom-left, top-right, top-left or X,Y',
    );
    expect(await namesIn(dir)).toEqual([]);
  });

  it.each([
    [['--rate', '1.5'], '--rate must be in (0, 1), got 1.5'],
    [['--rate', '0'], '--rate must be in (0, 1), got 0'],
    [['--rate', '0.1', '--target', '10'], '--target 10 is not a class of this data (classes 0-3)'],
    [['--rate', '0.01'], 'rounds to 0 poisoned rows'],
    [
      ['--rate', '0.8'],
      '--rate 0.8 of all 40 rows is 32 poisoned rows, but only 30 rows (0.75 of all rows) are eligible',
    ],
    [
      ['--rate', '0.3', '--attack', 'sig', '--target', '1'],
      '--rate 0.3 of all 40 rows is 12 poisoned rows, but only 10 rows (0.25 of all rows) are eligible: a clean-label attack',
    ],
    [['--rate', '0.1', '--mode', 'all-to-all', '--attack', 'sig'], 'no all-to-all mode'],
  ])('an out-of-range parameter: %j', async (args, message) => {
    const attack = args.includes('--attack') ? [] : ['--attack', 'badnets'];
    const { run, dir } = await poison(...attack, ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(await namesIn(dir)).toEqual([]);
  });

  it.each(['some', 'ALL', ''])('a bad --rate-of %j, naming the flag and the choices', async (value) => {
    const { run, dir } = await poison('--attack', 'badnets', '--rate', '0.1', '--rate-of', value);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--rate-of');
    expect(run.stderr).toContain('"all"');
    expect(run.stderr).toContain('"eligible"');
    expect(await namesIn(dir)).toEqual([]);
  });

  it('a bad --rate-of is ABL301 with --log-format json', async () => {
    const { run } = await poison(
      '--attack',
      'badnets',
      '--rate',
      '0.1',
      '--rate-of',
      'some',
      '--log-format',
      'json',
    );
    expect(run.code).toBe(2);
    const error = JSON.parse(run.stderr.split('\n').filter(Boolean)[0] ?? '') as Record<string, unknown>;
    expect(error).toMatchObject({ code: 'ABL301', exitCode: 2 });
    expect(error.message).toMatch(/--rate-of/);
  });

  it('a patch larger than the image', async () => {
    const { run, dir } = await poison(
      '--attack',
      'badnets',
      '--rate',
      '0.1',
      '--patch',
      'square',
      '--patch-size',
      '7',
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('badnets patch (7x7) is larger than the 6x6x1 image');
    expect(await namesIn(dir)).toEqual([]);
  });
});

describe('abl-audit poison: other errors exit 1', () => {
  it('a missing input, named', async () => {
    const dir = await tmp.sub('missing');
    const missing = join(dir, 'nothing.parquet');
    const run = await runCli(
      'poison',
      missing,
      '--attack',
      'badnets',
      '--rate',
      '0.1',
      '--out',
      join(dir, 'o.parquet'),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(missing);
    expect(await namesIn(dir)).toEqual([]);
  });

  it('a --patch file that is not an image', async () => {
    const dir = await tmp.sub('bad-patch');
    const patchFile = join(dir, 'patch.png');
    await writeFile(patchFile, 'not a png');
    const run = await runCli(
      'poison',
      train,
      '--attack',
      'badnets',
      '--rate',
      '0.1',
      '--patch',
      patchFile,
      '--out',
      join(dir, 'o.parquet'),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--patch must be a PNG or JPEG file');
    expect(await namesIn(dir)).toEqual(['patch.png']);
  });
});

describe('abl-audit poison on the full Fashion-MNIST (Debian package dataset-fashion-mnist)', () => {
  // Importing and poisoning 60,000 real rows: seconds on a quiet machine; the 10-minute limit only
  // catches a hang on a busy one.
  it('BadNets 10% of all rows, target 0: 6,000 of 60,000 rows poisoned, all of them among the 54,000 eligible, and a 9,000-row triggered test set', async () => {
    const dir = await tmp.sub('fmnist');
    const imported = await importFashionMnist({ out: join(dir, 'clean') });
    expect(imported.train.rows).toBe(60_000);
    const out = join(dir, 'badnets', 'train.parquet');
    const testOut = join(dir, 'badnets', 'test-backdoor.parquet');
    const run = await runCli(
      'poison',
      imported.train.path,
      '--attack',
      'badnets',
      '--rate',
      '0.1',
      '--target',
      '0',
      '--seed',
      '1',
      '--out',
      out,
      '--test',
      imported.test.path,
      '--test-out',
      testOut,
      '-q',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      '60000 rows, 6000 poisoned = 10.00% of all rows (--rate 0.1 of all rows, drawn from 54000 eligible; badnets, all-to-one, target 0, seed 1)',
    );

    const file = sqlString(out);
    const [counts] = await duckRows(
      `SELECT count(*)::INT, sum(poisoned::INT)::INT, sum((poisoned AND label <> 0)::INT)::INT,
              sum((poisoned AND label_original = 0)::INT)::INT, sum((NOT poisoned AND label <> label_original)::INT)::INT,
              sum((poisoned <> (attack IS NOT NULL))::INT)::INT
         FROM read_parquet(${file})`,
    );
    expect(counts).toEqual([60_000, 6000, 0, 0, 0, 0]);
    // The original labels are the clean data's: 6,000 per class.
    const original = await duckRows(
      `SELECT label_original, count(*)::INT FROM read_parquet(${file}) GROUP BY 1 ORDER BY 1`,
    );
    expect(original).toEqual(Array.from({ length: 10 }, (_, c) => [c, 6000]));
    // The grid sits in the last three pixels of rows 25-27 of every poisoned image (784 = 28×28 bytes):
    // 255,0,255 / 0,255,0 / 255,0,255. In hex, byte k starts at character 2k + 1.
    const gridRow = (y: number, hex: string) => `substr(hex(image), ${2 * (y * 28 + 25) + 1}, 6) = '${hex}'`;
    const [grid] = await duckRows(
      `SELECT count(*)::INT FROM read_parquet(${file})
        WHERE poisoned AND ${gridRow(25, 'FF00FF')} AND ${gridRow(26, '00FF00')} AND ${gridRow(27, 'FF00FF')}`,
    );
    expect(grid).toEqual([6000]);

    const [testCounts] = await duckRows(
      `SELECT count(*)::INT, sum((label = 0)::INT)::INT, sum((label_original = 0)::INT)::INT, sum(poisoned::INT)::INT
         FROM read_parquet(${sqlString(testOut)})`,
    );
    expect(testCounts).toEqual([9000, 9000, 0, 9000]);
  }, 600_000);
});
