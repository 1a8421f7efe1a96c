import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect } from 'vitest';
import type { ImageShape } from '../../src/data/imageShape.js';
import type { TrainBatch } from '../../src/train/types.js';
import { mulberry32 } from '../../src/util/random.js';

/**
 * Runs `fn` and fails the test unless the number of live tensors afterwards equals the number before
 * plus `newTensors` (style.md c.7), modelled on tfjs-layers' helper of the same name.
 *
 * <span class="informal">Awaits `fn` when it returns a promise, so whole epochs can be checked. Create
 * models and optimizers before calling it: their weights and state are meant to outlive it.</span>
 *
 * @example
 * ```ts
 * await expectNoLeakedTensors(() => trainEpoch(model, batches$, opts));
 * ```
 * @param fn - the work to check.
 * @param newTensors - tensors `fn` is expected to leave alive (default 0).
 * @returns what `fn` returned.
 */
export async function expectNoLeakedTensors<T>(fn: () => T | Promise<T>, newTensors = 0): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  expect(tf.memory().numTensors - before, 'tensors left alive').toBe(newTensors);
  return result;
}

/**
 * Switches tfjs to its pure-JS `cpu` backend before a test file's tests: the reference backend, and the
 * only one here that computes every gradient until the wasm kernels land. Keep shapes tiny: its
 * convolution gradients are slow.
 *
 * @example
 * ```ts
 * useCpuBackend();
 * ```
 */
export function useCpuBackend(): void {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    await tf.ready();
  });
}

/** What {@link separableBatches} makes. */
export interface SeparableOptions {
  readonly shape: ImageShape;
  readonly numClasses: number;
  readonly batches: number;
  readonly batchSize: number;
  readonly seed: number;
  /** Prefix of the row ids (default `r`): ids are `${prefix}${index}`, index counting across batches. */
  readonly idPrefix?: string;
}

/**
 * A tiny, easily learned dataset: class c is a bright horizontal band in the c-th of K strips of the
 * image on a dark noisy background, and labels cycle 0, 1, …, K−1.
 *
 * @example
 * ```ts
 * const batches = separableBatches({ shape: { height: 8, width: 8, channels: 1 }, numClasses: 3,
 *   batches: 2, batchSize: 12, seed: 1 });
 * ```
 * @param options - shape, classes, batch count and size, seed.
 * @returns the batches, rows numbered across them.
 */
export function separableBatches(options: SeparableOptions): TrainBatch[] {
  const { shape, numClasses, batches, batchSize, seed } = options;
  const prefix = options.idPrefix ?? 'r';
  const rng = mulberry32(seed);
  const { height, width, channels } = shape;
  const size = height * width * channels;
  const out: TrainBatch[] = [];
  for (let b = 0; b < batches; b++) {
    const images = new Uint8Array(batchSize * size);
    const labels = new Int32Array(batchSize);
    const ids: string[] = [];
    for (let i = 0; i < batchSize; i++) {
      const row = b * batchSize + i;
      const label = row % numClasses;
      labels[i] = label;
      ids.push(`${prefix}${row}`);
      const band0 = Math.floor((label * height) / numClasses);
      const band1 = Math.floor(((label + 1) * height) / numClasses);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          for (let c = 0; c < channels; c++) {
            const bright = y >= band0 && y < band1;
            images[i * size + (y * width + x) * channels + c] = bright
              ? 200 + Math.floor(rng() * 56)
              : Math.floor(rng() * 40);
          }
        }
      }
    }
    out.push({ ids, images, labels, shape });
  }
  return out;
}
