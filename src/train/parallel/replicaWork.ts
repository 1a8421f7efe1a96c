import * as tf from '@tensorflow/tfjs';
import { inferenceOutputs } from '../inferenceOutputs.js';
import { perExampleCrossEntropy } from '../losses.js';
import { trainableVariables } from '../trainableVariables.js';
import type { BatchNormReduction } from '../trainingBatchNorm.js';
import { Control, type ReplicaChannel } from './replicaChannel.js';

/*
 * The parts of a data-parallel command that every replica runs the same way, replica 0 (the calling
 * thread) and the workers alike. Replica 0 alone adds the objective between the forward and backward
 * passes (see dataParallel.ts).
 */

/** Floats in a list of weights. */
export function sizeOf(weights: readonly { readonly shape: readonly (number | null)[] }[]): number {
  return weights.reduce((n, w) => n + w.shape.reduce<number>((a, d) => a * (d ?? 0), 1), 0);
}

/** Copies every weight of `model` (trainable and not, in `model.weights` order) into `target`. */
export function writeWeights(model: tf.LayersModel, target: Float32Array): void {
  let offset = 0;
  for (const weight of model.weights) {
    const values = weight.read().dataSync<'float32'>();
    target.set(values, offset);
    offset += values.length;
  }
}

/** Sets every weight of `model` from `source`, laid out as {@link writeWeights} writes it. */
export function readWeights(model: tf.LayersModel, source: Float32Array): void {
  let offset = 0;
  for (const weight of model.weights) {
    const size = sizeOf([weight]);
    // A copy: the cpu backend keeps the array it is given, and this one is shared memory that the next
    // command overwrites.
    const values = tf.tensor(source.slice(offset, offset + size), weight.shape as number[], 'float32');
    weight.write(values);
    values.dispose();
    offset += size;
  }
}

/**
 * Rows `[start, end)` of a batch's pixels and labels (the shared row buffers', or the batch's own on
 * the calling thread) as model inputs; call inside `tf.tidy`.
 */
export function shardTensors(
  rows: { readonly images: Uint8Array; readonly labels: Int32Array },
  start: number,
  end: number,
  imageShape: readonly [number, number, number],
): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const size = imageShape[0] * imageShape[1] * imageShape[2];
  const pixels = new Float32Array(rows.images.subarray(start * size, end * size));
  return {
    x: tf.tensor4d(pixels, [end - start, ...imageShape], 'float32'),
    y: tf.tensor1d(rows.labels.slice(start, end), 'int32'),
  };
}

/**
 * A worker's part of a training step, between the weights arriving and its gradient being handed back.
 *
 * <span class="informal">Forward in training mode (batch norm synchronised over replicas); publish the
 * shard's per-example losses; wait while replica 0 evaluates the objective on the whole batch; take
 * its ∂objective/∂loss for this shard's rows as the upstream gradient of the losses; backward; write
 * the gradient of every trainable weight to this replica's slot. Barriers: losses published (1),
 * upstream written (2), gradients written (3).</span>
 */
export function trainShard(
  model: tf.LayersModel,
  channel: ReplicaChannel,
  reduction: BatchNormReduction,
  imageShape: readonly [number, number, number],
): void {
  const [start, end] = channel.shard();
  const rows = channel.rows;
  const variables = trainableVariables(model);
  reduction.rows = Atomics.load(channel.control, Control.Rows);
  reduction.reducer = channel;
  try {
    tf.tidy(() => {
      const { x, y } = shardTensors(rows, start, end, imageShape);
      const { grads } = tf.variableGrads(() => {
        const losses = perExampleCrossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, y);
        rows.losses.set(losses.dataSync(), start);
        channel.barrier();
        channel.barrier();
        return tf.sum(tf.mul(losses, tf.tensor1d(rows.upstream.slice(start, end))));
      }, variables);
      const slot = channel.gradientSlot(channel.index);
      let offset = 0;
      for (const variable of variables) {
        const grad = grads[variable.name];
        if (grad === undefined) slot.fill(0, offset, offset + variable.size);
        else slot.set(grad.dataSync(), offset);
        offset += variable.size;
      }
    });
  } finally {
    reduction.reducer = null;
  }
  channel.barrier();
}

/** A worker's part of scoring: inference on its shard, results written to the shared rows. */
export function scoreShard(
  model: tf.LayersModel,
  channel: ReplicaChannel,
  imageShape: readonly [number, number, number],
): void {
  const [start, end] = channel.shard();
  const rows = channel.rows;
  const out = tf.tidy(() => {
    const { x, y } = shardTensors(rows, start, end, imageShape);
    return inferenceOutputs(model, x, y);
  });
  rows.losses.set(out.losses, start);
  rows.predicted.set(out.predicted, start);
  rows.confidence.set(out.confidence, start);
  channel.barrier();
}
