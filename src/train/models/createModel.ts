import * as tf from '@tensorflow/tfjs';
import { formatShape, type ImageShape } from '../../data/imageShape.js';
import { UsageError } from '../../errors.js';
import { ARCHITECTURES, type Architecture } from './architectures.js';
import { resnet } from './resnet.js';
import { SMALL_CNN_MIN_SIDE, smallCnn } from './smallCnn.js';
import { wideResNet } from './wideResNet.js';

export { ARCHITECTURES, type Architecture } from './architectures.js';

/**
 * The factor the model's first layer multiplies raw pixels by: inputs are 0–255 floats (bytes as
 * stored), and the model sees 0–1. Recorded in saved models' metadata.
 */
export const PIXEL_SCALE = 1 / 255;

/** Name of the model's input layer (and so of its input in a saved model). */
export const MODEL_INPUT_NAME = 'image';

/** What {@link createModel} builds. */
export interface CreateModelOptions {
  readonly architecture: Architecture;
  /** Height × width × channels of the images, HWC as stored. */
  readonly inputShape: ImageShape;
  /** Number of classes K (at least 2): the model outputs K logits. */
  readonly numClasses: number;
  /** Seed of the initial weights: the same seed gives identical weights. */
  readonly seed: number;
}

/**
 * Builds an untrained classifier (tfjs-layers functional API) for images of any shape and any number
 * of classes. It takes raw pixel values (0–255 floats, HWC) and outputs logits, not probabilities.
 *
 * <span class="informal">The first layer is tfjs's built-in `Rescaling` (×1/255), so a saved model
 * loads with plain `tf.loadLayersModel` and no code of ours. Every layer's initial weights come from
 * its own seed, `deriveSeed(seed, layerName)`, so a run repeats exactly.</span>
 *
 * @example
 * ```ts
 * const model = createModel({ architecture: 'wrn-16-1', inputShape: { height: 32, width: 32, channels: 3 },
 *   numClasses: 10, seed: 42 });
 * ```
 * @see smallCnn
 * @see resnet
 * @see wideResNet
 * @param options - architecture, input shape, class count and seed.
 * @returns the model; the caller owns it and must `dispose()` it.
 * @throws UsageError for an unknown architecture (the message lists the valid ones), a bad shape, class
 *   count or seed, or an image too small for the architecture.
 */
export function createModel(options: CreateModelOptions): tf.LayersModel {
  const { architecture, inputShape, numClasses, seed } = options;
  if (!(ARCHITECTURES as readonly string[]).includes(architecture)) {
    throw new UsageError(`unknown architecture '${architecture}'; valid: ${ARCHITECTURES.join(', ')}`);
  }
  const { height, width, channels } = inputShape;
  if (![height, width, channels].every((v) => Number.isInteger(v) && v > 0)) {
    throw new UsageError(`bad model input shape ${formatShape(inputShape)}: expected positive integers`);
  }
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new UsageError(`a classifier needs an integer number of classes ≥ 2, got ${numClasses}`);
  }
  if (!Number.isSafeInteger(seed)) {
    throw new UsageError(`the model seed must be an integer, got ${seed}`);
  }
  if (architecture === 'small-cnn' && Math.min(height, width) < SMALL_CNN_MIN_SIDE) {
    throw new UsageError(
      `small-cnn needs images of at least ${SMALL_CNN_MIN_SIDE}×${SMALL_CNN_MIN_SIDE}, got ${formatShape(inputShape)}`,
    );
  }

  const input = tf.input({ name: MODEL_INPUT_NAME, shape: [height, width, channels], dtype: 'float32' });
  const scaled = tf.layers
    .rescaling({ name: 'rescale', scale: PIXEL_SCALE })
    .apply(input) as tf.SymbolicTensor;
  const body = { numClasses, seed };
  let logits: tf.SymbolicTensor;
  switch (architecture) {
    case 'small-cnn':
      logits = smallCnn(scaled, body);
      break;
    case 'resnet8':
      logits = resnet(scaled, body);
      break;
    case 'wrn-16-1':
      logits = wideResNet(scaled, { ...body, depth: 16, widenFactor: 1 });
      break;
    case 'wrn-10-1':
      logits = wideResNet(scaled, { ...body, depth: 10, widenFactor: 1 });
      break;
  }
  return tf.model({ name: architecture.replace(/-/g, '_'), inputs: input, outputs: logits });
}
