import * as tf from '@tensorflow/tfjs';
import type { ReplicaChannel } from './replicaChannel.js';

/**
 * What the synced batch-norm layers of one replica read while a data-parallel training step runs.
 * Outside a step (`channel` null) they behave exactly as tfjs's own layer.
 */
export interface BatchNormSync {
  /** The replica's channel during a training step; null otherwise. */
  channel: ReplicaChannel | null;
  /** Rows in the whole batch, over all replicas. */
  rows: number;
}

/** The weights of a batch-norm layer, found by their Keras names. */
interface BatchNormWeights {
  readonly gamma: tf.LayerVariable | undefined;
  readonly beta: tf.LayerVariable | undefined;
  readonly movingMean: tf.LayerVariable;
  readonly movingVariance: tf.LayerVariable;
}

type LayerCall = (
  inputs: tf.Tensor | tf.Tensor[],
  kwargs: Record<string, unknown>,
) => tf.Tensor | tf.Tensor[];

/**
 * Makes the model's batch-norm layers normalise a data-parallel training step with the statistics of
 * the whole batch rather than of each replica's shard (synchronised batch norm).
 *
 * <span class="informal">tfjs-layers' `BatchNormalization` computes the mean and variance of whatever
 * rows it is called on, with no hook to combine them across threads, so each layer instance gets a
 * `call` of its own that, while `sync.channel` is set and the layer is training, computes the same
 * `moments` → `batchNorm` → moving-average update as tfjs's, with the two per-channel sums
 * (Σx, then Σ(x − mean)²) summed over replicas by a differentiable all-reduce. Its gradient is the
 * all-reduce of the incoming gradient, which makes each replica's backward pass include the other
 * shards' terms: the step equals one over the whole batch up to float rounding, where per-shard
 * statistics ("ghost" batch norm, PyTorch DDP's default) would change the results with the thread
 * count. Every replica computes bit-identical statistics, so their moving averages agree too. Inference
 * and training outside a data-parallel step go to tfjs's own `call`. The instance property is removed
 * by the returned function, restoring the class's method.</span>
 *
 * @example
 * ```ts
 * const sync: BatchNormSync = { channel: null, rows: 0 };
 * const restore = installSyncBatchNorm(model, sync);
 * ```
 * @param model - a model whose batch-norm layers normalise the last axis (checked by
 *   `dataParallelSupport`).
 * @param sync - the state the layers read; the caller sets `channel` and `rows` around each step.
 * @returns a function that puts tfjs's own `call` back on every layer.
 */
export function installSyncBatchNorm(model: tf.LayersModel, sync: BatchNormSync): () => void {
  const patched: tf.layers.Layer[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const own = layer.call.bind(layer) as LayerCall;
    const weights = batchNormWeights(layer);
    const config = layer.getConfig();
    const epsilon = Number(config.epsilon);
    const momentum = Number(config.momentum);
    const synced: LayerCall = (inputs, kwargs) => {
      const channel = sync.channel;
      if (channel === null || kwargs.training !== true) return own(inputs, kwargs);
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (x === undefined) return own(inputs, kwargs);
      return syncedBatchNorm(x, weights, { channel, rows: sync.rows, epsilon, momentum });
    };
    Object.defineProperty(layer, 'call', { value: synced, configurable: true, writable: true });
    patched.push(layer);
  }
  return () => {
    for (const layer of patched) delete (layer as unknown as { call?: LayerCall }).call;
  };
}

/** Largest channel count of the model's batch-norm layers (0 without any): the all-reduce's size. */
export function widestBatchNorm(model: tf.LayersModel): number {
  let widest = 0;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const mean = batchNormWeights(layer).movingMean;
    widest = Math.max(widest, mean.shape[0] ?? 0);
  }
  return widest;
}

function batchNormWeights(layer: tf.layers.Layer): BatchNormWeights {
  const find = (name: string) => layer.weights.find((w) => w.originalName.endsWith(`/${name}`));
  const movingMean = find('moving_mean');
  const movingVariance = find('moving_variance');
  if (movingMean === undefined || movingVariance === undefined) {
    throw new Error(`batch-norm layer '${layer.name}' has no moving statistics (is it built?)`);
  }
  return { gamma: find('gamma'), beta: find('beta'), movingMean, movingVariance };
}

interface SyncedArgs {
  readonly channel: ReplicaChannel;
  readonly rows: number;
  readonly epsilon: number;
  readonly momentum: number;
}

function syncedBatchNorm(x: tf.Tensor, weights: BatchNormWeights, args: SyncedArgs): tf.Tensor {
  const allReduce = differentiableAllReduce(args.channel);
  return tf.tidy(() => {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    // Values per channel over the whole batch: rows × the spatial size of this layer's input.
    const count = x.shape.slice(1, -1).reduce((n, d) => n * d, args.rows);
    const mean = tf.div(allReduce(tf.sum(x, axes)), count);
    const variance = tf.div(allReduce(tf.sum(tf.square(tf.sub(x, mean)), axes)), count);
    const normed = tf.batchNorm(x, mean, variance, weights.beta?.read(), weights.gamma?.read(), args.epsilon);
    // tfjs-layers' update, term for term: moving ← moving − (moving − batch)·(1 − momentum).
    const decay = 1 - args.momentum;
    for (const [variable, value] of [
      [weights.movingMean, mean],
      [weights.movingVariance, variance],
    ] as const) {
      tf.tidy(() => {
        const current = variable.read();
        variable.write(tf.sub(current, tf.mul(tf.sub(current, value), decay)));
      });
    }
    return normed;
  });
}

/**
 * `x ↦ Σ_replicas x` as a tfjs op whose gradient is again the all-reduce: each replica's output feeds
 * every replica's loss, so the gradient reaching a replica's input is the sum of all replicas' output
 * gradients.
 */
function differentiableAllReduce(channel: ReplicaChannel): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...inputs) => {
    const x = inputs[0] as tf.Tensor;
    return {
      value: tf.tensor(channel.allReduce(x.dataSync<'float32'>()), x.shape),
      gradFunc: (dy: tf.Tensor) => tf.tensor(channel.allReduce(dy.dataSync<'float32'>()), dy.shape),
    };
  });
}
