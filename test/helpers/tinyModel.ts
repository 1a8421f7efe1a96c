import * as tf from '@tensorflow/tfjs';
import type { ImageShape } from '../../src/data/imageShape.js';
import { MODEL_INPUT_NAME, PIXEL_SCALE } from '../../src/train/models/createModel.js';

/**
 * A tiny dense classifier with the product models' contract (an input named `image` taking 0–255
 * pixels, a rescaling layer, logits out): for tests of stages that take any model, where a
 * convolution's gradient on the pure-JS `cpu` backend would cost seconds per step and test nothing
 * more. Weights are seeded.
 *
 * @param shape - the images' shape.
 * @param numClasses - the logits' width.
 * @param seed - the weights' seed.
 * @returns the model; dispose it.
 */
export function tinyModel(shape: ImageShape, numClasses: number, seed: number): tf.LayersModel {
  const input = tf.input({ name: MODEL_INPUT_NAME, shape: [shape.height, shape.width, shape.channels] });
  let x = tf.layers.rescaling({ scale: PIXEL_SCALE }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .dense({ units: 16, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed }) })
    .apply(x) as tf.SymbolicTensor;
  const logits = tf.layers
    .dense({ units: numClasses, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits });
}
