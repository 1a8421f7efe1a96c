import * as tf from '@tensorflow/tfjs';
import { concatMap, lastValueFrom, type OperatorFunction, of, toArray } from 'rxjs';
import { imageSize } from '../data/imageShape.js';
import { UsageError } from '../errors.js';
import { perExampleCrossEntropy } from './losses.js';
import { batchToTensors } from './trainStep.js';
import type { LossRecord, TrainBatch } from './types.js';

/** Options of {@link scoreLosses}. */
export interface ScoreLossesOptions {
  /**
   * Most rows run through the model at once (default 256): larger incoming batches are split, so
   * memory stays bounded whatever batch size the reader uses. Results do not depend on it (inference
   * mode has no batch statistics).
   */
  readonly batchSize?: number;
}

/** Default rows per forward pass when scoring. */
export const DEFAULT_SCORE_BATCH_SIZE = 256;

/**
 * Scores every row under the current model: one {@link LossRecord} (id, label, cross-entropy loss,
 * predicted class and its softmax probability) per row, in input order.
 *
 * <span class="informal">Inference mode: batch norm uses its running averages and dropout is off, and
 * no augmentation is applied, so a row's loss does not depend on its batch-mates — what ABL's
 * isolation ranks rows by. Each batch is scored synchronously before the next is read (the same
 * back-pressure as training).</span>
 *
 * ```text
 * batches: --[a,b]----[c]--|
 * records: --a-b------c----|
 * ```
 *
 * @example
 * ```ts
 * const records = await lastValueFrom(batches$.pipe(scoreLosses(model), toArray()));
 * ```
 * @see accuracy
 * @param model - the model to score with; it is not changed.
 * @param options - rows per forward pass.
 * @returns the operator.
 * @throws UsageError (at once) for a batch size that is not a positive integer; DataError in the stream
 *   for a batch that does not fit the model (shape, labels).
 */
export function scoreLosses(
  model: tf.LayersModel,
  options: ScoreLossesOptions = {},
): OperatorFunction<TrainBatch, LossRecord> {
  const batchSize = options.batchSize ?? DEFAULT_SCORE_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UsageError(`the scoring batch size must be a positive integer, got ${batchSize}`);
  }
  return concatMap((batch) => {
    const records: LossRecord[] = [];
    for (let start = 0; start < batch.ids.length; start += batchSize) {
      scoreChunk(model, slice(batch, start, start + batchSize), records);
    }
    return records;
  });
}

/**
 * Scores the rows of one in-memory batch: {@link scoreLosses} over it, collected.
 *
 * @example
 * ```ts
 * const records = await scoreBatch(model, heldOutRows);
 * const accuracy = records.filter((r) => r.predicted === r.label).length / records.length;
 * ```
 * @param model - the model to score with.
 * @param batch - the rows.
 * @returns one record per row, in order.
 */
export function scoreBatch(model: tf.LayersModel, batch: TrainBatch): Promise<LossRecord[]> {
  return lastValueFrom(of(batch).pipe(scoreLosses(model), toArray()));
}

function scoreChunk(model: tf.LayersModel, batch: TrainBatch, out: LossRecord[]): void {
  const [losses, predicted, confidence] = tf.tidy(() => {
    const { x, y } = batchToTensors(model, batch);
    const logits = model.apply(x, { training: false }) as tf.Tensor2D;
    const probs = tf.softmax(logits);
    return [
      perExampleCrossEntropy(logits, y).dataSync(),
      tf.argMax(logits, 1).dataSync(),
      tf.max(probs, 1).dataSync(),
    ] as const;
  });
  for (let i = 0; i < batch.ids.length; i++) {
    out.push({
      id: batch.ids[i] as string,
      label: batch.labels[i] as number,
      loss: losses[i] as number,
      predicted: predicted[i] as number,
      confidence: confidence[i] as number,
    });
  }
}

function slice(batch: TrainBatch, start: number, end: number): TrainBatch {
  if (start === 0 && end >= batch.ids.length) return batch;
  const size = imageSize(batch.shape);
  return {
    ids: batch.ids.slice(start, end),
    images: batch.images.subarray(start * size, end * size),
    labels: batch.labels.subarray(start, end),
    shape: batch.shape,
  };
}
