import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { greyPng, writeImageSet } from '../helpers/imageSets.js';
import { useTempDir } from '../helpers/tempDir.js';
import { runCli } from './runCli.js';

// Issue 14's input cases: inputs that exhausted memory, crashed, or were silently misread now fail
// fast with a coded error naming the file, column and row (or are accepted once made explicit).
const tmp = useTempDir('input-limits-');
const at = (name: string) => join(tmp.path, name);
const FAST = [
  '--isolation-epochs',
  '1',
  '--unlearn-epochs',
  '1',
  '--threads',
  '1',
  '--backend',
  'wasm',
  '--quiet',
];

beforeAll(async () => {
  await writeImageSet(at('big-label.parquet'), { rows: 200, label: (r) => (r === 17 ? 1_000_000 : r % 4) });
  await writeImageSet(at('only-three.parquet'), { rows: 200, label: () => 3 });
  await writeImageSet(at('gaps.parquet'), { rows: 240, label: (r) => [0, 2, 5][r % 3] as number });
  await writeImageSet(at('two-rows.parquet'), { rows: 2 });
  await writeImageSet(at('unnamed-label.parquet'), {
    rows: 200,
    labelColumn: 'kind',
    extra: { height: () => 28 },
  });
  await writeImageSet(at('bomb.parquet'), {
    rows: 3,
    shape: null,
    image: (r) => greyPng(r === 1 ? 20000 : 8, r === 1 ? 20000 : 8),
  });
  await writeImageSet(at('huge.parquet'), {
    rows: 2,
    shape: '4096,4096,1',
    image: () => new Uint8Array(4096 * 4096),
  });
  await writeImageSet(at('wide.parquet'), {
    rows: 4,
    shape: '1024,1024,1',
    image: () => new Uint8Array(1024 * 1024),
  });
  await writeImageSet(at('bad-first.parquet'), {
    rows: 40,
    shape: null,
    image: (r) => (r === 0 ? new Uint8Array(64).fill(7) : greyPng(8, 8)),
  });
});

describe('inputs that exhausted memory or crashed', () => {
  it('7. a label of 1,000,000: ABL210 naming the row, in the audit and in inspect', async () => {
    for (const argv of [
      ['audit', at('big-label.parquet'), '--out', at('o7'), ...FAST],
      ['inspect', at('big-label.parquet')],
    ]) {
      const run = await runCli(...argv);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /error ABL210: file .*big-label\.parquet, column 'label', row 17: label 1000000 is above the class limit/,
      );
    }
    expect(existsSync(at('o7'))).toBe(false);
  });

  it('8. a PNG declaring 20000×20000: ABL212 from its header, naming the row, in bounded memory', async () => {
    // In a fresh process, so that its peak memory is the inspect's own.
    const script = `import { main } from ${JSON.stringify(resolve('dist/cli/main.js'))};
      const code = await main(['inspect', ${JSON.stringify(at('bomb.parquet'))}], { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
      console.log(JSON.stringify({ code, maxRssKb: process.resourceUsage().maxRSS }));`;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '-e',
      script,
    ]).catch((e: { stdout: string; stderr: string }) => e);
    const result = JSON.parse(stdout.trim().split('\n').pop() as string) as {
      code: number;
      maxRssKb: number;
    };
    expect(result.code).toBe(1);
    expect(stderr).toMatch(/error ABL212: file .*bomb\.parquet, column 'image', row 1: image is 20000×20000/);
    expect(result.maxRssKb * 1024).toBeLessThan(512 * 2 ** 20);
  });

  it('9. 4096×4096 images: ABL212; images within the limit but too large to train: ABL306 before any epoch', async () => {
    const huge = await runCli('inspect', at('huge.parquet'));
    expect(huge.code).toBe(1);
    expect(huge.stderr).toMatch(
      /error ABL212: .*row 0: image is 4096×4096, 16,777,216 pixels, above the limit of 4,194,304/,
    );
    const wide = await runCli('train', at('wide.parquet'), '--out', at('o9'), '--epochs', '1', '--quiet');
    expect(wide.code).toBe(2);
    expect(wide.stderr).toMatch(
      /error ABL306: images of 1024×1024×1 are too large to train small-cnn in batches of 64: .*; resize the images\n/,
    );
    expect(existsSync(at('o9'))).toBe(false);
    // The audit refuses them from the first image's shape, before it has read the rest (4 rows would
    // otherwise be refused as too few, ABL209, only after all of them were decoded).
    const audit = await runCli('audit', at('wide.parquet'), '--out', at('o9a'), ...FAST);
    expect(audit.code).toBe(2);
    expect(audit.stderr).toMatch(/error ABL306: images of 1024×1024×1 are too large to train small-cnn/);
    expect(existsSync(at('o9a'))).toBe(false);
  });
});

