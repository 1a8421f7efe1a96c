import { formatShape, imageSize, sameShape } from '../../data/imageShape.js';
import { UsageError } from '../../errors.js';
import type { TrainBatch } from '../types.js';

/**
 * The rows of a batch that `keep` accepts, as a new batch (copied pixels and labels); the batch
 * itself when every row is kept.
 *
 * @example
 * ```ts
 * const clean = selectRows(batch, (id) => !isolated.has(id));
 * ```
 * @param batch - the rows to choose from (not changed).
 * @param keep - decides each row by id and index.
 * @returns the kept rows, in order.
 */
export function selectRows(batch: TrainBatch, keep: (id: string, row: number) => boolean): TrainBatch {
  const rows: number[] = [];
  batch.ids.forEach((id, i) => {
    if (keep(id, i)) rows.push(i);
  });
  if (rows.length === batch.ids.length) return batch;
  const size = imageSize(batch.shape);
  const images = new Uint8Array(rows.length * size);
  rows.forEach((row, i) => {
    images.set(batch.images.subarray(row * size, (row + 1) * size), i * size);
  });
  return {
    ids: rows.map((row) => batch.ids[row] as string),
    images,
    labels: Int32Array.from(rows, (row) => batch.labels[row] as number),
    shape: batch.shape,
  };
}

/**
 * Several batches of the same image shape as one.
 *
 * @param batches - at least one batch; all of one shape.
 * @returns their rows in order (the only batch itself when given one).
 * @throws UsageError when there is no batch or the shapes differ.
 */
export function concatBatches(batches: readonly TrainBatch[]): TrainBatch {
  const first = batches[0];
  if (!first) throw new UsageError('concatBatches needs at least one batch');
  if (batches.length === 1) return first;
  const size = imageSize(first.shape);
  let rows = 0;
  for (const b of batches) {
    if (!sameShape(b.shape, first.shape)) {
      throw new UsageError(
        `cannot join batches of shapes ${formatShape(first.shape)} and ${formatShape(b.shape)}`,
      );
    }
    rows += b.ids.length;
  }
  const images = new Uint8Array(rows * size);
  const labels = new Int32Array(rows);
  const ids: string[] = [];
  let at = 0;
  for (const b of batches) {
    images.set(b.images.subarray(0, b.ids.length * size), at * size);
    labels.set(b.labels.subarray(0, b.ids.length), at);
    ids.push(...b.ids);
    at += b.ids.length;
  }
  return { ids, images, labels, shape: first.shape };
}
