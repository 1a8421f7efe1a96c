import { describe, expect, it } from 'vitest';
import { appendEpochLosses } from '../../../src/abl/lossTrajectories.js';
import { DataError, ErrorCode } from '../../../src/errors.js';
import type { LossRecord } from '../../../src/train/types.js';

function records(rows: [id: string, label: number, loss: number][]): LossRecord[] {
  return rows.map(([id, label, loss]) => ({ id, label, loss, predicted: label, confidence: 0.5 }));
}

/** Calls `fn`, which must throw a DataError, and returns it. */
function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    return err as DataError;
  }
  throw new Error('expected a DataError, nothing was thrown');
}

describe('appendEpochLosses', () => {
  const first = records([
    ['a', 2, 0.5],
    ['b', 0, 1.25],
    ['c', 1, 0.125],
  ]);

  it('starts the trajectories with the first pass: its ids, labels and losses in source order', () => {
    const t = appendEpochLosses(null, first);
    expect(t.ids).toEqual(['a', 'b', 'c']);
    expect(t.labels).toBeInstanceOf(Int32Array);
    expect(Array.from(t.labels)).toEqual([2, 0, 1]);
    expect(t.losses.length).toBe(1);
    expect(t.losses[0]).toBeInstanceOf(Float32Array);
    expect(Array.from(t.losses[0] as Float32Array)).toEqual([0.5, 1.25, 0.125]);
  });

  it('stores losses as float32', () => {
    const t = appendEpochLosses(null, records([['a', 0, 0.1]]));
    expect(t.losses[0]?.[0]).toBe(Math.fround(0.1));
  });

  it('appends a later pass as a new epoch and leaves the previous trajectories unchanged', () => {
    const t1 = appendEpochLosses(null, first);
    const t2 = appendEpochLosses(
      t1,
      records([
        ['a', 2, 0.25],
        ['b', 0, 2],
        ['c', 1, 0.0625],
      ]),
    );
    expect(t2.ids).toEqual(['a', 'b', 'c']);
    expect(Array.from(t2.labels)).toEqual([2, 0, 1]);
    expect(t2.losses.length).toBe(2);
    expect(Array.from(t2.losses[0] as Float32Array)).toEqual([0.5, 1.25, 0.125]);
    expect(Array.from(t2.losses[1] as Float32Array)).toEqual([0.25, 2, 0.0625]);
    expect(t1.losses.length).toBe(1);
    const t3 = appendEpochLosses(t2, first);
    expect(t3.losses.length).toBe(3);
    expect(Array.from(t3.losses[2] as Float32Array)).toEqual([0.5, 1.25, 0.125]);
  });

  it('rejects a pass with a different row count (SchemaMismatch, ABL208)', () => {
    const t = appendEpochLosses(null, first);
    const fewer = dataError(() => appendEpochLosses(t, first.slice(0, 2)));
    expect(fewer.code).toBe(ErrorCode.SchemaMismatch);
    expect(fewer.code).toBe('ABL208');
    expect(fewer.message).toContain('3 rows');
    expect(fewer.message).toContain('2 now');
    const more = dataError(() => appendEpochLosses(t, [...first, ...records([['d', 0, 1]])]));
    expect(more.code).toBe(ErrorCode.SchemaMismatch);
    expect(more.message).toContain('4 now');
  });

  it('rejects a pass whose row i has another id, naming the row', () => {
    const t = appendEpochLosses(null, first);
    const err = dataError(() =>
      appendEpochLosses(
        t,
        records([
          ['a', 2, 0.5],
          ['c', 1, 0.125],
          ['b', 0, 1.25],
        ]),
      ),
    );
    expect(err.code).toBe(ErrorCode.SchemaMismatch);
    expect(err.location).toEqual({ row: 1 });
    expect(err.message).toContain('row 1');
    expect(err.message).toContain("'b'");
    expect(err.message).toContain("'c'");
  });

  it('rejects an empty pass with EmptyDataset, first or later', () => {
    const err = dataError(() => appendEpochLosses(null, []));
    expect(err.code).toBe(ErrorCode.EmptyDataset);
    const later = dataError(() => appendEpochLosses(appendEpochLosses(null, first), []));
    expect(later.code).toBe(ErrorCode.EmptyDataset);
  });
});
