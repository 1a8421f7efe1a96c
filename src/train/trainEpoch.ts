import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type * as tf from '@tensorflow/tfjs';
import { lastValueFrom, map, type Observable, type OperatorFunction, reduce } from 'rxjs';
import { DataError, ErrorCode, UsageError } from '../errors.js';
import type { Objective } from './losses.js';
import type { TrainOptimizer } from './optim.js';
import { type StepResult, type TrainStepOptions, trainStep } from './trainStep.js';
import type { TrainBatch } from './types.js';

/** What {@link trainBatches} trains with. */
export interface TrainBatchesOptions extends TrainStepOptions {
  readonly model: tf.LayersModel;
  readonly optimizer: TrainOptimizer;
  readonly objective: Objective;
}

/**
 * Trains on each batch as it arrives: one synchronous {@link trainStep} per batch, emitting its
 * {@link StepResult}.
 *
 * <span class="informal">The step runs inside `map`, synchronously, on purpose: the source (a dataset
 * read through `from(asyncIterable)`) asks for the next batch only after `next()` returns, so at most
 * one batch is in memory and a slow model slows the reader instead of letting batches pile up. That is
 * the pipeline's back-pressure; an asynchronous step (`await` inside `mergeMap`/`concatMap`) would let
 * the reader run ahead. Errors (bad labels, a non-finite loss) go down the error channel.</span>
 *
 * ```text
 * batches: --a--b--c--|
 * steps:   --A--B--C--|   (A = trainStep on a, done before b is read)
 * ```
 *
 * @example
 * ```ts
 * readBatches$.pipe(trainBatches({ model, optimizer, objective: lgaPerExample(0.5) }))
 *   .subscribe((step) => log(step.loss));
 * ```
 * @see trainEpoch
 * @param options - model, optimizer, objective and step options.
 * @returns the operator.
 * @throws UsageError (at once, not in the stream) when the weight decay is invalid.
 */
export function trainBatches(options: TrainBatchesOptions): OperatorFunction<TrainBatch, StepResult> {
  const { model, optimizer, objective } = options;
  const weightDecay = options.weightDecay ?? optimizer.weightDecay;
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0)) {
    throw new UsageError(`weight decay must be a finite number ≥ 0, got ${weightDecay}`);
  }
  return map((batch) => trainStep(model, optimizer, batch, objective, options));
}

/** Options of {@link trainEpoch}. */
export interface TrainEpochOptions extends TrainStepOptions {
  readonly optimizer: TrainOptimizer;
  readonly objective: Objective;
  /** Learning rate for this epoch (from a schedule); the optimizer's current rate when omitted. */
  readonly learningRate?: number;
  /** Called after each step (progress, per-example loss tracking). */
  readonly onStep?: (step: StepResult) => void;
}

/** What one epoch did. */
export interface EpochResult {
  readonly steps: number;
  readonly rows: number;
  /** The objective averaged over rows (each step's value weighted by its batch size). */
  readonly meanLoss: number;
  /** The learning rate the epoch ran with. */
  readonly learningRate: number;
}

/**
 * Trains for one pass over a stream of batches and resolves with the epoch's summary.
 *
 * <span class="informal">Sets the epoch's learning rate, then subscribes to `batches$` once and
 * trains on each batch with {@link trainBatches}; the promise settles when the stream completes or
 * fails.</span>
 *
 * @example
 * ```ts
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   const lr = schedule(epoch, optimizer.baseLr);
 *   const { meanLoss } = await trainEpoch(model, readBatches(), { optimizer, objective, learningRate: lr });
 * }
 * ```
 * @see trainBatches
 * @param model - the model to train.
 * @param batches$ - one epoch's batches (cold: subscribed once).
 * @param options - optimizer, objective, learning rate, step options and a step callback.
 * @returns the epoch's step count, row count, mean loss and learning rate.
 * @throws DataError (rejection) when the stream has no batches; whatever {@link trainStep} throws.
 */
export async function trainEpoch(
  model: tf.LayersModel,
  batches$: Observable<TrainBatch>,
  options: TrainEpochOptions,
): Promise<EpochResult> {
  const { optimizer, onStep } = options;
  if (options.learningRate !== undefined) optimizer.setLearningRate(options.learningRate);
  const totals = await lastValueFrom(
    batches$.pipe(
      trainBatches({ ...options, model }),
      reduce(
        (acc, step) => {
          onStep?.(step);
          return { steps: acc.steps + 1, rows: acc.rows + step.rows, sum: acc.sum + step.loss * step.rows };
        },
        { steps: 0, rows: 0, sum: 0 },
      ),
    ),
  );
  if (totals.steps === 0) {
    throw new DataError(ErrorCode.EmptyDataset, 'the training epoch received no batches');
  }
  // Over cached data an epoch is one synchronous stretch (the stages stay synchronous for
  // back-pressure). Between epochs, let timers and I/O run: progress output, signal handlers and the
  // host's own work (a server in an ingestion job, a test runner's RPC) would otherwise wait for the
  // whole run.
  await yieldToEventLoop();
  return {
    steps: totals.steps,
    rows: totals.rows,
    meanLoss: totals.sum / totals.rows,
    learningRate: optimizer.learningRate,
  };
}
