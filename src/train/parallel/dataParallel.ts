import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { describeError, ErrorCode, TrainError, UsageError } from '../../errors.js';
import { type InferenceOutputs, inferenceOutputs } from '../inferenceOutputs.js';
import { type Objective, perExampleCrossEntropy } from '../losses.js';
import { trainableVariables } from '../trainableVariables.js';
import { type BatchNormReduction, trainingBatchNorm, widestBatchNorm } from '../trainingBatchNorm.js';
import type { BackendName, TrainBatch } from '../types.js';
import { dataParallelSupport } from './dataParallelSupport.js';
import {
  type ChannelBuffers,
  Command,
  Control,
  createChannelBuffers,
  createRowBuffers,
  MAX_REPLICAS,
  ReplicaChannel,
} from './replicaChannel.js';
import { shardTensors, sizeOf, writeWeights } from './replicaWork.js';
import type { ReplicaMessage, ReplicaWorkerData, RowsMessage } from './replicaWorker.js';
import { startWorker } from './startWorker.js';

/** Options of {@link createDataParallel}. */
export interface DataParallelOptions {
  /**
   * Threads to train on, the calling one included; `'auto'` (default) takes every core the process may
   * use (`os.availableParallelism()`), at most 8. 1 trains on the calling thread alone.
   */
  readonly threads?: number | 'auto';
  /**
   * Longest a thread waits for another before giving up with ABL404 (default 10 minutes): only a
   * thread killed by the system (out of memory) goes silent for that long.
   */
  readonly timeoutMs?: number;
  /** Receives one line saying how many threads train, or why only one does. */
  readonly log?: (line: string) => void;
}

/** Batches with fewer rows than this per thread run on the calling thread alone. */
export const MIN_ROWS_PER_THREAD = 8;

/** Threads `'auto'` stops at: each one holds a copy of the model and its own backend. */
const AUTO_THREAD_CAP = 8;

/** The gradients of one training step, as {@link DataParallel.gradients} returns them. */
export interface StepGradients {
  /** The objective on the whole batch, before the update. */
  readonly loss: number;
  /** ∂objective/∂w for every trainable variable that has a gradient, by variable name. */
  readonly grads: tf.NamedTensorMap;
  /** Each row's training-mode cross-entropy, in batch order. */
  readonly perExample: Float32Array;
}

/**
 * Data-parallel training on the CPU: each training step's batch is split across threads (the calling
 * one and `replicas − 1` Node workers, each with its own copy of the model and of the tfjs backend),
 * and their gradients are summed into the one step the batch would have made on one thread.
 *
 * <span class="informal">Made by {@link createDataParallel} and passed to the training and scoring
 * stages as `parallel`; `dispose()` stops the workers. The model's weights stay on the calling thread,
 * which alone runs the optimizer: each step sends the current weights out with the batch and gets
 * gradients back, so nothing else (learning-rate schedules, checkpoints, rollbacks) has to know about
 * the workers. The objective is evaluated once, on the calling thread, over the whole batch's
 * per-example losses, and its derivative with respect to each loss is sent back as the upstream
 * gradient of each shard's backward pass; so any {@link Objective}, batch-level ones included (batch-
 * mean LGA, flooding, the unlearning mix), gives the same step as on one thread. Batch-norm statistics
 * are gathered over the whole batch (`trainingBatchNorm`'s reduction). Results equal one-thread
 * training up to float32 rounding (sums are split differently); with the same thread count they are
 * identical run to run.</span>
 */
export interface DataParallel {
  /** The model it trains: the one passed to {@link createDataParallel}. */
  readonly model: tf.LayersModel;
  /** Threads that compute, the calling one included (1: the calling thread alone). */
  readonly replicas: number;
  /** Why training runs on one thread, when it does. */
  readonly reason: string | null;
  /** Whether a batch of `rows` rows is split across threads (else the caller runs it alone). */
  splits(rows: number): boolean;
  /**
   * The gradients of `objective` over `batch`, computed by all threads; call inside `tf.tidy` (the
   * gradient tensors belong to the caller's scope). The batch must have been validated.
   */
  gradients(batch: TrainBatch, objective: Objective): StepGradients;
  /** Inference over `batch` on all threads: each row's loss, predicted class and confidence. */
  score(batch: TrainBatch): InferenceOutputs;
  /** Stops the worker threads. Idempotent. */
  dispose(): Promise<void>;
}

