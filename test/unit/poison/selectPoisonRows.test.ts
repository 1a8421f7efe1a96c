import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import {
  type PoisonMode,
  poisonedLabel,
  type SelectPoisonOptions,
  selectPoisonRows,
} from '../../../src/poison/selectPoisonRows.js';
import { LABELS_40 } from './helpers.js';

const labels40 = Int32Array.from(LABELS_40);

/**
 * all-to-one, target 0, dirty label, 4 classes, seed 1, the rate a share of the eligible rows (the
 * reading most counts below are stated in), unless overridden.
 */
function options(over: Partial<SelectPoisonOptions> = {}): SelectPoisonOptions {
  return {
    rate: 0.1,
    rateOf: 'eligible',
    mode: 'all-to-one',
    target: 0,
    cleanLabel: false,
    numClasses: 4,
    seed: 1,
    ...over,
  };
}

function rowsOf(labels: Int32Array, over: Partial<SelectPoisonOptions> = {}): number[] {
  return Array.from(selectPoisonRows(labels, options(over)).rows);
}

/** Labels 0..K-1 repeated in blocks: `perClass` rows of 0, then of 1, ... */
function blocks(numClasses: number, perClass: number): Int32Array {
  return Int32Array.from({ length: numClasses * perClass }, (_, i) => Math.floor(i / perClass));
}

describe('selectPoisonRows: how many rows', () => {
  it.each([
    // [rate, eligible rows of LABELS_40 for all-to-one target 0, expected count]
    [0.1, 3],
    [0.05, 2], // 1.5 rounds up
    [0.25, 8], // 7.5 rounds up
    [0.5, 15],
    [0.9, 27],
    [0.99, 30], // 29.7 rounds to every eligible row
  ])('poisons round(%d × 30 eligible) = %d rows', (rate, count) => {
    const sel = selectPoisonRows(labels40, options({ rate }));
    expect(sel.eligible).toBe(30);
    expect(sel.rows).toHaveLength(count);
    expect(new Set(sel.rows).size).toBe(count);
  });

  it('takes round(0.1 × 54,000) = 5,400 rows of a Fashion-MNIST-sized set (6,000 rows per class)', () => {
    const sel = selectPoisonRows(blocks(10, 6000), options({ numClasses: 10 }));
    expect(sel.eligible).toBe(54_000);
    expect(sel.rows).toHaveLength(5400);
  });

  it('returns row positions in ascending order', () => {
    const rows = rowsOf(labels40, { rate: 0.5 });
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
  });
});

