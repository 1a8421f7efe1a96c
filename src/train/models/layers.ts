import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../../util/random.js';

/** Building blocks shared by the models. */

/**
 * Batch-norm settings of PyTorch's defaults (running-average momentum 0.1, ε = 1e-5), which the
 * reference ABL models use; tfjs's own defaults (0.99, 1e-3) would make BN statistics lag and differ.
 */
export const TORCH_BATCH_NORM = { momentum: 0.9, epsilon: 1e-5 } as const;

/** A bias-free 'same'-padded convolution with a He-normal kernel seeded from the run's seed and the layer name. */
export function conv(
  seed: number,
  name: string,
  filters: number,
  kernelSize: number,
  strides: number,
): tf.layers.Layer {
  return tf.layers.conv2d({
    name,
    filters,
    kernelSize,
    strides,
    padding: 'same',
    useBias: false,
    kernelInitializer: tf.initializers.heNormal({ seed: deriveSeed(seed, name) }),
  });
}

/** Batch normalisation over channels with PyTorch's defaults. */
export function batchNorm(name: string): tf.layers.Layer {
  return tf.layers.batchNormalization({ name, axis: -1, ...TORCH_BATCH_NORM });
}

/** Applies a layer to one symbolic tensor. */
export function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor): tf.SymbolicTensor {
  // A layer applied to one symbolic tensor returns one; the union type only covers list inputs.
  return layer.apply(x) as tf.SymbolicTensor;
}

/** The classifier: a dense layer of K logits, Glorot-uniform, seeded like every other layer. */
export function logits(x: tf.SymbolicTensor, numClasses: number, seed: number): tf.SymbolicTensor {
  return apply(
    tf.layers.dense({
      name: 'logits',
      units: numClasses,
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, 'logits') }),
    }),
    x,
  );
}
