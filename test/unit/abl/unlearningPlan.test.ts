import { describe, expect, it } from 'vitest';
import {
  distrustedRows,
  holdoutRows,
  planUnlearning,
  type RowGatherer,
  type UnlearningPolicy,
} from '../../../src/abl/unlearningPlan.js';
import { ErrorCode } from '../../../src/errors.js';
import { selectRows } from '../../../src/train/batches/selectRows.js';
import type { TrainBatch } from '../../../src/train/types.js';
import { rejection } from '../../helpers/errors.js';

const SHAPE = { height: 10, width: 10, channels: 1 };
const SIZE = 100;

/**
 * 400 rows of 4 classes (label = row % 4), dark noise-free images; rows 0, 4, 8, … up to 156 of
 * class 0 carry a bright 2×2 patch in the corner (the "poison"), as do the first `isolated` of them.
 */
function dataset(): { all: TrainBatch; score: Float64Array } {
  const n = 400;
  const images = new Uint8Array(n * SIZE);
  const labels = new Int32Array(n);
  const score = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 4;
    for (let p = 0; p < SIZE; p++) images[i * SIZE + p] = (i * 7 + p * 13) % 60;
    const poisoned = i % 4 === 0 && i < 160;
    if (poisoned) for (const p of [88, 89, 98, 99]) images[i * SIZE + p] = 255;
    // Poisoned rows score lowest (most suspicious), in row order; clean rows higher.
    score[i] = poisoned ? -10 + i / 1000 : i / 1000;
  }
  return { all: { ids: Array.from({ length: n }, (_, i) => `r${i}`), images, labels, shape: SHAPE }, score };
}

const { all, score } = dataset();
const gather: RowGatherer = async (keep) => selectRows(all, (_, i) => keep(i));
const POLICY: UnlearningPolicy = {
  holdoutFraction: 0.1,
  distrustTargetQuantile: 0.5,
  triggerFilter: true,
  distrustLoss: 2.3,
  maxAccuracyDrop: 0.03,
  maxTargetClassDrop: 0.05,
  maxProbeRise: 0.015,
  seed: 1,
};
/** The 10 lowest-scored rows: poisoned rows r0 … r36. */
const ISOLATED = Int32Array.from({ length: 10 }, (_, k) => 4 * k);
const verdict = (suspect: number | null) => ({
  trajectories: { ids: all.ids, labels: all.labels },
  score,
  isolatedRows: ISOLATED,
  suspect,
});

describe('planUnlearning', () => {
  it('with a suspect: distrusts its suspicious half and the rows carrying the isolated rows’ patch', async () => {
    const plan = await planUnlearning(verdict(0), POLICY, gather, { source: 'train.parquet' });
    expect(plan.ascend).toBe(true);
    expect(plan.isolated.ids).toEqual(Array.from(ISOLATED, (i) => `r${i}`));
    // Class 0 has 100 rows: its 50 lowest-scored are distrusted; the patch carries the other poisoned
    // rows (r40 … r156, 30 of them beyond the isolated 10) into the distrusted set too.
    expect(plan.trigger).toMatchObject({ pixels: 4, rows: 30 });
    const probe = new Set(plan.probeRows.ids);
    for (let i = 0; i < 160; i += 4) if (i >= 40) expect(probe.has(`r${i}`)).toBe(true);
    // No poisoned row is trained on as clean, anchors the class, or is watched as held-out clean.
    for (let i = 0; i < 160; i += 4) expect(plan.excluded.has(`r${i}`)).toBe(true);
    expect(plan.anchor?.ids.every((id) => Number(id.slice(1)) >= 160)).toBe(true);
    expect(plan.anchor?.labels.every((l) => l === 0)).toBe(true);
    expect(plan.guardRows.ids.some((id) => probe.has(id))).toBe(false);
    expect(plan.guards.map((g) => g.name)).toEqual(['accuracy', 'target-class', 'probe']);
    expect(plan.distrust).not.toBeNull();
  });

  it('without a suspect: nothing is distrusted or ascended, and only held-out accuracy is guarded', async () => {
    const plan = await planUnlearning(verdict(null), POLICY, gather, { source: 'train.parquet' });
    expect(plan.ascend).toBe(false);
    expect(plan.trigger).toBeNull();
    expect(plan.probeRows.ids).toEqual([]);
    expect(plan.anchor).toBeNull();
    expect(plan.distrust).toBeNull();
    expect(plan.guards.map((g) => g.name)).toEqual(['accuracy']);
    // Excluded: the isolated rows and the held-out rows, nothing else.
    expect(plan.excluded.size).toBe(10 + plan.guardRows.ids.length);
  });

  it('leaves out the guards and filters a policy turns off', async () => {
    const plan = await planUnlearning(
      verdict(0),
      { ...POLICY, triggerFilter: false, maxProbeRise: null, maxTargetClassDrop: null, distrustLoss: null },
      gather,
      { source: 'train.parquet' },
    );
    expect(plan.trigger).toBeNull();
    expect(plan.guards.map((g) => g.name)).toEqual(['accuracy']);
    expect(plan.distrust).toBeNull();
  });

  it('fails naming the file when no held-out clean row is left for the accuracy guard', async () => {
    const tiny = {
      ...verdict(null),
      trajectories: { ids: ['a'], labels: Int32Array.of(0) },
      isolatedRows: [0],
    };
    const error = await rejection(planUnlearning(tiny, POLICY, gather, { source: 'tiny.parquet' }));
    expect(error.code).toBe(ErrorCode.EmptyDataset);
    expect(error.location?.file).toBe('tiny.parquet');
  });
});

describe('distrustedRows', () => {
  it('takes the lowest-scored quantile of the target class only, ties by row order', () => {
    const labels = Int32Array.of(0, 1, 0, 0, 1, 0);
    const s = Float64Array.of(5, -9, 1, 1, -9, 0);
    expect([...distrustedRows(labels, s, 0, 0.5)].sort()).toEqual([2, 5]);
    expect(distrustedRows(labels, s, null, 0.5).size).toBe(0);
    expect(distrustedRows(labels, s, 0, 0).size).toBe(0);
  });

  it('takes the highest-scored quantile when the poison sits on the slow side', () => {
    const labels = Int32Array.of(0, 1, 0, 0, 1, 0);
    const s = Float64Array.of(5, -9, 1, 1, -9, 0);
    expect([...distrustedRows(labels, s, 0, 0.5, 'high')].sort()).toEqual([0, 2]);
  });
});

describe('holdoutRows', () => {
  it('is a seeded sample of the non-isolated rows, at most 2,000', () => {
    const a = holdoutRows(100_000, new Set([1, 2]), 0.05, 7);
    expect(a.size).toBe(2000);
    expect(a.has(1) || a.has(2)).toBe(false);
    expect([...holdoutRows(100_000, new Set([1, 2]), 0.05, 7)]).toEqual([...a]);
    expect([...holdoutRows(100_000, new Set([1, 2]), 0.05, 8)]).not.toEqual([...a]);
  });
});
