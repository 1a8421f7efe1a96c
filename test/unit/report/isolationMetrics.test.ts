import { describe, expect, it } from 'vitest';
import { isolationMetrics } from '../../../src/report/isolationMetrics.js';

/** Ranks where `order[r]` is the row at rank r. */
function ranksOf(order: number[]): Int32Array {
  const rank = new Int32Array(order.length);
  order.forEach((row, r) => {
    rank[row] = r;
  });
  return rank;
}

describe('isolationMetrics', () => {
  it('counts true positives among the isolated rows: precision, recall, maxPrecision', () => {
    // 8 rows; rows 1, 4, 6 are poisoned. Ranking (most suspicious first): 4, 0, 1, 7, 6, 2, 3, 5.
    const rank = ranksOf([4, 0, 1, 7, 6, 2, 3, 5]);
    const poisoned = [false, true, false, false, true, false, true, false];
    const m = isolationMetrics(rank, poisoned, 3);
    // The top 3 are rows 4, 0, 1: two are poisoned.
    expect(m.poisoned).toBe(3);
    expect(m.isolated).toBe(3);
    expect(m.truePositives).toBe(2);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.maxPrecision).toBe(1);
    // Pairs (poisoned before clean): row 4 (rank 0) beats 5 clean; row 1 (rank 2) beats 4 (7, 2, 3, 5);
    // row 6 (rank 4) beats 3 (2, 3, 5): 12 of 3 × 5 = 15.
    expect(m.auroc).toBeCloseTo(12 / 15, 12);
  });

  it('caps maxPrecision at poisoned / isolated when fewer rows are poisoned than isolated', () => {
    const rank = ranksOf([0, 1, 2, 3, 4, 5]);
    const poisoned = [true, false, false, false, false, false];
    const m = isolationMetrics(rank, poisoned, 4);
    expect(m.truePositives).toBe(1);
    expect(m.precision).toBe(0.25);
    expect(m.maxPrecision).toBe(0.25);
    expect(m.recall).toBe(1);
  });

  it('is 1 for a perfect ranking and 0 for an inverted one', () => {
    const poisoned = [true, true, false, false, false];
    const perfect = isolationMetrics(ranksOf([0, 1, 2, 3, 4]), poisoned, 2);
    expect(perfect.auroc).toBe(1);
    expect(perfect.precision).toBe(1);
    expect(perfect.recall).toBe(1);
    const inverted = isolationMetrics(ranksOf([2, 3, 4, 1, 0]), poisoned, 2);
    expect(inverted.auroc).toBe(0);
    expect(inverted.truePositives).toBe(0);
    expect(inverted.precision).toBe(0);
    expect(inverted.recall).toBe(0);
  });

  it('computes AUROC of interleaved rankings by hand', () => {
    // P N N P: the first poisoned row beats both clean rows, the second none: 2 / 4 = 0.5.
    const poisoned = [true, false, false, true];
    expect(isolationMetrics(ranksOf([0, 1, 2, 3]), poisoned, 1).auroc).toBe(0.5);
    // P N P N: 2 + 1 = 3 of 4.
    expect(isolationMetrics(ranksOf([0, 1, 3, 2]), poisoned, 1).auroc).toBe(0.75);
    // N P N P: 1 + 0 = 1 of 4.
    expect(isolationMetrics(ranksOf([1, 0, 2, 3]), poisoned, 1).auroc).toBe(0.25);
  });

  it('reads the truth in row order, not rank order', () => {
    // Row 2 is poisoned and ranked first.
    const m = isolationMetrics(ranksOf([2, 0, 1]), [false, false, true], 1);
    expect(m.truePositives).toBe(1);
    expect(m.auroc).toBe(1);
  });

  it('has no recall or AUROC without poisoned rows, and no AUROC without clean rows', () => {
    const none = isolationMetrics(ranksOf([0, 1, 2]), [false, false, false], 2);
    expect(none.poisoned).toBe(0);
    expect(none.recall).toBeNull();
    expect(none.auroc).toBeNull();
    expect(none.precision).toBe(0);
    expect(none.maxPrecision).toBe(0);
    const all = isolationMetrics(ranksOf([0, 1, 2]), [true, true, true], 2);
    expect(all.auroc).toBeNull();
    expect(all.recall).toBeCloseTo(2 / 3, 12);
    expect(all.precision).toBe(1);
  });

  it('gives precision and maxPrecision 0 when nothing is isolated', () => {
    const m = isolationMetrics(ranksOf([0, 1]), [true, false], 0);
    expect(m.precision).toBe(0);
    expect(m.maxPrecision).toBe(0);
    expect(m.truePositives).toBe(0);
    expect(m.recall).toBe(0);
    expect(m.auroc).toBe(1);
  });
});