/**
 * Starts the worker threads of a {@link DataParallel} for `model`.
 *
 * <span class="informal">Each worker loads the backend the calling thread uses (wasm or cpu) and
 * rebuilds the model from its topology, which takes about a second. No workers start, and `replicas`
 * is 1 with `reason` saying why, when one thread is asked for, the backend is tfjs-node (whose
 * libtensorflow already uses every core), or the model has a layer whose training output depends on
 * more than its own row (dropout, custom layers; batch norm is synchronised instead).</span>
 *
 * @example
 * ```ts
 * const parallel = await createDataParallel(model, { threads: 'auto', log: console.error });
 * try {
 *   await trainEpoch(model, batches$, { optimizer, objective, parallel });
 * } finally {
 *   await parallel.dispose();
 * }
 * ```
 * @see DataParallel
 * @param model - the model to train; its batch-norm layers get `trainingBatchNorm`'s training path.
 * @param options - thread count, wait timeout and where the info line goes.
 * @returns the group, ready to train.
 * @throws UsageError for a thread count that is not a whole number from 1 to 64; TrainError (ABL404)
 *   when a worker fails to start.
 */
export async function createDataParallel(
  model: tf.LayersModel,
  options: DataParallelOptions = {},
): Promise<DataParallel> {
  const threads = resolveThreads(options.threads);
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const single = (reason: string | null): DataParallel => {
    if (reason !== null) options.log?.(`threads: 1 (${reason})`);
    return singleThread(model, reason);
  };
  if (threads === 1) return single(null);
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') {
    return single(`the ${backend} backend computes on every core itself`);
  }
  const unsupported = dataParallelSupport(model);
  if (unsupported !== null) return single(unsupported);
  const group = await ReplicaGroup.start(model, threads, backend, timeoutMs);
  options.log?.(
    `threads: ${threads} (data-parallel training: each batch is split across ${threads} threads)`,
  );
  return group;
}

/** The thread count `options.threads` asks for, validated. */
export function resolveThreads(threads: number | 'auto' | undefined): number {
  if (threads === undefined || threads === 'auto') {
    return Math.max(1, Math.min(availableParallelism(), AUTO_THREAD_CAP));
  }
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= MAX_REPLICAS)) {
    throw new UsageError(
      `threads must be a whole number from 1 to ${MAX_REPLICAS} (or auto), got ${threads}`,
    );
  }
  return threads;
}

function singleThread(model: tf.LayersModel, reason: string | null): DataParallel {
  const unused = (): never => {
    throw new UsageError('this DataParallel trains on one thread: check splits() before calling it');
  };
  return {
    model,
    replicas: 1,
    reason,
    splits: () => false,
    gradients: unused,
    score: unused,
    dispose: async () => undefined,
  };
}

class ReplicaGroup implements DataParallel {
  readonly reason = null;
  private readonly channel: ReplicaChannel;
  private readonly reduction: BatchNormReduction;
  private readonly imageShape: readonly [number, number, number];
  private readonly imageBytes: number;
  /**
   * The data of each weight as last sent to the workers (tfjs gives a variable new data on every
   * assignment), or null when their copies may differ from this thread's: scoring passes in a row
   * then send the weights once.
   */
  private sent: readonly object[] | null = null;
  /** Why the group can no longer be used (a failed step, a dead worker, dispose). */
  private broken: string | null = null;
  private disposed: Promise<void> | null = null;

  private constructor(
    readonly model: tf.LayersModel,
    readonly replicas: number,
    private readonly workers: readonly Worker[],
    buffers: ChannelBuffers,
    timeoutMs: number,
  ) {
    this.channel = new ReplicaChannel(buffers, 0, timeoutMs);
    this.imageShape = modelImageShape(model);
    this.imageBytes = buffers.imageSize;
    this.reduction = trainingBatchNorm(model);
    for (const [i, worker] of workers.entries()) {
      worker.on('exit', (code) => {
        this.broken ??= `training thread ${i + 1} exited (code ${code})`;
      });
      // A failure inside a command reaches the calling thread through shared memory; this catches
      // the rest (an exception thrown outside a command) so it is not an uncaught error.
      worker.on('error', (err) => {
        this.broken ??= `training thread ${i + 1} failed: ${describeError(err)}`;
      });
      // Idle workers must not keep a finished process alive (dispose() stops them properly).
      worker.unref();
    }
  }

