import { bufferCount, concatMap, defer, filter, map, type OperatorFunction } from 'rxjs';
import { formatShape, type ImageShape, imageSize, sameShape } from '../../data/imageShape.js';
import { DataError, ErrorCode, UsageError } from '../../errors.js';
import { deriveSeed, mulberry32, type Rng } from '../../util/random.js';
import type { TrainBatch } from '../types.js';
import {
  type Augmentation,
  type AugmentSetting,
  augmentImage,
  checkAugmentSetting,
  drawAugment,
  resolveAugment,
} from './augment.js';
import { shuffleBuffer } from './shuffleBuffer.js';

/** Rows the shuffle buffer holds unless told otherwise: about 8 MB of 28×28 or 31 MB of 32×32×3 images. */
export const DEFAULT_SHUFFLE_BUFFER = 10_000;

/** Options of {@link toTrainBatches}. */
export interface ToTrainBatchesOptions {
  /** Rows per emitted batch (a positive integer). */
  readonly batchSize: number;
  /** Seed of the order and of the augmentation draws; derive one per epoch (see `epochSeed`). */
  readonly seed: number;
  /**
   * Rows in the shuffle buffer: 1 keeps the source order, at least the row count shuffles fully.
   * Defaults to {@link DEFAULT_SHUFFLE_BUFFER}.
   */
  readonly shuffleBuffer?: number | undefined;
  /** Augmentation of the images; defaults to none. See {@link AugmentSetting}. */
  readonly augment?: AugmentSetting | undefined;
  /** Drop the last batch when it has fewer than `batchSize` rows. Defaults to false. */
  readonly dropRemainder?: boolean | undefined;
}

/** One example on its way from a source batch to a train batch. */
interface Row {
  readonly id: string;
  readonly label: number;
  /** A view into the source batch's images, not a copy. */
  readonly pixels: Uint8Array;
}

/**
 * The batching stage: splits decoded example batches into rows, shuffles them through a seeded
 * {@link shuffleBuffer} and re-batches them into {@link TrainBatch}es of `batchSize` rows, augmenting
 * the images on the way.
 *
 * <span class="informal">Row groups come in whatever size the file has; training wants fixed-size,
 * shuffled mini-batches. Every row comes out exactly once.</span>
 *
 * ```text
 * source:          --A-----B-----C|        A = rows a b c, B = rows d e f, C = row g
 * toTrainBatches({batchSize: 2, shuffleBuffer: 3}):
 *                  --------x-----y(zw|)    x, y, z: two rows each, w: the last row
 * ```
 *
 * Rows are views into their source batch's `images` (no copy until they are written into the output
 * batch). Any {@link ExampleBatch} can be given: only `ids`, `images`, `labels` and `shape` are read.
 *
 * Back-pressure: everything happens synchronously inside the source's `next` call (no timers, no
 * promises), and every train batch a row group completes is emitted before that call returns. So the
 * stage holds at most the shuffle buffer plus one incomplete batch, and a pull-based source such as
 * `readDataset` reads its next row group only after the subscriber has handled these batches
 * synchronously. A subscriber that trains asynchronously (`concatMap(async step)`) should pull
 * (`iterateDataset`) or cache the data (`epochSource`) instead, since an Observable cannot be paused.
 *
 * Memory: a row in the shuffle buffer keeps its whole source `images` array alive (that is what a
 * view costs), so with a small buffer a few row groups' pixels may be held at once; never the Arrow
 * record batches, which rows do not reference.
 *
 * @example
 * ```ts
 * readDataset('train.parquet')
 *   .pipe(decodeExamples(), toTrainBatches({ batchSize: 128, seed: epochSeed(seed, epoch), augment: 'auto' }))
 *   .subscribe((b) => trainOn(b));
 * ```
 * @see shuffleBuffer
 * @see epochSource
 * @see augmentImage
 * @param options - batch size, seed, buffer size, augmentation and the remainder policy.
 * @returns an operator; its shuffle buffer, random generators and known shape are per subscription, so
 *   every subscription gives the same batches.
 * @throws UsageError when an option is invalid. Emits a DataError on the error channel when a source
 *   batch has another image shape than the first (MixedImageShapes) or `images`/`labels` lengths that
 *   disagree with its `ids` (BadImage).
 */
export function toTrainBatches(options: ToTrainBatchesOptions): OperatorFunction<TrainBatch, TrainBatch> {
  const { batchSize, seed } = options;
  const bufferSize = options.shuffleBuffer ?? DEFAULT_SHUFFLE_BUFFER;
  const dropRemainder = options.dropRemainder ?? false;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new UsageError(`batch size must be a positive integer, got ${batchSize}`);
  }
  if (!Number.isSafeInteger(seed)) throw new UsageError(`batch seed must be an integer, got ${seed}`);
  if (!Number.isSafeInteger(bufferSize) || bufferSize < 1) {
    throw new UsageError(`shuffle buffer size must be a positive integer, got ${bufferSize}`);
  }
  checkAugmentSetting(options.augment);
  // Separate streams for order and augmentation, so that turning augmentation on or off does not
  // change which rows share a batch.
  const shuffleSeed = deriveSeed(seed, 'shuffle');
  const augmentSeed = deriveSeed(seed, 'augment');

  return (source) =>
    defer(() => {
      let shape: ImageShape | null = null;
      let augmentation: Augmentation | null = null;
      const rng = mulberry32(augmentSeed);
      return source.pipe(
        concatMap((chunk) => {
          if (shape === null) {
            shape = chunk.shape;
            augmentation = resolveAugment(options.augment, shape);
          }
          return splitRows(chunk, shape);
        }),
        shuffleBuffer<Row>({ size: bufferSize, seed: shuffleSeed }),
        bufferCount(batchSize),
        filter((rows) => !dropRemainder || rows.length === batchSize),
        map((rows) => assemble(rows, shape as ImageShape, augmentation, rng)),
      );
    });
}

function splitRows(chunk: TrainBatch, shape: ImageShape): Row[] {
  const n = chunk.ids.length;
  const size = imageSize(shape);
  if (!sameShape(chunk.shape, shape)) {
    throw new DataError(
      ErrorCode.MixedImageShapes,
      `a batch of ${formatShape(chunk.shape)} images follows ${formatShape(shape)} images; all images must have one size`,
    );
  }
  if (chunk.images.length !== n * size || chunk.labels.length !== n) {
    throw new DataError(
      ErrorCode.BadImage,
      `a batch of ${n} ids has ${chunk.images.length} image bytes and ${chunk.labels.length} labels; expected ${n * size} and ${n}`,
    );
  }
  const rows = new Array<Row>(n);
  for (let i = 0; i < n; i++) {
    rows[i] = {
      id: chunk.ids[i] as string,
      label: chunk.labels[i] as number,
      pixels: chunk.images.subarray(i * size, (i + 1) * size),
    };
  }
  return rows;
}

function assemble(
  rows: readonly Row[],
  shape: ImageShape,
  augmentation: Augmentation | null,
  rng: Rng,
): TrainBatch {
  const size = imageSize(shape);
  const images = new Uint8Array(rows.length * size);
  const labels = new Int32Array(rows.length);
  const ids = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Row;
    ids[i] = row.id;
    labels[i] = row.label;
    if (augmentation === null) images.set(row.pixels, i * size);
    else augmentImage(row.pixels, shape, drawAugment(rng, augmentation), images, i * size);
  }
  return { ids, images, labels, shape };
}
