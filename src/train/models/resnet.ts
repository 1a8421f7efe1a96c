import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../../errors.js';
import { apply, batchNorm, conv, logits } from './layers.js';

/** Shape of a ResNet built by {@link resnet}: one entry per stage in each list. */
export interface ResNetOptions {
  /** Number of classes K: the width of the logits layer. */
  readonly numClasses: number;
  /** Seed of every initial weight; each layer draws from `deriveSeed(seed, layerName)`. */
  readonly seed: number;
  /** Output channels of each stage (default 16/32/64). */
  readonly widths?: readonly number[];
  /** Residual blocks in each stage (default 1/1/1). */
  readonly blocks?: readonly number[];
  /** Stride of each stage's first block (default 1/2/2). */
  readonly strides?: readonly number[];
  /** Channels of the stem convolution (default 16). */
  readonly stemWidth?: number;
}

/** "ResNet-8": 3 stages of 1 basic block, widths 16/32/64, strides 1/2/2 (1 stem + 6 block convs + 1 dense). */
export const RESNET8: Required<Omit<ResNetOptions, 'numClasses' | 'seed'>> = {
  widths: [16, 32, 64],
  blocks: [1, 1, 1],
  strides: [1, 2, 2],
  stemWidth: 16,
};

/**
 * A ResNet with batch norm: stem conv3×3 + BN + ReLU, then stages of basic residual blocks
 * (conv-BN-ReLU-conv-BN plus a shortcut, a 1×1 conv + BN where the shape changes, then ReLU), then
 * global average pooling and a dense logits layer. The defaults are "ResNet-8" ({@link RESNET8}).
 *
 * <span class="informal">Convolutions carry no bias (the BN after each has one) and pad "same", so
 * any input size works; strided stages halve the size, rounding up. Kernels start He-normal, the
 * logits Glorot-uniform, each layer seeded separately.</span>
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [32, 32, 3] });
 * const model = tf.model({ inputs: x, outputs: resnet(x, { numClasses: 10, seed: 1 }) });
 * ```
 * @see createModel
 * @param input - the (already rescaled) image tensor, `[batch, H, W, C]`.
 * @param options - class count, seed and the stage layout.
 * @returns the logits, `[batch, K]`.
 * @throws UsageError when the stage lists differ in length or hold non-positive integers.
 */
export function resnet(input: tf.SymbolicTensor, options: ResNetOptions): tf.SymbolicTensor {
  const { numClasses, seed } = options;
  const widths = options.widths ?? RESNET8.widths;
  const blocks = options.blocks ?? RESNET8.blocks;
  const strides = options.strides ?? RESNET8.strides;
  const stemWidth = options.stemWidth ?? RESNET8.stemWidth;
  checkLayout(widths, blocks, strides, stemWidth);

  let x = apply(conv(seed, 'stem_conv', stemWidth, 3, 1), input);
  x = apply(batchNorm('stem_bn'), x);
  x = apply(tf.layers.reLU({ name: 'stem_relu' }), x);
  let channels = stemWidth;
  widths.forEach((width, s) => {
    for (let b = 0; b < (blocks[s] ?? 0); b++) {
      const stride = b === 0 ? (strides[s] ?? 1) : 1;
      x = basicBlock(x, `stage${s + 1}_block${b + 1}`, channels, width, stride, seed);
      channels = width;
    }
  });
  x = apply(tf.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
  return logits(x, numClasses, seed);
}

function basicBlock(
  input: tf.SymbolicTensor,
  name: string,
  inChannels: number,
  outChannels: number,
  stride: number,
  seed: number,
): tf.SymbolicTensor {
  let x = apply(conv(seed, `${name}_conv1`, outChannels, 3, stride), input);
  x = apply(batchNorm(`${name}_bn1`), x);
  x = apply(tf.layers.reLU({ name: `${name}_relu1` }), x);
  x = apply(conv(seed, `${name}_conv2`, outChannels, 3, 1), x);
  x = apply(batchNorm(`${name}_bn2`), x);
  let shortcut = input;
  if (stride !== 1 || inChannels !== outChannels) {
    shortcut = apply(conv(seed, `${name}_shortcut_conv`, outChannels, 1, stride), input);
    shortcut = apply(batchNorm(`${name}_shortcut_bn`), shortcut);
  }
  const sum = tf.layers.add({ name: `${name}_add` }).apply([x, shortcut]) as tf.SymbolicTensor;
  return apply(tf.layers.reLU({ name: `${name}_relu2` }), sum);
}

function checkLayout(
  widths: readonly number[],
  blocks: readonly number[],
  strides: readonly number[],
  stemWidth: number,
): void {
  if (widths.length === 0 || widths.length !== blocks.length || widths.length !== strides.length) {
    throw new UsageError(
      `resnet: widths, blocks and strides need one entry per stage, got ${widths.length}/${blocks.length}/${strides.length}`,
    );
  }
  const all = [...widths, ...blocks, ...strides, stemWidth];
  if (all.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new UsageError(`resnet: widths, blocks, strides and stemWidth must be positive integers`);
  }
}

export { TORCH_BATCH_NORM } from './layers.js';
