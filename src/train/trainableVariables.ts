import type * as tf from '@tensorflow/tfjs';

/**
 * The model's trainable weights as the `tf.Variable`s gradients are taken with respect to, in
 * `model.trainableWeights` order.
 *
 * @example
 * ```ts
 * const { grads } = tf.variableGrads(() => loss(model), trainableVariables(model));
 * ```
 * @param model - the model.
 * @returns its trainable variables.
 */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  // LayerVariable.read() is typed as a Tensor but is the tf.Variable the layer owns; the gradient
  // functions need it as a Variable.
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}
