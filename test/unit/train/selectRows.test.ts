import { describe, expect, it } from 'vitest';
import type { ImageShape } from '../../../src/data/imageShape.js';
import { ErrorCode, UsageError } from '../../../src/errors.js';
import { concatBatches, selectRows } from '../../../src/train/batches/selectRows.js';
import type { TrainBatch } from '../../../src/train/types.js';

const SHAPE: ImageShape = { height: 2, width: 1, channels: 2 }; // 4 bytes an image

/** A batch whose row i has id `${prefix}${i}`, label `labels[i]` and pixels all equal to `10·i + k`. */
function batch(labels: number[], prefix = 'r', shape = SHAPE): TrainBatch {
  const size = shape.height * shape.width * shape.channels;
  const images = new Uint8Array(labels.length * size);
  labels.forEach((_, i) => {
    for (let k = 0; k < size; k++) images[i * size + k] = 10 * i + k;
  });
  return { ids: labels.map((_, i) => `${prefix}${i}`), images, labels: Int32Array.from(labels), shape };
}

/** Pixels of row i of a 4-byte-image batch made by {@link batch}. */
const pixels = (i: number) => [10 * i, 10 * i + 1, 10 * i + 2, 10 * i + 3];

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe(ErrorCode.Usage);
    return err as UsageError;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}

describe('selectRows', () => {
  it('keeps the accepted rows in order, with their own pixels and labels', () => {
    const b = batch([5, 6, 7, 8, 9]);
    const out = selectRows(b, (id) => id !== 'r1' && id !== 'r3');
    expect(out).not.toBe(b);
    expect(out.ids).toEqual(['r0', 'r2', 'r4']);
    expect(Array.from(out.labels)).toEqual([5, 7, 9]);
    expect(Array.from(out.images)).toEqual([...pixels(0), ...pixels(2), ...pixels(4)]);
    expect(out.shape).toEqual(SHAPE);
    expect(out.labels).toBeInstanceOf(Int32Array);
    expect(out.images).toBeInstanceOf(Uint8Array);
  });

  it('passes each row\u2019s index to keep', () => {
    const b = batch([0, 1, 2, 3]);
    const seen: [string, number][] = [];
    const out = selectRows(b, (id, row) => {
      seen.push([id, row]);
      return row % 2 === 1;
    });
    expect(seen).toEqual([
      ['r0', 0],
      ['r1', 1],
      ['r2', 2],
      ['r3', 3],
    ]);
    expect(out.ids).toEqual(['r1', 'r3']);
    expect(Array.from(out.images)).toEqual([...pixels(1), ...pixels(3)]);
  });

  it('copies: the new batch does not share memory with the old one, which is unchanged', () => {
    const b = batch([1, 2, 3]);
    const before = Array.from(b.images);
    const out = selectRows(b, (_, row) => row !== 0);
    out.images[0] = 255;
    (out.labels as Int32Array)[0] = 99;
    expect(Array.from(b.images)).toEqual(before);
    expect(Array.from(b.labels)).toEqual([1, 2, 3]);
    expect(b.ids).toEqual(['r0', 'r1', 'r2']);
  });

  it('returns the batch itself when every row is kept', () => {
    const b = batch([1, 2, 3]);
    expect(selectRows(b, () => true)).toBe(b);
  });

  it('returns an empty batch of the same shape when no row is kept', () => {
    const out = selectRows(batch([1, 2, 3]), () => false);
    expect(out.ids).toEqual([]);
    expect(out.images.length).toBe(0);
    expect(out.labels.length).toBe(0);
    expect(out.shape).toEqual(SHAPE);
  });

  it('ignores pixels past the last row (an over-long buffer)', () => {
    const b = batch([1, 2]);
    const padded: TrainBatch = { ...b, images: Uint8Array.from([...b.images, 77, 77, 77, 77]) };
    const out = selectRows(padded, (_, row) => row === 1);
    expect(Array.from(out.images)).toEqual(pixels(1));
  });
});

describe('concatBatches', () => {
  it('joins batches in order: ids, labels and pixels', () => {
    const a = batch([1, 2], 'a');
    const b = batch([3], 'b');
    const c = batch([4, 5, 6], 'c');
    const out = concatBatches([a, b, c]);
    expect(out.ids).toEqual(['a0', 'a1', 'b0', 'c0', 'c1', 'c2']);
    expect(Array.from(out.labels)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(out.images)).toEqual([
      ...pixels(0),
      ...pixels(1),
      ...pixels(0),
      ...pixels(0),
      ...pixels(1),
      ...pixels(2),
    ]);
    expect(out.shape).toEqual(SHAPE);
    expect(out.images.length).toBe(6 * 4);
  });

  it('returns a single batch as is', () => {
    const a = batch([1, 2]);
    expect(concatBatches([a])).toBe(a);
  });

  it('handles empty batches among others', () => {
    const empty = selectRows(batch([1]), () => false);
    const out = concatBatches([empty, batch([7], 'x'), empty]);
    expect(out.ids).toEqual(['x0']);
    expect(Array.from(out.labels)).toEqual([7]);
    expect(Array.from(out.images)).toEqual(pixels(0));
  });

  it('reads only each batch\u2019s own rows from over-long buffers', () => {
    const a = batch([1]);
    const paddedA: TrainBatch = { ...a, images: Uint8Array.from([...a.images, 99, 99, 99, 99]) };
    const paddedLabels: TrainBatch = { ...batch([2], 'b'), labels: Int32Array.from([2, 42]) };
    const out = concatBatches([paddedA, paddedLabels]);
    expect(out.ids).toEqual(['r0', 'b0']);
    expect(Array.from(out.labels)).toEqual([1, 2]);
    expect(Array.from(out.images)).toEqual([...pixels(0), ...pixels(0)]);
  });

  it('rejects batches of different shapes, naming both', () => {
    const other: ImageShape = { height: 1, width: 2, channels: 2 }; // same byte count, other shape
    const err = usageError(() => concatBatches([batch([1]), batch([2], 'b', other)]));
    expect(err.message).toContain('2x1x2');
    expect(err.message).toContain('1x2x2');
  });

  it('rejects an empty list', () => {
    const err = usageError(() => concatBatches([]));
    expect(err.message).toMatch(/at least one batch/);
  });
});