describe('flags and side files kept in bounds', () => {
  it('a declared --image-shape beyond the limit: ABL212 before any pixel is allocated', async () => {
    const run = await runCli('inspect', at('two-rows.parquet'), '--image-shape', '100000x100000x3');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /error ABL212: .*column 'image', row 0: image is 100000×100000, 10,000,000,000 pixels/,
    );
  });

  it('epoch counts above 1000, batch sizes above 65536 and --max-image-pixels above 16384²: usage errors', async () => {
    for (const argv of [
      ['audit', at('two-rows.parquet'), '--out', at('o-e'), '--isolation-epochs', '100000000'],
      ['audit', at('two-rows.parquet'), '--out', at('o-e'), '--unlearn-epochs', '1001'],
      ['train', at('two-rows.parquet'), '--out', at('o-e'), '--epochs', '5000'],
      ['train', at('two-rows.parquet'), '--out', at('o-e'), '--batch-size', '100000'],
      ['inspect', at('two-rows.parquet'), '--max-image-pixels', String(2 ** 31)],
    ]) {
      const run = await runCli(...argv);
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stderr).toMatch(
        /error ABL301: Invalid value for --[a-z-]+: expected to be in the \[1; \d+\] range/,
      );
    }
    expect(existsSync(at('o-e'))).toBe(false);
  });

  it('a poison --patch PNG of 4096×4096: ABL212 from its header, nothing written', async () => {
    await writeFile(at('bomb-patch.png'), greyPng(4096, 4096));
    const run = await runCli(
      'poison',
      at('gaps.parquet'),
      '--out',
      at('o-patch'),
      '--attack',
      'badnets',
      '--rate',
      '0.1',
      '--patch',
      at('bomb-patch.png'),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error ABL212: file .*bomb-patch\.png: --patch image is 4096×4096/);
    expect(existsSync(at('o-patch'))).toBe(false);
  });
});

describe('silent wrong guesses', () => {
  it('10a. no label column named like one: ABL202 listing the candidates, never a guess', async () => {
    const run = await runCli('audit', at('unnamed-label.parquet'), '--out', at('o10a'), ...FAST);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /error ABL202: .*no label column found.*if one of kind, height holds the class labels, give it with --label-col/,
    );
    const named = await runCli('inspect', at('unnamed-label.parquet'), '--label-col', 'kind');
    expect(named.code, named.stderr).toBe(0);
  });

  it('10b. one label only (3): refused as one class, never a 4-class model', async () => {
    const run = await runCli('audit', at('only-three.parquet'), '--out', at('o10b'), ...FAST);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error ABL205: .*only one class \(label 3\)/);
  });

  it('10c. labels with gaps: ABL211 naming the empty classes, accepted with --num-classes', async () => {
    const run = await runCli('audit', at('gaps.parquet'), '--out', at('o10c'), ...FAST);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /error ABL211: .*but 1, 3, 4 have no rows \(labels present: 0, 2, 5\).*--num-classes 6/,
    );
    const declared = await runCli(
      'audit',
      at('gaps.parquet'),
      '--out',
      at('o10c'),
      ...FAST,
      '--num-classes',
      '6',
    );
    expect(declared.code, declared.stderr).toBe(0);
  });

  it('10d. two rows: ABL209 before any training, leaving no folder', async () => {
    const run = await runCli('audit', at('two-rows.parquet'), '--out', at('o10d'), ...FAST);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error ABL209: .*2 rows; an audit needs at least 100/);
    expect(existsSync(at('o10d'))).toBe(false);
  });

  it('10e. a damaged first image is blamed on row 0, not on row 1', async () => {
    const run = await runCli('inspect', at('bad-first.parquet'));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /error ABL203: file .*bad-first\.parquet, column 'image', row 0: cannot decode image/,
    );
  });
});
