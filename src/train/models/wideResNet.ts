import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../../errors.js';
import { apply, batchNorm, conv, logits } from './layers.js';

/** Shape of a WideResNet built by {@link wideResNet}. */
export interface WideResNetOptions {
  /** Number of classes K: the width of the logits layer. */
  readonly numClasses: number;
  /** Seed of every initial weight; each layer draws from `deriveSeed(seed, layerName)`. */
  readonly seed: number;
  /** Total depth d, with d − 4 a multiple of 6: (d − 4) / 6 blocks per group (default 16: WRN-16). */
  readonly depth?: number;
  /** Widening factor w: groups have 16w, 32w and 64w channels (default 1). */
  readonly widenFactor?: number;
  /**
   * Dropout between a block's two convolutions (default 0: none, as in the ABL reference runs). Its
   * masks are not seeded, so a run with dropout does not repeat exactly.
   */
  readonly dropRate?: number;
}

/**
 * WideResNet-d-w (Zagoruyko & Komodakis), the ABL reference model: stem conv3×3-16, three groups of
 * (d − 4)/6 pre-activation basic blocks with 16w, 32w and 64w channels and strides 1/2/2, then BN,
 * ReLU, global average pooling and dense logits. Defaults give WRN-16-1 (≈175k trainable parameters
 * for 32×32×3 inputs and 10 classes); `depth: 10` gives WRN-10-1.
 *
 * <span class="informal">Each block is BN-ReLU-conv3×3-BN-ReLU-(dropout)-conv3×3 plus a shortcut: the
 * identity when the shape is kept, else a 1×1 conv applied to the pre-activated input, as in the
 * reference code. Convolutions carry no bias and pad "same", so any input size works.</span>
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [32, 32, 3] });
 * const model = tf.model({ inputs: x, outputs: wideResNet(x, { numClasses: 10, seed: 1, depth: 10 }) });
 * ```
 * @see createModel
 * @param input - the (already rescaled) image tensor, `[batch, H, W, C]`.
 * @param options - class count, seed, depth, widening factor and dropout.
 * @returns the logits, `[batch, K]`.
 * @throws UsageError when the depth is not 6n + 4 (n ≥ 1), the widening factor not a positive
 *   integer or the dropout rate outside [0, 1).
 */
export function wideResNet(input: tf.SymbolicTensor, options: WideResNetOptions): tf.SymbolicTensor {
  const { numClasses, seed } = options;
  const depth = options.depth ?? 16;
  const widen = options.widenFactor ?? 1;
  const dropRate = options.dropRate ?? 0;
  if (!Number.isInteger(depth) || depth < 10 || (depth - 4) % 6 !== 0) {
    throw new UsageError(`wide-resnet: depth must be 6n + 4 with n ≥ 1 (10, 16, 22, 28, …), got ${depth}`);
  }
  if (!Number.isInteger(widen) || widen < 1) {
    throw new UsageError(`wide-resnet: the widening factor must be a positive integer, got ${widen}`);
  }
  if (!(dropRate >= 0 && dropRate < 1)) {
    throw new UsageError(`wide-resnet: the dropout rate must be in [0, 1), got ${dropRate}`);
  }
  const perGroup = (depth - 4) / 6;
  const widths = [16 * widen, 32 * widen, 64 * widen];
  const strides = [1, 2, 2];

  let x = apply(conv(seed, 'stem_conv', 16, 3, 1), input);
  let channels = 16;
  widths.forEach((width, g) => {
    for (let b = 0; b < perGroup; b++) {
      const block: Block = {
        name: `group${g + 1}_block${b + 1}`,
        inChannels: channels,
        outChannels: width,
        stride: b === 0 ? (strides[g] ?? 1) : 1,
      };
      x = preActBlock(x, block, seed, dropRate);
      channels = width;
    }
  });
  x = apply(batchNorm('final_bn'), x);
  x = apply(tf.layers.reLU({ name: 'final_relu' }), x);
  x = apply(tf.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
  return logits(x, numClasses, seed);
}

interface Block {
  readonly name: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly stride: number;
}

function preActBlock(
  input: tf.SymbolicTensor,
  block: Block,
  seed: number,
  dropRate: number,
): tf.SymbolicTensor {
  const { name, inChannels, outChannels, stride } = block;
  const keepsShape = inChannels === outChannels && stride === 1;
  let pre = apply(batchNorm(`${name}_bn1`), input);
  pre = apply(tf.layers.reLU({ name: `${name}_relu1` }), pre);
  let x = apply(conv(seed, `${name}_conv1`, outChannels, 3, stride), pre);
  x = apply(batchNorm(`${name}_bn2`), x);
  x = apply(tf.layers.reLU({ name: `${name}_relu2` }), x);
  if (dropRate > 0) {
    // Unseeded on purpose: tfjs's Dropout draws its mask from the layer's seed on every call, so a
    // seeded layer would drop the same units in every step.
    x = apply(tf.layers.dropout({ name: `${name}_dropout`, rate: dropRate }), x);
  }
  x = apply(conv(seed, `${name}_conv2`, outChannels, 3, 1), x);
  // As in the reference WRN: the identity shortcut takes the raw input, while a projection shortcut
  // takes the pre-activated one (BN-ReLU computed once and shared with the main path).
  const shortcut = keepsShape
    ? input
    : apply(conv(seed, `${name}_shortcut_conv`, outChannels, 1, stride), pre);
  return tf.layers.add({ name: `${name}_add` }).apply([x, shortcut]) as tf.SymbolicTensor;
}