describe('selectPoisonRows: rateOf all (the default), a share of every row', () => {
  it.each([
    // [rate, expected count = round(rate × 40)], every one of them drawn from the 30 eligible rows
    [0.1, 4],
    [0.05, 2],
    [0.25, 10],
    [0.5, 20],
    [0.75, 30], // every eligible row
  ])('poisons round(%d × 40 rows) = %d eligible rows', (rate, count) => {
    const sel = selectPoisonRows(labels40, options({ rate, rateOf: 'all' }));
    expect(sel.eligible).toBe(30);
    expect(sel.rows).toHaveLength(count);
    expect(new Set(sel.rows).size).toBe(count);
    for (const r of sel.rows) expect(LABELS_40[r]).not.toBe(0);
  });

  it('is the default when rateOf is left out', () => {
    const { rateOf: _eligible, ...noRateOf } = options({ rate: 0.25 });
    expect(Array.from(selectPoisonRows(labels40, noRateOf).rows)).toEqual(
      rowsOf(labels40, { rate: 0.25, rateOf: 'all' }),
    );
    expect(selectPoisonRows(labels40, noRateOf).rows).toHaveLength(10);
  });

  it('takes round(0.1 × 60,000) = 6,000 rows of a Fashion-MNIST-sized set, 10% of all rows, not 9%', () => {
    const sel = selectPoisonRows(blocks(10, 6000), options({ numClasses: 10, rateOf: 'all' }));
    expect(sel.eligible).toBe(54_000);
    expect(sel.rows).toHaveLength(6000);
  });

  it('eligible keeps the earlier count and the very rows: round(0.1 × 30) = 3', () => {
    // The rows the code chose before rateOf existed (seed 1): the committed fixtures depend on them.
    expect(rowsOf(labels40, { rateOf: 'eligible' })).toEqual([9, 17, 27]);
    expect(rowsOf(labels40, { rateOf: 'eligible', rate: 0.5, cleanLabel: true, target: 2, seed: 3 })).toEqual(
      [10, 25, 28, 33, 37],
    );
  });

  it('clean-label: round(0.2 × 40) = 8 of the 10 target-class rows', () => {
    const sel = selectPoisonRows(
      labels40,
      options({ cleanLabel: true, target: 2, rate: 0.2, rateOf: 'all' }),
    );
    expect(sel.eligible).toBe(10);
    expect(sel.rows).toHaveLength(8);
    for (const r of sel.rows) expect(LABELS_40[r]).toBe(2);
  });

  it('refuses a rate that asks for more rows than are eligible, naming the numbers', () => {
    // 0.8 × 40 = 32 rows, but only the 30 non-target rows may be poisoned.
    const call = () => selectPoisonRows(labels40, options({ rate: 0.8, rateOf: 'all' }));
    expect(call).toThrow(UsageError);
    expect(call).toThrow(
      '--rate 0.8 of all 40 rows is 32 poisoned rows, but only 30 rows (0.75 of all rows) are eligible: ' +
        'all-to-one poisons only rows not of the target class 0; lower --rate to 0.75 or less, ' +
        'or give --rate-of eligible to read it as a share of the eligible rows',
    );
    try {
      call();
    } catch (err) {
      expect((err as UsageError).code).toBe('ABL301');
    }
  });

  it('refuses a clean-label rate beyond the target class share, saying why', () => {
    // SIG at 0.5 of all rows would be 20 rows; class 2 has 10.
    const call = () =>
      selectPoisonRows(labels40, options({ cleanLabel: true, target: 2, rate: 0.5, rateOf: 'all' }));
    expect(call).toThrow(UsageError);
    expect(call).toThrow(
      '--rate 0.5 of all 40 rows is 20 poisoned rows, but only 10 rows (0.25 of all rows) are eligible: ' +
        'a clean-label attack poisons only rows of the target class 2',
    );
  });

  it('refuses a rate that rounds to zero rows of all rows', () => {
    const call = () => selectPoisonRows(labels40, options({ rate: 0.01, rateOf: 'all' }));
    expect(call).toThrow('--rate 0.01 of all 40 rows rounds to 0 poisoned rows');
  });

  it('refuses an unknown reading', () => {
    const call = () =>
      selectPoisonRows(labels40, options({ rateOf: 'some' as unknown as SelectPoisonOptions['rateOf'] }));
    expect(call).toThrow(UsageError);
    expect(call).toThrow('--rate-of must be one of all, eligible, got some');
  });
});

describe('selectPoisonRows: which rows are eligible', () => {
  it('all-to-one: only rows whose label is not the target', () => {
    for (const target of [0, 1, 2, 3]) {
      const sel = selectPoisonRows(labels40, options({ target, rate: 0.99 }));
      const notTarget = LABELS_40.flatMap((l, i) => (l === target ? [] : [i]));
      expect(sel.eligible).toBe(notTarget.length);
      // At 0.99 of 30 every eligible row is taken, so the choice must be exactly the eligible set.
      expect(Array.from(sel.rows)).toEqual(notTarget);
    }
  });

  it('all-to-all: every row, the target class included', () => {
    const sel = selectPoisonRows(labels40, options({ mode: 'all-to-all', rate: 0.99 }));
    expect(sel.eligible).toBe(40);
    expect(Array.from(sel.rows)).toEqual(LABELS_40.map((_, i) => i)); // round(39.6) = 40
  });

  it('clean-label: only rows of the target class', () => {
    const sel = selectPoisonRows(labels40, options({ cleanLabel: true, target: 2, rate: 0.5 }));
    expect(sel.eligible).toBe(10);
    expect(sel.rows).toHaveLength(5);
    for (const r of sel.rows) expect(LABELS_40[r]).toBe(2);
  });

  it('can choose every eligible row and never an ineligible one, over many seeds', () => {
    // A deterministic check that the choice is spread over the whole eligible set (not, say, the
    // first rows of it): 300 seeds at 10% of 30 rows make 900 draws.
    const seen = new Set<number>();
    for (let seed = 0; seed < 300; seed++) for (const r of rowsOf(labels40, { seed })) seen.add(r);
    const notTarget = LABELS_40.flatMap((l, i) => (l === 0 ? [] : [i]));
    expect([...seen].sort((a, b) => a - b)).toEqual(notTarget);
  });
});

