import { describe, expect, it } from 'vitest';
import type { LossTrajectories } from '../../../src/abl/lossTrajectories.js';
import { SCORE_METHODS, type ScoreMethod, scoreRows } from '../../../src/abl/scoreRows.js';
import { ErrorCode, UsageError } from '../../../src/errors.js';

/** Trajectories of `labels.length` rows; `epochs[e][i]` is row i's loss after epoch e + 1. */
function trajectories(labels: number[], epochs: number[][]): LossTrajectories {
  for (const e of epochs) expect(e.length).toBe(labels.length);
  return {
    ids: labels.map((_, i) => `r${i}`),
    labels: Int32Array.from(labels),
    losses: epochs.map((e) => Float32Array.from(e)),
  };
}

/** Checks that `rank` is a permutation of 0..n−1 and the inverse of `order`. */
function expectConsistent(rank: Int32Array, order: Int32Array): void {
  const n = rank.length;
  expect(order.length).toBe(n);
  expect([...rank].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  order.forEach((row, r) => {
    expect(rank[row]).toBe(r);
  });
}

const f32 = Math.fround;

describe('scoreRows: final-loss', () => {
  it('scores every row by its last epoch only and ranks low losses first', () => {
    // Epoch 1 would rank r0 first; the last epoch ranks r2, r0, r3, r1.
    const t = trajectories(
      [0, 0, 1, 1],
      [
        [0.01, 5, 5, 5],
        [0.3, 2.0, 0.1, 0.7],
      ],
    );
    const s = scoreRows(t, { method: 'final-loss', isolate: 1 });
    expect(s.method).toBe('final-loss');
    expect(Array.from(s.score)).toEqual([f32(0.3), f32(2.0), f32(0.1), f32(0.7)]);
    expect(Array.from(s.order)).toEqual([2, 0, 3, 1]);
    expect(Array.from(s.rank)).toEqual([1, 3, 0, 2]);
    expect(s.rankedClass).toBeNull();
    expect(s.classGaps).toBeNull();
    expectConsistent(s.rank, s.order);
  });

  it('breaks ties by source order', () => {
    const t = trajectories([0, 1, 0, 1, 0], [[0.5, 0.2, 0.5, 0.2, 0.5]]);
    const s = scoreRows(t, { method: 'final-loss', isolate: 2 });
    expect(Array.from(s.order)).toEqual([1, 3, 0, 2, 4]);
    expect(Array.from(s.rank)).toEqual([2, 0, 3, 1, 4]);
    expectConsistent(s.rank, s.order);
  });

  it('copies the losses into its scores: changing a score leaves the trajectories alone', () => {
    const t = trajectories([0, 1], [[0.4, 0.2]]);
    const s = scoreRows(t, { method: 'final-loss', isolate: 1 });
    s.score[0] = 99;
    expect(t.losses[0]?.[0]).toBe(f32(0.4));
  });
});

describe('scoreRows: mean-log-loss', () => {
  it('is the mean over epochs of log(loss)', () => {
    const t = trajectories(
      [0, 1, 2],
      [
        [1, Math.exp(-2), 0.5],
        [Math.exp(-3), Math.exp(-2), 0.25],
      ],
    );
    const s = scoreRows(t, { method: 'mean-log-loss', isolate: 1 });
    const expected = [
      (Math.log(f32(1)) + Math.log(f32(Math.exp(-3)))) / 2, // ≈ −1.5
      Math.log(f32(Math.exp(-2))), // ≈ −2
      (Math.log(0.5) + Math.log(0.25)) / 2, // = 1.5·log(0.5) ≈ −1.04
    ];
    expected.forEach((e, i) => {
      expect(s.score[i]).toBeCloseTo(e, 6);
    });
    expect(s.score[0]).toBeCloseTo(-1.5, 6);
    expect(s.score[1]).toBeCloseTo(-2, 6);
    // The trajectory ranks r1 (low all along) before r0 (low only at the end) ...
    expect(Array.from(s.order)).toEqual([1, 0, 2]);
    // ... while the last epoch alone ranks r0 first.
    expect(Array.from(scoreRows(t, { method: 'final-loss', isolate: 1 }).order)).toEqual([0, 1, 2]);
    expect(s.rankedClass).toBeNull();
    expect(s.classGaps).toBeNull();
    expectConsistent(s.rank, s.order);
  });

  it('floors a loss of exactly 0 at 1e-12, so the score stays finite', () => {
    const t = trajectories(
      [0, 0],
      [
        [0, 1],
        [0, 1],
      ],
    );
    const s = scoreRows(t, { method: 'mean-log-loss', isolate: 1 });
    expect(s.score[0]).toBeCloseTo(Math.log(1e-12), 9);
    expect(Number.isFinite(s.score[0])).toBe(true);
    expect(s.score[1]).toBe(0);
    // Losses below the floor are clamped to it, so they tie with 0; ties go by source order.
    const u = trajectories([0, 0, 0], [[1e-20, 0, 1e-13]]);
    const v = scoreRows(u, { method: 'mean-log-loss', isolate: 1 });
    expect(Array.from(v.score)).toEqual([Math.log(1e-12), Math.log(1e-12), Math.log(1e-12)]);
    expect(Array.from(v.order)).toEqual([0, 1, 2]);
  });

  it('breaks ties by source order', () => {
    const t = trajectories(
      [0, 0, 0, 0],
      [
        [0.2, 0.1, 0.2, 0.1],
        [0.2, 0.1, 0.2, 0.1],
      ],
    );
    const s = scoreRows(t, { method: 'mean-log-loss', isolate: 1 });
    expect(Array.from(s.order)).toEqual([1, 3, 0, 2]);
    expectConsistent(s.rank, s.order);
  });
});

describe('scoreRows: target-class', () => {
  it('ranks the class with the largest low-tail gap first; its score is the mean log-loss', () => {
    // isolate = 3 over 3 classes → tail = ceil(3/3) = 1 lowest score per class.
    // Class 0: losses e^-1, e^-1, e^-1         → gap 0.
    // Class 1: losses e^-6, e^0, e^0, e^0      → median (lower) log = 0, low tail −6 → gap 6.
    // Class 2: losses e^-3, e^-2, e^-1         → median −2, low tail −3 → gap 1.
    const losses = [-1, -6, -3, -1, 0, -2, -1, 0, -1, 0].map((x) => Math.exp(x));
    const labels = [0, 1, 2, 0, 1, 2, 0, 1, 2, 1];
    const t = trajectories(labels, [losses]);
    const s = scoreRows(t, { method: 'target-class', isolate: 3 });
    expect(s.method).toBe('target-class');
    expect(s.rankedClass).toBe(1);
    expect(s.classGaps).not.toBeNull();
    const gaps = s.classGaps as readonly number[];
    expect(gaps.length).toBe(3);
    expect(gaps[0]).toBeCloseTo(0, 6);
    expect(gaps[1]).toBeCloseTo(6, 6);
    expect(gaps[2]).toBeCloseTo(1, 6);
    // The score is the plain mean log-loss (one epoch: the log of the loss).
    const m = scoreRows(t, { method: 'mean-log-loss', isolate: 3 });
    expect(Array.from(s.score)).toEqual(Array.from(m.score));
    // Class 1 rows first (r1 at −6, then r4, r7, r9 tied at 0 in source order), then the rest by score:
    // r2 (−3), r5 (−2), then r0, r3, r6, r8 tied at −1 in source order.
    expect(Array.from(s.order)).toEqual([1, 4, 7, 9, 2, 5, 0, 3, 6, 8]);
    expectConsistent(s.rank, s.order);
  });

  it('out-ranks an easy class with the target class\u2019s very-low-loss rows; final-loss does not', () => {
    // The easy class 0 (say trousers) is learned everywhere: every row at loss 0.001, no gap.
    // The target class 1 has 2 poisoned rows at loss 0.01 (above the easy class!) and clean rows at 1.
    // Class 2 is ordinary: losses 0.5..2.
    const labels: number[] = [];
    const losses: number[] = [];
    const poisoned = new Set<number>();
    const add = (label: number, loss: number, poison = false) => {
      if (poison) poisoned.add(labels.length);
      labels.push(label);
      losses.push(loss);
    };
    for (let i = 0; i < 6; i++) add(0, 0.001);
    add(1, 1);
    add(1, 0.01, true);
    add(1, 1.2);
    add(1, 0.9);
    add(1, 0.01, true);
    add(1, 1.1);
    for (const l of [0.5, 1, 1.5, 2, 0.8, 1.2]) add(2, l);
    const t = trajectories(labels, [losses]);
    const isolate = 2;

    const final = scoreRows(t, { method: 'final-loss', isolate });
    const finalTop = Array.from(final.order.subarray(0, isolate));
    expect(finalTop.every((r) => labels[r] === 0)).toBe(true);
    expect(finalTop.some((r) => poisoned.has(r))).toBe(false);
    // The poisoned rows come only after all six easy rows.
    for (const p of poisoned) expect(final.rank[p]).toBeGreaterThanOrEqual(6);

    const mean = scoreRows(t, { method: 'mean-log-loss', isolate });
    expect(Array.from(mean.order)).toEqual(Array.from(final.order));

    const target = scoreRows(t, { method: 'target-class', isolate });
    expect(target.rankedClass).toBe(1);
    expect(Array.from(target.order.subarray(0, isolate)).sort((a, b) => a - b)).toEqual([...poisoned]);
    // Gaps, tail = ceil(2/3) = 1: class 0 has none; class 1 sorts to 0.01, 0.01, 0.9, 1, 1.1, 1.2, so its
    // (lower) median is 0.9 and its gap log(0.9) − log(0.01); class 2's median is 1 and its gap log(1) − log(0.5).
    const gaps = target.classGaps as readonly number[];
    expect(gaps[0]).toBe(0);
    expect(gaps[1]).toBeCloseTo(Math.log(f32(0.9)) - Math.log(f32(0.01)), 5);
    expect(gaps[2]).toBeCloseTo(Math.log(f32(1)) - Math.log(f32(0.5)), 5);
    expectConsistent(target.rank, target.order);
  });

  it('computes the gap over ceil(isolate / classes) lowest rows and uses the lower median', () => {
    // Two classes, isolate = 3 → tail = 2.
    // Class 0 logs: −4, −2, 0, 0 → lower median = −2 (index 1), tail mean = −3 → gap 1.
    // Class 1 logs: −5, −1, −1, −1 → median −1, tail mean −3 → gap 2.
    const logs = [-4, -5, -2, -1, 0, -1, 0, -1];
    const labels = [0, 1, 0, 1, 0, 1, 0, 1];
    const t = trajectories(labels, [logs.map((x) => Math.exp(x))]);
    const s = scoreRows(t, { method: 'target-class', isolate: 3, minStandout: 0 });
    const gaps = s.classGaps as readonly number[];
    expect(gaps[0]).toBeCloseTo(1, 5);
    expect(gaps[1]).toBeCloseTo(2, 5);
    expect(s.rankedClass).toBe(1);
    expect(Array.from(s.order)).toEqual([1, 3, 5, 7, 0, 2, 4, 6]);
    expectConsistent(s.rank, s.order);
  });

  it('ranks a class first only when its gap stands out from the median class by the threshold', () => {
    // Three classes of 4 rows, isolate 3 → tail 1. Gaps (lower median − lowest): class 0: 1, class 1: 2,
    // class 2: 6 → median 2, standout 3.
    const labels = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2];
    const logs = [-2, -1, -1, 0, -3, -1, -1, 0, -7, -1, -1, 0];
    const t = trajectories(labels, [logs.map((x) => Math.exp(x))]);
    const clear = scoreRows(t, { method: 'target-class', isolate: 3 });
    expect(clear.targetStandout).toBeCloseTo(3, 5);
    expect(clear.rankedClass).toBe(2);
    const strict = scoreRows(t, { method: 'target-class', isolate: 3, minStandout: 3.5 });
    expect(strict.rankedClass).toBeNull();
    // Falls back to the global mean-log-loss order.
    const global = scoreRows(t, { method: 'mean-log-loss', isolate: 3 });
    expect(Array.from(strict.order)).toEqual(Array.from(global.order));
    expect(strict.targetStandout).toBeCloseTo(3, 5);
  });

  it('gives NaN to a class with too few rows and never picks it', () => {
    // isolate = 6, 2 classes → tail 3. Class 0 has 2 rows (too few) with huge apparent gap; class 1 has 4.
    const labels = [0, 0, 1, 1, 1, 1];
    const logs = [-20, 0, -3, -2, -1, 0];
    const t = trajectories(labels, [logs.map((x) => Math.exp(x))]);
    const s = scoreRows(t, { method: 'target-class', isolate: 6, minStandout: 0 });
    const gaps = s.classGaps as readonly number[];
    expect(Number.isNaN(gaps[0])).toBe(true);
    // Class 1: sorted −3, −2, −1, 0 → lower median −2, tail mean (−3 −2 −1)/3 = −2 → gap 0.
    expect(gaps[1]).toBeCloseTo(0, 5);
    expect(s.rankedClass).toBe(1);
    expect(Array.from(s.order)).toEqual([2, 3, 4, 5, 0, 1]);
  });

  it('falls back to the global ranking when no class has a gap (every class too small)', () => {
    const t = trajectories([0, 1, 2], [[0.3, 0.1, 0.2]]);
    const s = scoreRows(t, { method: 'target-class', isolate: 1 });
    expect(s.rankedClass).toBeNull();
    const gaps = s.classGaps as readonly number[];
    expect(gaps.length).toBe(3);
    expect(gaps.every((g) => Number.isNaN(g))).toBe(true);
    expect(Array.from(s.order)).toEqual([1, 2, 0]);
    expectConsistent(s.rank, s.order);
  });

  it('keeps ties within and outside the target class in source order', () => {
    // isolate 2, two classes → tail 1. Class 1: logs −5, 0, 0 → gap 5; class 0: 0, 0, 0 → gap 0.
    const labels = [0, 1, 0, 1, 0, 1];
    const logs = [0, 0, 0, -5, 0, 0];
    const t = trajectories(labels, [logs.map((x) => Math.exp(x))]);
    const s = scoreRows(t, { method: 'target-class', isolate: 2, minStandout: 0 });
    expect(s.rankedClass).toBe(1);
    expect(Array.from(s.order)).toEqual([3, 1, 5, 0, 2, 4]);
    expectConsistent(s.rank, s.order);
  });

  it('ranks a random trajectory set as a permutation consistent with order, for every method', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const n = 200;
    const labels = Array.from({ length: n }, () => Math.floor(rnd() * 5));
    const epochs = Array.from({ length: 3 }, () => Array.from({ length: n }, () => rnd() * 3));
    const t = trajectories(labels, epochs);
    for (const method of SCORE_METHODS) {
      const s = scoreRows(t, { method, isolate: 10 });
      expectConsistent(s.rank, s.order);
      // Scores never decrease along the order within a group (for target-class: the ranked class first).
      const group = (i: number) => (s.rankedClass !== null && labels[i] === s.rankedClass ? 0 : 1);
      for (let r = 1; r < n; r++) {
        const a = s.order[r - 1] as number;
        const b = s.order[r] as number;
        const key = (i: number) => [group(i), s.score[i] as number, i] as const;
        const [ga, sa, ia] = key(a);
        const [gb, sb, ib] = key(b);
        expect(ga < gb || (ga === gb && (sa < sb || (sa === sb && ia < ib)))).toBe(true);
      }
    }
  });
});

describe('scoreRows: errors', () => {
  const t = trajectories([0, 1], [[0.1, 0.2]]);

  it('rejects an unknown method with a UsageError listing the valid names', () => {
    let caught: unknown;
    try {
      scoreRows(t, { method: 'lowest-loss' as ScoreMethod, isolate: 1 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageError);
    const err = caught as UsageError;
    expect(err.code).toBe(ErrorCode.Usage);
    expect(err.message).toContain("'lowest-loss'");
    for (const name of SCORE_METHODS) expect(err.message).toContain(name);
  });

  it('rejects trajectories with no rows', () => {
    const empty: LossTrajectories = { ids: [], labels: new Int32Array(0), losses: [new Float32Array(0)] };
    for (const method of SCORE_METHODS) {
      expect(() => scoreRows(empty, { method, isolate: 1 })).toThrow(UsageError);
    }
  });

  it('rejects trajectories with no epochs', () => {
    const noEpochs: LossTrajectories = { ids: ['a', 'b'], labels: Int32Array.from([0, 1]), losses: [] };
    for (const method of SCORE_METHODS) {
      expect(() => scoreRows(noEpochs, { method, isolate: 1 })).toThrow(/no isolation losses/);
    }
  });
});