  static async start(
    model: tf.LayersModel,
    replicas: number,
    backend: BackendName,
    timeoutMs: number,
  ): Promise<ReplicaGroup> {
    const imageShape = modelImageShape(model);
    const buffers = createChannelBuffers({
      replicas,
      weightSize: sizeOf(model.weights),
      gradientSize: sizeOf(model.trainableWeights),
      // Batch norm's backward pass exchanges two sums per channel at once.
      reduceSize: Math.max(1, 2 * widestBatchNorm(model)),
      imageSize: imageShape[0] * imageShape[1] * imageShape[2],
      rows: 512,
    });
    const topology = model.toJSON(null, false) as object;
    const workers: Worker[] = [];
    try {
      for (let index = 1; index < replicas; index++) {
        const data: ReplicaWorkerData = { index, backend, topology, buffers, timeoutMs };
        workers.push(startWorker(new URL('./replicaWorker.js', import.meta.url), data));
      }
      const expected = model.weights.map((w) => w.shape.join('×')).join(', ');
      await Promise.all(
        workers.map(async (worker, i) => {
          const ready = await firstMessage(worker, i + 1);
          const shapes = ready.weightShapes.map((s) => s.join('×')).join(', ');
          if (shapes !== expected) {
            throw new TrainError(
              ErrorCode.ReplicaFailed,
              `training thread ${i + 1} rebuilt the model with other weights (${shapes}; expected ${expected})`,
            );
          }
        }),
      );
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    return new ReplicaGroup(model, replicas, workers, buffers, timeoutMs);
  }

  splits(rows: number): boolean {
    return rows >= this.replicas * MIN_ROWS_PER_THREAD;
  }

  gradients(batch: TrainBatch, objective: Objective): StepGradients {
    const n = batch.ids.length;
    const [end0] = this.dispatch(Command.Train, batch);
    const { channel, reduction } = this;
    const rows = channel.rows;
    const variables = trainableVariables(this.model);
    let loss = Number.NaN;
    let perExample = new Float32Array(0);
    reduction.rows = n;
    reduction.reducer = channel;
    try {
      const { x, y } = shardTensors(batch, 0, end0, this.imageShape);
      const { grads } = tf.variableGrads(() => {
        const losses = perExampleCrossEntropy(this.model.apply(x, { training: true }) as tf.Tensor2D, y);
        rows.losses.set(losses.dataSync(), 0);
        channel.barrier();
        perExample = rows.losses.slice(0, n);
        const upstream = objectiveGradient(objective, perExample, batch);
        loss = upstream.value;
        rows.upstream.set(upstream.grad, 0);
        channel.barrier();
        return tf.sum(tf.mul(losses, tf.tensor1d(upstream.grad.subarray(0, end0))));
      }, variables);
      channel.barrier();
      const summed: tf.NamedTensorMap = {};
      let offset = 0;
      for (const variable of variables) {
        let grad = grads[variable.name];
        // Every thread runs the same graph: a variable without a gradient here has none anywhere, and
        // is left out, as on one thread (no zero update for the optimizer's momentum or decay).
        if (grad !== undefined) {
          for (let r = 1; r < this.replicas; r++) {
            const part = channel.gradientSlot(r).slice(offset, offset + variable.size);
            grad = tf.add(grad, tf.tensor(part, variable.shape, 'float32'));
          }
          summed[variable.name] = grad;
        }
        offset += variable.size;
      }
      return { loss, grads: summed, perExample };
    } catch (err) {
      throw this.fail(err);
    } finally {
      reduction.reducer = null;
    }
  }

  score(batch: TrainBatch): InferenceOutputs {
    const n = batch.ids.length;
    const [end0] = this.dispatch(Command.Score, batch);
    const rows = this.channel.rows;
    try {
      const own = tf.tidy(() => {
        const { x, y } = shardTensors(batch, 0, end0, this.imageShape);
        return inferenceOutputs(this.model, x, y);
      });
      this.channel.barrier();
      const losses = rows.losses.slice(0, n);
      const predicted = rows.predicted.slice(0, n);
      const confidence = rows.confidence.slice(0, n);
      losses.set(own.losses);
      predicted.set(own.predicted);
      confidence.set(own.confidence);
      return { losses, predicted, confidence };
    } catch (err) {
      throw this.fail(err);
    }
  }

  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      this.broken ??= 'the data-parallel group was disposed';
      if (this.channel.failure() === null) {
        Atomics.store(this.channel.control, Control.Command, Command.Stop);
        Atomics.add(this.channel.control, Control.Sequence, 1);
        Atomics.notify(this.channel.control, Control.Sequence);
      }
      await Promise.all(this.workers.map((w) => w.terminate()));
    })();
    return this.disposed;
  }

  /**
   * Hands the workers a command over `batch`: current weights, their shards' rows, the shard
   * boundaries, then wakes them. Returns the end of the calling thread's own shard (it starts at 0).
   */
  private dispatch(command: number, batch: TrainBatch): readonly [number] {
    if (this.broken !== null) {
      throw new TrainError(ErrorCode.ReplicaFailed, `data-parallel training cannot continue: ${this.broken}`);
    }
    const n = batch.ids.length;
    if (!this.splits(n)) {
      throw new UsageError(`a batch of ${n} rows is too small to split across ${this.replicas} threads`);
    }
    this.ensureCapacity(n);
    const { channel } = this;
    const control = channel.control;
    const rows = channel.rows;
    const base = Math.floor(n / this.replicas);
    const extra = n % this.replicas;
    let start = 0;
    for (let r = 0; r < this.replicas; r++) {
      Atomics.store(control, Control.Shards + r, start);
      start += base + (r < extra ? 1 : 0);
    }
    Atomics.store(control, Control.Shards + this.replicas, n);
    const end0 = Atomics.load(control, Control.Shards + 1);
    rows.images.set(
      batch.images.subarray(end0 * this.imageBytes, n * this.imageBytes),
      end0 * this.imageBytes,
    );
    rows.labels.set(batch.labels.subarray(end0, n), end0);
    const current = this.model.weights.map((w) => w.read().dataId);
    const fresh = this.sent === null || current.some((id, i) => id !== this.sent?.[i]);
    if (fresh) writeWeights(this.model, channel.weights);
    // A training step changes the workers' batch-norm averages and this thread's weights: send again.
    this.sent = command === Command.Train ? null : current;
    Atomics.store(control, Control.FreshWeights, fresh ? 1 : 0);
    channel.beginCommand();
    Atomics.store(control, Control.Rows, n);
    Atomics.store(control, Control.Command, command);
    Atomics.add(control, Control.Sequence, 1);
    Atomics.notify(control, Control.Sequence);
    return [end0];
  }

  /** Replaces the row buffers with larger ones and waits until every worker has switched. */
  private ensureCapacity(rows: number): void {
    if (rows <= this.channel.rows.capacity) return;
    const buffers = createRowBuffers(Math.max(rows, 2 * this.channel.rows.capacity), this.imageBytes);
    const control = this.channel.control;
    const before = Atomics.load(control, Control.Acknowledged);
    const message: RowsMessage = { type: 'rows', rows: buffers };
    for (const worker of this.workers) worker.postMessage(message);
    for (let acknowledged = before; acknowledged < before + this.workers.length; ) {
      this.channel.waitWhile(
        Control.Acknowledged,
        acknowledged,
        'the other training threads to take larger buffers',
      );
      acknowledged = Atomics.load(control, Control.Acknowledged);
    }
    this.channel.installRows(buffers);
  }

  /** Records a failed command (the group cannot be used again) and returns the error to throw. */
  private fail(err: unknown): unknown {
    const failure = this.channel.failure();
    if (failure === null) this.channel.abort(`training thread 0: ${describeError(err)}`);
    this.broken ??= `an earlier step failed (${failure?.message ?? describeError(err)})`;
    return err;
  }
}

