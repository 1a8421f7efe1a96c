import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../errors.js';
import type { TrainBatch } from './types.js';

/**
 * What a training step minimises: a scalar made from the batch's per-example cross-entropies. The
 * batch is passed along so an objective can treat rows differently by id or label (the ABL unlearning
 * stage gives rows to learn a weight of +1 and rows to unlearn −1, ascending and descending in one
 * step).
 *
 * <span class="informal">Called inside the step's gradient tape and `tf.tidy`: build the scalar from
 * `perExample` with tfjs ops (constants made from `batch` are fine) and never dispose `perExample`.</span>
 *
 * @example
 * ```ts
 * const unlearn = (isolated: Set<string>): Objective => (perExample, batch) =>
 *   tf.tidy(() => tf.mean(tf.mul(perExample, batch.ids.map((id) => (isolated.has(id) ? -1 : 1)))));
 * ```
 * @see crossEntropyObjective
 * @see lgaPerExample
 */
export type Objective = (perExample: tf.Tensor1D, batch: TrainBatch) => tf.Scalar;

/**
 * Cross-entropy of each row's logits against its integer label, `−log softmax(z)[y]`, one value per
 * row with no reduction over the batch.
 *
 * <span class="informal">Computed as `−Σ onehot(y) · logSoftmax(z)`: log-softmax subtracts the row's
 * maximum before exponentiating, so large logits cannot overflow, and the one-hot product (rather than
 * a gather) keeps the gradient to ops every backend has (`gather`'s gradient needs
 * `UnsortedSegmentSum`, which the wasm backend lacks).</span>
 *
 * @example
 * ```ts
 * perExampleCrossEntropy(tf.tensor2d([[2, 0, 0]]), tf.tensor1d([0], 'int32')); // [0.2395]
 * ```
 * @see Objective
 * @param logits - `[n, K]` unnormalised scores.
 * @param labels - `[n]` integer labels in 0..K−1 (int32). Labels outside that range give a loss of 0,
 *   so callers check them first.
 * @returns `[n]` losses in nats.
 */
export function perExampleCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const numClasses = logits.shape[1];
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), numClasses);
    return tf.neg(tf.sum<tf.Tensor1D>(tf.mul(oneHot, tf.logSoftmax(logits)), -1));
  });
}

/**
 * Plain training: the mean cross-entropy over the batch.
 *
 * <span class="informal">What ordinary supervised training (and the fine-tuning stage) minimises.</span>
 *
 * @example
 * ```ts
 * trainStep(model, optimizer, batch, crossEntropyObjective);
 * ```
 * @see Objective
 * @param perExample - the batch's per-row losses.
 * @returns their mean.
 */
export const crossEntropyObjective: Objective = (perExample) => tf.mean(perExample);

/**
 * The ABL paper's local gradient ascent, per example: `mean_i sign(ℓ_i − γ) · ℓ_i`. Rows whose loss is
 * above γ are descended, rows already under γ are ascended back to it, so clean rows hover near γ while
 * backdoored rows (learned by a shortcut) fall far below it.
 *
 * <span class="informal">The sign is a constant for the gradient (its derivative is zero), so each row
 * contributes ±∇ℓ_i / n. A row exactly at γ contributes nothing.</span>
 *
 * @example
 * ```ts
 * trainEpoch(model, batches$, { optimizer, objective: lgaPerExample(0.5) });
 * ```
 * @see lgaBatchMean
 * @param gamma - the loss floor γ (the paper uses 0.5), finite and ≥ 0.
 * @returns the objective.
 * @throws UsageError when γ is negative or not finite.
 */
export function lgaPerExample(gamma: number): Objective {
  checkGamma(gamma, 'lgaPerExample');
  return (perExample) =>
    tf.tidy(() => tf.mean(tf.mul(tf.sign(tf.sub(perExample, gamma)), perExample)) as tf.Scalar);
}

/**
 * LGA as the ABL reference code applies it, on the batch mean: `sign(mean ℓ − γ) · mean ℓ`. The whole
 * batch is descended or ascended together.
 *
 * <span class="informal">Same gradient as {@link flooding}; offered so a run can reproduce the
 * reference implementation exactly, and compared against {@link lgaPerExample}.</span>
 *
 * @example
 * ```ts
 * const objective = lgaBatchMean(0.5);
 * ```
 * @see lgaPerExample
 * @param gamma - the loss floor γ, finite and ≥ 0.
 * @returns the objective.
 * @throws UsageError when γ is negative or not finite.
 */
export function lgaBatchMean(gamma: number): Objective {
  checkGamma(gamma, 'lgaBatchMean');
  return (perExample) =>
    tf.tidy(() => {
      const mean = tf.mean(perExample);
      return tf.mul(tf.sign(tf.sub(mean, gamma)), mean) as tf.Scalar;
    });
}

/**
 * Flooding (Ishida et al. 2020), the ABL reference code's default loss mode: `|mean ℓ − γ| + γ`.
 *
 * <span class="informal">Its value never falls below γ and its gradient equals
 * {@link lgaBatchMean}'s.</span>
 *
 * @example
 * ```ts
 * const objective = flooding(0.5);
 * ```
 * @see lgaBatchMean
 * @param gamma - the flood level γ, finite and ≥ 0.
 * @returns the objective.
 * @throws UsageError when γ is negative or not finite.
 */
export function flooding(gamma: number): Objective {
  checkGamma(gamma, 'flooding');
  return (perExample) =>
    tf.tidy(() => tf.add(tf.abs(tf.sub(tf.mean(perExample), gamma)), gamma) as tf.Scalar);
}

function checkGamma(gamma: number, what: string): void {
  if (!(Number.isFinite(gamma) && gamma >= 0)) {
    throw new UsageError(`${what}: γ must be a finite number ≥ 0, got ${gamma}`);
  }
}
