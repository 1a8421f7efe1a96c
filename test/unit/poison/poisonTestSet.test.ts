import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTrigger } from '../../../src/attacks/createTrigger.js';
import type { ImageShape } from '../../../src/data/imageShape.js';
import { poisonTestSet } from '../../../src/poison/poisonDataset.js';
import { deriveSeed } from '../../../src/util/random.js';
import { duckRows, sqlString } from '../../helpers/duckdb.js';
import { useTempDir } from '../../helpers/tempDir.js';
import {
  LABELS_40,
  readOutput,
  rowsWhere,
  type SmallDataset,
  smallDataset,
  withGrid,
  writeDataset,
} from './helpers.js';

const tmp = useTempDir('abl-poison-test-');

const GREY: ImageShape = { height: 6, width: 6, channels: 1 };
const RGB: ImageShape = { height: 4, width: 4, channels: 3 };

/** Writes `data` and makes its triggered test set in a fresh folder. */
async function triggeredSet(data: SmallDataset, options: Parameters<typeof poisonTestSet>[2]) {
  const dir = await tmp.sub('test-set');
  const input = await writeDataset(join(dir, 'test.parquet'), data);
  const output = join(dir, 'test-backdoor.parquet');
  const summary = await poisonTestSet(input, output, options);
  return { summary, output, out: await readOutput(output) };
}

describe.each([
  ['6x6x1', GREY],
  ['4x4x3', RGB],
] as const)('poisonTestSet on 40 rows of %s', (_name, shape) => {
  const data = smallDataset(shape);

  it('all-to-one: every row not of the target class, in order, triggered and labelled with the target', async () => {
    const { summary, out } = await triggeredSet(data, {
      attack: { attack: 'badnets' },
      rate: 0.1,
      target: 2,
      seed: 1,
    });
    const kept = rowsWhere(LABELS_40, (l) => l !== 2);
    expect(kept).toHaveLength(30);
    expect(out.ids).toEqual(kept.map((i) => data.ids[i]));
    expect(out.notes).toEqual(kept.map((i) => data.notes[i]));
    expect(out.scores).toEqual(kept.map((i) => data.scores[i]));
    expect(out.labelOriginal).toEqual(kept.map((i) => LABELS_40[i]));
    expect(out.labels).toEqual(kept.map(() => 2));
    expect(out.poisoned).toEqual(kept.map(() => true));
    expect(out.attack).toEqual(kept.map(() => 'badnets'));
    const wrong = kept.filter(
      (i, k) =>
        !Buffer.from(out.images[k] as Uint8Array).equals(withGrid(data.images[i] as Uint8Array, shape)),
    );
    expect(wrong).toEqual([]);
    expect(summary).toMatchObject({
      attack: 'badnets',
      mode: 'all-to-one',
      target: 2,
      rows: 40,
      triggered: 30,
    });
    expect(summary.convention).toContain('not the target');
  });

  it('all-to-all: every row, triggered, labelled (label + 1) mod K', async () => {
    const { summary, out } = await triggeredSet(data, {
      attack: { attack: 'badnets' },
      rate: 0.1,
      mode: 'all-to-all',
      seed: 1,
    });
    expect(out.ids).toEqual(data.ids);
    expect(out.labels).toEqual(LABELS_40.map((l) => (l + 1) % 4));
    expect(out.labelOriginal).toEqual(LABELS_40);
    expect(out.poisoned.every((p) => p)).toBe(true);
    const wrong = rowsWhere(
      data.images,
      (img, i) => !Buffer.from(out.images[i] as Uint8Array).equals(withGrid(img, shape)),
    );
    expect(wrong).toEqual([]);
    expect(summary).toMatchObject({ mode: 'all-to-all', rows: 40, triggered: 40 });
  });

  it('clean-label SIG: non-target rows with the stripes, labelled with the target (the attack succeeds when the model says target)', async () => {
    const { out } = await triggeredSet(data, { attack: { attack: 'sig' }, rate: 0.5, target: 1, seed: 1 });
    const kept = rowsWhere(LABELS_40, (l) => l !== 1);
    expect(out.ids).toEqual(kept.map((i) => data.ids[i]));
    expect(out.labels).toEqual(kept.map(() => 1));
    expect(out.attack).toEqual(kept.map(() => 'sig'));
    const sig = createTrigger({ attack: 'sig', seed: deriveSeed(1, 'trigger') });
    const wrong = kept.filter(
      (i, k) =>
        !Buffer.from(out.images[k] as Uint8Array).equals(sig.apply(data.images[i] as Uint8Array, shape)),
    );
    expect(wrong).toEqual([]);
  });

  it('uses the same seeded trigger as the training set (Blend noise pattern)', async () => {
    const { out } = await triggeredSet(data, { attack: { attack: 'blend' }, rate: 0.1, seed: 21 });
    const blend = createTrigger({ attack: 'blend', seed: deriveSeed(21, 'trigger') });
    const kept = rowsWhere(LABELS_40, (l) => l !== 0);
    const wrong = kept.filter(
      (i, k) =>
        !Buffer.from(out.images[k] as Uint8Array).equals(blend.apply(data.images[i] as Uint8Array, shape)),
    );
    expect(wrong).toEqual([]);
  });
});

describe('poisonTestSet: classes', () => {
  // A test set without class 3 (no class names in the metadata): its own largest label says K = 3.
  const labels = LABELS_40.map((l) => (l === 3 ? 2 : l));
  const data = smallDataset(GREY, labels);

  it('all-to-all with the training set K = 4 maps class 2 to 3, as in the training set', async () => {
    const { out } = await triggeredSet(data, {
      attack: { attack: 'badnets' },
      rate: 0.1,
      mode: 'all-to-all',
      seed: 1,
      numClasses: 4,
    });
    expect(out.labels).toEqual(labels.map((l) => (l + 1) % 4));
    expect(out.labels).toContain(3);
  });

  it('all-to-all without numClasses takes K from the test set itself (2 wraps to 0)', async () => {
    // Documents why the CLI passes the training set's class count: here 2 → 0, not 3.
    const { out } = await triggeredSet(data, {
      attack: { attack: 'badnets' },
      rate: 0.1,
      mode: 'all-to-all',
      seed: 1,
    });
    expect(out.labels).toEqual(labels.map((l) => (l + 1) % 3));
  });

  it('is read by DuckDB: row count and every label the target', async () => {
    const { output } = await triggeredSet(smallDataset(GREY), {
      attack: { attack: 'trojan' },
      rate: 0.1,
      target: 3,
      seed: 1,
    });
    const rows = await duckRows(
      `SELECT count(*)::INT, min(label), max(label), sum(poisoned::INT)::INT, sum((label_original = 3)::INT)::INT
         FROM read_parquet(${sqlString(output)})`,
    );
    expect(rows).toEqual([[30, 3, 3, 30, 0]]);
  });
});