/**
 * The objective's value on the whole batch's per-example losses and its derivative with respect to
 * each: the upstream gradient every shard's backward pass starts from.
 */
function objectiveGradient(
  objective: Objective,
  perExample: Float32Array,
  batch: TrainBatch,
): { value: number; grad: Float32Array } {
  return tf.tidy(() => {
    const { value, grad } = tf.valueAndGrad((losses: tf.Tensor) => {
      const out = objective(losses as tf.Tensor1D, batch);
      if (!(out instanceof tf.Tensor) || out.rank !== 0) {
        throw new UsageError('the training objective must return a scalar tensor');
      }
      return out;
    })(tf.tensor1d(perExample));
    return { value: value.dataSync()[0] ?? Number.NaN, grad: grad.dataSync<'float32'>().slice() };
  });
}

/** The model's image shape; `dataParallelSupport` has checked that it takes one [batch, H, W, C] input. */
function modelImageShape(model: tf.LayersModel): readonly [number, number, number] {
  const [, h, w, c] = model.inputs[0]?.shape ?? [];
  return [h ?? 0, w ?? 0, c ?? 0];
}

/** Resolves with a replica's 'ready' message; rejects when it fails, exits or says nothing for 2 min. */
function firstMessage(worker: Worker, index: number): Promise<Extract<ReplicaMessage, { type: 'ready' }>> {
  return new Promise((resolve, reject) => {
    const failed = (why: string, cause?: unknown) => {
      clearTimeout(timer);
      reject(
        new TrainError(
          ErrorCode.ReplicaFailed,
          `training thread ${index} failed to start: ${why} (--threads 1 trains on the calling thread alone)`,
          cause === undefined ? undefined : { cause },
        ),
      );
    };
    const timer = setTimeout(() => failed('no answer in 2 minutes'), 120_000);
    worker.once('message', (message: ReplicaMessage) => {
      clearTimeout(timer);
      if (message.type === 'ready') resolve(message);
      else failed(message.message);
    });
    worker.once('error', (err) => failed(describeError(err), err));
    worker.once('exit', (code) => failed(`it exited with code ${code}`));
  });
}