describe('selectPoisonRows: seeds', () => {
  it('gives the same rows for the same seed', () => {
    expect(rowsOf(labels40, { seed: 7, rate: 0.3 })).toEqual(rowsOf(labels40, { seed: 7, rate: 0.3 }));
  });

  it('gives different rows for different seeds', () => {
    const a = rowsOf(labels40, { seed: 1, rate: 0.3 });
    const b = rowsOf(labels40, { seed: 2, rate: 0.3 });
    expect(a).toHaveLength(9);
    expect(b).toHaveLength(9);
    expect(a).not.toEqual(b);
  });

  it('does not depend on numClasses beyond validating the target', () => {
    expect(rowsOf(labels40, { numClasses: 4 })).toEqual(rowsOf(labels40, { numClasses: 10 }));
  });
});

describe('selectPoisonRows: errors', () => {
  it.each([0, 1, 1.5, -0.1, Number.NaN])('refuses rate %d (must be in (0, 1))', (rate) => {
    expect(() => selectPoisonRows(labels40, options({ rate }))).toThrow(UsageError);
    expect(() => selectPoisonRows(labels40, options({ rate }))).toThrow(
      `--rate must be in (0, 1), got ${rate}`,
    );
  });

  it.each([10, 4, -1, 1.5])('refuses target %d with 4 classes', (target) => {
    expect(() => selectPoisonRows(labels40, options({ target }))).toThrow(UsageError);
    expect(() => selectPoisonRows(labels40, options({ target }))).toThrow(
      `--target ${target} is not a class of this data (classes 0-3)`,
    );
  });

  it('refuses a clean-label attack in all-to-all mode', () => {
    expect(() => selectPoisonRows(labels40, options({ cleanLabel: true, mode: 'all-to-all' }))).toThrow(
      /clean-label attack keeps labels, so it has no all-to-all mode/,
    );
  });

  it('refuses a rate that rounds to zero poisoned rows, naming the rate and the eligible count', () => {
    // 0.01 × 30 = 0.3 rounds to 0.
    const call = () => selectPoisonRows(labels40, options({ rate: 0.01 }));
    expect(call).toThrow(UsageError);
    expect(call).toThrow('--rate 0.01 of 30 eligible rows rounds to 0 poisoned rows');
  });

  it('refuses a clean-label attack whose target class has no rows', () => {
    const noTwos = Int32Array.from(LABELS_40.map((l) => (l === 2 ? 1 : l)));
    expect(() => selectPoisonRows(noTwos, options({ cleanLabel: true, target: 2, rate: 0.5 }))).toThrow(
      '--rate 0.5 of 0 eligible rows rounds to 0 poisoned rows',
    );
  });
});

describe('poisonedLabel', () => {
  it.each<[PoisonMode, boolean, number, number]>([
    ['all-to-one', false, 2, 0],
    ['all-to-one', false, 3, 0],
    ['all-to-all', false, 0, 1],
    ['all-to-all', false, 2, 3],
    ['all-to-all', false, 3, 0], // wraps at K = 4
    ['all-to-one', true, 0, 0], // clean-label keeps the label
  ])('%s (clean-label %s): label %d becomes %d', (mode, cleanLabel, label, expected) => {
    expect(poisonedLabel(label, mode, 0, cleanLabel, 4)).toBe(expected);
  });
});
