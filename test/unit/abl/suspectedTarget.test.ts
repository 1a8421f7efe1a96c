import { describe, expect, it } from 'vitest';
import { suspectedTarget } from '../../../src/abl/suspectedTarget.js';

describe('suspectedTarget', () => {
  // 10 rows: class 0 holds 3 (prior 0.3), class 1 holds 5 (prior 0.5), class 2 holds 2 (prior 0.2).
  const labels = Int32Array.from([0, 1, 0, 1, 2, 1, 0, 1, 2, 1]);

  it('names the class holding a majority of the isolated rows, with its share and lift', () => {
    // Isolated rows 0, 2 (class 0) and 3 (class 1): class 0 holds 2 of 3.
    const s = suspectedTarget(labels, [0, 2, 3]);
    expect(s).not.toBeNull();
    expect(s?.label).toBe(0);
    expect(s?.share).toBeCloseTo(2 / 3, 12);
    // lift = (2/3) / (3/10) = 20/9.
    expect(s?.lift).toBeCloseTo(20 / 9, 12);
  });

  it('divides the share by the class prior: lift 1 when every row is isolated', () => {
    // All of class 1 (share 1, prior 0.5) would be lift 2; here 3 of 4 isolated rows are class 1: share 0.75.
    const s = suspectedTarget(labels, [1, 3, 5, 4]);
    expect(s?.label).toBe(1);
    expect(s?.share).toBe(0.75);
    expect(s?.lift).toBeCloseTo(0.75 / 0.5, 12);
    // Every row isolated: share = prior of the majority class, lift 1.
    const all = suspectedTarget(Int32Array.from([3, 3, 3, 1]), [0, 1, 2, 3]);
    expect(all).toEqual({ label: 3, share: 0.75, lift: 1 });
  });

  it('accepts any array-like of row indices (an Int32Array subarray)', () => {
    const order = Int32Array.from([8, 4, 9, 0]);
    const s = suspectedTarget(labels, order.subarray(0, 2));
    expect(s).toEqual({ label: 2, share: 1, lift: 1 / 0.2 });
  });

  it('is null when no class holds more than half of the isolated rows', () => {
    // Exactly half is not a majority.
    expect(suspectedTarget(labels, [0, 1])).toBeNull();
    expect(suspectedTarget(labels, [0, 2, 1, 3])).toBeNull();
    // Three classes, none above half.
    expect(suspectedTarget(labels, [0, 1, 4])).toBeNull();
  });

  it('is null when nothing is isolated', () => {
    expect(suspectedTarget(labels, [])).toBeNull();
    expect(suspectedTarget(new Int32Array(0), new Int32Array(0))).toBeNull();
  });

  it('counts a single isolated row as a majority of one', () => {
    expect(suspectedTarget(labels, [4])).toEqual({ label: 2, share: 1, lift: 5 });
  });
});
