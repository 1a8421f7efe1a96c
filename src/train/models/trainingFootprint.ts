import { totalmem } from 'node:os';
import type { ImageShape } from '../../data/imageShape.js';
import { ErrorCode, UsageError } from '../../errors.js';
import type { Architecture } from './architectures.js';

/**
 * Memory one training row takes per pixel, in bytes: the forward pass's activations tfjs keeps for
 * the backward pass, and their gradients. Measured from the wasm heap after training steps at batch
 * 128 (`npm run bench:memory`): SmallCNN 1,940–2,080 B, ResNet-8 4,850–5,140 B; the WideResNets,
 * with more layers at full resolution, estimated from ResNet-8 by their depth. Rounded up.
 */
const BYTES_PER_PIXEL_ROW: Record<Architecture, number> = {
  'small-cnn': 2_200,
  resnet8: 5_500,
  'wrn-16-1': 9_000,
  'wrn-10-1': 6_000,
};

/**
 * Bytes training may take: the wasm backend's heap is 32-bit (at most 4 GiB, and tfjs needs room
 * besides); native backends get half the machine's memory.
 */
export function trainingMemoryBudget(backend: string): number {
  return backend === 'wasm' || backend === 'cpu' ? 3 * 2 ** 30 : totalmem() / 2;
}

/** What training a model takes, before it is built. */
export interface TrainingFootprint {
  readonly parameters: number;
  /** Weights, gradients and optimizer state, plus one batch's activations. */
  readonly bytes: number;
}

/**
 * Estimates what training an architecture on images of a shape takes, without building it: its
 * parameter count (SmallCNN's dense layer grows with the image; the ResNets pool globally) and the
 * memory of weights, gradients, optimizer state and one batch's activations.
 *
 * @example
 * ```ts
 * trainingFootprint('small-cnn', { height: 28, width: 28, channels: 1 }, 10, 64); // ~0.4M parameters
 * ```
 * @param architecture - the model.
 * @param shape - the images' shape.
 * @param numClasses - the classes.
 * @param batchSize - rows per step.
 * @returns parameters and bytes.
 */
export function trainingFootprint(
  architecture: Architecture,
  shape: ImageShape,
  numClasses: number,
  batchSize: number,
): TrainingFootprint {
  const { height, width, channels } = shape;
  const parameters =
    architecture === 'small-cnn'
      ? 9 * channels * 32 +
        32 +
        9 * 32 * 64 +
        64 +
        Math.floor(height / 4) * Math.floor(width / 4) * 64 * 129 +
        129 * numClasses
      : // The ResNets have 78k–175k weights whatever the image size.
        200_000 + 64 * numClasses;
  const activations = batchSize * height * width * BYTES_PER_PIXEL_ROW[architecture];
  // Weights, their gradients and up to two optimizer moments: four float32 copies.
  return { parameters, bytes: parameters * 16 + activations };
}

/**
 * Refuses, before building anything, images too large for a model to train on this machine: a usage
 * error that says how much it would take and what fits, instead of an out-of-memory crash minutes in.
 *
 * @param architecture - the model.
 * @param shape - the images' shape.
 * @param numClasses - the classes.
 * @param batchSize - rows per step.
 * @param budget - bytes training may take (see {@link trainingMemoryBudget}).
 * @throws UsageError ABL306 naming the need, the budget and the largest batch that fits.
 */
export function checkTrainingFits(
  architecture: Architecture,
  shape: ImageShape,
  numClasses: number,
  batchSize: number,
  budget: number,
): void {
  const need = trainingFootprint(architecture, shape, numClasses, batchSize);
  if (need.bytes <= budget) return;
  const perRow = trainingFootprint(architecture, shape, numClasses, 1).bytes - need.parameters * 16;
  const fits = Math.floor((budget - need.parameters * 16) / perRow);
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  // Another architecture is only advice when it would fit (a ResNet's activations grow with the image too).
  const fitting = (['resnet8', 'wrn-16-1'] as const).filter(
    (other) => other !== architecture && trainingFootprint(other, shape, numClasses, 1).bytes <= budget,
  );
  const advice =
    fits >= 1
      ? `use --batch-size ${fits} or less, or smaller images`
      : fitting.length > 0
        ? `resize the images, or use ${fitting.join(' or ')}`
        : 'resize the images';
  throw new UsageError(
    `images of ${shape.height}×${shape.width}×${shape.channels} are too large to train ${architecture} in batches of ${batchSize}: about ${gib(need.bytes)} (${(need.parameters / 1e6).toFixed(1)}M parameters), more than the ${gib(budget)} available; ${advice}`,
    { code: ErrorCode.ModelTooLarge },
  );
}
