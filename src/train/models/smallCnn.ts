import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../../util/random.js';
import { apply, logits } from './layers.js';

/** What {@link smallCnn} needs besides its input. */
export interface SmallCnnOptions {
  /** Number of classes K: the width of the logits layer. */
  readonly numClasses: number;
  /** Seed of every initial weight; each layer draws from `deriveSeed(seed, layerName)`. */
  readonly seed: number;
}

/** Smallest height or width SmallCNN accepts: two 2×2 poolings must leave at least one pixel. */
export const SMALL_CNN_MIN_SIDE = 4;

/**
 * The benchmark's "SmallCNN": conv32 3×3 ReLU → max-pool 2 → conv64 3×3 ReLU → max-pool 2 → flatten →
 * dense128 ReLU → dense K (logits), built on a symbolic input of any image size.
 *
 * <span class="informal">The convolutions pad "same", so any input of at least 4×4 pixels works (28×28
 * gives a 7×7×64 feature map, 32×32 an 8×8×64 one) and the tiny 8×8 images of the unit tests too.
 * Kernels start from He-normal draws (ReLU layers) and Glorot-uniform for the logits, biases at zero,
 * each layer seeded separately.</span>
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [28, 28, 1] });
 * const logits = smallCnn(x, { numClasses: 10, seed: 1 });
 * const model = tf.model({ inputs: x, outputs: logits });
 * ```
 * @see createModel
 * @param input - the (already rescaled) image tensor, `[batch, H, W, C]`.
 * @param options - class count and seed.
 * @returns the logits, `[batch, K]`.
 */
export function smallCnn(input: tf.SymbolicTensor, options: SmallCnnOptions): tf.SymbolicTensor {
  const { numClasses, seed } = options;
  let x = input;
  x = apply(conv(seed, 'conv1', 32), x);
  x = apply(tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2, strides: 2 }), x);
  x = apply(conv(seed, 'conv2', 64), x);
  x = apply(tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2, strides: 2 }), x);
  x = apply(tf.layers.flatten({ name: 'flatten' }), x);
  x = apply(
    tf.layers.dense({
      name: 'fc1',
      units: 128,
      activation: 'relu',
      kernelInitializer: tf.initializers.heNormal({ seed: deriveSeed(seed, 'fc1') }),
    }),
    x,
  );
  return logits(x, numClasses, seed);
}

function conv(seed: number, name: string, filters: number): tf.layers.Layer {
  return tf.layers.conv2d({
    name,
    filters,
    kernelSize: 3,
    padding: 'same',
    activation: 'relu',
    kernelInitializer: tf.initializers.heNormal({ seed: deriveSeed(seed, name) }),
  });
}
