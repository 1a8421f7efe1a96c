import * as tf from '@tensorflow/tfjs';
import { perExampleCrossEntropy } from './losses.js';

/**
 * Per-row results of an inference pass: what the scoring stage turns into `LossRecord`s. (A type
 * alias, not an interface, so that `tf.tidy` accepts it as a return value.)
 */
export type InferenceOutputs = {
  /** Cross-entropy of each row against its label. */
  readonly losses: Float32Array;
  /** The class with the highest logit. */
  readonly predicted: Int32Array;
  /** Softmax probability of that class. */
  readonly confidence: Float32Array;
};

/**
 * Runs the model in inference mode (batch norm on its running averages, no dropout) and reads back
 * each row's loss, predicted class and confidence; frees every tensor it made.
 *
 * <span class="informal">The one place the scoring stage and its data-parallel replicas compute these,
 * so both give the same numbers.</span>
 *
 * @example
 * ```ts
 * const { losses } = inferenceOutputs(model, x, y);
 * ```
 * @param model - the model; not changed.
 * @param x - `[n, H, W, C]` float32 pixels 0–255.
 * @param y - `[n]` int32 labels within the model's classes.
 * @returns three arrays of n values.
 */
export function inferenceOutputs(model: tf.LayersModel, x: tf.Tensor4D, y: tf.Tensor1D): InferenceOutputs {
  return tf.tidy(() => {
    const logits = model.apply(x, { training: false }) as tf.Tensor2D;
    return {
      losses: perExampleCrossEntropy(logits, y).dataSync<'float32'>(),
      predicted: tf.argMax(logits, 1).dataSync<'int32'>() as Int32Array,
      confidence: tf.max(tf.softmax(logits), 1).dataSync<'float32'>(),
    };
  });
}
